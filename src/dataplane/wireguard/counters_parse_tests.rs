//! The request and the dump walk against bytes from netlink-packet-wireguard's
//! serializer (host byte order, as the kernel writes them: these tests also
//! run on big-endian powerpc), and the UAPI scan against wireguard-go's format.

use std::time::{Duration, SystemTime};

use netlink_packet_core::{
    DefaultNla, NLM_F_DUMP, NLM_F_MULTIPART, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_generic::GenlMessage;
use netlink_packet_wireguard::{
    WireguardAddressFamily, WireguardAllowedIp, WireguardAllowedIpAttr, WireguardAttribute,
    WireguardCmd, WireguardMessage, WireguardPeer, WireguardPeerAttribute, WireguardTimeSpec,
};

use super::*;
use crate::dataplane::wireguard::kernel::get_device_message;

const FAMILY: u16 = 0x1d;
const SEQUENCE: u32 = 0x0102_0304;
const RX: u64 = 0x0102_0304_0506_0708;
const TX: u64 = 0x1122_3344_5566_7788;

/// One netlink message of the wireguard family, serialized by netlink-packet-core.
fn genl_message(message: WireguardMessage, flags: u16, sequence: u32) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(message);
    genl.set_resolved_family_id(FAMILY);
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = sequence;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);
    bytes
}

fn dump_part(attributes: Vec<WireguardAttribute>) -> Vec<u8> {
    let message = WireguardMessage {
        cmd: WireguardCmd::GetDevice,
        attributes,
    };
    genl_message(message, NLM_F_MULTIPART, SEQUENCE)
}

/// NLMSG_DONE of a dump: the header and an int error code.
fn done(sequence: u32, code: i32) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&20u32.to_ne_bytes());
    bytes.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    bytes.extend_from_slice(&NLM_F_MULTIPART.to_ne_bytes());
    bytes.extend_from_slice(&sequence.to_ne_bytes());
    bytes.extend_from_slice(&0u32.to_ne_bytes());
    bytes.extend_from_slice(&code.to_ne_bytes());
    bytes
}

fn allowed_ip() -> WireguardAllowedIp {
    WireguardAllowedIp(vec![
        WireguardAllowedIpAttr::Family(WireguardAddressFamily::Ipv6),
        WireguardAllowedIpAttr::IpAddr("fe80::1".parse().unwrap()),
        WireguardAllowedIpAttr::Cidr(128),
    ])
}

/// The gateway peer as the kernel dumps it, with the pad attribute (type 0,
/// empty) that 64-bit values get where they must be aligned (MIPS).
fn gateway_peer(seconds: i64) -> WireguardPeer {
    WireguardPeer(vec![
        WireguardPeerAttribute::PublicKey([9; 32]),
        WireguardPeerAttribute::PresharedKey([0; 32]),
        WireguardPeerAttribute::LastHandshake(WireguardTimeSpec {
            seconds,
            nano_seconds: 5,
        }),
        WireguardPeerAttribute::PersistentKeepalive(25),
        WireguardPeerAttribute::Other(DefaultNla::new(0, vec![])),
        WireguardPeerAttribute::TxBytes(TX),
        WireguardPeerAttribute::Other(DefaultNla::new(0, vec![])),
        WireguardPeerAttribute::RxBytes(RX),
        WireguardPeerAttribute::ProtocolVersion(1),
        WireguardPeerAttribute::Endpoint("[2001:db8::2]:40012".parse().unwrap()),
        WireguardPeerAttribute::AllowedIps(vec![allowed_ip()]),
    ])
}

fn device_attributes(peers: Vec<WireguardPeer>) -> Vec<WireguardAttribute> {
    vec![
        WireguardAttribute::ListenPort(51820),
        WireguardAttribute::Fwmark(1),
        WireguardAttribute::IfIndex(7),
        WireguardAttribute::IfName("wg_mesh_vpn".into()),
        WireguardAttribute::PrivateKey([7; 32]),
        WireguardAttribute::PublicKey([8; 32]),
        WireguardAttribute::Peers(peers),
    ]
}

fn expected(seconds: u64) -> PeerCounters {
    PeerCounters {
        rx_bytes: RX,
        tx_bytes: TX,
        last_handshake: Some(SystemTime::UNIX_EPOCH + Duration::new(seconds, 5)),
    }
}

fn walk(datagrams: &[Vec<u8>]) -> io::Result<Option<PeerCounters>> {
    let mut walk = DumpWalk::new(FAMILY, SEQUENCE);
    for (i, datagram) in datagrams.iter().enumerate() {
        if walk.feed(datagram)? {
            assert_eq!(i, datagrams.len() - 1, "done before the last datagram");
            return Ok(walk.first_peer());
        }
    }
    panic!("the dump never ended");
}

