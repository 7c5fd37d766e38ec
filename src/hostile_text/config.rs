//! site.json and UCI values, as an admin's typo or a broken firmware build
//! could leave them.

use std::path::Path;

use serde_json::{Value, json};

use super::{Checked, texts, values};
use crate::config::NodeConfig;
use crate::config::site::Site;
use crate::config::uci::UciFile;
use crate::root::{self, Root};

fn site_json() -> Value {
    json!({
        "domain_seed": "4d3c2b1a".repeat(8),
        "mesh_vpn": {"wireguard": {
            "iface": "wg_mesh_vpn",
            "mtu": 1406,
            "broker": "broker.ffmuc.net",
            "loadbalancing": "on-by-default",
            "peers": [{
                "publickey": "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=",
                "endpoint": "gw1.example.net:40011",
                "link_address": "fe80::1",
            }],
        }},
    })
}

const SITE_FIELDS: [&str; 7] = [
    "/domain_seed",
    "/mesh_vpn/wireguard/iface",
    "/mesh_vpn/wireguard/mtu",
    "/mesh_vpn/wireguard/loadbalancing",
    "/mesh_vpn/wireguard/peers/0/publickey",
    "/mesh_vpn/wireguard/peers/0/endpoint",
    "/mesh_vpn/wireguard/peers/0/link_address",
];

fn write(path: &Path, text: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn site_json_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Root::new(dir.path());
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        for field in SITE_FIELDS {
            let mut site = site_json();
            *site.pointer_mut(field).expect("field") = json!(text);
            write(&root.join(root::SITE_JSON), site.to_string().as_bytes());
            if let Err(e) = Site::load(&root, None) {
                checked.message(&e.to_string(), raw);
            }
        }
    }
    // A multi-domain site and a configured domain that names no file.
    std::fs::create_dir_all(root.join(root::DOMAINS_DIR)).expect("mkdir");
    for (raw, text) in values().iter().zip(texts()) {
        let e = Site::load(&root, Some(&text)).expect_err("no such domain");
        checked.message(&e.to_string(), raw);
    }
    checked.at_least(values().len() * 6);
}

/// `value` as one UCI word: single quotes, a `'` as `'\''`.
fn word(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[test]
fn uci_words() {
    let file = Path::new("/etc/config/wireguard");
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        let w = word(&text);
        for uci in [
            format!("config {w} 'x'\n"),
            format!("config wireguard {w}\n"),
            format!("config wireguard 'x'\n\toption {w} '1'\n"),
            format!("{w} 'x'\n"),
            format!("option {w} '1'\n"),
        ] {
            if let Err(e) = UciFile::parse(&uci, file) {
                checked.message(&e.to_string(), raw);
            }
        }
        let mut edited = UciFile::empty(file);
        if let Err(e) = edited.set(&text, "wireguard", "x", "1") {
            checked.message(&e.to_string(), raw);
        }
    }
    checked.at_least(values().len() * 4);
}

#[test]
fn uci_values_the_daemon_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Root::new(dir.path());
    write(
        &root.join(root::SITE_JSON),
        site_json().to_string().as_bytes(),
    );
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        let w = word(&text);
        let uci = format!(
            "config wireguard 'mesh_vpn'\n\toption enabled {w}\n\toption probe_interval {w}\n"
        );
        write(&root.uci("wireguard"), uci.as_bytes());
        match NodeConfig::load(&root) {
            Err(e) => checked.message(&e.to_string(), raw),
            Ok(config) => {
                if let Some(note) = config.enabled_note {
                    checked.message(&note, raw);
                }
            }
        }
    }
    // Only the value "1" is fine as both options.
    checked.at_least(values().len() - 1);
}
