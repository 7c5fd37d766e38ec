//! `mesh-vpn-wg daemon`: the resident process. It provisions the key,
//! publishes `mesh_vpn` on ubus and runs until SIGTERM; SIGHUP re-reads the
//! configuration.

mod bus;
pub mod control;
pub mod object;
pub mod ports;
pub mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use log::{LevelFilter, info, warn};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::config::{NodeConfig, keys};
use crate::error::{Error, Result};
use crate::identity::{self, PrivateKey};
use crate::logging::Logger;
use crate::root::Root;
use control::Control;
use status::{Snapshot, State};

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
    let (snapshot_tx, snapshot_rx) = watch::channel(initial_snapshot(&config, &key));
    let (command_tx, mut commands) = mpsc::channel(4);
    let control = Arc::new(Control::new(root.clone(), snapshot_tx.clone(), command_tx));
    let ubus = tokio::spawn(bus::serve(
        options.ubus_socket.clone(),
        control,
        snapshot_rx,
    ));
    info!("started; public key {}", key.public_key());

    let mut hangup = signal(SignalKind::hangup())
        .map_err(|e| Error::io("installing SIGHUP handler for", root.dir(), e))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Error::io("installing SIGTERM handler for", root.dir(), e))?;
    loop {
        tokio::select! {
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = hangup.recv() => reload(&root, &key, &snapshot_tx),
            // The uplink engine (WireGuard, VXLAN, health checks) is wired in next.
            Some(command) = commands.recv() => info!("{command:?} requested; no uplink engine in this build yet"),
        }
    }
    ubus.abort();
    info!("stopped");
    Ok(())
}

fn initial_snapshot(config: &NodeConfig, key: &PrivateKey) -> Snapshot {
    let public_key = key.public_key();
    let (state, reason) = if config.enabled {
        (State::Idle, "started")
    } else {
        (State::Disabled, "wireguard.mesh_vpn.enabled is not 1")
    };
    Snapshot {
        state,
        since: Instant::now(),
        reason: reason.into(),
        enabled: config.enabled,
        link_local: Some(identity::link_local(&public_key)),
        public_key: Some(public_key),
        vni: identity::vni(&config.site.domain_seed),
        loadbalancing: config.loadbalancing,
        peer: None,
        last_check: None,
        checks: Default::default(),
        consecutive_failures: 0,
        broker_url: config.site.broker.clone(),
        broker_api: None,
        broker_error: None,
        reconnects: 0,
        broker_requests: 0,
        last_error: None,
        next_attempt: None,
    }
}

/// SIGHUP: re-read site and UCI; a broken file is logged and the running
/// configuration kept.
fn reload(root: &Root, key: &PrivateKey, snapshot: &watch::Sender<Snapshot>) {
    match NodeConfig::load(root) {
        Ok(config) => {
            let fresh = initial_snapshot(&config, key);
            snapshot.send_modify(|s| {
                if s.enabled != fresh.enabled {
                    s.state = fresh.state;
                    s.since = fresh.since;
                    s.reason = "configuration reloaded".into();
                }
                s.enabled = fresh.enabled;
                s.vni = fresh.vni;
                s.loadbalancing = fresh.loadbalancing;
                s.broker_url = fresh.broker_url;
            });
            info!("configuration reloaded");
        }
        Err(e) => warn!("reload failed, keeping the running configuration: {e}"),
    }
}
