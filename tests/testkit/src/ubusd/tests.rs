//! Behaviour the recordings do not show: a client vanishing with its objects, explicit
//! UNSUBSCRIBE, shared object types, event refusals, and a restart.

use std::time::Duration;

use tokio::net::UnixStream;
use ubus_wire::connection::{read_hello, read_message, write_message};
use ubus_wire::{Attr, BlobmsgType, Data, Message, MessageType, MethodSpec, ObjectSpec, Table};

use super::TestUbusd;

struct Raw {
    stream: UnixStream,
    seq: u16,
}

impl Raw {
    async fn connect(ubusd: &TestUbusd) -> Raw {
        let mut stream = UnixStream::connect(ubusd.path()).await.unwrap();
        read_hello(&mut stream).await.unwrap();
        Raw { stream, seq: 0 }
    }

    async fn recv(&mut self) -> Message {
        let read = tokio::time::timeout(Duration::from_secs(2), read_message(&mut self.stream));
        read.await
            .expect("a message in time")
            .unwrap()
            .expect("open")
    }

    async fn quiet(&mut self) -> bool {
        let read = tokio::time::timeout(Duration::from_millis(100), read_message(&mut self.stream));
        read.await.is_err()
    }

    /// Sends a request; returns its DATA replies and its status.
    async fn request(
        &mut self,
        kind: MessageType,
        peer: u32,
        attrs: Vec<Attr>,
    ) -> (Vec<Message>, u32) {
        self.seq += 1;
        let request = Message::new(kind, self.seq, peer, attrs);
        write_message(&mut self.stream, &request).await.unwrap();
        let mut data = Vec::new();
        loop {
            let reply = self.recv().await;
            assert_eq!(
                (reply.seq, reply.peer),
                (request.seq, request.peer),
                "{reply:?}"
            );
            match reply.kind {
                MessageType::Data => data.push(reply),
                MessageType::Status => return (data, reply.status().unwrap()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    async fn add(&mut self, attrs: Vec<Attr>) -> (Vec<Attr>, u32) {
        let (data, status) = self.request(MessageType::AddObject, 0, attrs).await;
        (
            data.first().map(|d| d.attrs.clone()).unwrap_or_default(),
            status,
        )
    }

    async fn anonymous(&mut self) -> u32 {
        match self.add(Vec::new()).await {
            (attrs, 0) => match attrs[..] {
                [Attr::ObjId(id)] => id,
                _ => panic!("{attrs:?}"),
            },
            (_, status) => panic!("status {status}"),
        }
    }

    async fn event(&mut self, method: &str, args: Table) -> u32 {
        let attrs = vec![
            Attr::ObjId(1),
            Attr::Method(method.into()),
            Attr::Data(Data::Table(args)),
        ];
        self.request(MessageType::Invoke, 1, attrs).await.1
    }
}

fn signature() -> Attr {
    let spec = ObjectSpec::new("x").method(MethodSpec::new("get").arg("name", BlobmsgType::String));
    Attr::Signature(spec.signature())
}

fn socket() -> (tempfile::TempDir, TestUbusd) {
    let dir = tempfile::tempdir().unwrap();
    let ubusd = TestUbusd::start(dir.path().join("ubus.sock")).unwrap();
    (dir, ubusd)
}

#[tokio::test]
async fn objects_of_a_client_that_goes_away_vanish_and_everyone_is_told() {
    let (_dir, ubusd) = socket();
    let mut server = Raw::connect(&ubusd).await;
    let (attrs, _) = server
        .add(vec![Attr::ObjPath("x".into()), signature()])
        .await;
    let Attr::ObjId(x) = attrs[0] else {
        panic!("{attrs:?}")
    };
    let mut other = Raw::connect(&ubusd).await;
    let listener = other.anonymous().await;
    let register = Table::new()
        .with("object", listener as i32)
        .with("pattern", "ubus.object.*");
    assert_eq!(other.event("register", register).await, 0);
    let subscriber = other.anonymous().await;
    let subscribe = vec![Attr::ObjId(subscriber), Attr::Target(x)];
    assert_eq!(
        other.request(MessageType::Subscribe, 0, subscribe).await.1,
        0
    );
    assert_eq!(
        server.recv().await.attrs,
        [Attr::ObjId(x), Attr::Active(true)]
    );

    drop(server);
    let unsubscribe = other.recv().await;
    assert_eq!(unsubscribe.kind, MessageType::Unsubscribe);
    assert_eq!(
        unsubscribe.attrs,
        [Attr::ObjId(subscriber), Attr::Target(x)]
    );
    let removed = other.recv().await;
    assert_eq!(removed.method(), Some("ubus.object.remove"));
    let payload = Table::new().with("id", x as i32).with("path", "x");
    assert_eq!(removed.data_table(), Some(&payload));
    let lookup = vec![Attr::ObjPath("x".into())];
    assert_eq!(other.request(MessageType::Lookup, 0, lookup).await.1, 4);
    let invoke = vec![
        Attr::ObjId(x),
        Attr::Method("get".into()),
        Attr::Data(Data::Table(Table::new())),
    ];
    assert_eq!(other.request(MessageType::Invoke, x, invoke).await.1, 4);
}

#[tokio::test]
async fn an_explicit_unsubscribe_tells_the_owner_once_the_last_subscriber_left() {
    let (_dir, ubusd) = socket();
    let mut server = Raw::connect(&ubusd).await;
    let (attrs, _) = server
        .add(vec![Attr::ObjPath("x".into()), signature()])
        .await;
    let Attr::ObjId(x) = attrs[0] else {
        panic!("{attrs:?}")
    };
    let mut client = Raw::connect(&ubusd).await;
    let (first, second) = (client.anonymous().await, client.anonymous().await);
    for subscriber in [first, second] {
        let attrs = vec![Attr::ObjId(subscriber), Attr::Target(x)];
        assert_eq!(client.request(MessageType::Subscribe, 0, attrs).await.1, 0);
    }
    assert_eq!(server.recv().await.active(), Some(true));
    assert!(
        server.quiet().await,
        "ACTIVE 1 only for the first subscriber"
    );
    let unsubscribe = |subscriber| vec![Attr::ObjId(subscriber), Attr::Target(x)];
    assert_eq!(
        client
            .request(MessageType::Unsubscribe, 0, unsubscribe(first))
            .await
            .1,
        0
    );
    assert!(
        server.quiet().await,
        "ACTIVE 0 only once the last subscriber left"
    );
    assert_eq!(
        client
            .request(MessageType::Unsubscribe, 0, unsubscribe(second))
            .await
            .1,
        0
    );
    let inactive = server.recv().await;
    assert_eq!(
        (inactive.kind, inactive.active()),
        (MessageType::Notify, Some(false))
    );
    let again = vec![Attr::ObjId(first), Attr::Target(x)];
    assert_eq!(
        client.request(MessageType::Unsubscribe, 0, again).await.1,
        4
    );
}

#[tokio::test]
async fn paths_are_unique_and_a_type_is_freed_with_its_last_object() {
    let (_dir, ubusd) = socket();
    let mut server = Raw::connect(&ubusd).await;
    let (attrs, status) = server
        .add(vec![Attr::ObjPath("a".into()), signature()])
        .await;
    let [Attr::ObjId(a), Attr::ObjType(t)] = attrs[..] else {
        panic!("{attrs:?}")
    };
    assert_eq!(status, 0);
    assert_eq!(
        server
            .add(vec![Attr::ObjPath("a".into()), signature()])
            .await
            .1,
        2
    );
    assert_eq!(
        server
            .add(vec![Attr::ObjPath("c".into()), Attr::ObjType(7)])
            .await
            .1,
        2
    );
    let (attrs, _) = server
        .add(vec![Attr::ObjPath("b".into()), Attr::ObjType(t)])
        .await;
    let [Attr::ObjId(b)] = attrs[..] else {
        panic!("{attrs:?}")
    };

    let (found, status) = server
        .request(MessageType::Lookup, 0, vec![Attr::ObjPath("*".into())])
        .await;
    assert_eq!(status, 0);
    let listed: Vec<_> = found
        .iter()
        .map(|m| (m.obj_path().unwrap().to_owned(), m.obj_type()))
        .collect();
    assert_eq!(
        listed,
        [("a".to_owned(), Some(t)), ("b".to_owned(), Some(t))]
    );
    assert_eq!(found[1].signature(), found[0].signature());

    let (data, _) = server
        .request(MessageType::RemoveObject, 0, vec![Attr::ObjId(a)])
        .await;
    assert_eq!(data[0].attrs, [Attr::ObjId(a)], "type still used by b");
    let (data, _) = server
        .request(MessageType::RemoveObject, 0, vec![Attr::ObjId(b)])
        .await;
    assert_eq!(data[0].attrs, [Attr::ObjId(b), Attr::ObjType(t)]);
    let (_, status) = server
        .request(MessageType::Lookup, 0, vec![Attr::ObjPath("*".into())])
        .await;
    assert_eq!(status, 4);
}

#[tokio::test]
async fn events_are_not_looped_back_and_system_names_are_reserved() {
    let (_dir, ubusd) = socket();
    let mut sender = Raw::connect(&ubusd).await;
    let own = sender.anonymous().await;
    let register = Table::new()
        .with("object", own as i32)
        .with("pattern", "t.*");
    assert_eq!(sender.event("register", register).await, 0);
    let mut other = Raw::connect(&ubusd).await;
    let foreign = Table::new()
        .with("object", own as i32)
        .with("pattern", "t.*");
    assert_eq!(other.event("register", foreign).await, 6);
    let missing = Table::new().with("object", 5).with("pattern", "t.*");
    assert_eq!(other.event("register", missing).await, 4);
    let send = |id: &str| {
        Table::new()
            .with("id", id)
            .with("data", Table::new().with("n", 1))
    };
    assert_eq!(sender.event("send", send("t.1")).await, 0);
    assert!(
        sender.quiet().await,
        "no loopback to the sender's own listener"
    );
    assert_eq!(sender.event("send", send("ubus.object.add")).await, 6);
    assert_eq!(other.event("send", send("t.2")).await, 0);
    let delivered = sender.recv().await;
    assert_eq!((delivered.peer, delivered.method()), (0, Some("t.2")));
    assert_eq!(delivered.data_table(), Some(&Table::new().with("n", 1)));
}

#[tokio::test]
async fn a_restart_closes_every_client_and_forgets_every_object() {
    let (_dir, mut ubusd) = socket();
    let mut server = Raw::connect(&ubusd).await;
    server
        .add(vec![Attr::ObjPath("x".into()), signature()])
        .await;
    ubusd.restart().unwrap();
    let eof = tokio::time::timeout(Duration::from_secs(2), read_message(&mut server.stream));
    assert!(matches!(eof.await, Ok(Ok(None))), "old clients read EOF");
    let mut client = Raw::connect(&ubusd).await;
    let lookup = vec![Attr::ObjPath("x".into())];
    assert_eq!(client.request(MessageType::Lookup, 0, lookup).await.1, 4);
    ubusd.stop();
    assert!(!ubusd.path().exists(), "stop removes the socket");
}
