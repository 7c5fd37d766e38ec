//! mesh-vpn-wg: the resident mesh-VPN client of a Gluon node.
//!
//! Layout, from the edges inward:
//! - `config`: the Gluon site (site.json + domain) and UCI files, read under a [`root::Root`].
//! - `identity`, `loadbalancing`: the byte-exact derivations and policies the gateways rely on.
//! - `broker`, `resolve`, `endpoint`: talking to wgkex and turning names into addresses.
//! - `commands`: what each subcommand of the one binary does.

pub mod broker;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod resolve;
pub mod root;
