//! The node's identity on the mesh VPN: its WireGuard key pair, the IPv6
//! link-local address the gateways derive from the public key, and the VXLAN
//! VNI derived from the domain seed. Both derivations must agree byte for
//! byte with wgkex and checkuplink, or the gateway drops the node's traffic.

use std::net::Ipv6Addr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};

/// A WireGuard private key, kept as the base64 text UCI stores. Its Debug
/// output is redacted so it can never leak into a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey([u8; 32]);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl PrivateKey {
    /// Parses the UCI value; anything but base64 of exactly 32 bytes is invalid.
    pub fn from_base64(text: &str) -> Option<PrivateKey> {
        let bytes = BASE64.decode(text.trim()).ok()?;
        Some(PrivateKey(bytes.try_into().ok()?))
    }

    /// A fresh key from the kernel's random source, clamped as `wg genkey` does.
    pub fn generate() -> Result<PrivateKey, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        key[0] &= 248;
        key[31] = (key[31] & 127) | 64;
        Ok(PrivateKey(key))
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    pub fn public_key(&self) -> String {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        BASE64.encode(x25519_dalek::PublicKey::from(&secret).as_bytes())
    }
}

/// Whether `text` has the shape of a WireGuard public key, with the same
/// pattern wgkex and Gluon's check_site use (`^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$`).
pub fn is_public_key(text: &str) -> bool {
    let bytes = text.as_bytes();
    let body = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    bytes.len() == 44
        && bytes[..42].iter().all(body)
        && b"AEIMQUYcgkosw480".contains(&bytes[42])
        && bytes[43] == b'='
}

/// The node's link-local address as the gateway computes it: MD5 over the
/// base64 public key *plus one newline* (checkuplink pipes `wg pubkey` into
/// md5sum), MAC `02:h0:h1:h2:h3:h4`, `ff:fe` inserted, U/L bit not flipped.
pub fn link_local(public_key: &str) -> Ipv6Addr {
    let mut hasher = Md5::new();
    hasher.update(public_key.as_bytes());
    hasher.update(b"\n");
    let h = hasher.finalize();
    let word = |hi: u8, lo: u8| u16::from_be_bytes([hi, lo]);
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        word(0x02, h[0]),
        word(h[1], 0xff),
        word(0xfe, h[2]),
        word(h[3], h[4]),
    )
}

/// Gluon's `domain_seed_bytes(key, length)`: `2*length` hex digits of chained
/// MD5 rounds over `previous_hex .. key .. lower(seed) .. round`.
pub fn domain_seed_bytes(key: &str, domain_seed: &str, length: usize) -> String {
    let seed = domain_seed.to_ascii_lowercase();
    let mut out = String::new();
    let mut previous = String::new();
    let mut round = 0u32;
    while out.len() < 2 * length {
        round += 1;
        let digest = Md5::digest(format!("{previous}{key}{seed}{round}"));
        previous = digest.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&previous);
    }
    out.truncate(2 * length);
    out
}

/// The VXLAN network identifier of the domain, as checkuplink computes it
/// with the FFMUC key `gluon-mesh-vpn-vxlan` (upstream Gluon uses another key).
pub fn vni(domain_seed: &str) -> u32 {
    let hex = domain_seed_bytes("gluon-mesh-vpn-vxlan", domain_seed, 3);
    // Six hex digits always parse; the fallback is unreachable but not a panic.
    u32::from_str_radix(&hex, 16).unwrap_or(0)
}

