//! What the node must look like and be able to do, checked with iproute2,
//! wg and batctl rather than with the data plane's own parser. Everything
//! here runs on a thread inside the node namespace.

use std::net::SocketAddrV6;
use std::time::Duration;

use mesh_vpn_wg::dataplane::{DataPlane, LinkSpec};

use super::gateway::{GATEWAY_MESH_ADDRESS, VNI};
use testkit::netns::gateway::{http_get, ifindex, ping};
use testkit::netns::{node, sh, wait_for};

pub use testkit::netns::node::{VXLAN, firewall_rule_present};

/// The reference values (domain.md 1.2, 2), on kernel WireGuard.
pub fn assert_reference_state(spec: &LinkSpec) {
    let wg_link = sh("ip", &["-d", "link", "show", &spec.wg_interface]);
    assert!(wg_link.contains("wireguard"), "kernel wireguard: {wg_link}");
    node::assert_reference_state(spec, VNI);
}

/// The same values as the kernel reports them to our own netlink parsers
/// (generic netlink for WireGuard, rtnetlink for the VXLAN).
pub fn assert_inspection_matches(dataplane: &mut DataPlane, spec: &LinkSpec) {
    let inspection = dataplane
        .inspect(&spec.wg_interface, VXLAN)
        .expect("inspect");
    let wg = inspection.wireguard.expect("wireguard link");
    assert_eq!(
        (wg.kind.as_deref(), wg.mtu, wg.up),
        (Some("wireguard"), 1476, true)
    );
    let vxlan = inspection.vxlan.expect("vxlan link");
    let params = vxlan.vxlan.as_ref().expect("vxlan parameters");
    assert_eq!(
        (params.vni, params.port, params.underlay),
        (VNI, 8472, wg.index)
    );
    assert_eq!(params.local, Some(spec.node_link_local()));
    assert_eq!(params.remote, Some(spec.gateway.link_address));
    assert_eq!(vxlan.mtu, 1406);
    let device = inspection.device.expect("device");
    assert_eq!(device.fwmark, 1);
    let [peer] = device.peers.as_slice() else {
        panic!("one peer wanted: {device:?}");
    };
    assert_eq!(peer.persistent_keepalive, 25);
    assert_eq!(peer.endpoint, Some(spec.gateway.endpoint));
    let allowed = (std::net::IpAddr::V6(spec.gateway.link_address), 128);
    assert_eq!(peer.allowed_ips, [allowed]);
}

/// batman-adv's throughput override of `hardif` in Mbit/s, as batctl reads it.
pub fn throughput_override_mbit(hardif: &str) -> f64 {
    let text = sh("batctl", &["hardif", hardif, "throughput_override"]);
    let number = text.split_whitespace().next().unwrap_or_default();
    number
        .parse()
        .unwrap_or_else(|_| panic!("unexpected batctl answer {text:?}"))
}

/// Makes mesh-vpn a batman-adv hard interface of bat0, as netifd does on Gluon.
pub fn attach_to_bat0() {
    sh("batctl", &["meshif", "bat0", "interface", "add", VXLAN]);
}

/// Handshake through our own `inspect()`, ping6 and HTTP across WireGuard,
/// ping6 across VXLAN + batman-adv; returns the time to the handshake.
pub fn assert_traffic(dataplane: &mut DataPlane, spec: &LinkSpec) -> Duration {
    let wg = spec.wg_interface.as_str();
    let handshake = wait_for("WireGuard handshake", Duration::from_secs(20), || {
        let inspection = dataplane.inspect(wg, VXLAN).expect("inspect");
        let device = inspection.device.expect("device");
        device
            .peers
            .first()
            .is_some_and(|peer| peer.last_handshake.is_some())
    });
    let gw_ll = spec.gateway.link_address;
    assert!(
        ping(&format!("{gw_ll}%{wg}"), &[]),
        "ping6 across WireGuard"
    );
    let answer = http_get(SocketAddrV6::new(gw_ll, 80, 0, ifindex(wg)));
    assert!(
        answer.starts_with("HTTP/1.0 200"),
        "http answer: {answer:?}"
    );
    assert!(
        ping(GATEWAY_MESH_ADDRESS, &[]),
        "ping6 across VXLAN and batman-adv"
    );
    let device = dataplane.inspect(wg, VXLAN).expect("inspect").device;
    let peer = device.and_then(|device| device.peers.into_iter().next());
    assert!(
        peer.as_ref()
            .is_some_and(|p| p.rx_bytes > 0 && p.tx_bytes > 0),
        "kernel peer counters: {peer:?}"
    );
    handshake
}

/// Waits until batman-adv on the node lists `originator` as neighbour and
/// originator; returns how long that took.
pub fn assert_batman_sees(originator: &str, limit: Duration) -> Duration {
    wait_for("gateway in batctl n and o", limit, || {
        let neighbors = sh("batctl", &["meshif", "bat0", "n"]);
        let originators = sh("batctl", &["meshif", "bat0", "o"]);
        neighbors.contains(originator) && originators.contains(originator)
    })
}
