//! The site keys the mesh VPN needs, read from the merged Gluon site and
//! checked the way Gluon's check_site would, so a broken site is reported
//! with the key and file at fault instead of failing later on a router.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::json::{MergedSite, kind};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::identity::{is_domain_seed, is_public_key};
use crate::loadbalancing::SiteMode;
use crate::quote::quote;
use crate::root::{self, Root};

const WG: &str = "mesh_vpn.wireguard";

/// The Gluon domain this node is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// `gluon.core.domain` as UCI holds it (may be an alias).
    pub configured: String,
    /// The primary domain code the alias symlink points to; this is what the
    /// broker knows, so it is what we send (checkuplink sent the alias).
    pub code: String,
    pub file: PathBuf,
}

/// A gateway listed in the site, named as the UCI section the Gluon upgrade
/// script writes for it (`peer_<N>`, N counted from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SitePeer {
    pub name: String,
    pub public_key: String,
    pub endpoint: Endpoint,
    pub link_address: Ipv6Addr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub iface: String,
    /// The VXLAN (`mesh-vpn`) MTU; WireGuard gets 70 bytes more.
    pub mtu: u16,
    pub broker: String,
    pub loadbalancing: Option<SiteMode>,
    pub peers: Vec<SitePeer>,
    pub domain_seed: String,
    pub ntp_servers: Vec<String>,
    pub domain: Option<Domain>,
}

impl Site {
    /// Loads site.json and, on a multi-domain site, the domain file named by
    /// `configured_domain` (UCI `gluon.core.domain`).
    pub fn load(root: &Root, configured_domain: Option<&str>) -> Result<Site> {
        let site_file = root.join(root::SITE_JSON);
        let domain = find_domain(root, configured_domain)?;
        let merged = MergedSite::load(&site_file, domain.as_ref().map(|d| d.file.as_path()))?;
        Site::from_merged(&merged, domain)
    }

    fn from_merged(site: &MergedSite, domain: Option<Domain>) -> Result<Site> {
        match site.get(WG) {
            Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(site.error(WG, format!("must be an object, not {}", kind(other))));
            }
            None => return Err(site.error(WG, "is missing: this site has no WireGuard mesh VPN")),
        }
        let loadbalancing = match site.optional_string(&format!("{WG}.loadbalancing"))? {
            None => None,
            Some(text) => Some(SiteMode::parse(text).ok_or_else(|| {
                site.error(
                    &format!("{WG}.loadbalancing"),
                    format!("{} is not one of {}", quote(text), SiteMode::NAMES),
                )
            })?),
        };
        let peers = read_peers(site, loadbalancing)?;
        let seed_key = "domain_seed";
        let domain_seed = site.string(seed_key)?;
        if !is_domain_seed(domain_seed) {
            return Err(site.error(seed_key, "must be 64 hexadecimal digits"));
        }
        Ok(Site {
            iface: read_iface(site)?,
            mtu: site.integer(&format!("{WG}.mtu"), 1280..=9000)? as u16,
            broker: site.string(&format!("{WG}.broker"))?.to_string(),
            loadbalancing,
            peers,
            domain_seed: domain_seed.to_string(),
            ntp_servers: site.string_list("ntp_servers")?,
            domain,
        })
    }

    pub fn wireguard_mtu(&self) -> u16 {
        self.mtu + crate::link::VXLAN_OVERHEAD
    }
}

fn read_iface(site: &MergedSite) -> Result<String> {
    let key = format!("{WG}.iface");
    let name = site.string(&key)?;
    // Linux interface names: at most 15 bytes, no '/', ':' or blanks.
    let valid = name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if valid {
        Ok(name.to_string())
    } else {
        Err(site.error(
            &key,
            format!(
                "{} is not a valid interface name (at most 15 characters, no '/', ':' or blanks)",
                quote(name)
            ),
        ))
    }
}

fn read_peers(site: &MergedSite, mode: Option<SiteMode>) -> Result<Vec<SitePeer>> {
    let key = format!("{WG}.peers");
    let list = match site.get(&key) {
        None if mode == Some(SiteMode::On) => return Ok(Vec::new()),
        None => {
            return Err(site.error(
                &key,
                "is missing (only a site with loadbalancing 'on' may omit peers)",
            ));
        }
        Some(Value::Array(list)) => list,
        Some(Value::Object(_)) => {
            return Err(site.error(
                &key,
                "is a map of named peers (upstream gluon-mesh-vpn-wireguard's format); this package needs a list of {publickey, endpoint, link_address}",
            ));
        }
        Some(other) => return Err(site.error(&key, format!("must be a list, not {}", kind(other)))),
    };
    if list.is_empty() && mode != Some(SiteMode::On) {
        return Err(site.error(
            &key,
            "is empty (only a site with loadbalancing 'on' may have no peers)",
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, peer)| read_peer(site, &format!("{key}[{}]", i + 1), &key, i + 1, peer))
        .collect()
}

fn read_peer(
    site: &MergedSite,
    at: &str,
    list_key: &str,
    number: usize,
    peer: &Value,
) -> Result<SitePeer> {
    let err = |problem: String| Error::site(site.origin(list_key), at, problem);
    let field = |name: &str| -> Result<&str> {
        match peer.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(err(format!("{name} must be a string, not {}", kind(other)))),
            None => Err(err(format!("{name} is missing"))),
        }
    };
    if !peer.is_object() {
        return Err(err(format!("must be an object, not {}", kind(peer))));
    }
    let public_key = field("publickey")?;
    if !is_public_key(public_key) {
        return Err(err(format!(
            "publickey {} is not a WireGuard public key",
            quote(public_key)
        )));
    }
    let endpoint = Endpoint::parse(field("endpoint")?).map_err(|e| err(format!("endpoint {e}")))?;
    let link = field("link_address")?;
    let link_address: Ipv6Addr = link.parse().map_err(|_| {
        err(format!(
            "link_address {} is not an IPv6 address",
            quote(link)
        ))
    })?;
    Ok(SitePeer {
        name: format!("peer_{number}"),
        public_key: public_key.to_string(),
        endpoint,
        link_address,
    })
}

/// On a multi-domain site (`lib/gluon/domains` exists) the configured domain
/// must name a domain file; an alias is a symlink to the primary file.
fn find_domain(root: &Root, configured: Option<&str>) -> Result<Option<Domain>> {
    let dir = root.join(root::DOMAINS_DIR);
    let gluon_uci = root.uci("gluon");
    if !dir.is_dir() {
        return Ok(configured.map(|name| Domain {
            configured: name.to_string(),
            code: name.to_string(),
            file: root.join(root::SITE_JSON),
        }));
    }
    let uci_error = |problem: String| Error::Uci {
        file: gluon_uci.clone(),
        line: None,
        problem,
    };
    let name = configured.ok_or_else(|| {
        uci_error(format!(
            "core.domain is not set, but this is a multi-domain site ({} exists)",
            dir.display()
        ))
    })?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(uci_error(format!(
            "core.domain {} is not a valid domain name",
            quote(name)
        )));
    }
    let file = dir.join(format!("{name}.json"));
    let target = std::fs::canonicalize(&file).map_err(|_| {
        uci_error(format!(
            "core.domain {} has no domain file in {}",
            quote(name),
            dir.display()
        ))
    })?;
    Ok(Some(Domain {
        configured: name.to_string(),
        code: domain_code(&target).unwrap_or(name).to_string(),
        file,
    }))
}

fn domain_code(file: &Path) -> Option<&str> {
    file.file_stem()?.to_str()
}
