//! The daemon's published state: what `ubus call mesh_vpn status` returns.
//! The engine writes a [`Snapshot`] (its own state model); readers render it
//! at once, so a status call never waits for the engine, a broker or a netlink call.

use std::cell::Cell;
use std::time::{Duration, Instant};

use ubus_wire::{Table, Value};

use crate::engine::state::{Peer, Snapshot};
use crate::loadbalancing::Decision;
use crate::quote::one_line;

impl Snapshot {
    /// The `status` reply, members in the documented order. Times are whole
    /// seconds read from `ages`; the private key is not part of a snapshot, so
    /// it cannot leak here. Texts go through [`one_line`]: they reach LuCI,
    /// respondd and terminals, and must never carry a raw control character.
    pub fn render(&self, ages: &Ages) -> Table {
        let checks = self.checks.iter().map(|(name, check)| {
            let check = Table::new()
                .with("ok", check.ok)
                .with("ago", ages.since(check.at))
                .with("detail", check.detail.as_deref().map(one_line).as_deref());
            (name.to_string(), Value::Table(check))
        });
        Table::new()
            .with("state", self.state.as_str())
            .with("since", ages.since(self.since))
            .with("reason", &*one_line(&self.reason))
            .with("enabled", self.enabled)
            .with("public_key", self.public_key.as_deref())
            .with("link_local", self.link_local.map(|a| a.to_string()))
            .with("vni", self.vni)
            .with("loadbalancing", render_loadbalancing(&self.loadbalancing))
            .with("peer", self.peer.as_ref().map(|peer| peer.render(ages)))
            .with(
                "health",
                Table::new()
                    .with("last_check", self.last_check.map(|t| ages.since(t)))
                    .with("checks", checks.collect::<Table>())
                    .with("consecutive_failures", self.consecutive_failures),
            )
            .with(
                "broker",
                Table::new()
                    .with("url", &*one_line(&self.broker_url))
                    .with("api", self.broker_api)
                    .with("registered", self.broker_registered)
                    .with(
                        "last_error",
                        self.broker_error.as_deref().map(one_line).as_deref(),
                    ),
            )
            .with(
                "counters",
                Table::new()
                    .with("reconnects", self.reconnects)
                    .with("broker_requests", self.broker_requests),
            )
            .with(
                "last_error",
                self.last_error.as_deref().map(one_line).as_deref(),
            )
            .with("next_attempt_in", self.next_attempt.map(|t| ages.until(t)))
    }
}

impl Peer {
    fn render(&self, ages: &Ages) -> Table {
        Table::new()
            .with("source", self.source.as_str())
            .with("name", &*one_line(&self.name))
            .with("public_key", &*one_line(&self.public_key))
            .with("endpoint", &*one_line(&self.endpoint))
            .with("link_address", self.link_address.to_string())
            .with(
                "latest_handshake",
                self.latest_handshake.map(|t| ages.since(t)),
            )
            .with("rx_bytes", self.rx_bytes)
            .with("tx_bytes", self.tx_bytes)
    }
}

/// Whole seconds between `now` and other instants, as `status` shows them,
/// and the first instant at which one of the figures read so far would read
/// differently: until then a rendered reply is still exact.
pub struct Ages {
    now: Instant,
    changes_at: Cell<Option<Instant>>,
}

impl Ages {
    pub fn new(now: Instant) -> Ages {
        Ages {
            now,
            changes_at: Cell::new(None),
        }
    }

    /// Seconds since `t` (0 if `t` is later); it reads one more from `t` + that + 1 s on.
    pub fn since(&self, t: Instant) -> u64 {
        let seconds = self.now.saturating_duration_since(t).as_secs();
        self.changes_at(t + Duration::from_secs(seconds + 1));
        seconds
    }

    /// Whole seconds until `t` (0 once it has passed); it reads one less from `t` - that on.
    pub fn until(&self, t: Instant) -> u64 {
        let seconds = t.saturating_duration_since(self.now).as_secs();
        if seconds > 0 {
            self.changes_at(t - Duration::from_secs(seconds));
        }
        seconds
    }

    /// Before this instant every figure read so far reads the same.
    pub fn valid_until(&self) -> Option<Instant> {
        self.changes_at.get()
    }

    fn changes_at(&self, at: Instant) {
        let earliest = self.changes_at.get().map_or(at, |known| known.min(at));
        self.changes_at.set(Some(earliest));
    }
}

/// The `loadbalancing` block of `status`, also the reply of `set_loadbalancing`.
pub fn render_loadbalancing(decision: &Decision) -> Table {
    Table::new()
        .with("site_mode", decision.site_mode.map(|m| m.as_str()))
        .with("override", decision.override_)
        .with("effective", decision.effective)
        .with("user_changeable", decision.user_changeable)
}
