//! Reads rtnetlink replies by hand, only the attributes `apply` compares.
//! Parsing them as `netlink_packet_route` messages would link in every
//! attribute parser the crate has (over 300 KiB of code on a router with
//! 8-16 MB flash); building requests with it stays cheap.

use std::net::Ipv6Addr;

use netlink_packet_core::{DecodeError, NLA_TYPE_MASK, NetlinkDeserializable, NetlinkHeader};

use super::rtnl::{LinkState, VxlanState};
use super::rtnl_abi::{
    IFA_ADDRESS, IFF_UP, IFLA_AF_SPEC, IFLA_IFNAME, IFLA_INET6_ADDR_GEN_MODE, IFLA_INFO_DATA,
    IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_VXLAN_GROUP6, IFLA_VXLAN_ID,
    IFLA_VXLAN_LINK, IFLA_VXLAN_LOCAL6, IFLA_VXLAN_PORT, IN6_ADDR_GEN_MODE_NONE, RTM_NEWADDR,
    RTM_NEWLINK,
};

const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const AF_INET6: u16 = 10;

/// An rtnetlink reply kept as bytes until one of the readers below looks at it.
#[derive(Debug, Clone)]
pub(crate) struct RawRoute {
    message_type: u16,
    payload: Vec<u8>,
}

impl NetlinkDeserializable for RawRoute {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(RawRoute {
            message_type: header.message_type,
            payload: payload.to_vec(),
        })
    }
}

impl RawRoute {
    pub(crate) fn message_type(&self) -> u16 {
        self.message_type
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The link, if this is an RTM_NEWLINK answer that parses.
    pub(crate) fn link(&self) -> Option<LinkState> {
        if self.message_type != RTM_NEWLINK || self.payload.len() < IFINFOMSG_LEN {
            return None;
        }
        let header = &self.payload[..IFINFOMSG_LEN];
        let mut link = LinkState {
            index: u32::from_ne_bytes(header[4..8].try_into().ok()?),
            up: u32::from_ne_bytes(header[8..12].try_into().ok()?) & IFF_UP != 0,
            ..LinkState::default()
        };
        for nla in attributes(&self.payload[IFINFOMSG_LEN..]) {
            let value = nla.value();
            match nla.kind() {
                IFLA_IFNAME => link.name = c_string(value),
                IFLA_MTU => link.mtu = u32_of(value).unwrap_or(0),
                IFLA_MASTER => link.master = u32_of(value).filter(|index| *index != 0),
                IFLA_LINKINFO => read_link_info(value, &mut link),
                IFLA_AF_SPEC => link.generates_ipv6_link_local = generates_link_local(value),
                _ => {}
            }
        }
        Some(link)
    }

    /// `(index, address, prefix)` of an RTM_NEWADDR answer with an IPv6 address.
    pub(crate) fn ipv6_address(&self) -> Option<(u32, Ipv6Addr, u8)> {
        if self.message_type != RTM_NEWADDR || self.payload.len() < IFADDRMSG_LEN {
            return None;
        }
        let prefix = self.payload[1];
        let index = u32::from_ne_bytes(self.payload[4..8].try_into().ok()?);
        let address = attributes(&self.payload[IFADDRMSG_LEN..])
            .find(|nla| nla.kind() == IFA_ADDRESS)
            .and_then(|nla| ipv6_of(nla.value()))?;
        Some((index, address, prefix))
    }
}

/// One netlink attribute: its type (flag bits masked off) and value.
pub(crate) struct Nla<'a> {
    kind: u16,
    value: &'a [u8],
}

impl<'a> Nla<'a> {
    pub(crate) fn kind(&self) -> u16 {
        self.kind
    }
    pub(crate) fn value(&self) -> &'a [u8] {
        self.value
    }
}

/// The well-formed attributes of `bytes`; a malformed tail is ignored.
pub(crate) fn attributes(mut bytes: &[u8]) -> impl Iterator<Item = Nla<'_>> {
    std::iter::from_fn(move || {
        let length = usize::from(u16::from_ne_bytes(bytes.get(0..2)?.try_into().ok()?));
        let kind = u16::from_ne_bytes(bytes.get(2..4)?.try_into().ok()?) & NLA_TYPE_MASK;
        let value = bytes.get(4..length)?;
        bytes = bytes.get((length + 3) & !3..).unwrap_or_default();
        Some(Nla { kind, value })
    })
}

