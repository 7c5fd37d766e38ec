//! Benchmark: 10,000 nodes restarted into a 10-minute broker outage, in
//! tokio's paused time: the real `Engine` with scripted ports, next to a
//! model of checkuplink's once-a-minute cron in the same scenario. Run:
//! `cargo bench --bench broker_outage` (a few seconds after the build;
//! deterministic: node seeds and restart times are fixed, so every run
//! prints the same figures).
//!
//! The broker refuses every request from t = 0 to t = 600 s and registers
//! every key after. Every node remembers its last gateway. Two scenarios:
//! - "gateways know the keys": the remembered gateway handshakes without
//!   the broker (wgkex published the key to all gateways; a gateway drops a
//!   peer only after 3 h without a handshake). The engine connects at once
//!   and registers the key again in the background (`engine::registration`);
//!   checkuplink cannot: its cycle ends at the failed key exchange.
//! - "a gateway reboot lost the keys": no gateway handshakes until the
//!   node's key was registered after the broker came back.
//!
//! Restarts: all nodes at t = 0 (a city-wide power blip, the hard case: every
//! boot exchange and every first retry starts from the same moment), and,
//! for comparison, each node at its own time spread evenly over the outage.
//! Printed for each: broker requests during the outage (total, average and
//! peak per second), time to `connected` from the node's restart, time to
//! the key's registration after the broker is back, and the peak request
//! rate after it is back.

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::rc::Rc;
use std::time::Duration;

use mesh_vpn_wg::endpoint::Endpoint;
use mesh_vpn_wg::engine::ports::*;
use mesh_vpn_wg::engine::random::Random;
use mesh_vpn_wg::engine::report::Reporter;
use mesh_vpn_wg::engine::state::{PeerSource, Snapshot};
use mesh_vpn_wg::engine::{Command, Engine, EngineConfig, Settings};
use mesh_vpn_wg::loadbalancing::decide;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

const NODES: usize = 10_000;
const OUTAGE: Duration = Duration::from_secs(600);
/// The simulation ends when every node is connected and registered, or here.
const GIVE_UP: Duration = Duration::from_secs(6 * 3600);
/// checkuplink's fixed sleeps in a reconnect before the tunnel is up.
const CRON_SLEEPS: Duration = Duration::from_secs(15);
/// Health checks of the nodes that connect during the outage: every 5 min,
/// not 5 s. They always pass and call no broker, and the engine wakes for a
/// registration at its own time, so the figures are the same as with 5 s
/// (checked: the whole bench then takes 50 s instead of 5 s).
const PROBE_INTERVAL_KNOWN: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    GatewaysKnowKeys,
    GatewayRebootLostKeys,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Restarts {
    AllAtOnce,
    SpreadOverOutage,
}

/// What happened, from t = 0 (the outage's start).
struct Outcome {
    requests: Vec<Duration>,
    restart: Vec<Duration>,
    connected: Vec<Option<Duration>>,
    registered: Vec<Option<Duration>>,
}

/// What all nodes share: the broker, the gateways, the record.
struct World {
    start: Instant,
    scenario: Scenario,
    outcome: Outcome,
}

struct Node {
    id: usize,
    world: Rc<RefCell<World>>,
}

impl TimeSync for Node {
    async fn sync_time(&mut self) -> Result<(), String> {
        Ok(())
    }
}

impl KeyExchange for Node {
    async fn exchange(&mut self, _: bool) -> Exchange {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut world = self.world.borrow_mut();
        let at = world.start.elapsed();
        world.outcome.requests.push(at);
        let outcome = if at < OUTAGE {
            Err("connection refused".into())
        } else {
            world.outcome.registered[self.id].get_or_insert(at);
            Ok(Registered::KeyOnly)
        };
        Exchange {
            requests: 1,
            v2_error: None,
            outcome,
        }
    }
}

impl LastGateway for Node {
    fn recall(&mut self) -> Option<Gateway> {
        Some(gateway())
    }
    fn remember(&mut self, _: &Gateway) {}
}

