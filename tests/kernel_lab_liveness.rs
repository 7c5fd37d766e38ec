//! Liveness benchmark on a real kernel (issue 15, part 2): false alarms on a
//! bad uplink, and the time to notice a dead gateway, for the daemon as built
//! next to today's check. It prints figures and asserts only that it ran
//! correctly; it is not part of `scripts/kernel-lab.sh --test`. Run it with
//! `scripts/kernel-lab.sh --bench-liveness`; anywhere but inside the kernel lab it
//! skips visibly.
//!
//! The site is the one of `tests/kernel_lab_uplink.rs` (testkit::site with
//! kernel WireGuard, VXLAN and batman-adv; `Lab` is shared through `#[path]`),
//! loadbalancing off, the daemon's default settings.
//!
//! 1. Once the daemon is `connected` and batman-adv hears the gateway, netem
//!    (default `delay 1500ms 500ms loss 20%`: 1.5 s ± 0.5 s, uniform, so packets
//!    are also reordered, and 20 % loss) goes on the root qdisc of the node's
//!    WAN veth (`wan` in the node namespace), i.e. on the **egress of the node's
//!    uplink**: everything the node sends to the internet namespace (WireGuard
//!    to the gateways, the broker, NTP, neighbour discovery). What comes back is
//!    not shaped unless `MESH_VPN_WG_LIVENESS_BOTH_WAYS=1`, which also puts the
//!    same netem on the egress of the veth's other end (the bridge port in the
//!    internet namespace), i.e. on the node's ingress. The printout names the
//!    qdiscs as `tc qdisc show` reports them.
//! 2. For `MESH_VPN_WG_LIVENESS_SECS` (default 600), false alarms are counted:
//!    - **the daemon**, whatever its liveness scheme: each time it leaves
//!      `connected`, seen by polling `status` every 300 ms; the `reconnects`
//!      counter catches a drop and return between two polls. Only `status` and
//!      the daemon's log are read, never its internals.
//!    - **today's check** (the HTTP layer of the daemon's 5 s check, as
//!      `src/daemon/ports/probe.rs` has it, and checkuplink's `wget`; not the
//!      handshake-age and batman-adv layers): a monitor thread in the node
//!      namespace that every 5 s (fixed rate) sends `GET /` to
//!      `http://[gateway link address%<WireGuard interface>]:80/` (the
//!      interface the link address is reached on, as `probe.rs` scopes it),
//!      5 s timeout, any 2xx/3xx passes, and counts an alarm each time 3 checks
//!      in a row failed, then starts counting from 0 again. It never reconnects
//!      anything. It probes the gateway the daemon is connected to (from
//!      `status`), over the daemon's tunnel, at the same time, so a daemon
//!      reconnect can fail one of its probes (counted separately). Its probes and
//!      their answers are traffic on that tunnel, which a daemon that watches the
//!      tunnel's received bytes also sees.
//! 3. netem off, the daemon connected for 15 s (and reporting no failed
//!    check in `health.consecutive_failures`, where its status has that field)
//!    and the monitor's latest check passed, the gateway in use is killed (its
//!    kernel WireGuard interface deleted, as in the failover test) and two
//!    times are taken from then: to the daemon no longer `connected` to it, and
//!    to the monitor's next alarm (its 3rd failure in a row). Then the same with netem back on, on the other gateway, which the
//!    daemon has moved to; if the shaped link is never that healthy within
//!    3 min (with both directions shaped it was not), that one is reported as
//!    not measured. Only the detection with netem off must be measured.
//! 4. A table: scheme | false alarms in N min | detection time (netem off, on).

#[allow(dead_code)]
#[path = "kernel_lab_uplink/lab.rs"]
mod lab;
#[path = "kernel_lab_liveness/monitor.rs"]
mod monitor;
#[allow(dead_code)]
#[path = "kernel_lab_uplink/netifd.rs"]
mod netifd;
#[path = "kernel_lab_liveness/shaping.rs"]
mod shaping;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, sleep};
use std::time::{Duration, Instant};

use lab::{Lab, connected, secs, state};
use serde_json::Value;
use testkit::netns::gateway::ifindex;
use testkit::netns::{Netns, in_kernel_lab, load_modules, missing_prerequisite};
use ubus_wire::Table;

