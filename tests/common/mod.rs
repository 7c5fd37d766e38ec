//! Builds Gluon node trees (site, domains, UCI files) in a temporary
//! directory, the way a router lays them out, for tests that run against
//! `--root`.
#![allow(dead_code)]

pub mod daemon;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub const SEED: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// A fixed test key (RFC 7748 6.1, Alice).
pub const PRIVATE_KEY: &str = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
/// RFC 7748 6.1 (Alice): the public key of PRIVATE_KEY, and its link-local address
/// computed independently (python: md5(pub + "\n")).
pub const PUBLIC_KEY: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
pub const LINK_LOCAL: &str = "fe80::281:12ff:fee0:6fd2";
pub const GATEWAYS: [(&str, &str, &str); 2] = [
    (
        "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=",
        "gw1.example.net:40011",
        "fe80::27c:16ff:fec0:6c74",
    ),
    (
        "igyqOmWiz4EZxPG8ZzU537MnHhaqlwfa7HarB3KmnEg=",
        "[2001:db8::2]:40012",
        "fe80::281:8eff:fef0:73aa",
    ),
];

pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    pub fn write(&self, rel: &str, contents: &str) -> &Self {
        let path = self.file(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.file(rel)).unwrap()
    }

    pub fn site(&self, site: Value) -> &Self {
        self.write("lib/gluon/site.json", &site.to_string())
    }

    pub fn domain(&self, code: &str, domain: Value) -> &Self {
        self.write(
            &format!("lib/gluon/domains/{code}.json"),
            &domain.to_string(),
        )
    }

    pub fn alias(&self, alias: &str, code: &str) -> &Self {
        let link = self.file(&format!("lib/gluon/domains/{alias}.json"));
        std::os::unix::fs::symlink(format!("{code}.json"), link).unwrap();
        self
    }

    /// Writes a UCI file the way `uci commit` formats it.
    pub fn uci(&self, config: &str, text: &str) -> &Self {
        self.write(&format!("etc/config/{config}"), text)
    }

    pub fn uci_domain(&self, domain: &str) -> &Self {
        self.uci(
            "gluon",
            &format!("\nconfig core 'core'\n\toption domain '{domain}'\n\n"),
        )
    }

    pub fn uci_wireguard(&self, options: &[(&str, &str)]) -> &Self {
        let mut text = String::from("\nconfig wireguard 'mesh_vpn'\n");
        for (k, v) in options {
            text.push_str(&format!("\toption {k} '{v}'\n"));
        }
        text.push('\n');
        self.uci("wireguard", &text)
    }
}

/// A single-domain site with the two test gateways.
pub fn wireguard_site(loadbalancing: Option<&str>) -> Value {
    let mut wg = json!({
        "iface": "wg_mesh_vpn",
        "mtu": 1406,
        "broker": "broker.example.net",
        "peers": peers(),
    });
    if let Some(mode) = loadbalancing {
        wg["loadbalancing"] = json!(mode);
    }
    json!({"domain_seed": SEED, "ntp_servers": ["ntp.example.net"], "mesh_vpn": {"wireguard": wg}})
}

pub fn peers() -> Value {
    GATEWAYS
        .iter()
        .map(|(key, endpoint, link)| json!({"publickey": key, "endpoint": endpoint, "link_address": link}))
        .collect()
}

/// A complete single-domain node with a key and the VPN enabled.
pub fn node(loadbalancing: Option<&str>, override_: Option<&str>) -> Tree {
    let tree = Tree::new();
    tree.site(wireguard_site(loadbalancing));
    let mut options = vec![("enabled", "1"), ("privatekey", PRIVATE_KEY)];
    if let Some(v) = override_ {
        options.push(("loadbalancing", v));
    }
    tree.uci_wireguard(&options).uci_domain("example");
    tree
}
