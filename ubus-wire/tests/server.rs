//! The object side against the recordings: a scripted ubusd replays the recorded bytes over a
//! socket pair and checks that our messages equal the ones the libubus lab server sent.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{PEER_TIMEOUT, fixture, message_bytes, read_raw, to_hex, with_seq, write_raw};
use tokio::net::UnixStream;
use ubus_wire::{
    Attr, BlobmsgType, Bus, Data, Handler, Message, MessageType, MethodSpec, ObjectSpec,
    Registered, Request, StatusCode, Table, Value,
};

/// The lab server's object: the three mesh_vpn methods plus its two test methods.
fn lab_spec() -> ObjectSpec {
    ObjectSpec::new("mesh_vpn")
        .method(MethodSpec::new("status"))
        .method(MethodSpec::new("reconnect"))
        .method(MethodSpec::new("set_loadbalancing").arg("enabled", BlobmsgType::Bool))
        .method(MethodSpec::new("slow"))
        .method(MethodSpec::new("poke"))
}

/// The reply of the lab server's `status`, which uses every value type.
fn lab_status() -> Table {
    Table::new()
        .with("state", "connected")
        .with(
            "loadbalancing",
            Table::new()
                .with("effective", true)
                .with("site_mode", "on-by-default")
                .with("override", Value::Null),
        )
        .with(
            "peer",
            Table::new()
                .with("public_key", "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=")
                .with("endpoint", "[2001:db8::1]:40011")
                .with("link_address", "fe80::27c:16ff:fec0:6c74")
                .with("latest_handshake", 12),
        )
        .with("rx_bytes", 123_456_789_012_i64)
        .with("tx_bytes", 42)
        .with("mtu", 1406)
        .with("ok", true)
        .with("ratio", 0.5)
        .with("peers", Value::Array(vec!["a".into(), "b".into()]))
}

/// Behaves like the lab's C server: a BOOL policy that ignores other types, status 6 while
/// changes are forbidden.
fn lab_handler(forbid: Arc<AtomicBool>) -> Arc<dyn Handler> {
    Arc::new(move |req: &Request<'_>| match req.method {
        "status" => Ok(Some(lab_status().into())),
        "reconnect" => Ok(Some(Table::new().with("accepted", true).into())),
        "set_loadbalancing" => {
            let enabled = req
                .args
                .get("enabled")
                .and_then(Value::as_bool)
                .ok_or(StatusCode::InvalidArgument)?;
            if forbid.load(Ordering::SeqCst) {
                return Err(StatusCode::PermissionDenied);
            }
            Ok(Some(Table::new().with("enabled", enabled).into()))
        }
        _ => Err(StatusCode::NotSupported),
    })
}

/// Replays b_add_object: HELLO, our ADD_OBJECT (must equal the recorded one), DATA, STATUS.
async fn registered_lab() -> (Bus, UnixStream, Arc<AtomicBool>) {
    let b = fixture("b_add_object");
    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    write_raw(&mut ubusd, &message_bytes(&b, 0)).await;
    let bus = Bus::from_stream(ours).await.unwrap();
    assert_eq!(bus.client_id(), 0xc306_3ef0);
    let forbid = Arc::new(AtomicBool::new(false));
    let register = tokio::spawn({
        let (bus, handler) = (bus.clone(), lab_handler(forbid.clone()));
        async move { bus.add_object(lab_spec(), handler).await }
    });
    assert_eq!(
        to_hex(&read_raw(&mut ubusd).await),
        to_hex(&message_bytes(&b, 1)),
        "ADD_OBJECT"
    );
    write_raw(&mut ubusd, &message_bytes(&b, 2)).await;
    write_raw(&mut ubusd, &message_bytes(&b, 3)).await;
    let registered = register.await.unwrap().unwrap();
    assert_eq!(
        registered,
        Registered {
            id: 0xbd71_5893,
            type_id: Some(0x9527_f2f2)
        }
    );
    (bus, ubusd, forbid)
}

