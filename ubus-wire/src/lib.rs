//! The ubus wire protocol of OpenWrt, written from the protocol description and checked against
//! recordings of real ubusd traffic (`shared/ubus-fixtures`). No crate on crates.io can register
//! a ubus object, so this one does the whole job:
//!
//! - codec: [`blob`] (plain attributes), [`blobmsg`] (typed values), [`message`] (header and ubus
//!   attributes) and [`json`] (the CLI's JSON mapping). Decoding never panics, checks every
//!   length, refuses messages over 1 MiB and nesting deeper than [`blobmsg::MAX_DEPTH`].
//! - [`connection`]: framing on a stream.
//! - [`Bus`]: a connection that calls objects, sends events and serves registered objects.
//!
//! A daemon keeps its [`ObjectSpec`] and handler and re-registers after every reconnect:
//!
//! ```no_run
//! # async fn run() {
//! use std::{sync::Arc, time::Duration};
//! use ubus_wire::{BlobmsgType, Bus, MethodSpec, ObjectSpec, Request, StatusCode, Table};
//!
//! let spec = ObjectSpec::new("mesh_vpn")
//!     .method(MethodSpec::new("status"))
//!     .method(MethodSpec::new("set_loadbalancing").arg("enabled", BlobmsgType::Bool));
//! let handler: Arc<dyn ubus_wire::Handler> = Arc::new(|req: &Request<'_>| match req.method {
//!     "status" => Ok(Some(Table::new().with("state", "connected").into())),
//!     _ => Err(StatusCode::InvalidArgument),
//! });
//! loop {
//!     let bus = ubus_wire::connect_with_backoff(ubus_wire::DEFAULT_SOCKET, Duration::from_secs(8)).await;
//!     match bus.add_object(spec.clone(), handler.clone()).await {
//!         Ok(object) => log::info!("mesh_vpn is object {:#x}", object.id),
//!         Err(err) => {
//!             log::warn!("{err}");
//!             tokio::time::sleep(Duration::from_secs(1)).await;
//!             continue; // dropping `bus` closes the connection
//!         }
//!     }
//!     log::warn!("ubus connection lost: {}", bus.closed().await);
//! }
//! # }
//! ```

mod attr;
pub mod blob;
pub mod blobmsg;
mod client;
pub mod connection;
mod driver;
pub mod error;
pub mod json;
pub mod message;
pub mod object;
mod value;

pub use blobmsg::{BlobmsgType, Table, Value};
pub use client::{
    Bus, DEFAULT_SOCKET, ObjectInfo, REQUEST_TIMEOUT, Registered, connect_with_backoff,
};
pub use error::{Error, Result, StatusCode};
pub use message::{Attr, Data, MAX_MESSAGE_LEN, Message, MessageType};
pub use object::{Handler, MethodResult, MethodSpec, ObjectSpec, Request};
