//! The once-a-second counter read, off the runtime thread and without an
//! allocation per read.
//!
//! Why not inline on the runtime thread, which also serves ubus: a kernel
//! GetDevice dump needs no other process, but wg_get_device_dump takes the
//! RTNL lock (drivers/net/wireguard/netlink.c), which netifd, hostapd or a
//! wifi driver may hold for tens or hundreds of milliseconds; wireguard-go
//! answers when its Go scheduler gets to it, and not at all when it hangs.
//! Why not `spawn_blocking` as the rest of the data plane: it allocates a
//! task for every call. So one thread, started with the first read, owns the
//! [`CounterReader`] and waits on a condition variable; the runtime side asks
//! through a mutex-guarded slot and awaits a `Notify`: neither allocates.
//! No deadline of its own: every socket operation of the reader times out
//! after a second, and the kernel's dump ends once it has the RTNL lock.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use crate::dataplane::wireguard::{CounterReader, PeerCounters};
use crate::error::Result;

pub struct CounterSampler {
    shared: Arc<Shared>,
    started: bool,
}

struct Shared {
    slot: Mutex<Slot>,
    asked: Condvar,
    answered: Notify,
    reader: Mutex<CounterReader>,
}

enum Slot {
    Idle,
    Asked,
    Answered(Result<PeerCounters>),
    /// The sampler is gone: the thread ends.
    Closed,
}

impl Shared {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CounterSampler {
    pub fn new(reader: CounterReader) -> CounterSampler {
        CounterSampler {
            shared: Arc::new(Shared {
                slot: Mutex::new(Slot::Idle),
                asked: Condvar::new(),
                answered: Notify::new(),
                reader: Mutex::new(reader),
            }),
            started: false,
        }
    }

    /// One read of the counters. A read that an earlier, cancelled call
    /// left running is awaited rather than asked again.
    pub async fn read(&mut self) -> std::result::Result<PeerCounters, String> {
        self.start()?;
        {
            let mut slot = self.shared.slot();
            if !matches!(*slot, Slot::Asked) {
                // Idle, or a stale answer nobody waited for.
                *slot = Slot::Asked;
                self.shared.asked.notify_one();
            }
        }
        loop {
            // Created before looking: a notification in between is kept as
            // a permit, so none is lost (a stale permit only loops once more).
            let answered = self.shared.answered.notified();
            {
                let mut slot = self.shared.slot();
                if matches!(*slot, Slot::Answered(_)) {
                    let Slot::Answered(result) = std::mem::replace(&mut *slot, Slot::Idle) else {
                        unreachable!()
                    };
                    return result.map_err(|e| e.to_string());
                }
            }
            answered.await;
        }
    }

    fn start(&mut self) -> std::result::Result<(), String> {
        if self.started {
            return Ok(());
        }
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("wg-counters".into())
            .spawn(move || serve(&shared))
            .map_err(|e| format!("starting the WireGuard counter thread: {e}"))?;
        self.started = true;
        Ok(())
    }
}

impl Drop for CounterSampler {
    fn drop(&mut self) {
        *self.shared.slot() = Slot::Closed;
        self.shared.asked.notify_one();
    }
}

fn serve(shared: &Shared) {
    loop {
        let mut slot = shared.slot();
        loop {
            match *slot {
                Slot::Asked => break,
                Slot::Closed => return,
                Slot::Idle | Slot::Answered(_) => {
                    slot = shared
                        .asked
                        .wait(slot)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            }
        }
        drop(slot);
        let result = shared
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .read();
        let mut slot = shared.slot();
        if matches!(*slot, Slot::Closed) {
            return;
        }
        *slot = Slot::Answered(result);
        drop(slot);
        shared.answered.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// A stand-in for wireguard-go's UAPI socket: answers `get=1` with a
    /// growing receive counter, and closes each connection after one answer
    /// when `one_per_connection`. Returns the number of connections so far.
    fn fake_wireguard_go(path: &std::path::Path, one_per_connection: bool) -> Arc<AtomicUsize> {
        let listener = UnixListener::bind(path).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        // Not AtomicU64: the big-endian test target (32-bit powerpc) has none.
        let rx = AtomicUsize::new(0);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counted.fetch_add(1, Ordering::SeqCst);
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line != "\n" {
                        line.clear();
                        continue;
                    }
                    line.clear();
                    let rx = rx.fetch_add(100, Ordering::SeqCst) + 100;
                    let answer = format!(
                        "private_key={}\nlisten_port=1\npublic_key={}\n\
                         last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=0\n\
                         tx_bytes=7\nrx_bytes={rx}\nerrno=0\n\n",
                        "01".repeat(32),
                        "ab".repeat(32)
                    );
                    if stream.write_all(answer.as_bytes()).is_err() || one_per_connection {
                        break;
                    }
                }
            }
        });
        connections
    }

    #[tokio::test]
    async fn reads_go_over_one_connection_kept_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wg.sock");
        let connections = fake_wireguard_go(&path, false);
        let mut sampler = CounterSampler::new(CounterReader::userspace("wg-test", path));
        for i in 1..=5 {
            let counters = sampler.read().await.unwrap();
            assert_eq!((counters.rx_bytes, counters.tx_bytes), (100 * i, 7));
            assert!(counters.last_handshake.is_some());
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_closed_connection_is_reopened_within_the_same_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wg.sock");
        let connections = fake_wireguard_go(&path, true);
        let mut sampler = CounterSampler::new(CounterReader::userspace("wg-test", path));
        for i in 1..=4 {
            assert_eq!(sampler.read().await.unwrap().rx_bytes, 100 * i);
        }
        assert_eq!(connections.load(Ordering::SeqCst), 4);
    }

    /// wireguard-go accepts but never answers: the read fails after the
    /// socket timeout, and the runtime thread (ubus's) runs on meanwhile.
    #[tokio::test]
    async fn a_hung_wireguard_go_never_holds_up_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wg.sock");
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
        });
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticking = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticking.fetch_add(1, Ordering::SeqCst);
            }
        });
        let mut sampler = CounterSampler::new(CounterReader::userspace("wg-test", path));
        let start = std::time::Instant::now();
        let error = sampler.read().await.unwrap_err();
        let waited = start.elapsed();
        ticker.abort();
        assert!(
            error.starts_with("read wireguard counters wg-test (UAPI get): "),
            "{error}"
        );
        let limit = Duration::from_millis(900)..Duration::from_secs(3);
        assert!(limit.contains(&waited), "{waited:?}");
        let ticks = ticks.load(Ordering::SeqCst);
        assert!(
            ticks >= 50,
            "the runtime ticked only {ticks} times in {waited:?}"
        );
    }
}
