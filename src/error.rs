//! The one error type of mesh-vpn-wg. Every variant says what was attempted
//! and on what, so a log line or a CLI message is enough to act on.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read, written or renamed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A key of the Gluon site configuration is missing or has the wrong form.
    #[error("{}: {key}: {problem}", file.display())]
    Site {
        file: PathBuf,
        key: String,
        problem: String,
    },

    /// A UCI file does not parse, or a UCI value the program needs is unusable.
    #[error("{}{}: {problem}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Uci {
        file: PathBuf,
        line: Option<usize>,
        problem: String,
    },

    /// Talking to the wgkex broker failed; `url` is the endpoint that was called.
    #[error("broker {url}: {problem}")]
    Broker {
        url: String,
        problem: crate::broker::BrokerError,
    },

    /// A host name could not be turned into a usable address; `problem`
    /// quotes the resolver's message.
    #[error("resolving {}: {problem}", crate::quote::quote(host))]
    Resolve { host: String, problem: String },

    /// Talking to ubusd or the daemon through it failed.
    #[error("{0}")]
    Ubus(#[from] ubus_wire::Error),

    /// The daemon refused a change because the site does not allow it.
    #[error("{0}")]
    Refused(String),

    /// Building the tunnel failed: a netlink request, the WireGuard UAPI
    /// socket, the userspace WireGuard process or the firewall tool. `value`
    /// is what was being set, so the message is enough to act on.
    #[error("{operation} {interface} ({value}): {source}")]
    Dataplane {
        operation: &'static str,
        interface: String,
        value: String,
        #[source]
        source: std::io::Error,
    },

    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The process exit code for this error: 2 usage, 3 daemon or ubus not
    /// reachable, 4 refused by site policy, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        use ubus_wire::{Error as U, StatusCode};
        match self {
            Error::Usage(_) => 2,
            Error::Ubus(U::Io { .. } | U::Closed | U::Timeout { .. }) => 3,
            Error::Ubus(U::Status {
                status: StatusCode::NotFound,
                ..
            }) => 3,
            Error::Refused(_) => 4,
            _ => 1,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn dataplane(
        operation: &'static str,
        interface: &str,
        value: impl Into<String>,
        source: std::io::Error,
    ) -> Self {
        Error::Dataplane {
            operation,
            interface: interface.to_string(),
            value: value.into(),
            source,
        }
    }

    pub fn site(
        file: impl Into<PathBuf>,
        key: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Error::Site {
            file: file.into(),
            key: key.into(),
            problem: problem.into(),
        }
    }
}
