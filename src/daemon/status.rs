//! The daemon's published state: what `ubus call mesh_vpn status` returns.
//! The engine writes a [`Snapshot`]; readers render it at once, so a status
//! call never waits for the engine, a broker or a netlink call.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};

use crate::loadbalancing::Decision;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerSource {
    Broker,
    Site,
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
            reconnects: 0,
            broker_requests: 0,
            last_error: None,
            next_attempt: None,
        }
    }

    /// The `status` reply. Times are seconds relative to `now`; the private
    /// key is not part of a snapshot, so it cannot leak here.
    pub fn render(&self, now: Instant) -> Value {
        let ago = |t: Instant| now.saturating_duration_since(t).as_secs();
        json!({
            "state": self.state.as_str(),
            "since": ago(self.since),
            "reason": self.reason,
            "enabled": self.enabled,
            "public_key": self.public_key,
            "link_local": self.link_local.map(|a| a.to_string()),
            "vni": self.vni,
            "loadbalancing": render_loadbalancing(&self.loadbalancing),
            "peer": self.peer.as_ref().map(|p| json!({
                "source": p.source,
                "name": p.name,
                "public_key": p.public_key,
                "endpoint": p.endpoint,
                "link_address": p.link_address.to_string(),
                "latest_handshake": p.latest_handshake.map(ago),
                "rx_bytes": p.rx_bytes,
                "tx_bytes": p.tx_bytes,
            })),
            "health": {
                "last_check": self.last_check.map(ago),
                "checks": self.checks.iter().map(|(name, c)| (name.to_string(), json!({
                    "ok": c.ok,
                    "ago": ago(c.at),
                    "detail": c.detail,
                }))).collect::<serde_json::Map<_, _>>(),
                "consecutive_failures": self.consecutive_failures,
            },
            "broker": {
                "url": self.broker_url,
                "api": self.broker_api,
                "last_error": self.broker_error,
            },
            "counters": {
                "reconnects": self.reconnects,
                "broker_requests": self.broker_requests,
            },
            "last_error": self.last_error,
            "next_attempt_in": self.next_attempt.map(|t| t.saturating_duration_since(now).as_secs()),
        })
    }
}

/// The `loadbalancing` block of `status`, also the reply of `set_loadbalancing`.
pub fn render_loadbalancing(decision: &Decision) -> Value {
    json!({
        "site_mode": decision.site_mode.map(|m| m.as_str()),
        "override": decision.override_,
        "effective": decision.effective,
        "user_changeable": decision.user_changeable,
    })
}
