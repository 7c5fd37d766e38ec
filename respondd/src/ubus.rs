//! A blocking one-shot `ubus call mesh_vpn status` over a std `UnixStream`, reusing
//! ubus-wire's codec. respondd is single-threaded and answers every request itself, so
//! the whole exchange (connect, HELLO, LOOKUP, INVOKE) shares one short deadline.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use ubus_wire::message::PREFIX_LEN;
use ubus_wire::{Attr, Data, Message, MessageType, Table};

/// Overrides the socket path (tests; nodes with a non-standard ubusd).
pub const SOCKET_ENV: &str = "MESH_VPN_WG_UBUS_SOCKET";
/// The socket of current OpenWrt, then the one of releases before 21.02.
const SOCKETS: [&str; 2] = [ubus_wire::DEFAULT_SOCKET, "/var/run/ubus.sock"];
/// respondd answers every provider serially, so a frozen daemon must not hold it up
/// (upstream's wgpeerselector call waits 1000 ms). The daemon answers from a snapshot
/// in well under a millisecond (README, `status` latency); 50 ms leaves room for a
/// busy router.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(50);

const OBJECT: &str = "mesh_vpn";
const METHOD: &str = "status";
/// ubusd's answer to a request is a STATUS with this code on success.
const STATUS_OK: u32 = 0;

#[derive(Debug)]
pub enum CallError {
    Io {
        step: &'static str,
        err: std::io::Error,
    },
    Codec {
        step: &'static str,
        err: ubus_wire::Error,
    },
    Refused {
        step: &'static str,
        status: u32,
    },
    Unexpected {
        step: &'static str,
        what: String,
    },
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Io { step, err } => write!(f, "{step}: {err}"),
            CallError::Codec { step, err } => write!(f, "{step}: {err}"),
            CallError::Refused { step, status } => write!(f, "{step}: ubus status {status}"),
            CallError::Unexpected { step, what } => write!(f, "{step}: {what}"),
        }
    }
}

/// The socket to use: `$MESH_VPN_WG_UBUS_SOCKET`, else the first standard path that exists.
pub fn socket_path() -> PathBuf {
    if let Some(path) = std::env::var_os(SOCKET_ENV) {
        return PathBuf::from(path);
    }
    let found = SOCKETS.iter().map(Path::new).find(|p| p.exists());
    PathBuf::from(found.unwrap_or(Path::new(SOCKETS[0])))
}

/// `ubus call mesh_vpn status` as JSON, within `timeout` in all.
pub fn mesh_vpn_status(socket: &Path, timeout: Duration) -> Result<Json, CallError> {
    let mut conn = Connection::open(socket, Instant::now() + timeout)?;
    let object_id = conn.lookup(OBJECT)?;
    let table = conn.invoke(object_id, METHOD)?;
    Ok(ubus_wire::json::from_table(&table))
}

struct Connection {
    stream: UnixStream,
    deadline: Instant,
    seq: u16,
}

impl Connection {
    fn open(socket: &Path, deadline: Instant) -> Result<Connection, CallError> {
        let io = |err| CallError::Io {
            step: "connect",
            err,
        };
        let stream = UnixStream::connect(socket).map_err(io)?;
        let mut conn = Connection {
            stream,
            deadline,
            seq: 0,
        };
        let hello = conn.read("HELLO")?;
        if hello.kind != MessageType::Hello {
            return Err(unexpected("HELLO", &hello));
        }
        Ok(conn)
    }

    fn lookup(&mut self, path: &str) -> Result<u32, CallError> {
        let attrs = vec![Attr::ObjPath(path.to_owned())];
        let replies = self.request("LOOKUP", MessageType::Lookup, 0, attrs)?;
        replies
            .iter()
            .find_map(Message::obj_id)
            .ok_or_else(|| CallError::Unexpected {
                step: "LOOKUP",
                what: format!("no object id for {path}"),
            })
    }

    fn invoke(&mut self, object_id: u32, method: &str) -> Result<Table, CallError> {
        let attrs = vec![
            Attr::ObjId(object_id),
            Attr::Method(method.to_owned()),
            Attr::Data(Data::Table(Table::new())),
        ];
        let replies = self.request("INVOKE", MessageType::Invoke, object_id, attrs)?;
        replies
            .iter()
            .find_map(|m| m.data_table().cloned())
            .ok_or_else(|| CallError::Unexpected {
                step: "INVOKE",
                what: "no DATA reply".into(),
            })
    }

    /// Sends one request and collects the replies of its sequence number up to its STATUS.
    fn request(
        &mut self,
        step: &'static str,
        kind: MessageType,
        peer: u32,
        attrs: Vec<Attr>,
    ) -> Result<Vec<Message>, CallError> {
        self.seq = self.seq.wrapping_add(1);
        let bytes = Message::new(kind, self.seq, peer, attrs)
            .encode()
            .map_err(|err| CallError::Codec { step, err })?;
        self.set_timeouts(step)?;
        // std sends on sockets with MSG_NOSIGNAL, so a ubusd that hung up costs an
        // error here, not a SIGPIPE in respondd (tests/sigpipe.rs).
        self.stream
            .write_all(&bytes)
            .map_err(|err| CallError::Io { step, err })?;
        let mut replies = Vec::new();
        loop {
            let message = self.read(step)?;
            if message.seq != self.seq {
                continue; // not ours (nothing else is asked on this connection)
            }
            match (message.kind, message.status()) {
                (MessageType::Status, Some(STATUS_OK)) => return Ok(replies),
                (MessageType::Status, status) => {
                    let status = status.unwrap_or(u32::MAX);
                    return Err(CallError::Refused { step, status });
                }
                (MessageType::Data, _) => replies.push(message),
                _ => return Err(unexpected(step, &message)),
            }
        }
    }

    fn read(&mut self, step: &'static str) -> Result<Message, CallError> {
        self.set_timeouts(step)?;
        let io = |err| CallError::Io { step, err };
        let mut prefix = [0u8; PREFIX_LEN];
        self.stream.read_exact(&mut prefix).map_err(io)?;
        let rest = Message::remaining_len(&prefix).map_err(|err| CallError::Codec { step, err })?;
        let mut bytes = prefix.to_vec();
        bytes.resize(PREFIX_LEN + rest, 0);
        let body = bytes.get_mut(PREFIX_LEN..).unwrap_or_default();
        self.stream.read_exact(body).map_err(io)?;
        Message::decode(&bytes).map_err(|err| CallError::Codec { step, err })
    }

    /// Socket timeouts shrink to what is left of the deadline, so a slow peer cannot
    /// stretch the whole call past it.
    fn set_timeouts(&self, step: &'static str) -> Result<(), CallError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let err = std::io::Error::new(ErrorKind::TimedOut, "deadline passed");
            return Err(CallError::Io { step, err });
        }
        let io = |err| CallError::Io { step, err };
        self.stream.set_read_timeout(Some(left)).map_err(io)?;
        self.stream.set_write_timeout(Some(left)).map_err(io)
    }
}

fn unexpected(step: &'static str, message: &Message) -> CallError {
    CallError::Unexpected {
        step,
        what: format!("{:?} message", message.kind),
    }
}
