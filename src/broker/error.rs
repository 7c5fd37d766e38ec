//! Everything that can go wrong in one key exchange, worded for a Freifunk
//! admin reading `logread`: what failed, against what, and what to check.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The step a request was in when something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Resolve,
    Connect,
    TlsHandshake,
    Send,
    Receive,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Resolve => "resolving the broker's name",
            Phase::Connect => "connecting",
            Phase::TlsHandshake => "in the TLS handshake",
            Phase::Send => "sending the request",
            Phase::Receive => "waiting for the reply",
        })
    }
}

/// What went wrong talking to the broker; the URL is carried by
/// [`crate::error::Error::Broker`].
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{0}")]
    Url(String),

    /// The resolver's message, which names the host.
    #[error("{0}")]
    Resolve(String),

    #[error(
        "setting SO_MARK {mark} on the broker socket needs CAP_NET_ADMIN (run as root): {source}"
    )]
    Mark {
        mark: u32,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot create a socket for {addr}: {source}")]
    Socket {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("gave up after {}s (total timeout) while {phase}", after.as_secs_f32())]
    Timeout { phase: Phase, after: Duration },

    /// The TLS library refused our settings (not the broker's fault).
    #[error("cannot set up TLS: {0}")]
    TlsSetup(String),

    /// `problem` quotes the TLS library's message.
    #[error("TLS with {addr} failed: {problem}")]
    Tls { addr: SocketAddr, problem: String },

    #[error("network error while {phase}: {source}")]
    Io {
        phase: Phase,
        #[source]
        source: std::io::Error,
    },

    /// The reply is not HTTP/1.x as we know it (status line, chunking).
    #[error("the reply is not valid HTTP: {0}")]
    Protocol(String),

    #[error("the reply is larger than the {} KiB limit", limit / 1024)]
    TooLarge { limit: usize },

    /// The broker answered with an error status (3xx/4xx/5xx) and said why;
    /// `message` quotes the broker's text (see [`crate::quote`]).
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },

    /// `excerpt` is the start of the body, already quoted.
    #[error("HTTP {status}: the reply is not JSON: {excerpt}")]
    NotJson { status: u16, excerpt: String },

    /// A JSON reply whose field is missing, of the wrong type or out of range.
    #[error("{field}: {problem}")]
    Malformed { field: String, problem: String },
}

impl BrokerError {
    pub(crate) fn malformed(field: impl Into<String>, problem: impl Into<String>) -> Self {
        BrokerError::Malformed {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
