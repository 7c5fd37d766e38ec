//! The firewall is a health layer, not a gate: the daemon connects on a host
//! with no firewall tool, with a tool that fails (and recovers), and with
//! firewall4 starting after it, and `status` shows the `firewall` check in
//! each case. The node namespace of testkit::site; needs root, wireguard-go,
//! ip6tables and nft, and skips visibly otherwise.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use testkit::netns::{missing_prerequisite, sh};
use testkit::site::{Site, SiteOptions, StatusReader, missing_tools};

const BIN: &str = env!("CARGO_BIN_EXE_mesh-vpn-wg");
const LIMIT: Duration = Duration::from_secs(45);

static SERIAL: Mutex<()> = Mutex::new(());

/// The site; `before_daemon` prepares the node's files before the daemon starts.
fn site(
    options: impl FnOnce(&mut SiteOptions),
    before_daemon: impl FnOnce(&Site),
) -> Option<(Site, StatusReader)> {
    if let Some(reason) = missing_tools().or_else(|| missing_prerequisite(&["ip6tables", "nft"])) {
        testkit::skip(&reason);
        return None;
    }
    let mut opts = SiteOptions::new(BIN);
    options(&mut opts);
    let mut site = Site::start(opts).unwrap_or_else(|e| panic!("site: {e}"));
    before_daemon(&site);
    site.start_daemon()
        .unwrap_or_else(|e| panic!("daemon: {e}"));
    let reader = site.reader().unwrap_or_else(|e| panic!("ubus: {e}"));
    Some((site, reader))
}

fn wait(
    reader: &mut StatusReader,
    site: &Site,
    what: &str,
    done: impl FnMut(&Value) -> bool,
) -> Value {
    reader
        .wait_for(what, LIMIT, done)
        .unwrap_or_else(|e| panic!("{e}\ndaemon log:\n{}", site.daemon_log()))
        .0
}

fn connected_with_firewall(s: &Value, ok: bool) -> bool {
    s["state"] == "connected" && s["health"]["checks"]["firewall"]["ok"] == ok
}

fn firewall_detail(status: &Value) -> String {
    let detail = &status["health"]["checks"]["firewall"]["detail"];
    detail.as_str().unwrap_or_default().to_string()
}

/// A directory for the daemon's PATH holding only wireguard-go (and what the test adds).
fn bin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("bin dir");
    let wireguard_go = which("wireguard-go");
    symlink(&wireguard_go, dir.path().join("wireguard-go")).expect("symlink wireguard-go");
    dir
}

fn which(tool: &str) -> PathBuf {
    PathBuf::from(sh("sh", &["-c", &format!("command -v {tool}")]).trim())
}

fn ip6tables_rule_in(site: &Site) -> bool {
    let args = [
        "-w",
        "-C",
        "INPUT",
        "-i",
        &site.iface,
        "-p",
        "udp",
        "-m",
        "udp",
        "--dport",
        "8472",
        "-j",
        "ACCEPT",
    ];
    site.node.exec("ip6tables", &args).status.success()
}

#[test]
fn no_firewall_tool_connects_and_says_there_is_nothing_to_open() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bin = bin_dir();
    let Some((site, mut reader)) = site(|o| o.daemon_path = Some(bin.path().into()), |_| {}) else {
        return;
    };
    let status = wait(&mut reader, &site, "connected, firewall ok", |s| {
        connected_with_firewall(s, true)
    });
    let detail = firewall_detail(&status);
    assert!(detail.contains("nothing to open"), "{status:#}");
    let log = site.daemon_log();
    assert_eq!(
        log.matches("nothing to open").count(),
        1,
        "said once:\n{log}"
    );
}

#[test]
fn a_failing_tool_is_reported_and_the_rule_follows_once_it_works() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bin = bin_dir();
    let broken = bin.path().join("broken");
    std::fs::write(&broken, "").expect("flag");
    let fake = bin.path().join("ip6tables");
    let script = format!(
        "#!/bin/sh\nif [ -e {flag} ]; then\n  echo 'iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument' >&2\n  exit 4\nfi\nexec {real} \"$@\"\n",
        flag = broken.display(),
        real = which("ip6tables").display()
    );
    std::fs::write(&fake, script).expect("fake ip6tables");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let Some((site, mut reader)) = site(|o| o.daemon_path = Some(bin.path().into()), |_| {}) else {
        return;
    };
    let status = wait(&mut reader, &site, "connected, firewall failing", |s| {
        connected_with_firewall(s, false)
    });
    let detail = firewall_detail(&status);
    assert!(detail.contains("ip6tables"), "names the tool: {status:#}");
    assert!(
        detail.contains("Could not fetch rule set"),
        "quotes it: {status:#}"
    );
    assert!(!ip6tables_rule_in(&site));
    let log = site.daemon_log();
    assert!(
        log.contains("Could not fetch rule set"),
        "in the log:\n{log}"
    );

    std::fs::remove_file(&broken).expect("tool works again");
    let status = wait(&mut reader, &site, "firewall recovered", |s| {
        connected_with_firewall(s, true)
    });
    assert!(
        firewall_detail(&status).contains("ip6tables rule"),
        "{status:#}"
    );
    assert!(
        ip6tables_rule_in(&site),
        "rule inserted once the tool works"
    );
    assert_eq!(
        status["counters"]["reconnects"], 0,
        "never torn down: {status:#}"
    );
}

#[test]
fn firewall4_starting_after_the_daemon_ends_with_the_nft_rule() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The daemon starts while fw4 restarts: its state file is there, its table not yet.
    let fw4_state = |site: &Site| site.root().join("var/run/fw4.state");
    let starting = |site: &Site| {
        let state = fw4_state(site);
        std::fs::create_dir_all(state.parent().expect("var/run")).expect("var/run");
        std::fs::write(state, "starting").expect("fw4.state");
    };
    let Some((site, mut reader)) = site(|_| {}, starting) else {
        return;
    };
    let status = wait(&mut reader, &site, "connected, firewall failing", |s| {
        connected_with_firewall(s, false)
    });
    assert!(firewall_detail(&status).contains("nft"), "{status:#}");

    let chain =
        "add chain inet fw4 input { type filter hook input priority filter; policy accept; }";
    assert!(
        site.node
            .exec("nft", &["add table inet fw4"])
            .status
            .success()
    );
    assert!(site.node.exec("nft", &[chain]).status.success());
    std::fs::write(fw4_state(&site), "started").expect("fw4.state");
    let status = wait(&mut reader, &site, "nft rule in place", |s| {
        connected_with_firewall(s, true)
    });
    assert!(firewall_detail(&status).contains("nft rule"), "{status:#}");
    let listing = site
        .node
        .exec("nft", &["list", "chain", "inet", "fw4", "input"]);
    let listing = String::from_utf8_lossy(&listing.stdout);
    let rule = format!(
        "iifname \"{}\" udp dport 8472 accept comment \"mesh-vpn-wg\"",
        site.iface
    );
    assert_eq!(listing.matches(&rule).count(), 1, "{listing}");
    assert!(
        !ip6tables_rule_in(&site),
        "no ip6tables rule on a firewall4 host"
    );
    let log = site.daemon_log();
    assert!(!log.contains("ip6tables"), "no ip6tables attempt:\n{log}");
}
