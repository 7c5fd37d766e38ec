//! The daemon end to end on a real kernel: the namespace site of
//! `tests/uplink.rs` (testkit::site) with kernel WireGuard, VXLAN and
//! batman-adv on the gateways, a bat0 on the node, and the daemon picking
//! kernel WireGuard by itself. Cold start, the throughput override, the
//! loadbalancing switch through ubus on `off-by-default` and `on-by-default`
//! sites, a gateway death and failover (timed: the failover benchmark), a
//! broker down at boot, a ubusd restart. Meaningful only inside the kernel
//! lab (`scripts/kernel-lab.sh --test`); anywhere else it skips visibly.

#[path = "kernel_lab_uplink/lab.rs"]
mod lab;
#[path = "kernel_lab_uplink/netifd.rs"]
mod netifd;

use std::time::Duration;

use lab::{Lab, connected, secs, state};
use serde_json::Value;
use ubus_wire::Table;

/// Emulated CPUs are slow: generous limits, the printed times are what counts.
const CONNECT_LIMIT: Duration = Duration::from_secs(60);
const NOTICE_LIMIT: Duration = Duration::from_secs(60);

/// Connected to `gateway`, which the status names as reached through `source` over `api`.
fn assert_connected_to(lab: &Lab, status: &Value, gateway: usize, source: &str, api: &str) {
    assert!(connected(status), "{status:#}");
    assert_eq!(lab.site.gateway_of(status), Some(gateway), "{status:#}");
    assert_eq!(status["peer"]["source"], source, "{status:#}");
    assert_eq!(status["broker"]["api"], api, "{status:#}");
    assert_eq!(status["public_key"], lab.site.node_public_key);
}

/// The owner's switch through ubus; the reply is the new decision.
fn set_loadbalancing(lab: &mut Lab, enabled: bool) {
    let args = Table::new().with("enabled", enabled);
    let reply = lab
        .reader
        .call("set_loadbalancing", args)
        .unwrap_or_else(|e| panic!("set_loadbalancing: {e}"));
    assert_eq!(reply["effective"], enabled, "{reply:#}");
    assert_eq!(reply["user_changeable"], true, "{reply:#}");
}

#[test]
fn off_by_default_site_loadbalancing_failover_and_ubusd_restart() {
    // The default probe interval, so the failover figures are the shipped ones.
    let Some(mut lab) = Lab::start(|o| o.loadbalancing_by_default = true) else {
        return;
    };
    let (status, took) = lab.wait("connection", CONNECT_LIMIT, connected);
    eprintln!(
        "kernel-lab-uplink: cold start → connected {:.1} s",
        secs(took)
    );
    let first = lab.site.gateway_of(&status).expect("one of the gateways");
    assert_connected_to(&lab, &status, first, "site", "v1");
    assert_eq!(status["loadbalancing"]["site_mode"], "off-by-default");
    let link = lab.node_wireguard_link();
    assert!(
        link.contains("wireguard"),
        "kernel WireGuard on the node: {link}"
    );
    let took = lab.wait_pinned();
    eprintln!(
        "kernel-lab-uplink: mesh-vpn in bat0 → throughput override 1000 Mbit {:.1} s",
        secs(took)
    );
    let took = lab.wait_batman_neighbour();
    eprintln!(
        "kernel-lab-uplink: gateway in batctl n on mesh-vpn after {:.1} s more",
        secs(took)
    );

    // The owner turns loadbalancing on: v2, and the broker's gateway (the other one).
    let chosen = 1 - first;
    lab.site.broker_chooses(chosen);
    set_loadbalancing(&mut lab, true);
    let (status, took) = lab.wait("the broker's gateway", CONNECT_LIMIT, |s| {
        connected(s) && s["peer"]["source"] == "broker"
    });
    eprintln!(
        "kernel-lab-uplink: loadbalancing on → connected through v2 {:.1} s",
        secs(took)
    );
    assert_connected_to(&lab, &status, chosen, "broker", "v2");
    assert_eq!(status["loadbalancing"]["override"], true, "{status:#}");

    failover_benchmark(&mut lab, chosen, first);
    let took = lab.wait_pinned();
    eprintln!(
        "kernel-lab-uplink: throughput override pinned again {:.1} s after failover",
        secs(took)
    );

    // ubusd restarts: mesh_vpn is registered again, the link untouched.
    let reconnects = status_counter(&lab.status(), "reconnects");
    lab.site.ubusd().restart().expect("restart ubusd");
    let (status, took) = lab.wait("mesh_vpn after the ubusd restart", NOTICE_LIMIT, |_| true);
    eprintln!(
        "kernel-lab-uplink: ubusd restarted → mesh_vpn answers {:.1} s",
        secs(took)
    );
    assert_connected_to(&lab, &status, first, "broker", "v2");
    assert_eq!(
        status_counter(&status, "reconnects"),
        reconnects,
        "{status:#}"
    );
}

