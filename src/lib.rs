//! mesh-vpn-wg: the resident mesh-VPN client of a Gluon node.
//!
//! Layout, from the edges inward:
//! - `cli` and `commands`: the one binary's subcommands; `main.rs` only dispatches.
//! - `config`: the Gluon site (site.json + domain) and UCI files, read under a [`root::Root`].
//! - `identity`, `loadbalancing`, `link`: the byte-exact derivations and policies the gateways rely on.
//! - `broker`, `resolve`, `endpoint`: talking to wgkex and turning names into addresses.
//! - `dataplane`: WireGuard, VXLAN, addresses, firewall rule and batman-adv, as desired state.
//! - `engine`: the uplink policy (health, reconnect, backoff) behind side-effect traits.
//! - `daemon`: the resident process wiring engine, ubus object and signals together.

pub mod broker;
pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod dataplane;
pub mod endpoint;
pub mod engine;
pub mod error;
#[cfg(test)]
mod hostile_text;
pub mod identity;
pub mod link;
pub mod loadbalancing;
pub mod logging;
pub mod quote;
pub mod resolve;
pub mod root;
