//! Host names and `host:port` endpoints as they appear in site peers, the
//! broker string and wgkex v2 replies. Parsing is strict: a value that is
//! neither a DNS host name nor an IP literal is rejected, never guessed at.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use crate::quote::quote;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    /// A host name (RFC 1123 labels) or an IP literal; IPv6 may be bracketed.
    pub fn parse(text: &str) -> Result<Host, String> {
        let unbracketed = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
        if let Some(inner) = unbracketed {
            return inner
                .parse::<Ipv6Addr>()
                .map(|ip| Host::Ip(IpAddr::V6(ip)))
                .map_err(|_| format!("{} is not an IPv6 literal", quote(text)));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        if is_host_name(text) {
            Ok(Host::Name(text.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{} is neither a host name nor an IP address",
                quote(text)
            ))
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

fn is_host_name(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    // An all-numeric last label would be a mistyped IPv4 address, not a name.
    let numeric_tld = text
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    !text.is_empty() && text.len() <= 253 && text.split('.').all(label_ok) && !numeric_tld
}

/// `host:port`, as written in site peers (`gw1.example.net:40000`,
/// `[2001:db8::1]:40000`, `192.0.2.1:40000`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub host: Host,
    pub port: u16,
}

impl Endpoint {
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("{} has no ':port'", quote(text)))?;
        if host.contains(':') && !host.starts_with('[') {
            return Err(format!(
                "{}: an IPv6 address needs brackets, as in [2001:db8::1]:port",
                quote(text)
            ));
        }
        Ok(Endpoint {
            host: Host::parse(host)?,
            port: parse_port(port).map_err(|e| format!("{}: {e}", quote(text)))?,
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Written as text (`gw1.example.net:40000`) in JSON output.
impl serde::Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A UDP/TCP port 1..=65535 written in decimal.
pub fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!(
            "port {} is not a number from 1 to 65535",
            quote(text)
        )),
        Ok(port) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
        Ok(_) => Err(format!(
            "port {} is not a plain decimal number",
            quote(text)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_endpoint_forms_sites_use() {
        let e = Endpoint::parse("gw04.ext.ffmuc.net:40011").unwrap();
        assert_eq!(e.host, Host::Name("gw04.ext.ffmuc.net".into()));
        assert_eq!(e.port, 40011);
        let e = Endpoint::parse("[2001:db8::1]:51820").unwrap();
        assert_eq!(e.host, Host::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(e.to_string(), "[2001:db8::1]:51820");
        let e = Endpoint::parse("192.0.2.7:1").unwrap();
        assert_eq!(e.to_string(), "192.0.2.7:1");
    }

    #[test]
    fn rejects_what_is_not_an_endpoint() {
        for bad in [
            "gw.example.net",
            "gw.example.net:0",
            "gw.example.net:65536",
            "gw.example.net:+80",
            "2001:db8::1:51820",
            "[nonsense]:1",
            "bad host:1",
            ":1",
            "-gw.example.net:1",
            "300.1.2.3:1",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn host_names_are_case_insensitive_and_ip_literals_are_kept() {
        assert_eq!(
            Host::parse("GW1.Example.NET").unwrap(),
            Host::Name("gw1.example.net".into())
        );
        assert_eq!(
            Host::parse("::1").unwrap(),
            Host::Ip("::1".parse().unwrap())
        );
        assert!(Host::parse("gw_1.example.net").is_ok());
        assert!(Host::parse("").is_err());
    }
}
