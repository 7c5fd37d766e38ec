//! The daemon end to end against a small site in network namespaces
//! (testkit::site): two wgkex-style gateways on wireguard-go, the test broker,
//! the test ubusd. Cold start, gateway death and failover, `reconnect`, a
//! broker that is down at boot, and the broker's v2 choice. Needs root and
//! wireguard-go; skips visibly otherwise. Times are printed (run with
//! `--nocapture`); limits are generous for a loaded two-core machine.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use testkit::site::{Site, SiteOptions, StatusReader, missing_tools};
use ubus_wire::Table;

const BIN: &str = env!("CARGO_BIN_EXE_mesh-vpn-wg");
/// Cold start to `connected`: one broker round trip, link setup, handshake.
const CONNECT_LIMIT: Duration = Duration::from_secs(45);
/// Daemon restart while the broker is down → `connected` to the last
/// gateway (issue 15's goal; measured 0.1 s here).
const WITHOUT_BROKER_LIMIT: Duration = Duration::from_secs(5);
/// 5 s of silence with 3 probes unanswered: 4-6 s nominal.
const NOTICE_LIMIT: Duration = Duration::from_secs(45);

/// One site at a time: the timings mean something and the CPU is shared.
static SERIAL: Mutex<()> = Mutex::new(());

fn site(options: impl FnOnce(&mut SiteOptions)) -> Option<(Site, StatusReader)> {
    if let Some(reason) = missing_tools() {
        testkit::skip(&reason);
        return None;
    }
    let mut opts = SiteOptions::new(BIN);
    options(&mut opts);
    let mut site = Site::start(opts).unwrap_or_else(|e| panic!("site: {e}"));
    site.start_daemon()
        .unwrap_or_else(|e| panic!("daemon: {e}"));
    let reader = site.reader().unwrap_or_else(|e| panic!("ubus: {e}"));
    Some((site, reader))
}

fn state(status: &Value) -> &str {
    status["state"].as_str().unwrap_or_default()
}

fn connected(status: &Value) -> bool {
    state(status) == "connected"
}

/// Waits, or fails the test with the daemon's log.
fn wait(
    reader: &mut StatusReader,
    site: &Site,
    what: &str,
    limit: Duration,
    done: impl FnMut(&Value) -> bool,
) -> (Value, Duration) {
    reader
        .wait_for(what, limit, done)
        .unwrap_or_else(|e| panic!("{e}\ndaemon log:\n{}", site.daemon_log()))
}

/// Connected means: a peer of ours, reached through the broker's answer or the site's list.
fn assert_connected_to(site: &Site, status: &Value, gateway: usize) {
    let peer = &status["peer"];
    let expected = &site.gateways[gateway];
    assert_eq!(peer["public_key"], expected.public_key(), "{status:#}");
    assert_eq!(peer["link_address"], expected.link_address().to_string());
    assert_eq!(
        peer["endpoint"],
        format!("[{}]:51820", expected.underlay()),
        "{status:#}"
    );
    assert!(
        status["counters"]["broker_requests"].as_u64() >= Some(1),
        "{status:#}"
    );
    assert_eq!(status["public_key"], site.node_public_key);
}

/// The first health check after connecting: the handshake and traffic
/// layers pass, an HTTP probe was answered through the tunnel (this site has
/// no batman-adv, so the tunnel is quiet and gets probed), and the peer's
/// handshake and counters are filled in.
fn passing_check(reader: &mut StatusReader, site: &Site) -> Value {
    let (status, _) = wait(reader, site, "a passing health check", CONNECT_LIMIT, |s| {
        let checks = &s["health"]["checks"];
        connected(s)
            && checks["handshake"]["ok"] == true
            && checks["traffic"]["ok"] == true
            && checks["http"]["ok"] == true
    });
    let peer = &status["peer"];
    assert!(peer["latest_handshake"].as_u64() < Some(180), "{status:#}");
    assert!(peer["rx_bytes"].as_u64() > Some(0), "{status:#}");
    assert!(peer["tx_bytes"].as_u64() > Some(0), "{status:#}");
    status
}

