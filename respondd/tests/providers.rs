//! The built module, loaded with dlopen and called the way respondd calls it.

mod common;

use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use common::node::{Daemon, PRIVATE_KEY, PUBLIC_KEY, write_tree};
use common::{Module, daemon_binary, daemon_version, status_page_peers, with_node, with_socket};
use respondd_mesh_vpn_wg::shape::VERSION;
use serde_json::{Value as Json, json};
use testkit::ubusd::TestUbusd;

#[test]
fn the_module_exports_nodeinfo_and_statistics() {
    let module = Module::load();
    assert_eq!(module.requests(), ["nodeinfo", "statistics"]);
}

#[test]
fn without_a_socket_both_providers_return_empty_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let module = Module::load();
    with_socket(&dir.path().join("absent.sock"), || {
        assert_eq!(module.call("nodeinfo"), json!({}));
        assert_eq!(module.call("statistics"), json!({}));
    });
}

#[test]
fn a_ubusd_without_the_daemon_gives_empty_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("ubus.sock");
    let _ubusd = TestUbusd::start(&socket).expect("test ubusd");
    let module = Module::load();
    with_socket(&socket, || {
        assert_eq!(module.call("nodeinfo"), json!({}));
        assert_eq!(module.call("statistics"), json!({}));
    });
}

/// What an enabled node with its gateway reports from UCI alone.
fn from_uci() -> (Json, Json) {
    let nodeinfo = json!({"software": {"wireguard": {
        "version": VERSION, "enabled": true, "public_key": PUBLIC_KEY,
    }}});
    let statistics = json!({"mesh_vpn": {"groups": {"backbone": {"peers": {"peer_1": null}}}}});
    (nodeinfo, statistics)
}

#[test]
fn without_the_daemon_uci_keeps_the_node_on_the_map() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), true);
    let socket = dir.path().join("ubus.sock");
    let _ubusd = TestUbusd::start(&socket).expect("test ubusd");
    let module = Module::load();
    let replies = with_node(&socket, dir.path(), || {
        (module.call("nodeinfo"), module.call("statistics"))
    });
    assert_eq!(replies, from_uci());
    let text = format!("{replies:?}");
    assert!(
        !text.contains(PRIVATE_KEY),
        "the private key leaked: {text}"
    );

    // A disabled node: no key, no mesh_vpn, as with the daemon.
    write_tree(dir.path(), false);
    let (nodeinfo, statistics) = with_node(&socket, dir.path(), || {
        (module.call("nodeinfo"), module.call("statistics"))
    });
    assert_eq!(
        nodeinfo,
        json!({"software": {"wireguard": {"version": VERSION, "enabled": false}}})
    );
    assert_eq!(statistics, json!({}));
}

#[test]
fn a_frozen_daemon_costs_one_short_bound_per_query_and_uci_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), true);
    let socket = dir.path().join("mute.sock");
    // Accepts connections (the backlog does) but never says HELLO.
    let _listener = UnixListener::bind(&socket).expect("bind");
    let module = Module::load();
    let (replies, first, second) = with_node(&socket, dir.path(), || {
        let start = Instant::now();
        let nodeinfo = module.call("nodeinfo");
        let first = start.elapsed();
        let start = Instant::now();
        let statistics = module.call("statistics");
        ((nodeinfo, statistics), first, start.elapsed())
    });
    assert_eq!(replies, from_uci());
    assert!(
        first >= Duration::from_millis(40),
        "gave up early: {first:?}"
    );
    assert!(
        first < Duration::from_millis(150),
        "blocked respondd for {first:?}"
    );
    // yanic's next part of the same query does not wait again.
    assert!(
        second < Duration::from_millis(20),
        "waited again: {second:?}"
    );
}

#[test]
fn a_live_enabled_daemon_gives_the_documented_shapes() {
    let Some((binary, dir, daemon)) = start_daemon(true) else {
        return;
    };
    let module = Module::load();
    let (nodeinfo, statistics) = with_node(&daemon.socket, dir.path(), || {
        daemon.wait_until("the daemon's reply", || daemon_answers(&daemon));
        (module.call("nodeinfo"), module.call("statistics"))
    });
    let expected = json!({"software": {"wireguard": {
        "version": daemon_version(&binary),
        "enabled": true,
        "public_key": PUBLIC_KEY,
    }}});
    assert_eq!(nodeinfo, expected);
    // Its own netns has no uplink, so no gateway is chosen: the site's gateway, not
    // connected (it was an empty group, an empty box on the status page).
    assert_eq!(
        statistics,
        json!({"mesh_vpn": {"groups": {"backbone": {"peers": {"peer_1": null}}}}})
    );
    drop(dir);
}

