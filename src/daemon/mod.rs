//! `mesh-vpn-wg daemon`: the resident process. It provisions the key, runs
//! the uplink engine with the live ports, publishes `mesh_vpn` on ubus and
//! runs until SIGTERM (which tears the link down); SIGHUP re-reads the
//! configuration.

mod bus;
pub mod control;
pub mod object;
pub mod ports;
pub mod status;
mod status_reply;
mod wan;
mod wiring;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use log::{LevelFilter, info, warn};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::config::{NodeConfig, keys};
use crate::engine::report::Reporter;
use crate::engine::state::Snapshot;
use crate::engine::{Command, Engine, EngineConfig};
use crate::error::{Error, Result};
use crate::identity::PrivateKey;
use crate::logging::Logger;
use crate::root::Root;
use control::Control;

/// How long SIGTERM waits for the link to be torn down.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub foreground: bool,
    pub fwmark: u32,
    pub ubus_socket: PathBuf,
}

pub fn run(root: Root, options: Options) -> Result<()> {
    Logger::install(options.foreground, LevelFilter::Info);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime for", root.dir(), e))?;
    runtime.block_on(serve(root, options))
}

async fn serve(root: Root, options: Options) -> Result<()> {
    let config = NodeConfig::load(&root)?;
    let (key, _) = keys::ensure_private_key(&root)?;
    let (snapshot_tx, snapshot_rx) = watch::channel(wiring::initial_snapshot(&config, &key));
    let (command_tx, commands) = mpsc::channel(4);
    let control = Arc::new(Control::new(
        root.clone(),
        snapshot_tx.clone(),
        command_tx.clone(),
    ));
    let (board_tx, board) = watch::channel(None);
    let ubus = tokio::spawn(bus::serve(
        options.ubus_socket.clone(),
        control,
        snapshot_rx,
        board_tx,
    ));
    let (wan_routes, wan_up) = wan::follow();
    let ports = wiring::live_ports(&root, &config, &key, options.fwmark, wan_routes, board)?;
    let engine = Engine::new(
        ports,
        wiring::engine_config(&config),
        Reporter::new(snapshot_tx.clone()),
        commands,
        wan_up,
        wiring::node_random(&key),
    );
    let mut engine = tokio::spawn(engine.run());
    info!("started; public key {}", key.public_key());

    let mut hangup = signal(SignalKind::hangup())
        .map_err(|e| Error::io("installing SIGHUP handler for", root.dir(), e))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Error::io("installing SIGTERM handler for", root.dir(), e))?;
    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = hangup.recv() => {
                if let Some(fresh) = reload(&root, &key, &snapshot_tx) {
                    let _ = command_tx.send(Command::Reload(fresh)).await;
                }
            }
            ended = &mut engine => {
                warn!("the uplink engine ended unexpectedly: {ended:?}");
                break;
            }
        }
    }
    // The engine tears the link down before it returns.
    let _ = command_tx.send(Command::Stop).await;
    if tokio::time::timeout(SHUTDOWN_TIMEOUT, &mut engine)
        .await
        .is_err()
    {
        warn!(
            "teardown took longer than {} s; exiting anyway",
            SHUTDOWN_TIMEOUT.as_secs()
        );
    }
    ubus.abort();
    info!("stopped");
    Ok(())
}

/// SIGHUP: re-read site and UCI; a broken file is logged and the running
/// configuration kept. Returns what the engine should now act on.
fn reload(
    root: &Root,
    key: &PrivateKey,
    snapshot: &watch::Sender<Snapshot>,
) -> Option<EngineConfig> {
    match NodeConfig::load(root) {
        Ok(config) => {
            let fresh = wiring::initial_snapshot(&config, key);
            snapshot.send_modify(|s| {
                s.enabled = fresh.enabled;
                s.vni = fresh.vni;
                s.loadbalancing = fresh.loadbalancing;
                s.broker_url = fresh.broker_url;
            });
            info!("configuration reloaded");
            Some(wiring::engine_config(&config))
        }
        Err(e) => {
            warn!("reload failed, keeping the running configuration: {e}");
            None
        }
    }
}
