//! [`Bus`]: one connection to ubusd, usable from many tasks at once. It calls other objects,
//! sends events, registers objects and serves their methods in the background.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::blobmsg::Table;
use crate::connection::{buffered, read_hello};
use crate::driver::{self, Pending, Shared};
use crate::error::{Error, Result, StatusCode};
use crate::message::{Attr, Data, Message, MessageType};
use crate::object::{self, Handler, ObjectSpec, ServedObject};

/// Where ubusd listens on current OpenWrt (older releases: `/var/run/ubus.sock`).
pub const DEFAULT_SOCKET: &str = "/var/run/ubus/ubus.sock";
/// How long HELLO, lookups, registration and events may take. Calls take their own timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// ubusd's fixed object id for events.
const EVENT_OBJECT: u32 = 1;

/// An object found by LOOKUP.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectInfo {
    pub path: String,
    pub id: u32,
    pub type_id: u32,
    pub signature: Table,
}

/// The ids ubusd gave an object we registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    pub id: u32,
    pub type_id: Option<u32>,
}

/// A connection to ubusd. Clones share the connection; dropping the last clone closes it.
///
/// The connection ends on EOF (ubusd restarted), on a write error or on a malformed message;
/// [`Bus::closed`] then yields the reason. Reconnecting is the caller's job: connect again (e.g.
/// with [`connect_with_backoff`]) and call [`Bus::add_object`] again with the same spec and
/// handler, because ubusd forgets objects and type ids.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    client_id: u32,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

/// Removes a request's entry however the waiting ends (reply, timeout, cancellation).
struct ForgetOnDrop<'a> {
    shared: &'a Shared,
    seq: u16,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        self.shared.forget(self.seq);
    }
}

impl Bus {
    pub async fn connect(path: impl AsRef<Path>) -> Result<Bus> {
        let path = path.as_ref();
        let stream = UnixStream::connect(path)
            .await
            .map_err(|e| Error::io(format!("connecting to ubus at {}", path.display()), e))?;
        Bus::from_stream(stream).await
    }

    /// Starts a connection on an already connected socket: reads HELLO, then spawns the reader
    /// and writer tasks on the current tokio runtime.
    pub async fn from_stream(stream: UnixStream) -> Result<Bus> {
        let (read, write) = stream.into_split();
        let mut read = buffered(read);
        let client_id = tokio::time::timeout(REQUEST_TIMEOUT, read_hello(&mut read))
            .await
            .map_err(|_| timeout_error("waiting for HELLO", REQUEST_TIMEOUT))??;
        let (outgoing, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::new(outgoing));
        let tasks = [
            tokio::spawn(driver::read_loop(shared.clone(), read)),
            tokio::spawn(driver::write_loop(shared.clone(), write, queue)),
        ];
        Ok(Bus {
            inner: Arc::new(Inner {
                shared,
                client_id,
                tasks,
            }),
        })
    }

    /// Our client id, from HELLO.
    pub fn client_id(&self) -> u32 {
        self.inner.client_id
    }

    /// Waits until the connection has ended and says why ([`Error::Closed`] for EOF).
    pub async fn closed(&self) -> Error {
        self.inner.shared.closed().await
    }

    /// LOOKUP of one exact path.
    pub async fn lookup(&self, path: &str) -> Result<ObjectInfo> {
        let what = format!("LOOKUP {path}");
        let request = Message::new(
            MessageType::Lookup,
            0,
            0,
            vec![Attr::ObjPath(path.to_owned())],
        );
        let replies = self.request(&what, request, None, REQUEST_TIMEOUT).await?;
        let found = replies.iter().find_map(|m| {
            Some(ObjectInfo {
                path: m.obj_path()?.to_owned(),
                id: m.obj_id()?,
                type_id: m.obj_type().unwrap_or_default(),
                signature: m.signature().cloned().unwrap_or_default(),
            })
        });
        found.ok_or_else(|| protocol_error(&what, "no DATA with OBJPATH and OBJID"))
    }

    /// INVOKE a method; returns the table of every DATA reply (usually one or none).
    pub async fn invoke(
        &self,
        object_id: u32,
        method: &str,
        args: Table,
        timeout: Duration,
    ) -> Result<Vec<Table>> {
        let what = format!("call {object_id:#010x} {method}");
        let attrs = vec![
            Attr::ObjId(object_id),
            Attr::Method(method.to_owned()),
            Attr::Data(Data::Table(args)),
        ];
        let request = Message::new(MessageType::Invoke, 0, object_id, attrs);
        let replies = self.request(&what, request, None, timeout).await?;
        Ok(replies
            .into_iter()
            .filter_map(Message::into_data_table)
            .collect())
    }

