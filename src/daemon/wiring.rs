//! Turning the node's configuration into the engine's inputs and the live
//! ports: pure construction, no I/O beyond reading files under the root.

use std::path::Path;
use std::time::Duration;

use tokio::sync::watch;

use super::ports::LivePorts;
use super::ports::clock::ClockSync;
use super::ports::exchange::KeyExchanger;
use super::ports::last_gateway::LastGatewayFile;
use super::ports::probe::HttpProber;
use super::ports::tunnel::{LinkIdentity, LiveTunnel};
use crate::broker::{Board, Broker, BrokerUrl, NodeHeaders, Timeouts, TlsRoots};
use crate::config::NodeConfig;
use crate::dataplane::routes::WanRoutes;
use crate::dataplane::{Backend, DataPlane, Firewall};
use crate::engine::backoff::BackoffPolicy;
use crate::engine::random::Random;
use crate::engine::registration::RegistrationPolicy;
use crate::engine::state::{PeerSource, Snapshot};
use crate::engine::{EngineConfig, Gateway, Settings};
use crate::error::{Error, Result};
use crate::identity::{self, PrivateKey};
use crate::root::{self, Root};

/// The part of the configuration the engine acts on.
pub fn engine_config(config: &NodeConfig) -> EngineConfig {
    let site_peers = config
        .site
        .peers
        .iter()
        .map(|p| Gateway {
            source: PeerSource::Site,
            name: p.name.clone(),
            endpoint: p.endpoint.clone(),
            public_key: p.public_key.clone(),
            link_address: p.link_address,
        })
        .collect();
    EngineConfig {
        enabled: config.enabled,
        loadbalancing: config.loadbalancing.effective,
        site_peers,
        settings: Settings {
            probe_interval: Duration::from_secs(config.health.probe_interval_secs.into()),
            failures_before_reconnect: config.health.failures_before_reconnect,
            probe_after_silence: Duration::from_secs(config.health.probe_after_silence_secs.into()),
            backoff: BackoffPolicy::default(),
            registration: RegistrationPolicy::with_window(Duration::from_secs(
                config.registration_window_secs.into(),
            )),
            ..Settings::default()
        },
    }
}

/// Jitter and peer order differ per node (its key) and per boot (fresh entropy).
pub fn node_random(key: &PrivateKey) -> Random {
    let mut salt = [0u8; 8];
    let _ = getrandom::fill(&mut salt);
    Random::seed_from(key.public_key().as_bytes(), u64::from_ne_bytes(salt))
}

pub fn live_ports(
    root: &Root,
    config: &NodeConfig,
    key: &PrivateKey,
    fwmark: u32,
    wan: watch::Receiver<WanRoutes>,
    board: watch::Receiver<Option<Board>>,
) -> Result<LivePorts> {
    let site = &config.site;
    let url = BrokerUrl::parse(&site.broker).map_err(|problem| {
        Error::site(
            root.join(root::SITE_JSON),
            "mesh_vpn.wireguard.broker",
            problem,
        )
    })?;
    let broker = Broker {
        url,
        headers: NodeHeaders::from_files(root, None),
        fwmark,
        roots: TlsRoots::system(root),
        timeouts: Timeouts::default(),
    };
    let domain = site
        .domain
        .as_ref()
        .map(|d| d.code.clone())
        .unwrap_or_default();
    let identity = LinkIdentity {
        iface: site.iface.clone(),
        private_key: key.clone(),
        site_mtu: site.mtu,
        vni: identity::vni(&site.domain_seed),
        fwmark,
    };
    Ok(LivePorts {
        root: root.clone(),
        clock: ClockSync {
            servers: config.ntp_servers.clone(),
            fwmark,
            may_set_clock: root.dir() == Path::new("/"),
        },
        exchanger: KeyExchanger::new(broker, domain, key.public_key()),
        last_gateway: LastGatewayFile::new(root),
        tunnel: LiveTunnel::new(
            DataPlane::new(Backend::detect(), Firewall::new(root.join("var/run"))),
            identity,
        ),
        wan,
        board,
        prober: HttpProber::new(&site.iface),
    })
}

pub fn initial_snapshot(config: &NodeConfig, key: &PrivateKey) -> Snapshot {
    Snapshot::starting(
        config.enabled,
        Some(key.public_key()),
        identity::vni(&config.site.domain_seed),
        config.loadbalancing,
        config.site.broker.clone(),
    )
}
