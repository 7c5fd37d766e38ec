//! The test ubusd answers every recorded client request the way the real ubusd did
//! (`shared/ubus-fixtures`, structure compared with ids normalised), and our daemon registers
//! `mesh_vpn` the way the recorded libubus server did.

mod common;
#[path = "ubusd_conformance/ids.rs"]
mod ids;
#[path = "ubusd_conformance/replay.rs"]
mod replay;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value as Json;
use testkit::ubusd::TestUbusd;
use ubus_wire::{Attr, Message, MessageType};

/// Scenarios that need parts of ubusd the stand-in does not have.
const NOT_COVERED: [(&str, &str); 1] = [("m_monitor", "monitoring (object 3) is not implemented")];

fn fixture_dir() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("ubus-wire/tests/fixtures"),
        root.join("../shared/ubus-fixtures"),
    ]
    .into_iter()
    .find(|dir| dir.join("b_add_object.json").is_file())
}

fn load(dir: &std::path::Path, name: &str) -> Json {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("read fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The recorded libubus ADD_OBJECT of mesh_vpn (b_add_object message 1).
fn recorded_registration(dir: &std::path::Path) -> Message {
    let b = load(dir, "b_add_object");
    replay::decode(b["messages"][1]["hex"].as_str().expect("hex"))
}

#[tokio::test]
async fn every_recorded_scenario_gets_the_answers_the_real_ubusd_gave() {
    let Some(dir) = fixture_dir() else {
        eprintln!("SKIP: ubus fixtures not found (shared/ubus-fixtures)");
        return;
    };
    let registration = recorded_registration(&dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(
        names.len() >= 25,
        "expected the 25 recorded scenarios, found {}",
        names.len()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut replayed = 0;
    for name in &names {
        if let Some((_, why)) = NOT_COVERED.iter().find(|(n, _)| n == name) {
            eprintln!("SKIP: {name}: {why}");
            continue;
        }
        let fixture = load(&dir, name);
        let mut ubusd = TestUbusd::start(tmp.path().join("ubus.sock")).expect("start ubusd");
        let compared = replay::Replay::new(name, &fixture, &mut ubusd)
            .run(&registration)
            .await;
        assert!(compared > 0, "{name}: nothing compared");
        eprintln!("{name}: {compared} ubusd messages match");
        replayed += 1;
        ubusd.stop();
    }
    assert_eq!(replayed, names.len() - NOT_COVERED.len());
}

/// Accepts one connection as ubusd would, sends HELLO and returns the first request.
fn first_request_of_daemon(socket: &std::path::Path, daemon: &mut Child) -> Message {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::os::unix::net::UnixListener::bind(socket).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let request = runtime.block_on(async {
        let listener = tokio::net::UnixListener::from_std(listener).expect("listener");
        let accept = tokio::time::timeout(Duration::from_secs(10), listener.accept());
        let (mut stream, _) = accept.await.expect("daemon connects").expect("accept");
        let hello = Message::new(MessageType::Hello, 0, 0x1234_5678, Vec::new());
        ubus_wire::connection::write_message(&mut stream, &hello)
            .await
            .expect("hello");
        let read = ubus_wire::connection::read_message(&mut stream);
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("in time")
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    request.expect("decodes").expect("a request")
}

#[test]
fn the_daemon_registers_mesh_vpn_like_the_recorded_libubus_server() {
    let Some(dir) = fixture_dir() else {
        eprintln!("SKIP: ubus fixtures not found (shared/ubus-fixtures)");
        return;
    };
    let tree = common::node(Some("on-by-default"), None);
    let socket = tree.path().join("ubus.sock");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_mesh-vpn-wg"))
        .arg("--root")
        .arg(tree.path())
        .args(["daemon", "--foreground", "--ubus-socket"])
        .arg(&socket)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn daemon");
    let ours = first_request_of_daemon(&socket, &mut daemon);
    let mut recorded = recorded_registration(&dir);
    // The recording's server had two test methods (slow, poke) that mesh_vpn does not have.
    for attr in &mut recorded.attrs {
        if let Attr::Signature(methods) = attr {
            methods
                .0
                .retain(|(name, _)| name != "slow" && name != "poke");
        }
    }
    recorded.seq = ours.seq;
    assert_eq!(ours, recorded, "ADD_OBJECT differs from libubus'");
    assert_eq!(
        ours.encode().expect("encode"),
        recorded.encode().expect("encode")
    );
}