fn read_link_info(bytes: &[u8], link: &mut LinkState) {
    let mut kind = None;
    let mut data = None;
    for nla in attributes(bytes) {
        match nla.kind() {
            IFLA_INFO_KIND => kind = Some(c_string(nla.value())),
            IFLA_INFO_DATA => data = Some(nla.value()),
            _ => {}
        }
    }
    if let (Some("vxlan"), Some(data)) = (kind.as_deref(), data) {
        link.vxlan = Some(vxlan_state(data));
    }
    link.kind = kind;
}

fn vxlan_state(bytes: &[u8]) -> VxlanState {
    let mut state = VxlanState::default();
    for nla in attributes(bytes) {
        let value = nla.value();
        match nla.kind() {
            IFLA_VXLAN_ID => state.vni = u32_of(value).unwrap_or(0),
            IFLA_VXLAN_LINK => state.underlay = u32_of(value).unwrap_or(0),
            IFLA_VXLAN_PORT => state.port = value.try_into().map(u16::from_be_bytes).unwrap_or(0),
            IFLA_VXLAN_GROUP6 => state.remote = ipv6_of(value).filter(|ip| !ip.is_unspecified()),
            IFLA_VXLAN_LOCAL6 => state.local = ipv6_of(value).filter(|ip| !ip.is_unspecified()),
            _ => {}
        }
    }
    state
}

/// IFLA_AF_SPEC → AF_INET6 → IFLA_INET6_ADDR_GEN_MODE != none.
fn generates_link_local(bytes: &[u8]) -> bool {
    attributes(bytes)
        .filter(|family| family.kind() == AF_INET6)
        .flat_map(|family| attributes(family.value()))
        .any(|nla| {
            nla.kind() == IFLA_INET6_ADDR_GEN_MODE
                && nla.value().first() != Some(&IN6_ADDR_GEN_MODE_NONE)
        })
}

fn u32_of(value: &[u8]) -> Option<u32> {
    value.try_into().ok().map(u32::from_ne_bytes)
}

fn ipv6_of(value: &[u8]) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(value).ok().map(Ipv6Addr::from)
}

fn c_string(value: &[u8]) -> String {
    let end = value
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

/// Reads a built request back as if the kernel had answered with it: lets
/// tests check the request builders against the reply reader.
#[cfg(test)]
pub(crate) fn echo_link(request: &super::rtnl_build::RawRequest) -> LinkState {
    let payload = request.payload.clone();
    RawRoute {
        message_type: RTM_NEWLINK,
        payload,
    }
    .link()
    .expect("link parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(message_type: u16, payload: Vec<u8>) -> RawRoute {
        RawRoute {
            message_type,
            payload,
        }
    }

    #[test]
    fn truncated_or_foreign_messages_are_not_links() {
        assert!(raw(RTM_NEWLINK, vec![0; 3]).link().is_none());
        assert!(raw(RTM_NEWADDR, vec![0; 16]).link().is_none());
        assert!(raw(RTM_NEWADDR, vec![0; 5]).ipv6_address().is_none());
        // A header with a garbage attribute tail still yields the header.
        let mut bytes = vec![0u8; IFINFOMSG_LEN];
        bytes[4..8].copy_from_slice(&7i32.to_ne_bytes()); // ifi_index, host order
        bytes.extend_from_slice(&[0xff, 0xff, 0x03, 0x00, 1]);
        let link = raw(RTM_NEWLINK, bytes).link().expect("header parses");
        assert_eq!((link.index, link.name.as_str()), (7, ""));
    }

    #[test]
    fn address_message_yields_index_address_prefix() {
        let ip: Ipv6Addr = "fe80::281:12ff:fee0:6fd2".parse().unwrap();
        let mut bytes = vec![10, 64, 0, 253];
        bytes.extend_from_slice(&5u32.to_ne_bytes());
        bytes.extend_from_slice(&20u16.to_ne_bytes());
        bytes.extend_from_slice(&IFA_ADDRESS.to_ne_bytes());
        bytes.extend_from_slice(&ip.octets());
        assert_eq!(raw(RTM_NEWADDR, bytes).ipv6_address(), Some((5, ip, 64)));
    }
}
