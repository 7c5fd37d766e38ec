//! The `status` reply, encoded once and sent again while it would read the
//! same: the snapshot has not changed and no seconds figure in it has ticked
//! over. Under a burst of callers most calls then cost a copy, not a render.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::watch;
use ubus_wire::{Data, blobmsg};

use super::status::Ages;
use crate::engine::state::Snapshot;

pub struct StatusReply {
    cached: Mutex<Cached>,
}

struct Cached {
    snapshot: watch::Receiver<Snapshot>,
    /// The encoded table and the instant from which it would read differently.
    encoded: Option<(Vec<u8>, Instant)>,
}

impl StatusReply {
    pub fn new(snapshot: watch::Receiver<Snapshot>) -> StatusReply {
        StatusReply {
            cached: Mutex::new(Cached {
                snapshot,
                encoded: None,
            }),
        }
    }

    /// The reply as of `now`.
    pub fn at(&self, now: Instant) -> Result<Data, ubus_wire::Error> {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        // A closed channel (the engine is gone) keeps its last snapshot; still exact.
        let changed = cached.snapshot.has_changed().unwrap_or(false);
        if let Some((bytes, valid_until)) = &cached.encoded
            && !changed
            && now < *valid_until
        {
            return Ok(Data::Raw(bytes.clone()));
        }
        let ages = Ages::new(now);
        let table = cached.snapshot.borrow_and_update().render(&ages);
        let bytes = blobmsg::encode_table(&table)?;
        cached.encoded = ages.valid_until().map(|until| (bytes.clone(), until));
        Ok(Data::Raw(bytes))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn status_at(reply: &StatusReply, now: Instant) -> ubus_wire::Table {
        match reply.at(now).expect("encodes") {
            Data::Raw(bytes) => blobmsg::decode_table_body(&bytes).expect("decodes"),
            other => panic!("expected encoded bytes, got {other:?}"),
        }
    }

    fn since(table: &ubus_wire::Table) -> Option<i64> {
        table.get("since").and_then(|v| v.as_i64())
    }

    #[test]
    fn a_reply_is_reused_only_while_it_reads_the_same() {
        let snapshot = Snapshot::starting(
            true,
            None,
            7,
            crate::loadbalancing::decide(None, None),
            "b".into(),
        );
        let start = snapshot.since;
        let (tx, rx) = watch::channel(snapshot);
        let reply = StatusReply::new(rx);
        let at = |ms| start + Duration::from_millis(ms);

        assert_eq!(since(&status_at(&reply, at(200))), Some(0));
        assert_eq!(since(&status_at(&reply, at(999))), Some(0));
        // One second in, `since` ticks over: the cached reply is not served.
        assert_eq!(since(&status_at(&reply, at(1000))), Some(1));
        tx.send_modify(|s| s.reconnects = 3);
        let fresh = status_at(&reply, at(1001));
        let counters = fresh.get("counters").and_then(|v| v.as_table()).unwrap();
        assert_eq!(counters.get("reconnects").and_then(|v| v.as_i64()), Some(3));
    }

    #[test]
    fn countdowns_tick_down_on_the_second() {
        let mut snapshot = Snapshot::starting(
            true,
            None,
            7,
            crate::loadbalancing::decide(None, None),
            "b".into(),
        );
        let start = snapshot.since;
        snapshot.next_attempt = Some(start + Duration::from_millis(10_500));
        let reply = StatusReply::new(watch::channel(snapshot).1);
        let next = |ms| {
            let table = status_at(&reply, start + Duration::from_millis(ms));
            table.get("next_attempt_in").and_then(|v| v.as_i64())
        };
        assert_eq!(next(0), Some(10));
        assert_eq!(next(499), Some(10));
        assert_eq!(next(500), Some(10));
        assert_eq!(next(501), Some(9));
        assert_eq!(next(20_000), Some(0));
    }
}
