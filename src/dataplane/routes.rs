//! Is there a WAN? Gluon keeps the WAN's IPv6 routes in table 1
//! (`network.wan6.ip6table=1`) and its IPv4 default in the main table; the
//! main IPv6 table holds mesh routes and must not count. checkuplink looked
//! for `default via` in `ip -6 route show table 1`; this reads the same
//! routes over rtnetlink and follows changes through the route multicast
//! groups instead of polling.

use std::io;

use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

use super::rtnl_build::get_routes;
use super::rtnl_parse::{RawRoute, attributes};
use super::socket::NetlinkSocket;
use crate::resolve::Family;

pub const WAN6_TABLE: u32 = 1;
pub const WAN4_TABLE: u32 = 254;

const RTM_NEWROUTE: u16 = 24;
const RTMSG_LEN: usize = 12;
const RTN_UNICAST: u8 = 1;
const RTA_GATEWAY: u16 = 5;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const RTMGRP_IPV4_ROUTE: u32 = 0x40;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;

/// Which WAN default routes exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WanRoutes {
    /// An IPv6 `default via` in table 1 (not Gluon's `unreachable default`).
    pub ipv6: bool,
    /// An IPv4 default route in the main table (PPPoE's has no gateway).
    pub ipv4: bool,
}

impl WanRoutes {
    pub fn up(&self) -> bool {
        self.ipv6 || self.ipv4
    }

    /// IPv6 first when the WAN has an IPv6 default route, as checkuplink decided.
    pub fn prefer(&self) -> Family {
        if self.ipv6 { Family::V6 } else { Family::V4 }
    }
}

/// Reads the WAN default routes now.
pub fn wan_routes() -> io::Result<WanRoutes> {
    let mut socket = NetlinkSocket::open(NETLINK_ROUTE)?;
    let mut routes = WanRoutes::default();
    for family in [AF_INET6, AF_INET] {
        let replies: Vec<RawRoute> =
            socket.request(get_routes(family), netlink_packet_core::NLM_F_DUMP)?;
        for route in &replies {
            match is_wan_default(route) {
                Some(AF_INET6) => routes.ipv6 = true,
                Some(AF_INET) => routes.ipv4 = true,
                _ => {}
            }
        }
    }
    Ok(routes)
}

/// Calls `changed` with the current routes and again after every route
/// change that alters them. Blocks; run it on its own thread.
pub fn follow(mut changed: impl FnMut(WanRoutes)) -> io::Result<()> {
    let mut events = Socket::new(NETLINK_ROUTE)?;
    events.bind(&SocketAddr::new(0, RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE))?;
    let mut last = wan_routes()?;
    changed(last);
    loop {
        // Any route message may matter; re-reading is cheaper than tracking deltas.
        events.recv_from_full()?;
        let now = wan_routes()?;
        if now != last {
            changed(now);
            last = now;
        }
    }
}

/// The family of `route` if it is a WAN default route.
fn is_wan_default(route: &RawRoute) -> Option<u8> {
    let payload = route.payload();
    if route.message_type() != RTM_NEWROUTE || payload.len() < RTMSG_LEN {
        return None;
    }
    let (family, dst_len, header_table, kind) = (payload[0], payload[1], payload[4], payload[7]);
    if dst_len != 0 || kind != RTN_UNICAST {
        return None;
    }
    let mut table = u32::from(header_table);
    let mut via = false;
    for attribute in attributes(&payload[RTMSG_LEN..]) {
        match attribute.kind() {
            RTA_TABLE => {
                if let Ok(bytes) = attribute.value().try_into() {
                    table = u32::from_ne_bytes(bytes);
                }
            }
            RTA_GATEWAY | RTA_MULTIPATH => via = true,
            _ => {}
        }
    }
    match family {
        AF_INET6 if table == WAN6_TABLE && via => Some(AF_INET6),
        AF_INET if table == WAN4_TABLE => Some(AF_INET),
        _ => None,
    }
}
