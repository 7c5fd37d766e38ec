//! ubus messages: an 8-byte header (version, type, seq BE, peer BE) and one blob container whose
//! children are plain ubus attributes.

pub use crate::attr::{Attr, Data, attr_id, attr_name, decode_attrs};
use crate::blob::{self, Writer};
use crate::blobmsg::Table;
use crate::error::{Error, Result};

/// Length of the fixed header before the container.
pub const HEADER_LEN: usize = 8;
/// `UBUS_MAX_MSGLEN`: the largest container ubusd and libubus accept.
pub const MAX_MESSAGE_LEN: usize = 1 << 20;
/// Header plus container tag: what a reader takes before it knows the message length.
pub const PREFIX_LEN: usize = HEADER_LEN + blob::HEADER_LEN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    Hello,
    Status,
    Data,
    Ping,
    Lookup,
    Invoke,
    AddObject,
    RemoveObject,
    Subscribe,
    Unsubscribe,
    Notify,
    Monitor,
    /// A type ubusd answers with INVALID_COMMAND; kept so it can be decoded and re-encoded.
    Other(u8),
}

const TYPES: [MessageType; 12] = [
    MessageType::Hello,
    MessageType::Status,
    MessageType::Data,
    MessageType::Ping,
    MessageType::Lookup,
    MessageType::Invoke,
    MessageType::AddObject,
    MessageType::RemoveObject,
    MessageType::Subscribe,
    MessageType::Unsubscribe,
    MessageType::Notify,
    MessageType::Monitor,
];

impl MessageType {
    pub fn from_u8(n: u8) -> Self {
        TYPES
            .get(usize::from(n))
            .copied()
            .unwrap_or(MessageType::Other(n))
    }

    pub fn as_u8(self) -> u8 {
        match self {
            MessageType::Other(n) => n,
            known => TYPES.iter().position(|&t| t == known).unwrap_or(0) as u8,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Always 0 in practice; kept because ubusd echoes other values (libubus rejects them).
    pub version: u8,
    pub kind: MessageType,
    pub seq: u16,
    pub peer: u32,
    pub attrs: Vec<Attr>,
}

impl Message {
    pub fn new(kind: MessageType, seq: u16, peer: u32, attrs: Vec<Attr>) -> Self {
        Message {
            version: 0,
            kind,
            seq,
            peer,
            attrs,
        }
    }

    /// Given the first [`PREFIX_LEN`] bytes of a message, how many bytes follow.
    pub fn remaining_len(prefix: &[u8; PREFIX_LEN]) -> Result<usize> {
        let len = u32::from_be_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]) & 0x00ff_ffff;
        let len = len as usize;
        if len > MAX_MESSAGE_LEN {
            return Err(Error::TooLarge {
                what: "message",
                len,
                limit: MAX_MESSAGE_LEN,
            });
        }
        if len < blob::HEADER_LEN || len % 4 != 0 {
            return Err(Error::malformed(
                "container",
                format!("length {len} is not a padded container length"),
            ));
        }
        Ok(len - blob::HEADER_LEN)
    }

    pub fn decode(bytes: &[u8]) -> Result<Message> {
        Message::decode_with(bytes, Attr::decode)
    }

    /// Decodes as ubusd does to route a message: the ubus attributes, with DATA kept as raw
    /// bytes. ubusd checks that a reply carries DATA, not what the DATA holds, so a relay need
    /// not parse (and rebuild) every value of a large reply.
    pub fn decode_routing(bytes: &[u8]) -> Result<Message> {
        Message::decode_with(bytes, |raw| match (raw.extended, raw.id) {
            (false, crate::attr::attr_id::DATA) => Ok(Attr::Data(Data::Raw(raw.payload.to_vec()))),
            _ => Attr::decode(raw),
        })
    }