#[test]
fn a_live_disabled_daemon_reports_neither_its_key_nor_mesh_vpn() {
    let Some((_binary, dir, daemon)) = start_daemon(false) else {
        return;
    };
    let module = Module::load();
    let (nodeinfo, statistics) = with_node(&daemon.socket, dir.path(), || {
        daemon.wait_until("the daemon's reply", || daemon_answers(&daemon));
        (module.call("nodeinfo"), module.call("statistics"))
    });
    let wireguard = &nodeinfo["software"]["wireguard"];
    assert_eq!(wireguard["enabled"], false, "{nodeinfo}");
    assert!(wireguard.get("public_key").is_none(), "{nodeinfo}");
    // No mesh_vpn at all: the status page hides its box, as for a node without fastd.
    assert_eq!(statistics, json!({}));
}

#[test]
fn a_connected_gateway_is_established_once_for_yanic_and_the_status_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("ubus.sock");
    let _ubusd = TestUbusd::start(&socket).expect("test ubusd");
    // The daemon's reply while connected (src/daemon/status.rs), served by a stand-in:
    // a live daemon cannot reach a gateway from its empty network namespace.
    let status = json!({
        "state": "connected", "since": 754, "reason": "handshake", "enabled": true,
        "public_key": PUBLIC_KEY, "vni": 4711,
        "peer": {"source": "broker", "name": "gw04", "public_key": "k", "endpoint": "[2001:db8::4]:40000",
                 "link_address": "fe80::1", "latest_handshake": 12, "rx_bytes": 1, "tx_bytes": 2},
    });
    let _object = stand_in::serve(&socket, status);
    let module = Module::load();
    let statistics = with_socket(&socket, || module.call("statistics"));
    let established = &statistics["mesh_vpn"]["groups"]["backbone"]["peers"]["gw04"]["established"];
    assert_eq!(established.as_f64(), Some(754.0), "{statistics}");
    assert_eq!(
        status_page_peers(&statistics["mesh_vpn"]),
        [("gw04".to_owned(), json!({"established": 754}))]
    );
}

/// The daemon's own answer (the module would fall back to UCI without it).
fn daemon_answers(daemon: &Daemon) -> bool {
    respondd_mesh_vpn_wg::ubus::mesh_vpn_status(&daemon.socket, Duration::from_secs(1)).is_ok()
}

fn start_daemon(enabled: bool) -> Option<(std::path::PathBuf, tempfile::TempDir, Daemon)> {
    if !common::can_isolate() {
        testkit::skip("the live daemon needs root for its own network namespace");
        return None;
    }
    let binary = daemon_binary()?;
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), enabled);
    let daemon = Daemon::start(&binary, dir.path());
    Some((binary, dir, daemon))
}

/// A `mesh_vpn` object with a fixed `status` reply, on its own thread and runtime.
mod stand_in {
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::mpsc;

    use serde_json::Value as Json;
    use ubus_wire::{Bus, MethodSpec, ObjectSpec, Request, StatusCode};

    pub struct Served {
        _stop: mpsc::Sender<()>,
    }

    pub fn serve(socket: &Path, status: Json) -> Served {
        let table = ubus_wire::json::to_table(&status).expect("status as blobmsg");
        let socket = socket.to_path_buf();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let bus = Bus::connect(&socket).await.expect("connect");
                let spec = ObjectSpec::new("mesh_vpn").method(MethodSpec::new("status"));
                let handler: Arc<dyn ubus_wire::Handler> =
                    Arc::new(move |req: &Request<'_>| match req.method {
                        "status" => Ok(Some(table.clone().into())),
                        _ => Err(StatusCode::MethodNotFound),
                    });
                bus.add_object(spec, handler).await.expect("add object");
                ready_tx.send(()).expect("signal ready");
                // Serve until the test drops its handle.
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
            });
        });
        ready_rx.recv().expect("stand-in ready");
        Served { _stop: stop_tx }
    }
}

#[test]
fn status_page_walk_sees_top_level_and_grouped_peers() {
    // The helper must be able to fail: a top-level copy would be listed twice.
    let both = json!({"peers": {"a": null}, "groups": {"g": {"peers": {"a": null}}}});
    assert_eq!(status_page_peers(&both).len(), 2);
    assert_eq!(status_page_peers(&Json::Null).len(), 0);
}
