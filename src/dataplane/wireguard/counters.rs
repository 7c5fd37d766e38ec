//! The liveness check's once-a-second read of the gateway peer's counters:
//! one generic netlink dump (kernel) or one UAPI `get=1` (wireguard-go) over
//! a socket kept open, into a buffer kept from one read to the next, parsed
//! without building any structure. After the first read nothing is
//! allocated, as long as the reads succeed (tests/counters_alloc.rs counts).
//! Errors drop the socket; the next read opens a new one.
//!
//! Reads block: the kernel takes the RTNL lock for the dump, wireguard-go
//! may be slow or hung. The daemon runs them on a thread of their own
//! (`daemon::ports::sampler`), never on the runtime thread.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use netlink_sys::protocols::NETLINK_GENERIC;
use netlink_sys::{Socket, SocketAddr};

use super::counters_parse::{DumpWalk, GetDeviceRequest, PeerCounters, scan_uapi_get};
use crate::dataplane::genl::Genl;
use crate::error::{Error, Result};

/// How long one read may wait for the kernel or wireguard-go.
const IO_TIMEOUT: Duration = Duration::from_secs(1);
/// A dump part is at most max(the receive length we offer, NLMSG_GOODSIZE
/// = a page up to 8 KiB) long: a GetDevice answer always fits.
const RECEIVE_BUFFER: usize = 8192;
/// A one-peer UAPI answer is about 450 bytes; a longer one grows the buffer once.
const UAPI_BUFFER: usize = 1024;

/// The first peer's counters of one WireGuard interface, read again and again.
pub struct CounterReader {
    ifname: String,
    backend: Backend,
}

enum Backend {
    Kernel(KernelCounters),
    Userspace(UapiCounters),
}

impl CounterReader {
    /// Over generic netlink, for kernel WireGuard.
    pub fn kernel(ifname: &str) -> CounterReader {
        CounterReader {
            ifname: ifname.to_string(),
            backend: Backend::Kernel(KernelCounters {
                request: GetDeviceRequest::new(ifname),
                family: None,
                socket: None,
                sequence: 0,
                buffer: Vec::new(),
            }),
        }
    }

    /// Over the UAPI socket at `socket`, for wireguard-go.
    pub fn userspace(ifname: &str, socket: PathBuf) -> CounterReader {
        CounterReader {
            ifname: ifname.to_string(),
            backend: Backend::Userspace(UapiCounters {
                path: socket,
                stream: None,
                buffer: Vec::new(),
            }),
        }
    }

    /// The first peer's counters; an error when the interface has no peer.
    pub fn read(&mut self) -> Result<PeerCounters> {
        let (read, value) = match &mut self.backend {
            Backend::Kernel(kernel) => (kernel.read(), "generic netlink family wireguard"),
            Backend::Userspace(uapi) => (uapi.read(), "UAPI get"),
        };
        let fail =
            |source| Error::dataplane("read wireguard counters", &self.ifname, value, source);
        match read {
            Ok(Some(counters)) => Ok(counters),
            Ok(None) => Err(fail(io::Error::new(
                io::ErrorKind::NotFound,
                "the interface has no peer",
            ))),
            Err(source) => Err(fail(source)),
        }
    }
}

struct KernelCounters {
    /// `None` for a name the kernel would refuse.
    request: Option<GetDeviceRequest>,
    family: Option<u16>,
    socket: Option<Socket>,
    sequence: u32,
    buffer: Vec<u8>,
}

impl KernelCounters {
    fn read(&mut self) -> io::Result<Option<PeerCounters>> {
        let result = self.exchange();
        if result.is_err() {
            // A half-read dump or a reloaded module: start afresh next time.
            self.socket = None;
            self.family = None;
        }
        result
    }

    fn exchange(&mut self) -> io::Result<Option<PeerCounters>> {
        let request = self.request.as_mut().ok_or(io::ErrorKind::InvalidInput)?;
        let family = match self.family {
            Some(family) => family,
            None => *self.family.insert(Genl::open()?.family_id("wireguard")?),
        };
        let socket = match &mut self.socket {
            Some(socket) => socket,
            None => self.socket.insert(open_socket()?),
        };
        if self.buffer.is_empty() {
            self.buffer = vec![0; RECEIVE_BUFFER];
        }
        self.sequence = self.sequence.wrapping_add(1);
        socket.send(request.bytes(family, self.sequence), 0)?;
        let mut walk = DumpWalk::new(family, self.sequence);
        loop {
            let len = receive(socket, &mut self.buffer)?;
            if walk.feed(&self.buffer[..len])? {
                return Ok(walk.first_peer());
            }
        }
    }
}

fn open_socket() -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_GENERIC)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let timeout = libc::timeval {
        // Not `as libc::time_t`: that alias is deprecated on musl targets.
        tv_sec: IO_TIMEOUT.as_secs() as _,
        tv_usec: 0,
    };
    // SAFETY: setsockopt reads `size_of::<timeval>()` bytes from a live timeval.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

/// One datagram into `buffer` (netlink-sys's own receive allocates for
/// each); its length, or InvalidData when it did not fit.
fn receive(socket: &Socket, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: recv writes at most `buffer.len()` bytes into `buffer`.
        // MSG_TRUNC makes it return the datagram's real length.
        let len = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                libc::MSG_TRUNC,
            )
        };
        if len >= 0 {
            let len = len as usize;
            return if len <= buffer.len() {
                Ok(len)
            } else {
                Err(io::ErrorKind::InvalidData.into())
            };
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

struct UapiCounters {
    path: PathBuf,
    stream: Option<UnixStream>,
    buffer: Vec<u8>,
}

impl UapiCounters {
    fn read(&mut self) -> io::Result<Option<PeerCounters>> {
        let reused = self.stream.is_some();
        let mut result = self.exchange();
        // wireguard-go answers any number of requests on one connection
        // (device/uapi.go IpcHandle loops); a closed one means it was
        // restarted since the last read: once more on a new connection.
        if reused && result.as_ref().is_err_and(closed) {
            self.stream = None;
            result = self.exchange();
        }
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self) -> io::Result<Option<PeerCounters>> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                // No write timeout: 7 bytes always fit an idle socket's buffer.
                let stream = UnixStream::connect(&self.path)?;
                stream.set_read_timeout(Some(IO_TIMEOUT))?;
                self.stream.insert(stream)
            }
        };
        if self.buffer.is_empty() {
            self.buffer = vec![0; UAPI_BUFFER];
        }
        stream.write_all(b"get=1\n\n")?;
        let mut len = 0;
        // Every answer ends with `errno=N` and a blank line.
        while !self.buffer[..len].ends_with(b"\n\n") {
            if len == self.buffer.len() {
                self.buffer.resize(2 * len, 0);
            }
            match stream.read(&mut self.buffer[len..])? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => len += n,
            }
        }
        scan_uapi_get(&self.buffer[..len])
    }
}

fn closed(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}
