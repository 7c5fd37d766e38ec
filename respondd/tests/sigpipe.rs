//! respondd is a C program that need not ignore SIGPIPE (Rust test binaries do), so
//! the check runs in a child copy of this test with the signal at its default.

mod common;

use std::io::Write;
use std::os::unix::net::UnixListener;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use common::Module;
use respondd_mesh_vpn_wg::ubus::SOCKET_ENV;
use serde_json::json;
use ubus_wire::{Message, MessageType};

const CHILD: &str = "RESPONDD_SIGPIPE_CHILD";
const TEST: &str = "a_ubusd_that_hangs_up_after_hello_costs_an_empty_reply_not_a_signal";
const ROUNDS: usize = 20;

#[test]
fn a_ubusd_that_hangs_up_after_hello_costs_an_empty_reply_not_a_signal() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("hangup.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    // Says HELLO to each client, then closes before the client's LOOKUP.
    std::thread::spawn(move || {
        let hello = Message::new(MessageType::Hello, 0, 0x1234, Vec::new())
            .encode()
            .expect("encode HELLO");
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(&hello);
        }
    });
    let exe = std::env::current_exe().expect("test binary");
    let status = Command::new(exe)
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(SOCKET_ENV, &socket)
        .status()
        .expect("run the child");
    assert_eq!(status.signal(), None, "killed by signal: {status:?}");
    assert!(status.success(), "child failed: {status:?}");
}

fn child() {
    // SAFETY: restoring the default disposition, as a C host process has it.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let module = Module::load();
    for _ in 0..ROUNDS {
        assert_eq!(module.call("statistics"), json!({}));
    }
}
