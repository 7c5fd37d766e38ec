//! The ubus attributes inside a message container: plain blob attributes whose payload type
//! is fixed by their id.

use crate::blob::{self, Writer};
use crate::blobmsg::{self, Table};
use crate::error::{Error, Result};

/// A DATA payload: normally a blobmsg table body. `Raw` keeps bytes as they are: what libubus'
/// monitor `add`/`remove` put there (plain ubus attributes), what a relay passes on unparsed
/// ([`crate::Message::decode_routing`]), or a reply table encoded in advance.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Table(Table),
    Raw(Vec<u8>),
}

impl From<Table> for Data {
    fn from(table: Table) -> Self {
        Data::Table(table)
    }
}

/// One ubus attribute, typed by its id. MONITOR messages number their attributes differently, so
/// all of theirs decode as `Unknown` (see [`decode_attrs`] for the copied DATA inside).
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    Status(u32),
    ObjPath(String),
    ObjId(u32),
    Method(String),
    ObjType(u32),
    Signature(Table),
    Data(Data),
    Target(u32),
    Active(bool),
    NoReply(bool),
    Subscribers(Vec<u32>),
    User(String),
    Group(String),
    Unknown { id: u8, payload: Vec<u8> },
}

pub mod attr_id {
    pub const STATUS: u8 = 1;
    pub const OBJPATH: u8 = 2;
    pub const OBJID: u8 = 3;
    pub const METHOD: u8 = 4;
    pub const OBJTYPE: u8 = 5;
    pub const SIGNATURE: u8 = 6;
    pub const DATA: u8 = 7;
    pub const TARGET: u8 = 8;
    pub const ACTIVE: u8 = 9;
    pub const NO_REPLY: u8 = 10;
    pub const SUBSCRIBERS: u8 = 11;
    pub const USER: u8 = 12;
    pub const GROUP: u8 = 13;
}

impl Attr {
    pub fn id(&self) -> u8 {
        use attr_id::*;
        match self {
            Attr::Status(_) => STATUS,
            Attr::ObjPath(_) => OBJPATH,
            Attr::ObjId(_) => OBJID,
            Attr::Method(_) => METHOD,
            Attr::ObjType(_) => OBJTYPE,
            Attr::Signature(_) => SIGNATURE,
            Attr::Data(_) => DATA,
            Attr::Target(_) => TARGET,
            Attr::Active(_) => ACTIVE,
            Attr::NoReply(_) => NO_REPLY,
            Attr::Subscribers(_) => SUBSCRIBERS,
            Attr::User(_) => USER,
            Attr::Group(_) => GROUP,
            Attr::Unknown { id, .. } => *id,
        }
    }

    pub(crate) fn decode(raw: blob::RawAttr<'_>) -> Result<Attr> {
        use attr_id::*;
        let name = attr_name(raw.id);
        if raw.extended {
            return Err(Error::malformed(
                name,
                "ubus attribute has the blobmsg extended bit",
            ));
        }
        let p = raw.payload;
        let u32_of = |p: &[u8]| blobmsg::fixed::<4>(p, "int32").map(u32::from_be_bytes);
        let bool_of = |p: &[u8]| blobmsg::fixed::<1>(p, "int8").map(|b| b[0] != 0);
        let attr = match raw.id {
            STATUS => u32_of(p).map(Attr::Status),
            OBJPATH => blobmsg::decode_string(p).map(Attr::ObjPath),
            OBJID => u32_of(p).map(Attr::ObjId),
            METHOD => blobmsg::decode_string(p).map(Attr::Method),
            OBJTYPE => u32_of(p).map(Attr::ObjType),
            SIGNATURE => blobmsg::decode_table_body(p).map(Attr::Signature),
            DATA => decode_data(p).map(Attr::Data),
            TARGET => u32_of(p).map(Attr::Target),
            ACTIVE => bool_of(p).map(Attr::Active),
            NO_REPLY => bool_of(p).map(Attr::NoReply),
            SUBSCRIBERS => decode_subscribers(p).map(Attr::Subscribers),
            USER => blobmsg::decode_string(p).map(Attr::User),
            GROUP => blobmsg::decode_string(p).map(Attr::Group),
            id => Ok(Attr::Unknown {
                id,
                payload: p.to_vec(),
            }),
        };
        attr.map_err(|e| e.within(name))
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<()> {
        let mark = w.open(false, self.id());
        match self {
            Attr::Status(n) | Attr::ObjId(n) | Attr::ObjType(n) | Attr::Target(n) => {
                w.put_bytes(&n.to_be_bytes())
            }
            Attr::ObjPath(s) | Attr::Method(s) | Attr::User(s) | Attr::Group(s) => {
                w.put_bytes(s.as_bytes());
                w.put_bytes(&[0]);
            }
            Attr::Signature(table) | Attr::Data(Data::Table(table)) => {
                blobmsg::encode_table_body(w, table)?
            }
            Attr::Data(Data::Raw(bytes)) | Attr::Unknown { payload: bytes, .. } => {
                w.put_bytes(bytes)
            }
            Attr::Active(b) | Attr::NoReply(b) => w.put_bytes(&[u8::from(*b)]),
            Attr::Subscribers(ids) => ids.iter().for_each(|id| w.put(false, 0, &id.to_be_bytes())),
        }
        w.close(mark);
        Ok(())
    }
}

/// The name of a ubus attribute id, for error messages.
pub fn attr_name(id: u8) -> &'static str {
    const NAMES: [&str; 14] = [
        "UNSPEC",
        "STATUS",
        "OBJPATH",
        "OBJID",
        "METHOD",
        "OBJTYPE",
        "SIGNATURE",
        "DATA",
        "TARGET",
        "ACTIVE",
        "NO_REPLY",
        "SUBSCRIBERS",
        "USER",
        "GROUP",
    ];
    NAMES
        .get(usize::from(id))
        .copied()
        .unwrap_or("unknown attribute")
}

/// DATA is blobmsg unless its children are plain attributes (the monitor quirk).
fn decode_data(payload: &[u8]) -> Result<Data> {
    let all_blobmsg = blob::attrs(payload).try_fold(true, |all, child| {
        let extended = child?.extended;
        Ok::<_, Error>(all && extended)
    })?;
    if all_blobmsg {
        blobmsg::decode_table_body(payload).map(Data::Table)
    } else {
        Ok(Data::Raw(payload.to_vec()))
    }
}

fn decode_subscribers(payload: &[u8]) -> Result<Vec<u32>> {
    blob::attrs(payload)
        .map(|child| {
            child.and_then(|child| match (child.extended, child.id) {
                (false, 0) => blobmsg::fixed::<4>(child.payload, "int32").map(u32::from_be_bytes),
                _ => Err(Error::malformed(
                    "",
                    format!(
                        "subscriber entry has id {}, expected a plain id 0",
                        child.id
                    ),
                )),
            })
        })
        .collect()
}

/// Decodes a list of ubus attributes, e.g. the DATA copied into a MONITOR message.
pub fn decode_attrs(payload: &[u8]) -> Result<Vec<Attr>> {
    blob::attrs(payload)
        .map(|raw| raw.and_then(Attr::decode))
        .collect()
}
