//! The engine's side effects as they happen on a router: the clock over
//! SNTP, the broker over HTTPS, the link through netlink, the probes through
//! the tunnel. Each file implements one of the narrow traits of
//! [`crate::engine::ports`].

pub mod clock;
pub mod exchange;
pub mod probe;
