//! The uplink's state model: what the engine is doing and why, the gateway
//! it holds and the latest checks. The engine owns and edits it (through
//! [`super::report::Reporter`]); the daemon only renders it for ubus, so the
//! policy layer never depends on the process layer above it.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::Instant;

use crate::loadbalancing::Decision;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Disabled,
    Idle,
    SyncingTime,
    ExchangingKey,
    Connecting,
    Connected,
    Backoff,
    NoUplink,
    Error,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Disabled => "disabled",
            State::Idle => "idle",
            State::SyncingTime => "syncing_time",
            State::ExchangingKey => "exchanging_key",
            State::Connecting => "connecting",
            State::Connected => "connected",
            State::Backoff => "backoff",
            State::NoUplink => "no_uplink",
            State::Error => "error",
        }
    }
}

/// Where the current gateway came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerSource {
    Broker,
    Site,
}

impl PeerSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerSource::Broker => "broker",
            PeerSource::Site => "site",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub source: PeerSource,
    pub name: String,
    pub public_key: String,
    pub endpoint: String,
    pub link_address: Ipv6Addr,
    pub latest_handshake: Option<Instant>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub ok: bool,
    pub at: Instant,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub state: State,
    pub since: Instant,
    pub reason: String,
    pub enabled: bool,
    pub public_key: Option<String>,
    pub link_local: Option<Ipv6Addr>,
    pub vni: u32,
    pub loadbalancing: Decision,
    pub peer: Option<Peer>,
    pub last_check: Option<Instant>,
    pub checks: BTreeMap<&'static str, Check>,
    pub consecutive_failures: u32,
    pub broker_url: String,
    pub broker_api: Option<&'static str>,
    pub broker_error: Option<String>,
    /// A key exchange succeeded since the daemon started; `false` while the
    /// node runs on a gateway that knew the key from before.
    pub broker_registered: bool,
    pub reconnects: u64,
    pub broker_requests: u64,
    pub last_error: Option<String>,
    pub next_attempt: Option<Instant>,
}

impl Snapshot {
    /// The state at start, before the engine has done anything.
    pub fn starting(
        enabled: bool,
        public_key: Option<String>,
        vni: u32,
        loadbalancing: Decision,
        broker_url: String,
    ) -> Snapshot {
        let (state, reason) = if enabled {
            (State::Idle, "started")
        } else {
            (State::Disabled, "wireguard.mesh_vpn.enabled is not 1")
        };
        Snapshot {
            state,
            since: crate::engine::report::now(),
            reason: reason.into(),
            enabled,
            link_local: public_key.as_deref().map(crate::identity::link_local),
            public_key,
            vni,
            loadbalancing,
            peer: None,
            last_check: None,
            checks: BTreeMap::new(),
            consecutive_failures: 0,
            broker_url,
            broker_api: None,
            broker_error: None,
            broker_registered: false,
            reconnects: 0,
            broker_requests: 0,
            last_error: None,
            next_attempt: None,
        }
    }
}