#[tokio::test]
async fn registration_equals_the_recorded_libubus_add_object() {
    registered_lab().await;
}

#[test]
fn the_three_method_mesh_vpn_signature_is_the_recorded_one_without_the_test_methods() {
    let recorded = Message::decode(&message_bytes(&fixture("b_add_object"), 1)).unwrap();
    let mut expected = recorded.clone();
    if let Some(Attr::Signature(sig)) = expected.attrs.get_mut(1) {
        sig.0.retain(|(name, _)| name != "slow" && name != "poke");
        assert_eq!(sig.len(), 3);
    }
    let spec = ObjectSpec::new("mesh_vpn")
        .method(MethodSpec::new("status"))
        .method(MethodSpec::new("reconnect"))
        .method(MethodSpec::new("set_loadbalancing").arg("enabled", BlobmsgType::Bool));
    assert_eq!(
        spec.add_object_message(recorded.seq).encode().unwrap(),
        expected.encode().unwrap()
    );
    assert_ne!(expected, recorded, "the filter above removed something");
}

#[tokio::test]
async fn answers_the_recorded_invokes_byte_for_byte() {
    let (_bus, mut ubusd, forbid) = registered_lab().await;
    for file in [
        "d_call_status",
        "d_call_reconnect",
        "e_set_lb_true",
        "e_set_lb_int1",
        "e_set_lb_string",
        "e_set_lb_missing",
        "e_set_lb_noargs",
        "e_set_lb_extra_types",
        "e_method_not_found",
        "e_set_lb_forbidden",
    ] {
        forbid.store(file == "e_set_lb_forbidden", Ordering::SeqCst);
        let compared = common::replay(&fixture(file), "server", &mut ubusd).await;
        assert!(compared > 0, "{file}: the server sent nothing to compare");
    }
}

#[tokio::test]
async fn sends_events_and_notifies_like_libubus() {
    let (bus, mut ubusd, _) = registered_lab().await;
    let g = fixture("g_events");
    let send = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.send_event("mesh_vpn.state", Table::new().with("state", "connected"))
                .await
        }
    });
    // Our second request has seq 2, as the lab server's did.
    assert_eq!(
        to_hex(&read_raw(&mut ubusd).await),
        to_hex(&message_bytes(&g, 6)),
        "event send"
    );
    write_raw(&mut ubusd, &message_bytes(&g, 8)).await;
    send.await.unwrap().unwrap();

    let h = fixture("h_subscribe_notify");
    assert!(!bus.has_subscribers(0xbd71_5893));
    write_raw(&mut ubusd, &message_bytes(&h, 8)).await; // NOTIFY {ACTIVE 1}
    wait_until(|| bus.has_subscribers(0xbd71_5893)).await;
    bus.notify(
        0xbd71_5893,
        "state",
        Table::new().with("state", "connected"),
    )
    .unwrap();
    let recorded = message_bytes(&h, 21); // the NO_REPLY notify
    let ours = read_raw(&mut ubusd).await;
    assert_eq!(to_hex(&with_seq(&ours, 4)), to_hex(&recorded), "notify");
    write_raw(&mut ubusd, &message_bytes(&h, 27)).await; // NOTIFY {ACTIVE 0}
    wait_until(|| !bus.has_subscribers(0xbd71_5893)).await;
}

#[tokio::test]
async fn no_reply_invokes_are_not_answered_and_odd_messages_are_tolerated() {
    let (bus, mut ubusd, _) = registered_lab().await;
    let n = fixture("n_server_exit");
    let unsubscribe = n["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["decoded"]["type_name"] == "UNSUBSCRIBE");
    let unsubscribe = common::hex(unsubscribe.and_then(|m| m["hex"].as_str()).unwrap());
    let ping = Message::new(MessageType::Ping, 7, 0, vec![])
        .encode()
        .unwrap();
    let type_12 = Message::new(MessageType::Other(12), 8, 0, vec![])
        .encode()
        .unwrap();
    let stray_status = Message::new(MessageType::Status, 999, 0, vec![Attr::Status(0)])
        .encode()
        .unwrap();
    let quiet = invoke(5, "reconnect", true);
    for bytes in [unsubscribe, ping, type_12, stray_status, quiet] {
        write_raw(&mut ubusd, &bytes).await;
    }
    // The next thing we send must be the answer to this call, not to the NO_REPLY one.
    write_raw(&mut ubusd, &invoke(6, "reconnect", false)).await;
    let data = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!((data.kind, data.seq), (MessageType::Data, 6));
    let status = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (status.kind, status.seq, status.status()),
        (MessageType::Status, 6, Some(0))
    );
    drop(bus);
}

