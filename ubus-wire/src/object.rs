//! The object side: what an object looks like on the bus (path, methods, argument types), the
//! handler that answers its methods, and the messages libubus sends for both.

use std::sync::Arc;

use crate::blobmsg::{BlobmsgType, Table, Value};
use crate::error::StatusCode;
use crate::message::{Attr, Data, Message, MessageType};

/// One method and the blobmsg types of its arguments, as published in the signature.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodSpec {
    pub name: String,
    pub args: Vec<(String, BlobmsgType)>,
}

impl MethodSpec {
    pub fn new(name: impl Into<String>) -> Self {
        MethodSpec {
            name: name.into(),
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, name: impl Into<String>, kind: BlobmsgType) -> Self {
        self.args.push((name.into(), kind));
        self
    }
}

/// An object to register: its path and methods.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectSpec {
    pub path: String,
    pub methods: Vec<MethodSpec>,
}

impl ObjectSpec {
    pub fn new(path: impl Into<String>) -> Self {
        ObjectSpec {
            path: path.into(),
            methods: Vec::new(),
        }
    }

    pub fn method(mut self, method: MethodSpec) -> Self {
        self.methods.push(method);
        self
    }

    /// The SIGNATURE: one TABLE per method holding one INT32 (the blobmsg type) per argument.
    pub fn signature(&self) -> Table {
        self.methods
            .iter()
            .map(|m| {
                let args = m
                    .args
                    .iter()
                    .map(|(name, kind)| (name.clone(), Value::Int32(*kind as i32)));
                (m.name.clone(), Value::Table(args.collect()))
            })
            .collect()
    }

    pub fn has_method(&self, name: &str) -> bool {
        self.methods.iter().any(|m| m.name == name)
    }

    /// ADD_OBJECT {OBJPATH, SIGNATURE}, as libubus sends it.
    pub fn add_object_message(&self, seq: u16) -> Message {
        let attrs = vec![
            Attr::ObjPath(self.path.clone()),
            Attr::Signature(self.signature()),
        ];
        Message::new(MessageType::AddObject, seq, 0, attrs)
    }
}

/// One incoming method call.
#[derive(Debug)]
pub struct Request<'a> {
    pub object_id: u32,
    pub method: &'a str,
    pub args: &'a Table,
    /// The caller's client id.
    pub caller: u32,
    /// The caller's user and group names, as ubusd adds them.
    pub user: Option<&'a str>,
    pub group: Option<&'a str>,
}

/// What a method returns: an optional reply (a table, or one encoded in advance with
/// [`crate::blobmsg::encode_table`]), or the status of the failure.
pub type MethodResult = Result<Option<Data>, StatusCode>;

/// Answers the methods of a registered object. It runs on the connection's reader task, so it
/// must not block: read shared state, hand work to the engine over a channel, and return.
/// That keeps replies in order and leaves nothing to cancel when the connection ends.
pub trait Handler: Send + Sync + 'static {
    fn call(&self, request: &Request<'_>) -> MethodResult;
}

