//! A stand-in for OpenWrt's ubusd, for tests and the demo; never shipped to routers.
//!
//! It speaks the wire protocol through `ubus-wire`'s codec and behaves as the recorded real
//! ubusd does (`shared/ubus-fixtures`, checked by `tests/ubusd_conformance.rs`): HELLO with
//! random client ids, LOOKUP (exact, `prefix*`, all), ADD_OBJECT/REMOVE_OBJECT with object and
//! type ids, INVOKE routing to the owner and relaying its DATA/STATUS, events on object 1,
//! SUBSCRIBE/UNSUBSCRIBE/NOTIFY, PING, and cleanup when a client goes. Not implemented: ACLs,
//! monitoring (object 3), the ACL query (object 2) and file descriptor passing.
//!
//! ```no_run
//! let mut ubusd = testkit::ubusd::TestUbusd::start("/tmp/t/ubus.sock").unwrap();
//! ubusd.restart().unwrap(); // every client sees EOF, the socket comes back on the same path
//! ubusd.stop();
//! ```

mod events;
mod handlers;
mod objects;
mod server;
mod state;
mod subscriptions;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

pub struct TestUbusd {
    path: PathBuf,
    running: Option<Running>,
}

struct Running {
    shutdown: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl TestUbusd {
    /// Listens on `path` (a stale socket file there is replaced) and serves on a thread of its
    /// own, so sync and async callers alike can use it. Clients may connect once this returns.
    pub fn start(path: impl AsRef<Path>) -> io::Result<TestUbusd> {
        let path = path.as_ref().to_path_buf();
        let running = launch(&path)?;
        Ok(TestUbusd {
            path,
            running: Some(running),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops serving: every client connection is closed (clients read EOF, as when ubusd dies)
    /// and the socket file is removed. All state is forgotten.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.shutdown.send(());
            let _ = running.thread.join();
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// A ubusd restart: stop, then listen again on the same path with fresh state.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        self.running = Some(launch(&self.path)?);
        Ok(())
    }
}

impl Drop for TestUbusd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn launch(path: &Path) -> io::Result<Running> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("test-ubusd".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::UnixListener::from_std(listener) else {
                    return;
                };
                let shared = Arc::new(Mutex::new(state::Registry::default()));
                tokio::spawn(server::accept_loop(listener, shared));
                let _ = stopped.await;
            });
            // Dropping the runtime drops every client task and with it every socket.
            drop(runtime);
        })?;
    Ok(Running { shutdown, thread })
}

/// The USER and GROUP names ubusd would put into INVOKEs from this process.
pub fn own_credentials() -> (String, String) {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self") {
        Ok(meta) => (
            server::name_of("/etc/passwd", meta.uid()),
            server::name_of("/etc/group", meta.gid()),
        ),
        Err(_) => (String::new(), String::new()),
    }
}