#[test]
fn request_is_byte_for_byte_what_netlink_packet_core_serializes() {
    for name in ["wg_mesh_vpn", "w", "abcdefghijklmno", "abc", "abcd"] {
        let mut request = GetDeviceRequest::new(name).unwrap();
        let reference = genl_message(get_device_message(name), NLM_F_REQUEST | NLM_F_DUMP, 77);
        assert_eq!(request.bytes(FAMILY, 77), reference.as_slice(), "{name}");
        // The next request only changes the sequence number.
        let next = request.bytes(FAMILY, 78).to_vec();
        assert_eq!(next[8..12], 78u32.to_ne_bytes());
        assert_eq!(next[..8], reference[..8]);
        assert_eq!(next[12..], reference[12..]);
    }
}

#[test]
fn names_the_kernel_refuses_build_no_request() {
    assert!(GetDeviceRequest::new("").is_none());
    assert!(
        GetDeviceRequest::new("abcdefghijklmnop").is_none(),
        "16 bytes"
    );
    assert!(GetDeviceRequest::new("wg\0x").is_none());
}

#[test]
fn first_peer_of_a_one_message_dump() {
    let mut datagram = dump_part(device_attributes(vec![gateway_peer(1_700_000_000)]));
    datagram.extend(done(SEQUENCE, 0));
    assert_eq!(walk(&[datagram]).unwrap(), Some(expected(1_700_000_000)));
}

#[test]
fn peers_are_nested_with_nla_f_nested_as_newer_kernels_set_it() {
    let datagram = dump_part(device_attributes(vec![gateway_peer(1)]));
    // Find WGDEVICE_A_PEERS by walking the raw attributes with the flag bits kept.
    let mut rest = &datagram[NLMSG_HDRLEN + GENL_HDRLEN..];
    let mut flagged = None;
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        if kind & 0x3fff == WGDEVICE_A_PEERS {
            let peer_kind = u16::from_ne_bytes([rest[6], rest[7]]);
            flagged = Some((kind, peer_kind));
        }
        rest = &rest[align(len)..];
    }
    let nested = netlink_packet_core::NLA_F_NESTED;
    assert_eq!(flagged, Some((WGDEVICE_A_PEERS | nested, nested)));
}

#[test]
fn peers_without_nla_f_nested_as_older_kernels_send_them() {
    // Clear the flag on PEERS and on the peer nest: the walk does not care.
    let mut datagram = dump_part(device_attributes(vec![gateway_peer(42)]));
    let mut offset = NLMSG_HDRLEN + GENL_HDRLEN;
    while offset + 4 <= datagram.len() {
        let len = usize::from(u16::from_ne_bytes([datagram[offset], datagram[offset + 1]]));
        let kind = u16::from_ne_bytes([datagram[offset + 2], datagram[offset + 3]]);
        if kind & 0x3fff == WGDEVICE_A_PEERS {
            datagram[offset + 2..offset + 4].copy_from_slice(&WGDEVICE_A_PEERS.to_ne_bytes());
            datagram[offset + 6..offset + 8].copy_from_slice(&0u16.to_ne_bytes());
        }
        offset += align(len);
    }
    datagram.extend(done(SEQUENCE, 0));
    assert_eq!(walk(&[datagram]).unwrap(), Some(expected(42)));
}

#[test]
fn dump_split_over_messages_and_datagrams_keeps_the_first_peer() {
    // Datagram 1: the device and the start of peer 1 (its allowed IPs are
    // continued). Datagram 2: peer 1 continued (key and allowed IPs only, as
    // the kernel sends it), a second peer, then DONE.
    let first = dump_part(device_attributes(vec![gateway_peer(1_000)]));
    let continued = WireguardPeer(vec![
        WireguardPeerAttribute::PublicKey([9; 32]),
        WireguardPeerAttribute::AllowedIps(vec![allowed_ip()]),
    ]);
    let other = WireguardPeer(vec![
        WireguardPeerAttribute::PublicKey([3; 32]),
        WireguardPeerAttribute::TxBytes(1),
        WireguardPeerAttribute::RxBytes(2),
    ]);
    let mut second = dump_part(vec![
        WireguardAttribute::IfName("wg_mesh_vpn".into()),
        WireguardAttribute::Peers(vec![continued, other]),
    ]);
    second.extend(done(SEQUENCE, 0));
    assert_eq!(walk(&[first, second]).unwrap(), Some(expected(1_000)));
}

