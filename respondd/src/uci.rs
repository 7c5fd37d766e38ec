//! What the module reads from `/etc/config/wireguard` itself, as Gluon's own WireGuard
//! respondd module reads UCI: whether the VPN is enabled, the node's key (only to
//! derive the public key from it) and the gateways (`peer` sections) the upgrade
//! script wrote from the site. A small reader of uci's file format: `config`,
//! `option` and `list` lines, values bare or in single or double quotes.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Overrides the filesystem root (tests); `/` on a node.
pub const ROOT_ENV: &str = "MESH_VPN_WG_ROOT";
const FILE: &str = "etc/config/wireguard";

/// The parts of `wireguard` the replies need.
#[derive(Debug, Default, PartialEq)]
pub struct Wireguard {
    pub enabled: bool,
    pub public_key: Option<String>,
    /// Names of the enabled `peer` sections, in file order.
    pub gateways: Vec<String>,
}

pub fn config_path() -> PathBuf {
    let root = std::env::var_os(ROOT_ENV).map_or_else(|| PathBuf::from("/"), PathBuf::from);
    root.join(FILE)
}

/// None when the file cannot be read (no package config: nothing to report).
pub fn read(path: &Path) -> Option<Wireguard> {
    std::fs::read_to_string(path).ok().map(|text| parse(&text))
}

struct Section {
    kind: String,
    name: String,
    options: Vec<(String, String)>,
}

impl Section {
    fn get(&self, option: &str) -> Option<&str> {
        let found = self.options.iter().rev().find(|(name, _)| name == option);
        found.map(|(_, value)| value.as_str())
    }
}

pub fn parse(text: &str) -> Wireguard {
    let sections = sections(text);
    let main = sections
        .iter()
        .find(|s| s.kind == "wireguard" && s.name == "mesh_vpn");
    // As the daemon: '1' and the legacy truthy words count; absent means off.
    let enabled = main
        .and_then(|s| s.get("enabled"))
        .is_some_and(|v| matches!(v, "1" | "true" | "yes" | "on"));
    let public_key = main.and_then(|s| s.get("privatekey")).and_then(public_key);
    let gateways = sections
        .iter()
        .filter(|s| s.kind == "peer" && s.get("enabled") != Some("0"))
        .map(|s| s.name.clone())
        .collect();
    Wireguard {
        enabled,
        public_key,
        gateways,
    }
}

fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in text.lines() {
        let words = words(line);
        match (
            words.first().map(String::as_str),
            words.get(1),
            words.get(2),
        ) {
            (Some("config"), Some(kind), name) => out.push(Section {
                kind: kind.clone(),
                name: name.cloned().unwrap_or_default(),
                options: Vec::new(),
            }),
            (Some("option"), Some(option), Some(value)) => {
                if let Some(section) = out.last_mut() {
                    section.options.push((option.clone(), value.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

/// A line's words; quotes group and are removed, `#` outside quotes ends the line.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, '#') => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The WireGuard public key of a base64 private key (as `wg pubkey`); None for
/// anything that is not 32 bytes of base64. The private key goes nowhere else.
pub fn public_key(private_key: &str) -> Option<String> {
    let bytes: [u8; 32] = BASE64.decode(private_key.trim()).ok()?.try_into().ok()?;
    let secret = x25519_dalek::StaticSecret::from(bytes);
    Some(BASE64.encode(x25519_dalek::PublicKey::from(&secret).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7748 6.1 (Alice): the daemon's tests use the same pair.
    const PRIVATE: &str = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
    const PUBLIC: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

    #[test]
    fn the_public_key_is_derived_like_wg_pubkey() {
        assert_eq!(public_key(PRIVATE).as_deref(), Some(PUBLIC));
        assert_eq!(public_key("short="), None);
        assert_eq!(public_key("not base64 at all!"), None);
        assert_eq!(public_key(""), None);
    }

    #[test]
    fn a_node_config_is_read_as_uci_reads_it() {
        let text = format!(
            "\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\toption privatekey \"{PRIVATE}\"\n\
             \toption loadbalancing '1' # a comment\n\nconfig peer 'peer_1'\n\toption enabled '1'\n\
             \toption endpoint 'gw1.example.net:40011'\n\nconfig peer 'peer_2'\n\toption enabled '0'\n\n\
             config peer 'mine'\n\toption preserve '1'\n"
        );
        let wg = parse(&text);
        assert!(wg.enabled);
        assert_eq!(wg.public_key.as_deref(), Some(PUBLIC));
        assert_eq!(wg.gateways, ["peer_1", "mine"]);
    }

    #[test]
    fn absent_or_unusual_values_mean_off_and_no_key() {
        assert_eq!(parse(""), Wireguard::default());
        let off = parse(
            "config wireguard 'mesh_vpn'\n\toption enabled 'maybe'\n\toption privatekey 'x'\n",
        );
        assert!(!off.enabled);
        assert_eq!(off.public_key, None);
        let legacy = parse("config wireguard mesh_vpn\n\toption enabled true\n");
        assert!(legacy.enabled, "legacy 'true', unquoted");
        let other = parse("config wireguard 'other'\n\toption enabled '1'\n");
        assert!(!other.enabled, "only the mesh_vpn section counts");
    }
}
