//! The slow, layered check every `probe_interval`: the link is repaired if
//! something deleted it, the handshake must be younger than 180 s, and
//! batman-adv must hear the gateway where mesh-vpn is in a mesh. The link is
//! declared dead only after `failures_before_reconnect` consecutive failed
//! checks, so one bad moment on a slow LTE link does not tear down a working
//! tunnel (community-packages issue 131). Whether the gateway still sends at
//! all is [`super::liveness`]'s job, every second; its view is reported
//! here, never counted twice.

use std::time::Duration;

use super::ports::{Probes, Tunnel, TunnelStats};

/// WireGuard re-handshakes every 2 min while traffic flows (keepalive 25 s
/// keeps it flowing); a handshake older than this means the peer is gone.
pub const HANDSHAKE_MAX_AGE: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Healthy,
    /// Failed, but fewer than the threshold times in a row.
    Doubtful,
    Dead,
}

#[derive(Debug, Clone)]
pub struct Health {
    threshold: u32,
    consecutive_failures: u32,
}

impl Health {
    pub fn new(failures_before_reconnect: u32) -> Health {
        Health {
            threshold: failures_before_reconnect.max(1),
            consecutive_failures: 0,
        }
    }

    pub fn record(&mut self, ok: bool) -> Verdict {
        if ok {
            self.consecutive_failures = 0;
            return Verdict::Healthy;
        }
        self.consecutive_failures += 1;
        if self.consecutive_failures >= self.threshold {
            Verdict::Dead
        } else {
            Verdict::Doubtful
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn threshold(&self) -> u32 {
        self.threshold
    }
}

/// One probe's outcome, named as it appears in `status`.
pub type ProbeResult = (&'static str, Result<(), String>);

/// The result of one layered check.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub stats: Option<TunnelStats>,
    /// The layers that decide whether the tunnel is alive.
    pub probes: Vec<ProbeResult>,
    /// The firewall layer: reported, never counted as a failure, because a
    /// missing or broken firewall tool must not take the uplink down.
    pub firewall: Option<Result<String, String>>,
    /// Layers shown in `status` that liveness has already judged (traffic):
    /// reported, never counted twice.
    pub reported: Vec<ProbeResult>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.probes.iter().all(|(_, r)| r.is_ok())
    }
}

/// Runs the layers in order and stops at the first failure: a later layer
/// cannot pass when an earlier one failed. `traffic` is liveness's view.
pub async fn check(ports: &mut (impl Tunnel + Probes), traffic: Result<(), String>) -> CheckReport {
    let mut report = CheckReport {
        stats: None,
        probes: Vec::new(),
        firewall: None,
        reported: vec![("traffic", traffic)],
    };
    let link = ports.repair().await;
    report.firewall = ports.firewall();
    if !push(&mut report, "link", link) {
        return report;
    }
    let handshake = match ports.stats().await {
        Ok(stats) => {
            report.stats = Some(stats);
            handshake_fresh(stats.handshake_age)
        }
        Err(e) => Err(e),
    };
    if !push(&mut report, "handshake", handshake) {
        return report;
    }
    if let Some(batman) = ports.batman().await {
        push(&mut report, "batman", batman);
    }
    report
}

fn push(report: &mut CheckReport, name: &'static str, result: Result<(), String>) -> bool {
    let ok = result.is_ok();
    report.probes.push((name, result));
    ok
}

fn handshake_fresh(age: Option<Duration>) -> Result<(), String> {
    match age {
        Some(age) if age < HANDSHAKE_MAX_AGE => Ok(()),
        Some(age) => Err(format!("latest handshake {} s ago", age.as_secs())),
        None => Err("no handshake yet".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_only_after_the_threshold_of_consecutive_failures() {
        let mut health = Health::new(3);
        assert_eq!(health.record(false), Verdict::Doubtful);
        assert_eq!(health.record(false), Verdict::Doubtful);
        assert_eq!(health.record(true), Verdict::Healthy);
        assert_eq!(health.record(false), Verdict::Doubtful);
        assert_eq!(health.record(false), Verdict::Doubtful);
        assert_eq!(health.consecutive_failures(), 2);
        assert_eq!(health.record(false), Verdict::Dead);
    }

    #[test]
    fn a_threshold_of_zero_means_one() {
        assert_eq!(Health::new(0).record(false), Verdict::Dead);
    }

    #[test]
    fn handshake_age_limits() {
        assert!(handshake_fresh(Some(Duration::from_secs(179))).is_ok());
        assert!(handshake_fresh(Some(Duration::from_secs(180))).is_err());
        assert!(handshake_fresh(None).unwrap_err().contains("no handshake"));
    }
}