fn status_counter(status: &Value, name: &str) -> u64 {
    status["counters"][name].as_u64().unwrap_or_default()
}

/// Kills the gateway in use (its kernel WireGuard interface deleted; the
/// broker now names `survivor`, as wgkex does once a worker is gone) and
/// prints the times next to checkuplink's.
fn failover_benchmark(lab: &mut Lab, dying: usize, survivor: usize) {
    lab.site.broker_chooses(survivor);
    lab.site.gateways[dying].kill();
    let dying_key = lab.site.gateways[dying].public_key().to_string();
    let survivor_key = lab.site.gateways[survivor].public_key().to_string();
    let on = |s: &Value, key: &str| connected(s) && s["peer"]["public_key"] == key;
    let on_dying = |s: &Value| on(s, &dying_key);
    let (gone, notice) = lab.wait("notice of the dead gateway", NOTICE_LIMIT, |s| !on_dying(s));
    let (status, failover) = lab.wait("failover", CONNECT_LIMIT, |s| on(s, &survivor_key));
    assert_connected_to(lab, &status, survivor, "broker", "v2");
    if !connected(&gone) {
        eprintln!(
            "kernel-lab-uplink: seen while failing over: {}",
            state(&gone)
        );
    }
    eprintln!(
        "\n=== failover benchmark: kernel lab (kernel WireGuard, VXLAN, batman-adv; \
         the default liveness: probes after 2 s of silence, dead after 5 s) ===\n\
         gateway death → no longer connected       {:6.1} s   checkuplink: 60–100 s (cron)\n\
         no longer connected → connected elsewhere {:6.1} s   checkuplink: ≥ 15 s (fixed sleeps + NTP, HTTP, 2 checks)\n",
        secs(notice),
        secs(failover),
    );
}

#[test]
fn on_by_default_site_broker_down_at_boot_then_back() {
    let Some(mut lab) = Lab::start(|o| {
        o.loadbalancing = true;
        o.loadbalancing_by_default = true;
        o.broker_up = false;
        // A first boot: only the broker gives the gateways the key.
        o.gateways_know_key = false;
        o.v2_gateway = 1;
        o.probe_interval_secs = 2;
    }) else {
        return;
    };
    // Both site peers are tried first, each up to the 15 s handshake timeout.
    let (status, _) = lab.wait("backoff", 2 * CONNECT_LIMIT, |s| state(s) == "backoff");
    let error = status["broker"]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("8080"), "names the broker: {status:#}");
    // The last site peer tried stays in `peer`, without a handshake.
    assert!(status["peer"]["latest_handshake"].is_null(), "{status:#}");

    lab.site.broker.start().expect("broker back");
    let (status, took) = lab.wait(
        "connection once the broker is back",
        Duration::from_secs(120),
        connected,
    );
    eprintln!(
        "kernel-lab-uplink: broker back → connected {:.1} s",
        secs(took)
    );
    assert_connected_to(&lab, &status, 1, "broker", "v2");
    assert_eq!(status["loadbalancing"]["site_mode"], "on-by-default");
    lab.wait_pinned();

    // The owner turns loadbalancing off: v1 and a site peer.
    let reconnects = status_counter(&status, "reconnects");
    set_loadbalancing(&mut lab, false);
    let (status, took) = lab.wait("connection through v1", CONNECT_LIMIT, |s| {
        connected(s) && s["broker"]["api"] == "v1" && status_counter(s, "reconnects") > reconnects
    });
    eprintln!(
        "kernel-lab-uplink: loadbalancing off → connected through v1 {:.1} s",
        secs(took)
    );
    let gateway = lab.site.gateway_of(&status).expect("one of the gateways");
    assert_connected_to(&lab, &status, gateway, "site", "v1");
    assert_eq!(status["loadbalancing"]["override"], false, "{status:#}");
}