#[test]
fn cold_start_failover_and_reconnect() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((mut site, mut reader)) = site(|_| {}) else {
        return;
    };

    let (status, took) = wait(&mut reader, &site, "connection", CONNECT_LIMIT, connected);
    eprintln!("cold start to connected: {:.1} s", took.as_secs_f64());
    let first = site
        .gateway_of(&status)
        .expect("peer is one of the site's gateways");
    assert_connected_to(&site, &status, first);
    assert_eq!(status["peer"]["source"], "site", "v1: a site peer");
    assert_eq!(status["broker"]["api"], "v1");
    assert_eq!(site.broker.request_paths(), ["/api/v1/wg/key/exchange"]);
    // The clock step before the key exchange: the router's SNTP server was
    // asked, unless the kernel already reported a synchronised clock.
    assert_eq!(status["health"]["checks"]["time"]["ok"], true, "{status:#}");
    eprintln!("SNTP requests answered: {}", site.sntp.answered());

    // A health check passes through the tunnel (HTTP to the gateway's link address).
    let status = passing_check(&mut reader, &site);
    assert_eq!(status["health"]["consecutive_failures"], 0);
    let reconnects_before = status["counters"]["reconnects"].as_u64().unwrap_or(0);

    site.gateways[first].kill();
    let on_first = |s: &Value| connected(s) && site.gateway_of(s) == Some(first);
    let (status, notice) = wait(
        &mut reader,
        &site,
        "notice of the dead gateway",
        NOTICE_LIMIT,
        |s| !on_first(s),
    );
    let other = 1 - first;
    let (status_after, failover) = wait(&mut reader, &site, "failover", CONNECT_LIMIT, |s| {
        connected(s) && site.gateway_of(s) == Some(other)
    });
    eprintln!(
        "gateway killed → no longer connected to it {:.1} s → \
         connected to the other gateway {:.1} s later",
        notice.as_secs_f64(),
        failover.as_secs_f64()
    );
    // The short window between the two gateways may fall between two polls.
    if !connected(&status) {
        let error = status["last_error"].as_str().unwrap_or_default();
        assert!(error.contains("is gone"), "{status:#}");
    }
    assert_connected_to(&site, &status_after, other);
    passing_check(&mut reader, &site);
    assert_death_in_the_log(&site.daemon_log());
    let reconnects = status_after["counters"]["reconnects"].as_u64().unwrap_or(0);
    assert!(reconnects > reconnects_before, "{status_after:#}");

    // `reconnect` through ubus: a fresh cycle, back to connected on the live gateway.
    site.call("reconnect", Table::new()).expect("reconnect");
    let (status, took) = wait(
        &mut reader,
        &site,
        "connected after reconnect",
        CONNECT_LIMIT,
        |s| connected(s) && s["counters"]["reconnects"].as_u64() > Some(reconnects),
    );
    eprintln!("reconnect → connected: {:.1} s", took.as_secs_f64());
    assert_connected_to(&site, &status, other);
}

/// What an admin reads in `logread` after the gateway died: why `connected`
/// was left (how long it was silent, the probes and the HTTP probe's
/// error), and the way back.
fn assert_death_in_the_log(log: &str) {
    let lines: Vec<&str> = log.lines().collect();
    let position = |wanted: &dyn Fn(&str) -> bool, what: &str, after: usize| {
        let found = lines[after..].iter().position(|l| wanted(l));
        after + found.unwrap_or_else(|| panic!("no {what} after line {after} in the log:\n{log}"))
    };
    let leave = position(
        &|l| {
            l.starts_with("warn: leaving connected to ")
                && l.contains(": silent ")
                && l.contains(" probes to fe80::")
                && l.contains(" unanswered")
        },
        "reason for leaving",
        0,
    );
    position(
        &|l| l.starts_with("info: connected: handshake with"),
        "reconnection",
        leave,
    );
    for line in &lines {
        assert!(line.len() < 300, "a long line: {line}");
    }
}

/// A first boot while the broker is down: no gateway knows the key, so no
/// gateway handshakes without the broker (each site peer is tried once).
#[test]
fn broker_down_at_boot_then_back() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((mut site, mut reader)) = site(|o| {
        o.broker_up = false;
        o.gateways_know_key = false;
    }) else {
        return;
    };

    // Both site peers first, each up to the 15 s handshake timeout.
    let (status, _) = wait(&mut reader, &site, "backoff", 2 * CONNECT_LIMIT, |s| {
        state(s) == "backoff"
    });
    assert_eq!(status["broker"]["registered"], false, "{status:#}");
    let error = status["broker"]["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("8080"),
        "broker error names the broker: {status:#}"
    );
    assert!(status["next_attempt_in"].is_u64(), "{status:#}");
    // The last site peer tried stays in `peer`, without a handshake.
    assert!(status["peer"]["latest_handshake"].is_null(), "{status:#}");
    let last_error = status["last_error"].as_str().unwrap_or_default();
    assert!(last_error.contains("no handshake within"), "{status:#}");

    site.broker.start().expect("broker back");
    // Backoff starts at 5 s and doubles (full jitter): a few attempts may have passed.
    let (status, took) = wait(
        &mut reader,
        &site,
        "connection once the broker is back",
        Duration::from_secs(90),
        connected,
    );
    eprintln!("broker back → connected: {:.1} s", took.as_secs_f64());
    let gateway = site
        .gateway_of(&status)
        .expect("one of the site's gateways");
    assert_connected_to(&site, &status, gateway);
    assert!(
        status["counters"]["broker_requests"].as_u64() >= Some(2),
        "{status:#}"
    );
    assert_eq!(status["broker"]["registered"], true, "{status:#}");
}