impl Tunnel for Node {
    async fn connect(&mut self, _: &Gateway) -> Result<String, String> {
        let mut world = self.world.borrow_mut();
        let at = world.start.elapsed();
        let knows = match world.scenario {
            Scenario::GatewaysKnowKeys => true,
            Scenario::GatewayRebootLostKeys => world.outcome.registered[self.id].is_some(),
        };
        // Failing at once, not after the 15 s handshake timeout: the failed
        // cycles come sooner than on a real node, so more requests, not fewer.
        if !knows {
            return Err("the gateway does not know the key".into());
        }
        world.outcome.connected[self.id].get_or_insert(at);
        Ok("[2001:db8::1]:40000".into())
    }
    async fn stats(&mut self) -> Result<TunnelStats, String> {
        // A working tunnel: batman-adv's OGMs arrive every second.
        let rx_bytes = 100 * self.world.borrow().start.elapsed().as_secs();
        Ok(TunnelStats {
            handshake_age: Some(Duration::ZERO),
            rx_bytes,
            tx_bytes: 0,
        })
    }
    async fn repair(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn firewall(&self) -> Option<Result<String, String>> {
        Some(Ok("nothing to open".into()))
    }
    async fn tear_down(&mut self) {}
}

impl Probes for Node {
    fn solicit(&mut self, _: Ipv6Addr) {}
    fn probe_result(&mut self) -> Option<Result<(), String>> {
        None
    }
    async fn batman(&mut self) -> Option<Result<(), String>> {
        None
    }
}

fn main() {
    let scenarios = [
        (
            Scenario::GatewaysKnowKeys,
            "gateways know the keys (restart during the outage)",
        ),
        (
            Scenario::GatewayRebootLostKeys,
            "a gateway reboot lost the keys",
        ),
    ];
    let restarts = [
        (Restarts::AllAtOnce, "all restart at t = 0 (power blip)"),
        (
            Restarts::SpreadOverOutage,
            "restarts spread evenly over the outage",
        ),
    ];
    println!(
        "{NODES} nodes, broker down from t = 0 to {} s; engine = mesh-vpn-wg's real engine, \
         cron = checkuplink's once-a-minute cron (model)",
        OUTAGE.as_secs()
    );
    for (scenario, title) in scenarios {
        for (restart, how) in restarts {
            let times = restart_times(restart);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("runtime");
            let engine =
                tokio::task::LocalSet::new().block_on(&runtime, simulate(scenario, times.clone()));
            let cron = cron_model(times);
            println!();
            println!("== {title}; {how}");
            print_report(scenario, &engine, &cron);
        }
    }
}

fn restart_times(restarts: Restarts) -> Vec<Duration> {
    let mut random = Random::new(0x0b1e_55ed);
    (0..NODES)
        .map(|_| match restarts {
            Restarts::AllAtOnce => Duration::ZERO,
            Restarts::SpreadOverOutage => {
                Duration::from_millis(random.up_to(OUTAGE.as_millis() as u64 - 1))
            }
        })
        .collect()
}

async fn simulate(scenario: Scenario, restart: Vec<Duration>) -> Outcome {
    let start = Instant::now();
    let world = Rc::new(RefCell::new(World {
        start,
        scenario,
        outcome: Outcome {
            requests: Vec::new(),
            restart: restart.clone(),
            connected: vec![None; NODES],
            registered: vec![None; NODES],
        },
    }));
    let (_wan, wan_rx) = watch::channel(true);
    let mut keep = Vec::new();
    for (id, at) in restart.iter().enumerate() {
        let (snapshot, _) = watch::channel(snapshot());
        let (commands, commands_rx) = mpsc::channel(1);
        keep.push(commands);
        let random = Random::seed_from(&id.to_le_bytes(), 0x5eed);
        let node = Node {
            id,
            world: world.clone(),
        };
        let engine = Engine::new(
            node,
            config(scenario),
            Reporter::new(snapshot),
            commands_rx,
            wan_rx.clone(),
            random,
        );
        let at = start + *at;
        tokio::task::spawn_local(async move {
            tokio::time::sleep_until(at).await;
            engine.run().await;
        });
    }
    // A node connected with its key registered calls the broker no more
    // (the engine's tests assert it): it is stopped, so the engines left
    // running are the ones whose requests are still to come.
    let mut stopped = vec![false; NODES];
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let w = world.borrow();
        for (id, sender) in keep.iter().enumerate() {
            let done = w.outcome.connected[id].is_some() && w.outcome.registered[id].is_some();
            if done && !stopped[id] && sender.try_send(Command::Stop).is_ok() {
                stopped[id] = true;
            }
        }
        if stopped.iter().all(|s| *s) || start.elapsed() >= GIVE_UP {
            break;
        }
    }
    drop(keep);
    let mut world = world.borrow_mut();
    std::mem::replace(
        &mut world.outcome,
        Outcome {
            requests: Vec::new(),
            restart: Vec::new(),
            connected: Vec::new(),
            registered: Vec::new(),
        },
    )
}

