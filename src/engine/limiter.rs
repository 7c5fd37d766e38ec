//! Keeps a steady failure from writing a log line every few seconds: each
//! kind of line (a key) is written the first three times (so one failover
//! reads in full), then at most once per window, the window doubling from
//! 1 min to 1 h while the key keeps recurring; the written line says how
//! many were left out. A key quiet for a whole window starts over. In a
//! steady failure that means at most 6 lines per key in 10 minutes.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

pub const FIRST_WINDOW: Duration = Duration::from_secs(60);
pub const LONGEST_WINDOW: Duration = Duration::from_secs(3600);
/// Lines of one key written freely before the window applies.
pub const BURST: u32 = 3;

#[derive(Debug, Default)]
pub struct Limiter {
    keys: HashMap<String, Key>,
}

#[derive(Debug)]
struct Key {
    window: Duration,
    next_allowed: Instant,
    last_seen: Instant,
    left_out: u32,
    burst_left: u32,
}

impl Limiter {
    /// `Some(n)`: write the line, `n` like it were left out since the last
    /// one; `None`: leave it out.
    pub fn admit(&mut self, key: &str, now: Instant) -> Option<u32> {
        let fresh = Key {
            window: FIRST_WINDOW,
            next_allowed: now + FIRST_WINDOW,
            last_seen: now,
            left_out: 0,
            burst_left: BURST - 1,
        };
        let Some(state) = self.keys.get_mut(key) else {
            self.keys.insert(key.to_string(), fresh);
            return Some(0);
        };
        let quiet = now.saturating_duration_since(state.last_seen) >= state.window;
        state.last_seen = now;
        if quiet {
            let left_out = state.left_out;
            *state = fresh;
            return Some(left_out);
        }
        if state.burst_left > 0 {
            state.burst_left -= 1;
            return Some(0);
        }
        if now < state.next_allowed {
            state.left_out += 1;
            return None;
        }
        let left_out = std::mem::take(&mut state.left_out);
        state.window = (state.window * 2).min(LONGEST_WINDOW);
        state.next_allowed = now + state.window;
        Some(left_out)
    }
}

/// The suffix of a written line that had similar ones left out before it.
pub fn left_out_note(left_out: u32) -> String {
    match left_out {
        0 => String::new(),
        n => format!(" ({n} similar lines left out)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_line_every_5_s_for_10_min_is_written_6_times() {
        let mut limiter = Limiter::default();
        let mut written = Vec::new();
        for _ in 0..120 {
            if let Some(n) = limiter.admit("health:http:1", Instant::now()) {
                written.push(n);
            }
            tokio::time::advance(Duration::from_secs(5)).await;
        }
        assert_eq!(written, [0, 0, 0, 9, 23, 47]);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_independent_and_a_quiet_key_starts_over() {
        let mut limiter = Limiter::default();
        for _ in 0..BURST {
            assert_eq!(limiter.admit("a", Instant::now()), Some(0));
        }
        assert_eq!(limiter.admit("b", Instant::now()), Some(0));
        assert_eq!(limiter.admit("a", Instant::now()), None);
        tokio::time::advance(FIRST_WINDOW).await;
        assert_eq!(limiter.admit("a", Instant::now()), Some(1));
    }
}
