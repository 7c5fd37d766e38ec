//! The remembered gateway: one small `key=value` file under `/var/run`
//! (resolved under the root), so a daemon restart while the broker is down
//! goes straight back to the gateway that still knows the key. Written
//! atomically; a file that does not parse is logged and ignored.

use std::io;
use std::path::PathBuf;

use log::warn;

use crate::config::uci::write_atomic;
use crate::endpoint::Endpoint;
use crate::engine::ports::Gateway;
use crate::engine::state::PeerSource;
use crate::quote::quote;
use crate::root::Root;

/// Below the root, like every path the daemon touches.
pub const LAST_GATEWAY: &str = "var/run/mesh-vpn-wg.gateway";

pub struct LastGatewayFile {
    path: PathBuf,
    /// What is on disk, so an unchanged gateway is not written again.
    written: Option<Gateway>,
}

impl LastGatewayFile {
    pub fn new(root: &Root) -> LastGatewayFile {
        LastGatewayFile {
            path: root.join(LAST_GATEWAY),
            written: None,
        }
    }

    pub fn recall(&mut self) -> Option<Gateway> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                warn!("ignoring the last gateway in {}: {e}", self.path.display());
                return None;
            }
        };
        match parse(&text) {
            Ok(gateway) => {
                self.written = Some(gateway.clone());
                Some(gateway)
            }
            Err(e) => {
                warn!("ignoring the last gateway in {}: {e}", self.path.display());
                None
            }
        }
    }

    pub fn remember(&mut self, gateway: &Gateway) {
        if self.written.as_ref() == Some(gateway) {
            return;
        }
        let dir = self.path.parent().unwrap_or(&self.path);
        let written = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                write_atomic(&self.path, render(gateway).as_bytes(), 0o644)
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => self.written = Some(gateway.clone()),
            Err(e) => warn!("could not remember the gateway {}: {e}", gateway.name),
        }
    }
}

fn render(gateway: &Gateway) -> String {
    format!(
        "source={}\nname={}\nendpoint={}\npublic_key={}\nlink_address={}\n",
        gateway.source.as_str(),
        gateway.name,
        gateway.endpoint,
        gateway.public_key,
        gateway.link_address
    )
}

fn parse(text: &str) -> Result<Gateway, String> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("no {name}= line"))
    };
    let source = match field("source")? {
        "broker" => PeerSource::Broker,
        "site" => PeerSource::Site,
        other => {
            return Err(format!(
                "source {} is neither broker nor site",
                quote(other)
            ));
        }
    };
    let link_address = field("link_address")?;
    let public_key = field("public_key")?;
    if !crate::identity::is_public_key(public_key) {
        return Err(format!(
            "public_key {} is no WireGuard key",
            quote(public_key)
        ));
    }
    Ok(Gateway {
        source,
        name: field("name")?.to_string(),
        endpoint: Endpoint::parse(field("endpoint")?)?,
        public_key: public_key.to_string(),
        link_address: link_address
            .parse()
            .map_err(|_| format!("link_address {} is no IPv6 address", quote(link_address)))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway() -> Gateway {
        Gateway {
            source: PeerSource::Broker,
            name: "gw1.example.net".into(),
            endpoint: Endpoint::parse("[2001:db8::11]:51820").unwrap(),
            public_key: "pIJn6tnpKmRlb5dXvhmMaJD/3whVixYTeaJJUaTeFRQ=".into(),
            link_address: "fe80::281:c1ff:fe31:c5b".parse().unwrap(),
        }
    }

    #[test]
    fn a_remembered_gateway_survives_a_restart_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        LastGatewayFile::new(&root).remember(&gateway());
        let text = std::fs::read_to_string(dir.path().join(LAST_GATEWAY)).unwrap();
        assert!(text.contains("endpoint=[2001:db8::11]:51820\n"), "{text}");
        assert_eq!(LastGatewayFile::new(&root).recall(), Some(gateway()));
    }

    #[test]
    fn nothing_remembered_and_a_corrupt_file_both_give_none() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        assert_eq!(LastGatewayFile::new(&root).recall(), None);
        let path = dir.path().join(LAST_GATEWAY);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let good = render(&gateway());
        for bad in [
            "\u{0}\u{ff}garbage".to_string(),
            good.replace("[2001:db8::11]:51820", "2001:db8::11"),
            good.replace("pIJn6tnpKmRlb5dXvhmMaJD/3whVixYTeaJJUaTeFRQ=", "short"),
            good.replace("source=broker", "source=cache"),
            good.replace(
                "link_address=fe80::281:c1ff:fe31:c5b",
                "link_address=10.0.0.1",
            ),
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(LastGatewayFile::new(&root).recall(), None, "{bad}");
        }
    }
}
