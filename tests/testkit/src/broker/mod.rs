//! A stand-in for the wgkex broker (the Flask app `wgkex/broker/app.py`),
//! faithful to what the real one answers (domain.md 3.1, 3.4, 3.5), with
//! failures that can be switched on per route. Test and demo tooling only;
//! never shipped to routers.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use testkit::broker::{Behaviour, Route, TestBroker};
//! let broker = TestBroker::http().await?;
//! broker.set_behaviour(Route::V2, Behaviour::NoGateway);
//! let url = broker.url(); // http://127.0.0.1:<port>
//! # Ok(()) }
//! ```

mod cert;
mod server;
pub mod wgkex;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use cert::{SERVER_NAMES, TestCa};

/// The gateway v2 hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub address: String,
    pub port: u16,
    pub public_key: String,
    pub link_address: String,
}

/// The broker's `domains` and `domain_prefixes` settings, its one gateway
/// and its workers.
#[derive(Debug, Clone)]
pub struct Config {
    pub domains: Vec<String>,
    pub domain_prefixes: Vec<String>,
    pub gateway: Gateway,
    /// Where a registered key goes (wgkex: MQTT `wireguard/<domain>/all`,
    /// read by every worker); `None`: recorded in `published` only.
    pub publish: Option<Publish>,
}

/// Called with each registered key, as the workers receive it.
#[derive(Clone)]
pub struct Publish(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for Publish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Publish(..)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            domains: vec!["ffmuc_muc_cty".into(), "ffmuc_welt".into()],
            domain_prefixes: vec!["ffmuc_".into()],
            gateway: Gateway {
                address: "gw04.ext.ffmuc.net".into(),
                port: 40004,
                public_key: "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=".into(),
                link_address: "fe80::27c:16ff:fec0:6c74".into(),
            },
            publish: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    V1,
    V2,
}

/// How the broker answers requests on one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// What wgkex answers with a healthy worker.
    Faithful,
    /// An old broker without this route: Flask's HTML 404.
    V2Missing,
    /// v2 with no online worker for the domain: 400.
    NoGateway,
    /// v2 with a worker that published no data: 500.
    NoGatewayData,
    /// The faithful answer, after a pause.
    Delay(Duration),
    /// Read the request, then hold the connection open without a word.
    NeverReply,
    /// After validation, this status and body instead (malformed JSON, wrong types).
    Reply { status: u16, body: Vec<u8> },
    /// A 200 reply with a body of this many bytes.
    Oversized(usize),
    /// The faithful answer in chunked transfer encoding.
    Chunked,
    /// The faithful answer without Content-Length, ended by closing.
    CloseDelimited,
    // What a hostile broker, or anyone between node and an http:// broker,
    // can answer instead; wgkex itself never does.
    /// A redirect (301) to this URL, as a proxy in front of the broker would send.
    Redirect(String),
    /// A 200 head and then a body that never ends, until the client hangs up.
    EndlessBody,
    /// The faithful answer, one byte per interval.
    Trickle(Duration),
    /// These bytes as the whole answer: status line, headers and all.
    Raw(Vec<u8>),
}

impl Behaviour {
    pub fn reply(status: u16, body: &str) -> Behaviour {
        Behaviour::Reply {
            status,
            body: body.as_bytes().to_vec(),
        }
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct State {
    config: Config,
    v1: Behaviour,
    v2: Behaviour,
    requests: Vec<Recorded>,
    published: Vec<(String, String)>,
}

impl State {
    fn behaviour(&self, route: Route) -> &Behaviour {
        match route {
            Route::V1 => &self.v1,
            Route::V2 => &self.v2,
        }
    }
}

/// A running test broker; it stops when dropped.
pub struct TestBroker {
    addr: SocketAddr,
    ca: Option<TestCa>,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl TestBroker {
    /// Plain HTTP on 127.0.0.1, default config.
    pub async fn http() -> io::Result<TestBroker> {
        Self::start(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            false,
            Config::default(),
        )
        .await
    }

    /// HTTPS on 127.0.0.1 with a fresh CA, default config.
    pub async fn https() -> io::Result<TestBroker> {
        Self::start(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            true,
            Config::default(),
        )
        .await
    }

    /// Listens on `bind` (port 0 picks one), with TLS if `tls`.
    pub async fn start(bind: SocketAddr, tls: bool, config: Config) -> io::Result<TestBroker> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let ca = if tls { Some(TestCa::generate()?) } else { None };
        let acceptor = match &ca {
            Some(ca) => Some(tokio_rustls::TlsAcceptor::from(ca.server_config()?)),
            None => None,
        };
        let state = Arc::new(Mutex::new(State {
            config,
            v1: Behaviour::Faithful,
            v2: Behaviour::Faithful,
            requests: Vec::new(),
            published: Vec::new(),
        }));
        let task = tokio::spawn(server::serve(listener, acceptor, state.clone()));
        Ok(TestBroker {
            addr,
            ca,
            state,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The base URL to configure as the site's broker, e.g. `https://[::1]:41234`.
    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The CA to trust for an HTTPS broker.
    pub fn ca(&self) -> Option<&TestCa> {
        self.ca.as_ref()
    }

    pub fn set_behaviour(&self, route: Route, behaviour: Behaviour) {
        let mut state = self.lock();
        match route {
            Route::V1 => state.v1 = behaviour,
            Route::V2 => state.v2 = behaviour,
        }
    }

    /// The gateway v2 hands out from now on (wgkex's choice of the least loaded worker).
    pub fn set_gateway(&self, gateway: Gateway) {
        self.lock().config.gateway = gateway;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// The (domain, key) pairs that went to the workers (MQTT in wgkex).
    pub fn published(&self) -> Vec<(String, String)> {
        self.lock().published.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread poisons the lock; the data is still fine.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}
