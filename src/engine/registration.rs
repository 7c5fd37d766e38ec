//! When to register the key again while connected without the broker (the
//! gateway knew the key, the key exchange failed). Not urgent: the gateway
//! in use keeps the key while it handshakes, and the key exchange of any
//! later reconnect cycle registers it too. So the retries are spread thin:
//! the first at a uniform random time within `window` (1 h) of connecting,
//! then full jitter whose ceiling doubles from `window` up to `max` (2 h).
//! The failed-cycle backoff ([`super::backoff`]) is a separate schedule and
//! is not touched by these retries.
//!
//! Why these numbers, for 10,000 nodes restarted together by a city-wide
//! power blip into a 10-minute broker outage, against a goal of ≤ 20
//! broker requests/s on average (`cargo bench --bench broker_outage`):
//! - the key exchange each node makes at boot is 10,000 requests, already
//!   16.7/s over 600 s; that leaves 3.3/s, 2,000 requests, for the retries;
//! - a first retry uniform over `window` falls within the outage for
//!   600 s / `window` of the nodes: 1/6 with 1 h, 1,667 requests (2.8/s;
//!   measured: 11,768 requests in all, 19.6/s); the backoff's schedule
//!   made 86,270 (143.8/s);
//! - in a longer outage each node retries on average every `max` / 2 =
//!   1 h: 10,000 / 3,600 s = 2.8/s, still within the 3.3/s;
//! - the cost is the time to registration once the broker is back: up to
//!   `window` for the 5 in 6 whose first try falls after the outage,
//!   up to `max` for the others: measured p50 28 min, p90 50 min, max 2 h
//!   after a 10-minute outage; `reconnect` registers at once.

use std::time::Duration;

use super::random::Random;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// The first retry comes at a uniform random time within this.
    pub window: Duration,
    /// The ceiling doubles from `window` to this.
    pub max: Duration,
}

impl RegistrationPolicy {
    /// The schedule for a window set per node: the cap is twice the window.
    pub fn with_window(window: Duration) -> RegistrationPolicy {
        RegistrationPolicy {
            window,
            max: window.saturating_mul(2),
        }
    }
}

impl Default for RegistrationPolicy {
    fn default() -> Self {
        RegistrationPolicy::with_window(Duration::from_secs(3600))
    }
}

/// The retries of one connection without the broker.
#[derive(Debug, Clone)]
pub struct Registration {
    policy: RegistrationPolicy,
    attempts: u32,
    random: Random,
}

impl Registration {
    pub fn new(random: Random) -> Registration {
        Registration {
            policy: RegistrationPolicy::default(),
            attempts: 0,
            random,
        }
    }

    /// Connected without the broker: how long until the first retry. The
    /// policy is taken afresh, so a reload applies from the next connection.
    pub fn start(&mut self, policy: RegistrationPolicy) -> Duration {
        self.policy = policy;
        self.attempts = 0;
        self.fail()
    }

    /// A retry failed: how long until the next, uniform between zero and
    /// [`Registration::ceiling`].
    pub fn fail(&mut self) -> Duration {
        self.attempts = self.attempts.saturating_add(1);
        let ceiling = self.ceiling().as_millis() as u64;
        Duration::from_millis(self.random.up_to(ceiling))
    }

    /// The ceiling of the latest wait: window × 2^(attempts−1), capped.
    pub fn ceiling(&self) -> Duration {
        let doublings = self.attempts.saturating_sub(1).min(31);
        self.policy
            .window
            .saturating_mul(1 << doublings)
            .min(self.policy.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn ceiling_starts_at_the_window_and_doubles_to_the_cap() {
        let policy = RegistrationPolicy::default();
        let mut r = Registration::new(Random::new(1));
        let mut ceilings = Vec::new();
        for _ in 0..4 {
            let wait = if ceilings.is_empty() {
                r.start(policy)
            } else {
                r.fail()
            };
            assert!(wait <= r.ceiling());
            ceilings.push(r.ceiling().as_secs());
        }
        assert_eq!(ceilings, [3600, 7200, 7200, 7200]);
        r.start(policy);
        assert_eq!(r.ceiling(), HOUR, "a new connection starts over");
        let wide = RegistrationPolicy {
            window: Duration::from_secs(60),
            max: Duration::from_secs(600),
        };
        let mut r = Registration::new(Random::new(1));
        r.start(wide);
        let ceilings: Vec<u64> = (0..5)
            .map(|_| {
                r.fail();
                r.ceiling().as_secs()
            })
            .collect();
        assert_eq!(ceilings, [120, 240, 480, 600, 600]);
    }

    /// 10,000 nodes connected without the broker at the same moment: the
    /// first retries spread evenly over the hour, no wave.
    #[test]
    fn first_retries_of_many_nodes_spread_over_the_window() {
        let waits: Vec<Duration> = (0..10_000u32)
            .map(|node| {
                let random = Random::seed_from(&node.to_le_bytes(), 7);
                Registration::new(random).start(RegistrationPolicy::default())
            })
            .collect();
        assert!(waits.iter().all(|w| *w <= HOUR));
        let in_ten_minutes = waits.iter().filter(|w| w.as_secs() < 600).count();
        // 600 s / 3600 s of 10,000 = 1,667.
        assert!(
            (1_500..=1_830).contains(&in_ten_minutes),
            "{in_ten_minutes}"
        );
        let mut per_minute = [0u32; 60];
        for w in &waits {
            per_minute[(w.as_secs() / 60).min(59) as usize] += 1;
        }
        // 167 a minute on average; no minute gets a wave.
        assert!(
            per_minute.iter().all(|n| (100..=240).contains(n)),
            "{per_minute:?}"
        );
    }

    /// One node in a day-long outage: about one retry an hour (the mean of
    /// a uniform wait up to 2 h), not the backoff's one per 5 min.
    #[test]
    fn a_long_outage_costs_about_one_request_an_hour() {
        let mut r = Registration::new(Random::new(5));
        let mut elapsed = r.start(RegistrationPolicy::default());
        let mut retries = 1;
        while elapsed < 24 * HOUR {
            elapsed += r.fail();
            retries += 1;
        }
        assert!((16..=34).contains(&retries), "{retries} retries in a day");
    }

    #[test]
    fn a_window_set_per_node_caps_at_twice_itself() {
        let policy = RegistrationPolicy::with_window(Duration::from_secs(10));
        assert_eq!(policy.max, Duration::from_secs(20));
        let mut r = Registration::new(Random::new(3));
        assert!(r.start(policy) <= Duration::from_secs(10));
        for _ in 0..20 {
            assert!(r.fail() <= Duration::from_secs(20));
        }
    }
}
