//! Userspace WireGuard: the daemon starts `wireguard-go -f IFACE` once per
//! interface, owns that child, and then speaks the UAPI text protocol on
//! `/var/run/wireguard/IFACE.sock`. Steady state spawns nothing.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::uapi_text;
use super::{CounterReader, DeviceConfig, DeviceState, WireGuard};
use crate::dataplane::count_spawn;
use crate::dataplane::rtnl::Rtnl;
use crate::error::{Error, Result};

const SOCKET_WAIT: Duration = Duration::from_secs(5);
const STOP_WAIT: Duration = Duration::from_secs(2);
const IO_TIMEOUT: Duration = Duration::from_secs(5);

pub struct UserspaceWireGuard {
    program: PathBuf,
    socket_dir: PathBuf,
    children: HashMap<String, Child>,
}

impl UserspaceWireGuard {
    /// `program` is usually `wireguard-go`; the sockets live in
    /// `/var/run/wireguard` as wireguard-go hard-codes.
    pub fn new(program: impl Into<PathBuf>) -> UserspaceWireGuard {
        UserspaceWireGuard {
            program: program.into(),
            socket_dir: PathBuf::from("/var/run/wireguard"),
            children: HashMap::new(),
        }
    }

    fn socket_path(&self, name: &str) -> PathBuf {
        self.socket_dir.join(format!("{name}.sock"))
    }

    fn exchange(&self, name: &str, request: &str, operation: &'static str) -> Result<String> {
        let path = self.socket_path(name);
        let fail = |source| Error::dataplane(operation, name, path.display().to_string(), source);
        let mut stream = UnixStream::connect(&path).map_err(fail)?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(fail)?;
        stream.write_all(request.as_bytes()).map_err(fail)?;
        read_reply(&stream).map_err(fail)
    }

    fn wait_for_socket(&mut self, name: &str) -> Result<()> {
        let path = self.socket_path(name);
        let deadline = Instant::now() + SOCKET_WAIT;
        loop {
            if UnixStream::connect(&path).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.children.get_mut(name) {
                if let Ok(Some(status)) = child.try_wait() {
                    self.children.remove(name);
                    let source = io::Error::other(format!("exited with {status}"));
                    return Err(self.spawn_error(name, source));
                }
            }
            if Instant::now() > deadline {
                self.stop(name);
                let source = io::Error::new(io::ErrorKind::TimedOut, "no UAPI socket after 5 s");
                return Err(self.spawn_error(name, source));
            }
            sleep(Duration::from_millis(20));
        }
    }

    fn spawn_error(&self, name: &str, source: io::Error) -> Error {
        Error::dataplane(
            "start wireguard-go",
            name,
            self.program.display().to_string(),
            source,
        )
    }

    /// SIGTERM lets wireguard-go remove its TUN device and socket; SIGKILL
    /// follows if it does not exit in time.
    fn stop(&mut self, name: &str) {
        let Some(mut child) = self.children.remove(name) else {
            return;
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) on our own child's pid has no memory effects.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + STOP_WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl WireGuard for UserspaceWireGuard {
    fn link_kind(&self) -> &'static str {
        "tun"
    }

    fn create(&mut self, name: &str) -> Result<()> {
        self.stop(name);
        let child = Command::new(&self.program)
            .arg("-f")
            .arg(name)
            .env("WG_PROCESS_FOREGROUND", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| self.spawn_error(name, source))?;
        count_spawn();
        self.children.insert(name.to_string(), child);
        self.wait_for_socket(name)
    }

    fn configure(&mut self, name: &str, config: &DeviceConfig) -> Result<()> {
        let reply = self.exchange(name, &uapi_text::set_request(config), "configure wireguard")?;
        uapi_text::check_errno(&reply)
            .map_err(|source| Error::dataplane("configure wireguard", name, "UAPI set", source))
    }

    fn device(&mut self, name: &str) -> Result<DeviceState> {
        let reply = self.exchange(name, "get=1\n\n", "read wireguard device")?;
        uapi_text::check_errno(&reply).map_err(|source| {
            Error::dataplane("read wireguard device", name, "UAPI get", source)
        })?;
        Ok(uapi_text::parse_get(&reply))
    }

    fn counter_reader(&self, name: &str) -> CounterReader {
        CounterReader::userspace(name, self.socket_path(name))
    }

    fn delete(&mut self, name: &str) -> Result<()> {
        self.stop(name);
        let fail = |source| Error::dataplane("delete link", name, "wireguard-go tun", source);
        let mut rtnl = Rtnl::open().map_err(fail)?;
        if let Some(link) = rtnl.link(name).map_err(fail)? {
            rtnl.delete_link(link.index).map_err(fail)?;
        }
        remove_stale_socket(&self.socket_path(name));
        Ok(())
    }

    fn is_alive(&mut self, name: &str) -> bool {
        match self.children.get_mut(name) {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            // Not ours (e.g. a daemon restart): alive if it still answers.
            None => UnixStream::connect(self.socket_path(name)).is_ok(),
        }
    }
}

impl Drop for UserspaceWireGuard {
    fn drop(&mut self) {
        let names: Vec<String> = self.children.keys().cloned().collect();
        for name in names {
            self.stop(&name);
        }
    }
}

fn remove_stale_socket(path: &Path) {
    if UnixStream::connect(path).is_err() {
        let _ = std::fs::remove_file(path);
    }
}

/// Reads until the blank line that ends every UAPI answer.
fn read_reply(stream: &UnixStream) -> io::Result<String> {
    let mut reader = BufReader::new(stream);
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\n" {
            return Ok(reply);
        }
        reply.push_str(&line);
    }
}
