//! `demo [--daemon PATH]`: a small Freifunk site in network namespaces (test
//! broker, two wgkex-style gateways on wireguard-go, test ubusd) and the
//! mesh-vpn-wg daemon on a node. Shows the node connecting, kills the chosen
//! gateway, shows the failover with its times, and removes everything again,
//! also on an error or Ctrl-C. Needs root, iproute2, wireguard-go and wg
//! (`bash scripts/demo.sh` installs them). Never shipped to routers.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::site::interrupt::{self, interrupted};
use testkit::site::{BROKER_PORT, NODE_ADDRESS, ROUTER, Site, SiteOptions, StatusReader};

const CONNECT_LIMIT: Duration = Duration::from_secs(60);
const NOTICE_LIMIT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    interrupt::catch();
    let daemon = match daemon_binary() {
        Ok(path) => path,
        Err(e) => return fail(&e),
    };
    if let Some(reason) = testkit::site::missing_tools() {
        return fail(&format!("{reason}; run `bash scripts/demo.sh`"));
    }
    step("Bringing up the site in network namespaces");
    let mut site = match Site::start(SiteOptions::new(&daemon)) {
        Ok(site) => site,
        Err(e) => return fail(&e),
    };
    let names = namespaces(&site);
    let outcome = run(&mut site, &daemon);
    step("Cleaning up");
    site.stop_daemon();
    println!("  daemon stopped with SIGTERM (it removes its own WireGuard and VXLAN links)");
    drop(site);
    let left: Vec<_> = names.iter().filter(|n| namespace_exists(n)).collect();
    if left.is_empty() {
        println!("  namespaces removed: {}", names.join(", "));
    } else {
        println!("  could not remove: {left:?} (ip netns del NAME)");
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if interrupted() => {
            eprintln!("\ndemo: {e}");
            ExitCode::from(130)
        }
        Err(e) => fail(&e),
    }
}

fn run(site: &mut Site, daemon: &Path) -> Result<(), String> {
    describe(site);
    step("Starting the daemon on the node");
    println!(
        "  ip netns exec {} {} --root {} daemon --foreground --ubus-socket {}",
        site.node.name,
        daemon.display(),
        site.root().display(),
        site.ubus_socket().display()
    );
    site.start_daemon()?;
    let mut narrator = Narrator::new(site.reader()?);
    let (status, took) = narrator.until(site, "connected", CONNECT_LIMIT, |s| {
        state(s) == "connected"
    })?;
    let first = site
        .gateway_of(&status)
        .ok_or("connected to a gateway that is not the site's")?;
    narrator.until(site, "a passing health check", CONNECT_LIMIT, |s| {
        s["health"]["checks"]["http"]["ok"] == true
    })?;
    show_status(daemon, site)?;

    step(&format!(
        "Killing gw{}, the gateway the node chose (its wireguard-go ends, the tunnel with it)",
        first + 1
    ));
    site.gateways[first].kill();
    narrator.restart_clock();
    let on_first = |s: &Value| state(s) == "connected" && site.gateway_of(s) == Some(first);
    let (_, notice) = narrator.until(site, "notice", NOTICE_LIMIT, |s| !on_first(s))?;
    let other = 1 - first;
    let (_, failover) = narrator.until(site, "failover", CONNECT_LIMIT, |s| {
        state(s) == "connected" && site.gateway_of(s) == Some(other)
    })?;
    narrator.until(site, "a passing health check", CONNECT_LIMIT, |s| {
        s["health"]["checks"]["http"]["ok"] == true && s["health"]["consecutive_failures"] == 0
    })?;
    show_status(daemon, site)?;

    step("Measured");
    println!(
        "  cold start to connected                 {:5.1} s",
        took.as_secs_f64()
    );
    println!(
        "  gateway killed → noticed (not connected) {:5.1} s",
        notice.as_secs_f64()
    );
    println!(
        "  noticed → connected to gw{}              {:5.1} s",
        other + 1,
        failover.as_secs_f64()
    );
    println!(
        "  checkuplink (cron, once a minute) needs 60 to 100 s to notice and sleeps 15 s per reconnect"
    );
    Ok(())
}

