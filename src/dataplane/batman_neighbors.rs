//! The batman-adv layer of the health check: does batman-adv hear the
//! gateway over `mesh-vpn`? checkuplink ran `batctl ping` to the selected
//! gateway, a process every check that also failed whenever batman had no
//! gateway selected. Here the neighbor table (BATADV_CMD_GET_NEIGHBORS over
//! generic netlink) is read: OGMs/ELP arrive every second from a live
//! gateway, so a recent `last seen` on mesh-vpn proves the layer.

use std::time::Duration;

use netlink_packet_core::{DefaultNla, NLM_F_DUMP, Nla};

use super::batman::BatadvMessage;
use super::genl::Genl;
use crate::error::{Error, Result};

const BATADV_CMD_GET_NEIGHBORS: u8 = 9;
const BATADV_ATTR_MESH_IFINDEX: u16 = 3;
const BATADV_ATTR_HARD_IFINDEX: u16 = 6;
const BATADV_ATTR_LAST_SEEN_MSECS: u16 = 23;

/// What batman-adv knows about neighbors on the VXLAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatmanNeighbor {
    /// No batman-adv module: the layer does not apply.
    NotAvailable,
    /// mesh-vpn is not (yet) a hard interface of a mesh.
    NotAHardInterface,
    /// The most recently heard neighbor on mesh-vpn, if any.
    LastSeen(Option<Duration>),
}

pub fn get_neighbors_message(mesh: u32) -> BatadvMessage {
    BatadvMessage {
        cmd: BATADV_CMD_GET_NEIGHBORS,
        attributes: vec![DefaultNla::new(
            BATADV_ATTR_MESH_IFINDEX,
            mesh.to_ne_bytes().to_vec(),
        )],
    }
}

/// The freshest `last seen` among the neighbors heard on hard interface `hard`.
pub fn freshest_on(replies: &[BatadvMessage], hard: u32) -> Option<Duration> {
    replies
        .iter()
        .filter(|m| u32_of(m, BATADV_ATTR_HARD_IFINDEX) == Some(hard))
        .filter_map(|m| u32_of(m, BATADV_ATTR_LAST_SEEN_MSECS))
        .min()
        .map(|ms| Duration::from_millis(ms.into()))
}

/// Reads the neighbor table of the mesh `master` for hard interface `hard` (`name`).
pub fn neighbor(name: &str, hard: u32, master: Option<u32>) -> Result<BatmanNeighbor> {
    let Some(mesh) = master else {
        return Ok(BatmanNeighbor::NotAHardInterface);
    };
    let fail =
        |source| Error::dataplane("read batman-adv neighbors", name, "GET_NEIGHBORS", source);
    let mut genl = Genl::open().map_err(fail)?;
    let family = match genl.family_id("batadv") {
        Ok(id) => id,
        Err(error) if error.raw_os_error() == Some(libc::ENOENT) => {
            return Ok(BatmanNeighbor::NotAvailable);
        }
        Err(error) => return Err(fail(error)),
    };
    match genl.request(family, get_neighbors_message(mesh), NLM_F_DUMP) {
        Ok(replies) => Ok(BatmanNeighbor::LastSeen(freshest_on(&replies, hard))),
        // The master is not a batman-adv mesh (e.g. a bridge).
        Err(error) if matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENODEV)) => {
            Ok(BatmanNeighbor::NotAHardInterface)
        }
        Err(error) => Err(fail(error)),
    }
}

fn u32_of(message: &BatadvMessage, kind: u16) -> Option<u32> {
    message
        .attributes
        .iter()
        .find(|a| a.kind() == kind)
        .and_then(|a| {
            let mut bytes = vec![0u8; a.value_len()];
            a.emit_value(&mut bytes);
            Some(u32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neighbor_reply(hard: u32, last_seen_ms: u32) -> BatadvMessage {
        BatadvMessage {
            cmd: BATADV_CMD_GET_NEIGHBORS,
            attributes: vec![
                DefaultNla::new(BATADV_ATTR_HARD_IFINDEX, hard.to_ne_bytes().to_vec()),
                DefaultNla::new(24, vec![2, 0, 0, 0, 0, 1]), // NEIGH_ADDRESS
                DefaultNla::new(
                    BATADV_ATTR_LAST_SEEN_MSECS,
                    last_seen_ms.to_ne_bytes().to_vec(),
                ),
            ],
        }
    }

    #[test]
    fn the_freshest_neighbor_on_our_interface_counts() {
        let replies = [
            neighbor_reply(7, 900),
            neighbor_reply(3, 10),
            neighbor_reply(7, 250),
        ];
        assert_eq!(freshest_on(&replies, 7), Some(Duration::from_millis(250)));
        assert_eq!(freshest_on(&replies, 9), None);
    }

    #[test]
    fn the_request_names_the_mesh() {
        let message = get_neighbors_message(4);
        assert_eq!(message.cmd, 9);
        assert_eq!(u32_of(&message, BATADV_ATTR_MESH_IFINDEX), Some(4));
    }

    #[test]
    fn without_master_nothing_is_sent() {
        assert_eq!(
            neighbor("mesh-vpn", 5, None).unwrap(),
            BatmanNeighbor::NotAHardInterface
        );
    }
}
