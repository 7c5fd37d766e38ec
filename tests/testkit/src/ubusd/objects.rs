//! ADD_OBJECT, REMOVE_OBJECT and LOOKUP, and what removing an object sets off (unsubscribes,
//! NOTIFY {ACTIVE 0}, `ubus.object.remove`), following ubusd_object.c and ubusd_proto.c.

use ubus_wire::{Attr, Message, MessageType, StatusCode, Table, Value};

use super::events;
use super::state::{Object, ObjectType, Registry};
use super::subscriptions;

const INVALID_ARGUMENT: u32 = 2;
const NOT_FOUND: u32 = 4;
const PERMISSION_DENIED: u32 = 6;

pub fn add_object(reg: &mut Registry, client: u32, request: &Message) -> Option<u32> {
    let type_id = match (request.obj_type(), request.signature()) {
        (Some(id), _) => match reg.types.get_mut(&id) {
            Some(known) => {
                known.refcount += 1;
                Some(id)
            }
            None => return Some(INVALID_ARGUMENT),
        },
        (None, Some(signature)) if valid_signature(signature) => {
            let id = reg.new_id();
            let signature = signature.clone();
            reg.types.insert(
                id,
                ObjectType {
                    signature,
                    refcount: 1,
                },
            );
            Some(id)
        }
        (None, Some(_)) => return Some(INVALID_ARGUMENT),
        (None, None) => None,
    };
    let path = request.obj_path().map(str::to_owned);
    if path.as_ref().is_some_and(|p| reg.paths.contains_key(p)) {
        release_type(reg, type_id);
        return Some(INVALID_ARGUMENT);
    }
    let id = reg.new_id();
    insert_object(reg, client, id, path.clone(), type_id);
    if let Some(path) = path {
        events::emit(reg, None, "ubus.object.add", object_event(id, &path));
    }
    let mut attrs = vec![Attr::ObjId(id)];
    if let (Some(type_id), Some(_)) = (type_id, request.signature()) {
        attrs.push(Attr::ObjType(type_id));
    }
    reg.reply(client, request, MessageType::Data, attrs);
    Some(0)
}

/// Every method must be a table of argument types, as ubusd_new_object_type checks.
fn valid_signature(signature: &Table) -> bool {
    signature
        .iter()
        .all(|(name, method)| !name.is_empty() && matches!(method, Value::Table(_)))
}

fn insert_object(
    reg: &mut Registry,
    client: u32,
    id: u32,
    path: Option<String>,
    type_id: Option<u32>,
) {
    if let Some(path) = &path {
        reg.paths.insert(path.clone(), id);
    }
    let object = Object {
        client,
        path,
        type_id,
        subscribers: Vec::new(),
        targets: Vec::new(),
        invoke_seq: 0,
    };
    reg.objects.insert(id, object);
    if let Some(c) = reg.clients.get_mut(&client) {
        c.objects.push(id);
    }
}

pub fn remove_object(reg: &mut Registry, client: u32, request: &Message) -> Option<u32> {
    let Some(id) = request.obj_id() else {
        return Some(INVALID_ARGUMENT);
    };
    let Some(object) = reg.objects.get(&id) else {
        return Some(NOT_FOUND);
    };
    if object.client != client {
        return Some(PERMISSION_DENIED);
    }
    let mut attrs = vec![Attr::ObjId(id)];
    if let Some(type_id) = object.type_id
        && reg.types.get(&type_id).is_some_and(|t| t.refcount == 1)
    {
        attrs.push(Attr::ObjType(type_id));
    }
    reg.reply(client, request, MessageType::Data, attrs);
    free_object(reg, id);
    Some(0)
}

/// ubusd_free_object: drop the object's event registrations, its own subscriptions, tell its
/// subscribers (UNSUBSCRIBE), and announce `ubus.object.remove` if it had a path.
pub fn free_object(reg: &mut Registry, id: u32) {
    reg.listeners.retain(|l| l.object != id);
    let Some(object) = reg.objects.get(&id) else {
        return;
    };
    let (targets, subscribers) = (object.targets.clone(), object.subscribers.clone());
    for target in targets {
        subscriptions::unsubscribe(reg, id, target);
    }
    for subscriber in subscribers {
        subscriptions::tell_unsubscribed(reg, subscriber, id);
        subscriptions::unsubscribe(reg, subscriber, id);
    }
    let Some(object) = reg.objects.remove(&id) else {
        return;
    };
    release_type(reg, object.type_id);
    if let Some(c) = reg.clients.get_mut(&object.client) {
        c.objects.retain(|&o| o != id);
    }
    if let Some(path) = object.path {
        reg.paths.remove(&path);
        events::emit(reg, None, "ubus.object.remove", object_event(id, &path));
    }
}

fn release_type(reg: &mut Registry, type_id: Option<u32>) {
    let Some(type_id) = type_id else { return };
    if let Some(t) = reg.types.get_mut(&type_id) {
        t.refcount -= 1;
        if t.refcount == 0 {
            reg.types.remove(&type_id);
        }
    }
}

/// `{"id": <objid as signed int32>, "path": ...}` of ubus.object.add/remove.
fn object_event(id: u32, path: &str) -> Table {
    Table::new().with("id", id as i32).with("path", path)
}

/// LOOKUP: everything without a path, an exact path, or a prefix ending in `*`.
pub fn lookup(reg: &mut Registry, client: u32, request: &Message) -> Option<u32> {
    let matches: Vec<u32> = match request.obj_path() {
        None => reg.paths.values().copied().collect(),
        Some("") => return Some(StatusCode::InvalidArgument.as_u32()),
        Some(pattern) => match pattern.strip_suffix('*') {
            Some(prefix) => reg
                .paths
                .range(prefix.to_owned()..)
                .take_while(|(path, _)| path.starts_with(prefix))
                .map(|(_, &id)| id)
                .collect(),
            None => reg.paths.get(pattern).copied().into_iter().collect(),
        },
    };
    if matches.is_empty() && request.obj_path().is_some() {
        return Some(NOT_FOUND);
    }
    for id in matches {
        let attrs = describe(reg, id);
        reg.reply(client, request, MessageType::Data, attrs);
    }
    Some(0)
}

/// One LOOKUP result: OBJPATH, OBJID, OBJTYPE, SIGNATURE.
fn describe(reg: &Registry, id: u32) -> Vec<Attr> {
    let object = reg.objects.get(&id);
    let type_id = object.and_then(|o| o.type_id);
    let signature = type_id
        .and_then(|t| reg.types.get(&t))
        .map(|t| t.signature.clone())
        .unwrap_or_default();
    vec![
        Attr::ObjPath(object.and_then(|o| o.path.clone()).unwrap_or_default()),
        Attr::ObjId(id),
        Attr::ObjType(type_id.unwrap_or(0)),
        Attr::Signature(signature),
    ]
}
