//! The node's identification headers (`get-wget-infos.lua`): a User-Agent and
//! six `X-*` headers. wgkex ignores them, but the FFMUC operators read them in
//! their proxy logs. A value we do not know is left out, never invented.

use serde_json::Value;

use crate::root::{self, Root};

/// The part of `ubus call system board` the headers use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    pub board_name: Option<String>,
    pub kernel: Option<String>,
    pub release_version: Option<String>,
    pub release_target: Option<String>,
}

impl Board {
    /// Reads the JSON reply of `ubus call system board`; fields that are
    /// missing or not strings stay `None`.
    pub fn from_json(text: &str) -> Result<Board, String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("'ubus call system board' reply is not JSON: {e}"))?;
        if !value.is_object() {
            return Err("'ubus call system board' reply is not a JSON object".into());
        }
        let text_at = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .and_then(clean)
        };
        Ok(Board {
            board_name: text_at("/board_name"),
            kernel: text_at("/kernel"),
            release_version: text_at("/release/version"),
            release_target: text_at("/release/target"),
        })
    }
}

/// Everything the headers are built from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeHeaders {
    pub gluon_version: Option<String>,
    pub firmware_release: Option<String>,
    pub board: Board,
}

impl NodeHeaders {
    /// From the text of `/lib/gluon/gluon-version`, of `/lib/gluon/release`
    /// and the board, each when known.
    pub fn new(gluon_version: Option<&str>, release: Option<&str>, board: Option<Board>) -> Self {
        NodeHeaders {
            gluon_version: gluon_version.and_then(clean),
            firmware_release: release.and_then(clean),
            board: board.unwrap_or_default(),
        }
    }

    /// Reads the two Gluon files below `root`; a missing file is a missing value.
    pub fn from_files(root: &Root, board: Option<Board>) -> Self {
        let read = |path| std::fs::read_to_string(root.join(path)).ok();
        NodeHeaders::new(
            read(root::GLUON_VERSION).as_deref(),
            read(root::FIRMWARE_RELEASE).as_deref(),
            board,
        )
    }

    /// The User-Agent: Gluon's format when every part is known, else ours.
    pub fn user_agent(&self) -> String {
        let b = &self.board;
        match (
            &self.gluon_version,
            &b.board_name,
            &b.release_version,
            &b.kernel,
            &b.release_target,
            &self.firmware_release,
        ) {
            (Some(gluon), Some(board), Some(openwrt), Some(kernel), Some(target), Some(fw)) => {
                format!(
                    "gluon/{gluon} ({board}) OpenWrt/{openwrt} (kernel/{kernel}; {target}) firmware/{fw}"
                )
            }
            _ => format!("mesh-vpn-wg/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The headers in the order of the reference list, known values only.
    pub fn to_lines(&self) -> Vec<(&'static str, String)> {
        let b = &self.board;
        let optional = [
            ("X-Gluon-Version", &self.gluon_version),
            ("X-Board-Name", &b.board_name),
            ("X-Openwrt-Version", &b.release_version),
            ("X-Kernel-Version", &b.kernel),
            ("X-Target-Name", &b.release_target),
            ("X-Firmware-Version", &self.firmware_release),
        ];
        let mut lines = vec![("User-Agent", self.user_agent())];
        lines.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| value.clone().map(|v| (name, v))),
        );
        lines
    }
}

/// Trimmed, non-empty and safe inside an HTTP header (no control characters).
fn clean(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let usable = !trimmed.is_empty() && !trimmed.chars().any(char::is_control);
    usable.then(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOARD: &str = r#"{"kernel":"5.10.206","hostname":"n","system":"x","model":"VMware",
        "board_name":"vmware-inc-vmware-virtual-platform",
        "release":{"distribution":"OpenWrt","version":"22.03-SNAPSHOT","target":"x86/64"}}"#;

    #[test]
    fn full_information_gives_gluons_user_agent() {
        let board = Board::from_json(BOARD).unwrap();
        let headers = NodeHeaders::new(Some("v2023.1.2+\n"), Some("v2024.3.1\n"), Some(board));
        assert_eq!(
            headers.user_agent(),
            "gluon/v2023.1.2+ (vmware-inc-vmware-virtual-platform) OpenWrt/22.03-SNAPSHOT \
             (kernel/5.10.206; x86/64) firmware/v2024.3.1"
        );
        let names: Vec<_> = headers.to_lines().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "User-Agent",
                "X-Gluon-Version",
                "X-Board-Name",
                "X-Openwrt-Version",
                "X-Kernel-Version",
                "X-Target-Name",
                "X-Firmware-Version"
            ]
        );
    }

    #[test]
    fn missing_parts_are_left_out_and_the_agent_is_ours() {
        let board = Board::from_json(r#"{"kernel":"6.6.1","release":{"target":7}}"#).unwrap();
        let headers = NodeHeaders::new(Some("  "), None, Some(board));
        let lines = headers.to_lines();
        assert_eq!(
            lines,
            vec![
                (
                    "User-Agent",
                    format!("mesh-vpn-wg/{}", env!("CARGO_PKG_VERSION"))
                ),
                ("X-Kernel-Version", "6.6.1".to_string()),
            ]
        );
    }

    #[test]
    fn values_that_would_break_the_request_are_dropped() {
        let headers = NodeHeaders::new(Some("v1\r\nEvil: 1"), None, None);
        assert_eq!(headers.gluon_version, None);
        assert!(Board::from_json("[1]").is_err());
        assert!(Board::from_json("nope").is_err());
    }
}
