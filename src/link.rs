//! Constants of the link the FFMUC-style gateways expect (domain.md 1.2, 2.3).

/// The VXLAN device; Gluon's netifd config (`network.mesh_vpn`) names it.
pub const VXLAN_IFACE: &str = "mesh-vpn";
/// Linux's default VXLAN port, which the gateways' `dstport 0` resolves to.
pub const VXLAN_PORT: u16 = 8472;
/// Keeps NAT mappings open and the gateway's 3-hour stale-peer cleanup away.
pub const PERSISTENT_KEEPALIVE_SECS: u16 = 25;
/// IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14 (gluon PR 3258).
pub const VXLAN_OVERHEAD: u16 = 70;
