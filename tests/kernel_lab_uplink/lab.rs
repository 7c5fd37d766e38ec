//! One namespace site on the lab kernel (testkit::site with kernel
//! WireGuard and batman-adv), the daemon on its node, a ubus reader for its
//! `status`, and netifd's part played by a thread.

use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::netns::gateway::Flavor;
use testkit::netns::{in_kernel_lab, load_modules, missing_prerequisite};
use testkit::site::{Site, SiteOptions, StatusReader};
use ubus_wire::Table;

use super::netifd::{Netifd, batman_neighbour_on_mesh_vpn, throughput_override_mbit};

const BIN: &str = env!("CARGO_BIN_EXE_mesh-vpn-wg");
const PIN_LIMIT: Duration = Duration::from_secs(60);
/// batctl is a process: polled gently on the emulated CPU.
const PIN_POLL: Duration = Duration::from_millis(300);

/// Fields drop in order: netifd stops before the site's namespaces go.
pub struct Lab {
    _netifd: Netifd,
    pub reader: StatusReader,
    pub site: Site,
}

fn skip_reason() -> Option<String> {
    if !in_kernel_lab() {
        return Some("runs inside the kernel lab (scripts/kernel-lab.sh --test)".into());
    }
    missing_prerequisite(&["ip", "bridge", "wg", "batctl", "modprobe"])
}

/// The daemon picks kernel WireGuard once /sys/module/wireguard exists.
const MODULES: [&str; 5] = ["wireguard", "vxlan", "veth", "bridge", "batman-adv"];

impl Lab {
    /// The site with kernel gateways and the daemon started; `None` (after a
    /// visible SKIP line) outside the kernel lab.
    pub fn start(options: impl FnOnce(&mut SiteOptions)) -> Option<Lab> {
        if let Some(reason) = skip_reason() {
            testkit::skip(&reason);
            return None;
        }
        load_modules(&MODULES);
        let mut opts = SiteOptions::new(BIN);
        opts.gateways = Flavor {
            kernel_wireguard: true,
            batman: true,
        };
        options(&mut opts);
        let mut site = Site::start(opts).unwrap_or_else(|e| panic!("site: {e}"));
        let netifd = Netifd::start(&site.node);
        site.start_daemon()
            .unwrap_or_else(|e| panic!("daemon: {e}"));
        let reader = site.reader().unwrap_or_else(|e| panic!("ubus: {e}"));
        Some(Lab {
            _netifd: netifd,
            reader,
            site,
        })
    }

    /// Polls `status` until `done` holds, or fails the test with the daemon's log.
    pub fn wait(
        &mut self,
        what: &str,
        limit: Duration,
        done: impl FnMut(&Value) -> bool,
    ) -> (Value, Duration) {
        let site = &self.site;
        self.reader
            .wait_for(what, limit, done)
            .unwrap_or_else(|e| panic!("{e}\ndaemon log:\n{}", site.daemon_log()))
    }

    pub fn status(&mut self) -> Value {
        let site = &self.site;
        self.reader
            .call("status", Table::new())
            .unwrap_or_else(|e| panic!("status: {e}\ndaemon log:\n{}", site.daemon_log()))
    }

    /// Waits until the daemon has pinned batman-adv's throughput override on
    /// mesh-vpn (1000 Mbit, as checkuplink's batctl call did); returns how long.
    pub fn wait_pinned(&self) -> Duration {
        let node = &self.site.node.name;
        self.poll("throughput override 1000 Mbit", || {
            throughput_override_mbit(node) == Some(1000.0)
        })
    }

    /// Waits until batman-adv on the node sees the gateway across mesh-vpn.
    pub fn wait_batman_neighbour(&self) -> Duration {
        let node = &self.site.node.name;
        self.poll("a batman-adv neighbour on mesh-vpn", || {
            batman_neighbour_on_mesh_vpn(node)
        })
    }

    /// Node-side checks that start processes (batctl): polled gently.
    fn poll(&self, what: &str, mut ready: impl FnMut() -> bool) -> Duration {
        let start = Instant::now();
        while !ready() {
            assert!(
                start.elapsed() < PIN_LIMIT,
                "no {what} within {PIN_LIMIT:?}\ndaemon log:\n{}",
                self.site.daemon_log()
            );
            sleep(PIN_POLL);
        }
        start.elapsed()
    }

    /// The node's WireGuard interface as `ip -d link` shows it.
    pub fn node_wireguard_link(&self) -> String {
        self.site.node.ip(&["-d", "link", "show", &self.site.iface])
    }
}

pub fn state(status: &Value) -> &str {
    status["state"].as_str().unwrap_or_default()
}

pub fn connected(status: &Value) -> bool {
    state(status) == "connected"
}

pub fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}
