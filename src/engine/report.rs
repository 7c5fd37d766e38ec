//! The engine's only way to tell the world what it does: it edits the
//! published [`Snapshot`] (read by `status` without waiting) and logs one
//! line per state change with its reason, each failed health check with its
//! layer and detail, each recovered layer once; nothing while nothing
//! changes, and a recurring line only as often as [`Limiter`] allows.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use log::{Level, log};
use tokio::sync::watch;

use super::health::{CheckReport, Health};
use super::limiter::{Limiter, left_out_note};
use super::ports::{Exchange, Gateway, Registered};
use super::state::{Check, Peer, Snapshot, State};

/// Now, on tokio's clock, so paused-time tests see consistent ages.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

#[derive(Clone)]
pub struct Reporter {
    snapshot: watch::Sender<Snapshot>,
    limiter: Arc<Mutex<Limiter>>,
}

impl Reporter {
    pub fn new(snapshot: watch::Sender<Snapshot>) -> Reporter {
        Reporter {
            snapshot,
            limiter: Arc::default(),
        }
    }

    /// Writes `line` unless lines of this `key` recur too often.
    pub fn log(&self, level: Level, key: &str, line: &str) {
        let admitted = match self.limiter.lock() {
            Ok(mut limiter) => limiter.admit(key, tokio::time::Instant::now()),
            Err(_) => Some(0),
        };
        if let Some(left_out) = admitted {
            log!(level, "{line}{}", left_out_note(left_out));
        }
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
            let level = match state {
                State::Error | State::Backoff => Level::Warn,
                _ => Level::Info,
            };
            let line = format!("{}: {reason}", state.as_str());
            self.log(level, &format!("state:{}", state.as_str()), &line);
        }
    }

    pub fn update(&self, edit: impl FnOnce(&mut Snapshot)) {
        self.snapshot.send_modify(edit);
    }

    /// Counts one key exchange and publishes its outcome in the `broker` block.
    pub fn record_exchange(&self, exchange: &Exchange) {
        self.update(|s| {
            s.broker_requests += u64::from(exchange.requests);
            s.broker_api = Some(match &exchange.outcome {
                Ok(Registered::Gateway(_)) => "v2",
                _ => "v1",
            });
            s.broker_error = exchange.v2_error.clone().or(exchange.outcome.clone().err());
            s.broker_registered |= exchange.outcome.is_ok();
        });
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
        let before = self.snapshot.borrow().checks.clone();
        for (name, result) in &report.probes {
            let was_failing = before.get(name).is_some_and(|c| !c.ok);
            match result {
                Err(detail) => {
                    let n = health.consecutive_failures();
                    let of = health.threshold();
                    let line = format!("health: {name} check failed: {detail} ({n} of {of})");
                    self.log(Level::Warn, &format!("health:{name}:{n}"), &line);
                }
                Ok(()) if was_failing => {
                    let line = format!("health: {name} check passes again");
                    self.log(Level::Info, &format!("recovered:{name}"), &line);
                }
                Ok(()) => {}
            }
        }
        if let Some(firewall) = &report.firewall {
            self.log_firewall(before.get("firewall"), firewall);
        }
        self.update(|s| {
            s.last_check = Some(at);
            s.consecutive_failures = health.consecutive_failures();
            for (name, result) in report.probes.iter().chain(&report.reported) {
                let check = Check {
                    ok: result.is_ok(),
                    at,
                    detail: result.as_ref().err().cloned(),
                };
                s.checks.insert(name, check);
            }
            if let Some(firewall) = &report.firewall {
                s.checks.insert("firewall", firewall_check(firewall, at));
            }
            if let (Some(peer), Some(stats)) = (s.peer.as_mut(), report.stats) {
                peer.latest_handshake = stats.handshake_age.and_then(|age| at.checked_sub(age));
                peer.rx_bytes = stats.rx_bytes;
                peer.tx_bytes = stats.tx_bytes;
            }
        });
    }

    /// Records the firewall layer outside the periodic check (after connect).
    pub fn record_firewall(&self, firewall: Option<Result<String, String>>) {
        let Some(firewall) = firewall else { return };
        let before = self.snapshot.borrow().checks.get("firewall").cloned();
        self.log_firewall(before.as_ref(), &firewall);
        let check = firewall_check(&firewall, now());
        self.update(|s| {
            s.checks.insert("firewall", check);
        });
    }

    /// A failing tool at every check (rate-limited); a change of what is in
    /// place once: at `warn` where nothing could be opened, else `info`.
    fn log_firewall(&self, before: Option<&Check>, now: &Result<String, String>) {
        let was = before.map(|c| (c.ok, c.detail.as_deref()));
        match now {
            Err(e) => {
                let line = format!(
                    "health: firewall check failed: {e} (the tunnel stays up; retried at every check)"
                );
                self.log(Level::Warn, "health:firewall", &line);
            }
            Ok(detail) if was != Some((true, Some(detail.as_str()))) => {
                let level = match detail.contains("nothing to open") {
                    true => Level::Warn,
                    false => Level::Info,
                };
                let again = if was.is_some_and(|(ok, _)| !ok) {
                    " again"
                } else {
                    ""
                };
                log!(level, "health: firewall check passes{again}: {detail}");
            }
            Ok(_) => {}
        }
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

/// The firewall check carries a detail either way: what is in place, or why not.
fn firewall_check(result: &Result<String, String>, at: Instant) -> Check {
    let (ok, detail) = match result {
        Ok(detail) => (true, detail.clone()),
        Err(e) => (false, e.clone()),
    };
    Check {
        ok,
        at,
        detail: Some(detail),
    }
}