use monitor::{Monitor, MonitorCounts};
use shaping::Shaping;

const DEFAULT_SECS: u64 = 600;
const DEFAULT_NETEM: &str = "delay 1500ms 500ms loss 20%";
/// How often `status` is read: often enough to see a short drop, gentle on
/// the emulated CPU (the `reconnects` counter covers what falls in between).
const POLL: Duration = Duration::from_millis(300);
/// Today's check: every 5 s, 5 s timeout, 3 failures in a row.
const CHECK_INTERVAL: Duration = Duration::from_secs(5);
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
const CHECK_FAILURES: u32 = 3;
/// Emulated CPUs are slow and a shaped uplink slower: generous limits.
const CONNECT_LIMIT: Duration = Duration::from_secs(60);
const SETTLE_LIMIT: Duration = Duration::from_secs(180);
const DETECT_LIMIT: Duration = Duration::from_secs(180);
/// Before a gateway is killed, the daemon has stayed `connected` this long
/// (three of today's checks), so failures left over from netem do not count
/// toward its detection time.
const QUIET: Duration = Duration::from_secs(15);
/// At most this many of the daemon's log lines about leaving are printed.
const LEAVE_LINES_SHOWN: usize = 12;
/// The daemon's log line when its check gives up on a gateway (informative only).
const LEAVE_LINE: &str = "leaving connected";

struct Settings {
    window: Duration,
    netem: String,
    both_ways: bool,
}

impl Settings {
    fn from_env() -> Settings {
        let secs = std::env::var("MESH_VPN_WG_LIVENESS_SECS")
            .ok()
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("MESH_VPN_WG_LIVENESS_SECS={v:?}: seconds"))
            })
            .unwrap_or(DEFAULT_SECS);
        let netem = std::env::var("MESH_VPN_WG_LIVENESS_NETEM")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_NETEM.into());
        let both_ways = std::env::var("MESH_VPN_WG_LIVENESS_BOTH_WAYS").is_ok_and(|v| v == "1");
        Settings {
            window: Duration::from_secs(secs.max(1)),
            netem,
            both_ways,
        }
    }
}

/// Writes past libtest's capture, like `testkit::skip`: a passing run still
/// shows its figures.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[test]
fn false_alarms_on_a_bad_uplink_and_detection_of_a_dead_gateway() {
    let settings = Settings::from_env();
    if !in_kernel_lab() {
        testkit::skip("runs inside the kernel lab (scripts/kernel-lab.sh --bench-liveness)");
        return;
    }
    if let Some(reason) = missing_prerequisite(&["tc"]) {
        testkit::skip(&reason);
        return;
    }
    let Some(mut lab) = Lab::start(|_| {}) else {
        return;
    };
    load_modules(&["sch_netem"]);
    let (status, took) = lab.wait("connection", CONNECT_LIMIT, connected);
    say(&format!(
        "liveness: cold start → connected {:.1} s",
        secs(took)
    ));
    lab.wait_batman_neighbour();
    let shaping = Shaping::new(&lab, &settings);
    let mut bench = Bench {
        daemon: DaemonWatch::new(&status),
        monitor: Monitor::start(&lab.site.node, &lab.site.iface),
        lab,
        failed_calls: 0,
    };
    bench.follow(&status);
    bench
        .settle("the monitor's first passing check", Instant::now())
        .unwrap_or_else(|e| panic!("{e}"));

    shaping.apply();
    say(&format!("liveness: shaped: {}", shaping.describe()));
    let window = bench.window(settings.window);
    testkit::measured(&window.line());
    shaping.remove();

    let clean = bench.detect("netem off");
    if let Err(e) = &clean {
        say(&format!("liveness: detection with netem off: {e}"));
    }
    shaping.apply();
    let shaped = bench.detect("netem on");
    if let Err(e) = &shaped {
        say(&format!("liveness: detection with netem on: {e}"));
    }
    shaping.remove();
    let table = table(&settings, &shaping, &window, &clean, &shaped);
    say(&table);
    assert!(
        clean.is_ok(),
        "detection without netem was not measured\ndaemon log:\n{}",
        bench.lab.site.daemon_log()
    );
}

