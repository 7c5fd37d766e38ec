//! The data plane on a real kernel: kernel WireGuard (our generic-netlink
//! backend), VXLAN and batman-adv, toward a gateway built with ip, wg and
//! batctl. Meaningful only inside the kernel lab (`scripts/kernel-lab.sh
//! --test` boots Debian's kernel under QEMU and runs this binary there);
//! anywhere else it skips visibly.

#[path = "kernel_lab/checks.rs"]
mod checks;
#[path = "kernel_lab/gateway.rs"]
mod gateway;

use std::time::{Duration, Instant};

use checks::{
    VXLAN, assert_batman_sees, assert_inspection_matches, assert_reference_state, assert_traffic,
    attach_to_bat0, firewall_rule_present, throughput_override_mbit,
};
use gateway::{Gateway, NODE_MESH_ADDRESS, VNI};
use mesh_vpn_wg::dataplane::batman_neighbors::BatmanNeighbor;
use mesh_vpn_wg::dataplane::{
    ApplyReport, Backend, BatmanOutcome, DataPlane, Firewall, LinkSpec, processes_spawned,
};
use mesh_vpn_wg::identity::PrivateKey;
use testkit::netns::gateway::create_bat0;
use testkit::netns::{Netns, in_kernel_lab, load_modules, sh, succeeds};

const SITE_MTU: u16 = 1406;
const NODE_WG: &str = "wg-node";

fn lap(what: &str, since: &mut Instant) {
    eprintln!("kernel-lab: {what}: {:.1} s", since.elapsed().as_secs_f64());
    *since = Instant::now();
}

fn assert_changed(report: &ApplyReport, change: &str) {
    assert!(
        report.changes.iter().any(|c| c == change),
        "missing `{change}` in {report:?}"
    );
}

/// mesh-vpn enters bat0 (netifd's job); the next apply pins 1000 Mbit.
fn attach_and_pin_throughput(dataplane: &mut DataPlane, spec: &LinkSpec) {
    attach_to_bat0();
    assert_ne!(throughput_override_mbit(VXLAN), 1000.0, "not set before");
    let report = dataplane.apply(spec).expect("apply after attach");
    assert_eq!(report.batman, Some(BatmanOutcome::Set), "{report:?}");
    assert_eq!(throughput_override_mbit(VXLAN), 1000.0);
}

fn first_apply(dataplane: &mut DataPlane, spec: &LinkSpec) {
    let report = dataplane.apply(spec).expect("first apply");
    assert_changed(&report, &format!("created {NODE_WG}"));
    assert_changed(&report, "created mesh-vpn");
    assert_changed(&report, &format!("inserted firewall rule on {NODE_WG}"));
    assert_eq!(
        report.batman,
        Some(BatmanOutcome::NotAHardInterface),
        "no master yet: {report:?}"
    );
}

fn assert_steady_state_spawns_nothing(dataplane: &mut DataPlane, spec: &LinkSpec) {
    let spawned = processes_spawned();
    let report = dataplane.apply(spec).expect("steady apply");
    assert!(
        report.changes.is_empty(),
        "steady state changed: {report:?}"
    );
    assert_eq!(report.batman, None, "override already set: {report:?}");
    assert_eq!(processes_spawned(), spawned, "steady-state apply spawned");
}

/// Both interfaces deleted behind the data plane's back: rebuilt, re-pinned.
fn assert_repair(dataplane: &mut DataPlane, spec: &LinkSpec) {
    sh("ip", &["link", "del", VXLAN]);
    sh("ip", &["link", "del", NODE_WG]);
    let report = dataplane.apply(spec).expect("repair apply");
    assert_changed(&report, &format!("created {NODE_WG}"));
    assert_changed(&report, "created mesh-vpn");
    attach_and_pin_throughput(dataplane, spec);
    assert_reference_state(spec);
    assert_inspection_matches(dataplane, spec);
}

fn assert_teardown_leaves_nothing(dataplane: &mut DataPlane) {
    dataplane.teardown(NODE_WG, VXLAN).expect("teardown");
    assert!(
        !succeeds("ip", &["link", "show", NODE_WG]),
        "{NODE_WG} left"
    );
    assert!(!succeeds("ip", &["link", "show", VXLAN]), "mesh-vpn left");
    assert!(!firewall_rule_present(NODE_WG), "firewall rule left");
    let hardifs = sh("batctl", &["meshif", "bat0", "interface"]);
    assert!(!hardifs.contains(VXLAN), "bat0 still has it: {hardifs}");
}

