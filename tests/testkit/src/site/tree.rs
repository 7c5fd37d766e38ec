//! The node's files under `--root`: a single-domain site whose broker and
//! peers are the namespace site's, and UCI with the node's key.

use std::io;
use std::path::Path;

use serde_json::{Value, json};

use crate::netns::gateway::{GATEWAY_PORT, Gateway};

pub const DOMAIN_SEED: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The primary domain code, as the broker knows it.
pub const DOMAIN: &str = "ffmuc_demo";
/// wgkex accepts a domain only with one of its configured prefixes.
pub const DOMAIN_PREFIX: &str = "ffmuc_";

/// What varies between sites.
pub struct NodeFiles<'a> {
    pub iface: &'a str,
    pub broker_url: &'a str,
    pub ntp_server: &'a str,
    pub loadbalancing: bool,
    pub loadbalancing_by_default: bool,
    pub private_key: &'a str,
    pub probe_interval_secs: u32,
    pub failures_before_reconnect: u32,
    pub registration_window_secs: Option<u32>,
}

pub fn write(root: &Path, files: &NodeFiles<'_>, gateways: &[Gateway]) -> io::Result<()> {
    write_file(
        root,
        "lib/gluon/site.json",
        &site(files, gateways).to_string(),
    )?;
    let core = format!("\nconfig core 'core'\n\toption domain '{DOMAIN}'\n\n");
    write_file(root, "etc/config/gluon", &core)?;
    let registration = files
        .registration_window_secs
        .map(|secs| format!("\toption registration_window '{secs}'\n"))
        .unwrap_or_default();
    let wireguard = format!(
        "\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\toption privatekey '{}'\n\
         \toption probe_interval '{}'\n\toption failures_before_reconnect '{}'\n{registration}\n",
        files.private_key, files.probe_interval_secs, files.failures_before_reconnect
    );
    write_file(root, "etc/config/wireguard", &wireguard)
}

fn site(files: &NodeFiles<'_>, gateways: &[Gateway]) -> Value {
    let peers: Vec<Value> = gateways
        .iter()
        .map(|gw| {
            // The daemon names them peer_1, peer_2, … in this order.
            json!({
                "publickey": gw.public_key(),
                "endpoint": format!("[{}]:{GATEWAY_PORT}", gw.underlay()),
                "link_address": gw.link_address().to_string(),
            })
        })
        .collect();
    let mode = match (files.loadbalancing, files.loadbalancing_by_default) {
        (true, false) => "on",
        (false, false) => "off",
        (true, true) => "on-by-default",
        (false, true) => "off-by-default",
    };
    json!({
        "domain_seed": DOMAIN_SEED,
        "ntp_servers": [files.ntp_server],
        "mesh_vpn": {"wireguard": {
            "iface": files.iface,
            "mtu": 1406,
            "broker": files.broker_url,
            "loadbalancing": mode,
            "peers": peers,
        }},
    })
}

fn write_file(root: &Path, rel: &str, contents: &str) -> io::Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)
}
