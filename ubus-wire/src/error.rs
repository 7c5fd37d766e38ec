//! The crate's one error type and the ubus status codes.

use std::fmt;
use std::sync::Arc;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Cloneable (I/O errors are shared) so the reason a connection ended can be handed to every
/// waiter.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// The socket could not be opened, read or written.
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: Arc<std::io::Error>,
    },

    /// Bytes that do not follow the blob/blobmsg/ubus layout. `at` is the path to the offending
    /// attribute (`header`, `DATA.peer.mtu`, ...).
    #[error("malformed ubus message at {at}: {problem}")]
    Malformed { at: String, problem: String },

    /// A message (or a blobmsg name) is larger than the protocol allows.
    #[error("ubus message too large: {what} is {len} bytes, the limit is {limit}")]
    TooLarge {
        what: &'static str,
        len: usize,
        limit: usize,
    },

    /// A well-formed message that makes no sense at this point of the conversation.
    #[error("unexpected ubus reply to {request}: {problem}")]
    Protocol { request: String, problem: String },

    /// The peer answered a request with a status other than OK.
    #[error("{request}: {status}")]
    Status { request: String, status: StatusCode },

    /// No STATUS arrived in time.
    #[error("{request}: no reply within {seconds:.1} s")]
    Timeout { request: String, seconds: f64 },

    /// ubusd closed the connection (EOF), e.g. because it restarted.
    #[error("ubusd closed the connection")]
    Closed,

    /// A JSON value that has no blobmsg form (not an object, nested too deep).
    #[error("JSON to blobmsg: {0}")]
    Json(String),
}

impl Error {
    pub(crate) fn malformed(at: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Malformed {
            at: at.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            action: action.into(),
            source: Arc::new(source),
        }
    }

    /// Names the request in a reply error after what the caller asked for (`call mesh_vpn
    /// status` rather than the object id).
    pub(crate) fn for_request(self, name: String) -> Self {
        match self {
            Error::Status { status, .. } => Error::Status {
                request: name,
                status,
            },
            Error::Timeout { seconds, .. } => Error::Timeout {
                request: name,
                seconds,
            },
            Error::Protocol { problem, .. } => Error::Protocol {
                request: name,
                problem,
            },
            other => other,
        }
    }

    /// Prefixes the location of a `Malformed` error with the enclosing attribute's name, so the
    /// final message names the whole path (`DATA.peer.mtu`).
    pub(crate) fn within(self, outer: &str) -> Self {
        match self {
            Error::Malformed { at, problem } if at.is_empty() => Error::malformed(outer, problem),
            Error::Malformed { at, problem } => Error::malformed(format!("{outer}.{at}"), problem),
            other => other,
        }
    }
}

/// The ubus status codes (`UBUS_STATUS_*`). Codes outside 0..=13 are kept as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCode {
    Ok,
    InvalidCommand,
    InvalidArgument,
    MethodNotFound,
    NotFound,
    NoData,
    PermissionDenied,
    Timeout,
    NotSupported,
    UnknownError,
    ConnectionFailed,
    NoMemory,
    ParseError,
    SystemError,
    Other(u32),
}

const NAMED: [StatusCode; 14] = [
    StatusCode::Ok,
    StatusCode::InvalidCommand,
    StatusCode::InvalidArgument,
    StatusCode::MethodNotFound,
    StatusCode::NotFound,
    StatusCode::NoData,
    StatusCode::PermissionDenied,
    StatusCode::Timeout,
    StatusCode::NotSupported,
    StatusCode::UnknownError,
    StatusCode::ConnectionFailed,
    StatusCode::NoMemory,
    StatusCode::ParseError,
    StatusCode::SystemError,
];

impl StatusCode {
    pub fn from_u32(code: u32) -> Self {
        usize::try_from(code)
            .ok()
            .and_then(|index| NAMED.get(index).copied())
            .unwrap_or(StatusCode::Other(code))
    }

    pub fn as_u32(self) -> u32 {
        match self {
            StatusCode::Other(code) => code,
            named => NAMED.iter().position(|&c| c == named).unwrap_or(0) as u32,
        }
    }

    /// The name used by libubus and the fixtures (`INVALID_ARGUMENT`).
    pub fn name(self) -> &'static str {
        match self {
            StatusCode::Ok => "OK",
            StatusCode::InvalidCommand => "INVALID_COMMAND",
            StatusCode::InvalidArgument => "INVALID_ARGUMENT",
            StatusCode::MethodNotFound => "METHOD_NOT_FOUND",
            StatusCode::NotFound => "NOT_FOUND",
            StatusCode::NoData => "NO_DATA",
            StatusCode::PermissionDenied => "PERMISSION_DENIED",
            StatusCode::Timeout => "TIMEOUT",
            StatusCode::NotSupported => "NOT_SUPPORTED",
            StatusCode::UnknownError => "UNKNOWN_ERROR",
            StatusCode::ConnectionFailed => "CONNECTION_FAILED",
            StatusCode::NoMemory => "NO_MEMORY",
            StatusCode::ParseError => "PARSE_ERROR",
            StatusCode::SystemError => "SYSTEM_ERROR",
            StatusCode::Other(_) => "UNKNOWN_STATUS",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {} ({})", self.as_u32(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip_and_keep_unknown_values() {
        for code in 0..=15 {
            assert_eq!(StatusCode::from_u32(code).as_u32(), code);
        }
        assert_eq!(StatusCode::from_u32(3), StatusCode::MethodNotFound);
        assert_eq!(StatusCode::from_u32(13).name(), "SYSTEM_ERROR");
        assert_eq!(StatusCode::from_u32(14), StatusCode::Other(14));
        assert_eq!(StatusCode::from_u32(u32::MAX), StatusCode::Other(u32::MAX));
    }

    #[test]
    fn malformed_paths_nest_outward() {
        let err = Error::malformed("", "bad").within("mtu").within("DATA");
        assert_eq!(err.to_string(), "malformed ubus message at DATA.mtu: bad");
    }
}