/// checkuplink: cron fires every node at the top of each minute; each then
/// sleeps `awk srand()` 0–39 s, seeded by the wall-clock second, so nodes
/// with synced clocks all pick the same delay and call the broker together.
/// Its cycle ends at a failed key exchange, so no node connects before the
/// broker is back, whatever the gateways know; then 15 s of fixed sleeps.
fn cron_model(restart: Vec<Duration>) -> Outcome {
    let mut outcome = Outcome {
        requests: Vec::new(),
        connected: vec![None; NODES],
        registered: vec![None; NODES],
        restart,
    };
    for minute in 0..(GIVE_UP.as_secs() / 60) {
        let fired = Duration::from_secs(minute * 60);
        let delay = (minute * 7919 + 13) % 40; // one delay per minute, shared by all
        let at = fired + Duration::from_secs(delay);
        let mut waiting = 0;
        for id in 0..NODES {
            if outcome.restart[id] > fired || outcome.connected[id].is_some() {
                waiting += usize::from(outcome.connected[id].is_none());
                continue;
            }
            outcome.requests.push(at);
            if at >= OUTAGE {
                outcome.registered[id] = Some(at);
                outcome.connected[id] = Some(at + CRON_SLEEPS);
            } else {
                waiting += 1;
            }
        }
        if waiting == 0 {
            break;
        }
    }
    outcome
}

struct Figures {
    during: usize,
    average: f64,
    peak: (usize, u64),
    peak_after_first_minute: usize,
    connect: Percentiles,
    connected_during_outage: usize,
    registered: Percentiles,
    peak_after: usize,
}

impl Figures {
    fn of(o: &Outcome) -> Figures {
        let during: Vec<Duration> = o.requests.iter().copied().filter(|t| *t < OUTAGE).collect();
        let connect = o
            .connected
            .iter()
            .zip(&o.restart)
            .filter_map(|(c, r)| c.map(|c| (c - *r).as_secs_f64()));
        let registered = o
            .registered
            .iter()
            .filter_map(|r| r.map(|r| (r.max(OUTAGE) - OUTAGE).as_secs_f64()));
        Figures {
            during: during.len(),
            average: during.len() as f64 / OUTAGE.as_secs_f64(),
            peak: peak_per_second(during.iter()),
            peak_after_first_minute: peak_per_second(during.iter().filter(|t| t.as_secs() >= 60)).0,
            connect: Percentiles::of(connect),
            connected_during_outage: o
                .connected
                .iter()
                .flatten()
                .filter(|t| **t < OUTAGE)
                .count(),
            registered: Percentiles::of(registered),
            peak_after: peak_per_second(o.requests.iter().filter(|t| **t >= OUTAGE)).0,
        }
    }
}