#[test]
fn late_answers_to_an_earlier_request_are_skipped() {
    let mut stale = genl_message(
        WireguardMessage {
            cmd: WireguardCmd::GetDevice,
            attributes: device_attributes(vec![WireguardPeer(vec![
                WireguardPeerAttribute::RxBytes(1),
            ])]),
        },
        NLM_F_MULTIPART,
        SEQUENCE - 1,
    );
    stale.extend(done(SEQUENCE - 1, 0));
    let mut current = dump_part(device_attributes(vec![gateway_peer(0)]));
    current.extend(done(SEQUENCE, 0));
    let counters = walk(&[stale, current]).unwrap().unwrap();
    assert_eq!(counters.rx_bytes, RX);
    assert_eq!(counters.last_handshake, None, "0 s means never");
}

#[test]
fn a_device_without_peers_has_no_first_peer() {
    let mut datagram = dump_part(device_attributes(vec![]));
    datagram.extend(done(SEQUENCE, 0));
    assert_eq!(walk(&[datagram]).unwrap(), None);
    assert_eq!(walk(&[done(SEQUENCE, 0)]).unwrap(), None);
}

#[test]
fn kernel_errors_are_the_errno() {
    // A missing interface: the dump ends with DONE carrying -ENODEV.
    let error = walk(&[done(SEQUENCE, -libc::ENODEV)]).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::ENODEV));
    let mut nack = done(SEQUENCE, -libc::EPERM);
    nack[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
    let error = DumpWalk::new(FAMILY, SEQUENCE).feed(&nack).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(libc::EPERM));
}

#[test]
fn malformed_answers_are_invalid_data() {
    let whole = dump_part(device_attributes(vec![gateway_peer(1)]));
    for bad in [&whole[..whole.len() - 1], &whole[..10]] {
        let error = DumpWalk::new(FAMILY, SEQUENCE).feed(bad).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
    let mut short_length = whole.clone();
    short_length[0..4].copy_from_slice(&8u32.to_ne_bytes());
    let error = DumpWalk::new(FAMILY, SEQUENCE)
        .feed(&short_length)
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    let no_counters = dump_part(device_attributes(vec![WireguardPeer(vec![
        WireguardPeerAttribute::PublicKey([1; 32]),
    ])]));
    let error = DumpWalk::new(FAMILY, SEQUENCE)
        .feed(&no_counters)
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
}

fn uapi_reply(peers: &str, errno: i32) -> String {
    format!(
        "private_key={}\nlisten_port=51000\nfwmark=1\n{peers}errno={errno}\n\n",
        "01".repeat(32)
    )
}

fn uapi_peer(key: &str, seconds: u64, tx: u64, rx: u64) -> String {
    format!(
        "public_key={}\npreshared_key={}\nprotocol_version=1\nendpoint=[2001:db8::2]:40012\n\
         last_handshake_time_sec={seconds}\nlast_handshake_time_nsec=5\ntx_bytes={tx}\n\
         rx_bytes={rx}\npersistent_keepalive_interval=25\nallowed_ip=fe80::1/128\n",
        key.repeat(32),
        "00".repeat(32)
    )
}

#[test]
fn uapi_answer_gives_the_first_peers_counters() {
    let peers = uapi_peer("ab", 1_700_000_000, TX, RX) + &uapi_peer("cd", 9, 1, 2);
    let counters = scan_uapi_get(uapi_reply(&peers, 0).as_bytes()).unwrap();
    assert_eq!(counters, Some(expected(1_700_000_000)));
    let never = scan_uapi_get(uapi_reply(&uapi_peer("ab", 0, 0, 0), 0).as_bytes()).unwrap();
    assert_eq!(never.unwrap().last_handshake, None);
}

#[test]
fn uapi_answer_without_peer_errno_or_numbers() {
    assert_eq!(scan_uapi_get(uapi_reply("", 0).as_bytes()).unwrap(), None);
    let refused = scan_uapi_get(uapi_reply("", -22).as_bytes()).unwrap_err();
    assert_eq!(refused.raw_os_error(), Some(22));
    let cut = scan_uapi_get(b"public_key=ab\nrx_bytes=1\n").unwrap_err();
    assert_eq!(cut.kind(), io::ErrorKind::InvalidData, "no errno line");
    let garbage = uapi_reply(
        &uapi_peer("ab", 1, 1, 1).replace("rx_bytes=1", "rx_bytes=x"),
        0,
    );
    let error = scan_uapi_get(garbage.as_bytes()).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    let no_rx = uapi_reply("public_key=ab\ntx_bytes=3\n", 0);
    assert!(scan_uapi_get(no_rx.as_bytes()).is_err());
}