/// A daemon restart while the broker is down: the gateway of the previous
/// run still knows the key (as wgkex workers keep it for 3 h), so the node
/// goes straight back to it, and registers the key in the background once
/// the broker is back, without leaving `connected`. The registration window
/// is 10 s here instead of the default hour (`engine::registration`).
#[test]
fn restart_without_the_broker_goes_back_to_the_last_gateway() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((mut site, mut reader)) = site(|o| o.registration_window_secs = Some(10)) else {
        return;
    };
    let (status, _) = wait(&mut reader, &site, "connection", CONNECT_LIMIT, connected);
    let last = site
        .gateway_of(&status)
        .expect("one of the site's gateways");
    assert_eq!(status["broker"]["registered"], true, "{status:#}");
    let remembered = site.root().join("var/run/mesh-vpn-wg.gateway");
    let text = std::fs::read_to_string(&remembered).expect("the last gateway is remembered");
    assert!(text.contains(site.gateways[last].public_key()), "{text}");

    site.broker.stop();
    site.stop_daemon();
    let restarted = std::time::Instant::now();
    site.start_daemon().expect("daemon restarted");
    let (status, _) = wait(
        &mut reader,
        &site,
        "connection without the broker",
        WITHOUT_BROKER_LIMIT,
        connected,
    );
    let took = restarted.elapsed();
    eprintln!(
        "restart without the broker → connected: {:.1} s",
        took.as_secs_f64()
    );
    assert_connected_to(&site, &status, last);
    assert_eq!(status["broker"]["registered"], false, "{status:#}");
    let error = status["broker"]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("8080"), "names the broker: {status:#}");
    assert!(
        site.daemon_log().contains("trying the last gateway"),
        "{}",
        site.daemon_log()
    );
    passing_check(&mut reader, &site);

    site.broker.start().expect("broker back");
    let mut left_connected = None;
    let (status, took) = wait(
        &mut reader,
        &site,
        "registration",
        Duration::from_secs(90),
        |s| {
            if !connected(s) {
                left_connected.get_or_insert_with(|| s.clone());
            }
            s["broker"]["registered"] == true
        },
    );
    eprintln!("broker back → key registered: {:.1} s", took.as_secs_f64());
    assert_eq!(left_connected, None, "left connected while registering");
    assert_connected_to(&site, &status, last);
    assert_eq!(status["counters"]["reconnects"], 0, "{status:#}");
    assert_eq!(status["broker"]["last_error"], Value::Null, "{status:#}");
    assert_eq!(site.broker.request_paths(), ["/api/v1/wg/key/exchange"]);
}

#[test]
fn loadbalancing_takes_the_brokers_gateway() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((site, mut reader)) = site(|o| {
        o.loadbalancing = true;
        o.v2_gateway = 1;
    }) else {
        return;
    };
    let (status, took) = wait(&mut reader, &site, "connection", CONNECT_LIMIT, connected);
    eprintln!(
        "loadbalancing cold start to connected: {:.1} s",
        took.as_secs_f64()
    );
    assert_connected_to(&site, &status, 1);
    passing_check(&mut reader, &site);
    assert_eq!(status["peer"]["source"], "broker", "{status:#}");
    assert_eq!(status["broker"]["api"], "v2");
    assert_eq!(site.broker.request_paths(), ["/api/v2/wg/key/exchange"]);

    // Dropping the site stops the daemon (which removes its wireguard-go
    // socket) and removes every namespace.
    let mut names = vec![site.wan.name.clone(), site.node.name.clone()];
    names.extend(site.gateways.iter().map(|g| g.netns().name.clone()));
    let socket = format!("/var/run/wireguard/{}.sock", site.iface);
    assert!(Path::new(&socket).exists(), "{socket} while connected");
    drop(reader);
    drop(site);
    for name in names {
        assert!(
            !Path::new("/var/run/netns").join(&name).exists(),
            "{name} left behind"
        );
    }
    assert!(!Path::new(&socket).exists(), "{socket} left behind");
}

/// A daemon entered into its namespace without a sysfs remount: `/sys/class/net`
/// shows the host's interfaces, so a probe that looked there found no
/// WireGuard interface and declared a healthy tunnel dead.
#[test]
fn a_daemon_entered_without_a_sysfs_remount_probes_its_own_interface() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((site, mut reader)) = site(|o| o.enter_without_remount = true) else {
        return;
    };
    let sysfs = Path::new("/sys/class/net").join(&site.iface);
    let status = passing_check(&mut reader, &site);
    assert!(
        !sysfs.exists(),
        "{} is visible; the test proves nothing",
        sysfs.display()
    );
    assert_eq!(status["health"]["consecutive_failures"], 0, "{status:#}");
}