/// Prints every change of the daemon's state as it is seen, with the time
/// since the current step began.
struct Narrator {
    reader: StatusReader,
    step_began: Instant,
    last: String,
}

impl Narrator {
    fn new(reader: StatusReader) -> Narrator {
        Narrator {
            reader,
            step_began: Instant::now(),
            last: String::new(),
        }
    }

    fn restart_clock(&mut self) {
        self.step_began = Instant::now();
    }

    /// Polls `status` until `done`; the status and the time this wait took.
    fn until(
        &mut self,
        site: &Site,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Result<(Value, Duration), String> {
        let (began, last) = (self.step_began, &mut self.last);
        let result = self.reader.wait_for(what, limit, |s| {
            let line = describe_state(s);
            if line != *last {
                println!("  {:6.1} s  {line}", began.elapsed().as_secs_f64());
                *last = line;
            }
            done(s)
        });
        result.map_err(|e| match interrupted() {
            true => e,
            false => format!("{e}\n--- daemon log ---\n{}", site.daemon_log()),
        })
    }
}

fn describe_state(s: &Value) -> String {
    let line = format!(
        "{:<15} {}",
        state(s),
        s["reason"].as_str().unwrap_or_default()
    );
    match s["health"]["consecutive_failures"].as_u64().unwrap_or(0) {
        0 => line,
        1 => format!("{line} (1 failed check)"),
        n => format!("{line} ({n} failed checks in a row)"),
    }
}

/// What an admin would type on the node: `mesh-vpn-wg status`.
fn show_status(daemon: &Path, site: &Site) -> Result<(), String> {
    println!(
        "\n  $ mesh-vpn-wg --ubus-socket {} status",
        site.ubus_socket().display()
    );
    let output = Command::new(daemon)
        .arg("--ubus-socket")
        .arg(site.ubus_socket())
        .arg("status")
        .output()
        .map_err(|e| format!("running {} status: {e}", daemon.display()))?;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        println!("    {line}");
    }
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(())
}

fn describe(site: &Site) {
    println!(
        "  WAN      namespace {}: bridge, router {ROUTER}",
        site.wan.name
    );
    println!("  broker   test wgkex broker at http://[{ROUTER}]:{BROKER_PORT} (API v1 and v2)");
    println!(
        "  SNTP     [{ROUTER}]:123 (asked before the first key exchange if the clock is unsynced)"
    );
    for (i, gw) in site.gateways.iter().enumerate() {
        println!(
            "  gw{}      namespace {}: wireguard-go on [{}]:51820, link {}, VXLAN, HTTP :80",
            i + 1,
            gw.netns().name,
            gw.underlay(),
            gw.link_address()
        );
    }
    println!(
        "  node     namespace {}: {NODE_ADDRESS}, WAN route: IPv6 default via {ROUTER} in table 1",
        site.node.name
    );
    println!("  ubusd    test ubusd on {}", site.ubus_socket().display());
    println!(
        "  config   {}/lib/gluon/site.json, etc/config/{{gluon,wireguard}}",
        site.root().display()
    );
}

fn namespaces(site: &Site) -> Vec<String> {
    let mut names = vec![site.wan.name.clone(), site.node.name.clone()];
    names.extend(site.gateways.iter().map(|g| g.netns().name.clone()));
    names
}

fn namespace_exists(name: &str) -> bool {
    Path::new("/var/run/netns").join(name).exists()
}

fn state(status: &Value) -> &str {
    status["state"].as_str().unwrap_or_default()
}

/// `--daemon PATH`, else `mesh-vpn-wg` next to this binary (same target directory).
fn daemon_binary() -> Result<PathBuf, String> {
    let mut args = std::env::args().skip(1);
    let path = match (args.next().as_deref(), args.next()) {
        (Some("--daemon"), Some(path)) => PathBuf::from(path),
        (None, _) => std::env::current_exe()
            .map_err(|e| format!("locating this binary: {e}"))?
            .with_file_name("mesh-vpn-wg"),
        _ => return Err("usage: demo [--daemon PATH-TO-mesh-vpn-wg]".into()),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it first (cargo build)",
            path.display()
        ))
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn fail(message: &str) -> ExitCode {
    eprintln!("demo: {message}");
    ExitCode::FAILURE
}
