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
//! through a mutex-guarded slot and awaits a `Notify` under a deadline:
//! neither allocates.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::dataplane::wireguard::{CounterReader, PeerCounters};
use crate::error::Result;

/// Longer than the reader's worst case (1 s per socket operation, one
/// reconnect): past it the sample counts as silence and the read goes on.
const ANSWER_WAIT: Duration = Duration::from_secs(3);

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

    /// One read of the counters. A read that an earlier, timed-out call
    /// left running is awaited rather than asked again.
    pub async fn read(&mut self) -> std::result::Result<PeerCounters, String> {
        self.start()?;
        let deadline = Instant::now() + ANSWER_WAIT;
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
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return Err(format!(
                    "no WireGuard counters within {} s",
                    ANSWER_WAIT.as_secs()
                ));
            }
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
