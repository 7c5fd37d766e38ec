//! Test and demo tooling for mesh-vpn-wg: stand-ins for the services a Gluon
//! node talks to (wgkex broker, ubusd), network-namespace hosts and gateways,
//! and a whole Freifunk site built from them. Never shipped to routers.

pub mod broker;
pub mod netns;
pub mod site;
pub mod ubusd;
