//! A small Freifunk site in network namespaces, for the uplink test and the
//! demo: a WAN namespace with a bridge, the test wgkex broker and an SNTP
//! server on the router address, two wgkex-style gateways (wireguard-go, VXLAN, HTTP
//! responder; kernel WireGuard and batman-adv in the kernel lab) on that bridge, the test ubusd on a Unix socket, and a node
//! namespace whose only uplink is the bridge, with Gluon's WAN route (IPv6
//! default in table 1), where `mesh-vpn-wg daemon` runs.
//!
//! ```text
//!   node ns ── veth ──┐            wan ns: bridge, router fd00:db8::1, broker :8080, SNTP
//!   gw1 ns  ── veth ──┼── bridge
//!   gw2 ns  ── veth ──┘
//! ```
//!
//! Names are unique per process and call; everything is removed on drop (the
//! daemon first, with SIGTERM, so it tears its own link down).

mod broker_host;
pub mod interrupt;
pub mod node;
mod sntp;
pub mod tree;

use std::ffi::OsString;
use std::net::{Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use mesh_vpn_wg::identity::{self, PrivateKey};
use serde_json::Value;
use ubus_wire::Table;

use crate::broker::{self, Config, Publish};
use crate::netns::gateway::{self, Flavor, GATEWAY_PORT, Gateway, Worker};
use crate::netns::{Netns, missing_prerequisite, unique_suffix};
use crate::ubusd::TestUbusd;
pub use broker_host::BrokerHost;
use node::NodeDaemon;
pub use node::StatusReader;
pub use sntp::SntpServer;

pub const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xdb8, 0, 0, 0, 0, 0, 1);
pub const NODE_ADDRESS: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xdb8, 0, 0, 0, 0, 0, 0x100);
pub const GATEWAY_ADDRESSES: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfd00, 0xdb8, 0, 0, 0, 0, 0, 0x11),
    Ipv6Addr::new(0xfd00, 0xdb8, 0, 0, 0, 0, 0, 0x12),
];
pub const BROKER_PORT: u16 = 8080;
const BRIDGE: &str = "br-wan";

/// The tools the site needs, for a visible skip where they are missing.
pub fn missing_tools() -> Option<String> {
    missing_prerequisite(&["ip", "bridge", "wireguard-go", "wg"])
}

#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// The `mesh-vpn-wg` binary.
    pub daemon: PathBuf,
    /// The site's loadbalancing mode: on (wgkex v2) or off (v1 + site peers).
    pub loadbalancing: bool,
    /// `on-by-default`/`off-by-default` instead of `on`/`off`: the owner may
    /// override it (`set_loadbalancing`).
    pub loadbalancing_by_default: bool,
    /// Kernel WireGuard and batman-adv on the gateways, and a bat0 on the
    /// node (the kernel lab); the default is wireguard-go and no batman-adv.
    pub gateways: Flavor,
    /// Whether the broker is listening when the site comes up.
    pub broker_up: bool,
    /// Whether the gateways know the node's key from the start (registered
    /// before, as wgkex workers keep it for 3 h); if not, only a
    /// registration with the broker gives it to them (a first boot).
    pub gateways_know_key: bool,
    /// Which gateway (0 or 1) the broker's v2 answer names.
    pub v2_gateway: usize,
    pub probe_interval_secs: u32,
    pub failures_before_reconnect: u32,
    /// `registration_window` in UCI (the daemon's default, 1 h, when `None`):
    /// how soon a node connected without the broker registers its key again.
    pub registration_window_secs: Option<u32>,
    /// The PATH the daemon runs with (the test's own when `None`): a host
    /// without a firewall tool, or with one that fails.
    pub daemon_path: Option<OsString>,
    /// Enter the node namespace with `nsenter --net` (no sysfs remount, as a
    /// service manager might) instead of `ip netns exec`.
    pub enter_without_remount: bool,
}

