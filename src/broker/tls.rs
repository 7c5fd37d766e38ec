//! Which certificate authorities the broker's certificate is checked against.
//! OpenWrt's `ca-bundle` when the image has it (it tracks Mozilla's list with
//! each firmware update); the roots compiled in otherwise; tests bring their own.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::error::BrokerError;
use crate::endpoint::Host;
use crate::root::{self, Root};

#[derive(Debug, Clone)]
pub enum TlsRoots {
    /// A PEM bundle if it exists and holds at least one usable certificate,
    /// else the bundled Mozilla roots (webpki-roots).
    System { bundle: PathBuf },
    /// Only the bundled Mozilla roots.
    Bundled,
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

    fn store(&self) -> RootCertStore {
        match self {
            TlsRoots::System { bundle } => match read_bundle(bundle) {
                Some(store) => store,
                None => bundled(),
            },
            TlsRoots::Bundled => bundled(),
            TlsRoots::Custom(certs) => {
                let mut store = RootCertStore::empty();
                store.add_parsable_certificates(certs.iter().cloned());
                store
            }
        }
    }

    /// Built for each exchange, on purpose: exchanges come only with a
    /// reconnect, and a cached store would keep every parsed root resident on
    /// routers that have a few MB of RAM to spare.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, BrokerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| BrokerError::TlsSetup(e.to_string()))?
            .with_root_certificates(self.store())
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

impl Default for TlsRoots {
    fn default() -> Self {
        TlsRoots::system(&Root::default())
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

fn bundled() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
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
    fn missing_or_empty_bundle_falls_back_to_bundled_roots() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsRoots::system(&Root::new(dir.path()));
        assert_eq!(missing.store().len(), webpki_roots::TLS_SERVER_ROOTS.len());
        let bundle = dir.path().join("empty.pem");
        std::fs::write(&bundle, "no certificates here\n").unwrap();
        let empty = TlsRoots::System { bundle };
        assert_eq!(empty.store().len(), webpki_roots::TLS_SERVER_ROOTS.len());
        assert_eq!(TlsRoots::Custom(Vec::new()).store().len(), 0);
    }

    #[test]
    fn ip_literals_and_names_are_server_names() {
        let ip = server_name(&Host::parse("::1").unwrap()).unwrap();
        assert!(matches!(ip, ServerName::IpAddress(_)));
        let name = server_name(&Host::parse("broker.ffmuc.net").unwrap()).unwrap();
        assert_eq!(name.to_str(), "broker.ffmuc.net");
    }
}
