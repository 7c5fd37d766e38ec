//! The data plane against a real gateway in network namespaces: the gateway
//! side is built by the test with wireguard-go, wg and ip exactly as a wgkex
//! worker would; the node side only by `DataPlane`. Needs root and
//! wireguard-go; skips visibly otherwise.

use std::net::SocketAddrV6;
use std::sync::Mutex;
use std::time::Duration;

use mesh_vpn_wg::dataplane::{
    Backend, DataPlane, Firewall, GatewayPeer, LinkSpec, processes_spawned,
};
use mesh_vpn_wg::error::Error;
use mesh_vpn_wg::identity::PrivateKey;
use testkit::netns::gateway::{GATEWAY_OVERLAY, Gateway, VNI, http_get, ifindex, ping};
use testkit::netns::node::{assert_reference_state, firewall_rule_present};
use testkit::netns::{Netns, child_pids, missing_prerequisite, run, sh, unique_suffix, wait_for};

/// The tests share the process-wide spawn counter and child list: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const SITE_MTU: u16 = 1406;
const NODE_OVERLAY: &str = "fd01::2";

fn skip_reason() -> Option<String> {
    missing_prerequisite(&[
        "ip",
        "bridge",
        "wireguard-go",
        "wg",
        "ping",
        "ip6tables",
        "nft",
    ])
}

/// Handshake, ping6 across WireGuard, ping6 across the VXLAN (full MTU),
/// and the HTTP health-check path. Runs inside the node namespace.
fn assert_traffic(dataplane: &mut DataPlane, spec: &LinkSpec) {
    let wg = spec.wg_interface.as_str();
    wait_for("handshake", Duration::from_secs(15), || {
        let inspection = dataplane.inspect(wg, "mesh-vpn").expect("inspect");
        let device = inspection.device.expect("device");
        device
            .peers
            .first()
            .is_some_and(|peer| peer.last_handshake.is_some())
    });
    let gw_ll = spec.gateway.link_address;
    if !ping(&format!("{gw_ll}%{wg}"), &[]) {
        let dump = [
            sh("wg", &["show", "all"]),
            sh("ip", &["-6", "route", "show", "table", "all"]),
            sh("ip", &["-s", "link", "show", wg]),
            sh("ip", &["-6", "addr"]),
            String::from_utf8_lossy(
                &run(
                    "ping",
                    &["-6", "-c", "1", "-W", "2", &format!("{gw_ll}%{wg}")],
                )
                .stdout,
            )
            .into_owned(),
        ];
        panic!("ping6 across WireGuard failed:\n{}", dump.join("\n"));
    }
    let answer = http_get(SocketAddrV6::new(gw_ll, 80, 0, ifindex(wg)));
    assert!(
        answer.starts_with("HTTP/1.0 200"),
        "http answer: {answer:?}"
    );
    let _ = run(
        "ip",
        &[
            "addr",
            "add",
            &format!("{NODE_OVERLAY}/64"),
            "dev",
            "mesh-vpn",
            "nodad",
        ],
    );
    assert!(ping(GATEWAY_OVERLAY, &[]), "ping6 across the VXLAN");
    // 1406 - 40 (IPv6) - 8 (ICMPv6): a full-size packet fits without fragments.
    assert!(
        ping(GATEWAY_OVERLAY, &["-M", "do", "-s", "1358"]),
        "full-MTU ping6 across the VXLAN"
    );
    let stats = dataplane
        .inspect(wg, "mesh-vpn")
        .expect("inspect")
        .device
        .expect("device");
    assert!(
        stats.peers[0].rx_bytes > 0 && stats.peers[0].tx_bytes > 0,
        "{stats:?}"
    );
}

fn node_spec(wg: &str, key: PrivateKey, gateway: GatewayPeer) -> LinkSpec {
    LinkSpec::new(wg, key, SITE_MTU, VNI, gateway)
}

/// Leftovers of an earlier run: a `mesh-vpn` with other parameters inside a
/// bridge, and a non-WireGuard link squatting on the WireGuard name.
fn leave_stale_links(node: &Netns, wg: &str) {
    node.ip(&["link", "add", "br-stale", "type", "bridge"]);
    node.ip(&[
        "link", "add", "mesh-vpn", "type", "vxlan", "id", "1", "dstport", "4789", "dev", "veth1",
    ]);
    node.ip(&["link", "set", "mesh-vpn", "master", "br-stale"]);
    node.ip(&[
        "link",
        "add",
        wg,
        "type",
        "veth",
        "peer",
        "name",
        "stale-peer",
    ]);
}

