//! Which certificate authorities the broker's certificate is checked against.
//! OpenWrt's `ca-bundle` (it tracks Mozilla's list with each firmware
//! update); tests bring their own. No roots are compiled in: they cost
//! about 60 KiB of flash on every node, also on sites whose broker speaks
//! plain HTTP, and the image's bundle is the one that gets updated.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, KeyProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::SigningKey;
use rustls::{ClientConfig, RootCertStore};

use super::error::BrokerError;
use crate::endpoint::Host;
use crate::root::{self, Root};

#[derive(Debug, Clone)]
pub enum TlsRoots {
    /// A PEM bundle, which must hold at least one usable certificate.
    System { bundle: PathBuf },
    /// Exactly these DER certificates (tests, or a site pinning its own CA).
    Custom(Vec<CertificateDer<'static>>),
}

impl TlsRoots {
    /// `/etc/ssl/certs/ca-certificates.crt` below `root`.
    pub fn system(root: &Root) -> Self {
        TlsRoots::System {
            bundle: root.join(root::CA_BUNDLE),
        }
    }

    fn store(&self) -> Result<RootCertStore, BrokerError> {
        match self {
            TlsRoots::System { bundle } => read_bundle(bundle).ok_or_else(|| {
                BrokerError::TlsSetup(format!(
                    "no usable CA certificate in {}: an https broker needs OpenWrt's \
                     ca-bundle package in the image",
                    bundle.display()
                ))
            }),
            TlsRoots::Custom(certs) => {
                let mut store = RootCertStore::empty();
                store.add_parsable_certificates(certs.iter().cloned());
                Ok(store)
            }
        }
    }

    /// One line for `explain`: how many roots the broker's certificate
    /// would be checked against, or why the exchange would fail.
    pub fn describe(&self) -> String {
        match self.store() {
            Ok(store) => format!("{} certificates", store.len()),
            Err(e) => e.to_string(),
        }
    }

    /// Built for each exchange, on purpose: exchanges come only with a
    /// reconnect, and a cached store would keep every parsed root resident on
    /// routers that have a few MB of RAM to spare.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, BrokerError> {
        let config = ClientConfig::builder_with_provider(Arc::new(provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| BrokerError::TlsSetup(e.to_string()))?
            .with_root_certificates(self.store()?)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

impl Default for TlsRoots {
    fn default() -> Self {
        TlsRoots::system(&Root::default())
    }
}

/// What a node needs to check one broker, and no more, since each piece is
/// flash on every router: TLS 1.3 with its mandatory cipher suite
/// (RFC 8446 §9.1: TLS_AES_128_GCM_SHA256; secp256r1 mandatory, X25519
/// recommended), every signature algorithm a certificate chain may use, and
/// no private-key loading (a node presents no client certificate).
fn provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![ring::cipher_suite::TLS13_AES_128_GCM_SHA256],
        kx_groups: vec![ring::kx_group::X25519, ring::kx_group::SECP256R1],
        key_provider: &NoClientKeys,
        ..ring::default_provider()
    }
}

#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "mesh-vpn-wg presents no client certificate".into(),
        ))
    }
}

/// The name the certificate must carry: the host name, or the IP literal.
pub(crate) fn server_name(host: &Host) -> Result<ServerName<'static>, BrokerError> {
    match host {
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
        Host::Name(name) => ServerName::try_from(name.clone()).map_err(|e| {
            BrokerError::Url(format!(
                "{} cannot be checked against a certificate: {e}",
                crate::quote::quote(name)
            ))
        }),
    }
}

fn read_bundle(path: &PathBuf) -> Option<RootCertStore> {
    let certs = CertificateDer::pem_file_iter(path).ok()?;
    let mut store = RootCertStore::empty();
    let (added, skipped) = store.add_parsable_certificates(certs.filter_map(Result::ok));
    if skipped > 0 {
        log::debug!(
            "{}: skipped {skipped} unusable certificates",
            path.display()
        );
    }
    (added > 0).then_some(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_bundle_is_an_error_that_names_the_file_and_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsRoots::system(&Root::new(dir.path()));
        let empty_bundle = dir.path().join("empty.pem");
        std::fs::write(&empty_bundle, "no certificates here\n").unwrap();
        let empty = TlsRoots::System {
            bundle: empty_bundle,
        };
        for roots in [missing, empty] {
            let err = roots.client_config().expect_err("no roots").to_string();
            assert!(err.contains("ca-bundle"), "{err}");
            assert!(err.contains(&dir.path().display().to_string()), "{err}");
        }
        assert_eq!(TlsRoots::Custom(Vec::new()).store().unwrap().len(), 0);
    }

    #[test]
    fn ip_literals_and_names_are_server_names() {
        let ip = server_name(&Host::parse("::1").unwrap()).unwrap();
        assert!(matches!(ip, ServerName::IpAddress(_)));
        let name = server_name(&Host::parse("broker.ffmuc.net").unwrap()).unwrap();
        assert_eq!(name.to_str(), "broker.ffmuc.net");
    }
}
