//! Every hand-built request must be byte for byte what netlink-packet-route
//! (a dev-dependency only) emits for the same message.

use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::NetlinkSerializable;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoVxlan, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage,
};

use super::*;

fn assert_same(ours: RawRequest, reference: RouteNetlinkMessage) {
    let mut bytes = vec![0; reference.buffer_len()];
    reference.serialize(&mut bytes);
    assert_eq!(ours.message_type, reference.message_type(), "{reference:?}");
    assert_eq!(ours.payload, bytes, "{reference:?}");
}

fn link(index: u32, attributes: Vec<LinkAttribute>) -> LinkMessage {
    let mut link = LinkMessage::default();
    link.header.index = index;
    link.attributes = attributes;
    link
}

const LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x281, 0x12ff, 0xfee0, 0x6fd2);
const REMOTE: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x27c, 0x16ff, 0xfec0, 0x6c74);

#[test]
fn link_requests_match_the_reference_encoder() {
    let name = || LinkAttribute::IfName("wg_mesh_vpn".into());
    assert_same(
        get_link("wg_mesh_vpn"),
        RouteNetlinkMessage::GetLink(link(0, vec![name()])),
    );
    let kind = LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Wireguard)]);
    assert_same(
        new_wireguard_link("wg_mesh_vpn"),
        RouteNetlinkMessage::NewLink(link(0, vec![name(), kind])),
    );
    let mtu = LinkAttribute::Mtu(1476);
    assert_same(
        set_mtu(7, 1476),
        RouteNetlinkMessage::SetLink(link(7, vec![mtu])),
    );
    let mut up = link(7, vec![]);
    up.header.flags = LinkFlags::Up;
    up.header.change_mask = LinkFlags::Up;
    assert_same(set_up(7), RouteNetlinkMessage::SetLink(up));
    let master = LinkAttribute::Controller(0);
    assert_same(
        set_nomaster(8),
        RouteNetlinkMessage::SetLink(link(8, vec![master])),
    );
    let mode = AfSpecInet6::AddrGenMode(In6AddrGenMode::None);
    let spec = LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(vec![mode])]);
    assert_same(
        set_addr_gen_mode_none(7),
        RouteNetlinkMessage::SetLink(link(7, vec![spec])),
    );
    assert_same(
        delete_link(9),
        RouteNetlinkMessage::DelLink(link(9, vec![])),
    );
}

#[test]
fn vxlan_request_matches_the_reference_encoder() {
    let ours = new_vxlan_link(&VxlanLink {
        name: "mesh-vpn",
        mtu: 1406,
        vni: 3773516,
        local: LOCAL,
        remote: REMOTE,
        port: 8472,
        underlay: 7,
    });
    let data = InfoData::Vxlan(vec![
        InfoVxlan::Id(3773516),
        InfoVxlan::Local6(LOCAL),
        InfoVxlan::Group6(REMOTE),
        InfoVxlan::Port(8472),
        InfoVxlan::Link(7),
    ]);
    let attributes = vec![
        LinkAttribute::IfName("mesh-vpn".into()),
        LinkAttribute::Mtu(1406),
        LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Vxlan), LinkInfo::Data(data)]),
    ];
    assert_same(ours, RouteNetlinkMessage::NewLink(link(0, attributes)));
}

#[test]
fn address_requests_match_the_reference_encoder() {
    let mut dump = AddressMessage::default();
    dump.header.family = netlink_packet_route::AddressFamily::Inet6;
    assert_same(get_ipv6_addresses(), RouteNetlinkMessage::GetAddress(dump));

    let mut add = AddressMessage::default();
    add.header.family = netlink_packet_route::AddressFamily::Inet6;
    add.header.prefix_len = 64;
    add.header.index = 7;
    add.header.flags = AddressHeaderFlags::Nodad;
    add.header.scope = AddressScope::Link;
    add.attributes = vec![
        AddressAttribute::Local(IpAddr::V6(LOCAL)),
        AddressAttribute::Address(IpAddr::V6(LOCAL)),
        AddressAttribute::Flags(AddressFlags::Nodad),
    ];
    assert_same(
        new_ipv6_address(7, LOCAL, 64),
        RouteNetlinkMessage::NewAddress(add.clone()),
    );

    add.header.flags = AddressHeaderFlags::empty();
    add.header.scope = AddressScope::Universe;
    add.attributes.pop();
    assert_same(
        delete_ipv6_address(7, LOCAL, 64),
        RouteNetlinkMessage::DelAddress(add),
    );
}