/// What the daemon did, seen through `status` only.
struct DaemonWatch {
    connected: bool,
    reconnects: u64,
    /// Times it left `connected` (false alarms while nothing was wrong but the uplink).
    left: u32,
    /// Time not `connected`, summed between polls.
    down: Duration,
    /// Seen `connected` without a break since then.
    connected_since: Option<Instant>,
    last_poll: Instant,
    polls: u64,
}

impl DaemonWatch {
    fn new(status: &Value) -> DaemonWatch {
        DaemonWatch {
            connected: connected(status),
            reconnects: reconnects(status),
            left: 0,
            down: Duration::ZERO,
            connected_since: connected(status).then(Instant::now),
            last_poll: Instant::now(),
            polls: 0,
        }
    }

    /// Takes in one `status`; true if the daemon left `connected` since the
    /// last one (also when it already came back: `reconnects` went up).
    fn observe(&mut self, status: &Value) -> bool {
        let now = Instant::now();
        if !self.connected {
            self.down += now - self.last_poll;
        }
        let is_connected = connected(status);
        let count = reconnects(status);
        let left = self.connected && (!is_connected || count > self.reconnects);
        if left {
            self.left += 1;
        }
        if left || !is_connected {
            self.connected_since = None;
        }
        if is_connected && self.connected_since.is_none() {
            self.connected_since = Some(now);
        }
        self.connected = is_connected;
        self.reconnects = count;
        self.last_poll = now;
        self.polls += 1;
        left
    }
}

fn reconnects(status: &Value) -> u64 {
    status["counters"]["reconnects"]
        .as_u64()
        .unwrap_or_default()
}

fn peer_key(status: &Value) -> Option<&str> {
    status["peer"]["public_key"].as_str()
}

struct Bench {
    // Dropped first: the monitor stops before the site goes.
    monitor: Monitor,
    daemon: DaemonWatch,
    lab: Lab,
    failed_calls: u64,
}

/// The false-alarm window's figures.
struct Window {
    length: Duration,
    daemon_left: u32,
    daemon_reconnects: u64,
    daemon_down: Duration,
    daemon_leave_lines: Vec<String>,
    polls: u64,
    failed_calls: u64,
    monitor: MonitorCounts,
}

impl Window {
    fn line(&self) -> String {
        format!(
            "{:.1} min shaped: daemon left connected {} times (reconnects +{}, not connected {:.1} s); \
             today's check {} alarms ({} checks, {} failed, {} of them while the daemon was not connected)",
            minutes(self.length),
            self.daemon_left,
            self.daemon_reconnects,
            secs(self.daemon_down),
            self.monitor.alarms,
            self.monitor.checks,
            self.monitor.failures,
            self.monitor.failures_daemon_down,
        )
    }
}

struct Detection {
    gateway: usize,
    daemon: Duration,
    monitor: Duration,
    /// The monitor's failures in a row when the gateway died.
    streak_at_death: u32,
    /// What the daemon showed when it was seen no longer connected to the gateway.
    seen: String,
}

impl Bench {
    /// One `status` read: the daemon's watch and the monitor's target follow it.
    fn step(&mut self) -> Option<Value> {
        match self.lab.reader.call("status", Table::new()) {
            Ok(status) => {
                if self.daemon.observe(&status) {
                    self.monitor.state().daemon_drops += 1;
                }
                self.follow(&status);
                Some(status)
            }
            Err(_) => {
                self.failed_calls += 1;
                None
            }
        }
    }

    /// The monitor checks the gateway the daemon is connected to.
    fn follow(&mut self, status: &Value) {
        let mut monitor = self.monitor.state();
        monitor.daemon_connected = connected(status);
        if !connected(status) || monitor.pinned {
            return;
        }
        if let Some(address) = status["peer"]["link_address"]
            .as_str()
            .and_then(|a| a.parse().ok())
        {
            monitor.target = Some(address);
        }
    }

