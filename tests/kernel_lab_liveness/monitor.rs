//! Today's check (HTTP GET every 5 s, 5 s timeout, alarm after 3 failures
//! in a row), run beside the daemon for the liveness benchmark.

use super::*;

/// Today's check, run beside the daemon in the node namespace.
pub(crate) struct Monitor {
    pub(crate) shared: Arc<Mutex<MonitorState>>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
pub(crate) struct MonitorState {
    /// The gateway link address to check.
    pub(crate) target: Option<Ipv6Addr>,
    /// The target stays put (a killed gateway), whatever the daemon does.
    pub(crate) pinned: bool,
    pub(crate) daemon_connected: bool,
    /// Times the daemon left `connected`, so a check can tell it overlapped one.
    pub(crate) daemon_drops: u64,
    pub(crate) checks: u64,
    pub(crate) failures: u64,
    pub(crate) failures_daemon_down: u64,
    pub(crate) streak: u32,
    pub(crate) alarm_times: Vec<Instant>,
    /// When the latest check ended, and whether it passed.
    pub(crate) last: Option<(Instant, bool)>,
    pub(crate) last_error: Option<String>,
}

#[derive(Clone, Copy)]
pub(crate) struct MonitorCounts {
    pub(crate) checks: u64,
    pub(crate) failures: u64,
    pub(crate) failures_daemon_down: u64,
    pub(crate) alarms: usize,
}

impl MonitorCounts {
    pub(crate) fn since(&self, before: &MonitorCounts) -> MonitorCounts {
        MonitorCounts {
            checks: self.checks - before.checks,
            failures: self.failures - before.failures,
            failures_daemon_down: self.failures_daemon_down - before.failures_daemon_down,
            alarms: self.alarms - before.alarms,
        }
    }
}

impl MonitorState {
    pub(crate) fn counts(&self) -> MonitorCounts {
        MonitorCounts {
            checks: self.checks,
            failures: self.failures,
            failures_daemon_down: self.failures_daemon_down,
            alarms: self.alarm_times.len(),
        }
    }
}

impl Monitor {
    pub(crate) fn start(node: &Netns, iface: &str) -> Monitor {
        let shared = Arc::new(Mutex::new(MonitorState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (state, flag, iface) = (shared.clone(), stop.clone(), iface.to_string());
        let thread = node.thread(move || run_checks(&state, &flag, &iface));
        Monitor {
            shared,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, MonitorState> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every 5 s at a fixed rate (a check that ran into its timeout does not push
/// the next one back), as the daemon's 5 s scheme does.
pub(crate) fn run_checks(shared: &Mutex<MonitorState>, stop: &AtomicBool, iface: &str) {
    let lock = || shared.lock().unwrap_or_else(|e| e.into_inner());
    let mut due = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now < due {
            sleep((due - now).min(Duration::from_millis(100)));
            continue;
        }
        due = (due + CHECK_INTERVAL).max(now);
        let (target, up_before, drops_before) = {
            let s = lock();
            (s.target, s.daemon_connected, s.daemon_drops)
        };
        let Some(target) = target else {
            continue;
        };
        let result = http_get(iface, target);
        let mut s = lock();
        s.checks += 1;
        s.last = Some((Instant::now(), result.is_ok()));
        match result {
            Ok(()) => s.streak = 0,
            Err(e) => {
                s.failures += 1;
                if !up_before || !s.daemon_connected || s.daemon_drops != drops_before {
                    s.failures_daemon_down += 1;
                }
                s.streak += 1;
                if s.streak >= CHECK_FAILURES {
                    s.alarm_times.push(Instant::now());
                    s.streak = 0;
                }
                s.last_error = Some(e);
            }
        }
    }
}

/// `GET /` on `[gateway%iface]:80` within 5 s in all; any 2xx or 3xx passes.
/// The same request as `src/daemon/ports/probe.rs`, written with blocking std
/// sockets so this bench does not depend on the daemon's code.
pub(crate) fn http_get(iface: &str, gateway: Ipv6Addr) -> Result<(), String> {
    let deadline = Instant::now() + CHECK_TIMEOUT;
    let scope = ifindex(iface);
    if scope == 0 {
        return Err(format!("{iface} does not exist"));
    }
    let target = SocketAddr::V6(SocketAddrV6::new(gateway, 80, 0, scope));
    let timed_out = |e: std::io::Error| match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => "no answer within 5 s".to_string(),
        _ => e.to_string(),
    };
    let left = || {
        let left = deadline.saturating_duration_since(Instant::now());
        (!left.is_zero())
            .then_some(left)
            .ok_or_else(|| "no answer within 5 s".to_string())
    };
    let mut stream = TcpStream::connect_timeout(&target, CHECK_TIMEOUT).map_err(timed_out)?;
    stream.set_write_timeout(Some(left()?)).map_err(timed_out)?;
    let request =
        format!("GET / HTTP/1.0\r\nHost: [{gateway}]\r\nUser-Agent: liveness-bench\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(timed_out)?;
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        stream.set_read_timeout(Some(left()?)).map_err(timed_out)?;
        match stream.read(&mut head[len..]).map_err(timed_out)? {
            0 => break,
            n => len += n,
        }
    }
    let status = std::str::from_utf8(&head[..len])
        .ok()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("no HTTP status line in the answer")?;
    match status {
        200..=399 => Ok(()),
        other => Err(format!("answered HTTP {other}")),
    }
}
