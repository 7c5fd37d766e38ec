//! Client flows over a socket pair with a scripted ubusd: recorded CLI conversations, timeouts,
//! serving our object while our own call waits, EOF and malformed input.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{PEER_TIMEOUT, fixture, message_bytes, read_raw, write_raw};
use serde_json::json;
use tokio::net::UnixStream;
use ubus_wire::{
    Attr, Bus, Data, Error, Message, MessageType, MethodSpec, ObjectSpec, Request, StatusCode,
    Table, json as ubus_json,
};

const CALL_TIMEOUT: Duration = Duration::from_secs(20);

fn hello(client_id: u32) -> Vec<u8> {
    Message::new(MessageType::Hello, 0, client_id, vec![])
        .encode()
        .unwrap()
}

fn reply(kind: MessageType, seq: u16, peer: u32, attrs: Vec<Attr>) -> Vec<u8> {
    Message::new(kind, seq, peer, attrs).encode().unwrap()
}

async fn connected() -> (Bus, UnixStream) {
    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    write_raw(&mut ubusd, &hello(0x600d)).await;
    let bus = Bus::from_stream(ours).await.unwrap();
    assert_eq!(bus.client_id(), 0x600d);
    (bus, ubusd)
}

#[tokio::test]
async fn call_reproduces_the_recorded_cli_conversation() {
    let fx = fixture("d_call_status");
    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    let call = tokio::spawn(async move {
        let bus = Bus::from_stream(ours).await?;
        bus.call("mesh_vpn", "status", Table::new(), CALL_TIMEOUT)
            .await
    });
    assert_eq!(
        common::replay(&fx, "cli", &mut ubusd).await,
        2,
        "LOOKUP and INVOKE compared"
    );
    let tables = call.await.unwrap().unwrap();
    let recorded = Message::decode(&message_bytes(&fx, 8)).unwrap();
    assert_eq!(tables, [recorded.data_table().unwrap().clone()]);
    assert_eq!(
        ubus_json::from_table(&tables[0])["peer"]["mtu"],
        json!(null),
        "mtu is top level"
    );
    assert_eq!(ubus_json::from_table(&tables[0])["mtu"], json!(1406));
}

#[tokio::test]
async fn lookup_returns_ids_and_signature() {
    let (bus, mut ubusd) = connected().await;
    let lookup = tokio::spawn(async move { bus.lookup("mesh_vpn").await });
    let fx = fixture("d_call_status");
    assert_eq!(read_raw(&mut ubusd).await, message_bytes(&fx, 1));
    write_raw(&mut ubusd, &message_bytes(&fx, 2)).await;
    write_raw(&mut ubusd, &message_bytes(&fx, 3)).await;
    let info = lookup.await.unwrap().unwrap();
    assert_eq!(
        (info.path.as_str(), info.id, info.type_id),
        ("mesh_vpn", 0xbd71_5893, 0x9527_f2f2)
    );
    let sig = ubus_json::from_table(&info.signature);
    assert_eq!(sig["set_loadbalancing"], json!({"enabled": 7}));
}

#[tokio::test]
async fn missing_objects_and_failed_calls_report_their_status() {
    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    let call = tokio::spawn(async move {
        let bus = Bus::from_stream(ours).await?;
        bus.call("nosuchobj", "x", Table::new(), CALL_TIMEOUT).await
    });
    common::replay(&fixture("e_object_not_found"), "cli", &mut ubusd).await;
    let err = call.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                status: StatusCode::NotFound,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.to_string(), "LOOKUP nosuchobj: status 4 (NOT_FOUND)");

    let (ours, mut ubusd) = UnixStream::pair().unwrap();
    let call = tokio::spawn(async move {
        let bus = Bus::from_stream(ours).await?;
        let args = ubus_json::to_table(&json!({"enabled": 1})).unwrap();
        bus.call("mesh_vpn", "set_loadbalancing", args, CALL_TIMEOUT)
            .await
    });
    assert_eq!(
        common::replay(&fixture("e_set_lb_int1"), "cli", &mut ubusd).await,
        2
    );
    let err = call.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                status: StatusCode::InvalidArgument,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "call mesh_vpn set_loadbalancing: status 2 (INVALID_ARGUMENT)"
    );
}

#[tokio::test(start_paused = true)]
async fn unanswered_calls_time_out_and_late_replies_are_ignored() {
    let (bus, mut ubusd) = connected().await;
    let slow = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.invoke(0xbd71_5893, "slow", Table::new(), Duration::from_secs(1))
                .await
        }
    });
    let request = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (request.kind, request.method()),
        (MessageType::Invoke, Some("slow"))
    );
    let err = slow.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "call 0xbd715893 slow: no reply within 1.0 s"
    );

    // A late STATUS for the abandoned seq changes nothing; the connection still works.
    write_raw(
        &mut ubusd,
        &reply(
            MessageType::Status,
            request.seq,
            0xbd71_5893,
            vec![Attr::Status(0)],
        ),
    )
    .await;
    let next = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.invoke(0xbd71_5893, "status", Table::new(), CALL_TIMEOUT)
                .await
        }
    });
    let second = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_ne!(second.seq, request.seq);
    let data = Table::new().with("state", "connected");
    let attrs = vec![
        Attr::ObjId(0xbd71_5893),
        Attr::Data(Data::Table(data.clone())),
    ];
    write_raw(
        &mut ubusd,
        &reply(MessageType::Data, second.seq, 0xbd71_5893, attrs),
    )
    .await;
    write_raw(
        &mut ubusd,
        &reply(
            MessageType::Status,
            second.seq,
            0xbd71_5893,
            vec![Attr::Status(0)],
        ),
    )
    .await;
    assert_eq!(next.await.unwrap().unwrap(), [data]);
}

