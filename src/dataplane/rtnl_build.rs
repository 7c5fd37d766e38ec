//! Builds the handful of rtnetlink requests the data plane sends, byte by
//! byte. A general rtnetlink crate links an emitter for every attribute the
//! kernel knows; these few hundred bytes of layout are all a node needs.
//! The unit tests compare every request with netlink-packet-route's output.

use std::net::Ipv6Addr;

use super::rtnl_abi::{
    IFA_ADDRESS, IFF_UP, IFLA_AF_SPEC, IFLA_IFNAME, IFLA_INET6_ADDR_GEN_MODE, IFLA_INFO_DATA,
    IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MASTER, IFLA_MTU, IFLA_VXLAN_GROUP6, IFLA_VXLAN_ID,
    IFLA_VXLAN_LINK, IFLA_VXLAN_LOCAL6, IFLA_VXLAN_PORT, IN6_ADDR_GEN_MODE_NONE, RTM_NEWADDR,
    RTM_NEWLINK,
};
use netlink_packet_core::NetlinkSerializable;

const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_GETROUTE: u16 = 26;

const AF_INET6: u8 = 10;
const IFA_F_NODAD: u8 = 2;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;

const IFA_LOCAL: u16 = 2;
const IFA_FLAGS: u16 = 8;

/// A finished rtnetlink request payload (header struct plus attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRequest {
    pub(crate) message_type: u16,
    pub(crate) payload: Vec<u8>,
}

impl NetlinkSerializable for RawRequest {
    fn message_type(&self) -> u16 {
        self.message_type
    }
    fn buffer_len(&self) -> usize {
        self.payload.len()
    }
    fn serialize(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.payload);
    }
}

/// Appends one attribute, padded to 4 bytes as netlink requires.
fn put(buffer: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let length = 4 + value.len();
    buffer.extend_from_slice(&(length as u16).to_ne_bytes());
    buffer.extend_from_slice(&kind.to_ne_bytes());
    buffer.extend_from_slice(value);
    buffer.resize(buffer.len() + (4 - length % 4) % 4, 0);
}

fn put_string(buffer: &mut Vec<u8>, kind: u16, text: &str) {
    let mut value = text.as_bytes().to_vec();
    value.push(0);
    put(buffer, kind, &value);
}

fn put_nested(buffer: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    fill(&mut inner);
    put(buffer, kind, &inner);
}

/// struct ifinfomsg: family, pad, type, index, flags, change.
fn link_request(index: u32, flags: u32, change: u32) -> Vec<u8> {
    let mut payload = vec![0u8; 4];
    payload.extend_from_slice(&index.to_ne_bytes());
    payload.extend_from_slice(&flags.to_ne_bytes());
    payload.extend_from_slice(&change.to_ne_bytes());
    payload
}

fn finish(message_type: u16, payload: Vec<u8>) -> RawRequest {
    RawRequest {
        message_type,
        payload,
    }
}

pub(crate) fn get_link(name: &str) -> RawRequest {
    let mut payload = link_request(0, 0, 0);
    put_string(&mut payload, IFLA_IFNAME, name);
    finish(RTM_GETLINK, payload)
}

pub(crate) fn new_wireguard_link(name: &str) -> RawRequest {
    let mut payload = link_request(0, 0, 0);
    put_string(&mut payload, IFLA_IFNAME, name);
    put_nested(&mut payload, IFLA_LINKINFO, |info| {
        put_string(info, IFLA_INFO_KIND, "wireguard")
    });
    finish(RTM_NEWLINK, payload)
}

/// The VXLAN parameters of domain.md 2.3 in one RTM_NEWLINK.
pub(crate) struct VxlanLink<'a> {
    pub(crate) name: &'a str,
    pub(crate) mtu: u32,
    pub(crate) vni: u32,
    pub(crate) local: Ipv6Addr,
    pub(crate) remote: Ipv6Addr,
    pub(crate) port: u16,
    pub(crate) underlay: u32,
}