/// The liveness sample's reader (its own genetlink socket, a walk over the
/// raw dump) sees what the full DeviceState parse sees, on a real handshake.
fn assert_counter_reader_agrees(dataplane: &mut DataPlane, spec: &LinkSpec) {
    let wg = spec.wg_interface.as_str();
    let mut peer = || {
        let device = dataplane.inspect(wg, VXLAN).expect("inspect").device;
        device.expect("device").peers.remove(0)
    };
    let mut reader = mesh_vpn_wg::dataplane::wireguard::CounterReader::kernel(wg);
    for _ in 0..10 {
        let before = peer();
        let counters = reader.read().expect("counter reader");
        let after = peer();
        // batman-adv's OGMs keep both counters moving.
        assert!(
            (before.rx_bytes..=after.rx_bytes).contains(&counters.rx_bytes)
                && (before.tx_bytes..=after.tx_bytes).contains(&counters.tx_bytes),
            "{before:?} / {counters:?} / {after:?}"
        );
        assert!(counters.last_handshake.is_some(), "{counters:?}");
        if before.last_handshake == after.last_handshake {
            assert_eq!(counters.last_handshake, after.last_handshake);
        }
    }
}

#[test]
fn kernel_wireguard_vxlan_and_batman_adv_on_a_real_kernel() {
    if !in_kernel_lab() {
        testkit::skip("runs inside the kernel lab (scripts/kernel-lab.sh --test)");
        return;
    }
    let mut clock = Instant::now();
    load_modules(&["wireguard", "vxlan", "veth", "batman-adv"]);
    lap("modules loaded", &mut clock);
    let node = Netns::new("node");
    let key = PrivateKey::generate().expect("random key");
    let gateway = Gateway::start(&node, &key.public_key());
    let (originator, gw_name) = (gateway.originator(), gateway.ns.name.clone());
    let node_name = node.name.clone();
    let spec = LinkSpec::new(NODE_WG, key, SITE_MTU, VNI, gateway.peer());
    create_bat0(&node);
    node.ip(&["link", "set", "bat0", "up"]);
    let mesh_address = format!("{NODE_MESH_ADDRESS}/64");
    node.ip(&["addr", "add", &mesh_address, "dev", "bat0", "nodad"]);
    lap("gateway built", &mut clock);

    let scenario = node.thread(move || {
        let mut dataplane = DataPlane::new(Backend::Kernel, Firewall::new("/var/run"));
        first_apply(&mut dataplane, &spec);
        assert_reference_state(&spec);
        assert_inspection_matches(&mut dataplane, &spec);
        attach_and_pin_throughput(&mut dataplane, &spec);
        lap("node applied and pinned", &mut clock);
        let handshake = assert_traffic(&mut dataplane, &spec);
        eprintln!(
            "kernel-lab: handshake after {:.1} s",
            handshake.as_secs_f64()
        );
        assert_counter_reader_agrees(&mut dataplane, &spec);
        let seen = assert_batman_sees(&originator, Duration::from_secs(30));
        eprintln!(
            "kernel-lab: gateway in batctl n/o after {:.1} s",
            seen.as_secs_f64()
        );
        // The health check's batman-adv layer reads the same neighbor over genetlink.
        let heard = dataplane.batman_neighbor(VXLAN).expect("batman neighbors");
        assert!(
            matches!(heard, BatmanNeighbor::LastSeen(Some(age)) if age < Duration::from_secs(10)),
            "health check's view of batman-adv: {heard:?}"
        );
        lap("traffic checked", &mut clock);
        assert_steady_state_spawns_nothing(&mut dataplane, &spec);
        assert_repair(&mut dataplane, &spec);
        assert_traffic(&mut dataplane, &spec);
        assert_steady_state_spawns_nothing(&mut dataplane, &spec);
        lap("repaired", &mut clock);
        assert_teardown_leaves_nothing(&mut dataplane);
    });
    let outcome = scenario.join();
    drop(gateway);
    drop(node);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    let namespaces = sh("ip", &["netns", "list"]);
    assert!(
        !namespaces.contains(&gw_name),
        "namespaces left: {namespaces}"
    );
    assert!(
        !namespaces.contains(&node_name),
        "namespaces left: {namespaces}"
    );
}
