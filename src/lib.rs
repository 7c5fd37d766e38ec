//! mesh-vpn-wg: the resident mesh-VPN client of a Gluon node.

pub mod broker;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod identity;
pub mod link;
pub mod loadbalancing;
pub mod logging;
pub mod resolve;
pub mod root;
