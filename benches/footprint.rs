//! Benchmark: the daemon's footprint while connected, on the namespace site
//! (testkit::site: wireguard-go gateways, test broker and ubusd). Prints the
//! resident memory, wake-ups per minute (context switches of all its
//! threads) and its child processes over a quiet minute in which nothing but
//! the daemon's own liveness sampling and checks run. Targets: under 4 MiB RSS, no busy
//! polling, no process started in steady state (wireguard-go, started once
//! with the link on hosts without kernel WireGuard, is listed separately).
//! Run as root: `cargo bench --bench footprint` (`FOOTPRINT_SECS` to change the window).

use std::collections::BTreeSet;
use std::time::Duration;

use testkit::site::{Site, SiteOptions, missing_tools};

const BIN: &str = env!("CARGO_BIN_EXE_mesh-vpn-wg");

fn main() {
    if let Some(reason) = missing_tools() {
        println!("SKIP: {reason}");
        return;
    }
    let window: u64 = std::env::var("FOOTPRINT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut site = Site::start(SiteOptions::new(BIN)).expect("site");
    site.start_daemon().expect("daemon");
    let mut reader = site.reader().expect("ubus");
    reader
        .wait_for("connected", Duration::from_secs(60), |s| {
            s["state"] == "connected"
        })
        .expect("connected");
    drop(reader);
    let pid = site.daemon_pid().expect("daemon pid");
    // Let start-up allocations and the first checks settle.
    std::thread::sleep(Duration::from_secs(10));
    let before = sample(pid);
    std::thread::sleep(Duration::from_secs(window));
    let after = sample(pid);

    let per_minute = (after.switches - before.switches) as f64 * 60.0 / window as f64;
    let started: BTreeSet<_> = after.children.difference(&before.children).collect();
    println!(
        "daemon footprint while connected ({window} s window: counters read every second, \
         a probe after 2 s of silence (this site has no batman-adv), layered check every 5 s)"
    );
    println!(
        "  resident memory   {} KiB (peak {} KiB)",
        after.rss_kib, after.hwm_kib
    );
    println!("  threads           {}", after.threads);
    println!("  wake-ups          {per_minute:.0} per minute (context switches of all threads)");
    println!(
        "  child processes   {:?} (steady state started {})",
        after.children,
        started.len()
    );
    let status = site.status().expect("status");
    println!("  state at the end  {}", status["state"]);
}

struct Sample {
    rss_kib: u64,
    hwm_kib: u64,
    threads: usize,
    switches: u64,
    children: BTreeSet<String>,
}

fn sample(pid: u32) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("daemon status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let mut switches = 0;
    let mut children = BTreeSet::new();
    let mut threads = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
    {
        threads += 1;
        let path = task.path();
        let text = std::fs::read_to_string(path.join("status")).unwrap_or_default();
        for line in text.lines() {
            if let Some(n) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                switches += n.trim().parse::<u64>().unwrap_or(0);
            }
        }
        let kids = std::fs::read_to_string(path.join("children")).unwrap_or_default();
        for child in kids.split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
            children.insert(format!("{} ({child})", comm.trim()));
        }
    }
    Sample {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        threads,
        switches,
        children,
    }
}
