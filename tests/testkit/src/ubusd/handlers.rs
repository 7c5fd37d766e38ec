//! One function per message type a client can send; each returns the status ubusd answers
//! with, or `None` when the answer comes from elsewhere (a forwarded INVOKE, a relayed reply).

use ubus_wire::{Attr, Data, Message, MessageType, Table, blobmsg};

use super::state::{ACL_OBJECT, EVENT_OBJECT, MONITOR_OBJECT, Registry};
use super::{events, monitor, objects, subscriptions};

const INVALID_COMMAND: u32 = 1;
const INVALID_ARGUMENT: u32 = 2;
const NOT_FOUND: u32 = 4;
const NOT_SUPPORTED: u32 = 8;

/// Handles one message from `client` and sends every resulting message.
pub fn handle(reg: &mut Registry, client: u32, message: &Message) {
    let status = match message.kind {
        MessageType::Ping => ping(reg, client, message),
        MessageType::Lookup => objects::lookup(reg, client, message),
        MessageType::Invoke => invoke(reg, client, message),
        MessageType::AddObject => objects::add_object(reg, client, message),
        MessageType::RemoveObject => objects::remove_object(reg, client, message),
        MessageType::Subscribe => subscriptions::subscribe(reg, client, message),
        MessageType::Unsubscribe => subscriptions::unsubscribe_request(reg, client, message),
        MessageType::Notify => subscriptions::notify(reg, client, message),
        MessageType::Status | MessageType::Data => relay_reply(reg, client, message),
        // HELLO and MONITOR from a client, and unknown types.
        _ => Some(INVALID_COMMAND),
    };
    if let Some(status) = status {
        reg.reply_status(client, message, status);
    }
}

/// PING: the message comes back as DATA, version byte and all, then STATUS 0.
fn ping(reg: &mut Registry, client: u32, message: &Message) -> Option<u32> {
    let mut echo = message.clone();
    echo.kind = MessageType::Data;
    reg.send(client, echo);
    Some(0)
}

fn invoke(reg: &mut Registry, client: u32, message: &Message) -> Option<u32> {
    let (Some(id), Some(method)) = (message.obj_id(), message.method()) else {
        return Some(INVALID_ARGUMENT);
    };
    match id {
        EVENT_OBJECT => {
            let data = event_data(message);
            return Some(events::invoke(reg, client, method, data.as_ref()));
        }
        MONITOR_OBJECT => return Some(monitor::invoke(reg, client, method)),
        // ubusd's ACL query is not part of this stand-in.
        ACL_OBJECT => return Some(NOT_SUPPORTED),
        _ => {}
    }
    let Some(owner) = reg.owner_of(id) else {
        return Some(NOT_FOUND);
    };
    let (user, group) = reg.credentials(client);
    let mut attrs = vec![
        Attr::ObjId(id),
        Attr::Method(method.to_owned()),
        user,
        group,
    ];
    if let Some(data) = message.data() {
        attrs.push(Attr::Data(data.clone()));
    }
    let forwarded = Message::new(MessageType::Invoke, message.seq, client, attrs);
    reg.send(owner, forwarded);
    None
}

/// The DATA of a message to the event object, parsed: ubusd reads its `pattern` and `object`.
/// DATA that is not a blobmsg table counts as none.
fn event_data(message: &Message) -> Option<Table> {
    match message.data()? {
        Data::Table(table) => Some(table.clone()),
        Data::Raw(bytes) => blobmsg::decode_table_body(bytes).ok(),
    }
}

/// DATA or STATUS from an object owner: checked like ubusd_handle_response, then passed on to
/// the client named in the header with the object id as peer. Anything else is dropped.
fn relay_reply(reg: &mut Registry, client: u32, message: &Message) -> Option<u32> {
    let id = message.obj_id()?;
    let complete = match message.kind {
        MessageType::Status => message.status().is_some(),
        _ => message.data().is_some(),
    };
    if !complete || reg.owner_of(id) != Some(client) || !reg.clients.contains_key(&message.peer) {
        return None;
    }
    let mut relayed = message.clone();
    relayed.peer = id;
    reg.send(message.peer, relayed);
    None
}