#[test]
fn node_data_plane_reaches_a_wgkex_style_gateway_and_repairs_itself() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(reason) = skip_reason() {
        testkit::skip(&reason);
        return;
    }
    let node = Netns::new("dpnode");
    let key = PrivateKey::generate().expect("random key");
    let gateway = Gateway::start(&node, &key.public_key());
    let wg = format!("wgn{}", unique_suffix());
    leave_stale_links(&node, &wg);
    let spec = node_spec(&wg, key, gateway.peer());
    let gateway_daemon = gateway.daemon.as_ref().expect("wireguard-go gateway").id();
    let node_name = node.name.clone();

    let run_dir = tempfile::tempdir().expect("run dir");
    let fw3_state = run_dir.path().join("fw3.state");
    let firewall = Firewall::new(run_dir.path());
    let scenario = node.thread(move || {
        let children_at_start = child_pids();
        let mut dataplane = DataPlane::new(Backend::Userspace("wireguard-go".into()), firewall);
        let report = dataplane.apply(&spec).expect("first apply");
        assert!(
            report
                .changes
                .iter()
                .any(|c| c.contains("removed stale mesh-vpn")
                    || c.contains(&format!("created {}", spec.wg_interface))),
            "{report:?}"
        );
        assert!(run("ip", &["link", "show", "br-stale"]).status.success());
        assert!(
            !sh("ip", &["link", "show", "master", "br-stale"]).contains("mesh-vpn"),
            "stale mesh-vpn left the bridge"
        );
        assert_reference_state(&spec, VNI);
        assert_traffic(&mut dataplane, &spec);

        // Steady state: nothing changes, no process is started.
        let (spawned, children) = (processes_spawned(), child_pids());
        let report = dataplane.apply(&spec).expect("steady apply");
        assert!(
            report.changes.is_empty(),
            "steady state changed things: {report:?}"
        );
        assert_eq!(
            processes_spawned(),
            spawned,
            "steady-state apply started a process"
        );
        assert_eq!(
            child_pids(),
            children,
            "steady-state apply changed the child list"
        );

        // Partial damage behind its back: VXLAN gone, address gone, wrong MTU, link down.
        sh("ip", &["link", "del", "mesh-vpn"]);
        sh(
            "ip",
            &[
                "addr",
                "del",
                &format!("{}/64", spec.node_link_local()),
                "dev",
                &wg,
            ],
        );
        sh("ip", &["link", "set", &wg, "mtu", "1400", "down"]);
        let report = dataplane.apply(&spec).expect("repair apply");
        for change in [
            format!("set {wg} mtu 1476"),
            format!("added {}/64 to {wg}", spec.node_link_local()),
            format!("set {wg} up"),
            "created mesh-vpn".to_string(),
        ] {
            assert!(
                report.changes.contains(&change),
                "missing `{change}` in {report:?}"
            );
        }
        assert_reference_state(&spec, VNI);
        assert_traffic(&mut dataplane, &spec);

        // A firewall reload drops the rule and rewrites its state file: the
        // health loop's repair puts the rule back.
        sh(
            "ip6tables",
            &[
                "-w", "-D", "INPUT", "-i", &wg, "-p", "udp", "-m", "udp", "--dport", "8472", "-j",
                "ACCEPT",
            ],
        );
        std::fs::write(&fw3_state, "reloaded").expect("fw3.state");
        let report = dataplane.apply(&spec).expect("apply after reload");
        let inserted = format!("inserted firewall rule on {wg}");
        assert!(report.changes.contains(&inserted), "{report:?}");
        let report = dataplane.apply(&spec).expect("apply");
        assert!(
            report.changes.is_empty(),
            "second check finds it: {report:?}"
        );
        assert!(firewall_rule_present(&wg));

        // The WireGuard interface itself disappears: rebuilt, tunnel back.
        sh("ip", &["link", "del", &wg]);
        let report = dataplane.apply(&spec).expect("rebuild apply");
        assert!(
            report.changes.contains(&format!("created {wg}")),
            "{report:?}"
        );
        assert_reference_state(&spec, VNI);
        assert_traffic(&mut dataplane, &spec);

        dataplane.teardown(&wg, "mesh-vpn").expect("teardown");
        assert!(
            !run("ip", &["link", "show", &wg]).status.success(),
            "{wg} left behind"
        );
        assert!(
            !run("ip", &["link", "show", "mesh-vpn"]).status.success(),
            "mesh-vpn left behind"
        );
        assert!(!firewall_rule_present(&wg), "firewall rule left behind");
        assert!(!std::path::Path::new(&format!("/var/run/wireguard/{wg}.sock")).exists());
        assert_eq!(child_pids(), children_at_start, "wireguard-go left running");
    });
    let outcome = scenario.join();
    drop(gateway);
    drop(node);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    assert!(
        !child_pids().contains(&gateway_daemon),
        "gateway wireguard-go reaped"
    );
    assert!(
        !sh("ip", &["netns", "list"]).contains(&node_name),
        "namespace removed"
    );
}