/// Whether a domain seed has the form check_site demands: 64 hex digits.
pub fn is_domain_seed(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every link-local vector of domain.md 2.1; the last four are the FFMUC
    // gateways' configured link_address values.
    const LINK_LOCAL_VECTORS: [(&str, &str); 6] = [
        ("public_key", "fe80::282:6eff:fe9d:ecd3"),
        (
            "o52Ge+Rpj4CUSitVag9mS7pSXUesNM0ESnvj/wwehkg=",
            "fe80::2a6:8fff:fe21:5465",
        ),
        (
            "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=",
            "fe80::27c:16ff:fec0:6c74",
        ),
        (
            "igyqOmWiz4EZxPG8ZzU537MnHhaqlwfa7HarB3KmnEg=",
            "fe80::281:8eff:fef0:73aa",
        ),
        (
            "pkRaUOoLuuHnUt9BEGeKrhF3OMYBPecc0iYkika6uhE=",
            "fe80::2a2:e4ff:fef9:2269",
        ),
        (
            "PcKkakZcTEx3LKh+G06Opb8/esg08aWK33A5/Ff1YXE=",
            "fe80::23b:d2ff:fe95:967f",
        ),
    ];

    #[test]
    fn link_local_matches_every_reference_vector() {
        for (key, expected) in LINK_LOCAL_VECTORS {
            assert_eq!(link_local(key).to_string(), expected, "key {key}");
        }
    }

    #[test]
    fn link_local_is_not_upstream_gluons_newline_free_hash() {
        // Upstream gluon_wireguard.sh hashes without the newline: a different address.
        let upstream: Ipv6Addr = "fe80::268:63ff:fef3:8912".parse().unwrap();
        assert_ne!(
            link_local("o52Ge+Rpj4CUSitVag9mS7pSXUesNM0ESnvj/wwehkg="),
            upstream
        );
    }

    #[test]
    fn vni_matches_the_reference_examples() {
        let seed = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(domain_seed_bytes("gluon-mesh-vpn-vxlan", seed, 3), "39944c");
        assert_eq!(vni(seed), 3_773_516);
        // Upstream's key with the same seed, to prove the key is part of the input.
        assert_eq!(domain_seed_bytes("gluon-mesh-vxlan", seed, 3), "033cde");
    }

    #[test]
    fn domain_seed_bytes_chains_hex_rounds_for_long_outputs() {
        let seed = "00".repeat(32);
        let long = domain_seed_bytes("k", &seed, 20);
        assert_eq!(long.len(), 40);
        // Round two hashes round one's *hex* text, as Gluon's Lua does.
        let first = domain_seed_bytes("k", &seed, 16);
        let second: String = Md5::digest(format!("{first}k{seed}2"))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(&long[32..], &second[..8]);
    }

    #[test]
    fn generated_keys_are_clamped_and_round_trip() {
        let key = PrivateKey::generate().unwrap();
        let text = key.to_base64();
        let again = PrivateKey::from_base64(&text).unwrap();
        assert_eq!(again, key);
        assert_eq!(again.0[0] & 7, 0);
        assert_eq!(again.0[31] & 0xc0, 0x40);
        assert!(is_public_key(&key.public_key()));
        assert_ne!(PrivateKey::generate().unwrap(), key);
    }

    #[test]
    fn public_key_is_derived_like_wg_pubkey() {
        // RFC 7748 section 6.1: Alice's private key and public key.
        let alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let key = PrivateKey(alice.try_into().unwrap());
        assert_eq!(key.public_key(), BASE64.encode(public));
    }

    #[test]
    fn invalid_private_keys_are_recognised() {
        for bad in [
            "",
            "not base64!",
            "AAAA",
            &BASE64.encode([0u8; 31]),
            &BASE64.encode([0u8; 33]),
        ] {
            assert!(PrivateKey::from_base64(bad).is_none(), "{bad:?} accepted");
        }
        assert!(format!("{:?}", PrivateKey([1; 32])).contains(".."));
    }

    #[test]
    fn public_key_shape_follows_the_wgkex_pattern() {
        assert!(is_public_key(
            "o52Ge+Rpj4CUSitVag9mS7pSXUesNM0ESnvj/wwehkg="
        ));
        assert!(!is_public_key(
            "o52Ge+Rpj4CUSitVag9mS7pSXUesNM0ESnvj/wwehkh="
        ));
        assert!(!is_public_key(
            "o52Ge+Rpj4CUSitVag9mS7pSXUesNM0ESnvj/wwehkg"
        ));
        assert!(!is_public_key(
            "o52Ge+Rpj4CUSitVag9mS7pSXUesNM0ESnvj/wwe-kg="
        ));
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}