    fn decode_with(
        bytes: &[u8],
        decode_attr: impl Fn(blob::RawAttr<'_>) -> Result<Attr>,
    ) -> Result<Message> {
        if bytes.len() < PREFIX_LEN {
            return Err(Error::malformed(
                "header",
                format!("{} bytes, a message has at least {PREFIX_LEN}", bytes.len()),
            ));
        }
        if bytes.len() > HEADER_LEN + MAX_MESSAGE_LEN {
            return Err(Error::TooLarge {
                what: "message",
                len: bytes.len() - HEADER_LEN,
                limit: MAX_MESSAGE_LEN,
            });
        }
        let (header, body) = bytes.split_at(HEADER_LEN);
        let kind = MessageType::from_u8(header[1]);
        let payload = blob::container(body)?;
        let attrs = match kind {
            MessageType::Monitor => blob::attrs(payload)
                .map(|raw| {
                    raw.map(|raw| Attr::Unknown {
                        id: raw.id,
                        payload: raw.payload.to_vec(),
                    })
                })
                .collect::<Result<_>>()?,
            _ => blob::attrs(payload)
                .map(|raw| raw.and_then(&decode_attr))
                .collect::<Result<_>>()?,
        };
        Ok(Message {
            version: header[0],
            kind,
            seq: u16::from_be_bytes([header[2], header[3]]),
            peer: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            attrs,
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        w.put_bytes(&[self.version, self.kind.as_u8()]);
        w.put_bytes(&self.seq.to_be_bytes());
        w.put_bytes(&self.peer.to_be_bytes());
        let mark = w.open(false, 0);
        self.attrs.iter().try_for_each(|attr| attr.encode(&mut w))?;
        w.close(mark);
        let container_len = w.len() - HEADER_LEN;
        if container_len > MAX_MESSAGE_LEN {
            return Err(Error::TooLarge {
                what: "message",
                len: container_len,
                limit: MAX_MESSAGE_LEN,
            });
        }
        Ok(w.into_bytes())
    }

    fn find<'a, T>(&'a self, pick: impl Fn(&'a Attr) -> Option<T>) -> Option<T> {
        self.attrs.iter().find_map(pick)
    }

    pub fn status(&self) -> Option<u32> {
        self.find(|a| {
            if let Attr::Status(n) = a {
                Some(*n)
            } else {
                None
            }
        })
    }

    pub fn obj_id(&self) -> Option<u32> {
        self.find(|a| {
            if let Attr::ObjId(n) = a {
                Some(*n)
            } else {
                None
            }
        })
    }

    pub fn obj_type(&self) -> Option<u32> {
        self.find(|a| {
            if let Attr::ObjType(n) = a {
                Some(*n)
            } else {
                None
            }
        })
    }

    pub fn obj_path(&self) -> Option<&str> {
        self.find(|a| {
            if let Attr::ObjPath(s) = a {
                Some(s.as_str())
            } else {
                None
            }
        })
    }

    pub fn method(&self) -> Option<&str> {
        self.find(|a| {
            if let Attr::Method(s) = a {
                Some(s.as_str())
            } else {
                None
            }
        })
    }

    pub fn signature(&self) -> Option<&Table> {
        self.find(|a| {
            if let Attr::Signature(t) = a {
                Some(t)
            } else {
                None
            }
        })
    }

    pub fn data(&self) -> Option<&Data> {
        self.find(|a| if let Attr::Data(d) = a { Some(d) } else { None })
    }

    /// The DATA attribute if it is a blobmsg table.
    pub fn data_table(&self) -> Option<&Table> {
        self.find(|a| {
            if let Attr::Data(Data::Table(t)) = a {
                Some(t)
            } else {
                None
            }
        })
    }

    /// [`Message::data_table`], taken out of the message instead of borrowed.
    pub fn into_data_table(self) -> Option<Table> {
        self.attrs.into_iter().find_map(|a| match a {
            Attr::Data(Data::Table(t)) => Some(t),
            _ => None,
        })
    }

    pub fn active(&self) -> Option<bool> {
        self.find(|a| {
            if let Attr::Active(b) = a {
                Some(*b)
            } else {
                None
            }
        })
    }

    pub fn no_reply(&self) -> bool {
        self.find(|a| {
            if let Attr::NoReply(b) = a {
                Some(*b)
            } else {
                None
            }
        }) == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_and_re_encodes_the_cli_invoke() {
        let bytes = hex("00050002bd7158930000001c03000008bd7158930400000b737461747573000007000004");
        let msg = Message::decode(&bytes).unwrap();
        assert_eq!(
            (msg.kind, msg.seq, msg.peer),
            (MessageType::Invoke, 2, 0xbd71_5893)
        );
        assert_eq!(msg.obj_id(), Some(0xbd71_5893));
        assert_eq!(msg.method(), Some("status"));
        assert_eq!(msg.data_table(), Some(&Table::new()));
        assert_eq!(msg.encode().unwrap(), bytes);
    }

    #[test]
    fn fixed_sizes_of_ubus_attributes_are_enforced() {
        // OBJID with 3 bytes, ACTIVE with 2, an extended STATUS, a METHOD without NUL.
        for body in [
            "0000000c03000007bd715800",
            "0000000c0900000601010000",
            "0000000c8100000800000000",
            "0000000c0400000773746100",
        ] {
            let bytes = hex(&format!("000a000100000000{body}"));
            assert!(Message::decode(&bytes).is_err(), "{body}");
        }
    }

    #[test]
    fn too_large_messages_are_refused_before_reading() {
        let prefix: [u8; PREFIX_LEN] = [0, 2, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 4];
        assert!(matches!(
            Message::remaining_len(&prefix),
            Err(Error::TooLarge { .. })
        ));
        let prefix: [u8; PREFIX_LEN] = [0, 2, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0];
        assert_eq!(
            Message::remaining_len(&prefix).unwrap(),
            MAX_MESSAGE_LEN - 4
        );
        let huge = Table::new().with("blob", "x".repeat(MAX_MESSAGE_LEN));
        let msg = Message::new(MessageType::Data, 1, 0, vec![Attr::Data(Data::Table(huge))]);
        assert!(matches!(msg.encode(), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn message_types_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(MessageType::from_u8(n).as_u8(), n);
        }
        assert_eq!(MessageType::from_u8(10), MessageType::Notify);
        assert_eq!(MessageType::from_u8(12), MessageType::Other(12));
    }
}
