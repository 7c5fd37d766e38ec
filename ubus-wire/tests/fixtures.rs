//! Conformance with the recorded traffic: every message of every fixture decodes to what the
//! recording's `decoded` says and re-encodes to the very same bytes.

mod common;

use common::{all_fixtures, hex, to_hex};
use serde_json::{Value as Json, json};
use ubus_wire::blob;
use ubus_wire::message::decode_attrs;
use ubus_wire::{Attr, Data, Message, MessageType, Table, Value, json as ubus_json};

#[test]
fn every_recorded_message_decodes_as_recorded_and_re_encodes_byte_identically() {
    let mut count = 0;
    for (file, fixture) in all_fixtures() {
        let messages = fixture["messages"].as_array().expect("messages array");
        for message in messages {
            let context = format!("{file} message {}", message["i"]);
            let bytes = hex(message["hex"].as_str().expect("hex"));
            let decoded = Message::decode(&bytes).unwrap_or_else(|e| panic!("{context}: {e}"));
            check_message(&decoded, &bytes, &message["decoded"], &context);
            let encoded = decoded
                .encode()
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(
                to_hex(&encoded),
                to_hex(&bytes),
                "{context}: re-encoding differs"
            );
            count += 1;
        }
    }
    assert_eq!(count, 297, "the fixture README promises 297 messages");
}

fn check_message(msg: &Message, bytes: &[u8], expected: &Json, context: &str) {
    assert_eq!(msg.version, expected["version"], "{context}: version");
    assert_eq!(msg.kind.as_u8(), expected["type"], "{context}: type");
    assert_eq!(msg.seq, expected["seq"], "{context}: seq");
    assert_eq!(msg.peer, expected["peer"], "{context}: peer");
    let container = blob::container(&bytes[8..]).expect("container");
    assert_eq!(
        container.len() + 4,
        expected["blob_len"],
        "{context}: blob_len"
    );
    let monitor = msg.kind == MessageType::Monitor;
    check_attrs(&msg.attrs, container, &expected["attrs"], monitor, context);
}

/// Compares decoded attributes with the recording: ids, raw lengths (read from the bytes) and
/// values. MONITOR attributes use their own numbering and stay raw in our decoding.
fn check_attrs(attrs: &[Attr], raw: &[u8], expected: &Json, monitor: bool, context: &str) {
    let expected = expected.as_array().expect("attrs array");
    let raw = blob::split(raw).expect("attribute list");
    assert_eq!(attrs.len(), expected.len(), "{context}: attribute count");
    assert_eq!(raw.len(), expected.len(), "{context}: raw attribute count");
    for ((attr, raw), want) in attrs.iter().zip(&raw).zip(expected) {
        let context = format!("{context} {}", want["name"]);
        assert_eq!(attr.id(), want["id"], "{context}: id");
        assert_eq!(raw.len(), want["len"], "{context}: len");
        if monitor {
            check_monitor_attr(attr, want, &context);
        } else {
            check_attr(attr, want, &context);
        }
    }
}

fn check_attr(attr: &Attr, want: &Json, context: &str) {
    match attr {
        Attr::Status(n) | Attr::ObjId(n) | Attr::ObjType(n) | Attr::Target(n) => {
            assert_eq!(*n, want["value"], "{context}")
        }
        Attr::ObjPath(s) | Attr::Method(s) | Attr::User(s) | Attr::Group(s) => {
            assert_eq!(*s, want["value"], "{context}")
        }
        Attr::Active(b) | Attr::NoReply(b) => assert_eq!(u8::from(*b), want["value"], "{context}"),
        Attr::Subscribers(ids) => assert_eq!(json!(ids), want["value"], "{context}"),
        Attr::Signature(table) | Attr::Data(Data::Table(table)) => {
            check_table(table, want, context)
        }
        Attr::Data(Data::Raw(bytes)) => {
            assert!(
                want.get("plain_attrs").is_some(),
                "{context}: recorded as blobmsg, decoded as raw"
            );
            let inner = decode_attrs(bytes).expect("plain attrs inside DATA");
            check_attrs(&inner, bytes, &want["plain_attrs"], false, context);
        }
        Attr::Unknown { id, .. } => panic!("{context}: attribute id {id} decoded as unknown"),
    }
}