    /// LOOKUP then INVOKE, like `ubus call <path> <method>`.
    pub async fn call(
        &self,
        path: &str,
        method: &str,
        args: Table,
        timeout: Duration,
    ) -> Result<Vec<Table>> {
        let object = self.lookup(path).await?;
        self.invoke(object.id, method, args, timeout)
            .await
            .map_err(|err| err.for_request(format!("call {path} {method}")))
    }

    /// Broadcasts an event (`ubus send <name> <data>`). ubusd answers without waiting for listeners.
    pub async fn send_event(&self, name: &str, data: Table) -> Result<()> {
        let args = Table::new().with("id", name).with("data", data);
        self.invoke(EVENT_OBJECT, "send", args, REQUEST_TIMEOUT)
            .await
            .map(drop)
    }

    /// Registers an object with a full signature; its methods are served by `handler` from
    /// the moment ubusd assigns the id until the connection ends. A handler that holds a clone
    /// of this `Bus` keeps the connection open until ubusd closes it; hand it a channel instead.
    pub async fn add_object(
        &self,
        spec: ObjectSpec,
        handler: Arc<dyn Handler>,
    ) -> Result<Registered> {
        let what = format!("ADD_OBJECT {}", spec.path);
        let request = spec.add_object_message(0);
        let served = ServedObject {
            spec: Arc::new(spec),
            handler,
            has_subscribers: false,
        };
        let replies = self
            .request(&what, request, Some(served), REQUEST_TIMEOUT)
            .await?;
        let registered = replies.iter().find_map(|m| {
            Some(Registered {
                id: m.obj_id()?,
                type_id: m.obj_type(),
            })
        });
        registered.ok_or_else(|| protocol_error(&what, "no DATA with OBJID"))
    }

    /// Sends a notification of type `kind` to the object's subscribers without waiting for
    /// replies (NO_REPLY).
    pub fn notify(&self, object_id: u32, kind: &str, data: Table) -> Result<()> {
        let shared = &self.inner.shared;
        shared.send(&object::notify_message(
            shared.next_seq(),
            object_id,
            kind,
            data,
        ))
    }

    /// Whether ubusd last said (NOTIFY {ACTIVE}) that the object has subscribers.
    pub fn has_subscribers(&self, object_id: u32) -> bool {
        self.inner.shared.has_subscribers(object_id)
    }

    /// Sends `request` under a fresh seq and collects the DATA replies up to the STATUS.
    async fn request(
        &self,
        what: &str,
        mut request: Message,
        registers: Option<ServedObject>,
        timeout: Duration,
    ) -> Result<Vec<Message>> {
        let shared = &*self.inner.shared;
        let (done, outcome) = oneshot::channel();
        request.seq = shared.register(Pending {
            done,
            data: Vec::new(),
            registers,
        })?;
        let _forget = ForgetOnDrop {
            shared,
            seq: request.seq,
        };
        shared.send(&request)?;
        // The sender goes without a word when the connection closes.
        let (status, data) = tokio::time::timeout(timeout, outcome)
            .await
            .map_err(|_| timeout_error(what, timeout))?
            .map_err(|_| shared.close_reason())?;
        match status.map(StatusCode::from_u32) {
            Some(StatusCode::Ok) => Ok(data),
            Some(status) => Err(Error::Status {
                request: what.to_owned(),
                status,
            }),
            None => Err(protocol_error(what, "STATUS without a status code")),
        }
    }
}

/// Connects, retrying with exponential backoff (250 ms doubling up to `max_delay`) until ubusd
/// accepts. It never gives up; wrap it in a timeout or `select!` to stop earlier.
pub async fn connect_with_backoff(path: impl AsRef<Path>, max_delay: Duration) -> Bus {
    let mut delay = Duration::from_millis(250).min(max_delay);
    loop {
        match Bus::connect(path.as_ref()).await {
            Ok(bus) => return bus,
            Err(err) => {
                log::warn!("{err}; retrying in {} ms", delay.as_millis());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max_delay);
            }
        }
    }
}

fn timeout_error(what: &str, timeout: Duration) -> Error {
    Error::Timeout {
        request: what.to_owned(),
        seconds: timeout.as_secs_f64(),
    }
}

fn protocol_error(what: &str, problem: &str) -> Error {
    Error::Protocol {
        request: what.to_owned(),
        problem: problem.to_owned(),
    }
}
