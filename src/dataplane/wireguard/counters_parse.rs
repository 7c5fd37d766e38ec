//! The bytes of the once-a-second counter sample, without allocating: the
//! generic netlink WG_CMD_GET_DEVICE request built into a fixed array, a walk
//! over its dump that keeps only the first peer's counters, and a scan of a
//! wireguard-go UAPI `get=1` answer for the same three values.
//!
//! Numbers from the kernel's include/uapi/linux/wireguard.h (the same as
//! netlink-packet-wireguard 0.5 uses): `enum wg_cmd` WG_CMD_GET_DEVICE = 0,
//! WG_GENL_VERSION 1; `enum wgdevice_attribute` WGDEVICE_A_IFNAME = 2,
//! WGDEVICE_A_PEERS = 8; `enum wgpeer_attribute`
//! WGPEER_A_LAST_HANDSHAKE_TIME = 6 (a `struct __kernel_timespec`, two
//! 64-bit fields on every architecture), WGPEER_A_RX_BYTES = 7,
//! WGPEER_A_TX_BYTES = 8 (u64). Like every netlink attribute that is not
//! marked NLA_F_NET_BYTEORDER they are in host byte order.

use std::io;
use std::time::SystemTime;

use crate::dataplane::rtnl_parse::attributes;

use super::kernel::handshake_time;

const WG_CMD_GET_DEVICE: u8 = 0;
const WG_GENL_VERSION: u8 = 1;
const WGDEVICE_A_IFNAME: u16 = 2;
const WGDEVICE_A_PEERS: u16 = 8;
const WGPEER_A_LAST_HANDSHAKE_TIME: u16 = 6;
const WGPEER_A_RX_BYTES: u16 = 7;
const WGPEER_A_TX_BYTES: u16 = 8;

// linux/netlink.h
const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
/// IFNAMSIZ less the NUL.
const IFNAME_MAX: usize = 15;

/// What the liveness check reads of the gateway peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCounters {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// `None` until the first handshake.
    pub last_handshake: Option<SystemTime>,
}

/// Header, genl header and WGDEVICE_A_IFNAME of at most 15 bytes plus NUL.
pub const REQUEST_MAX: usize = NLMSG_HDRLEN + GENL_HDRLEN + 4 + 16;

/// A WG_CMD_GET_DEVICE dump request for one interface, built once; each
/// request only writes the family id and the sequence number into it.
#[derive(Clone)]
pub struct GetDeviceRequest {
    bytes: [u8; REQUEST_MAX],
    len: usize,
}

