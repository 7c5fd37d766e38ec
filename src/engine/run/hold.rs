//! Holding a connection: the receive counter every second ([`liveness`]),
//! the layered check every `probe_interval` ([`health`]) and, when a gateway
//! took the node without a fresh key exchange, the broker registration in
//! the background. Ends when the link is declared dead or an input asks.
//!
//! [`liveness`]: crate::engine::liveness
//! [`health`]: crate::engine::health

use tokio::time::Instant;

use super::{Engine, Next};
use crate::engine::cycle::Connected;
use crate::engine::health::{self, CheckReport, Health, Verdict};
use crate::engine::liveness::{Liveness, SAMPLE_INTERVAL, Step};
use crate::engine::ports::{Gateway, Ports};
use crate::engine::state::State;

/// What is watched on one connection, and when each part is due.
struct Watch {
    liveness: Liveness,
    health: Health,
    /// What failed in the current streak of failed layered checks, once each.
    streak: Vec<String>,
    /// Bytes came through the tunnel: the connection worked, not just its
    /// handshake.
    carried: bool,
    /// The latest HTTP probe's outcome, for the reason a link is left.
    http: Option<Result<(), String>>,
    sample_due: Instant,
    check_due: Instant,
}

impl<P: Ports> Engine<P> {
    /// Connected: watch the link until it is declared dead; connected
    /// without the broker, register the key again in between, on the
    /// schedule of `registration`, until the broker takes it.
    pub(super) async fn hold(&mut self, connected: Connected) -> Next {
        let Connected {
            gateway,
            registered,
        } = connected;
        self.dead = None;
        // Not urgent (the gateway knows the key): see `registration`.
        let policy = self.config.settings.registration;
        let mut register_at =
            (!registered).then(|| Instant::now() + self.registration.start(policy));
        self.report.update(|s| {
            s.last_error = None;
            s.next_attempt = None;
            // The failures were the previous connection's.
            s.consecutive_failures = 0;
        });
        self.report.enter(
            State::Connected,
            &format!("handshake with {}", gateway.name),
        );
        let mut watch = self.start_watch();
        loop {
            let due = watch.sample_due.min(watch.check_due);
            let wake = register_at.map_or(due, |at| at.min(due));
            match self.wait(Some(wake), true).await {
                Next::Timer => {}
                other => return other,
            }
            if register_at.is_some_and(|at| at <= Instant::now()) {
                register_at = match self.register(&gateway).await {
                    Ok(next) => next,
                    Err(next) => return next,
                };
            }
            if let Some(why) = self.watch(&mut watch, &gateway).await {
                return self.leave(&gateway, &why, watch.carried).await;
            }
        }
    }

    fn start_watch(&self) -> Watch {
        let settings = &self.config.settings;
        let now = Instant::now();
        Watch {
            // The handshake that just completed counts as heard.
            liveness: Liveness::new(
                settings.probe_after_silence,
                settings.failures_before_reconnect,
                now.into_std(),
            ),
            health: Health::new(settings.failures_before_reconnect),
            streak: Vec::new(),
            carried: false,
            http: None,
            sample_due: now + SAMPLE_INTERVAL,
            check_due: now + settings.probe_interval,
        }
    }

    /// Runs whatever is due; `Some(why)` when the link is dead. Both run at
    /// a fixed rate: a slow read does not push the next one back.
    async fn watch(&mut self, watch: &mut Watch, gateway: &Gateway) -> Option<String> {
        let now = Instant::now();
        if now >= watch.sample_due {
            watch.sample_due = (watch.sample_due + SAMPLE_INTERVAL).max(now);
            if let Some(why) = self.sample(watch, gateway).await {
                return Some(why);
            }
        }
        if now >= watch.check_due {
            watch.check_due = (watch.check_due + self.config.settings.probe_interval).max(now);
            return self.layered_check(watch).await;
        }
        None
    }

