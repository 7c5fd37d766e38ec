//! WAN detection over rtnetlink in a network namespace: only Gluon's WAN
//! routes count (IPv6 `default via` in table 1, IPv4 default in main), and
//! changes are followed as they happen. Needs root and `ip`; skips visibly otherwise.

use std::sync::mpsc;
use std::time::Duration;

use mesh_vpn_wg::dataplane::routes::{WanRoutes, follow, wan_routes};
use mesh_vpn_wg::resolve::Family;
use testkit::netns::{Netns, missing_prerequisite};

fn routes_in(ns: &Netns) -> WanRoutes {
    ns.thread(|| wan_routes().expect("route dump"))
        .join()
        .expect("thread")
}

fn setup() -> Option<Netns> {
    if let Some(reason) = missing_prerequisite(&["ip"]) {
        testkit::skip(&reason);
        return None;
    }
    let ns = Netns::new("mvwan");
    ns.ip(&[
        "link", "add", "wan0", "type", "veth", "peer", "name", "wan1",
    ]);
    ns.ip(&["link", "set", "wan0", "up"]);
    ns.ip(&["link", "set", "wan1", "up"]);
    ns.ip(&["address", "add", "192.0.2.2/24", "dev", "wan0"]);
    ns.ip(&[
        "-6",
        "address",
        "add",
        "2001:db8::2/64",
        "dev",
        "wan0",
        "nodad",
    ]);
    Some(ns)
}

#[test]
fn only_gluons_wan_routes_count() {
    let Some(ns) = setup() else { return };
    assert_eq!(routes_in(&ns), WanRoutes::default());
    // Gluon's placeholder and a mesh default in the main table are not a WAN.
    ns.ip(&[
        "-6",
        "route",
        "add",
        "unreachable",
        "default",
        "metric",
        "65535",
        "table",
        "1",
    ]);
    ns.ip(&[
        "-6",
        "route",
        "add",
        "default",
        "via",
        "2001:db8::1",
        "dev",
        "wan0",
    ]);
    assert_eq!(routes_in(&ns), WanRoutes::default());

    ns.ip(&[
        "-6", "route", "add", "default", "via", "fe80::1", "dev", "wan0", "table", "1",
    ]);
    let routes = routes_in(&ns);
    assert_eq!(
        routes,
        WanRoutes {
            ipv6: true,
            ipv4: false
        }
    );
    assert_eq!(routes.prefer(), Family::V6);

    ns.ip(&[
        "-6", "route", "del", "default", "via", "fe80::1", "dev", "wan0", "table", "1",
    ]);
    ns.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    let routes = routes_in(&ns);
    assert_eq!(
        routes,
        WanRoutes {
            ipv6: false,
            ipv4: true
        }
    );
    assert!(routes.up());
    assert_eq!(routes.prefer(), Family::V4);
}

#[test]
fn route_changes_are_followed_without_polling() {
    let Some(ns) = setup() else { return };
    let (tx, rx) = mpsc::channel();
    // The follower blocks in recv for ever; the thread dies with the test process.
    drop(ns.thread(move || follow(|routes| tx.send(routes).expect("send"))));
    let next = || {
        rx.recv_timeout(Duration::from_secs(5))
            .expect("a WAN update")
    };
    assert_eq!(next(), WanRoutes::default(), "the current state first");
    ns.ip(&["route", "add", "default", "via", "192.0.2.1"]);
    assert_eq!(
        next(),
        WanRoutes {
            ipv6: false,
            ipv4: true
        }
    );
    ns.ip(&[
        "-6", "route", "add", "default", "via", "fe80::1", "dev", "wan0", "table", "1",
    ]);
    assert_eq!(
        next(),
        WanRoutes {
            ipv6: true,
            ipv4: true
        }
    );
    ns.ip(&["link", "set", "wan0", "down"]);
    assert_eq!(
        next(),
        WanRoutes::default(),
        "a downed WAN link takes its routes"
    );
}
