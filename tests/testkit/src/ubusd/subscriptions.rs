//! SUBSCRIBE, UNSUBSCRIBE and NOTIFY (ubusd_proto.c / ubusd_object.c): the owner hears
//! NOTIFY {ACTIVE} when its first subscriber arrives or its last one leaves, and a notify is
//! fanned out to every subscriber as an INVOKE.

use ubus_wire::{Attr, Message, MessageType};

use super::state::Registry;

const INVALID_ARGUMENT: u32 = 2;
const NOT_FOUND: u32 = 4;

pub fn subscribe(reg: &mut Registry, client: u32, request: &Message) -> Option<u32> {
    let (Some(subscriber), Some(target)) = (request.obj_id(), target_of(request)) else {
        return Some(INVALID_ARGUMENT);
    };
    match reg.owner_of(subscriber) {
        None => return Some(NOT_FOUND),
        Some(owner) if owner != client => return Some(INVALID_ARGUMENT),
        Some(_) => {}
    }
    match reg.owner_of(target) {
        None => return Some(NOT_FOUND),
        Some(owner) if owner == client => return Some(INVALID_ARGUMENT),
        Some(_) => {}
    }
    let first = reg
        .objects
        .get(&target)
        .is_some_and(|t| t.subscribers.is_empty());
    if let Some(t) = reg.objects.get_mut(&target) {
        t.subscribers.insert(0, subscriber);
    }
    if let Some(s) = reg.objects.get_mut(&subscriber) {
        s.targets.insert(0, target);
    }
    if first {
        tell_owner_active(reg, target, true);
    }
    Some(0)
}

pub fn unsubscribe_request(reg: &mut Registry, client: u32, request: &Message) -> Option<u32> {
    let (Some(subscriber), Some(target)) = (request.obj_id(), target_of(request)) else {
        return Some(INVALID_ARGUMENT);
    };
    if reg.owner_of(subscriber) != Some(client) {
        return Some(INVALID_ARGUMENT);
    }
    let subscribed = reg
        .objects
        .get(&subscriber)
        .is_some_and(|s| s.targets.contains(&target));
    if !subscribed {
        return Some(NOT_FOUND);
    }
    unsubscribe(reg, subscriber, target);
    Some(0)
}

/// Drops one subscription; the target's owner hears ACTIVE 0 when it was the last.
pub fn unsubscribe(reg: &mut Registry, subscriber: u32, target: u32) {
    if let Some(s) = reg.objects.get_mut(&subscriber) {
        s.targets.retain(|&t| t != target);
    }
    let Some(t) = reg.objects.get_mut(&target) else {
        return;
    };
    let before = t.subscribers.len();
    t.subscribers.retain(|&s| s != subscriber);
    if before > 0 && t.subscribers.is_empty() {
        tell_owner_active(reg, target, false);
    }
}

/// UNSUBSCRIBE {OBJID = subscriber, TARGET} to the subscriber when its target goes away.
pub fn tell_unsubscribed(reg: &mut Registry, subscriber: u32, target: u32) {
    let Some(s) = reg.objects.get_mut(&subscriber) else {
        return;
    };
    s.invoke_seq = s.invoke_seq.wrapping_add(1);
    let (seq, owner) = (s.invoke_seq, s.client);
    let attrs = vec![Attr::ObjId(subscriber), Attr::Target(target)];
    reg.send(owner, Message::new(MessageType::Unsubscribe, seq, 0, attrs));
}

fn tell_owner_active(reg: &mut Registry, target: u32, active: bool) {
    let Some(t) = reg.objects.get_mut(&target) else {
        return;
    };
    t.invoke_seq = t.invoke_seq.wrapping_add(1);
    let (seq, owner) = (t.invoke_seq, t.client);
    let attrs = vec![Attr::ObjId(target), Attr::Active(active)];
    reg.send(owner, Message::new(MessageType::Notify, seq, 0, attrs));
}

/// NOTIFY from an object's owner: unless NO_REPLY, a STATUS listing the subscribers first;
/// then one INVOKE per subscriber carrying the notifier's client id as peer.
pub fn notify(reg: &mut Registry, client: u32, request: &Message) -> Option<u32> {
    let (Some(id), Some(method)) = (request.obj_id(), request.method()) else {
        return Some(INVALID_ARGUMENT);
    };
    if reg.owner_of(id) != Some(client) {
        return Some(NOT_FOUND);
    }
    let subscribers = reg
        .objects
        .get(&id)
        .map(|o| o.subscribers.clone())
        .unwrap_or_default();
    let no_reply = request.no_reply();
    if !no_reply {
        let attrs = vec![
            Attr::ObjId(id),
            Attr::Subscribers(subscribers.clone()),
            Attr::Status(0),
        ];
        reg.reply(client, request, MessageType::Status, attrs);
    }
    let (user, group) = reg.credentials(client);
    for subscriber in subscribers {
        let Some(owner) = reg.owner_of(subscriber) else {
            continue;
        };
        let mut attrs = Vec::with_capacity(6);
        if no_reply {
            attrs.push(Attr::NoReply(true));
        }
        attrs.extend([
            Attr::ObjId(subscriber),
            Attr::Method(method.to_owned()),
            user.clone(),
            group.clone(),
        ]);
        if let Some(data) = request.data() {
            attrs.push(Attr::Data(data.clone()));
        }
        reg.send(
            owner,
            Message::new(MessageType::Invoke, request.seq, client, attrs),
        );
    }
    None
}

fn target_of(message: &Message) -> Option<u32> {
    message.attrs.iter().find_map(|a| match a {
        Attr::Target(t) => Some(*t),
        _ => None,
    })
}