fn check_table(table: &Table, want: &Json, context: &str) {
    let tree: Vec<Json> = table
        .iter()
        .map(|(name, value)| blobmsg_tree(name, value))
        .collect();
    assert_eq!(
        Json::Array(tree),
        want["blobmsg"],
        "{context}: blobmsg tree"
    );
    assert_eq!(
        ubus_json::from_table(table),
        want["json"],
        "{context}: json view"
    );
}

/// Our value in the recording's `{name, type, type_id, value | children}` form.
fn blobmsg_tree(name: &str, value: &Value) -> Json {
    let (type_name, type_id) = match value {
        Value::Null => ("UNSPEC", 0),
        Value::Array(_) => ("ARRAY", 1),
        Value::Table(_) => ("TABLE", 2),
        Value::String(_) => ("STRING", 3),
        Value::Int64(_) => ("INT64", 4),
        Value::Int32(_) => ("INT32", 5),
        Value::Int16(_) => ("INT16", 6),
        Value::Bool(_) => ("INT8", 7),
        Value::Double(_) => ("DOUBLE", 8),
    };
    let mut node = json!({"name": name, "type": type_name, "type_id": type_id});
    let (key, content) = match value {
        Value::Null => ("value", Json::Null),
        Value::Bool(b) => ("value", json!(u8::from(*b))),
        Value::Int16(n) => ("value", json!(n)),
        Value::Int32(n) => ("value", json!(n)),
        Value::Int64(n) => ("value", json!(n)),
        Value::Double(x) => {
            node["raw_hex"] = json!(to_hex(&x.to_bits().to_be_bytes()));
            ("value", json!(x))
        }
        Value::String(s) => ("value", json!(s)),
        Value::Array(items) => (
            "children",
            items.iter().map(|v| blobmsg_tree("", v)).collect(),
        ),
        Value::Table(t) => (
            "children",
            t.iter().map(|(n, v)| blobmsg_tree(n, v)).collect(),
        ),
    };
    node[key] = content;
    node
}

/// MONITOR: CLIENT 0, PEER 1, SEQ 3, TYPE 4 (int32), SEND 2 (int8), DATA 5 (copied attributes).
fn check_monitor_attr(attr: &Attr, want: &Json, context: &str) {
    let Attr::Unknown { id, payload } = attr else {
        panic!("{context}: MONITOR attributes stay raw, got {attr:?}");
    };
    match id {
        0 | 1 | 3 | 4 => {
            let n = u32::from_be_bytes(payload.as_slice().try_into().expect("int32"));
            assert_eq!(n, want["value"], "{context}");
        }
        2 => assert_eq!(
            payload.as_slice(),
            [want["value"].as_u64().unwrap() as u8],
            "{context}"
        ),
        5 => {
            assert_eq!(to_hex(payload), want["raw_hex"], "{context}");
            let inner = decode_attrs(payload).expect("monitored attributes decode");
            check_attrs(&inner, payload, &want["attrs"], false, context);
        }
        other => panic!("{context}: unexpected MONITOR attribute {other}"),
    }
}

#[test]
fn monitor_quirk_data_is_kept_raw_and_the_message_still_decodes() {
    let fixture = common::fixture("m_monitor");
    let bytes = common::message_bytes(&fixture, 1);
    let msg = Message::decode(&bytes).unwrap();
    assert_eq!(msg.method(), Some("add"));
    let Some(Data::Raw(raw)) = msg.data() else {
        panic!("DATA should be raw: {msg:?}")
    };
    assert_eq!(
        decode_attrs(raw).unwrap(),
        [Attr::ObjId(3), Attr::Method("add".into())]
    );
    assert!(msg.data_table().is_none());
}

#[test]
fn cli_json_arguments_encode_like_the_recorded_cli() {
    // e_set_lb_true: `{"enabled":true}` as the CLI sent it.
    let fixture = common::fixture("e_set_lb_true");
    let recorded = Message::decode(&common::message_bytes(&fixture, 4)).unwrap();
    let args = ubus_json::to_table(&json!({"enabled": true})).unwrap();
    let ours = Message::new(
        MessageType::Invoke,
        recorded.seq,
        recorded.peer,
        vec![
            Attr::ObjId(recorded.peer),
            Attr::Method("set_loadbalancing".into()),
            Attr::Data(Data::Table(args)),
        ],
    );
    assert_eq!(
        to_hex(&ours.encode().unwrap()),
        fixture["messages"][4]["hex"]
    );
}
