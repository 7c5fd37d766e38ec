//! Test and demo tooling for mesh-vpn-wg: stand-ins for the services a Gluon
//! node talks to. Never shipped to routers.

pub mod broker;
pub mod ubusd;
