//! The engine's main loop: one phase at a time (disabled, no uplink, a
//! reconnect cycle, holding a connection, backing off), each ending in what
//! to do next. Inputs (commands, WAN changes) are handled in every phase, so
//! `reconnect`, a reload or SIGTERM never wait behind a slow broker.

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::backoff::Backoff;
use super::cycle::{self, Connected, CycleContext};
use super::peers::PeerQueue;
use super::ports::Ports;
use super::random::Random;
use super::registration::Registration;
use super::report::Reporter;
use super::state::State;
use super::{Command, EngineConfig};

mod hold;

pub struct Engine<P: Ports> {
    ports: P,
    config: EngineConfig,
    report: Reporter,
    inputs: Inputs,
    backoff: Backoff,
    registration: Registration,
    peers: PeerQueue,
    time_synced: bool,
    cycles: u64,
    /// The public key of the gateway declared dead last, until a connection.
    dead: Option<String>,
    /// Connections in a row that never carried a byte.
    empty_links: u32,
}

/// How a phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The phase's own timer fired.
    Timer,
    /// Something changed: decide the phase afresh.
    Restart,
    Stop,
}

impl<P: Ports> Engine<P> {
    /// `random` seeds jitter and peer order; derive it from the node's key
    /// so nodes differ.
    pub fn new(
        ports: P,
        config: EngineConfig,
        report: Reporter,
        commands: mpsc::Receiver<Command>,
        wan: watch::Receiver<bool>,
        mut random: Random,
    ) -> Engine<P> {
        let peers_seed = random.next_u64();
        let peers = PeerQueue::new(Random::new(peers_seed));
        // Derived without drawing from `random`: the backoff's sequence stays as it was.
        let registration = Registration::new(Random::seed_from(&peers_seed.to_le_bytes(), 1));
        Engine {
            ports,
            backoff: Backoff::new(config.settings.backoff, random),
            registration,
            config,
            report,
            inputs: Inputs::new(commands, wan),
            peers,
            time_synced: false,
            cycles: 0,
            dead: None,
            empty_links: 0,
        }
    }

    /// Runs until [`Command::Stop`] (or the command channel closes), then tears the link down.
    pub async fn run(mut self) {
        loop {
            let next = if !self.config.enabled {
                self.disabled().await
            } else if !self.inputs.wan_up() {
                self.no_uplink().await
            } else {
                self.connect().await
            };
            if next == Next::Stop {
                break;
            }
        }
        self.ports.tear_down().await;
        self.report.set_peer(None);
        self.report.enter(State::Idle, "stopped");
    }

    async fn disabled(&mut self) -> Next {
        self.ports.tear_down().await;
        self.report.set_peer(None);
        self.report
            .enter(State::Disabled, "wireguard.mesh_vpn.enabled is not 1");
        self.wait(None, false).await
    }

    async fn no_uplink(&mut self) -> Next {
        self.report
            .enter(State::NoUplink, "no default route on the WAN");
        self.wait(None, false).await
    }

    async fn connect(&mut self) -> Next {
        match self.attempt().await {
            Ok(Ok(connected)) => self.hold(connected).await,
            Ok(Err(error)) => self.back_off(error).await,
            Err(interrupted) => interrupted,
        }
    }

    /// One reconnect cycle, abandoned when an input asks for a fresh start.
    async fn attempt(&mut self) -> Result<Result<Connected, String>, Next> {
        if self.cycles > 0 {
            self.report.update(|s| s.reconnects += 1);
        }
        self.cycles += 1;
        let config = self.config.clone();
        let cx = CycleContext {
            report: &self.report,
            peers: &mut self.peers,
            time_synced: &mut self.time_synced,
            dead: self.dead.as_deref(),
        };
        let cycle = cycle::run(
            &mut self.ports,
            cx,
            config.loadbalancing,
            &config.site_peers,
            &config.settings,
        );
        tokio::pin!(cycle);
        loop {
            tokio::select! {
                result = &mut cycle => return Ok(result),
                input = self.inputs.next() => {
                    // A reconnect while connecting is already being done.
                    if let Some(next) = apply(&mut self.config, input, false) {
                        return Err(next);
                    }
                }
            }
        }
    }

    async fn back_off(&mut self, error: String) -> Next {
        let wait = self.backoff.fail();
        let due = Instant::now() + wait;
        let reason = format!("{error}; next attempt in {} s", wait.as_secs());
        self.report.enter(State::Backoff, &reason);
        self.report.update(|s| {
            s.last_error = Some(error);
            s.next_attempt = Some(due.into_std());
        });
        match self.wait(Some(due), true).await {
            Next::Stop => Next::Stop,
            _ => Next::Restart,
        }
    }

    /// Waits for `due` or for an input that ends the phase.
    async fn wait(&mut self, due: Option<Instant>, reconnect_ends_phase: bool) -> Next {
        loop {
            let timer = async {
                match due {
                    Some(due) => sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = timer => return Next::Timer,
                input = self.inputs.next() => {
                    if let Some(next) = apply(&mut self.config, input, reconnect_ends_phase) {
                        return next;
                    }
                }
            }
        }
    }
}

/// Applies an input to the configuration; `Some` ends the current phase.
fn apply(config: &mut EngineConfig, input: Input, reconnect_ends_phase: bool) -> Option<Next> {
    match input {
        Input::Command(Command::Stop) | Input::Closed => Some(Next::Stop),
        Input::Command(Command::Reconnect) => reconnect_ends_phase.then_some(Next::Restart),
        Input::Command(Command::Loadbalancing(on)) => {
            let changed = config.loadbalancing != on;
            config.loadbalancing = on;
            changed.then_some(Next::Restart)
        }
        Input::Command(Command::Reload(fresh)) => {
            let relevant = fresh.enabled != config.enabled
                || fresh.loadbalancing != config.loadbalancing
                || fresh.site_peers != config.site_peers;
            *config = fresh;
            relevant.then_some(Next::Restart)
        }
        Input::WanChanged => Some(Next::Restart),
    }
}

enum Input {
    Command(Command),
    /// The WAN default route appeared or vanished.
    WanChanged,
    /// Nobody can send commands any more: the daemon is going away.
    Closed,
}

struct Inputs {
    commands: mpsc::Receiver<Command>,
    wan: watch::Receiver<bool>,
    wan_open: bool,
}

impl Inputs {
    fn new(commands: mpsc::Receiver<Command>, wan: watch::Receiver<bool>) -> Inputs {
        Inputs {
            commands,
            wan,
            wan_open: true,
        }
    }

    fn wan_up(&self) -> bool {
        *self.wan.borrow()
    }

    async fn next(&mut self) -> Input {
        loop {
            tokio::select! {
                command = self.commands.recv() => return command.map_or(Input::Closed, Input::Command),
                changed = self.wan.changed(), if self.wan_open => match changed {
                    Ok(()) => {
                        let _ = self.wan.borrow_and_update();
                        return Input::WanChanged;
                    }
                    // The WAN watcher ended; keep the last known state.
                    Err(_) => self.wan_open = false,
                },
            }
        }
    }
}
