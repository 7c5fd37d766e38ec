//! Making sure the node has a usable WireGuard private key in UCI. The key is
//! the node's identity at the gateways: it is generated only when UCI holds
//! none or holds something that is not a key, and it is written atomically
//! with mode 0600 so a failed write can never lose the old file.

use log::{info, warn};

use super::uci;
use super::{KeyState, SECTION};
use crate::error::{Error, Result};
use crate::identity::PrivateKey;
use crate::root::Root;

/// What `ensure_private_key` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provisioning {
    Kept,
    GeneratedMissing,
    ReplacedInvalid,
}

/// Key files are readable by root only.
pub const KEY_FILE_MODE: u32 = 0o600;

pub fn ensure_private_key(root: &Root) -> Result<(PrivateKey, Provisioning)> {
    let path = root.uci("wireguard");
    let (key, provisioning) = uci::update(&path, KEY_FILE_MODE, |file| {
        let state = match file.get(SECTION, "privatekey") {
            None | Some("") => KeyState::Missing,
            Some(text) => {
                PrivateKey::from_base64(text).map_or(KeyState::Invalid, KeyState::Present)
            }
        };
        let provisioning = match state {
            KeyState::Present(key) => return Ok((key, Provisioning::Kept)),
            KeyState::Missing => Provisioning::GeneratedMissing,
            KeyState::Invalid => Provisioning::ReplacedInvalid,
        };
        let key = PrivateKey::generate().map_err(|e| {
            Error::io(
                "generating a private key for",
                &path,
                std::io::Error::other(e.to_string()),
            )
        })?;
        file.set(SECTION, "wireguard", "privatekey", &key.to_base64())?;
        Ok((key, provisioning))
    })?;
    match provisioning {
        Provisioning::Kept => {}
        Provisioning::GeneratedMissing => info!(
            "generated a new WireGuard key, public key {}",
            key.public_key()
        ),
        Provisioning::ReplacedInvalid => warn!(
            "wireguard.mesh_vpn.privatekey was not a WireGuard key; replaced it, new public key {}",
            key.public_key()
        ),
    }
    Ok((key, provisioning))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const OTHER: &str = "\nconfig peer 'peer_1'\n\toption endpoint 'gw1.example.net:40011'\n\toption preserve '1'\n\n";

    fn tree(wireguard: Option<&str>) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/config")).unwrap();
        if let Some(text) = wireguard {
            std::fs::write(dir.path().join("etc/config/wireguard"), text).unwrap();
        }
        let root = Root::new(dir.path());
        (dir, root)
    }

    fn read(root: &Root) -> String {
        std::fs::read_to_string(root.uci("wireguard")).unwrap()
    }

    #[test]
    fn a_missing_key_is_generated_stored_0600_and_kept_afterwards() {
        let text = format!("\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n{OTHER}");
        let (_dir, root) = tree(Some(&text));
        let (key, what) = ensure_private_key(&root).unwrap();
        assert_eq!(what, Provisioning::GeneratedMissing);
        let stored = read(&root);
        let expected = format!(
            "\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\toption privatekey '{}'\n{OTHER}",
            key.to_base64()
        );
        assert_eq!(stored, expected, "every other line is kept");
        let mode = std::fs::metadata(root.uci("wireguard"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let (again, what) = ensure_private_key(&root).unwrap();
        assert_eq!(
            (again, what),
            (key, Provisioning::Kept),
            "never regenerated"
        );
        assert_eq!(read(&root), stored);
    }

    #[test]
    fn an_absent_file_gets_the_section_and_key() {
        let (_dir, root) = tree(None);
        let (key, what) = ensure_private_key(&root).unwrap();
        assert_eq!(what, Provisioning::GeneratedMissing);
        assert!(read(&root).contains(&format!(
            "config wireguard 'mesh_vpn'\n\toption privatekey '{}'",
            key.to_base64()
        )));
    }

    #[test]
    fn an_invalid_key_is_replaced() {
        let (_dir, root) = tree(Some(
            "\nconfig wireguard 'mesh_vpn'\n\toption privatekey 'garbage'\n\n",
        ));
        let (key, what) = ensure_private_key(&root).unwrap();
        assert_eq!(what, Provisioning::ReplacedInvalid);
        assert!(read(&root).contains(&key.to_base64()));
        assert!(!read(&root).contains("garbage"));
    }

    #[test]
    fn an_unparsable_file_is_an_error_and_left_alone() {
        let broken = "\nconfig wireguard 'mesh_vpn'\n\toption privatekey 'unterminated\n";
        let (_dir, root) = tree(Some(broken));
        let err = ensure_private_key(&root).unwrap_err().to_string();
        assert!(err.contains("etc/config/wireguard:3"), "{err}");
        assert_eq!(read(&root), broken);
    }

    #[test]
    fn a_wireguard_path_that_is_no_file_is_an_error_and_nothing_is_lost() {
        // (Failing atomic writes themselves are covered in config::uci::atomic.)
        let (_dir, root) = tree(None);
        std::fs::create_dir(root.uci("wireguard")).unwrap();
        std::fs::write(root.uci("wireguard").join("keep"), "x").unwrap();
        assert!(ensure_private_key(&root).is_err());
        assert_eq!(
            std::fs::read_to_string(root.uci("wireguard").join("keep")).unwrap(),
            "x"
        );
    }
}
