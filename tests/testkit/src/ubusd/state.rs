//! Everything ubusd knows: clients, objects, object types, paths and event listeners, plus the
//! helpers that route a message to a client. One lock around it keeps the order of messages
//! what a single-threaded ubusd would produce.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};

use tokio::sync::mpsc::UnboundedSender;

use super::monitor;
use ubus_wire::{Attr, Message, MessageType, Table};

/// The system objects ubusd itself serves.
pub const EVENT_OBJECT: u32 = 1;
pub const ACL_OBJECT: u32 = 2;
pub const MONITOR_OBJECT: u32 = 3;

pub struct Client {
    /// Encoded messages for the client's writer, which sends what has queued up in one write.
    pub outbox: UnboundedSender<Vec<u8>>,
    pub user: String,
    pub group: String,
    /// Objects this client registered, oldest first.
    pub objects: Vec<u32>,
}

impl Client {
    /// Queues a message; a client that is gone simply misses it. Our codec never builds a
    /// message over the size limit from what it decoded, so encoding does not fail here.
    pub fn deliver(&self, message: &Message) {
        if let Ok(bytes) = message.encode() {
            let _ = self.outbox.send(bytes);
        }
    }
}

pub struct Object {
    pub client: u32,
    pub path: Option<String>,
    pub type_id: Option<u32>,
    /// Subscriber object ids, newest first (ubusd uses `list_add`, which prepends).
    pub subscribers: Vec<u32>,
    /// Objects this (anonymous) object subscribed to.
    pub targets: Vec<u32>,
    /// ubusd's per-object counter for NOTIFY {ACTIVE} and UNSUBSCRIBE.
    pub invoke_seq: u16,
}

pub struct ObjectType {
    pub signature: Table,
    pub refcount: usize,
}

pub struct Listener {
    pub object: u32,
    pub pattern: String,
}

#[derive(Default)]
pub struct Registry {
    pub clients: HashMap<u32, Client>,
    pub objects: HashMap<u32, Object>,
    pub types: HashMap<u32, ObjectType>,
    /// Path → object id; ordered like ubusd's AVL tree (strcmp), which is what LOOKUP lists.
    pub paths: BTreeMap<String, u32>,
    pub listeners: Vec<Listener>,
    /// ubusd's global counter for event deliveries.
    pub event_seq: u16,
    /// Monitoring clients with their MONITOR message counters.
    pub monitors: Vec<(u32, u16)>,
    random: RandomState,
    draws: u64,
}

impl Registry {
    /// A fresh random id of at least 1024, unused by any client, object or type.
    pub fn new_id(&mut self) -> u32 {
        loop {
            self.draws += 1;
            let mut hasher = self.random.build_hasher();
            hasher.write_u64(self.draws);
            let id = hasher.finish() as u32;
            let taken = self.clients.contains_key(&id)
                || self.objects.contains_key(&id)
                || self.types.contains_key(&id);
            if id >= 1024 && !taken {
                return id;
            }
        }
    }

    /// Queues a message for a client; a client that is gone simply misses it, as in ubusd.
    /// Monitors get their copy first, as in ubusd's ubus_msg_send.
    pub fn send(&mut self, client: u32, message: Message) {
        if !self.clients.contains_key(&client) {
            return;
        }
        monitor::copy(self, client, &message, true);
        if let Some(c) = self.clients.get(&client) {
            c.deliver(&message);
        }
    }

    /// A reply to `request`: same seq and peer, as `ubus_proto_send_msg_from_blob` does.
    pub fn reply(&mut self, client: u32, request: &Message, kind: MessageType, attrs: Vec<Attr>) {
        self.send(client, Message::new(kind, request.seq, request.peer, attrs));
    }

    pub fn reply_status(&mut self, client: u32, request: &Message, status: u32) {
        self.reply(
            client,
            request,
            MessageType::Status,
            vec![Attr::Status(status)],
        );
    }

    pub fn owner_of(&self, object: u32) -> Option<u32> {
        self.objects.get(&object).map(|o| o.client)
    }

    /// The USER and GROUP attributes ubusd adds for messages sent by `client`.
    pub fn credentials(&self, client: u32) -> (Attr, Attr) {
        let (user, group) = self
            .clients
            .get(&client)
            .map(|c| (c.user.clone(), c.group.clone()))
            .unwrap_or_default();
        (Attr::User(user), Attr::Group(group))
    }
}