impl SiteOptions {
    pub fn new(daemon: impl Into<PathBuf>) -> SiteOptions {
        SiteOptions {
            daemon: daemon.into(),
            loadbalancing: false,
            loadbalancing_by_default: false,
            gateways: Flavor::default(),
            broker_up: true,
            gateways_know_key: true,
            v2_gateway: 0,
            probe_interval_secs: 5,
            failures_before_reconnect: 3,
            registration_window_secs: None,
            daemon_path: None,
            enter_without_remount: false,
        }
    }
}

/// Fields drop in this order: the daemon first (it needs its namespace and
/// ubusd to shut down cleanly), the namespaces last.
pub struct Site {
    daemon: Option<NodeDaemon>,
    ubusd: TestUbusd,
    pub broker: BrokerHost,
    pub sntp: SntpServer,
    pub gateways: Vec<Gateway>,
    pub node: Netns,
    pub wan: Netns,
    pub iface: String,
    pub node_public_key: String,
    socket: PathBuf,
    options: SiteOptions,
    tree: tempfile::TempDir,
}

impl Site {
    /// Builds the namespaces, gateways, broker, ubusd and the node's files;
    /// the daemon is started separately ([`Site::start_daemon`]).
    pub fn start(options: SiteOptions) -> Result<Site, String> {
        let tree = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let key = PrivateKey::generate().map_err(|e| format!("random key: {e}"))?;
        let node_public_key = key.public_key();
        let vni = identity::vni(tree::DOMAIN_SEED);
        let wan = wan_namespace();
        let node = node_namespace(&wan);
        if options.gateways.batman {
            // Where netifd would put mesh-vpn on a Gluon node.
            gateway::create_bat0(&node);
            node.ip(&["link", "set", "bat0", "up"]);
        }
        let gateways: Vec<Gateway> = GATEWAY_ADDRESSES
            .iter()
            .enumerate()
            .map(|(i, &address)| {
                let prefix = format!("mvgw{}-", i + 1);
                let flavor = options.gateways;
                Gateway::on_bridge(
                    &wan,
                    BRIDGE,
                    &prefix,
                    address,
                    &node_public_key,
                    vni,
                    flavor,
                )
            })
            .collect();
        let chosen = gateways
            .get(options.v2_gateway)
            .ok_or("v2_gateway must be 0 or 1")?;
        let workers: Vec<Worker> = gateways.iter().map(Gateway::worker).collect();
        if !options.gateways_know_key {
            for worker in &workers {
                assert!(worker.remove_peer(&node_public_key), "forgetting the key");
            }
        }
        let config = Config {
            domains: vec![tree::DOMAIN.into()],
            domain_prefixes: vec![tree::DOMAIN_PREFIX.into()],
            gateway: broker_gateway(chosen),
            publish: Some(publish_to(workers)),
        };
        let bind = SocketAddr::new(ROUTER.into(), BROKER_PORT);
        let mut broker = BrokerHost::new(&wan, bind, config).map_err(|e| format!("broker: {e}"))?;
        if options.broker_up {
            broker
                .start()
                .map_err(|e| format!("broker on {bind}: {e}"))?;
        }
        let ntp = SocketAddr::new(ROUTER.into(), 123);
        let sntp = SntpServer::start(&wan, ntp).map_err(|e| format!("SNTP on {ntp}: {e}"))?;
        let iface = format!("mvwg{}", unique_suffix());
        let files = tree::NodeFiles {
            iface: &iface,
            broker_url: &broker.url(),
            ntp_server: &ROUTER.to_string(),
            loadbalancing: options.loadbalancing,
            loadbalancing_by_default: options.loadbalancing_by_default,
            private_key: &key.to_base64(),
            probe_interval_secs: options.probe_interval_secs,
            failures_before_reconnect: options.failures_before_reconnect,
            registration_window_secs: options.registration_window_secs,
        };
        tree::write(tree.path(), &files, &gateways).map_err(|e| format!("node files: {e}"))?;
        let socket = tree.path().join("ubus.sock");
        let ubusd = TestUbusd::start(&socket).map_err(|e| format!("test ubusd: {e}"))?;
        Ok(Site {
            daemon: None,
            ubusd,
            broker,
            sntp,
            gateways,
            node,
            wan,
            iface,
            node_public_key,
            socket,
            options,
            tree,
        })
    }