    /// Polls until the daemon has been connected for [`QUIET`] since `from`
    /// with no failed check reported (where `status` reports them), and the
    /// monitor's latest check (finished after `from`) passed.
    fn settle(&mut self, what: &str, from: Instant) -> Result<Value, String> {
        let start = Instant::now();
        let mut last = Value::Null;
        loop {
            if let Some(status) = self.step() {
                let passed = self
                    .monitor
                    .state()
                    .last
                    .is_some_and(|(at, ok)| ok && at > from);
                let quiet = self
                    .daemon
                    .connected_since
                    .is_some_and(|since| since.max(from).elapsed() >= QUIET);
                let failures = status["health"]["consecutive_failures"].as_u64();
                if connected(&status) && quiet && passed && failures.unwrap_or(0) == 0 {
                    return Ok(status);
                }
                last = status;
            }
            if start.elapsed() > SETTLE_LIMIT {
                let monitor = self.monitor.state();
                return Err(format!(
                    "no {what} within {} s: the daemon connected without a break for {:?}; \
                     today's check: {} checks, {} failed, latest {:?}, last failure {:?}\n\
                     last status: {last:#}\ndaemon log:\n{}",
                    SETTLE_LIMIT.as_secs(),
                    self.daemon.connected_since.map(|t| t.elapsed()),
                    monitor.checks,
                    monitor.failures,
                    monitor.last.map(|(at, ok)| (at.elapsed(), ok)),
                    monitor.last_error,
                    self.lab.site.daemon_log(),
                ));
            }
            sleep(POLL);
        }
    }

    fn window(&mut self, length: Duration) -> Window {
        let log_before = self.lab.site.daemon_log().len();
        let (left, reconnects, down, polls, calls) = (
            self.daemon.left,
            self.daemon.reconnects,
            self.daemon.down,
            self.daemon.polls,
            self.failed_calls,
        );
        let monitor_before = self.monitor.state().counts();
        let start = Instant::now();
        let mut next_report = start + Duration::from_secs(60);
        while start.elapsed() < length {
            self.step();
            if Instant::now() >= next_report {
                next_report += Duration::from_secs(60);
                let monitor = self.monitor.state().counts().since(&monitor_before);
                say(&format!(
                    "liveness: {:.0} s: daemon left connected {} times, today's check {} alarms ({} of {} checks failed)",
                    secs(start.elapsed()),
                    self.daemon.left - left,
                    monitor.alarms,
                    monitor.failures,
                    monitor.checks,
                ));
            }
            sleep(POLL);
        }
        self.step();
        let length = start.elapsed();
        Window {
            length,
            daemon_left: self.daemon.left - left,
            daemon_reconnects: self.daemon.reconnects.saturating_sub(reconnects),
            daemon_down: self.daemon.down.saturating_sub(down),
            daemon_leave_lines: self
                .lab
                .site
                .daemon_log()
                .get(log_before..)
                .unwrap_or_default()
                .lines()
                .filter(|line| line.contains(LEAVE_LINE))
                .map(str::to_string)
                .collect(),
            polls: self.daemon.polls - polls,
            failed_calls: self.failed_calls - calls,
            monitor: self.monitor.state().counts().since(&monitor_before),
        }
    }

    /// Kills the gateway the daemon is connected to, once it and the monitor
    /// are healthy, and times both noticing.
    fn detect(&mut self, label: &str) -> Result<Detection, String> {
        let from = Instant::now();
        let status = self.settle(&format!("healthy link ({label})"), from)?;
        let dying = self
            .lab
            .site
            .gateway_of(&status)
            .ok_or_else(|| format!("connected to no gateway of the site: {status}"))?;
        let key = self.lab.site.gateways[dying].public_key().to_string();
        let reconnects_before = reconnects(&status);
        let streak_at_death = {
            let mut monitor = self.monitor.state();
            monitor.target = Some(self.lab.site.gateways[dying].link_address());
            monitor.pinned = true;
            monitor.streak
        };
        self.lab.site.gateways[dying].kill();
        let died = Instant::now();
        say(&format!("liveness: {label}: gateway {dying} killed"));
        let mut daemon = None;
        let mut seen = String::new();
        let mut monitor = None;
        while (daemon.is_none() || monitor.is_none()) && died.elapsed() < DETECT_LIMIT {
            sleep(POLL);
            if let Some(status) = self.step() {
                let gone = !connected(&status)
                    || peer_key(&status) != Some(key.as_str())
                    || reconnects(&status) > reconnects_before;
                if daemon.is_none() && gone {
                    daemon = Some(died.elapsed());
                    seen = state(&status).to_string();
                }
            }
            if monitor.is_none() {
                monitor = self
                    .monitor
                    .state()
                    .alarm_times
                    .iter()
                    .find(|&&at| at >= died)
                    .map(|&at| at - died);
            }
        }
        self.monitor.state().pinned = false;
        match (daemon, monitor) {
            (Some(daemon), Some(monitor)) => Ok(Detection {
                gateway: dying,
                daemon,
                monitor,
                streak_at_death,
                seen,
            }),
            (daemon, monitor) => Err(format!(
                "not noticed within {} s: daemon {daemon:?}, today's check {monitor:?}",
                DETECT_LIMIT.as_secs()
            )),
        }
    }
}

