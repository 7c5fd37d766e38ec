//! The engine's side effects, each behind a narrow trait so the policy can be
//! tested with scripted doubles in paused time and no root. The production
//! implementations live in `engine::live` and call the broker client and the
//! data plane. Failures are plain text: the engine only reports and counts
//! them, it never branches on their kind.

use std::future::Future;
use std::net::Ipv6Addr;
use std::time::Duration;

use super::state::PeerSource;
use crate::endpoint::Endpoint;

/// A gateway to build the tunnel to: from the broker (v2) or from the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub source: PeerSource,
    pub name: String,
    pub endpoint: Endpoint,
    pub public_key: String,
    pub link_address: Ipv6Addr,
}

/// What one key exchange with the broker gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// HTTP requests made (a failed v2 followed by v1 is two).
    pub requests: u32,
    /// Why v2 failed when loadbalancing wanted it and v1 was used instead.
    pub v2_error: Option<String>,
    pub outcome: Result<Registered, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// v2: the key is registered and the broker chose this gateway.
    Gateway(Gateway),
    /// v1: the key is registered; the node picks a site peer itself.
    KeyOnly,
}

/// The tunnel's counters as the kernel (or wireguard-go) reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TunnelStats {
    /// Time since the latest handshake; `None` before the first one.
    pub handshake_age: Option<Duration>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// Setting the clock over the WAN, so gateways accept our handshake
/// timestamps and TLS certificates verify after a reboot without RTC.
pub trait TimeSync {
    fn sync_time(&mut self) -> impl Future<Output = Result<(), String>>;
}

pub trait KeyExchange {
    /// Registers the node key: v2 first when `loadbalancing`, v1 otherwise or as fallback.
    fn exchange(&mut self, loadbalancing: bool) -> impl Future<Output = Exchange>;
}

pub trait Tunnel {
    /// Brings WireGuard + VXLAN up towards `gateway` (idempotent); returns
    /// the endpoint address actually used, for status.
    fn connect(&mut self, gateway: &Gateway) -> impl Future<Output = Result<String, String>>;
    fn stats(&mut self) -> impl Future<Output = Result<TunnelStats, String>>;
    /// Re-applies the desired link state (interfaces, addresses, firewall
    /// rule) so a deletion behind our back or a firewall restart is repaired.
    fn repair(&mut self) -> impl Future<Output = Result<(), String>>;
    /// The firewall layer as the latest `connect` or `repair` left it:
    /// `Ok(what is in place)` (including "nothing to open") or the failing
    /// tool's message; `None` before a link exists. Reported, never a reason
    /// to tear the tunnel down.
    fn firewall(&self) -> Option<Result<String, String>>;
    fn tear_down(&mut self) -> impl Future<Output = ()>;
}

pub trait Probes {
    /// Asks the gateway to answer through the tunnel, without waiting: an
    /// HTTP GET to its link address, as checkuplink did. The answer shows in
    /// the receive counter; its outcome later in [`Probes::probe_result`].
    fn solicit(&mut self, link_address: Ipv6Addr);
    /// The outcome of the latest probe that finished since the last call.
    fn probe_result(&mut self) -> Option<Result<(), String>>;
    /// A batman-adv ping to the selected gateway; `None` when there is no batman-adv.
    fn batman(&mut self) -> impl Future<Output = Option<Result<(), String>>>;
}

/// The gateway of the latest working connection, kept across daemon
/// restarts: wgkex publishes a key to every worker of the domain and a worker
/// keeps a peer for 3 h without a handshake, so that gateway most likely
/// still knows the key when the broker does not answer.
pub trait LastGateway {
    /// `None` when nothing is remembered or the record is unusable (the
    /// implementation logs why; a bad record is never fatal).
    fn recall(&mut self) -> Option<Gateway>;
    /// Best effort: a failure is logged, it only costs the next restart.
    fn remember(&mut self, gateway: &Gateway);
}

/// Everything the engine needs from the outside world.
pub trait Ports: TimeSync + KeyExchange + Tunnel + Probes + LastGateway {}
impl<T: TimeSync + KeyExchange + Tunnel + Probes + LastGateway> Ports for T {}
