//! Loads the built module the way respondd does (dlopen, `respondd_providers`), and
//! finds or builds the daemon binary for the live tests.
#![allow(dead_code)]

pub mod node;

use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use respondd_mesh_vpn_wg::jsonc::{JsonObject, Owned};
use respondd_mesh_vpn_wg::ubus::SOCKET_ENV;
use respondd_mesh_vpn_wg::uci::ROOT_ENV;
use serde_json::Value as Json;

pub const LIBRARY: &str = "librespondd_mesh_vpn_wg.so";
pub const DAEMON: &str = "mesh-vpn-wg";

/// respondd's `struct respondd_provider_info`, as respondd itself reads it.
#[repr(C)]
struct ProviderInfo {
    request: *const c_char,
    provider: Option<extern "C" fn() -> *mut JsonObject>,
}

/// The module, dlopened from the build directory.
pub struct Module {
    handle: *mut libc::c_void,
}

impl Module {
    pub fn load() -> Module {
        let path = library_path();
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid C string; RTLD_NOW resolves json-c at once, as respondd does.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW) };
        assert!(
            !handle.is_null(),
            "dlopen {}: {}",
            path.display(),
            dl_error()
        );
        Module { handle }
    }

    /// The request names of `respondd_providers`, up to its `{NULL, NULL}` end.
    pub fn requests(&self) -> Vec<String> {
        self.providers().map(|(name, _)| name).collect()
    }

    /// Calls the provider of `request`; its json-c reply as JSON (the reference freed).
    pub fn call(&self, request: &str) -> Json {
        let (_, provider) = self
            .providers()
            .find(|(name, _)| name == request)
            .unwrap_or_else(|| panic!("no provider for {request}"));
        // SAFETY: the provider returns a reference the caller owns, or null.
        let reply = unsafe { Owned::from_raw(provider()) }.expect("provider returned NULL");
        let text = reply.to_json_string().expect("json-c serialises the reply");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn providers(&self) -> impl Iterator<Item = (String, extern "C" fn() -> *mut JsonObject)> {
        // SAFETY: the symbol is the exported array, ended by an entry with a null name.
        let table = unsafe { libc::dlsym(self.handle, c"respondd_providers".as_ptr()) };
        assert!(!table.is_null(), "no respondd_providers: {}", dl_error());
        let table = table as *const ProviderInfo;
        let mut entries = Vec::new();
        for i in 0.. {
            // SAFETY: within the array until the terminator, which stops the loop.
            let entry = unsafe { &*table.add(i) };
            if entry.request.is_null() {
                assert!(entry.provider.is_none(), "terminator with a function");
                break;
            }
            // SAFETY: non-null names point at static C strings in the module.
            let name = unsafe { CStr::from_ptr(entry.request) };
            let provider = entry.provider.expect("entry without a function");
            entries.push((name.to_string_lossy().into_owned(), provider));
        }
        entries.into_iter()
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: the handle came from dlopen and no pointer into the module outlives self.
        unsafe { libc::dlclose(self.handle) };
    }
}

fn dl_error() -> String {
    // SAFETY: dlerror returns null or a C string valid until the next dl call.
    let err = unsafe { libc::dlerror() };
    if err.is_null() {
        return "unknown dl error".into();
    }
    // SAFETY: non-null, NUL-terminated.
    unsafe { CStr::from_ptr(err) }
        .to_string_lossy()
        .into_owned()
}

/// The providers read the socket path from the environment: one test at a time.
static SOCKET_LOCK: Mutex<()> = Mutex::new(());

pub fn with_socket<T>(socket: &Path, f: impl FnOnce() -> T) -> T {
    // A root with no UCI file: nothing to fall back to.
    with_node(socket, &socket.with_extension("no-root"), f)
}

/// As `with_socket`, with the node's files (`etc/config/wireguard`) under `root`.
pub fn with_node<T>(socket: &Path, root: &Path, f: impl FnOnce() -> T) -> T {
    let _guard: MutexGuard<'_, ()> = SOCKET_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: every reader of the variables in this process holds the lock.
    unsafe {
        std::env::set_var(SOCKET_ENV, socket);
        std::env::set_var(ROOT_ENV, root);
    }
    f()
}

/// The module this test run built: cargo writes it next to the test binary, in `deps/`,
/// and copies it up to `target/<profile>` only when the crate itself is the build goal.
pub fn library_path() -> PathBuf {
    let fresh = build_dir().join("deps").join(LIBRARY);
    let path = if fresh.exists() {
        fresh
    } else {
        build_dir().join(LIBRARY)
    };
    assert!(path.exists(), "{} not built", path.display());
    path
}

/// `target/<profile>`: the test binary runs from its `deps/` directory.
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// The daemon binary next to the module; built here when a run of this crate alone
/// did not build it. None (after a SKIP line) if that fails.
pub fn daemon_binary() -> Option<PathBuf> {
    let path = build_dir().join(DAEMON);
    if !path.exists() {
        build_daemon();
    }
    if path.exists() {
        return Some(path);
    }
    testkit::skip(&format!("no {DAEMON} binary in {}", build_dir().display()));
    None
}

fn build_daemon() {
    let target_dir = build_dir().parent().map(Path::to_path_buf);
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "-p", DAEMON, "--bin", DAEMON]);
    if let Some(dir) = target_dir {
        cargo.arg("--target-dir").arg(dir);
    }
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    let _ = cargo.status();
}

/// What `mesh-vpn-wg --version` prints after the program name.
pub fn daemon_version(binary: &Path) -> String {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .expect("run --version");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = text.trim().strip_prefix("mesh-vpn-wg ").unwrap_or_default();
    assert!(!version.is_empty(), "unexpected --version output: {text:?}");
    version.to_owned()
}

/// Whether `unshare --net` works here (root, util-linux).
pub fn can_isolate() -> bool {
    Command::new("unshare")
        .args(["--net", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The peers the Gluon status page lists: `update_mesh_vpn`'s recursive walk over
/// `peers` and `groups`, as (name, value) pairs.
pub fn status_page_peers(mesh_vpn: &Json) -> Vec<(String, Json)> {
    let mut peers = Vec::new();
    if let Some(map) = mesh_vpn.get("peers").and_then(Json::as_object) {
        peers.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    if let Some(groups) = mesh_vpn.get("groups").and_then(Json::as_object) {
        for group in groups.values() {
            peers.extend(status_page_peers(group));
        }
    }
    peers
}
