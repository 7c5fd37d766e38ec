//! rtnetlink requests the data plane needs: look a link up by name, create,
//! change and delete links, list and add IPv6 addresses. Errors are plain
//! `io::Error`s here; the callers add which interface and value they meant.

use std::io;
use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, LinkAttribute, LinkFlags, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

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
        let mut query = LinkMessage::default();
        query
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        let replies: io::Result<Vec<RawRoute>> =
            self.socket.request(RouteNetlinkMessage::GetLink(query), 0);
        match replies {
            Ok(replies) => Ok(replies.iter().find_map(RawRoute::link)),
            Err(error) if error.raw_os_error() == Some(libc_enodev()) => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub(crate) fn create_link(&mut self, link: LinkMessage) -> io::Result<()> {
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        self.send(RouteNetlinkMessage::NewLink(link), flags)
    }

    pub(crate) fn set_mtu(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        let mut link = link_message(index);
        link.attributes.push(LinkAttribute::Mtu(mtu));
        self.set_link(link)
    }

    pub(crate) fn set_up(&mut self, index: u32) -> io::Result<()> {
        let mut link = link_message(index);
        link.header.flags = LinkFlags::Up;
        link.header.change_mask = LinkFlags::Up;
        self.set_link(link)
    }

    /// Stops the kernel from adding its own link-local address, which
    /// would compete with the node's link address as source address.
    pub(crate) fn disable_ipv6_link_local(&mut self, index: u32) -> io::Result<()> {
        let mut link = link_message(index);
        let mode = AfSpecInet6::AddrGenMode(In6AddrGenMode::None);
        link.attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![mode],
            )]));
        self.set_link(link)
    }

    /// Takes the link out of its bridge or batman-adv mesh.
    pub(crate) fn set_nomaster(&mut self, index: u32) -> io::Result<()> {
        let mut link = link_message(index);
        link.attributes.push(LinkAttribute::Controller(0));
        self.set_link(link)
    }

    pub(crate) fn delete_link(&mut self, index: u32) -> io::Result<()> {
        let link = link_message(index);
        self.send(RouteNetlinkMessage::DelLink(link), 0)
    }

    fn set_link(&mut self, link: LinkMessage) -> io::Result<()> {
        self.send(RouteNetlinkMessage::SetLink(link), 0)
    }

    /// A request whose only answer is the ACK.
    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
        self.socket.request::<_, RawRoute>(message, flags).map(drop)
    }

    /// The IPv6 addresses (with prefix length) on link `index`.
    pub(crate) fn ipv6_addresses(&mut self, index: u32) -> io::Result<Vec<(Ipv6Addr, u8)>> {
        let mut query = AddressMessage::default();
        query.header.family = AddressFamily::Inet6;
        let replies: Vec<RawRoute> = self
            .socket
            .request(RouteNetlinkMessage::GetAddress(query), NLM_F_DUMP)?;
        Ok(replies
            .iter()
            .filter_map(RawRoute::ipv6_address)
            .filter(|(on, _, _)| *on == index)
            .map(|(_, ip, prefix)| (ip, prefix))
            .collect())
    }

    pub(crate) fn delete_ipv6_address(
        &mut self,
        index: u32,
        address: Ipv6Addr,
        prefix: u8,
    ) -> io::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet6;
        message.header.prefix_len = prefix;
        message.header.index = index;
        let ip = IpAddr::V6(address);
        message.attributes.push(AddressAttribute::Local(ip));
        message.attributes.push(AddressAttribute::Address(ip));
        self.send(RouteNetlinkMessage::DelAddress(message), 0)
    }

    /// Adds `address/prefix` without duplicate address detection, so it is
    /// usable at once (the gateway derives the same address; DAD only delays).
    pub(crate) fn add_ipv6_address(
        &mut self,
        index: u32,
        address: Ipv6Addr,
        prefix: u8,
    ) -> io::Result<()> {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet6;
        message.header.prefix_len = prefix;
        message.header.index = index;
        message.header.flags = AddressHeaderFlags::Nodad;
        message.header.scope = if address.is_unicast_link_local() {
            AddressScope::Link
        } else {
            AddressScope::Universe
        };
        let ip = IpAddr::V6(address);
        message.attributes.push(AddressAttribute::Local(ip));
        message.attributes.push(AddressAttribute::Address(ip));
        message
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        self.send(RouteNetlinkMessage::NewAddress(message), flags)
    }
}

const fn libc_enodev() -> i32 {
    19
}

fn link_message(index: u32) -> LinkMessage {
    let mut link = LinkMessage::default();
    link.header.index = index;
    link
}
