//! The daemon on a test ubusd: `mesh_vpn` registration, every method with good and bad
//! arguments, loadbalancing persisted within the site's mode, state events and notifies,
//! surviving a ubusd restart, and a clean SIGTERM.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use common::daemon::{Daemon, runtime};
use common::*;
use serde_json::{Value as Json, json};
use tokio::net::UnixStream;
use ubus_wire::connection::{read_hello, read_message, write_message};
use ubus_wire::{Attr, Data, Error, Message, MessageType, StatusCode, Table, Value};

fn disabled_node() -> Tree {
    let tree = Tree::new();
    tree.site(wireguard_site(Some("on-by-default")));
    tree.uci_wireguard(&[("enabled", "0"), ("privatekey", PRIVATE_KEY)])
        .uci_domain("example");
    tree
}

fn status_of(result: Result<Table, Error>) -> StatusCode {
    match result {
        Err(Error::Status { status, .. }) => status,
        other => panic!("expected a ubus status, got {other:?}"),
    }
}

#[test]
fn a_disabled_node_publishes_mesh_vpn_with_a_complete_status_and_no_secret() {
    let Some(daemon) = Daemon::start(disabled_node()) else {
        return;
    };
    let status = daemon.status();
    let keys = |v: &Json| {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&status),
        [
            "broker",
            "counters",
            "enabled",
            "health",
            "last_error",
            "link_local",
            "loadbalancing",
            "next_attempt_in",
            "peer",
            "public_key",
            "reason",
            "since",
            "state",
            "vni"
        ]
    );
    assert_eq!(
        keys(&status["health"]),
        ["checks", "consecutive_failures", "last_check"]
    );
    assert_eq!(
        keys(&status["broker"]),
        ["api", "last_error", "registered", "url"]
    );
    assert_eq!(
        status["broker"]["registered"], false,
        "nothing registered yet"
    );
    assert_eq!(keys(&status["counters"]), ["broker_requests", "reconnects"]);
    assert_eq!(
        keys(&status["loadbalancing"]),
        ["effective", "override", "site_mode", "user_changeable"]
    );
    assert_eq!(status["state"], "disabled");
    assert_eq!(status["enabled"], false);
    assert_eq!(status["public_key"], PUBLIC_KEY);
    assert_eq!(status["link_local"], LINK_LOCAL);
    assert_eq!(status["broker"]["url"], "broker.example.net");
    let text = status.to_string();
    assert!(
        !text.contains(PRIVATE_KEY),
        "status leaks the private key: {text}"
    );
}

#[test]
fn reconnect_is_accepted_at_once_and_bad_calls_get_the_right_status() {
    let Some(daemon) = Daemon::start(node(Some("on-by-default"), None)) else {
        return;
    };
    let start = Instant::now();
    let reply = daemon.call("reconnect", Table::new()).expect("reconnect");
    let took = start.elapsed();
    eprintln!("reconnect answered in {took:?}");
    assert_eq!(reply, Table::new().with("accepted", true));
    assert!(took < Duration::from_secs(1), "reconnect took {took:?}");

    assert_eq!(
        status_of(daemon.call("nosuch", Table::new())),
        StatusCode::MethodNotFound
    );
    let bad_arguments = [
        Table::new(),
        Table::new().with("enabled", "yes"),
        Table::new().with("enabled", 2),
        Table::new().with("enabled", Value::Null),
        Table::new().with("other", true),
    ];
    for args in bad_arguments {
        let result = daemon.call("set_loadbalancing", args.clone());
        assert_eq!(status_of(result), StatusCode::InvalidArgument, "{args:?}");
    }
}

/// (site mode, may the owner change it)
const MODES: [(Option<&str>, bool); 5] = [
    (Some("on"), false),
    (Some("off"), false),
    (None, false),
    (Some("on-by-default"), true),
    (Some("off-by-default"), true),
];

