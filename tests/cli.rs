//! `status`, `status --json`, `reconnect` and `loadbalancing on|off` through the test ubusd
//! against a running daemon, with the exit codes and messages people see.

mod common;

use std::path::Path;
use std::process::Command;

use common::daemon::{BIN, Daemon};
use common::*;
use testkit::ubusd::TestUbusd;

/// Runs the CLI with `--root` and `--ubus-socket`; returns (exit code, stdout, stderr).
fn cli(root: &Path, socket: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--root")
        .arg(root)
        .arg("--ubus-socket")
        .arg(socket)
        .args(args)
        .output()
        .expect("run mesh-vpn-wg");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

fn run(daemon: &Daemon, args: &[&str]) -> (i32, String, String) {
    cli(daemon.tree.path(), &daemon.socket, args)
}

#[test]
fn status_as_text_and_json() {
    let daemon = Daemon::start(node(Some("off-by-default"), None));
    let (code, stdout, stderr) = run(&daemon, &["status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("state           idle for "), "{stdout}");
    assert!(
        stdout.contains(&format!("public key      {PUBLIC_KEY}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("link-local      {LINK_LOCAL}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "loadbalancing   off (site mode off-by-default, override -, owner may change it)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("gateway         none\n"), "{stdout}");
    assert!(!stdout.contains(PRIVATE_KEY));

    let (code, stdout, stderr) = run(&daemon, &["status", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(status["state"], "idle");
    assert_eq!(status["public_key"], PUBLIC_KEY);
    assert_eq!(status["loadbalancing"]["site_mode"], "off-by-default");
}

#[test]
fn reconnect_and_loadbalancing_when_the_site_allows_it() {
    let daemon = Daemon::start(node(Some("off-by-default"), None));
    let (code, stdout, stderr) = run(&daemon, &["reconnect"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "reconnect requested\n"),
        "{stderr}"
    );

    for (arg, effective, persisted) in [("on", "on", "'1'"), ("off", "off", "'0'")] {
        let (code, stdout, stderr) = run(&daemon, &["loadbalancing", arg]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, format!("loadbalancing is now {effective}\n"));
        let uci = daemon.tree.read("etc/config/wireguard");
        assert!(
            uci.contains(&format!("option loadbalancing {persisted}")),
            "{uci}"
        );
    }
}

#[test]
fn loadbalancing_fixed_by_the_site_is_refused_with_exit_code_4() {
    let daemon = Daemon::start(node(Some("on"), None));
    let before = daemon.tree.read("etc/config/wireguard");
    let (code, stdout, stderr) = run(&daemon, &["loadbalancing", "off"]);
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stderr.contains("the site fixes loadbalancing"), "{stderr}");
    assert_eq!(daemon.tree.read("etc/config/wireguard"), before);
}

#[test]
fn no_ubusd_or_no_daemon_is_exit_code_3_with_a_hint() {
    let tree = node(None, None);
    let socket = tree.path().join("ubus.sock");
    let (code, _, stderr) = cli(tree.path(), &socket, &["status"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("is ubusd running?"), "{stderr}");

    let _ubusd = TestUbusd::start(&socket).expect("start ubusd");
    for args in [&["status"][..], &["reconnect"], &["loadbalancing", "on"]] {
        let (code, _, stderr) = cli(tree.path(), &socket, args);
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert!(
            stderr.contains("is the mesh-vpn-wg daemon running?"),
            "{stderr}"
        );
    }
}

#[test]
fn a_bad_command_line_is_exit_code_2() {
    let tree = node(None, None);
    let socket = tree.path().join("ubus.sock");
    for args in [
        &["loadbalancing", "maybe"][..],
        &["loadbalancing"],
        &["reconnect", "now"],
    ] {
        let (code, _, stderr) = cli(tree.path(), &socket, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("usage: mesh-vpn-wg"), "{stderr}");
    }
}
