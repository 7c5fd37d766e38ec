//! Getting a byte stream to the broker: resolve, mark the socket so Gluon's
//! policy routing sends it out through WAN (domain.md 1.7), connect with a
//! timeout, and wrap it in TLS for https.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout, timeout_at};

use super::error::{BrokerError, Phase};
use super::tls;
use super::url::BrokerUrl;
use crate::resolve::{self, Family};

/// A plain or TLS stream; the HTTP code does not care which.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// What one connection attempt needs to know.
pub struct Dial<'a> {
    pub url: &'a BrokerUrl,
    pub fwmark: u32,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub connect_timeout: Duration,
    pub deadline: Instant,
    pub started: Instant,
}

impl Dial<'_> {
    /// Connects to the first address that answers, starting the walk at
    /// `attempt` (see [`rotate`]), and returns the stream and its address.
    pub async fn open(
        &self,
        prefer: Family,
        attempt: usize,
    ) -> Result<(Box<dyn Stream>, SocketAddr), BrokerError> {
        let resolved = self
            .within_deadline(
                Phase::Resolve,
                resolve::resolve(&self.url.host, self.url.port, prefer),
            )
            .await?
            .map_err(|e| BrokerError::Resolve(e.to_string()))?;
        let mut last_error = None;
        for addr in rotate(&resolved, attempt) {
            match self.tcp(addr).await {
                Ok(tcp) => return Ok((self.secure(tcp, addr).await?, addr)),
                // Every address would fail the same way, or time is up.
                Err(e @ (BrokerError::Mark { .. } | BrokerError::Timeout { .. })) => return Err(e),
                Err(e) => {
                    log::debug!("broker {}: {e}", self.url);
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| BrokerError::Resolve("no address".into())))
    }

    async fn tcp(&self, addr: SocketAddr) -> Result<TcpStream, BrokerError> {
        let socket = marked_socket(addr, self.fwmark)?;
        let connect = timeout(self.connect_timeout, socket.connect(addr));
        match self.within_deadline(Phase::Connect, connect).await? {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(source)) => Err(BrokerError::Connect { addr, source }),
            Err(_) => Err(BrokerError::Connect {
                addr,
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {}s", self.connect_timeout.as_secs_f32()),
                ),
            }),
        }
    }

    async fn secure(
        &self,
        tcp: TcpStream,
        addr: SocketAddr,
    ) -> Result<Box<dyn Stream>, BrokerError> {
        let Some(config) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = tls::server_name(&self.url.host)?;
        let handshake = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp);
        match self.within_deadline(Phase::TlsHandshake, handshake).await? {
            Ok(stream) => Ok(Box::new(stream)),
            // Quoted: rustls lists the names of the peer's certificate, which
            // whoever answers chooses, as many as they like.
            Err(e) => Err(BrokerError::Tls {
                addr,
                problem: crate::quote::quote(e.to_string()),
            }),
        }
    }

    /// Runs `step` unless the total deadline passes first.
    pub async fn within_deadline<F: Future>(
        &self,
        phase: Phase,
        step: F,
    ) -> Result<F::Output, BrokerError> {
        timeout_at(self.deadline, step)
            .await
            .map_err(|_| BrokerError::Timeout {
                phase,
                after: self.deadline - self.started,
            })
    }
}

/// A TCP socket for `addr` with SO_MARK set before connect (0 = leave unmarked).
fn marked_socket(addr: SocketAddr, fwmark: u32) -> Result<TcpSocket, BrokerError> {
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()
    } else {
        TcpSocket::new_v4()
    }
    .map_err(|source| BrokerError::Socket { addr, source })?;
    if fwmark != 0 {
        socket2::SockRef::from(&socket)
            .set_mark(fwmark)
            .map_err(|source| BrokerError::Mark {
                mark: fwmark,
                source,
            })?;
    }
    Ok(socket)
}

/// The order to try `ordered` (preferred family first) in attempt number
/// `attempt`: each family rotated by the attempt, the fallback family kept
/// last, as [`crate::resolve::Rotation`] does for gateways.
pub fn rotate(ordered: &[SocketAddr], attempt: usize) -> Vec<SocketAddr> {
    let Some(first) = ordered.first() else {
        return Vec::new();
    };
    let split = ordered
        .iter()
        .position(|a| a.is_ipv6() != first.is_ipv6())
        .unwrap_or(ordered.len());
    let (preferred, fallback) = ordered.split_at(split);
    let mut out = Vec::with_capacity(ordered.len());
    for part in [preferred, fallback] {
        let mut part = part.to_vec();
        if !part.is_empty() {
            let n = attempt % part.len();
            part.rotate_left(n);
        }
        out.extend(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn attempts_rotate_within_each_family() {
        let ordered = addrs(&[
            "[2001:db8::1]:443",
            "[2001:db8::2]:443",
            "192.0.2.1:443",
            "192.0.2.2:443",
        ]);
        assert_eq!(rotate(&ordered, 0), ordered);
        assert_eq!(
            rotate(&ordered, 1),
            addrs(&[
                "[2001:db8::2]:443",
                "[2001:db8::1]:443",
                "192.0.2.2:443",
                "192.0.2.1:443"
            ])
        );
        assert_eq!(rotate(&ordered, 2), ordered);
        assert!(rotate(&[], 3).is_empty());
    }

    #[test]
    fn mark_is_set_before_connect() {
        let addr = "[::1]:1".parse().unwrap();
        match marked_socket(addr, 1) {
            Ok(socket) => assert_eq!(socket2::SockRef::from(&socket).mark().unwrap(), 1),
            Err(e @ BrokerError::Mark { .. }) => {
                assert!(e.to_string().contains("needs CAP_NET_ADMIN"), "{e}");
                // Straight to stderr: libtest swallows eprintln! of a passing test.
                let skip = format!("SKIP fwmark: not allowed to set SO_MARK here ({e})\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), skip.as_bytes());
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn mark_zero_is_not_set() {
        let socket = marked_socket("127.0.0.1:1".parse().unwrap(), 0).unwrap();
        assert_eq!(socket2::SockRef::from(&socket).mark().unwrap_or(0), 0);
    }
}
