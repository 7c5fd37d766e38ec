//! What an admin reads in the log: a gateway death leaves a trail (each
//! failed check with its layer, the reason for leaving `connected`), and a
//! steady failure writes a bounded number of lines.

use std::cell::RefCell;

use log::{LevelFilter, Log, Metadata, Record};

use super::*;

thread_local! {
    static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Keeps each thread's lines apart, so parallel tests do not mix.
struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata) -> bool {
        true
    }
    fn log(&self, record: &Record) {
        let line = format!(
            "{}: {}",
            record.level().as_str().to_lowercase(),
            record.args()
        );
        LINES.with(|lines| lines.borrow_mut().push(line));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

fn capture() {
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(LevelFilter::Info);
    LINES.with(|lines| lines.borrow_mut().clear());
}

fn lines() -> Vec<String> {
    LINES.with(|lines| lines.borrow().clone())
}

#[test]
fn a_gateway_death_leaves_a_readable_trail() {
    run(config(false), |node| async move {
        // The whole node: a block that named only some of its fields would
        // capture just those and drop the command sender, stopping the engine.
        let node = node;
        capture();
        advance(10.0).await;
        let first = node.snapshot.borrow().peer.as_ref().unwrap().name.clone();
        node.world.borrow_mut().alive.remove(&first);
        advance(20.0).await;
        let log = lines().join("\n");
        let expected = format!(
            "warn: leaving connected to {first}: silent 5 s, 3 probes to fe80::1 unanswered \
             (http probe: gave no answer within 5 s)"
        );
        assert!(log.contains(&expected), "missing `{expected}` in\n{log}");
        let leave = log.find("leaving connected").unwrap();
        assert!(
            log[leave..].contains("info: connected: handshake with"),
            "{log}"
        );
    });
}

#[test]
fn a_steady_failure_for_10_minutes_writes_a_bounded_log() {
    run(config(false), |node| async move {
        // The whole node: a block that named only some of its fields would
        // capture just those and drop the command sender, stopping the engine.
        let node = node;
        capture();
        advance(3.0).await;
        // The gateway handshakes but nothing comes back through the tunnel.
        {
            let mut world = node.world.borrow_mut();
            world.http_answers = false;
            world.gateway_sends = false;
        }
        let reconnects_before = node.snapshot.borrow().reconnects;
        capture();
        advance(600.0).await;
        let lines = lines();
        let reconnects = node.snapshot.borrow().reconnects - reconnects_before;
        eprintln!(
            "steady failure, 10 min: {} log lines for {reconnects} reconnects",
            lines.len(),
        );
        // From the second link in a row that never carried a byte, the node
        // backs off like after a failed cycle (5 s doubling to 10 min),
        // instead of reconnecting every 6 s (about 100 times).
        assert!(
            (4..=20).contains(&reconnects),
            "backs off, yet keeps trying: {reconnects}"
        );
        assert!(
            lines.len() <= 60,
            "{} lines:\n{}",
            lines.len(),
            lines.join("\n")
        );
        let log = lines.join("\n");
        assert!(log.contains("leaving connected"), "{log}");
        assert!(log.contains("backoff: "), "{log}");
    });
}