struct Percentiles {
    count: usize,
    p50: f64,
    p90: f64,
    max: f64,
}

impl Percentiles {
    fn of(values: impl Iterator<Item = f64>) -> Percentiles {
        let mut v: Vec<f64> = values.collect();
        v.sort_by(f64::total_cmp);
        let pick = |p: f64| {
            v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(f64::NAN)
        };
        Percentiles {
            count: v.len(),
            p50: pick(0.5),
            p90: pick(0.9),
            max: pick(1.0),
        }
    }

    fn show(&self) -> String {
        let s = |x: f64| match x < 10.0 {
            true => format!("{x:.1}"),
            false => format!("{x:.0}"),
        };
        let missing = match self.count {
            NODES => String::new(),
            n => format!(" ({} never)", NODES - n),
        };
        format!(
            "p50 {} / p90 {} / max {} s{missing}",
            s(self.p50),
            s(self.p90),
            s(self.max)
        )
    }
}

fn print_report(scenario: Scenario, engine: &Outcome, cron: &Outcome) {
    let (e, c) = (Figures::of(engine), Figures::of(cron));
    let row = |what: &str, engine: String, cron: String| {
        println!("  {what:<42} {engine:<34} {cron}");
    };
    row("", "mesh-vpn-wg engine".into(), "checkuplink cron".into());
    row(
        "broker requests during the outage",
        e.during.to_string(),
        c.during.to_string(),
    );
    row(
        "  average per second",
        format!("{:.1}/s", e.average),
        format!("{:.1}/s", c.average),
    );
    row(
        "  peak per second",
        format!("{}/s (t = {} s)", e.peak.0, e.peak.1),
        format!("{}/s (t = {} s)", c.peak.0, c.peak.1),
    );
    row(
        "  peak per second after the first minute",
        format!("{}/s", e.peak_after_first_minute),
        format!("{}/s", c.peak_after_first_minute),
    );
    row(
        "connected during the outage",
        format!("{} of {NODES}", e.connected_during_outage),
        format!("{} of {NODES}", c.connected_during_outage),
    );
    row(
        "time to connected from restart",
        e.connect.show(),
        c.connect.show(),
    );
    let registered = match scenario {
        Scenario::GatewaysKnowKeys => "key registered after the broker is back",
        Scenario::GatewayRebootLostKeys => "key registered (= connected) after it",
    };
    row(registered, e.registered.show(), c.registered.show());
    row(
        "peak requests per second after it",
        format!("{}/s", e.peak_after),
        format!("{}/s", c.peak_after),
    );
}

/// The busiest second: (requests, which second).
fn peak_per_second<'a>(times: impl Iterator<Item = &'a Duration>) -> (usize, u64) {
    let mut buckets = std::collections::HashMap::new();
    for t in times {
        *buckets.entry(t.as_secs()).or_insert(0usize) += 1;
    }
    buckets
        .into_iter()
        .map(|(second, n)| (n, second))
        .max_by_key(|(n, second)| (*n, std::cmp::Reverse(*second)))
        .unwrap_or((0, 0))
}

fn gateway() -> Gateway {
    Gateway {
        source: PeerSource::Site,
        name: "gw1".into(),
        endpoint: Endpoint::parse("gw1.example.net:40000").expect("endpoint"),
        public_key: "gw1".into(),
        link_address: Ipv6Addr::LOCALHOST,
    }
}

fn config(scenario: Scenario) -> EngineConfig {
    EngineConfig {
        enabled: true,
        loadbalancing: false,
        site_peers: vec![gateway()],
        settings: Settings {
            probe_interval: match scenario {
                Scenario::GatewaysKnowKeys => PROBE_INTERVAL_KNOWN,
                Scenario::GatewayRebootLostKeys => Settings::default().probe_interval,
            },
            ..Settings::default()
        },
    }
}

fn snapshot() -> Snapshot {
    Snapshot::starting(true, None, 0, decide(None, None), String::new())
}
