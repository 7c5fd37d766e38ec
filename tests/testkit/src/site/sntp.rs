//! An SNTP server on the WAN router (RFC 4330 server mode), so the node's
//! clock step before the first key exchange has someone to ask. It tells
//! the true time; the daemon never sets the clock under `--root`.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::netns::Netns;

/// Seconds from 1900 (NTP era 0) to 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

pub struct SntpServer {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU32>,
    thread: Option<JoinHandle<()>>,
}

impl SntpServer {
    pub fn start(wan: &Netns, bind: SocketAddr) -> io::Result<SntpServer> {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU32::new(0));
        let (ready_tx, ready) = mpsc::channel();
        let (stop_flag, count) = (stop.clone(), answered.clone());
        let thread = wan.thread(move || {
            let socket = UdpSocket::bind(bind).and_then(|s| {
                s.set_read_timeout(Some(Duration::from_millis(100)))
                    .map(|()| s)
            });
            match socket {
                Ok(socket) => {
                    let _ = ready_tx.send(Ok(()));
                    serve(&socket, &stop_flag, &count);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
        ready
            .recv()
            .map_err(|_| io::Error::other("the SNTP thread ended before binding"))??;
        Ok(SntpServer {
            stop,
            answered,
            thread: Some(thread),
        })
    }

    /// How many requests were answered.
    pub fn answered(&self) -> u32 {
        self.answered.load(Ordering::Relaxed)
    }
}

impl Drop for SntpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &UdpSocket, stop: &AtomicBool, answered: &AtomicU32) {
    let mut request = [0u8; 68];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, client)) = socket.recv_from(&mut request) else {
            continue;
        };
        // Client requests only (mode 3), at least the 48-byte header.
        if len < 48 || request[0] & 0x07 != 3 {
            continue;
        }
        if socket.send_to(&reply(&request), client).is_ok() {
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn reply(request: &[u8]) -> [u8; 48] {
    let now = to_ntp(SystemTime::now());
    let mut reply = [0u8; 48];
    reply[0] = 0x24; // leap 0, version 4, mode 4 (server)
    reply[1] = 1; // stratum 1: a primary server, whose time is its own
    reply[24..32].copy_from_slice(&request[40..48]); // originate = the client's transmit
    reply[32..40].copy_from_slice(&now); // receive
    reply[40..48].copy_from_slice(&now); // transmit
    reply
}

fn to_ntp(time: SystemTime) -> [u8; 8] {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    // NTP era 0 wraps in 2036; the truncation is the format's.
    let seconds = (since.as_secs() + NTP_UNIX_OFFSET) as u32;
    let fraction = ((u64::from(since.subsec_nanos()) << 32) / 1_000_000_000) as u32;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&seconds.to_be_bytes());
    out[4..].copy_from_slice(&fraction.to_be_bytes());
    out
}
