//! Every file the program touches lives under one root directory (`--root`,
//! default `/`), so tests, the demo and an admin debugging a copied config
//! tree never need a real router.

use std::path::{Path, PathBuf};

/// Gluon's and OpenWrt's well-known paths, relative to the root.
pub const SITE_JSON: &str = "lib/gluon/site.json";
pub const DOMAINS_DIR: &str = "lib/gluon/domains";
pub const GLUON_VERSION: &str = "lib/gluon/gluon-version";
pub const FIRMWARE_RELEASE: &str = "lib/gluon/release";
pub const UCI_DIR: &str = "etc/config";
pub const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root(PathBuf);

impl Root {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root(dir.into())
    }

    /// `path` below the root; a leading `/` is ignored so absolute router
    /// paths can be written as they appear on the node.
    pub fn join(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = path.as_ref();
        self.0.join(path.strip_prefix("/").unwrap_or(path))
    }

    /// The UCI file of `config` (e.g. `wireguard` → `<root>/etc/config/wireguard`).
    pub fn uci(&self, config: &str) -> PathBuf {
        self.join(UCI_DIR).join(config)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }
}

impl Default for Root {
    fn default() -> Self {
        Root::new("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_router_paths_stay_below_the_root() {
        let root = Root::new("/tmp/tree");
        assert_eq!(
            root.join("/lib/gluon/site.json"),
            PathBuf::from("/tmp/tree/lib/gluon/site.json")
        );
        assert_eq!(
            root.join(SITE_JSON),
            PathBuf::from("/tmp/tree/lib/gluon/site.json")
        );
        assert_eq!(
            root.uci("wireguard"),
            PathBuf::from("/tmp/tree/etc/config/wireguard")
        );
        assert_eq!(
            Root::default().uci("gluon"),
            PathBuf::from("/etc/config/gluon")
        );
    }
}
