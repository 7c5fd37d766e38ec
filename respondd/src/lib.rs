//! respondd provider module for mesh-vpn-wg, installed as `/usr/lib/respondd/mesh-vpn-wg.so`.
//!
//! respondd dlopens every `/usr/lib/respondd/*.so`, reads the exported array
//! `respondd_providers` of `{request name, fn}` ended by `{NULL, NULL}`, calls the fn of a
//! request and deep-merges the returned json-c objects (refcount 1, freed by respondd)
//! in filename order (GPKG `net/respondd/src/respondd.c`; domain.md 5.6). Both providers
//! ask the daemon with `ubus call mesh_vpn status` (500 ms in all, socket
//! `$MESH_VPN_WG_UBUS_SOCKET`, else `/var/run/ubus/ubus.sock`, else `/var/run/ubus.sock`)
//! and return `{}` when the daemon does not answer, so respondd merges nothing.
//!
//! `nodeinfo` (as upstream gluon-mesh-vpn-wireguard `src/respondd.c`; domain.md 5.7):
//!
//! ```json
//! {"software": {"wireguard": {"version": "0.1.0", "enabled": true,
//!                             "public_key": "<base64, only when enabled>"}}}
//! ```
//!
//! `version` is the daemon's version (both crates share the workspace version) where
//! upstream reports wireguard-tools'; `enabled` and `public_key` are the status fields.
//!
//! `statistics` (fastd's layout, GLUON `gluon-mesh-vpn-fastd/src/respondd.c`):
//!
//! ```json
//! {"mesh_vpn": {"groups": {"backbone": {"peers": {"<peer name>": {"established": 1234}}}}}}
//! ```
//!
//! - `{}` (no `mesh_vpn`) while the VPN is disabled, as upstream where no peer selector
//!   runs then; the status page then hides its mesh-VPN box.
//! - The one current gateway (`status.peer.name`) is the only peer; with no gateway
//!   chosen, `peers` is `{}`.
//! - `established`: seconds the connection has stood (fastd: connection age; wgpeerselector:
//!   `now - first handshake`), taken from `status.since` while `status.state` is
//!   `connected`. Otherwise the peer's value is `null`, as fastd's: the status page tests
//!   it for truth, so wgpeerselector's `{}` would show as "connected". Whole seconds
//!   (an integer) where fastd prints `%.3f`: both consumers read it as a number.
//! - Why only `groups` and no top-level `peers`: yanic reads only
//!   `mesh_vpn.groups.<g>.peers.<name>.established` (yanic `data/statistics.go`, issue
//!   #206), and the status page (`status-page.js` `update_mesh_vpn`) walks `peers` *and*
//!   `groups` recursively, so a top-level copy would list the gateway twice there.
//!
//! No panic crosses the FFI boundary: the code has no panicking paths on outside input,
//! and each provider runs under `catch_unwind` for builds that unwind (the release
//! profile aborts instead, so the former is the guarantee that counts there).

pub mod jsonc;
pub mod shape;
pub mod ubus;

use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value as Json, json};

use crate::jsonc::{JsonObject, Owned};

/// respondd's `struct respondd_provider_info`.
#[repr(C)]
pub struct ProviderInfo {
    pub request: *const c_char,
    pub provider: Option<extern "C" fn() -> *mut JsonObject>,
}

// SAFETY: the table is immutable and points at static strings and functions only.
unsafe impl Sync for ProviderInfo {}

/// The table respondd looks up by name; `{NULL, NULL}` ends it.
#[allow(non_upper_case_globals)]
#[unsafe(no_mangle)]
pub static respondd_providers: [ProviderInfo; 3] = [
    ProviderInfo {
        request: c"nodeinfo".as_ptr(),
        provider: Some(respondd_nodeinfo),
    },
    ProviderInfo {
        request: c"statistics".as_ptr(),
        provider: Some(respondd_statistics),
    },
    ProviderInfo {
        request: std::ptr::null(),
        provider: None,
    },
];

extern "C" fn respondd_nodeinfo() -> *mut JsonObject {
    provide(shape::nodeinfo)
}

extern "C" fn respondd_statistics() -> *mut JsonObject {
    provide(shape::statistics)
}

/// Asks the daemon, shapes the reply and hands it to respondd as json-c; `{}` on any
/// failure, null only if json-c cannot even allocate that.
fn provide(shape: fn(Option<&Json>) -> Json) -> *mut JsonObject {
    let reply = catch_unwind(AssertUnwindSafe(|| {
        let status = ubus::mesh_vpn_status(&ubus::socket_path(), ubus::CALL_TIMEOUT).ok();
        shape(status.as_ref())
    }));
    let value = reply.unwrap_or_else(|_| json!({}));
    Owned::from_json(&value)
        .or_else(|| Owned::from_json(&json!({})))
        .map_or(std::ptr::null_mut(), Owned::into_raw)
}