#[tokio::test]
async fn invokes_for_unknown_objects_get_not_found() {
    let (_bus, mut ubusd, _) = registered_lab().await;
    let mut request = Message::decode(&invoke(3, "status", false)).unwrap();
    request.attrs[0] = Attr::ObjId(0x1111);
    write_raw(&mut ubusd, &request.encode().unwrap()).await;
    let reply = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (reply.kind, reply.status(), reply.obj_id()),
        (MessageType::Status, Some(4), Some(0x1111))
    );
}

/// An INVOKE of mesh_vpn as ubusd forwards it (caller 0x3c8a7e34).
fn invoke(seq: u16, method: &str, no_reply: bool) -> Vec<u8> {
    let mut attrs = vec![
        Attr::ObjId(0xbd71_5893),
        Attr::Method(method.into()),
        Attr::User("root".into()),
        Attr::Group("root".into()),
        Attr::Data(Data::Table(Table::new())),
    ];
    if no_reply {
        attrs.insert(0, Attr::NoReply(true));
    }
    Message::new(MessageType::Invoke, seq, 0x3c8a_7e34, attrs)
        .encode()
        .unwrap()
}

async fn wait_until(condition: impl Fn() -> bool) {
    let poll = async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(PEER_TIMEOUT, poll)
        .await
        .expect("condition never became true");
}

#[tokio::test]
async fn after_ubusd_restarts_the_object_is_registered_again_with_new_ids() {
    let (bus, ubusd, forbid) = registered_lab().await;
    drop(ubusd); // ubusd killed: we read EOF, nothing is sent first
    let reason = tokio::time::timeout(PEER_TIMEOUT, bus.closed())
        .await
        .unwrap();
    assert!(matches!(reason, ubus_wire::Error::Closed), "{reason}");

    let j = fixture("j_ubusd_restart");
    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    write_raw(&mut ubusd, &message_bytes(&j, 0)).await;
    let bus = Bus::from_stream(ours).await.unwrap();
    assert_eq!(bus.client_id(), 0x0b04_7385);
    let register = tokio::spawn({
        let (bus, handler) = (bus.clone(), lab_handler(forbid));
        async move { bus.add_object(lab_spec(), handler).await }
    });
    // libubus kept counting (seq 2); a new Bus starts at 1. Everything else is identical,
    // including the full SIGNATURE.
    let ours = read_raw(&mut ubusd).await;
    assert_eq!(to_hex(&with_seq(&ours, 2)), to_hex(&message_bytes(&j, 1)));
    write_raw(&mut ubusd, &with_seq(&message_bytes(&j, 2), 1)).await;
    write_raw(&mut ubusd, &with_seq(&message_bytes(&j, 3), 1)).await;
    let registered = register.await.unwrap().unwrap();
    assert_eq!(
        registered,
        Registered {
            id: 0x8947_c7eb,
            type_id: Some(0x3e61_f90f)
        }
    );
    // The call after the restart (j messages 9, 10, 12) is answered byte for byte.
    write_raw(&mut ubusd, &message_bytes(&j, 9)).await;
    assert_eq!(
        to_hex(&read_raw(&mut ubusd).await),
        to_hex(&message_bytes(&j, 10))
    );
    assert_eq!(
        to_hex(&read_raw(&mut ubusd).await),
        to_hex(&message_bytes(&j, 12))
    );
}
