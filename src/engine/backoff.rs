//! How long to wait after a failed reconnect cycle: exponential backoff with
//! full jitter (a uniform wait between zero and the current ceiling), from 5 s
//! up to 10 min, reset by a successful connection. checkuplink instead retried
//! every minute forever, so a broker outage met a constant storm.

use std::time::Duration;

use super::random::Random;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
    random: Random,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy, random: Random) -> Backoff {
        Backoff {
            policy,
            failures: 0,
            random,
        }
    }

    /// The ceiling for the next wait: initial × 2^(failures−1), capped.
    pub fn ceiling(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(31);
        self.policy
            .initial
            .saturating_mul(1 << doublings)
            .min(self.policy.max)
    }

    /// Records a failed cycle and returns how long to wait before the next.
    pub fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.ceiling().as_millis() as u64;
        Duration::from_millis(self.random.up_to(ceiling))
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_from_5_s_to_the_10_min_cap_and_resets() {
        let mut b = Backoff::new(BackoffPolicy::default(), Random::new(3));
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let wait = b.fail();
            assert!(wait <= b.ceiling());
            ceilings.push(b.ceiling().as_secs());
        }
        assert_eq!(ceilings, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        b.reset();
        b.fail();
        assert_eq!(b.ceiling(), Duration::from_secs(5));
    }

    #[test]
    fn full_jitter_spreads_waits_over_the_whole_range() {
        let mut b = Backoff::new(BackoffPolicy::default(), Random::new(9));
        for _ in 0..8 {
            b.fail();
        }
        let waits: Vec<u64> = (0..200).map(|_| b.fail().as_secs()).collect();
        assert!(
            waits.iter().any(|w| *w < 120) && waits.iter().any(|w| *w > 480),
            "{waits:?}"
        );
        assert!(waits.iter().all(|w| *w <= 600));
    }
}
