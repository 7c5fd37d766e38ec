//! The WireGuard device behind a small trait, with two backends: the kernel
//! module over generic netlink, and `wireguard-go` over its UAPI socket
//! (for routers without the module, and for tests on hosts without it).

pub mod counters;
pub mod counters_parse;
pub mod kernel;
pub mod uapi;
pub mod uapi_text;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::Result;
pub use counters::CounterReader;
pub use counters_parse::PeerCounters;

pub type Key = [u8; 32];

/// The one peer the node keeps: its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    pub public_key: Key,
    pub endpoint: SocketAddr,
    /// The gateway's link address, routed as a /128.
    pub allowed_ip: Ipv6Addr,
    pub persistent_keepalive: u16,
}

/// Everything the node sets on its device. No listen port: the kernel (or
/// wireguard-go) picks a random one, as checkuplink does.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    pub private_key: Key,
    pub fwmark: u32,
    pub peer: PeerConfig,
}

impl std::fmt::Debug for DeviceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceConfig")
            .field("private_key", &"..")
            .field("fwmark", &self.fwmark)
            .field("peer", &self.peer)
            .finish()
    }
}

/// What the device reports: configuration and per-peer statistics.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DeviceState {
    pub private_key: Option<Key>,
    pub fwmark: u32,
    pub listen_port: u16,
    pub peers: Vec<PeerState>,
}

impl std::fmt::Debug for DeviceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceState")
            .field("fwmark", &self.fwmark)
            .field("listen_port", &self.listen_port)
            .field("peers", &self.peers)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerState {
    pub public_key: Key,
    pub endpoint: Option<SocketAddr>,
    pub allowed_ips: Vec<(IpAddr, u8)>,
    pub persistent_keepalive: u16,
    /// `None` until the first handshake.
    pub last_handshake: Option<SystemTime>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

impl DeviceConfig {
    /// Whether `state` already is this configuration, so `apply` can leave a
    /// working tunnel alone (replacing the peer would drop its session).
    pub fn is_applied(&self, state: &DeviceState) -> bool {
        let [peer] = state.peers.as_slice() else {
            return false;
        };
        state.private_key.is_none_or(|key| key == self.private_key)
            && state.fwmark == self.fwmark
            && peer.public_key == self.peer.public_key
            && peer.endpoint == Some(self.peer.endpoint)
            && peer.allowed_ips == [(IpAddr::V6(self.peer.allowed_ip), 128)]
            && peer.persistent_keepalive == self.peer.persistent_keepalive
    }
}

/// A WireGuard device implementation. Calls block briefly (netlink or a
/// local socket round trip); `create` of the userspace backend waits for
/// wireguard-go to come up.
pub trait WireGuard: Send {
    /// Creates the interface `name`; it must not exist yet.
    fn create(&mut self, name: &str) -> Result<()>;
    /// Sets key, fwmark and replaces all peers by the single gateway peer.
    fn configure(&mut self, name: &str, config: &DeviceConfig) -> Result<()>;
    /// Reads the configuration and the peer statistics.
    fn device(&mut self, name: &str) -> Result<DeviceState>;
    /// A reader of `name`'s first peer's counters for the once-a-second
    /// liveness sample, with a connection of its own.
    fn counter_reader(&self, name: &str) -> CounterReader;
    /// Removes the interface (and, for wireguard-go, its process).
    fn delete(&mut self, name: &str) -> Result<()>;
    /// The rtnetlink kind of the interface this backend makes; a link of
    /// another kind under the same name is stale and gets replaced.
    fn link_kind(&self) -> &'static str;
    /// Whether whatever drives `name` besides the link itself is still
    /// there; a dead wireguard-go means the interface must be rebuilt.
    fn is_alive(&mut self, name: &str) -> bool {
        let _ = name;
        true
    }
}

/// Decodes a base64 WireGuard key as UCI and the broker hand it over.
pub fn key_from_base64(text: &str) -> Option<Key> {
    BASE64.decode(text.trim()).ok()?.try_into().ok()
}
