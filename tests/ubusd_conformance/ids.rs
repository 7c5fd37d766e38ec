//! Recorded ids (random per run of the real ubusd) against the ids our test ubusd chose: a
//! bijection learned while replaying, so structure is compared and ids only for consistency.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;
use ubus_wire::{Attr, Data, Message, Table, Value};

pub struct Ids {
    /// Every id the fixture's `ids` map names.
    known: HashSet<u32>,
    to_ours: HashMap<u32, u32>,
    to_recorded: HashMap<u32, u32>,
}

impl Ids {
    pub fn from_fixture(fixture: &Json) -> Ids {
        let known = fixture["ids"]
            .as_object()
            .map(|ids| {
                ids.keys()
                    .filter_map(|hex| u32::from_str_radix(hex, 16).ok())
                    .collect()
            })
            .unwrap_or_default();
        let mut ids = Ids {
            known,
            to_ours: HashMap::new(),
            to_recorded: HashMap::new(),
        };
        for fixed in 0..=3 {
            ids.known.insert(fixed);
            ids.unify(fixed, fixed, "fixed ids");
        }
        ids
    }

    pub fn is_id(&self, value: u32) -> bool {
        self.known.contains(&value)
    }

    /// Records that `recorded` is `ours`, or checks it against what was learned before.
    pub fn unify(&mut self, recorded: u32, ours: u32, context: &str) {
        match (self.to_ours.get(&recorded), self.to_recorded.get(&ours)) {
            (Some(&mapped), _) => assert_eq!(
                mapped, ours,
                "{context}: recorded id {recorded:#010x} is ours {mapped:#010x}, got {ours:#010x}"
            ),
            (None, Some(&other)) => panic!(
                "{context}: our id {ours:#010x} stands for {other:#010x}, now also {recorded:#010x}"
            ),
            (None, None) => {
                self.to_ours.insert(recorded, ours);
                self.to_recorded.insert(ours, recorded);
            }
        }
    }

    /// Our id for a recorded one; values that are no ids pass through unchanged.
    pub fn ours(&self, recorded: u32, context: &str) -> u32 {
        if !self.is_id(recorded) {
            return recorded;
        }
        match self.to_ours.get(&recorded) {
            Some(&ours) => ours,
            None => panic!("{context}: recorded id {recorded:#010x} was never seen from ubusd"),
        }
    }

    /// A recorded client request with our ids in place of the recorded ones.
    pub fn translate(&self, message: &Message, context: &str) -> Message {
        let mut ours = message.clone();
        ours.peer = self.ours(message.peer, context);
        for attr in &mut ours.attrs {
            match attr {
                Attr::ObjId(n) | Attr::ObjType(n) | Attr::Target(n) => *n = self.ours(*n, context),
                Attr::Subscribers(list) => {
                    list.iter_mut().for_each(|n| *n = self.ours(*n, context))
                }
                Attr::Data(Data::Table(table)) => self.translate_table(table, context),
                _ => {}
            }
        }
        ours
    }

    fn translate_table(&self, table: &mut Table, context: &str) {
        for (_, value) in table.0.iter_mut() {
            match value {
                Value::Int32(n) => *n = self.ours(*n as u32, context) as i32,
                Value::Table(inner) => self.translate_table(inner, context),
                _ => {}
            }
        }
    }

    /// Structural equality of what ubusd sent with what the real one sent: same type, version,
    /// attribute order and values; ids consistent; seq only where it echoes a request.
    pub fn compare(
        &mut self,
        recorded: &Message,
        ours: &Message,
        credentials: &(String, String),
        context: &str,
    ) {
        assert_eq!(
            (recorded.version, recorded.kind, recorded.attrs.len()),
            (ours.version, ours.kind, ours.attrs.len()),
            "{context}: version, type, attribute count\nrecorded {recorded:?}\nours     {ours:?}"
        );
        if !ubusd_counter(recorded) {
            assert_eq!(recorded.seq, ours.seq, "{context}: seq");
        }
        self.value(recorded.peer, ours.peer, &format!("{context}: header peer"));
        for (r, o) in recorded.attrs.iter().zip(&ours.attrs) {
            let context = format!("{context}: {:?}", r.id());
            match (r, o) {
                (Attr::ObjId(a), Attr::ObjId(b))
                | (Attr::ObjType(a), Attr::ObjType(b))
                | (Attr::Target(a), Attr::Target(b)) => self.value(*a, *b, &context),
                (Attr::Subscribers(a), Attr::Subscribers(b)) => {
                    assert_eq!(a.len(), b.len(), "{context}");
                    a.iter()
                        .zip(b)
                        .for_each(|(a, b)| self.value(*a, *b, &context));
                }
                (Attr::Data(Data::Table(a)), Attr::Data(Data::Table(b))) => {
                    self.table(a, b, &context)
                }
                (Attr::User(_), Attr::User(b)) => assert_eq!(b, &credentials.0, "{context}"),
                (Attr::Group(_), Attr::Group(b)) => assert_eq!(b, &credentials.1, "{context}"),
                (a, b) => assert_eq!(a, b, "{context}"),
            }
        }
    }

    fn value(&mut self, recorded: u32, ours: u32, context: &str) {
        match self.is_id(recorded) {
            true => self.unify(recorded, ours, context),
            false => assert_eq!(recorded, ours, "{context}"),
        }
    }

    fn table(&mut self, recorded: &Table, ours: &Table, context: &str) {
        assert_eq!(
            recorded.len(),
            ours.len(),
            "{context}: {recorded:?} vs {ours:?}"
        );
        for ((rn, rv), (on, ov)) in recorded.iter().zip(ours.iter()) {
            assert_eq!(rn, on, "{context}: member names");
            match (rv, ov) {
                (Value::Int32(a), Value::Int32(b)) => self.value(*a as u32, *b as u32, context),
                (Value::Table(a), Value::Table(b)) => self.table(a, b, context),
                (a, b) => assert_eq!(a, b, "{context}: member {rn}"),
            }
        }
    }
}

/// Messages whose seq comes from one of ubusd's own counters (event deliveries, NOTIFY
/// {ACTIVE}, UNSUBSCRIBE), which depend on the lab's history before the recording.
fn ubusd_counter(message: &Message) -> bool {
    use ubus_wire::MessageType::*;
    match message.kind {
        Notify | Unsubscribe => true,
        Invoke => message.peer == 0,
        _ => false,
    }
}