fn minutes(duration: Duration) -> f64 {
    duration.as_secs_f64() / 60.0
}

fn table(
    settings: &Settings,
    shaping: &Shaping,
    window: &Window,
    clean: &Result<Detection, String>,
    shaped: &Result<Detection, String>,
) -> String {
    let minutes = minutes(window.length);
    let cell = |d: &Result<Detection, String>, pick: fn(&Detection) -> Duration| match d {
        Ok(d) => format!("{:.1} s", secs(pick(d))),
        Err(_) => "not measured".into(),
    };
    let m = &window.monitor;
    let mut out = format!(
        "\n=== liveness benchmark: kernel lab (kernel WireGuard, VXLAN, batman-adv) ===\n\
         shaped: {}\n\
         window: {:.0} s; status read every {} ms ({} reads, {} failed)\n\n\
         {:<44} | {:>24} | {:>19} | {:>19}\n\
         {:-<44}-|-{:->24}-|-{:->19}-|-{:->19}\n\
         {:<44} | {:>24} | {:>19} | {:>19}\n\
         {:<44} | {:>24} | {:>19} | {:>19}\n\n",
        shaping.summary(),
        secs(window.length),
        POLL.as_millis(),
        window.polls,
        window.failed_calls,
        "scheme",
        format!("false alarms in {minutes:.1} min"),
        "detection, netem off",
        "detection, netem on",
        "",
        "",
        "",
        "",
        "mesh-vpn-wg daemon as built (left connected)",
        window.daemon_left,
        cell(clean, |d| d.daemon),
        cell(shaped, |d| d.daemon),
        "today's check: GET every 5 s, 3 failures",
        m.alarms,
        cell(clean, |d| d.monitor),
        cell(shaped, |d| d.monitor),
    );
    out += &format!(
        "daemon: reconnects +{}, not connected {:.1} s of {:.0} s, {} log lines with '{LEAVE_LINE}'\n\
         today's check: {} checks, {} failed ({:.0} %), {} of the failures while the daemon was not connected\n",
        window.daemon_reconnects,
        secs(window.daemon_down),
        secs(window.length),
        window.daemon_leave_lines.len(),
        m.checks,
        m.failures,
        100.0 * m.failures as f64 / m.checks.max(1) as f64,
        m.failures_daemon_down,
    );
    for line in window.daemon_leave_lines.iter().take(LEAVE_LINES_SHOWN) {
        out += &format!("  daemon log: {line}\n");
    }
    if let Some(more) = window
        .daemon_leave_lines
        .len()
        .checked_sub(LEAVE_LINES_SHOWN)
        .filter(|&more| more > 0)
    {
        out += &format!("  daemon log: ({more} more such lines)\n");
    }
    for (label, detection) in [("netem off", clean), ("netem on", shaped)] {
        out += &match detection {
            Ok(d) => format!(
                "detection, {label}: gateway {} killed; daemon seen '{}'; today's check had {} failure(s) in a row at the death\n",
                d.gateway, d.seen, d.streak_at_death
            ),
            Err(e) => format!(
                "detection, {label}: {} (details above)\n",
                e.lines().next().unwrap_or_default()
            ),
        };
    }
    if settings.both_ways {
        out += "(both directions shaped: MESH_VPN_WG_LIVENESS_BOTH_WAYS=1)\n";
    }
    out
}
