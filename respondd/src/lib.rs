//! respondd provider module for mesh-vpn-wg, installed as `/usr/lib/respondd/mesh-vpn-wg.so`.
//!
//! respondd dlopens every `/usr/lib/respondd/*.so`, reads the exported array
//! `respondd_providers` of `{request name, fn}` ended by `{NULL, NULL}`, calls the fn of a
//! request and deep-merges the returned json-c objects (refcount 1, freed by respondd)
//! in filename order (GPKG `net/respondd/src/respondd.c`). respondd
//! answers every provider one after the other on one thread, so a provider must be quick.
//!
//! Both providers ask the daemon with `ubus call mesh_vpn status`, bounded to
//! [`ubus::CALL_TIMEOUT`] (50 ms in all; socket `$MESH_VPN_WG_UBUS_SOCKET`, else
//! `/var/run/ubus/ubus.sock`, else `/var/run/ubus.sock`). A call that ran into the bound
//! is not repeated for [`TIMEOUT_HOLD`], so a frozen daemon costs one bound per query,
//! not one per provider. Where the daemon does not answer (stopped, restarting,
//! frozen), the replies come from `/etc/config/wireguard` as Gluon's own WireGuard
//! module reads UCI (`uci.rs`): yanic replaces a node's nodeinfo with every answer, so
//! the key must not vanish while the daemon restarts.
//!
//! `nodeinfo` (as upstream GLUON `package/gluon-mesh-vpn-wireguard/src/respondd.c`):
//!
//! ```json
//! {"software": {"wireguard": {"version": "0.1.0", "enabled": true,
//!                             "public_key": "<base64, only when enabled>"}}}
//! ```
//!
//! `version` is the daemon's version (both crates share the workspace version) where
//! upstream reports wireguard-tools'; `enabled` and `public_key` are the status fields,
//! or without the daemon UCI's `enabled` and the public key derived from UCI's private
//! key (the private key itself is never reported). `{}` when neither is there.
//!
//! `statistics` (fastd's layout, GLUON `gluon-mesh-vpn-fastd/src/respondd.c`):
//!
//! ```json
//! {"mesh_vpn": {"groups": {"backbone": {"peers": {"peer_1": null, "gw04": {"established": 1234}}}}}}
//! ```
//!
//! - `{}` (no `mesh_vpn`) while the VPN is disabled, as upstream where no peer selector
//!   runs then; the status page then hides its mesh-VPN box.
//! - `peers` lists the site's gateways (UCI `peer` sections, `peer_<N>` as the daemon
//!   names them) as not connected, as Gluon's fastd module lists its peers, and the
//!   current gateway (`status.peer.name`) on top.
//! - `established`: seconds the connection has stood (fastd: connection age; wgpeerselector:
//!   `now - first handshake`), taken from `status.since` while `status.state` is
//!   `connected`. Any other peer is `null`, as fastd's: the status page
//!   (`status-page.js` `update_mesh_vpn`) shows "connected" only for a peer with
//!   `established`, and "not connected" for `null` and for wgpeerselector's `{}` alike.
//!   Whole seconds (an integer) where fastd prints `%.3f`: both consumers read a number.
//! - Why only `groups` and no top-level `peers`: yanic reads only
//!   `mesh_vpn.groups.<g>.peers.<name>.established` (yanic `data/statistics.go`, issue
//!   #206), and the status page walks `peers` *and* `groups` recursively, so a top-level
//!   copy would list the gateway twice there.
//!
//! No panic crosses the FFI boundary: the code has no panicking paths on outside input,
//! and each provider runs under `catch_unwind` for builds that unwind (the release
//! profile aborts instead, so the former is the guarantee that counts there).

pub mod jsonc;
pub mod shape;
pub mod ubus;
pub mod uci;

use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::jsonc::{JsonObject, Owned};
use crate::uci::Wireguard;

/// How long a call that ran into the bound is not repeated (yanic's query asks for
/// nodeinfo and statistics within milliseconds).
pub const TIMEOUT_HOLD: Duration = Duration::from_secs(2);

/// The socket and the time a call last ran into the bound.
static LAST_TIMEOUT: Mutex<Option<(PathBuf, Instant)>> = Mutex::new(None);

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

/// Asks the daemon, reads UCI, shapes the reply and hands it to respondd as json-c;
/// `{}` on any failure, null only if json-c cannot even allocate that.
fn provide(shape: fn(Option<&Json>, Option<&Wireguard>) -> Json) -> *mut JsonObject {
    let reply = catch_unwind(AssertUnwindSafe(|| {
        let status = daemon_status();
        let uci = uci::read(&uci::config_path());
        shape(status.as_ref(), uci.as_ref())
    }));
    let value = reply.unwrap_or_else(|_| json!({}));
    Owned::from_json(&value)
        .or_else(|| Owned::from_json(&json!({})))
        .map_or(std::ptr::null_mut(), Owned::into_raw)
}

/// The daemon's status, unless it did not answer (or recently ran into the bound).
fn daemon_status() -> Option<Json> {
    let socket = ubus::socket_path();
    let mut last = LAST_TIMEOUT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((path, at)) = last.as_ref() {
        if *path == socket && at.elapsed() < TIMEOUT_HOLD {
            return None;
        }
    }
    let start = Instant::now();
    let status = ubus::mesh_vpn_status(&socket, ubus::CALL_TIMEOUT).ok();
    *last = (status.is_none() && start.elapsed() >= ubus::CALL_TIMEOUT).then_some((socket, start));
    status
}
