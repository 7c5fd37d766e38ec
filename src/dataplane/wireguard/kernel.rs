//! Kernel WireGuard: the link is made with RTM_NEWLINK kind `wireguard`,
//! configured and read with the `wireguard` generic netlink family.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use netlink_packet_core::NLM_F_DUMP;
use netlink_packet_wireguard::{
    WireguardAddressFamily, WireguardAllowedIp, WireguardAllowedIpAttr, WireguardAttribute,
    WireguardCmd, WireguardDeviceFlags, WireguardMessage, WireguardPeer, WireguardPeerAttribute,
    WireguardPeerFlags,
};

use super::{CounterReader, DeviceConfig, DeviceState, PeerState, WireGuard};
use crate::dataplane::genl::Genl;
use crate::dataplane::rtnl::Rtnl;
use crate::dataplane::rtnl_build;
use crate::error::{Error, Result};

pub struct KernelWireGuard {
    family_id: Option<u16>,
}

impl KernelWireGuard {
    pub fn new() -> KernelWireGuard {
        KernelWireGuard { family_id: None }
    }

    fn request(
        &mut self,
        name: &str,
        message: WireguardMessage,
        flags: u16,
        operation: &'static str,
    ) -> Result<Vec<WireguardMessage>> {
        let fail =
            |source| Error::dataplane(operation, name, "generic netlink family wireguard", source);
        let mut genl = Genl::open().map_err(fail)?;
        let family_id = match self.family_id {
            Some(id) => id,
            None => genl.family_id("wireguard").map_err(fail)?,
        };
        self.family_id = Some(family_id);
        genl.request(family_id, message, flags).map_err(fail)
    }
}

impl Default for KernelWireGuard {
    fn default() -> Self {
        KernelWireGuard::new()
    }
}

impl WireGuard for KernelWireGuard {
    fn link_kind(&self) -> &'static str {
        "wireguard"
    }

    fn create(&mut self, name: &str) -> Result<()> {
        let fail = |source| Error::dataplane("create link", name, "kind wireguard", source);
        Rtnl::open()
            .and_then(|mut rtnl| rtnl.create(rtnl_build::new_wireguard_link(name)))
            .map_err(fail)
    }

    fn configure(&mut self, name: &str, config: &DeviceConfig) -> Result<()> {
        let message = set_device_message(name, config);
        self.request(name, message, 0, "configure wireguard")
            .map(drop)
    }

    fn device(&mut self, name: &str) -> Result<DeviceState> {
        let message = get_device_message(name);
        let replies = self.request(name, message, NLM_F_DUMP, "read wireguard device")?;
        Ok(parse_device(&replies))
    }

    fn counter_reader(&self, name: &str) -> CounterReader {
        CounterReader::kernel(name)
    }

    fn delete(&mut self, name: &str) -> Result<()> {
        let fail = |source| Error::dataplane("delete link", name, "kind wireguard", source);
        let mut rtnl = Rtnl::open().map_err(fail)?;
        if let Some(link) = rtnl.link(name).map_err(fail)? {
            rtnl.delete_link(link.index).map_err(fail)?;
        }
        Ok(())
    }
}

/// SetDevice: key, fwmark, and the peer list replaced by the one gateway.
pub fn set_device_message(name: &str, config: &DeviceConfig) -> WireguardMessage {
    let peer = &config.peer;
    let allowed_ip = WireguardAllowedIp(vec![
        WireguardAllowedIpAttr::Family(WireguardAddressFamily::Ipv6),
        WireguardAllowedIpAttr::IpAddr(IpAddr::V6(peer.allowed_ip)),
        WireguardAllowedIpAttr::Cidr(128),
    ]);
    let peer = WireguardPeer(vec![
        WireguardPeerAttribute::PublicKey(peer.public_key),
        WireguardPeerAttribute::Flags(WireguardPeerFlags::ReplaceAllowedIps),
        WireguardPeerAttribute::Endpoint(peer.endpoint),
        WireguardPeerAttribute::PersistentKeepalive(peer.persistent_keepalive),
        WireguardPeerAttribute::AllowedIps(vec![allowed_ip]),
    ]);
    WireguardMessage {
        cmd: WireguardCmd::SetDevice,
        attributes: vec![
            WireguardAttribute::IfName(name.to_string()),
            WireguardAttribute::PrivateKey(config.private_key),
            WireguardAttribute::Fwmark(config.fwmark),
            WireguardAttribute::Flags(WireguardDeviceFlags::ReplacePeers),
            WireguardAttribute::Peers(vec![peer]),
        ],
    }
}

pub fn get_device_message(name: &str) -> WireguardMessage {
    WireguardMessage {
        cmd: WireguardCmd::GetDevice,
        attributes: vec![WireguardAttribute::IfName(name.to_string())],
    }
}

