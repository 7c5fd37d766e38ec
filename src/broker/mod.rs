//! The wgkex broker: where the node registers its key and, with API v2, is
//! told which gateway to use.
//!
//! One [`Broker::exchange`] is one POST on a fresh connection (wgkex answers
//! one request and the node talks to it once per reconnect). [`Broker::register`]
//! adds checkuplink's policy: v2 when loadbalancing, falling back to v1.

mod connect;
mod error;
mod headers;
pub(crate) mod http;
pub(crate) mod reply;
mod tls;
mod url;

use std::time::Duration;

use tokio::time::Instant;

pub use connect::rotate;
pub use error::{BrokerError, Phase};
pub use headers::{Board, NodeHeaders};
pub use http::BODY_LIMIT;
pub use reply::{GatewayPeer, Registration};
pub use tls::TlsRoots;
pub use url::{Api, BrokerUrl};

use crate::resolve::Family;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For the TCP connect to one address; the next address is tried after it.
    pub connect: Duration,
    /// For the whole exchange, resolving included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(30),
        }
    }
}

/// How to reach the broker and what to tell it about the node.
#[derive(Debug, Clone)]
pub struct Broker {
    pub url: BrokerUrl,
    pub headers: NodeHeaders,
    /// SO_MARK for every socket (Gluon: 1, so traffic leaves through WAN); 0 = none.
    pub fwmark: u32,
    pub roots: TlsRoots,
    pub timeouts: Timeouts,
}

/// The result of [`Broker::register`].
#[derive(Debug)]
pub struct Outcome {
    /// The final answer: a gateway (v2), registered only (v1), or why v1 failed.
    pub result: Result<Registration, BrokerError>,
    /// Why v2 was not used, when it was tried and failed (shown in status).
    pub v2_error: Option<BrokerError>,
}

impl Broker {
    /// Registers `public_key` in `domain` with one API call. `attempt` counts
    /// the caller's retries so they rotate through the broker's addresses.
    pub async fn exchange(
        &self,
        api: Api,
        domain: &str,
        public_key: &str,
        prefer: Family,
        attempt: usize,
    ) -> Result<Registration, BrokerError> {
        let started = Instant::now();
        let dial = connect::Dial {
            url: &self.url,
            fwmark: self.fwmark,
            tls: if self.url.tls {
                Some(self.roots.client_config()?)
            } else {
                None
            },
            connect_timeout: self.timeouts.connect,
            deadline: started + self.timeouts.total,
            started,
        };
        let (mut stream, addr) = dial.open(prefer, attempt).await?;
        log::debug!("broker {}: {} via {addr}", self.url, api.as_str());
        let body = request_body(domain, public_key);
        let headers = self.headers.to_lines();
        let path = self.url.path(api);
        let host = self.host_header();
        let request = http::Request {
            path: &path,
            host: &host,
            headers: &headers,
            body: &body,
        };
        dial.within_deadline(Phase::Send, http::send(&mut stream, &request))
            .await??;
        let response = dial
            .within_deadline(Phase::Receive, http::receive(stream))
            .await??;
        response.refuse_redirect()?;
        reply::parse(api, response.status, &response.body)
    }

    /// checkuplink's policy: with loadbalancing ask v2 for a gateway and fall
    /// back to v1 on any v2 failure (the caller then picks a site peer);
    /// without, v1 only.
    pub async fn register(
        &self,
        loadbalancing: bool,
        domain: &str,
        public_key: &str,
        prefer: Family,
        attempt: usize,
    ) -> Outcome {
        let mut v2_error = None;
        if loadbalancing {
            match self
                .exchange(Api::V2, domain, public_key, prefer, attempt)
                .await
            {
                Ok(registration) => {
                    return Outcome {
                        result: Ok(registration),
                        v2_error: None,
                    };
                }
                Err(e) => {
                    log::info!("broker {}: v2 failed ({e}), falling back to v1", self.url);
                    v2_error = Some(e);
                }
            }
        }
        let result = self
            .exchange(Api::V1, domain, public_key, prefer, attempt)
            .await;
        Outcome { result, v2_error }
    }

    /// `Host:` carries the port only when it is not the scheme's default.
    fn host_header(&self) -> String {
        let default_port = if self.url.tls { 443 } else { 80 };
        if self.url.port == default_port {
            self.url.host.to_string()
        } else {
            format!("{}:{}", self.url.host, self.url.port)
        }
    }
}

/// `{"domain":"…","public_key":"…"}`, compact, as wgkex's Flask app reads it.
fn request_body(domain: &str, public_key: &str) -> String {
    serde_json::json!({ "domain": domain, "public_key": public_key }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_compact_json_with_escaping() {
        assert_eq!(
            request_body("ffmuc_welt", "k+/="),
            r#"{"domain":"ffmuc_welt","public_key":"k+/="}"#
        );
        assert_eq!(
            request_body("a\"b", ""),
            r#"{"domain":"a\"b","public_key":""}"#
        );
    }

    #[test]
    fn errors_read_well_in_a_log_line() {
        let url = BrokerUrl::parse("broker.ffmuc.net").unwrap();
        let err = crate::error::Error::Broker {
            url: url.endpoint(Api::V2),
            problem: BrokerError::Http {
                status: 500,
                message: crate::quote::quote("could not get gateway data"),
            },
        };
        assert_eq!(
            err.to_string(),
            "broker https://broker.ffmuc.net/api/v2/wg/key/exchange: HTTP 500: 'could not get gateway data'"
        );
    }

    #[test]
    fn host_header_keeps_non_default_ports() {
        let broker = |url: &str| Broker {
            url: BrokerUrl::parse(url).unwrap(),
            headers: NodeHeaders::default(),
            fwmark: 0,
            roots: TlsRoots::Custom(Vec::new()),
            timeouts: Timeouts::default(),
        };
        assert_eq!(broker("broker.ffmuc.net").host_header(), "broker.ffmuc.net");
        assert_eq!(broker("http://[::1]:5000").host_header(), "[::1]:5000");
        assert_eq!(broker("http://broker:80/x").host_header(), "broker");
    }
}
