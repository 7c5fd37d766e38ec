//! Paused-time tests of the engine's policy against a scripted world: a
//! broker, gateways that answer or not, a WAN that comes and goes. No root,
//! no sockets; every wait is tokio's virtual clock.

mod connect;
mod logs;
mod recover;
mod without_broker;

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::net::Ipv6Addr;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::LocalSet;
use tokio::time::Instant;

use super::ports::*;
use super::random::Random;
use super::report::Reporter;
use super::{Command, Engine, EngineConfig, Settings};
use crate::endpoint::Endpoint;
use crate::engine::state::{PeerSource, Snapshot, State};
use crate::loadbalancing::decide;

/// The scripted outside world the fake ports act on.
pub struct World {
    pub time_sync: Result<(), String>,
    pub v2: Result<Gateway, String>,
    pub v1: Result<(), String>,
    /// Gateways (by name) that complete handshakes and answer HTTP.
    pub alive: HashSet<String>,
    pub connected: Option<(Gateway, Instant)>,
    pub last_handshake: Option<Instant>,
    /// As wireguard-go does: the first handshake completes while `connect`
    /// is still building the link, and is not repeated for two minutes.
    pub handshake_in_connect: bool,
    /// Whether gateways' HTTP responders answer (a live gateway's handshake
    /// with a dead responder is the steadiest failure: it reconnects at once).
    pub http_answers: bool,
    /// Whether a live gateway sends through the tunnel on its own, as
    /// batman-adv's OGMs do every second; `false` is a site without batman.
    pub gateway_sends: bool,
    /// Bytes received from the gateway: its traffic plus probe answers.
    pub rx_bytes: u64,
    /// Probes the engine sent, and the latest one's outcome.
    pub probes: u32,
    pub probe_result: Option<Result<(), String>>,
    /// The gateway the node remembers from a previous run.
    pub remembered: Option<Gateway>,
    /// What the firewall layer reports (a broken tool: `Err`).
    pub firewall: Result<String, String>,
    /// Every side effect, in order: "sync", "v1", "v2", "connect gw1", "teardown".
    pub calls: Vec<String>,
}

impl World {
    pub fn new() -> World {
        World {
            time_sync: Ok(()),
            v2: Err("no gateway online for this domain".into()),
            v1: Ok(()),
            alive: ["gw1", "gw2", "gw3", "broker-gw"].map(String::from).into(),
            connected: None,
            last_handshake: None,
            handshake_in_connect: false,
            http_answers: true,
            gateway_sends: true,
            rx_bytes: 0,
            probes: 0,
            probe_result: None,
            remembered: None,
            firewall: Ok("nothing to open".into()),
            calls: Vec::new(),
        }
    }

    pub fn count(&self, call: &str) -> usize {
        self.calls.iter().filter(|c| *c == call).count()
    }

    pub fn connects(&self) -> Vec<String> {
        let names = self.calls.iter().filter_map(|c| c.strip_prefix("connect "));
        names.map(String::from).collect()
    }

    fn current_alive(&self) -> bool {
        self.connected
            .as_ref()
            .is_some_and(|(g, _)| self.alive.contains(&g.name))
    }
}

#[derive(Clone)]
pub struct FakePorts(pub Rc<RefCell<World>>);

impl FakePorts {
    fn call(&self, what: impl Into<String>) {
        self.0.borrow_mut().calls.push(what.into());
    }
}

impl TimeSync for FakePorts {
    async fn sync_time(&mut self) -> Result<(), String> {
        self.call("sync");
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.0.borrow().time_sync.clone()
    }
}

impl KeyExchange for FakePorts {
    async fn exchange(&mut self, loadbalancing: bool) -> Exchange {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut requests = 0;
        let mut v2_error = None;
        if loadbalancing {
            self.call("v2");
            requests += 1;
            match self.0.borrow().v2.clone() {
                Ok(gw) => {
                    return Exchange {
                        requests,
                        v2_error,
                        outcome: Ok(Registered::Gateway(gw)),
                    };
                }
                Err(e) => v2_error = Some(e),
            }
        }
        self.call("v1");
        requests += 1;
        let outcome = self.0.borrow().v1.clone().map(|()| Registered::KeyOnly);
        Exchange {
            requests,
            v2_error,
            outcome,
        }
    }
}

impl LastGateway for FakePorts {
    fn recall(&mut self) -> Option<Gateway> {
        self.0.borrow().remembered.clone()
    }

    fn remember(&mut self, gateway: &Gateway) {
        self.0.borrow_mut().remembered = Some(gateway.clone());
    }
}

