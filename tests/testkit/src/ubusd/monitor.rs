//! The monitor object (id 3): `add` makes a client a monitor, which from then on gets a MONITOR
//! copy of every message ubusd sends or receives, `remove` ends that (ubusd_monitor.c). Unlike
//! ubusd, which allows only uid 0 / gid 0, anyone may monitor this stand-in: tests rarely run as
//! root.

use ubus_wire::{Attr, Message, MessageType};

use super::state::Registry;

const INVALID_COMMAND: u32 = 1;

/// MONITOR payload attribute ids.
const CLIENT: u8 = 0;
const PEER: u8 = 1;
const SEND: u8 = 2;
const SEQ: u8 = 3;
const TYPE: u8 = 4;
const DATA: u8 = 5;

pub fn invoke(reg: &mut Registry, client: u32, method: &str) -> u32 {
    match method {
        "add" => {
            if !reg.monitors.iter().any(|(id, _)| *id == client) {
                reg.monitors.push((client, 0));
            }
            0
        }
        "remove" => {
            reg.monitors.retain(|(id, _)| *id != client);
            0
        }
        _ => INVALID_COMMAND,
    }
}

/// Copies `message`, sent to (`sent`) or received from `client`, to every monitor. MONITOR
/// messages themselves are never copied.
pub fn copy(reg: &mut Registry, client: u32, message: &Message, sent: bool) {
    if message.kind == MessageType::Monitor || reg.monitors.is_empty() {
        return;
    }
    let Ok(bytes) = message.encode() else {
        return;
    };
    let attrs = bytes
        .get(ubus_wire::message::PREFIX_LEN..)
        .unwrap_or_default();
    let int32 = |id, n: u32| Attr::Unknown {
        id,
        payload: n.to_be_bytes().to_vec(),
    };
    let payload = vec![
        int32(CLIENT, client),
        int32(PEER, message.peer),
        int32(SEQ, message.seq.into()),
        int32(TYPE, message.kind.as_u8().into()),
        Attr::Unknown {
            id: SEND,
            payload: vec![u8::from(sent)],
        },
        Attr::Unknown {
            id: DATA,
            payload: attrs.to_vec(),
        },
    ];
    for (monitor, seq) in reg.monitors.iter_mut() {
        *seq = seq.wrapping_add(1);
        let copy = Message::new(MessageType::Monitor, *seq, 0, payload.clone());
        if let Some(c) = reg.clients.get(monitor) {
            c.deliver(&copy);
        }
    }
}
