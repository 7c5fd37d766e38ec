//! Replays one recorded scenario against the test ubusd: every message a real client sent is
//! sent again (with our ids), every message the real ubusd sent must arrive on the same
//! connection with the same structure. Objects of programs that were not recorded (rpcd's
//! `session`, …) are registered by a stand-in connection that answers as the recording shows.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value as Json;
use testkit::ubusd::TestUbusd;
use tokio::net::UnixStream;
use ubus_wire::connection::{read_message, write_message};
use ubus_wire::{Attr, Message, MessageType};

use super::ids::Ids;

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(150);
const STAND_IN: &str = "stand-in";

pub struct Replay<'a> {
    pub name: String,
    fixture: &'a Json,
    messages: Vec<(usize, String, bool, Message)>,
    ubusd: &'a mut TestUbusd,
    socket: PathBuf,
    ids: Ids,
    conns: HashMap<String, UnixStream>,
    stand_in_objects: HashSet<u32>,
    credentials: (String, String),
}

pub fn decode(hex: &str) -> Message {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    Message::decode(&bytes).expect("recorded message decodes")
}

impl<'a> Replay<'a> {
    pub fn new(name: &str, fixture: &'a Json, ubusd: &'a mut TestUbusd) -> Replay<'a> {
        let messages = fixture["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                let i = m["i"].as_u64().expect("i") as usize;
                let conn = m["conn"].as_str().expect("conn").to_owned();
                (
                    i,
                    conn,
                    m["dir"] == "to_ubusd",
                    decode(m["hex"].as_str().expect("hex")),
                )
            })
            .collect();
        Replay {
            name: name.to_owned(),
            fixture,
            messages,
            socket: ubusd.path().to_path_buf(),
            ubusd,
            ids: Ids::from_fixture(fixture),
            conns: HashMap::new(),
            stand_in_objects: HashSet::new(),
            credentials: testkit::ubusd::own_credentials(),
        }
    }

    /// Runs the whole scenario; returns how many recorded ubusd messages were compared.
    pub async fn run(mut self, server_registration: &Message) -> usize {
        self.connect_preexisting(server_registration).await;
        self.register_stand_ins().await;
        self.conn_events(-1).await;
        let mut compared = 0;
        for index in 0..self.messages.len() {
            let (i, conn, to_ubusd, recorded) = self.messages[index].clone();
            let context = format!("{} message {i} ({conn})", self.name);
            if to_ubusd {
                let ours = self.ids.translate(&recorded, &context);
                write_message(self.conn(&conn).await, &ours)
                    .await
                    .expect("send");
                if recorded.kind == MessageType::Invoke
                    && recorded
                        .obj_id()
                        .is_some_and(|id| self.stand_in_objects.contains(&id))
                {
                    self.answer_as_stand_in(index).await;
                }
            } else {
                let ours = self.receive(&conn, &context).await;
                self.ids
                    .compare(&recorded, &ours, &self.credentials, &context);
                compared += 1;
            }
            self.conn_events(i as i64).await;
        }
        self.expect_quiet().await;
        compared
    }

    async fn conn(&mut self, name: &str) -> &mut UnixStream {
        if !self.conns.contains_key(name) {
            let stream = UnixStream::connect(&self.socket).await.expect("connect");
            self.conns.insert(name.to_owned(), stream);
        }
        self.conns.get_mut(name).expect("just inserted")
    }

    async fn receive(&mut self, conn: &str, context: &str) -> Message {
        let stream = self.conn(conn).await;
        match tokio::time::timeout(WAIT, read_message(stream)).await {
            Ok(Ok(Some(message))) => message,
            Ok(other) => panic!("{context}: expected a message, got {other:?}"),
            Err(_) => panic!("{context}: nothing arrived within {WAIT:?}"),
        }
    }

    /// Connections "connected before this scenario began" registered mesh_vpn (b_add_object).
    async fn connect_preexisting(&mut self, registration: &Message) {
        let connections = self.fixture["connections"]
            .as_object()
            .expect("connections");
        for (name, info) in connections {
            if !info["note"]
                .as_str()
                .unwrap_or("")
                .contains("before this scenario")
            {
                continue;
            }
            let context = format!("{} preamble of {name}", self.name);
            let hello = self.receive(name, &context).await;
            let recorded = u32::from_str_radix(info["client_id"].as_str().expect("id"), 16);
            self.ids
                .unify(recorded.expect("hex id"), hello.peer, &context);
            self.register(name, registration, &context).await;
        }
    }

    async fn register(&mut self, conn: &str, request: &Message, context: &str) -> u32 {
        write_message(self.conn(conn).await, request)
            .await
            .expect("send");
        let data = self.receive(conn, context).await;
        let status = self.receive(conn, context).await;
        assert_eq!(status.status(), Some(0), "{context}: ADD_OBJECT status");
        data.obj_id().expect("ADD_OBJECT answered with OBJID")
    }

    /// Objects listed by a recorded LOOKUP whose owners were not recorded.
    async fn register_stand_ins(&mut self) {
        let registered_here: HashSet<String> = self
            .messages
            .iter()
            .filter(|(_, _, to_ubusd, m)| *to_ubusd && m.kind == MessageType::AddObject)
            .filter_map(|(_, _, _, m)| m.obj_path().map(str::to_owned))
            .collect();
        let has_server = self.fixture["connections"]
            .as_object()
            .is_some_and(|c| c.keys().any(|k| k.starts_with("server")));
        let mut seen = HashSet::new();
        let listed: Vec<Message> = self
            .messages
            .iter()
            .filter(|(_, _, to_ubusd, m)| !to_ubusd && m.kind == MessageType::Data)
            .map(|(_, _, _, m)| m.clone())
            .filter(|m| m.obj_path().is_some_and(|p| seen.insert(p.to_owned())))
            .collect();
        for listing in listed {
            let path = listing.obj_path().unwrap_or_default().to_owned();
            if registered_here.contains(&path) || (has_server && path == "mesh_vpn") {
                continue;
            }
            let attrs = vec![
                Attr::ObjPath(path.clone()),
                Attr::Signature(listing.signature().cloned().unwrap_or_default()),
            ];
            let request = Message::new(MessageType::AddObject, 1, 0, attrs);
            let context = format!("{} stand-in for {path}", self.name);
            if !self.conns.contains_key(STAND_IN) {
                let hello = self.receive(STAND_IN, &context).await;
                assert_eq!(hello.kind, MessageType::Hello, "{context}");
            }
            self.register(STAND_IN, &request, &context).await;
            self.stand_in_objects.extend(listing.obj_id());
        }
    }

    /// Receives the forwarded INVOKE of message `index` and answers it with the replies the
    /// recorded caller got.
    async fn answer_as_stand_in(&mut self, index: usize) {
        let (i, conn, _, request) = self.messages[index].clone();
        let context = format!("{} stand-in answering message {i}", self.name);
        let forwarded = self.receive(STAND_IN, &context).await;
        assert_eq!(forwarded.kind, MessageType::Invoke, "{context}");
        assert_eq!(forwarded.method(), request.method(), "{context}");
        let replies: Vec<Message> = self.messages[index + 1..]
            .iter()
            .filter(|(_, c, to_ubusd, m)| *c == conn && !to_ubusd && m.seq == request.seq)
            .filter(|(_, _, _, m)| matches!(m.kind, MessageType::Data | MessageType::Status))
            .map(|(_, _, _, m)| m.clone())
            .collect();
        for reply in replies {
            let mut ours = self.ids.translate(&reply, &context);
            ours.peer = forwarded.peer;
            write_message(self.conn(STAND_IN).await, &ours)
                .await
                .expect("send");
            if reply.kind == MessageType::Status {
                break;
            }
        }
    }

    /// Opens are lazy; an EOF the client caused closes our end, one ubusd caused is a restart.
    async fn conn_events(&mut self, after: i64) {
        let events = self.fixture["conn_events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for event in events.iter().filter(|e| e["after_message"] == after) {
            let conn = event["conn"].as_str().unwrap_or_default();
            match (event["event"].as_str(), event["detail"].as_str()) {
                (Some("eof"), Some("client closed")) => drop(self.conns.remove(conn)),
                (Some("eof"), Some("ubusd closed")) => {
                    self.ubusd.restart().expect("restart");
                    let stream = self.conns.get_mut(conn).expect("open before restart");
                    let read = tokio::time::timeout(WAIT, read_message(stream)).await;
                    assert!(
                        matches!(read, Ok(Ok(None))),
                        "{}: EOF after restart",
                        self.name
                    );
                    self.conns.remove(conn);
                }
                _ => {}
            }
        }
    }

    /// Nothing beyond the recording may arrive on any connection still open.
    async fn expect_quiet(&mut self) {
        for (name, stream) in &mut self.conns {
            if let Ok(extra) = tokio::time::timeout(QUIET, read_message(stream)).await {
                panic!(
                    "{}: unexpected on {name} after the recording: {extra:?}",
                    self.name
                );
            }
        }
    }
}