#[tokio::test]
async fn our_object_is_served_while_our_own_call_waits() {
    let (bus, mut ubusd) = connected().await;
    let spec = ObjectSpec::new("echo").method(MethodSpec::new("echo"));
    let handler = Arc::new(|req: &Request<'_>| {
        Ok(Some(
            req.args.clone().with("caller", req.caller as i64).into(),
        ))
    });
    let register = tokio::spawn({
        let bus = bus.clone();
        async move { bus.add_object(spec, handler).await }
    });
    let add = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (add.kind, add.seq, add.obj_path()),
        (MessageType::AddObject, 1, Some("echo"))
    );
    write_raw(
        &mut ubusd,
        &reply(
            MessageType::Data,
            1,
            0,
            vec![Attr::ObjId(0x42), Attr::ObjType(0x43)],
        ),
    )
    .await;
    write_raw(
        &mut ubusd,
        &reply(MessageType::Status, 1, 0, vec![Attr::Status(0)]),
    )
    .await;
    assert_eq!(register.await.unwrap().unwrap().id, 0x42);

    // Our call to `system board` is outstanding ...
    let board = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.invoke(0x5151, "board", Table::new(), CALL_TIMEOUT)
                .await
        }
    });
    let ours = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (ours.kind, ours.seq, ours.peer),
        (MessageType::Invoke, 2, 0x5151)
    );
    // ... when someone calls our object: that call is answered first.
    let args = Table::new().with("x", 1);
    let attrs = vec![
        Attr::ObjId(0x42),
        Attr::Method("echo".into()),
        Attr::Data(Data::Table(args.clone())),
    ];
    write_raw(&mut ubusd, &reply(MessageType::Invoke, 77, 0x999, attrs)).await;
    let data = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (data.kind, data.seq, data.peer),
        (MessageType::Data, 77, 0x999)
    );
    assert_eq!(
        data.data_table(),
        Some(&args.clone().with("caller", 0x999_i64))
    );
    let status = Message::decode(&read_raw(&mut ubusd).await).unwrap();
    assert_eq!(
        (status.kind, status.seq, status.status()),
        (MessageType::Status, 77, Some(0))
    );
    assert!(!board.is_finished());

    let model = Table::new().with("model", "lab");
    let attrs = vec![Attr::ObjId(0x5151), Attr::Data(Data::Table(model.clone()))];
    write_raw(&mut ubusd, &reply(MessageType::Data, 2, 0x5151, attrs)).await;
    write_raw(
        &mut ubusd,
        &reply(MessageType::Status, 2, 0x5151, vec![Attr::Status(0)]),
    )
    .await;
    assert_eq!(board.await.unwrap().unwrap(), [model]);
}

#[tokio::test]
async fn eof_ends_the_connection_and_fails_waiting_calls_at_once() {
    let (bus, mut ubusd) = connected().await;
    let waiting = tokio::spawn({
        let bus = bus.clone();
        async move {
            bus.invoke(0x5151, "board", Table::new(), CALL_TIMEOUT)
                .await
        }
    });
    read_raw(&mut ubusd).await;
    drop(ubusd); // ubusd restarts: we read EOF
    let err = tokio::time::timeout(PEER_TIMEOUT, waiting)
        .await
        .expect("not a timeout")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Closed), "{err}");
    assert!(matches!(bus.closed().await, Error::Closed));
    let err = bus.lookup("mesh_vpn").await.unwrap_err();
    assert!(matches!(err, Error::Closed), "{err}");
    assert!(bus.notify(1, "state", Table::new()).is_err());
}

#[tokio::test]
async fn malformed_messages_end_the_connection_with_the_reason() {
    let cases: [(&str, Vec<u8>); 3] = [
        ("container id", vec![0, 2, 0, 1, 0, 0, 0, 0, 1, 0, 0, 4]),
        ("version", vec![1, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4]),
        // DATA {"mtu": INT32} whose INT32 has 3 bytes.
        (
            "blobmsg",
            common::hex("000200010000000000000018070000148500000f00036d747500000000057e00"),
        ),
    ];
    for (what, bytes) in cases {
        let (bus, mut ubusd) = connected().await;
        write_raw(&mut ubusd, &bytes).await;
        let reason = tokio::time::timeout(PEER_TIMEOUT, bus.closed())
            .await
            .expect("closed");
        assert!(
            matches!(reason, Error::Malformed { .. }),
            "{what}: {reason}"
        );
    }
}

#[tokio::test]
async fn connect_by_path_retries_until_ubusd_listens() {
    let path = std::env::temp_dir().join(format!("ubus-wire-test-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ubusd = tokio::spawn({
        let path = path.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let listener = tokio::net::UnixListener::bind(&path).unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            write_raw(&mut stream, &hello(0xabcd)).await;
            stream
        }
    });
    let connect = ubus_wire::connect_with_backoff(&path, Duration::from_millis(100));
    let bus = tokio::time::timeout(PEER_TIMEOUT, connect)
        .await
        .expect("connected");
    assert_eq!(bus.client_id(), 0xabcd);
    let _stream = ubusd.await.unwrap();
    let _ = std::fs::remove_file(&path);

    let err = Bus::connect(&path)
        .await
        .err()
        .expect("nothing listens any more");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}