impl Tunnel for FakePorts {
    async fn connect(&mut self, gateway: &Gateway) -> Result<String, String> {
        self.call(format!("connect {}", gateway.name));
        let handshake_now = {
            let mut world = self.0.borrow_mut();
            let same_peer = world.connected.as_ref().is_some_and(|(g, _)| g == gateway);
            world.connected = Some((gateway.clone(), Instant::now()));
            if !same_peer {
                // A new peer starts with fresh counters.
                world.rx_bytes = 0;
            }
            if same_peer && world.handshake_in_connect {
                // Like WireGuard: an unchanged peer keeps its session and
                // does not handshake again until the rekey interval.
                return Ok(gateway.endpoint.to_string());
            }
            world.last_handshake = None;
            world.handshake_in_connect && world.alive.contains(&gateway.name)
        };
        if handshake_now {
            self.0.borrow_mut().last_handshake = Some(Instant::now());
            // The rest of the link (VXLAN, firewall rule) takes a while.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok(gateway.endpoint.to_string())
    }

    async fn stats(&mut self) -> Result<TunnelStats, String> {
        let mut world = self.0.borrow_mut();
        let Some((_, since)) = world.connected else {
            return Err("no tunnel".into());
        };
        // A live gateway answers the first handshake after one second and
        // keeps it fresh; a dead one leaves the last handshake to age.
        let rekey = if world.handshake_in_connect { 120 } else { 1 };
        if world.current_alive() && since.elapsed() >= Duration::from_secs(rekey) {
            world.last_handshake = Some(Instant::now());
        }
        if world.current_alive() && world.gateway_sends {
            // About one OGM of 100 bytes per second since the link came up.
            let sent = 100 * since.elapsed().as_secs();
            world.rx_bytes = world.rx_bytes.max(sent);
        }
        Ok(TunnelStats {
            handshake_age: world.last_handshake.map(|t| t.elapsed()),
            rx_bytes: world.rx_bytes,
            tx_bytes: 2000,
        })
    }

    async fn repair(&mut self) -> Result<(), String> {
        Ok(())
    }

    fn firewall(&self) -> Option<Result<String, String>> {
        let world = self.0.borrow();
        world.connected.as_ref().map(|_| world.firewall.clone())
    }

    async fn tear_down(&mut self) {
        self.call("teardown");
        self.0.borrow_mut().connected = None;
    }
}

impl Probes for FakePorts {
    /// A live gateway with a working responder answers at once: the answer
    /// is in the receive counter at the next read.
    fn solicit(&mut self, _: Ipv6Addr) {
        let mut world = self.0.borrow_mut();
        world.probes += 1;
        let answered = world.http_answers && world.current_alive();
        if answered {
            world.rx_bytes += 300;
        }
        world.probe_result = Some(match answered {
            true => Ok(()),
            false => Err("gave no answer within 5 s".into()),
        });
    }

    fn probe_result(&mut self) -> Option<Result<(), String>> {
        self.0.borrow_mut().probe_result.take()
    }

    async fn batman(&mut self) -> Option<Result<(), String>> {
        None
    }
}

pub fn gateway(name: &str, source: PeerSource) -> Gateway {
    Gateway {
        source,
        name: name.into(),
        endpoint: Endpoint::parse(&format!("{name}.example.net:40000")).unwrap(),
        public_key: format!("{name}-key"),
        link_address: "fe80::1".parse().unwrap(),
    }
}

pub fn config(loadbalancing: bool) -> EngineConfig {
    EngineConfig {
        enabled: true,
        loadbalancing,
        site_peers: ["gw1", "gw2", "gw3"]
            .map(|n| gateway(n, PeerSource::Site))
            .to_vec(),
        settings: Settings::default(),
    }
}

/// A running engine and the handles a test drives it with.
pub struct Node {
    pub world: Rc<RefCell<World>>,
    pub commands: mpsc::Sender<Command>,
    pub wan: watch::Sender<bool>,
    pub snapshot: watch::Receiver<Snapshot>,
    /// Every state entered, with the virtual time since start.
    pub states: Rc<RefCell<Vec<(State, Duration)>>>,
    pub stopped: tokio::task::JoinHandle<()>,
}

impl Node {
    pub fn state(&self) -> State {
        self.snapshot.borrow().state
    }

    pub fn entered(&self) -> Vec<State> {
        self.states.borrow().iter().map(|(s, _)| *s).collect()
    }

    /// When `state` was last entered, counted from the start.
    pub fn last_entered(&self, state: State) -> Option<Duration> {
        self.states
            .borrow()
            .iter()
            .rev()
            .find(|(s, _)| *s == state)
            .map(|(_, t)| *t)
    }

    pub async fn send(&self, command: Command) {
        self.commands.send(command).await.unwrap();
    }
}

/// Runs `scenario` against an engine started with `config` in a fresh world.
pub fn run<F, Fut>(config: EngineConfig, scenario: F)
where
    F: FnOnce(Node) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    LocalSet::new().block_on(&runtime, async move {
        let node = start(config);
        scenario(node).await;
    });
}

fn start(config: EngineConfig) -> Node {
    let world = Rc::new(RefCell::new(World::new()));
    let (snapshot_tx, snapshot) = watch::channel(blank_snapshot(&config));
    let (commands, commands_rx) = mpsc::channel(4);
    let (wan, wan_rx) = watch::channel(true);
    let states = Rc::new(RefCell::new(Vec::new()));
    let started = Instant::now();
    let mut watcher = snapshot.clone();
    let log = states.clone();
    tokio::task::spawn_local(async move {
        let mut last = None;
        while watcher.changed().await.is_ok() {
            let state = watcher.borrow_and_update().state;
            if last != Some(state) {
                log.borrow_mut().push((state, started.elapsed()));
                last = Some(state);
            }
        }
    });
    let engine = Engine::new(
        FakePorts(world.clone()),
        config,
        Reporter::new(snapshot_tx),
        commands_rx,
        wan_rx,
        Random::new(42),
    );
    let stopped = tokio::task::spawn_local(engine.run());
    Node {
        world,
        commands,
        wan,
        snapshot,
        states,
        stopped,
    }
}

fn blank_snapshot(config: &EngineConfig) -> Snapshot {
    let broker = "broker.example.net".to_string();
    Snapshot::starting(config.enabled, None, 0, decide(None, None), broker)
}

pub async fn advance(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}
