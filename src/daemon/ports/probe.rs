//! The HTTP probe of the health check: a GET to the gateway's link-local
//! address through the tunnel, as checkuplink's `wget http://[gw%iface]/`.
//! The FFMUC gateways run a web server on that address for this purpose.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub const HTTP_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Probes sent without waiting: each runs as its own task, so the engine's
/// once-a-second sampling goes on; the engine judges by the receive counter
/// and reads the latest outcome only for `status`.
pub struct HttpProber {
    iface: String,
    latest: Arc<Mutex<Option<Result<(), String>>>>,
}

impl HttpProber {
    pub fn new(iface: &str) -> HttpProber {
        HttpProber {
            iface: iface.to_string(),
            latest: Arc::default(),
        }
    }

    pub fn solicit(&self, gateway: Ipv6Addr) {
        let iface = self.iface.clone();
        let latest = self.latest.clone();
        tokio::spawn(async move {
            let outcome = http_get(&iface, gateway).await;
            if let Ok(mut latest) = latest.lock() {
                *latest = Some(outcome);
            }
        });
    }

    pub fn take_result(&self) -> Option<Result<(), String>> {
        self.latest.lock().ok()?.take()
    }
}

/// GET / on `[gateway%iface]:80`; any 2xx or 3xx answer passes, as wget's would.
pub async fn http_get(iface: &str, gateway: Ipv6Addr) -> Result<(), String> {
    let scope = ifindex(iface)?;
    let target = SocketAddr::V6(SocketAddrV6::new(gateway, 80, 0, scope));
    timeout(HTTP_PROBE_TIMEOUT, get(target))
        .await
        .map_err(|_| format!("http://[{gateway}%{iface}]/ gave no answer within 5 s"))?
        .map_err(|e| format!("http://[{gateway}%{iface}]/: {e}"))
}

async fn get(target: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect(target)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET / HTTP/1.0\r\nHost: [{}]\r\nUser-Agent: mesh-vpn-wg\r\n\r\n",
        target.ip()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    // The status line is all we need; 64 bytes hold it.
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        match stream
            .read(&mut head[len..])
            .await
            .map_err(|e| e.to_string())?
        {
            0 => break,
            n => len += n,
        }
    }
    let status = std::str::from_utf8(&head[..len])
        .ok()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("no HTTP status line in the answer")?;
    match status {
        200..=399 => Ok(()),
        other => Err(format!("answered HTTP {other}")),
    }
}

/// The interface index for the link-local scope, in the daemon's own network
/// namespace. `/sys/class/net` would show the namespace that mounted sysfs,
/// which differs for a daemon entered into a namespace without a remount.
fn ifindex(iface: &str) -> Result<u32, String> {
    let name = std::ffi::CString::new(iface)
        .map_err(|_| format!("interface name {iface:?} contains a NUL byte"))?;
    // SAFETY: `name` is a valid NUL-terminated string for the whole call.
    match unsafe { libc::if_nametoindex(name.as_ptr()) } {
        0 => Err(format!(
            "interface {iface} does not exist: {}",
            std::io::Error::last_os_error()
        )),
        index => Ok(index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn serve_once(listener: TcpListener, reply: &'static str) {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf).await;
        stream.write_all(reply.as_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn success_redirect_and_error_statuses() {
        for (reply, ok) in [
            ("HTTP/1.1 200 OK\r\n\r\nhello", true),
            ("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", true),
            ("HTTP/1.1 503 Service Unavailable\r\n\r\n", false),
            ("garbage", false),
        ] {
            let listener = TcpListener::bind("[::1]:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(serve_once(listener, reply));
            let result = get(addr).await;
            assert_eq!(result.is_ok(), ok, "{reply:?}: {result:?}");
            server.await.unwrap();
        }
    }

    #[test]
    fn a_missing_interface_is_named() {
        let err = ifindex("no-such-wg0").unwrap_err();
        assert!(err.contains("no-such-wg0"), "{err}");
        let err = ifindex("wg\0x").unwrap_err();
        assert!(err.contains("NUL"), "{err}");
    }

    #[test]
    fn loopback_is_found_in_our_namespace() {
        assert!(ifindex("lo").unwrap() > 0);
    }
}
