//! rtnetlink requests the data plane needs: look a link up by name, create,
//! change and delete links, list and add IPv6 addresses. Errors are plain
//! `io::Error`s here; the callers add which interface and value they meant.

use std::io;
use std::net::Ipv6Addr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_sys::protocols::NETLINK_ROUTE;

use super::rtnl_build::{self as build, RawRequest};
use super::rtnl_parse::RawRoute;
use super::socket::NetlinkSocket;

/// What the kernel reports about one link, reduced to what `apply` compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    pub mtu: u32,
    pub up: bool,
    /// The master (bridge, bat0) the link is enslaved to.
    pub master: Option<u32>,
    pub vxlan: Option<VxlanState>,
    /// False when the kernel was told not to invent IPv6 link-local
    /// addresses (addrgenmode none).
    pub generates_ipv6_link_local: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VxlanState {
    pub vni: u32,
    pub local: Option<Ipv6Addr>,
    /// The kernel reports a unicast remote in the group attribute.
    pub remote: Option<Ipv6Addr>,
    pub port: u16,
    pub underlay: u32,
}

pub(crate) struct Rtnl {
    socket: NetlinkSocket,
}

impl Rtnl {
    pub(crate) fn open() -> io::Result<Rtnl> {
        Ok(Rtnl {
            socket: NetlinkSocket::open(NETLINK_ROUTE)?,
        })
    }

    /// The link called `name`, or `None` when there is none.
    pub(crate) fn link(&mut self, name: &str) -> io::Result<Option<LinkState>> {
        match self.socket.request::<_, RawRoute>(build::get_link(name), 0) {
            Ok(replies) => Ok(replies.iter().find_map(RawRoute::link)),
            Err(error) if error.raw_os_error() == Some(libc::ENODEV) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Sends a request built by `rtnl_build` that must not replace anything.
    pub(crate) fn create(&mut self, request: RawRequest) -> io::Result<()> {
        self.send(request, NLM_F_CREATE | NLM_F_EXCL)
    }

    pub(crate) fn set_mtu(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        self.send(build::set_mtu(index, mtu), 0)
    }

    pub(crate) fn set_up(&mut self, index: u32) -> io::Result<()> {
        self.send(build::set_up(index), 0)
    }

    /// Stops the kernel from adding its own link-local address, which
    /// would compete with the node's link address as source address.
    pub(crate) fn disable_ipv6_link_local(&mut self, index: u32) -> io::Result<()> {
        self.send(build::set_addr_gen_mode_none(index), 0)
    }

    /// Takes the link out of its bridge or batman-adv mesh.
    pub(crate) fn set_nomaster(&mut self, index: u32) -> io::Result<()> {
        self.send(build::set_nomaster(index), 0)
    }

    pub(crate) fn delete_link(&mut self, index: u32) -> io::Result<()> {
        self.send(build::delete_link(index), 0)
    }

    /// The IPv6 addresses (with prefix length) on link `index`.
    pub(crate) fn ipv6_addresses(&mut self, index: u32) -> io::Result<Vec<(Ipv6Addr, u8)>> {
        let replies: Vec<RawRoute> = self
            .socket
            .request(build::get_ipv6_addresses(), NLM_F_DUMP)?;
        Ok(replies
            .iter()
            .filter_map(RawRoute::ipv6_address)
            .filter(|(on, _, _)| *on == index)
            .map(|(_, ip, prefix)| (ip, prefix))
            .collect())
    }

    /// Adds `address/prefix` without duplicate address detection, so it is
    /// usable at once (the gateway derives the same address; DAD only delays).
    pub(crate) fn add_ipv6_address(
        &mut self,
        index: u32,
        address: Ipv6Addr,
        prefix: u8,
    ) -> io::Result<()> {
        self.create(build::new_ipv6_address(index, address, prefix))
    }

    pub(crate) fn delete_ipv6_address(
        &mut self,
        index: u32,
        address: Ipv6Addr,
        prefix: u8,
    ) -> io::Result<()> {
        self.send(build::delete_ipv6_address(index, address, prefix), 0)
    }

    /// A request whose only answer is the ACK.
    fn send(&mut self, request: RawRequest, flags: u16) -> io::Result<()> {
        self.socket.request::<_, RawRoute>(request, flags).map(drop)
    }
}
