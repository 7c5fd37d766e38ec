//! The site's `mesh_vpn.wireguard.broker` string as a URL we can dial.
//!
//! Sites write it as `broker.ffmuc.net`, as `https://broker.example/` or, from
//! the v1-only days, with the full `/api/v1/wg/key/exchange` path appended.
//! HTTPS is the default; plain HTTP only when the string says `http://`.

use std::fmt;

use crate::endpoint::Host;
use crate::quote::quote;

const LEGACY_SUFFIX: &str = "/api/v1/wg/key/exchange";

/// The two wgkex API versions: v1 registers the key only, v2 also picks the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V1,
    V2,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::V1 => "v1",
            Api::V2 => "v2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: Host,
    pub port: u16,
    /// Path prefix in front of `/api/...`, without a trailing slash (usually empty).
    pub base_path: String,
}

impl BrokerUrl {
    pub fn parse(text: &str) -> Result<BrokerUrl, String> {
        let trimmed = text.trim();
        let (tls, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix("http://") {
            (false, rest)
        } else if trimmed.contains("://") {
            return Err(format!(
                "{}: only http:// and https:// brokers are supported",
                quote(text)
            ));
        } else {
            (true, trimmed)
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(LEGACY_SUFFIX).unwrap_or(path);
        let base_path = path.trim_end_matches('/').to_string();
        if base_path.contains(['?', '#']) {
            return Err(format!(
                "{}: a broker base may not carry a query or fragment",
                quote(text)
            ));
        }
        // The path goes into the request line: blanks or controls would break it.
        if !base_path.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "{}: the path may hold printable ASCII only",
                quote(text)
            ));
        }
        let (host, port) =
            split_authority(authority).map_err(|e| format!("{}: {e}", quote(text)))?;
        Ok(BrokerUrl {
            tls,
            host,
            port: port.unwrap_or(if tls { 443 } else { 80 }),
            base_path,
        })
    }

    /// The request path of the key exchange for `api`.
    pub fn path(&self, api: Api) -> String {
        format!("{}/api/{}/wg/key/exchange", self.base_path, api.as_str())
    }

    /// The full URL of the key exchange for `api`, as shown to people.
    pub fn endpoint(&self, api: Api) -> String {
        format!("{}{}", self.origin(), self.path(api))
    }

    fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let default_port = if self.tls { 443 } else { 80 };
        if self.port == default_port {
            format!("{scheme}://{}", self.host)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin(), self.base_path)
    }
}

fn split_authority(authority: &str) -> Result<(Host, Option<u16>), String> {
    if authority.is_empty() {
        return Err("no host".into());
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => (&authority[..=end], authority[end + 1..].strip_prefix(':')),
            None => return Err("unclosed '[' in IPv6 literal".into()),
        }
    } else if authority.matches(':').count() == 1 {
        let (h, p) = authority.split_once(':').unwrap_or((authority, ""));
        (h, Some(p))
    } else {
        (authority, None)
    };
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("port {} is not a number from 1 to 65535", quote(p)))?,
        ),
        None => None,
    };
    Ok((Host::parse(host)?, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_means_https_on_443() {
        let url = BrokerUrl::parse("broker.ffmuc.net").unwrap();
        assert!(url.tls);
        assert_eq!(url.port, 443);
        assert_eq!(
            url.endpoint(Api::V2),
            "https://broker.ffmuc.net/api/v2/wg/key/exchange"
        );
    }

    #[test]
    fn legacy_v1_suffix_is_stripped() {
        let url = BrokerUrl::parse("broker.ffmuc.net/api/v1/wg/key/exchange").unwrap();
        assert_eq!(url.base_path, "");
        assert_eq!(
            url.endpoint(Api::V1),
            "https://broker.ffmuc.net/api/v1/wg/key/exchange"
        );
    }

    #[test]
    fn explicit_http_port_and_prefix_are_kept() {
        let url = BrokerUrl::parse("http://[fd00::1]:5000/wgkex/").unwrap();
        assert!(!url.tls);
        assert_eq!(url.port, 5000);
        assert_eq!(url.path(Api::V2), "/wgkex/api/v2/wg/key/exchange");
        assert_eq!(
            url.endpoint(Api::V2),
            "http://[fd00::1]:5000/wgkex/api/v2/wg/key/exchange"
        );
        let v4 = BrokerUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            v4.endpoint(Api::V1),
            "http://127.0.0.1:8080/api/v1/wg/key/exchange"
        );
    }

    #[test]
    fn bad_strings_name_the_problem() {
        for (text, needle) in [
            ("", "no host"),
            ("ftp://broker", "only http"),
            ("broker:99999", "port '99999'"),
            ("broker:", "port ''"),
            ("[fd00::1", "unclosed"),
            ("bro ker", "neither a host name"),
            ("broker/a b", "printable ASCII"),
            ("broker/\x1b[2J", "printable ASCII"),
            ("broker/x?y=1", "query"),
        ] {
            let err = BrokerUrl::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
