//! Network-namespace test hosts: named namespaces that remove themselves,
//! threads that run inside one, and command helpers for the test's own
//! tooling (ip, wg, ping: processes are fine on the test side). Shared by the
//! data-plane and WAN tests, the uplink test and the demo.

pub mod gateway;
pub mod node;

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::{JoinHandle, sleep};
use std::time::{Duration, Instant};

/// Why these tests cannot run here, if they cannot.
pub fn missing_prerequisite(tools: &[&str]) -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root for network namespaces".into());
    }
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            return Some(format!(
                "{tool} not installed (scripts/install-deps.sh test)"
            ));
        }
    }
    None
}

/// A short suffix unique to this process and call, for names that are
/// global (namespace names, wireguard-go socket paths).
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}{}", std::process::id() % 100_000, n)
}

/// Runs a command, returns its output whatever the status.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a command that must succeed; returns stdout.
pub fn sh(program: &str, args: &[&str]) -> String {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {}: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether a command succeeds (its output is dropped).
pub fn succeeds(program: &str, args: &[&str]) -> bool {
    run(program, args).status.success()
}

/// Polls `ready` every 50 ms for up to `limit`; returns how long it took.
pub fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out after {limit:?}: {what}");
        sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

/// Inside the kernel lab (`scripts/kernel-lab.sh` sets this in the guest).
pub fn in_kernel_lab() -> bool {
    std::env::var_os("MESH_VPN_WG_KERNEL_LAB").is_some_and(|value| value == "1")
}

/// Loads kernel modules (the lab's kernel has them all as modules); loading
/// a loaded one again is a no-op.
pub fn load_modules(modules: &[&str]) {
    for module in modules {
        sh("modprobe", &[module]);
    }
}

/// Where `ip` is, found once on the test's own PATH.
fn ip_program() -> &'static std::path::Path {
    static IP: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    IP.get_or_init(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join("ip"))
            .find(|file| file.is_file())
            .unwrap_or_else(|| "ip".into())
    })
}

pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(prefix: &str) -> Netns {
        let name = format!("{prefix}{}", unique_suffix());
        sh("ip", &["netns", "add", &name]);
        sh("ip", &["-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    /// `ip -n NAME args...`
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        sh("ip", &all)
    }

    /// Runs any command inside the namespace.
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        let mut all = vec!["netns", "exec", &self.name, program];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// A command that will run inside the namespace, in a process group of
    /// its own so a Ctrl-C at the terminal reaches only the demo, which then
    /// stops its children in order.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        use std::os::unix::process::CommandExt;
        // By absolute path: a caller may give the command a PATH without `ip`.
        let mut command = Command::new(ip_program());
        command
            .args(["netns", "exec", &self.name])
            .arg(program)
            .stdin(Stdio::null())
            .process_group(0);
        command
    }

    /// Like [`Netns::command`], but joins only the network namespace
    /// (`nsenter --net`): `/sys` still shows the namespace that mounted it.
    pub fn command_without_remount(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--net=/var/run/netns/{}", self.name))
            .arg(program)
            .stdin(Stdio::null())
            .process_group(0);
        command
    }

    /// Runs `f` on a thread that has joined this namespace; processes and
    /// sockets it creates live there.
    pub fn thread<T, F>(&self, f: F) -> JoinHandle<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: setns on a valid namespace fd only affects this thread.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

/// The pids of this test process's live children, over all its threads.
pub fn child_pids() -> BTreeSet<u32> {
    let mut pids = BTreeSet::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return pids;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|pid| pid.parse::<u32>().ok()),
            );
        }
    }
    pids
}
