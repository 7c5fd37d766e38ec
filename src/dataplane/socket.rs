//! A small blocking netlink socket: send one request, collect the replies
//! until the kernel's ACK or DONE. Used for both rtnetlink and generic
//! netlink, so the binary carries one netlink stack and no async runtime
//! glue (netavark does the same).

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable,
};
use netlink_sys::{Socket, SocketAddr};

pub(crate) struct NetlinkSocket {
    socket: Socket,
    sequence: u32,
}

impl NetlinkSocket {
    /// Opens a socket of `protocol` (`netlink_sys::protocols::NETLINK_*`)
    /// bound to a kernel-chosen port and connected to the kernel.
    pub(crate) fn open(protocol: isize) -> io::Result<NetlinkSocket> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(NetlinkSocket {
            socket,
            sequence: 0,
        })
    }

    /// Sends `payload` with `flags` (REQUEST and ACK are always added) and
    /// returns every message the kernel answered with. A NACK becomes the
    /// errno as an `io::Error`.
    pub(crate) fn request<Q, R>(&mut self, payload: Q, flags: u16) -> io::Result<Vec<R>>
    where
        Q: NetlinkSerializable + Debug,
        R: NetlinkDeserializable,
    {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags | NLM_F_REQUEST | NLM_F_ACK;
        header.sequence_number = self.sequence;
        let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
        message.finalize();
        let mut buffer = vec![0u8; message.buffer_len()];
        message.serialize(&mut buffer);
        self.socket.send(&buffer, 0)?;
        self.collect_replies()
    }

    fn collect_replies<R: NetlinkDeserializable>(&mut self) -> io::Result<Vec<R>> {
        let mut replies = Vec::new();
        loop {
            let (datagram, _) = self.socket.recv_from_full()?;
            let mut offset = 0;
            while offset < datagram.len() {
                let message = NetlinkMessage::<R>::deserialize(&datagram[offset..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let length = message.header.length as usize;
                if length == 0 {
                    break;
                }
                offset += (length + 3) & !3;
                if message.header.sequence_number != self.sequence {
                    continue; // a late answer to an earlier request
                }
                match message.payload {
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(error) if error.code.is_some() => {
                        return Err(error.to_io());
                    }
                    NetlinkPayload::Error(_) => return Ok(replies),
                    // A dump ends with DONE, anything else with the ACK.
                    NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                    _ => {}
                }
            }
        }
    }
}
