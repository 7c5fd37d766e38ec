//! The daemon on the node: `ip netns exec NODE mesh-vpn-wg --root TREE daemon
//! --foreground --ubus-socket SOCK`, its log in the tree, and its `mesh_vpn`
//! object read over the test ubusd.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use ubus_wire::{Bus, Table};

use super::interrupt::interrupted;
use crate::netns::Netns;

const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(200);

pub struct NodeDaemon {
    child: Option<Child>,
    log: PathBuf,
}

impl NodeDaemon {
    pub fn start(node: &Netns, binary: &Path, root: &Path, socket: &Path) -> Result<Self, String> {
        let log = root.join("daemon.log");
        let stderr = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = node
            .command(binary)
            .arg("--root")
            .arg(root)
            .args(["daemon", "--foreground", "--ubus-socket"])
            .arg(socket)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        Ok(NodeDaemon {
            child: Some(child),
            log,
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// SIGTERM (the daemon tears its link down), SIGKILL after 10 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill on our own child's pid.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for NodeDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `ubus call mesh_vpn <method>`: the reply as JSON.
pub fn call(socket: &Path, method: &str, args: Table) -> Result<Value, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async {
        let bus = Bus::connect(socket)
            .await
            .map_err(|e| format!("connecting to {}: {e}", socket.display()))?;
        let replies = bus
            .call("mesh_vpn", method, args, CALL_TIMEOUT)
            .await
            .map_err(|e| format!("mesh_vpn {method}: {e}"))?;
        let table = replies.into_iter().next().unwrap_or_default();
        Ok(ubus_wire::json::from_table(&table))
    })
}

/// Polls `status` until `done` holds; returns that status and how long it
/// took. Fails after `limit` or on Ctrl-C, with the last status seen.
pub fn wait_for_status(
    socket: &Path,
    what: &str,
    limit: Duration,
    mut done: impl FnMut(&Value) -> bool,
) -> Result<(Value, Duration), String> {
    let start = Instant::now();
    let mut last = Value::Null;
    loop {
        if let Ok(status) = call(socket, "status", Table::new()) {
            if done(&status) {
                return Ok((status, start.elapsed()));
            }
            last = status;
        }
        if interrupted() {
            return Err("interrupted".into());
        }
        if start.elapsed() >= limit {
            return Err(format!(
                "no {what} within {} s; last status: {last}",
                limit.as_secs()
            ));
        }
        std::thread::sleep(POLL);
    }
}
