//! batman-adv cannot estimate throughput on a VXLAN, so checkuplink pinned
//! it with `batctl hardif mesh-vpn throughput_override 1000mbit`. We send
//! the same BATADV_CMD_SET_HARDIF over generic netlink, without a process.
//! A node without batman-adv, or a mesh-vpn netifd has not yet put into
//! bat0, is reported, not fatal.

use std::fmt::Debug;

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use super::genl::Genl;
use crate::error::{Error, Result};

const BATADV_CMD_SET_HARDIF: u8 = 16;
const BATADV_ATTR_MESH_IFINDEX: u16 = 3;
const BATADV_ATTR_HARD_IFINDEX: u16 = 6;
const BATADV_ATTR_THROUGHPUT_OVERRIDE: u16 = 59;

/// 1000 Mbit/s in batman-adv's unit of 100 kbit/s (batctl multiplies mbit by 10).
pub const THROUGHPUT_OVERRIDE_1000MBIT: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatmanOutcome {
    Set,
    /// The batadv generic netlink family is absent: no batman-adv module.
    NotAvailable,
    /// mesh-vpn has no master yet (netifd adds it to bat0 on its own time).
    NotAHardInterface,
}

/// A batadv message: command plus flat u32 attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatadvMessage {
    pub cmd: u8,
    pub attributes: Vec<DefaultNla>,
}

impl GenlFamily for BatadvMessage {
    fn family_name() -> &'static str {
        "batadv"
    }
    fn version(&self) -> u8 {
        1
    }
    fn command(&self) -> u8 {
        self.cmd
    }
}

impl Emitable for BatadvMessage {
    fn buffer_len(&self) -> usize {
        self.attributes.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.attributes.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for BatadvMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let mut attributes = Vec::new();
        for nla in NlasIterator::new(buf) {
            let nla: NlaBuffer<&[u8]> = nla?;
            attributes.push(DefaultNla::parse(&nla)?);
        }
        Ok(BatadvMessage {
            cmd: header.cmd,
            attributes,
        })
    }
}

fn u32_attribute(kind: u16, value: u32) -> DefaultNla {
    DefaultNla::new(kind, value.to_ne_bytes().to_vec())
}

pub fn throughput_override_message(mesh: u32, hard: u32, value: u32) -> BatadvMessage {
    BatadvMessage {
        cmd: BATADV_CMD_SET_HARDIF,
        attributes: vec![
            u32_attribute(BATADV_ATTR_MESH_IFINDEX, mesh),
            u32_attribute(BATADV_ATTR_HARD_IFINDEX, hard),
            u32_attribute(BATADV_ATTR_THROUGHPUT_OVERRIDE, value),
        ],
    }
}

/// Pins the throughput of hard interface `hard` (named `name`) in mesh
/// `master`, if there is a master and batman-adv is loaded.
pub fn set_throughput_override(
    name: &str,
    hard: u32,
    master: Option<u32>,
) -> Result<BatmanOutcome> {
    let Some(mesh) = master else {
        return Ok(BatmanOutcome::NotAHardInterface);
    };
    let value = "throughput_override 1000mbit";
    let fail = |source| Error::dataplane("set batman-adv hardif", name, value, source);
    let mut genl = Genl::open().map_err(fail)?;
    let family = match genl.family_id("batadv") {
        Ok(id) => id,
        Err(error) if error.raw_os_error() == Some(libc::ENOENT) => {
            return Ok(BatmanOutcome::NotAvailable);
        }
        Err(error) => return Err(fail(error)),
    };
    let message = throughput_override_message(mesh, hard, THROUGHPUT_OVERRIDE_1000MBIT);
    match genl.request(family, message, 0) {
        Ok(_) => Ok(BatmanOutcome::Set),
        // The master is a bridge or similar, not a batman-adv mesh.
        Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {
            Ok(BatmanOutcome::NotAHardInterface)
        }
        Err(error) => Err(fail(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_hardif_carries_both_indexes_and_the_value() {
        let message = throughput_override_message(4, 9, THROUGHPUT_OVERRIDE_1000MBIT);
        let mut bytes = vec![0; message.buffer_len()];
        message.emit(&mut bytes);
        // Three u32 attributes: 8 bytes each (4 header + 4 value).
        assert_eq!(bytes.len(), 24);
        assert_eq!(&bytes[2..4], &BATADV_ATTR_MESH_IFINDEX.to_ne_bytes());
        assert_eq!(&bytes[4..8], &4u32.to_ne_bytes());
        assert_eq!(&bytes[10..12], &BATADV_ATTR_HARD_IFINDEX.to_ne_bytes());
        assert_eq!(&bytes[20..24], &10_000u32.to_ne_bytes());
        let header = GenlHeader {
            cmd: 16,
            version: 1,
        };
        let parsed = BatadvMessage::parse_with_param(&bytes, header).unwrap();
        assert_eq!(parsed, message);
    }

    #[test]
    fn without_master_nothing_is_sent() {
        let outcome = set_throughput_override("mesh-vpn", 5, None).unwrap();
        assert_eq!(outcome, BatmanOutcome::NotAHardInterface);
    }
}
