//! The event object (id 1): `register` adds a listener pattern for an anonymous object,
//! `send` broadcasts, and ubusd's own `ubus.object.*` events go out the same way
//! (ubusd_event.c).

use ubus_wire::{Attr, Data, Message, MessageType, Table, Value};

use super::state::{Listener, Registry};

const INVALID_COMMAND: u32 = 1;
const INVALID_ARGUMENT: u32 = 2;
const NOT_FOUND: u32 = 4;
const PERMISSION_DENIED: u32 = 6;

/// An INVOKE on object 1; the status is ubusd's own and never waits for listeners.
pub fn invoke(reg: &mut Registry, client: u32, method: &str, args: Option<&Table>) -> u32 {
    let Some(args) = args else {
        return INVALID_ARGUMENT;
    };
    match method {
        "register" => register(reg, client, args),
        "send" => send(reg, client, args),
        _ => INVALID_COMMAND,
    }
}

fn register(reg: &mut Registry, client: u32, args: &Table) -> u32 {
    let Some(object) = args.get("object").and_then(Value::as_i64) else {
        return INVALID_ARGUMENT;
    };
    let object = object as u32;
    let pattern = match args.get("pattern") {
        None => "*".to_owned(),
        Some(Value::String(p)) => p.clone(),
        Some(_) => return INVALID_ARGUMENT,
    };
    match reg.owner_of(object) {
        None => NOT_FOUND,
        Some(owner) if owner != client => PERMISSION_DENIED,
        Some(_) => {
            reg.listeners.push(Listener { object, pattern });
            0
        }
    }
}

fn send(reg: &mut Registry, client: u32, args: &Table) -> u32 {
    let (Some(Value::String(name)), Some(Value::Table(data))) = (args.get("id"), args.get("data"))
    else {
        return INVALID_ARGUMENT;
    };
    if name.starts_with("ubus.") {
        return PERMISSION_DENIED;
    }
    emit(reg, Some(client), name, data.clone());
    0
}

/// Delivers an event to every matching listener object once, never back to the sender's own
/// client. Each delivery takes the next value of the global event counter as its seq.
pub fn emit(reg: &mut Registry, sender: Option<u32>, name: &str, data: Table) {
    let mut delivered: Vec<u32> = Vec::new();
    let targets: Vec<u32> = reg
        .listeners
        .iter()
        .filter(|l| matches(&l.pattern, name))
        .map(|l| l.object)
        .collect();
    for object in targets {
        let Some(owner) = reg.owner_of(object) else {
            continue;
        };
        if Some(owner) == sender || delivered.contains(&object) {
            continue;
        }
        delivered.push(object);
        reg.event_seq = reg.event_seq.wrapping_add(1);
        let attrs = vec![
            Attr::ObjId(object),
            Attr::Method(name.to_owned()),
            Attr::Data(Data::Table(data.clone())),
        ];
        let seq = reg.event_seq;
        reg.send(owner, Message::new(MessageType::Invoke, seq, 0, attrs));
    }
}

/// An exact name, or a prefix followed by `*`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_are_exact_or_prefix() {
        assert!(matches("mesh_vpn.*", "mesh_vpn.state"));
        assert!(matches("*", "anything"));
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "a.bc"));
        assert!(!matches("mesh_vpn.*", "other.test"));
    }
}
