//! A running daemon on a node tree, registered on a test ubusd, for the daemon, CLI and
//! benchmark tests: start, call methods, signal, stop.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use testkit::ubusd::TestUbusd;
use ubus_wire::{Bus, Table};

use super::Tree;

pub const BIN: &str = env!("CARGO_BIN_EXE_mesh-vpn-wg");
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Daemon {
    pub tree: Tree,
    pub ubusd: TestUbusd,
    pub socket: PathBuf,
    child: Option<Child>,
}

/// A one-thread runtime for a sync test to talk to ubus with.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

impl Daemon {
    /// Starts a test ubusd in the tree and the daemon on it, and waits until `mesh_vpn` is
    /// registered. The daemon's log goes to `daemon.log` in the tree.
    ///
    /// The daemon runs in a network namespace of its own (`unshare --net`): its engine
    /// is live, and must neither resolve the tree's example host names off this machine
    /// nor build interfaces on the host. With only a down loopback there is no WAN, so an
    /// enabled node sits in `no_uplink`. `None` (with a SKIP line) where that isolation
    /// is not possible (not root).
    pub fn start(tree: Tree) -> Option<Daemon> {
        if !can_isolate() {
            testkit::skip(
                "the daemon tests need root to give the daemon its own network namespace",
            );
            return None;
        }
        Some(Daemon::spawn(tree, &["unshare", "--net", "--"]))
    }

    /// Starts the daemon inside the named network namespace the caller made.
    pub fn start_in_netns(tree: Tree, netns: &str) -> Daemon {
        Daemon::spawn(tree, &["ip", "netns", "exec", netns])
    }

    fn spawn(tree: Tree, wrapper: &[&str]) -> Daemon {
        let socket = tree.path().join("ubus.sock");
        let ubusd = TestUbusd::start(&socket).expect("start test ubusd");
        let log = std::fs::File::create(tree.path().join("daemon.log")).expect("log file");
        let child = Command::new(wrapper[0])
            .args(&wrapper[1..])
            .arg(BIN)
            .arg("--root")
            .arg(tree.path())
            .args(["daemon", "--foreground", "--ubus-socket"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn daemon");
        let daemon = Daemon {
            tree,
            ubusd,
            socket,
            child: Some(child),
        };
        let waited = daemon.wait_registered(Duration::from_secs(10));
        assert!(
            waited.is_some(),
            "mesh_vpn never registered; log:\n{}",
            daemon.log()
        );
        daemon
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.tree.path().join("daemon.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("daemon running")
    }

    /// How long until `mesh_vpn` can be looked up, or None after `limit`.
    pub fn wait_registered(&self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        let rt = runtime();
        while start.elapsed() < limit {
            let found = rt.block_on(async {
                let bus = Bus::connect(&self.socket).await.ok()?;
                bus.lookup("mesh_vpn").await.ok()
            });
            if found.is_some() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// `ubus call mesh_vpn <method> <args>`: the first DATA table, or the error.
    pub fn call(&self, method: &str, args: Table) -> Result<Table, ubus_wire::Error> {
        runtime().block_on(async {
            let bus = Bus::connect(&self.socket).await?;
            let replies = bus.call("mesh_vpn", method, args, CALL_TIMEOUT).await?;
            Ok(replies.into_iter().next().unwrap_or_default())
        })
    }

    pub fn status(&self) -> serde_json::Value {
        let table = self.call("status", Table::new()).expect("status");
        ubus_wire::json::from_table(&table)
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{name} failed");
    }

    /// SIGTERM and wait (at most 10 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        let mut child = self.child.take().expect("daemon running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("daemon ignored SIGTERM for 10 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `unshare --net` works here (root, util-linux present).
pub fn can_isolate() -> bool {
    Command::new("unshare")
        .args(["--net", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