/// Folds a GetDevice dump (large peer lists span several messages) into one state.
pub fn parse_device(replies: &[WireguardMessage]) -> DeviceState {
    let mut state = DeviceState::default();
    for attribute in replies.iter().flat_map(|reply| &reply.attributes) {
        match attribute {
            WireguardAttribute::PrivateKey(key) if *key != [0; 32] => {
                state.private_key = Some(*key)
            }
            WireguardAttribute::Fwmark(mark) => state.fwmark = *mark,
            WireguardAttribute::ListenPort(port) => state.listen_port = *port,
            WireguardAttribute::Peers(peers) => state.peers.extend(peers.iter().map(parse_peer)),
            _ => {}
        }
    }
    state
}

fn parse_peer(peer: &WireguardPeer) -> PeerState {
    let mut state = PeerState::default();
    for attribute in peer.iter() {
        match attribute {
            WireguardPeerAttribute::PublicKey(key) => state.public_key = *key,
            WireguardPeerAttribute::Endpoint(endpoint) => state.endpoint = Some(*endpoint),
            WireguardPeerAttribute::PersistentKeepalive(secs) => state.persistent_keepalive = *secs,
            WireguardPeerAttribute::LastHandshake(time) => {
                state.last_handshake = handshake_time(time.seconds, time.nano_seconds)
            }
            WireguardPeerAttribute::RxBytes(bytes) => state.rx_bytes = *bytes,
            WireguardPeerAttribute::TxBytes(bytes) => state.tx_bytes = *bytes,
            WireguardPeerAttribute::AllowedIps(ips) => state
                .allowed_ips
                .extend(ips.iter().filter_map(parse_allowed_ip)),
            _ => {}
        }
    }
    state
}

fn parse_allowed_ip(allowed_ip: &WireguardAllowedIp) -> Option<(IpAddr, u8)> {
    let mut address = None;
    let mut cidr = None;
    for attribute in allowed_ip.iter() {
        match attribute {
            WireguardAllowedIpAttr::IpAddr(ip) => address = Some(*ip),
            WireguardAllowedIpAttr::Cidr(bits) => cidr = Some(*bits),
            _ => {}
        }
    }
    Some((address?, cidr?))
}

/// Zero seconds means "never"; negative values are garbage and read as never.
pub(crate) fn handshake_time(seconds: i64, nanos: i64) -> Option<SystemTime> {
    if seconds <= 0 {
        return None;
    }
    let nanos = u32::try_from(nanos).unwrap_or(0).min(999_999_999);
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(seconds.unsigned_abs(), nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::wireguard::PeerConfig;
    use netlink_packet_core::{Emitable, ParseableParametrized};
    use netlink_packet_generic::GenlHeader;

    fn config() -> DeviceConfig {
        DeviceConfig {
            private_key: [7; 32],
            fwmark: 1,
            peer: PeerConfig {
                public_key: [9; 32],
                endpoint: "[2001:db8::2]:40012".parse().unwrap(),
                allowed_ip: "fe80::27c:16ff:fec0:6c74".parse().unwrap(),
                persistent_keepalive: 25,
            },
        }
    }

    fn round_trip(message: &WireguardMessage) -> WireguardMessage {
        let mut bytes = vec![0; message.buffer_len()];
        message.emit(&mut bytes);
        let header = GenlHeader {
            cmd: message.cmd.into(),
            version: 1,
        };
        WireguardMessage::parse_with_param(&bytes, header).unwrap()
    }

    #[test]
    fn set_device_replaces_peers_and_reads_back_as_applied() {
        let message = set_device_message("wg_mesh_vpn", &config());
        let parsed = round_trip(&message);
        assert_eq!(parsed, message);
        assert!(parsed.attributes.contains(&WireguardAttribute::Flags(
            WireguardDeviceFlags::ReplacePeers
        )));
        assert!(
            !parsed
                .attributes
                .iter()
                .any(|a| matches!(a, WireguardAttribute::ListenPort(_)))
        );
        assert!(config().is_applied(&parse_device(&[parsed])));
    }

    #[test]
    fn device_dump_split_over_messages_is_merged() {
        let mut first = set_device_message("wg", &config());
        first.attributes.push(WireguardAttribute::ListenPort(51820));
        let mut second = set_device_message("wg", &config());
        let stats = WireguardPeer(vec![
            WireguardPeerAttribute::PublicKey([3; 32]),
            WireguardPeerAttribute::RxBytes(10),
            WireguardPeerAttribute::LastHandshake(netlink_packet_wireguard::WireguardTimeSpec {
                seconds: 0,
                nano_seconds: 0,
            }),
        ]);
        second.attributes = vec![WireguardAttribute::Peers(vec![stats])];
        let state = parse_device(&[round_trip(&first), round_trip(&second)]);
        assert_eq!(state.listen_port, 51820);
        assert_eq!(state.peers.len(), 2);
        assert_eq!(state.peers[1].rx_bytes, 10);
        assert_eq!(state.peers[1].last_handshake, None);
        assert!(
            !config().is_applied(&state),
            "two peers are not the single gateway peer"
        );
    }

    #[test]
    fn new_link_is_kind_wireguard() {
        let link = rtnl_build::new_wireguard_link("wg_mesh_vpn");
        let state = crate::dataplane::rtnl_parse::echo_link(&link);
        assert_eq!(state.kind.as_deref(), Some("wireguard"));
        assert_eq!(state.name, "wg_mesh_vpn");
    }
}
