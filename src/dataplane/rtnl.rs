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
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoVxlan, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

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
        match self.socket.request(RouteNetlinkMessage::GetLink(query), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(link) => Some(link_state(&link)),
                _ => None,
            })),
            Err(error) if error.raw_os_error() == Some(libc_enodev()) => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub(crate) fn create_link(&mut self, link: LinkMessage) -> io::Result<()> {
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        self.socket
            .request(RouteNetlinkMessage::NewLink(link), flags)
            .map(drop)
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
        self.socket
            .request(RouteNetlinkMessage::DelLink(link), 0)
            .map(drop)
    }

    fn set_link(&mut self, link: LinkMessage) -> io::Result<()> {
        self.socket
            .request(RouteNetlinkMessage::SetLink(link), 0)
            .map(drop)
    }

    /// The IPv6 addresses (with prefix length) on link `index`.
    pub(crate) fn ipv6_addresses(&mut self, index: u32) -> io::Result<Vec<(Ipv6Addr, u8)>> {
        let mut query = AddressMessage::default();
        query.header.family = AddressFamily::Inet6;
        let replies = self
            .socket
            .request(RouteNetlinkMessage::GetAddress(query), NLM_F_DUMP)?;
        Ok(replies
            .into_iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewAddress(address) if address.header.index == index => {
                    ipv6_of(&address).map(|ip| (ip, address.header.prefix_len))
                }
                _ => None,
            })
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
        self.socket
            .request(RouteNetlinkMessage::DelAddress(message), 0)
            .map(drop)
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
        self.socket
            .request(RouteNetlinkMessage::NewAddress(message), flags)
            .map(drop)
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

fn ipv6_of(address: &AddressMessage) -> Option<Ipv6Addr> {
    address
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            AddressAttribute::Address(IpAddr::V6(ip)) => Some(*ip),
            _ => None,
        })
}

pub(crate) fn link_state(link: &LinkMessage) -> LinkState {
    let mut state = LinkState {
        index: link.header.index,
        up: link.header.flags.contains(LinkFlags::Up),
        ..LinkState::default()
    };
    for attribute in &link.attributes {
        match attribute {
            LinkAttribute::IfName(name) => state.name = name.clone(),
            LinkAttribute::Mtu(mtu) => state.mtu = *mtu,
            LinkAttribute::Controller(master) if *master != 0 => state.master = Some(*master),
            LinkAttribute::LinkInfo(infos) => read_link_info(infos, &mut state),
            LinkAttribute::AfSpecUnspec(specs) => {
                state.generates_ipv6_link_local = generates_link_local(specs)
            }
            _ => {}
        }
    }
    state
}

fn generates_link_local(specs: &[AfSpecUnspec]) -> bool {
    specs
        .iter()
        .filter_map(|spec| match spec {
            AfSpecUnspec::Inet6(inet6) => Some(inet6),
            _ => None,
        })
        .flatten()
        .any(|attribute| {
            matches!(attribute, AfSpecInet6::AddrGenMode(mode) if *mode != In6AddrGenMode::None)
        })
}

fn read_link_info(infos: &[LinkInfo], state: &mut LinkState) {
    for info in infos {
        match info {
            LinkInfo::Kind(kind) => state.kind = Some(kind_name(kind)),
            LinkInfo::Data(InfoData::Vxlan(vxlan)) => state.vxlan = Some(vxlan_state(vxlan)),
            _ => {}
        }
    }
}

fn kind_name(kind: &InfoKind) -> String {
    match kind {
        InfoKind::Vxlan => "vxlan".into(),
        InfoKind::Wireguard => "wireguard".into(),
        InfoKind::Tun => "tun".into(),
        InfoKind::Other(name) => name.clone(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn vxlan_state(attributes: &[InfoVxlan]) -> VxlanState {
    let mut state = VxlanState::default();
    for attribute in attributes {
        match attribute {
            InfoVxlan::Id(vni) => state.vni = *vni,
            InfoVxlan::Local6(ip) => state.local = Some(*ip),
            InfoVxlan::Group6(ip) => state.remote = Some(*ip),
            InfoVxlan::Port(port) => state.port = *port,
            InfoVxlan::Link(index) => state.underlay = *index,
            _ => {}
        }
    }
    state
}
