//! The daemon on the node: `ip netns exec NODE mesh-vpn-wg --root TREE daemon
//! --foreground --ubus-socket SOCK`, its log in the tree, and its `mesh_vpn`
//! object read over the test ubusd.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use ubus_wire::{Bus, Table};

use super::interrupt::interrupted;
use crate::netns::Netns;

const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Short enough to see `exchanging_key` and `connecting` between two `connected`s.
const POLL: Duration = Duration::from_millis(50);

pub struct NodeDaemon {
    child: Option<Child>,
    log: PathBuf,
}

impl NodeDaemon {
    /// `path`: the PATH the daemon sees, when not the test's own;
    /// `nsenter`: join the namespace without remounting sysfs.
    pub fn start(
        node: &Netns,
        binary: &Path,
        root: &Path,
        socket: &Path,
        path: Option<&OsStr>,
        nsenter: bool,
    ) -> Result<Self, String> {
        let log = root.join("daemon.log");
        let stderr = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = match nsenter {
            true => node.command_without_remount(binary),
            false => node.command(binary),
        };
        if let Some(path) = path {
            command.env("PATH", path);
        }
        let child = command
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

    /// The daemon's pid (`ip netns exec` execs it in place).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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
    StatusReader::new(socket)?.call(method, args)
}

/// A ubus client kept open between calls, so `status` can be polled often
/// enough to see the short states between two `connected`s.
pub struct StatusReader {
    socket: PathBuf,
    runtime: tokio::runtime::Runtime,
    bus: Option<Bus>,
}

impl StatusReader {
    pub fn new(socket: &Path) -> Result<StatusReader, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("tokio runtime: {e}"))?;
        Ok(StatusReader {
            socket: socket.to_path_buf(),
            runtime,
            bus: None,
        })
    }

    pub fn call(&mut self, method: &str, args: Table) -> Result<Value, String> {
        let socket = &self.socket;
        let bus = &mut self.bus;
        let result = self.runtime.block_on(async {
            if bus.is_none() {
                let fresh = Bus::connect(socket)
                    .await
                    .map_err(|e| format!("connecting to {}: {e}", socket.display()))?;
                *bus = Some(fresh);
            }
            let Some(connected) = bus.as_ref() else {
                return Err("no bus".to_string());
            };
            let replies = connected
                .call("mesh_vpn", method, args, CALL_TIMEOUT)
                .await
                .map_err(|e| format!("mesh_vpn {method}: {e}"))?;
            let table = replies.into_iter().next().unwrap_or_default();
            Ok(ubus_wire::json::from_table(&table))
        });
        if result.is_err() {
            // Next time, start over with a fresh connection (ubusd may have restarted).
            self.bus = None;
        }
        result
    }

    /// Polls `status` until `done` holds; returns that status and how long it
    /// took. Fails after `limit` or on Ctrl-C, with the last status seen.
    pub fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&Value) -> bool,
    ) -> Result<(Value, Duration), String> {
        let start = Instant::now();
        let mut last = Value::Null;
        loop {
            if let Ok(status) = self.call("status", Table::new()) {
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
}