    pub fn start_daemon(&mut self) -> Result<(), String> {
        let daemon = NodeDaemon::start(
            &self.node,
            &self.options.daemon,
            self.tree.path(),
            &self.socket,
            self.options.daemon_path.as_deref(),
            self.options.enter_without_remount,
        )?;
        self.daemon = Some(daemon);
        Ok(())
    }

    /// SIGTERM to the daemon and wait for it.
    pub fn stop_daemon(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            daemon.stop();
        }
    }

    pub fn daemon_pid(&self) -> Option<u32> {
        self.daemon.as_ref().and_then(NodeDaemon::pid)
    }

    pub fn root(&self) -> &Path {
        self.tree.path()
    }

    pub fn ubus_socket(&self) -> &Path {
        &self.socket
    }

    pub fn ubusd(&mut self) -> &mut TestUbusd {
        &mut self.ubusd
    }

    pub fn daemon_log(&self) -> String {
        self.daemon
            .as_ref()
            .map(NodeDaemon::log)
            .unwrap_or_default()
    }

    pub fn call(&self, method: &str, args: Table) -> Result<Value, String> {
        node::call(&self.socket, method, args)
    }

    pub fn status(&self) -> Result<Value, String> {
        self.call("status", Table::new())
    }

    /// A ubus client for polling `status` ([`StatusReader::wait_for`]).
    pub fn reader(&self) -> Result<StatusReader, String> {
        StatusReader::new(&self.socket)
    }

    /// The gateway a status names as its peer, by public key.
    pub fn gateway_of(&self, status: &Value) -> Option<usize> {
        let key = status["peer"]["public_key"].as_str()?;
        self.gateways.iter().position(|g| g.public_key() == key)
    }

    /// The broker's v2 answer names gateway `index` from now on.
    pub fn broker_chooses(&mut self, index: usize) {
        if let Some(gateway) = self.gateways.get(index) {
            let answer = broker_gateway(gateway);
            self.broker.set_gateway(answer);
        }
    }
}

/// wgkex's MQTT to the workers: every gateway of the domain gets the key.
fn publish_to(workers: Vec<Worker>) -> Publish {
    Publish(std::sync::Arc::new(move |key: &str| {
        for worker in &workers {
            worker.add_peer(key);
        }
    }))
}

/// The wgkex v2 answer for a gateway: its underlay address as a literal.
fn broker_gateway(gateway: &Gateway) -> broker::Gateway {
    broker::Gateway {
        address: gateway.underlay().to_string(),
        port: GATEWAY_PORT,
        public_key: gateway.public_key().to_string(),
        link_address: gateway.link_address().to_string(),
    }
}

fn wan_namespace() -> Netns {
    let wan = Netns::new("mvwan-");
    wan.ip(&["link", "add", BRIDGE, "type", "bridge"]);
    wan.ip(&[
        "addr",
        "add",
        &format!("{ROUTER}/64"),
        "dev",
        BRIDGE,
        "nodad",
    ]);
    wan.ip(&["link", "set", BRIDGE, "up"]);
    wan
}

/// The node's uplink: a veth into the bridge, and the WAN route as Gluon
/// sets it (IPv6 default via the router in table 1).
fn node_namespace(wan: &Netns) -> Netns {
    let node = Netns::new("mvnode-");
    let port = format!("n{}", unique_suffix());
    wan.ip(&[
        "link", "add", &port, "type", "veth", "peer", "name", "wan", "netns", &node.name,
    ]);
    wan.ip(&["link", "set", &port, "master", BRIDGE, "up"]);
    node.ip(&[
        "addr",
        "add",
        &format!("{NODE_ADDRESS}/64"),
        "dev",
        "wan",
        "nodad",
    ]);
    node.ip(&["link", "set", "wan", "up"]);
    let router = ROUTER.to_string();
    node.ip(&[
        "-6", "route", "add", "default", "via", &router, "dev", "wan", "table", "1",
    ]);
    node
}
