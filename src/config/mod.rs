//! Configuration read from the node: the Gluon site (site.json + domain) and
//! the UCI files `wireguard`, `gluon` and `system`, combined into the one
//! picture the daemon and `explain` work from.

mod json;
pub mod keys;
pub mod site;
pub mod uci;

use crate::error::{Error, Result};
use crate::identity::PrivateKey;
use crate::loadbalancing::{self, Decision};
use crate::quote::quote;
use crate::root::Root;
pub use site::{Domain, Site, SitePeer};
use uci::UciFile;

/// The UCI section of this package in `/etc/config/wireguard`.
pub const SECTION: &str = "mesh_vpn";

/// The private key as UCI holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    Present(PrivateKey),
    /// No `wireguard.mesh_vpn.privatekey`: the daemon generates one.
    Missing,
    /// A value that is not a WireGuard key: the daemon replaces it.
    Invalid,
}

#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub site: Site,
    pub enabled: bool,
    /// Why `enabled` is what it is, when UCI did not say `1` or `0` plainly.
    pub enabled_note: Option<String>,
    pub key: KeyState,
    pub loadbalancing: Decision,
    /// `system.ntp.server` as Gluon configured it, else the site's `ntp_servers`.
    pub ntp_servers: Vec<String>,
    pub health: HealthTunables,
    /// `wireguard.mesh_vpn.registration_window`, seconds (default 3600):
    /// connected without the broker, the key is registered again at a random
    /// time within this, then within twice this (engine::registration).
    pub registration_window_secs: u32,
}

/// Health-check patience, tunable per node in UCI so a slow LTE uplink can be
/// given more time without a firmware change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HealthTunables {
    /// `wireguard.mesh_vpn.probe_interval`, seconds (default 5).
    pub probe_interval_secs: u32,
    /// `wireguard.mesh_vpn.failures_before_reconnect` (default 3): failed
    /// layered checks in a row, and unanswered probes after a silence.
    pub failures_before_reconnect: u32,
    /// `wireguard.mesh_vpn.probe_after_silence`, seconds without a byte from
    /// the gateway before it is probed (default 2).
    pub probe_after_silence_secs: u32,
}

impl NodeConfig {
    /// Reads everything; writes nothing.
    pub fn load(root: &Root) -> Result<NodeConfig> {
        let gluon = UciFile::load(&root.uci("gluon"))?;
        let wireguard = UciFile::load(&root.uci("wireguard"))?;
        let system = UciFile::load(&root.uci("system"))?;
        let site = Site::load(root, gluon.get("core", "domain"))?;

        let (enabled, enabled_note) = read_enabled(wireguard.get(SECTION, "enabled"));
        let key = match wireguard.get(SECTION, "privatekey") {
            None | Some("") => KeyState::Missing,
            Some(text) => {
                PrivateKey::from_base64(text).map_or(KeyState::Invalid, KeyState::Present)
            }
        };
        let override_ = loadbalancing::parse_override(wireguard.get(SECTION, "loadbalancing"));
        let ntp_servers = match system.get_list("ntp", "server") {
            Some(list) if !list.is_empty() => list.to_vec(),
            _ => site.ntp_servers.clone(),
        };
        let health = HealthTunables {
            probe_interval_secs: read_number(&wireguard, "probe_interval", 5, 1..=3600)?,
            failures_before_reconnect: read_number(
                &wireguard,
                "failures_before_reconnect",
                3,
                1..=100,
            )?,
            probe_after_silence_secs: read_number(&wireguard, "probe_after_silence", 2, 1..=600)?,
        };
        let registration_window_secs =
            read_number(&wireguard, "registration_window", 3600, 1..=86_400)?;
        Ok(NodeConfig {
            health,
            registration_window_secs,
            loadbalancing: loadbalancing::decide(site.loadbalancing, override_),
            site,
            enabled,
            enabled_note,
            key,
            ntp_servers,
        })
    }

    /// The public key, when a valid private key is configured.
    pub fn public_key(&self) -> Option<String> {
        match &self.key {
            KeyState::Present(key) => Some(key.public_key()),
            _ => None,
        }
    }
}

/// `1`/`0` as Gluon writes it; old installs have `true`, which checkuplink
/// treated as enabled; an absent option means the VPN was never switched on.
fn read_enabled(value: Option<&str>) -> (bool, Option<String>) {
    match value {
        Some("1") => (true, None),
        Some("0") => (false, None),
        None => (false, Some("wireguard.mesh_vpn.enabled is not set".into())),
        Some(other) => (
            true,
            Some(format!(
                "wireguard.mesh_vpn.enabled is {}, not '1' or '0': assuming enabled",
                quote(other)
            )),
        ),
    }
}

/// An optional whole number in `wireguard.mesh_vpn`; a value out of range or
/// not a number is an error naming the option, never silently replaced.
fn read_number(
    file: &UciFile,
    option: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32> {
    let Some(text) = file.get(SECTION, option) else {
        return Ok(default);
    };
    match text.trim().parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Error::Uci {
            file: file.path().to_path_buf(),
            line: None,
            problem: format!(
                "{SECTION}.{option} = {} is not a whole number from {} to {}",
                quote(text),
                range.start(),
                range.end()
            ),
        }),
    }
}