impl<F> Handler for F
where
    F: Fn(&Request<'_>) -> MethodResult + Send + Sync + 'static,
{
    fn call(&self, request: &Request<'_>) -> MethodResult {
        self(request)
    }
}

/// A registered object on one connection.
#[derive(Clone)]
pub(crate) struct ServedObject {
    pub spec: Arc<ObjectSpec>,
    pub handler: Arc<dyn Handler>,
    pub has_subscribers: bool,
}

/// Runs the handler for an INVOKE with libubus' checks: unknown object 4, unknown method 3,
/// missing or non-blobmsg DATA 2.
pub(crate) fn answer(invoke: &Message, object: Option<&ServedObject>) -> MethodResult {
    let object = object.ok_or(StatusCode::NotFound)?;
    let method = invoke.method().ok_or(StatusCode::InvalidArgument)?;
    if !object.spec.has_method(method) {
        return Err(StatusCode::MethodNotFound);
    }
    let args = invoke.data_table().ok_or(StatusCode::InvalidArgument)?;
    let find_str = |pick: fn(&Attr) -> Option<&str>| invoke.attrs.iter().find_map(pick);
    let request = Request {
        object_id: invoke.obj_id().unwrap_or_default(),
        method,
        args,
        caller: invoke.peer,
        user: find_str(|a| if let Attr::User(s) = a { Some(s) } else { None }),
        group: find_str(|a| {
            if let Attr::Group(s) = a {
                Some(s)
            } else {
                None
            }
        }),
    };
    object.handler.call(&request)
}

/// The owner's reply to an INVOKE: DATA {OBJID, DATA} when there is a table, then
/// STATUS {STATUS, OBJID}; both copy the request's seq and peer. Empty when NO_REPLY is set.
pub fn invoke_replies(invoke: &Message, result: MethodResult) -> Vec<Message> {
    if invoke.no_reply() {
        return Vec::new();
    }
    let object_id = invoke.obj_id().unwrap_or_default();
    let reply = |kind, attrs| Message::new(kind, invoke.seq, invoke.peer, attrs);
    let (data, status) = match result {
        Ok(data) => (data, StatusCode::Ok),
        Err(status) => (None, status),
    };
    let mut replies = Vec::with_capacity(2);
    if let Some(data) = data {
        replies.push(reply(
            MessageType::Data,
            vec![Attr::ObjId(object_id), Attr::Data(data)],
        ));
    }
    replies.push(reply(
        MessageType::Status,
        vec![Attr::Status(status.as_u32()), Attr::ObjId(object_id)],
    ));
    replies
}

/// NOTIFY {OBJID, METHOD, DATA, NO_REPLY}: tells subscribers without waiting for them.
pub fn notify_message(seq: u16, object_id: u32, kind: &str, data: Table) -> Message {
    let attrs = vec![
        Attr::ObjId(object_id),
        Attr::Method(kind.to_owned()),
        Attr::Data(Data::Table(data)),
        Attr::NoReply(true),
    ];
    Message::new(MessageType::Notify, seq, object_id, attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_object() -> ServedObject {
        ServedObject {
            spec: Arc::new(ObjectSpec::new("o").method(MethodSpec::new("echo"))),
            handler: Arc::new(|r: &Request<'_>| Ok(Some(r.args.clone().into()))),
            has_subscribers: false,
        }
    }

    fn invoke(method: &str, data: Option<Data>, no_reply: bool) -> Message {
        let mut attrs = vec![Attr::ObjId(77), Attr::Method(method.into())];
        attrs.extend(data.map(Attr::Data));
        if no_reply {
            attrs.insert(0, Attr::NoReply(true));
        }
        Message::new(MessageType::Invoke, 9, 0x1234, attrs)
    }

    #[test]
    fn libubus_checks_come_before_the_handler() {
        let obj = echo_object();
        let args = Some(Data::Table(Table::new().with("x", 1)));
        assert_eq!(
            answer(&invoke("echo", args.clone(), false), None),
            Err(StatusCode::NotFound)
        );
        assert_eq!(
            answer(&invoke("nosuch", args.clone(), false), Some(&obj)),
            Err(StatusCode::MethodNotFound)
        );
        assert_eq!(
            answer(&invoke("echo", None, false), Some(&obj)),
            Err(StatusCode::InvalidArgument)
        );
        let raw = Some(Data::Raw(vec![3, 0, 0, 8, 0, 0, 0, 3]));
        assert_eq!(
            answer(&invoke("echo", raw, false), Some(&obj)),
            Err(StatusCode::InvalidArgument)
        );
        assert_eq!(
            answer(&invoke("echo", args, false), Some(&obj)),
            Ok(Some(Table::new().with("x", 1).into()))
        );
    }

    #[test]
    fn replies_copy_seq_and_peer_and_honour_no_reply() {
        let request = invoke("echo", Some(Data::Table(Table::new())), false);
        let replies = invoke_replies(&request, Ok(Some(Table::new().with("ok", true).into())));
        let kinds: Vec<_> = replies
            .iter()
            .map(|m| (m.kind, m.seq, m.peer, m.attrs[0].id(), m.attrs[1].id()))
            .collect();
        assert_eq!(
            kinds,
            [
                (MessageType::Data, 9, 0x1234, 3, 7),
                (MessageType::Status, 9, 0x1234, 1, 3)
            ]
        );
        let failed = invoke_replies(&request, Err(StatusCode::PermissionDenied));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].status(), Some(6));
        assert!(invoke_replies(&invoke("echo", None, true), Ok(None)).is_empty());
    }
}