pub(crate) fn new_vxlan_link(vxlan: &VxlanLink) -> RawRequest {
    let mut payload = link_request(0, 0, 0);
    put_string(&mut payload, IFLA_IFNAME, vxlan.name);
    put(&mut payload, IFLA_MTU, &vxlan.mtu.to_ne_bytes());
    put_nested(&mut payload, IFLA_LINKINFO, |info| {
        put_string(info, IFLA_INFO_KIND, "vxlan");
        put_nested(info, IFLA_INFO_DATA, |data| {
            put(data, IFLA_VXLAN_ID, &vxlan.vni.to_ne_bytes());
            put(data, IFLA_VXLAN_LOCAL6, &vxlan.local.octets());
            put(data, IFLA_VXLAN_GROUP6, &vxlan.remote.octets());
            put(data, IFLA_VXLAN_PORT, &vxlan.port.to_be_bytes());
            put(data, IFLA_VXLAN_LINK, &vxlan.underlay.to_ne_bytes());
        });
    });
    finish(RTM_NEWLINK, payload)
}

pub(crate) fn set_mtu(index: u32, mtu: u32) -> RawRequest {
    let mut payload = link_request(index, 0, 0);
    put(&mut payload, IFLA_MTU, &mtu.to_ne_bytes());
    finish(RTM_SETLINK, payload)
}

pub(crate) fn set_up(index: u32) -> RawRequest {
    finish(RTM_SETLINK, link_request(index, IFF_UP, IFF_UP))
}

pub(crate) fn set_nomaster(index: u32) -> RawRequest {
    let mut payload = link_request(index, 0, 0);
    put(&mut payload, IFLA_MASTER, &0u32.to_ne_bytes());
    finish(RTM_SETLINK, payload)
}

pub(crate) fn set_addr_gen_mode_none(index: u32) -> RawRequest {
    let mut payload = link_request(index, 0, 0);
    put_nested(&mut payload, IFLA_AF_SPEC, |spec| {
        put_nested(spec, u16::from(AF_INET6), |inet6| {
            put(inet6, IFLA_INET6_ADDR_GEN_MODE, &[IN6_ADDR_GEN_MODE_NONE])
        })
    });
    finish(RTM_SETLINK, payload)
}

pub(crate) fn delete_link(index: u32) -> RawRequest {
    finish(RTM_DELLINK, link_request(index, 0, 0))
}

/// struct ifaddrmsg: family, prefixlen, flags, scope, index.
fn address_header(prefix: u8, flags: u8, scope: u8, index: u32) -> Vec<u8> {
    let mut payload = vec![AF_INET6, prefix, flags, scope];
    payload.extend_from_slice(&index.to_ne_bytes());
    payload
}

pub(crate) fn get_ipv6_addresses() -> RawRequest {
    finish(RTM_GETADDR, address_header(0, 0, 0, 0))
}

/// Adds `address/prefix` with IFA_F_NODAD: usable at once, no DAD delay.
pub(crate) fn new_ipv6_address(index: u32, address: Ipv6Addr, prefix: u8) -> RawRequest {
    let scope = match address.is_unicast_link_local() {
        true => RT_SCOPE_LINK,
        false => RT_SCOPE_UNIVERSE,
    };
    let mut payload = address_header(prefix, IFA_F_NODAD, scope, index);
    put(&mut payload, IFA_LOCAL, &address.octets());
    put(&mut payload, IFA_ADDRESS, &address.octets());
    put(
        &mut payload,
        IFA_FLAGS,
        &u32::from(IFA_F_NODAD).to_ne_bytes(),
    );
    finish(RTM_NEWADDR, payload)
}

pub(crate) fn delete_ipv6_address(index: u32, address: Ipv6Addr, prefix: u8) -> RawRequest {
    let mut payload = address_header(prefix, 0, 0, index);
    put(&mut payload, IFA_LOCAL, &address.octets());
    put(&mut payload, IFA_ADDRESS, &address.octets());
    finish(RTM_DELADDR, payload)
}

/// A dump request for every route of `family` (all tables).
pub(crate) fn get_routes(family: u8) -> RawRequest {
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (u32)
    let mut payload = vec![0u8; 12];
    payload[0] = family;
    finish(RTM_GETROUTE, payload)
}

#[cfg(test)]
#[path = "rtnl_build_tests.rs"]
mod tests;
