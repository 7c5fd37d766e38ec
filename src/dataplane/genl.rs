//! Generic netlink: resolve a family name (wireguard, batadv) to its id and
//! send commands of that family over the shared blocking socket.

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{Emitable, ParseableParametrized};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::protocols::NETLINK_GENERIC;

use super::socket::NetlinkSocket;

pub(crate) struct Genl {
    socket: NetlinkSocket,
}

impl Genl {
    pub(crate) fn open() -> io::Result<Genl> {
        Ok(Genl {
            socket: NetlinkSocket::open(NETLINK_GENERIC)?,
        })
    }

    /// The id of family `name`; ENOENT when its module is not loaded.
    pub(crate) fn family_id(&mut self, name: &str) -> io::Result<u16> {
        let query = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(name.to_string())],
        });
        let replies: Vec<GenlMessage<GenlCtrl>> = self.socket.request(query, 0)?;
        replies
            .iter()
            .flat_map(|reply| reply.payload.nlas.iter())
            .find_map(|attribute| match attribute {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    /// Sends `payload` to family `family_id` and returns the answers.
    pub(crate) fn request<F>(
        &mut self,
        family_id: u16,
        payload: F,
        flags: u16,
    ) -> io::Result<Vec<F>>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + Debug,
    {
        let mut message = GenlMessage::from_payload(payload);
        message.set_resolved_family_id(family_id);
        let replies: Vec<GenlMessage<F>> = self.socket.request(message, flags)?;
        Ok(replies.into_iter().map(|reply| reply.payload).collect())
    }
}
