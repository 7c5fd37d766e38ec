//! Benchmark: 10,000 nodes through a 10-minute broker outage, in tokio's
//! paused time. Prints the broker request rate during the outage and how the
//! reconnections spread once the broker is back, for mesh-vpn-wg's engine
//! (real `Engine`, scripted ports) next to checkuplink's once-a-minute cron
//! in the same scenario. Run: `cargo bench --bench broker_outage`.

use std::cell::RefCell;
use std::net::Ipv6Addr;
use std::rc::Rc;
use std::time::Duration;

use mesh_vpn_wg::endpoint::Endpoint;
use mesh_vpn_wg::engine::ports::*;
use mesh_vpn_wg::engine::random::Random;
use mesh_vpn_wg::engine::report::Reporter;
use mesh_vpn_wg::engine::state::{PeerSource, Snapshot};
use mesh_vpn_wg::engine::{Engine, EngineConfig, Settings};
use mesh_vpn_wg::loadbalancing::decide;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

const NODES: usize = 10_000;
const OUTAGE: Duration = Duration::from_secs(600);
const OBSERVE: Duration = Duration::from_secs(1800);

/// What all nodes share: the broker's availability and its request log.
struct Broker {
    start: Instant,
    requests: Vec<Duration>,
    connected: Vec<Duration>,
}

struct Node(Rc<RefCell<Broker>>);

impl TimeSync for Node {
    async fn sync_time(&mut self) -> Result<(), String> {
        Ok(())
    }
}

impl KeyExchange for Node {
    async fn exchange(&mut self, _: bool) -> Exchange {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut broker = self.0.borrow_mut();
        let at = broker.start.elapsed();
        broker.requests.push(at);
        let outcome = if at < OUTAGE {
            Err("connection refused".into())
        } else {
            Ok(Registered::KeyOnly)
        };
        Exchange {
            requests: 1,
            v2_error: None,
            outcome,
        }
    }
}

/// Nothing remembered: every node meets the outage as a first boot would.
impl LastGateway for Node {
    fn recall(&mut self) -> Option<Gateway> {
        None
    }
    fn remember(&mut self, _: &Gateway) {}
}

impl Tunnel for Node {
    async fn connect(&mut self, _: &Gateway) -> Result<String, String> {
        let mut broker = self.0.borrow_mut();
        let at = broker.start.elapsed();
        // The gateways lost the keys (a gateway reboot): without the broker
        // no gateway handshakes, so the engine's fallback fails and it backs off.
        if at < OUTAGE {
            return Err("the gateway does not know the key".into());
        }
        broker.connected.push(at);
        Ok("[2001:db8::1]:40000".into())
    }
    async fn stats(&mut self) -> Result<TunnelStats, String> {
        // A working tunnel: batman-adv's OGMs arrive every second.
        let rx_bytes = 100 * self.0.borrow().start.elapsed().as_secs();
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let broker = tokio::task::LocalSet::new().block_on(&runtime, simulate());
    let cron = cron_model();
    print_report("mesh-vpn-wg engine", &broker.requests, &broker.connected);
    print_report(
        "checkuplink cron (every minute, awk delay seeded by the clock)",
        &cron.0,
        &cron.1,
    );
}

async fn simulate() -> Broker {
    let broker = Rc::new(RefCell::new(Broker {
        start: Instant::now(),
        requests: Vec::new(),
        connected: Vec::new(),
    }));
    let (_wan, wan_rx) = watch::channel(true);
    let mut keep = Vec::new();
    for id in 0..NODES {
        let (snapshot, _) = watch::channel(snapshot());
        let (commands, commands_rx) = mpsc::channel(1);
        keep.push(commands);
        let random = Random::seed_from(&id.to_le_bytes(), 0x5eed);
        let engine = Engine::new(
            Node(broker.clone()),
            config(),
            Reporter::new(snapshot),
            commands_rx,
            wan_rx.clone(),
            random,
        );
        tokio::task::spawn_local(engine.run());
    }
    tokio::time::sleep(OBSERVE).await;
    drop(keep);
    Rc::try_unwrap(broker)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| Broker {
            start: rc.borrow().start,
            requests: rc.borrow().requests.clone(),
            connected: rc.borrow().connected.clone(),
        })
}

/// checkuplink: cron fires every node at the top of each minute; each then
/// sleeps `awk srand()` 0–39 s, seeded by the wall-clock second, so nodes
/// with synced clocks all pick the same delay and call the broker together.
fn cron_model() -> (Vec<Duration>, Vec<Duration>) {
    let mut requests = Vec::new();
    let mut connected = Vec::new();
    for minute in 0..(OBSERVE.as_secs() / 60) {
        let delay = (minute * 7919 + 13) % 40; // one delay per minute, shared by all
        let at = Duration::from_secs(minute * 60 + delay);
        if connected.len() == NODES {
            break;
        }
        for _ in connected.len()..NODES {
            requests.push(at);
            if at >= OUTAGE {
                // 15 s of fixed sleeps in every reconnect before it is up.
                connected.push(at + Duration::from_secs(15));
            }
        }
    }
    (requests, connected)
}

fn print_report(name: &str, requests: &[Duration], connected: &[Duration]) {
    let during = requests.iter().filter(|t| **t < OUTAGE).count();
    let per_minute = during as f64 / (OUTAGE.as_secs_f64() / 60.0);
    let peak = peak_per_second(requests.iter().filter(|t| **t < OUTAGE));
    let late = requests
        .iter()
        .filter(|t| **t >= OUTAGE / 2 && **t < OUTAGE)
        .count();
    let late_per_minute = late as f64 / (OUTAGE.as_secs_f64() / 120.0);
    let mut after: Vec<f64> = connected
        .iter()
        .filter(|t| **t >= OUTAGE)
        .map(|t| (*t - OUTAGE).as_secs_f64())
        .collect();
    after.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        after
            .get(((after.len() as f64 * p) as usize).min(after.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let peak_after = peak_per_second(requests.iter().filter(|t| **t >= OUTAGE));
    println!("{name}");
    println!("  nodes                              {NODES}");
    println!("  broker requests during the outage  {during} ({per_minute:.0}/min, peak {peak}/s)");
    println!("  ... in the outage's second half    {late_per_minute:.0}/min");
    println!(
        "  connected after the broker is back {} of {NODES}",
        after.len()
    );
    println!(
        "  time to reconnect after recovery   p50 {:.0} s, p90 {:.0} s, max {:.0} s",
        pct(0.5),
        pct(0.9),
        pct(1.0)
    );
    println!("  peak broker requests after recovery {peak_after}/s");
}

fn peak_per_second<'a>(times: impl Iterator<Item = &'a Duration>) -> usize {
    let mut buckets = std::collections::HashMap::new();
    for t in times {
        *buckets.entry(t.as_secs()).or_insert(0usize) += 1;
    }
    buckets.values().copied().max().unwrap_or(0)
}

fn config() -> EngineConfig {
    EngineConfig {
        enabled: true,
        loadbalancing: false,
        site_peers: vec![Gateway {
            source: PeerSource::Site,
            name: "gw1".into(),
            endpoint: Endpoint::parse("gw1.example.net:40000").expect("endpoint"),
            public_key: "gw1".into(),
            link_address: Ipv6Addr::LOCALHOST,
        }],
        settings: Settings::default(),
    }
}

fn snapshot() -> Snapshot {
    Snapshot::starting(true, None, 0, decide(None, None), String::new())
}