/// With firewall4 (an `inet fw4` table), the rule goes into nftables with
/// our comment, and teardown takes it out again.
#[test]
fn firewall4_hosts_get_an_nft_rule() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(reason) = skip_reason() {
        testkit::skip(&reason);
        return;
    }
    let node = Netns::new("dpfw4");
    let chain =
        "add chain inet fw4 input { type filter hook input priority filter; policy accept; }";
    assert!(node.exec("nft", &["add table inet fw4"]).status.success());
    assert!(node.exec("nft", &[chain]).status.success());
    let gateway = GatewayPeer {
        public_key: PrivateKey::generate().expect("key").public_key(),
        endpoint: "[fd00:db8::1]:51820".parse().expect("endpoint"),
        link_address: "fe80::27c:16ff:fec0:6c74".parse().expect("address"),
    };
    let wg = format!("wgf{}", unique_suffix());
    let spec = node_spec(&wg, PrivateKey::generate().expect("key"), gateway);
    let scenario = node.thread(move || {
        let firewall = Firewall::new("/nonexistent");
        let mut dataplane = DataPlane::new(Backend::Userspace("wireguard-go".into()), firewall);
        let report = dataplane.apply(&spec).expect("apply");
        assert!(
            report
                .changes
                .contains(&format!("inserted firewall rule on {wg}")),
            "{report:?}"
        );
        let listing = sh("nft", &["list", "chain", "inet", "fw4", "input"]);
        let rule = format!("iifname \"{wg}\" udp dport 8472 accept comment \"mesh-vpn-wg\"");
        assert_eq!(listing.matches(&rule).count(), 1, "{listing}");
        assert!(
            !firewall_rule_present(&wg),
            "no ip6tables rule on a firewall4 host"
        );
        let report = dataplane.apply(&spec).expect("apply");
        assert!(report.changes.is_empty(), "already there: {report:?}");
        dataplane.teardown(&wg, "mesh-vpn").expect("teardown");
        let listing = sh("nft", &["list", "chain", "inet", "fw4", "input"]);
        assert!(!listing.contains(&rule), "{listing}");
    });
    let outcome = scenario.join();
    drop(node);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Failures name the operation, the interface and the value, never a bare errno.
#[test]
fn failures_say_what_on_which_interface() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(reason) = missing_prerequisite(&["ip"]) {
        testkit::skip(&reason);
        return;
    }
    let node = Netns::new("dperr");
    let gateway = GatewayPeer {
        public_key: PrivateKey::generate().expect("key").public_key(),
        endpoint: "[fd00:db8::1]:51820".parse().expect("endpoint"),
        link_address: "fe80::27c:16ff:fec0:6c74".parse().expect("address"),
    };
    let spec = node_spec("wg-err", PrivateKey::generate().expect("key"), gateway);
    let scenario = node.thread(move || {
        let missing = DataPlane::new(
            Backend::Userspace("/nonexistent/wireguard-go".into()),
            Firewall::new("/nonexistent"),
        )
        .apply(&spec);
        let Err(Error::Dataplane {
            operation,
            interface,
            value,
            ..
        }) = &missing
        else {
            panic!("expected a data-plane error, got {missing:?}");
        };
        assert_eq!(
            (*operation, interface.as_str()),
            ("start wireguard-go", "wg-err")
        );
        assert_eq!(value, "/nonexistent/wireguard-go");
        let message = missing.unwrap_err().to_string();
        assert!(
            message.starts_with("start wireguard-go wg-err (/nonexistent/wireguard-go): "),
            "{message}"
        );

        // This host has no kernel WireGuard module (skip the check where it has).
        if std::path::Path::new("/sys/module/wireguard").exists() {
            testkit::skip("kernel WireGuard present, its failure path is not testable here");
            return;
        }
        let kernel = DataPlane::new(Backend::Kernel, Firewall::new("/nonexistent")).apply(&spec);
        let message = kernel.expect_err("no wireguard link kind").to_string();
        assert!(
            message.starts_with("create link wg-err (kind wireguard): "),
            "{message}"
        );
    });
    let outcome = scenario.join();
    drop(node);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
