//! What the node must look like and be able to do, checked with iproute2,
//! wg and batctl rather than with the data plane's own parser. Everything
//! here runs on a thread inside the node namespace.

use std::net::SocketAddrV6;
use std::time::Duration;

use mesh_vpn_wg::dataplane::{DataPlane, LinkSpec};

use super::gateway::{GATEWAY_MESH_ADDRESS, GATEWAY_PORT, GATEWAY_UNDERLAY, VNI};
use testkit::netns::gateway::{http_get, ifindex, ping};
use testkit::netns::{sh, succeeds, wait_for};

pub const VXLAN: &str = "mesh-vpn";

/// The reference values (domain.md 1.2, 2): MTUs, address, VNI, port,
/// fwmark, peer, allowed IP, keepalive, firewall rule.
pub fn assert_reference_state(spec: &LinkSpec) {
    let wg = spec.wg_interface.as_str();
    let (node_ll, gw_ll) = (spec.node_link_local(), spec.gateway.link_address);
    let wg_link = sh("ip", &["-d", "link", "show", wg]);
    assert!(wg_link.contains("mtu 1476"), "wg mtu: {wg_link}");
    assert!(wg_link.contains(",UP"), "wg up: {wg_link}");
    assert!(wg_link.contains("wireguard"), "kernel wireguard: {wg_link}");
    let addresses = sh("ip", &["-6", "addr", "show", "dev", wg]);
    assert!(
        addresses.contains(&format!("inet6 {node_ll}/64 scope link nodad")),
        "{addresses}"
    );
    assert_eq!(
        addresses.matches("inet6").count(),
        1,
        "only one: {addresses}"
    );
    let vxlan = sh("ip", &["-d", "link", "show", VXLAN]);
    assert!(vxlan.contains("mtu 1406"), "vxlan mtu: {vxlan}");
    let params = format!("vxlan id {VNI} remote {gw_ll} local {node_ll} dev {wg}");
    assert!(vxlan.contains(&params), "want `{params}` in {vxlan}");
    assert!(vxlan.contains("dstport 8472"), "{vxlan}");
    assert_eq!(sh("wg", &["show", wg, "fwmark"]).trim(), "0x1");
    let gw_key = &spec.gateway.public_key;
    assert_eq!(sh("wg", &["show", wg, "peers"]).trim(), gw_key.as_str());
    let keepalive = sh("wg", &["show", wg, "persistent-keepalive"]);
    assert_eq!(keepalive.trim(), format!("{gw_key}\t25"));
    let allowed = sh("wg", &["show", wg, "allowed-ips"]);
    assert_eq!(allowed.trim(), format!("{gw_key}\t{gw_ll}/128"));
    let endpoint = format!("{gw_key}\t[{GATEWAY_UNDERLAY}]:{GATEWAY_PORT}");
    assert_eq!(sh("wg", &["show", wg, "endpoints"]).trim(), endpoint);
    assert!(firewall_rule_present(wg), "ip6tables rule for {wg}");
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

pub fn firewall_rule_present(wg: &str) -> bool {
    let args = [
        "-w", "-C", "INPUT", "-i", wg, "-p", "udp", "-m", "udp", "--dport", "8472", "-j", "ACCEPT",
    ];
    succeeds("ip6tables", &args)
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
