//! What a node's tunnel must look like after the data plane set it up, checked
//! with iproute2, wg and ip6tables rather than with the data plane's own
//! parsers. Shared by the namespace tests (wireguard-go) and the kernel lab
//! (kernel WireGuard); both call it on a thread inside the node namespace.

use mesh_vpn_wg::dataplane::LinkSpec;

use super::{sh, succeeds};

/// The VXLAN interface the reference setup names.
pub const VXLAN: &str = "mesh-vpn";

/// The reference values (domain.md 1.2, 2): MTUs 1476/1406, the one
/// link-local address, VNI `vni`, port 8472, fwmark 1, the gateway as the
/// only peer with its /128, keepalive 25 and endpoint, and the firewall rule.
pub fn assert_reference_state(spec: &LinkSpec, vni: u32) {
    let wg = spec.wg_interface.as_str();
    let (node_ll, gw_ll) = (spec.node_link_local(), spec.gateway.link_address);
    let wg_link = sh("ip", &["-d", "link", "show", wg]);
    assert!(wg_link.contains("mtu 1476"), "wg mtu: {wg_link}");
    assert!(wg_link.contains(",UP"), "wg up: {wg_link}");
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
    let params = format!("vxlan id {vni} remote {gw_ll} local {node_ll} dev {wg}");
    assert!(vxlan.contains(&params), "want `{params}` in {vxlan}");
    assert!(vxlan.contains("dstport 8472"), "{vxlan}");
    assert_eq!(sh("wg", &["show", wg, "fwmark"]).trim(), "0x1");
    let gw_key = &spec.gateway.public_key;
    assert_eq!(sh("wg", &["show", wg, "peers"]).trim(), gw_key.as_str());
    let keepalive = sh("wg", &["show", wg, "persistent-keepalive"]);
    assert_eq!(keepalive.trim(), format!("{gw_key}\t25"));
    let allowed = sh("wg", &["show", wg, "allowed-ips"]);
    assert_eq!(allowed.trim(), format!("{gw_key}\t{gw_ll}/128"));
    let endpoint = format!("{gw_key}\t{}", spec.gateway.endpoint);
    assert_eq!(sh("wg", &["show", wg, "endpoints"]).trim(), endpoint);
    assert!(firewall_rule_present(wg), "ip6tables rule for {wg}");
}

/// The rule that lets VXLAN in from the tunnel (domain.md 2).
pub fn firewall_rule_present(wg: &str) -> bool {
    let args = [
        "-w", "-C", "INPUT", "-i", wg, "-p", "udp", "-m", "udp", "--dport", "8472", "-j", "ACCEPT",
    ];
    succeeds("ip6tables", &args)
}
