//! The engine's only way to tell the world what it does: it edits the
//! published [`Snapshot`] (read by `status` without waiting) and logs one
//! line per state change with its reason, nothing while nothing changes.

use std::time::Instant;

use log::{info, warn};
use tokio::sync::watch;

use super::health::{CheckReport, Health};
use super::ports::Gateway;
use crate::daemon::status::{Check, Peer, Snapshot, State};

/// Now, on tokio's clock, so paused-time tests see consistent ages.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

#[derive(Clone)]
pub struct Reporter {
    snapshot: watch::Sender<Snapshot>,
}

impl Reporter {
    pub fn new(snapshot: watch::Sender<Snapshot>) -> Reporter {
        Reporter { snapshot }
    }

    pub fn state(&self) -> State {
        self.snapshot.borrow().state
    }

    /// Enters `state` for `reason`; a repeat of the current state and reason is silent.
    pub fn enter(&self, state: State, reason: &str) {
        let changed = self.snapshot.send_if_modified(|s| {
            if s.state == state && s.reason == reason {
                return false;
            }
            if s.state != state {
                s.since = now();
            }
            s.state = state;
            s.reason = reason.to_string();
            if state != State::Backoff {
                s.next_attempt = None;
            }
            true
        });
        if changed {
            match state {
                State::Error | State::Backoff => warn!("{}: {reason}", state.as_str()),
                _ => info!("{}: {reason}", state.as_str()),
            }
        }
    }

    pub fn update(&self, edit: impl FnOnce(&mut Snapshot)) {
        self.snapshot.send_modify(edit);
    }

    pub fn set_peer(&self, gateway: Option<(&Gateway, String)>) {
        self.update(|s| {
            s.peer = gateway.map(|(g, endpoint)| Peer {
                source: g.source,
                name: g.name.clone(),
                public_key: g.public_key.clone(),
                endpoint,
                link_address: g.link_address,
                latest_handshake: None,
                rx_bytes: 0,
                tx_bytes: 0,
            })
        });
    }

    pub fn record_check(&self, report: &CheckReport, health: &Health) {
        let at = now();
        self.update(|s| {
            s.last_check = Some(at);
            s.consecutive_failures = health.consecutive_failures();
            for (name, result) in &report.probes {
                let check = Check {
                    ok: result.is_ok(),
                    at,
                    detail: result.as_ref().err().cloned(),
                };
                s.checks.insert(name, check);
            }
            if let (Some(peer), Some(stats)) = (s.peer.as_mut(), report.stats) {
                peer.latest_handshake = stats.handshake_age.and_then(|age| at.checked_sub(age));
                peer.rx_bytes = stats.rx_bytes;
                peer.tx_bytes = stats.tx_bytes;
            }
        });
    }

    /// Records a probe outside the periodic check (e.g. time sync).
    pub fn record_probe(&self, name: &'static str, result: &Result<(), String>) {
        let check = Check {
            ok: result.is_ok(),
            at: now(),
            detail: result.as_ref().err().cloned(),
        };
        self.update(|s| {
            s.checks.insert(name, check);
        });
    }
}