#[test]
fn set_loadbalancing_follows_the_site_mode_and_touches_only_its_own_line() {
    for (mode, changeable) in MODES {
        let tree = node(mode, None);
        let uci = tree.file("etc/config/wireguard");
        std::fs::set_permissions(&uci, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let before = tree.read("etc/config/wireguard");
        let Some(daemon) = Daemon::start(tree) else {
            return;
        };
        let result = daemon.call("set_loadbalancing", Table::new().with("enabled", false));
        let after = daemon.tree.read("etc/config/wireguard");
        if !changeable {
            assert_eq!(
                status_of(result),
                StatusCode::PermissionDenied,
                "mode {mode:?}"
            );
            assert_eq!(after, before, "mode {mode:?} must not touch the file");
            continue;
        }
        let reply = ubus_wire::json::from_table(&result.expect("set_loadbalancing"));
        assert_eq!(
            reply,
            json!({"site_mode": mode, "override": false, "effective": false, "user_changeable": true}),
        );
        assert_eq!(
            daemon.status()["loadbalancing"],
            reply,
            "status shows the new block"
        );
        let without_override = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.contains("option loadbalancing"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(without_override(&after), without_override(&before));
        assert!(after.contains("\toption loadbalancing '0'\n"), "{after}");
        let file_mode = std::fs::metadata(&uci).expect("stat").permissions().mode() & 0o777;
        assert_eq!(file_mode, 0o600, "mode {mode:?}");
    }
}

#[test]
fn enabled_takes_int8_and_int32_and_ignores_the_rpc_session() {
    let Some(daemon) = Daemon::start(node(Some("off-by-default"), None)) else {
        return;
    };
    let session = "07109d799c4dee74337a110274c446f9";
    let cases = [
        (Table::new().with("enabled", true), true),
        (Table::new().with("enabled", 0), false),
        (Table::new().with("enabled", 1), true),
        (
            Table::new()
                .with("enabled", false)
                .with("ubus_rpc_session", session),
            false,
        ),
        (
            Table::new()
                .with("enabled", true)
                .with("ubus_rpc_session", session),
            true,
        ),
    ];
    for (args, expected) in cases {
        let reply = daemon
            .call("set_loadbalancing", args.clone())
            .expect("accepted");
        assert_eq!(
            reply.get("effective"),
            Some(&Value::Bool(expected)),
            "{args:?}"
        );
        let persisted = if expected { "'1'" } else { "'0'" };
        let uci = daemon.tree.read("etc/config/wireguard");
        assert!(
            uci.contains(&format!("option loadbalancing {persisted}")),
            "{uci}"
        );
    }
}

#[test]
fn a_restarted_ubusd_sees_mesh_vpn_again_within_a_second() {
    let Some(mut daemon) = Daemon::start(node(None, None)) else {
        return;
    };
    daemon.ubusd.restart().expect("restart ubusd");
    let took = daemon.wait_registered(Duration::from_secs(3));
    eprintln!("mesh_vpn registered again {took:?} after the ubusd restart");
    let took = took.expect("mesh_vpn registered again within 3 s");
    assert!(took < Duration::from_secs(3));
    assert_eq!(daemon.status()["state"], "no_uplink");
}

#[test]
fn sigterm_ends_the_daemon_with_status_0() {
    let Some(mut daemon) = Daemon::start(node(None, None)) else {
        return;
    };
    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", daemon.log());
}

/// Sends a request on a raw connection and returns its DATA replies; the STATUS must be 0.
async fn request(stream: &mut UnixStream, message: Message) -> Vec<Message> {
    write_message(stream, &message).await.expect("send");
    let mut data = Vec::new();
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), read_message(stream));
        let reply = read
            .await
            .expect("reply in time")
            .expect("decodes")
            .expect("open");
        match (reply.kind, reply.seq == message.seq) {
            (MessageType::Status, true) => {
                assert_eq!(reply.status(), Some(0), "{message:?}");
                return data;
            }
            (MessageType::Data, true) => data.push(reply),
            _ => {}
        }
    }
}

/// An anonymous object (as event listeners and subscribers use) on a raw connection.
async fn anonymous_object(stream: &mut UnixStream, seq: u16) -> u32 {
    let message = Message::new(MessageType::AddObject, seq, 0, Vec::new());
    let data = request(stream, message).await;
    data.first().and_then(Message::obj_id).expect("object id")
}

#[test]
fn enabling_in_uci_then_sighup_is_announced_as_event_and_notify() {
    let Some(daemon) = Daemon::start(disabled_node()) else {
        return;
    };
    let rt = runtime();
    let (mut stream, listener, subscriber) = rt.block_on(async {
        let mut stream = UnixStream::connect(&daemon.socket).await.expect("connect");
        read_hello(&mut stream).await.expect("hello");
        let listener = anonymous_object(&mut stream, 1).await;
        let subscriber = anonymous_object(&mut stream, 2).await;
        let register = Table::new()
            .with("object", listener as i32)
            .with("pattern", "mesh_vpn.*");
        let attrs = vec![
            Attr::ObjId(1),
            Attr::Method("register".into()),
            Attr::Data(Data::Table(register)),
        ];
        request(&mut stream, Message::new(MessageType::Invoke, 3, 1, attrs)).await;
        let lookup = vec![Attr::ObjPath("mesh_vpn".into())];
        let found = request(&mut stream, Message::new(MessageType::Lookup, 4, 0, lookup)).await;
        let target = found
            .first()
            .and_then(Message::obj_id)
            .expect("mesh_vpn id");
        let subscribe = vec![Attr::ObjId(subscriber), Attr::Target(target)];
        request(
            &mut stream,
            Message::new(MessageType::Subscribe, 5, 0, subscribe),
        )
        .await;
        (stream, listener, subscriber)
    });
    // Let the daemon take in NOTIFY {ACTIVE 1} before the state changes.
    std::thread::sleep(Duration::from_millis(500));
    daemon
        .tree
        .uci_wireguard(&[("enabled", "1"), ("privatekey", PRIVATE_KEY)]);
    daemon.signal("HUP");

    let expected = json!({"state": "no_uplink", "previous": "disabled", "reason": "no default route on the WAN"});
    let (mut event, mut notify) = (None, None);
    rt.block_on(async {
        while event.is_none() || notify.is_none() {
            let read = tokio::time::timeout(Duration::from_secs(5), read_message(&mut stream));
            let message = read
                .await
                .expect("event and notify in time")
                .expect("ok")
                .expect("open");
            let payload = message.data_table().map(ubus_wire::json::from_table);
            match (message.kind, message.obj_id(), message.method()) {
                (MessageType::Invoke, Some(id), Some("mesh_vpn.state")) if id == listener => {
                    event = payload
                }
                (MessageType::Invoke, Some(id), Some("state")) if id == subscriber => {
                    notify = payload
                }
                _ => {}
            }
        }
    });
    assert_eq!(event, Some(expected.clone()), "event mesh_vpn.state");
    assert_eq!(notify, Some(expected), "notify state");
    assert_eq!(daemon.status()["state"], "no_uplink");
}
