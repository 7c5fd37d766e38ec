//! The two tasks behind a [`crate::Bus`]: a reader that routes every incoming message (replies to
//! our requests by seq, INVOKEs to our objects) and a writer that owns the socket's write half.
//! Callers only queue whole encoded messages, so cancelling a caller never leaves half a
//! message on the wire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::io::BufReader;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};

use crate::connection::{read_message, write_batch};
use crate::error::{Error, Result, StatusCode};
use crate::message::{Message, MessageType};
use crate::object::{self, ServedObject};

/// What a request got: the status code of its STATUS and the DATA before it.
pub(crate) type Outcome = (Option<u32>, Vec<Message>);

/// A request waiting for its STATUS; its DATA replies gather here until then.
pub(crate) struct Pending {
    pub done: oneshot::Sender<Outcome>,
    pub data: Vec<Message>,
    /// Set for ADD_OBJECT: the object is served from the moment ubusd names its id, so an
    /// INVOKE right behind the reply is not answered "not found".
    pub registers: Option<ServedObject>,
}

#[derive(Default)]
struct State {
    last_seq: u16,
    pending: HashMap<u16, Pending>,
    objects: HashMap<u32, ServedObject>,
    closed: Option<Error>,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    closed_tx: watch::Sender<bool>,
}

impl Shared {
    pub fn new(outgoing: mpsc::UnboundedSender<Vec<u8>>) -> Self {
        Shared {
            state: Mutex::default(),
            outgoing,
            closed_tx: watch::Sender::new(false),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not turn into a second one here; the state stays consistent
        // because every critical section is a few map operations.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Allocates a seq (libubus counts 1, 2, 3, ...) and records the request under it.
    pub fn register(&self, pending: Pending) -> Result<u16> {
        let mut state = self.state();
        if let Some(reason) = &state.closed {
            return Err(reason.clone());
        }
        let mut seq = state.last_seq.wrapping_add(1);
        while state.pending.contains_key(&seq) {
            seq = seq.wrapping_add(1);
        }
        state.last_seq = seq;
        state.pending.insert(seq, pending);
        Ok(seq)
    }

    pub fn forget(&self, seq: u16) {
        self.state().pending.remove(&seq);
    }

    /// The next seq for a message that expects no reply (a NO_REPLY notify).
    pub fn next_seq(&self) -> u16 {
        let mut state = self.state();
        state.last_seq = state.last_seq.wrapping_add(1);
        state.last_seq
    }

    pub fn send(&self, message: &Message) -> Result<()> {
        if let Some(reason) = &self.state().closed {
            return Err(reason.clone());
        }
        let bytes = message.encode()?;
        self.outgoing.send(bytes).map_err(|_| self.close_reason())
    }

    pub fn close_reason(&self) -> Error {
        self.state().closed.clone().unwrap_or(Error::Closed)
    }

    /// Ends the connection once: fails every waiting request and forgets the objects.
    pub fn close(&self, reason: Error) {
        let mut state = self.state();
        if state.closed.is_some() {
            return;
        }
        log::debug!("ubus connection closed: {reason}");
        state.closed = Some(reason);
        state.pending.clear();
        state.objects.clear();
        drop(state);
        self.closed_tx.send_replace(true);
    }

    pub async fn closed(&self) -> Error {
        let mut closed = self.closed_tx.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = closed.wait_for(|&is_closed| is_closed).await;
        self.close_reason()
    }

    pub fn has_subscribers(&self, object_id: u32) -> bool {
        self.state()
            .objects
            .get(&object_id)
            .is_some_and(|o| o.has_subscribers)
    }

    /// Handles one message from ubusd. An error ends the connection.
    fn dispatch(&self, message: Message) -> Result<()> {
        if message.version != 0 {
            return Err(Error::malformed(
                "header",
                format!("version {} (libubus accepts only 0)", message.version),
            ));
        }
        match message.kind {
            MessageType::Data | MessageType::Status => self.deliver_reply(message),
            MessageType::Invoke => self.serve_invoke(&message)?,
            MessageType::Notify => self.note_subscribers(&message),
            other => log::debug!(
                "ignoring ubus {other:?} seq {} peer {:#x}",
                message.seq,
                message.peer
            ),
        }
        Ok(())
    }

    fn deliver_reply(&self, message: Message) {
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(pending) = state.pending.get_mut(&message.seq) else {
            log::debug!(
                "ignoring ubus {:?} for unknown seq {}",
                message.kind,
                message.seq
            );
            return;
        };
        if message.kind == MessageType::Data {
            if let (Some(object), Some(id)) = (&pending.registers, message.obj_id()) {
                state.objects.insert(id, object.clone());
            }
            pending.data.push(message);
            return;
        }
        if let Some(pending) = state.pending.remove(&message.seq) {
            drop(guard);
            // The requester may have timed out and gone; that is fine.
            let _ = pending.done.send((message.status(), pending.data));
        }
    }

    fn serve_invoke(&self, invoke: &Message) -> Result<()> {
        // The handler runs without the lock so it may use the Bus (e.g. notify).
        let object = invoke
            .obj_id()
            .and_then(|id| self.state().objects.get(&id).cloned());
        let result = object::answer(invoke, object.as_ref());
        if let Err(status) = result {
            log::debug!("ubus call {:?} answered with {status}", invoke.method());
        }
        for reply in object::invoke_replies(invoke, result) {
            if let Err(err) = self.send(&reply) {
                log::error!("cannot send ubus reply: {err}");
                // Still end the request: a STATUS without DATA tells the caller it failed.
                let fallback = object::invoke_replies(invoke, Err(StatusCode::UnknownError));
                return fallback.iter().try_for_each(|m| self.send(m));
            }
        }
        Ok(())
    }

    fn note_subscribers(&self, notify: &Message) {
        let (Some(id), Some(active)) = (notify.obj_id(), notify.active()) else {
            return;
        };
        if let Some(object) = self.state().objects.get_mut(&id) {
            object.has_subscribers = active;
        }
    }
}

pub(crate) async fn read_loop(shared: Arc<Shared>, mut read: BufReader<OwnedReadHalf>) {
    let reason = loop {
        match read_message(&mut read).await {
            Ok(Some(message)) => {
                if let Err(err) = shared.dispatch(message) {
                    break err;
                }
            }
            Ok(None) => break Error::Closed,
            Err(err) => break err,
        }
    };
    shared.close(reason);
}

pub(crate) async fn write_loop(
    shared: Arc<Shared>,
    mut write: OwnedWriteHalf,
    mut outgoing: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(bytes) = outgoing.recv().await {
        if let Err(err) = write_batch(&mut write, bytes, &mut outgoing).await {
            shared.close(Error::io("writing to ubusd", err));
            return;
        }
    }
}