impl GetDeviceRequest {
    /// `None` for a name the kernel would refuse (empty, longer than 15
    /// bytes, or with a NUL in it).
    pub fn new(ifname: &str) -> Option<GetDeviceRequest> {
        let name = ifname.as_bytes();
        if name.is_empty() || name.len() > IFNAME_MAX || name.contains(&0) {
            return None;
        }
        let nla_len = 4 + name.len() + 1;
        let len = NLMSG_HDRLEN + GENL_HDRLEN + align(nla_len);
        let mut bytes = [0u8; REQUEST_MAX];
        bytes[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
        bytes[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        bytes[16] = WG_CMD_GET_DEVICE;
        bytes[17] = WG_GENL_VERSION;
        bytes[20..22].copy_from_slice(&(nla_len as u16).to_ne_bytes());
        bytes[22..24].copy_from_slice(&WGDEVICE_A_IFNAME.to_ne_bytes());
        bytes[24..24 + name.len()].copy_from_slice(name);
        Some(GetDeviceRequest { bytes, len })
    }

    /// The request as sent to `family` with `sequence`.
    pub fn bytes(&mut self, family: u16, sequence: u32) -> &[u8] {
        self.bytes[4..6].copy_from_slice(&family.to_ne_bytes());
        self.bytes[8..12].copy_from_slice(&sequence.to_ne_bytes());
        &self.bytes[..self.len]
    }
}

fn align(len: usize) -> usize {
    (len + 3) & !3
}

fn invalid() -> io::Error {
    // A bare kind: no allocation even on this path.
    io::ErrorKind::InvalidData.into()
}

/// Walks the answer to one GetDevice dump, datagram by datagram, keeping
/// the counters of the first peer. The kernel splits a long peer list over
/// several messages (a peer continued in the next message carries only its
/// key and allowed IPs), so the first peer is in the first message that
/// has one; the walk still reads to NLMSG_DONE so no answer is left queued.
pub struct DumpWalk {
    family: u16,
    sequence: u32,
    peer: Option<PeerCounters>,
}

impl DumpWalk {
    pub fn new(family: u16, sequence: u32) -> DumpWalk {
        DumpWalk {
            family,
            sequence,
            peer: None,
        }
    }

    /// Reads one datagram: `Ok(true)` once the dump is complete. Messages
    /// of another sequence number (a late answer) are skipped; a kernel
    /// error is the errno.
    pub fn feed(&mut self, mut datagram: &[u8]) -> io::Result<bool> {
        while !datagram.is_empty() {
            let header = datagram.get(..NLMSG_HDRLEN).ok_or_else(invalid)?;
            let len = u32::from_ne_bytes(header[0..4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(header[4..6].try_into().unwrap());
            let sequence = u32::from_ne_bytes(header[8..12].try_into().unwrap());
            let payload = datagram.get(NLMSG_HDRLEN..len).ok_or_else(invalid)?;
            datagram = datagram.get(align(len)..).unwrap_or_default();
            if sequence != self.sequence {
                continue;
            }
            match kind {
                NLMSG_NOOP => {}
                // The error code is 0 (an ACK) or a negative errno; DONE
                // of a dump carries one too.
                NLMSG_ERROR | NLMSG_DONE => {
                    let code = payload
                        .get(0..4)
                        .map_or(0, |code| i32::from_ne_bytes(code.try_into().unwrap()));
                    if code < 0 {
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                    return Ok(true);
                }
                NLMSG_OVERRUN => return Err(invalid()),
                kind if kind == self.family => self.device_message(payload)?,
                _ => {}
            }
        }
        Ok(false)
    }

    /// The first peer's counters; `None` when the device has no peer.
    pub fn first_peer(&self) -> Option<PeerCounters> {
        self.peer
    }

    fn device_message(&mut self, payload: &[u8]) -> io::Result<()> {
        if self.peer.is_some() {
            return Ok(());
        }
        let attrs = payload.get(GENL_HDRLEN..).ok_or_else(invalid)?;
        let Some(peers) = attributes(attrs).find(|nla| nla.kind() == WGDEVICE_A_PEERS) else {
            return Ok(());
        };
        // Each peer is a nest of type 0 (| NLA_F_NESTED on kernels >= 5.2).
        if let Some(peer) = attributes(peers.value()).next() {
            self.peer = Some(peer_counters(peer.value())?);
        }
        Ok(())
    }
}

fn peer_counters(peer: &[u8]) -> io::Result<PeerCounters> {
    let mut counters = PeerCounters::default();
    let mut rx = false;
    // Where u64 needs 8-byte alignment (MIPS) the kernel puts a pad
    // attribute of type 0 before it: skipped like any other type.
    for nla in attributes(peer) {
        let value = nla.value();
        match nla.kind() {
            WGPEER_A_RX_BYTES => {
                counters.rx_bytes = u64_of(value)?;
                rx = true;
            }
            WGPEER_A_TX_BYTES => counters.tx_bytes = u64_of(value)?,
            WGPEER_A_LAST_HANDSHAKE_TIME => {
                let time = value.get(..16).ok_or_else(invalid)?;
                let seconds = i64::from_ne_bytes(time[..8].try_into().unwrap());
                let nanos = i64::from_ne_bytes(time[8..].try_into().unwrap());
                counters.last_handshake = handshake_time(seconds, nanos);
            }
            _ => {}
        }
    }
    if rx { Ok(counters) } else { Err(invalid()) }
}

fn u64_of(value: &[u8]) -> io::Result<u64> {
    Ok(u64::from_ne_bytes(value.try_into().map_err(|_| invalid())?))
}

/// Scans a complete UAPI `get=1` answer (up to its blank line) for the
/// first peer's counters: `Ok(None)` when there is no peer, the errno when
/// wireguard-go answered one.
pub fn scan_uapi_get(reply: &[u8]) -> io::Result<Option<PeerCounters>> {
    let mut peers = 0u32;
    let mut counters = PeerCounters::default();
    let (mut seconds, mut nanos, mut rx) = (0, 0, false);
    let mut errno = None;
    for line in reply.split(|&byte| byte == b'\n') {
        let Some(split) = line.iter().position(|&byte| byte == b'=') else {
            continue;
        };
        let (key, value) = (&line[..split], &line[split + 1..]);
        match key {
            b"public_key" => peers += 1,
            // wireguard-go writes its errors negative (ipc.IpcErrorIO = -EIO).
            b"errno" => errno = Some(number(value.strip_prefix(b"-").unwrap_or(value))?),
            _ if peers != 1 => {}
            b"rx_bytes" => {
                counters.rx_bytes = number(value)?;
                rx = true;
            }
            b"tx_bytes" => counters.tx_bytes = number(value)?,
            b"last_handshake_time_sec" => seconds = number(value)?,
            b"last_handshake_time_nsec" => nanos = number(value)?,
            _ => {}
        }
    }
    match errno {
        Some(0) => {}
        Some(code) => return Err(io::Error::from_raw_os_error(code as i32)),
        None => return Err(invalid()),
    }
    if peers == 0 {
        return Ok(None);
    }
    if !rx {
        return Err(invalid());
    }
    counters.last_handshake = handshake_time(seconds as i64, nanos as i64);
    Ok(Some(counters))
}

/// One integer type for all: each `parse` type costs flash.
fn number(value: &[u8]) -> io::Result<u64> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(invalid)
}

#[cfg(test)]
#[path = "counters_parse_tests.rs"]
mod tests;
