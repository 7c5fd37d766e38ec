//! netifd's part on a Gluon node, played by a test thread: whenever the
//! daemon has (re)created mesh-vpn, it goes into bat0, so the daemon's next
//! health check pins batman-adv's throughput override on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{JoinHandle, sleep};
use std::time::Duration;

use testkit::netns::{Netns, run};

const VXLAN: &str = "mesh-vpn";
/// Slow enough not to load the emulated CPU, quick next to a 2 s health check.
const POLL: Duration = Duration::from_millis(300);

pub struct Netifd {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Netifd {
    pub fn start(node: &Netns) -> Netifd {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, name) = (stop.clone(), node.name.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                attach_if_loose(&name);
                sleep(POLL);
            }
        });
        Netifd {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Netifd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// mesh-vpn exists without a master: put it into bat0 (it may vanish meanwhile).
fn attach_if_loose(netns: &str) {
    let shown = run("ip", &["-n", netns, "-o", "link", "show", VXLAN]);
    let line = String::from_utf8_lossy(&shown.stdout);
    if shown.status.success() && !line.contains("master bat0") {
        let _ = run("ip", &["-n", netns, "link", "set", VXLAN, "master", "bat0"]);
    }
}

/// batman-adv's throughput override on the node's mesh-vpn in Mbit/s, as
/// batctl reads it; `None` while mesh-vpn is not a hard interface of bat0.
pub fn throughput_override_mbit(netns: &str) -> Option<f64> {
    let args = [
        "netns",
        "exec",
        netns,
        "batctl",
        "hardif",
        VXLAN,
        "throughput_override",
    ];
    let output = run("ip", &args);
    let text = String::from_utf8_lossy(&output.stdout);
    let number = text.split_whitespace().next()?;
    output.status.success().then(|| number.parse().ok())?
}

/// Whether batman-adv on the node has a neighbour behind mesh-vpn: the
/// gateway's OGMs crossed kernel WireGuard and the VXLAN to the node. A row
/// whose IF column is mesh-vpn, not the header, which names mesh-vpn as the
/// main interface even with no neighbour at all.
pub fn batman_neighbour_on_mesh_vpn(netns: &str) -> bool {
    let output = run(
        "ip",
        &["netns", "exec", netns, "batctl", "meshif", "bat0", "n"],
    );
    output.status.success()
        && String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|line| line.split_whitespace().next() == Some(VXLAN))
}
