//! The WireGuard cross-platform UAPI text format (wireguard.com/xplatform):
//! `key=value` lines, keys in lowercase hex, answers ending in `errno=N`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use super::kernel::handshake_time;
use super::{DeviceConfig, DeviceState, Key, PeerState};

pub fn set_request(config: &DeviceConfig) -> String {
    let peer = &config.peer;
    format!(
        "set=1\nprivate_key={}\nfwmark={}\nreplace_peers=true\npublic_key={}\n\
         endpoint={}\npersistent_keepalive_interval={}\nreplace_allowed_ips=true\n\
         allowed_ip={}/128\n\n",
        hex(&config.private_key),
        config.fwmark,
        hex(&peer.public_key),
        peer.endpoint,
        peer.persistent_keepalive,
        peer.allowed_ip,
    )
}

/// `errno=0` is success; anything else (or no errno line) is the error.
pub fn check_errno(reply: &str) -> io::Result<()> {
    let errno = reply
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("errno="))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "UAPI answer without errno"))?;
    match errno.trim().parse::<i32>() {
        Ok(0) => Ok(()),
        Ok(code) => Err(io::Error::from_raw_os_error(code.abs())),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("UAPI errno {}", crate::quote::quote(errno)),
        )),
    }
}

/// Parses a `get=1` answer; unknown keys and malformed values are skipped.
pub fn parse_get(reply: &str) -> DeviceState {
    let mut state = DeviceState::default();
    let mut handshake = (0i64, 0i64);
    for (key, value) in reply.lines().filter_map(|line| line.split_once('=')) {
        if key == "public_key" {
            finish_peer(&mut state, handshake);
            handshake = (0, 0);
            state.peers.push(PeerState {
                public_key: unhex(value).unwrap_or_default(),
                ..PeerState::default()
            });
            continue;
        }
        match state.peers.last_mut() {
            None => parse_device_line(&mut state, key, value),
            Some(peer) => parse_peer_line(peer, &mut handshake, key, value),
        }
    }
    finish_peer(&mut state, handshake);
    state
}

fn finish_peer(state: &mut DeviceState, (seconds, nanos): (i64, i64)) {
    if let Some(peer) = state.peers.last_mut() {
        peer.last_handshake = handshake_time(seconds, nanos);
    }
}

fn parse_device_line(state: &mut DeviceState, key: &str, value: &str) {
    match key {
        "private_key" => state.private_key = unhex(value).filter(|key| *key != [0; 32]),
        "fwmark" => state.fwmark = value.parse().unwrap_or(0),
        "listen_port" => state.listen_port = value.parse().unwrap_or(0),
        _ => {}
    }
}

fn parse_peer_line(peer: &mut PeerState, handshake: &mut (i64, i64), key: &str, value: &str) {
    match key {
        "endpoint" => peer.endpoint = value.parse::<SocketAddr>().ok(),
        "persistent_keepalive_interval" => peer.persistent_keepalive = value.parse().unwrap_or(0),
        "last_handshake_time_sec" => handshake.0 = value.parse().unwrap_or(0),
        "last_handshake_time_nsec" => handshake.1 = value.parse().unwrap_or(0),
        "rx_bytes" => peer.rx_bytes = value.parse().unwrap_or(0),
        "tx_bytes" => peer.tx_bytes = value.parse().unwrap_or(0),
        "allowed_ip" => peer.allowed_ips.extend(parse_cidr(value)),
        _ => {}
    }
}

fn parse_cidr(value: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = value.split_once('/')?;
    Some((ip.parse().ok()?, bits.parse().ok()?))
}

fn hex(key: &Key) -> String {
    key.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Key> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::wireguard::PeerConfig;

    fn config() -> DeviceConfig {
        DeviceConfig {
            private_key: [1; 32],
            fwmark: 1,
            peer: PeerConfig {
                public_key: [0xab; 32],
                endpoint: "[2001:db8::2]:40012".parse().unwrap(),
                allowed_ip: "fe80::281:8eff:fef0:73aa".parse().unwrap(),
                persistent_keepalive: 25,
            },
        }
    }

    #[test]
    fn set_request_replaces_the_single_peer() {
        let text = set_request(&config());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "set=1");
        assert_eq!(lines[1], format!("private_key={}", "01".repeat(32)));
        assert!(lines.contains(&"fwmark=1"));
        assert!(lines.contains(&"replace_peers=true"));
        assert!(lines.contains(&"endpoint=[2001:db8::2]:40012"));
        assert!(lines.contains(&"persistent_keepalive_interval=25"));
        assert!(lines.contains(&"allowed_ip=fe80::281:8eff:fef0:73aa/128"));
        assert!(!text.contains("listen_port"), "the port stays random");
        assert!(text.ends_with("\n\n"));
    }

    #[test]
    fn get_answer_parses_into_the_applied_config() {
        let reply = format!(
            "private_key={}\nlisten_port=51000\nfwmark=1\npublic_key={}\n\
             endpoint=[2001:db8::2]:40012\nlast_handshake_time_sec=1700000000\n\
             last_handshake_time_nsec=5\ntx_bytes=92\nrx_bytes=1234\n\
             persistent_keepalive_interval=25\nallowed_ip=fe80::281:8eff:fef0:73aa/128\n\
             protocol_version=1\nerrno=0\n",
            "01".repeat(32),
            "ab".repeat(32)
        );
        check_errno(&reply).unwrap();
        let state = parse_get(&reply);
        assert_eq!(state.listen_port, 51000);
        assert_eq!(state.peers.len(), 1);
        assert_eq!(state.peers[0].rx_bytes, 1234);
        assert_eq!(state.peers[0].tx_bytes, 92);
        assert!(state.peers[0].last_handshake.is_some());
        assert!(config().is_applied(&state));
        let moved = reply.replace("40012", "40013");
        assert!(!config().is_applied(&parse_get(&moved)));
    }

    #[test]
    fn errno_and_garbage_are_errors() {
        assert_eq!(
            check_errno("errno=22\n").unwrap_err().raw_os_error(),
            Some(22)
        );
        assert!(check_errno("errno=x\n").is_err());
        assert!(check_errno("").is_err());
        let state = parse_get("public_key=zz\nrx_bytes=huge\nallowed_ip=nonsense\n");
        assert_eq!(state.peers.len(), 1);
        assert_eq!(state.peers[0].rx_bytes, 0);
        assert!(state.peers[0].allowed_ips.is_empty());
    }
}
