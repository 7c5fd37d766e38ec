//! The VXLAN `mesh-vpn` on top of the WireGuard interface, unicast to the
//! gateway's link address (domain.md 2.3): built as one RTM_NEWLINK, and
//! compared field by field with what the kernel reports.

use std::net::Ipv6Addr;

use super::rtnl_build::{self, RawRequest, VxlanLink};

use super::rtnl::{LinkState, VxlanState};

/// The VXLAN the node wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VxlanSpec {
    pub name: String,
    pub vni: u32,
    pub local: Ipv6Addr,
    pub remote: Ipv6Addr,
    pub port: u16,
    pub underlay: u32,
    pub mtu: u32,
}

impl VxlanSpec {
    pub(crate) fn link_request(&self) -> RawRequest {
        rtnl_build::new_vxlan_link(&VxlanLink {
            name: &self.name,
            mtu: self.mtu,
            vni: self.vni,
            local: self.local,
            remote: self.remote,
            port: self.port,
            underlay: self.underlay,
        })
    }

    /// Whether `link` carries the tunnel parameters. The MTU and the up flag
    /// can be fixed in place; anything here needs a new link.
    pub fn parameters_match(&self, link: &LinkState) -> bool {
        let wanted = VxlanState {
            vni: self.vni,
            local: Some(self.local),
            remote: Some(self.remote),
            port: self.port,
            underlay: self.underlay,
        };
        link.kind.as_deref() == Some("vxlan") && link.vxlan.as_ref() == Some(&wanted)
    }

    /// A short text of the parameters for error messages.
    pub fn describe(&self) -> String {
        format!(
            "vni {} local {} remote {} dstport {} dev #{}",
            self.vni, self.local, self.remote, self.port, self.underlay
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::rtnl_parse::echo_link;

    fn spec() -> VxlanSpec {
        VxlanSpec {
            name: "mesh-vpn".into(),
            vni: 3773516,
            local: "fe80::281:12ff:fee0:6fd2".parse().unwrap(),
            remote: "fe80::27c:16ff:fec0:6c74".parse().unwrap(),
            port: 8472,
            underlay: 7,
            mtu: 1406,
        }
    }

    #[test]
    fn message_round_trips_and_matches_itself() {
        let message = spec().link_request();
        let bytes = &message.payload;
        let state = echo_link(&message);
        assert_eq!(state.name, "mesh-vpn");
        assert_eq!(state.mtu, 1406);
        assert!(spec().parameters_match(&state));
        // dstport is big-endian on the wire: 8472 = 0x2118.
        assert!(bytes.windows(2).any(|w| w == [0x21, 0x18]));
        let other = VxlanSpec { vni: 1, ..spec() };
        assert!(!other.parameters_match(&state));
        let moved = VxlanSpec {
            underlay: 8,
            ..spec()
        };
        assert!(!moved.parameters_match(&state));
    }
}
