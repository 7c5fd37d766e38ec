//! Turning a host into socket addresses in the order a Gluon node should try
//! them: the WAN's preferred family first (IPv6 when the WAN has an IPv6
//! default route), then the other family. checkuplink gave up when the
//! preferred family had no address (community-packages issue 71); here the
//! other family is the fallback, and IP literals need no lookup at all.

use std::net::{IpAddr, SocketAddr};

use crate::endpoint::Host;
use crate::error::{Error, Result};

/// Which family the WAN prefers right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V6,
    V4,
}

/// Sorts `addrs` preferred family first, keeps the resolver's order inside a
/// family, and drops duplicates. IPv4-mapped IPv6 addresses count as IPv4.
pub fn order_addresses(addrs: impl IntoIterator<Item = IpAddr>, prefer: Family) -> Vec<IpAddr> {
    let mut unique: Vec<IpAddr> = Vec::new();
    for addr in addrs.into_iter().map(|a| a.to_canonical()) {
        if !unique.contains(&addr) {
            unique.push(addr);
        }
    }
    let is_preferred = |a: &IpAddr| a.is_ipv6() == (prefer == Family::V6);
    let (mut first, rest): (Vec<_>, Vec<_>) = unique.into_iter().partition(is_preferred);
    first.extend(rest);
    first
}

/// Resolves `host` through the system resolver (on Gluon: the WAN resolver,
/// since the daemon runs in group `gluon-mesh-vpn`) and orders the result.
pub async fn resolve(host: &Host, port: u16, prefer: Family) -> Result<Vec<SocketAddr>> {
    let addrs: Vec<IpAddr> = match host {
        Host::Ip(ip) => vec![*ip],
        Host::Name(name) => tokio::net::lookup_host((name.as_str(), port))
            .await
            // The resolver's own words, quoted: a libc may echo what it was sent.
            .map_err(|e| Error::Resolve {
                host: name.clone(),
                problem: crate::quote::quote(e.to_string()),
            })?
            .map(|sa| sa.ip())
            .collect(),
    };
    let ordered = order_addresses(addrs, prefer);
    if ordered.is_empty() {
        return Err(Error::Resolve {
            host: host.to_string(),
            problem: "no address".into(),
        });
    }
    Ok(ordered
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

/// Remembers where the last attempt started so that repeated attempts walk
/// through all resolved addresses instead of hammering the first one.
#[derive(Debug, Default, Clone)]
pub struct Rotation {
    attempt: usize,
}

impl Rotation {
    /// The addresses to try in this attempt: the preferred family rotated by
    /// the attempt count, then the other family rotated likewise.
    pub fn next<T: Clone>(&mut self, ordered: &[T], split: usize) -> Vec<T> {
        let (first, second) = ordered.split_at(split.min(ordered.len()));
        let rotate = |part: &[T]| {
            let mut v = part.to_vec();
            if !v.is_empty() {
                let n = self.attempt % v.len();
                v.rotate_left(n);
            }
            v
        };
        let mut out = rotate(first);
        out.extend(rotate(second));
        self.attempt = self.attempt.wrapping_add(1);
        out
    }

    /// Rotates socket addresses, keeping the family order of `ordered`.
    pub fn next_addrs(&mut self, ordered: &[SocketAddr]) -> Vec<SocketAddr> {
        let split = ordered
            .iter()
            .position(|a| a.is_ipv6() != ordered[0].is_ipv6())
            .unwrap_or(ordered.len());
        self.next(ordered, split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn preferred_family_first_other_family_as_fallback() {
        let mixed = ips(&["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"]);
        assert_eq!(
            order_addresses(mixed.clone(), Family::V6),
            ips(&["2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"])
        );
        assert_eq!(
            order_addresses(mixed, Family::V4),
            ips(&["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"])
        );
        // A v6 WAN and a gateway without AAAA: checkuplink failed here (issue 71).
        assert_eq!(
            order_addresses(ips(&["192.0.2.1"]), Family::V6),
            ips(&["192.0.2.1"])
        );
    }

    #[test]
    fn v4_mapped_addresses_count_as_ipv4_and_duplicates_go() {
        let list = ips(&["::ffff:192.0.2.1", "192.0.2.1", "2001:db8::1"]);
        assert_eq!(
            order_addresses(list, Family::V4),
            ips(&["192.0.2.1", "2001:db8::1"])
        );
    }

    #[test]
    fn rotation_walks_through_each_family() {
        let addrs: Vec<SocketAddr> = ["[2001:db8::1]:1", "[2001:db8::2]:1", "192.0.2.1:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let mut rotation = Rotation::default();
        let firsts: Vec<_> = (0..3).map(|_| rotation.next_addrs(&addrs)[0]).collect();
        assert_eq!(firsts, vec![addrs[0], addrs[1], addrs[0]]);
        assert_eq!(
            rotation.next_addrs(&addrs)[2],
            addrs[2],
            "fallback family stays last"
        );
    }

    #[tokio::test]
    async fn ip_literals_need_no_lookup() {
        let host = Host::Ip("2001:db8::7".parse().unwrap());
        let got = resolve(&host, 443, Family::V4).await.unwrap();
        assert_eq!(got, vec!["[2001:db8::7]:443".parse().unwrap()]);
    }
}
