//! The uplink engine: keeps the tunnel to a gateway up and says what it is
//! doing. Policy only: every side effect goes through [`ports::Ports`], time
//! through tokio's clock (paused in tests), inputs arrive as [`Command`]s and
//! WAN changes, and the state is published through [`report::Reporter`].
//!
//! ```text
//! disabled ◀── enabled=0 ── any state
//! no_uplink ◀── no WAN route ── any enabled state; a WAN route → attempt at once
//! [syncing_time] → exchanging_key → connecting → connected ─(silent, probes unanswered)─▶ exchanging_key …
//!                        └──────────── failure ──▶ backoff ─(wait | reconnect)─▶ exchanging_key …
//! ```

pub mod backoff;
mod cycle;
pub mod health;
mod limiter;
pub mod liveness;
pub mod peers;
pub mod ports;
pub mod random;
pub mod registration;
pub mod report;
mod run;
pub mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use ports::Gateway;
pub use run::Engine;

use backoff::BackoffPolicy;
use registration::RegistrationPolicy;

/// Tunables; the defaults are the documented behaviour, UCI may override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Between the layered checks (link, handshake, batman-adv).
    pub probe_interval: Duration,
    /// Failed layered checks in a row, and unanswered probes after a
    /// silence, before the link is declared dead.
    pub failures_before_reconnect: u32,
    /// Silence on the tunnel that starts the probes (see [`liveness`]).
    pub probe_after_silence: Duration,
    /// How long a new tunnel may take to complete its first handshake.
    pub handshake_timeout: Duration,
    pub backoff: BackoffPolicy,
    /// Registering the key again while connected without the broker.
    pub registration: RegistrationPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            probe_interval: Duration::from_secs(5),
            failures_before_reconnect: 3,
            probe_after_silence: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(15),
            backoff: BackoffPolicy::default(),
            registration: RegistrationPolicy::default(),
        }
    }
}

/// The part of the node configuration the engine acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    pub enabled: bool,
    pub loadbalancing: bool,
    pub site_peers: Vec<Gateway>,
    pub settings: Settings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start a reconnect cycle now, skipping a backoff wait once.
    Reconnect,
    /// The effective loadbalancing choice changed through ubus.
    Loadbalancing(bool),
    /// SIGHUP: the configuration was re-read.
    Reload(EngineConfig),
    /// SIGTERM: tear down and return.
    Stop,
}
