//! An FFMUC-style gateway in its own namespace on the lab kernel: kernel
//! WireGuard, a VXLAN with the node as unicast remote, batman-adv bat0 on
//! top, and an HTTP responder on the link address, built with ip, wg and
//! batctl. (testkit's gateway, which uses a wgkex-style FDB entry instead of
//! a remote, made the first ping across bat0 fail in about half the lab runs;
//! the namespace and process plumbing is testkit's.)

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use mesh_vpn_wg::dataplane::GatewayPeer;
use mesh_vpn_wg::identity::{PrivateKey, link_local};

use testkit::netns::gateway::{create_bat0, ifindex, serve_http_ok};
use testkit::netns::{Netns, sh};

pub const VNI: u32 = 3_773_516;
pub const GATEWAY_UNDERLAY: &str = "fd00:1::1";
pub const NODE_UNDERLAY: &str = "fd00:1::2";
pub const GATEWAY_PORT: u16 = 51820;
pub const GATEWAY_WG: &str = "wg-gw";
pub const GATEWAY_VXLAN: &str = "vx-gw";
/// Overlay addresses on bat0: IP traffic that must cross the VXLAN.
pub const GATEWAY_MESH_ADDRESS: &str = "fd01::1";
pub const NODE_MESH_ADDRESS: &str = "fd01::2";

pub struct Gateway {
    pub ns: Netns,
    public_key: String,
    pub link_address: Ipv6Addr,
    http_stop: Arc<AtomicBool>,
    http: Option<JoinHandle<()>>,
}

impl Gateway {
    /// The gateway namespace, wired to `node` by a veth pair.
    pub fn start(node: &Netns, node_public_key: &str) -> Gateway {
        let ns = Netns::new("gw");
        ns.ip(&[
            "link",
            "add",
            "veth-gw",
            "type",
            "veth",
            "peer",
            "name",
            "veth-node",
            "netns",
            &node.name,
        ]);
        add_address(&ns, "veth-gw", &format!("{GATEWAY_UNDERLAY}/64"));
        add_address(node, "veth-node", &format!("{NODE_UNDERLAY}/64"));
        ns.ip(&["link", "set", "veth-gw", "up"]);
        node.ip(&["link", "set", "veth-node", "up"]);

        let key = PrivateKey::generate().expect("random key");
        let public_key = key.public_key();
        let mut gateway = Gateway {
            ns,
            link_address: link_local(&public_key),
            public_key,
            http_stop: Arc::new(AtomicBool::new(false)),
            http: None,
        };
        gateway.configure_wireguard(&key, node_public_key);
        gateway.configure_mesh(node_public_key);
        gateway.http = Some(gateway.serve_http());
        gateway
    }

    fn configure_wireguard(&self, key: &PrivateKey, node_public_key: &str) {
        let key_file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(key_file.path(), key.to_base64()).expect("write key");
        let key_path = key_file.path().to_string_lossy().into_owned();
        self.ns
            .ip(&["link", "add", GATEWAY_WG, "type", "wireguard"]);
        let allowed = format!("{}/128", link_local(node_public_key));
        let port = GATEWAY_PORT.to_string();
        netns_sh(
            &self.ns,
            "wg",
            &[
                "set",
                GATEWAY_WG,
                "private-key",
                &key_path,
                "listen-port",
                &port,
                "peer",
                node_public_key,
                "allowed-ips",
                &allowed,
            ],
        );
        self.ns
            .ip(&["link", "set", GATEWAY_WG, "mtu", "1476", "up"]);
        add_address(&self.ns, GATEWAY_WG, &format!("{}/64", self.link_address));
    }

    /// VXLAN toward the node's link address, enslaved to bat0 (bridge loop
    /// avoidance off: it blocks multicast over bat0 for ~30 s otherwise).
    fn configure_mesh(&self, node_public_key: &str) {
        let (vni, local) = (VNI.to_string(), self.link_address.to_string());
        let remote = link_local(node_public_key).to_string();
        self.ns.ip(&[
            "link",
            "add",
            GATEWAY_VXLAN,
            "type",
            "vxlan",
            "id",
            &vni,
            "local",
            &local,
            "remote",
            &remote,
            "dstport",
            "8472",
            "dev",
            GATEWAY_WG,
        ]);
        self.ns.ip(&["link", "set", GATEWAY_VXLAN, "mtu", "1406"]);
        create_bat0(&self.ns);
        netns_sh(
            &self.ns,
            "batctl",
            &["meshif", "bat0", "interface", "add", GATEWAY_VXLAN],
        );
        self.ns.ip(&["link", "set", GATEWAY_VXLAN, "up"]);
        self.ns.ip(&["link", "set", "bat0", "up"]);
        add_address(&self.ns, "bat0", &format!("{GATEWAY_MESH_ADDRESS}/64"));
    }

    /// Answers every HTTP request with 200 on [link address%wg-gw]:80, as the
    /// gateways' web server does for the health check.
    fn serve_http(&self) -> JoinHandle<()> {
        let address = self.link_address;
        let bind = move || SocketAddrV6::new(address, 80, 0, ifindex(GATEWAY_WG)).into();
        serve_http_ok(&self.ns, self.http_stop.clone(), bind)
    }

    pub fn peer(&self) -> GatewayPeer {
        GatewayPeer {
            public_key: self.public_key.clone(),
            endpoint: SocketAddr::new(GATEWAY_UNDERLAY.parse().expect("ula"), GATEWAY_PORT),
            link_address: self.link_address,
        }
    }

    /// The gateway's batman-adv originator: the MAC of its hard interface.
    pub fn originator(&self) -> String {
        let link = self.ns.ip(&["-o", "link", "show", GATEWAY_VXLAN]);
        let mac = link
            .split_whitespace()
            .skip_while(|word| *word != "link/ether")
            .nth(1);
        mac.unwrap_or_else(|| panic!("no MAC in {link}"))
            .to_string()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.http_stop.store(true, Ordering::Relaxed);
        if let Some(http) = self.http.take() {
            let _ = http.join();
        }
    }
}

/// A static address, usable at once (no duplicate address detection).
pub fn add_address(ns: &Netns, dev: &str, address: &str) {
    ns.ip(&["addr", "add", address, "dev", dev, "nodad"]);
}

/// A command inside `ns` that must succeed.
fn netns_sh(ns: &Netns, program: &str, args: &[&str]) -> String {
    let mut all = vec!["netns", "exec", &ns.name, program];
    all.extend_from_slice(args);
    sh("ip", &all)
}