    /// One read of the receive counter, and a probe or the verdict it asks for.
    async fn sample(&mut self, watch: &mut Watch, gateway: &Gateway) -> Option<String> {
        let rx_bytes = self.ports.stats().await.ok().map(|s| s.rx_bytes);
        let now = Instant::now().into_std();
        if let Some(http) = self.ports.probe_result() {
            self.report.record_probe("http", &http);
            watch.http = Some(http);
        }
        let liveness = &mut watch.liveness;
        match liveness.observe(now, rx_bytes) {
            Step::Heard if !watch.carried => {
                // Only a connection that carries traffic ends the backoff: a
                // gateway that handshakes but forwards nothing is a failure.
                watch.carried = true;
                self.backoff.reset();
                None
            }
            Step::Heard | Step::Quiet => None,
            Step::Probe => {
                self.ports.solicit(gateway.link_address);
                None
            }
            Step::Dead => {
                let mut why = format!(
                    "silent {} s, {} probes to {} unanswered",
                    liveness.silence(now).as_secs(),
                    liveness.probes(),
                    gateway.link_address
                );
                if let Some(Err(http)) = &watch.http {
                    why.push_str(&format!(" (http probe: {http})"));
                }
                self.report.record_probe("traffic", &Err(why.clone()));
                Some(why)
            }
        }
    }

    async fn layered_check(&mut self, watch: &mut Watch) -> Option<String> {
        let traffic = watch.liveness.describe(Instant::now().into_std());
        let report = health::check(&mut self.ports, traffic).await;
        let verdict = watch.health.record(report.ok());
        self.report.record_check(&report, &watch.health);
        let why = failed_layer(&report);
        match verdict {
            Verdict::Healthy => watch.streak.clear(),
            _ if !watch.streak.contains(&why) => watch.streak.push(why),
            _ => {}
        }
        (verdict == Verdict::Dead).then(|| {
            format!(
                "{} failed checks in a row: {}",
                watch.health.consecutive_failures(),
                watch.streak.join(", ")
            )
        })
    }

    /// The link to `gateway` is dead: it goes last among the site's peers and
    /// is skipped by the next cycle's remembered-gateway attempt. The next
    /// cycle starts at once, unless this is the second link in a row that
    /// never carried a byte: one may be a gateway that died right after its
    /// handshake, two are a pattern (a gateway that handshakes but forwards
    /// nothing), which waits for the backoff instead of turning into a
    /// reconnect (and broker request) loop.
    async fn leave(&mut self, gateway: &Gateway, why: &str, carried: bool) -> Next {
        self.peers.failed(gateway, &self.config.site_peers);
        self.dead = Some(gateway.public_key.clone());
        let line = format!("leaving connected to {}: {why}", gateway.name);
        self.report.log(log::Level::Warn, "leave", &line);
        let error = format!("{} is gone: {why}", gateway.name);
        self.empty_links = if carried { 0 } else { self.empty_links + 1 };
        if self.empty_links >= 2 {
            return self.back_off(error).await;
        }
        self.report.update(|s| s.last_error = Some(error));
        Next::Restart
    }

    /// One background registration while connected without the broker:
    /// `Ok(None)` once it took the key, `Ok(Some(next try))` while it does
    /// not. A v2 answer naming another gateway does not move a healthy node.
    async fn register(&mut self, gateway: &Gateway) -> Result<Option<Instant>, Next> {
        let exchange = self.ports.exchange(self.config.loadbalancing);
        tokio::pin!(exchange);
        let exchange = loop {
            tokio::select! {
                exchange = &mut exchange => break exchange,
                input = self.inputs.next() => {
                    if let Some(next) = super::apply(&mut self.config, input, true) {
                        return Err(next);
                    }
                }
            }
        };
        self.report.record_exchange(&exchange);
        if exchange.outcome.is_ok() {
            let line = format!(
                "registered the key with the broker; staying with {}",
                gateway.name
            );
            self.report.log(log::Level::Info, "registered", &line);
            return Ok(None);
        }
        let wait = self.registration.fail();
        let line = format!(
            "connected to {} without the broker; registering again in {} s",
            gateway.name,
            wait.as_secs()
        );
        self.report.log(log::Level::Warn, "unregistered", &line);
        Ok(Some(Instant::now() + wait))
    }
}

fn failed_layer(report: &CheckReport) -> String {
    report
        .probes
        .iter()
        .find_map(|(name, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("{name} check failed: {e}"))
        })
        .unwrap_or_else(|| "checks failed".into())
}
