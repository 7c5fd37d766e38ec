//! `mesh-vpn-wg explain`: what the daemon would do with this configuration,
//! computed from the files alone. It never writes, never opens a socket and
//! never prints the private key.

use std::fmt::Write as _;
use std::net::Ipv6Addr;

use serde::Serialize;

use crate::broker::{Api, BrokerUrl, TlsRoots};
use crate::config::{Domain, HealthTunables, KeyState, NodeConfig, SitePeer};
use crate::error::{Error, Result};
use crate::identity;
use crate::link;
use crate::loadbalancing::Decision;
use crate::quote::quote;
use crate::root::{self, Root};

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub enabled: bool,
    pub enabled_note: Option<String>,
    /// `present`, or what the daemon would do about the key.
    pub private_key: &'static str,
    pub public_key: Option<String>,
    pub link_local: Option<Ipv6Addr>,
    pub vni: u32,
    pub domain: Option<Domain>,
    pub loadbalancing: Loadbalancing,
    pub broker: Broker,
    pub peers: Vec<SitePeer>,
    pub mtu: Mtu,
    pub interfaces: Interfaces,
    pub vxlan_port: u16,
    pub ntp_servers: Vec<String>,
    pub health: HealthTunables,
}

#[derive(Debug, Serialize)]
pub struct Loadbalancing {
    #[serde(flatten)]
    pub decision: Decision,
    pub explanation: String,
}

#[derive(Debug, Serialize)]
pub struct Broker {
    pub site_value: String,
    pub v1_url: String,
    pub v2_url: String,
    /// The API the daemon calls first.
    pub first_api: &'static str,
    /// For an https broker: the CA bundle the certificate is checked against.
    pub ca_bundle: Option<String>,
    /// Connected without the broker: the key is registered again within this.
    pub registration_window_secs: u32,
}

#[derive(Debug, Serialize)]
pub struct Mtu {
    pub vxlan: u16,
    pub wireguard: u16,
}

#[derive(Debug, Serialize)]
pub struct Interfaces {
    pub wireguard: String,
    pub vxlan: &'static str,
}

pub fn explain(root: &Root) -> Result<Explanation> {
    let config = NodeConfig::load(root)?;
    let site = &config.site;
    let broker_url = BrokerUrl::parse(&site.broker).map_err(|problem| {
        Error::site(
            root.join(root::SITE_JSON),
            "mesh_vpn.wireguard.broker",
            problem,
        )
    })?;
    let public_key = config.public_key();
    Ok(Explanation {
        enabled: config.enabled,
        enabled_note: config.enabled_note.clone(),
        private_key: match config.key {
            KeyState::Present(_) => "present",
            KeyState::Missing => "missing: the daemon would generate one",
            KeyState::Invalid => "invalid: the daemon would replace it with a new one",
        },
        link_local: public_key.as_deref().map(identity::link_local),
        public_key,
        vni: identity::vni(&site.domain_seed),
        domain: site.domain.clone(),
        loadbalancing: Loadbalancing {
            decision: config.loadbalancing,
            explanation: config.loadbalancing.explain(),
        },
        broker: Broker {
            site_value: site.broker.clone(),
            v1_url: broker_url.endpoint(Api::V1),
            v2_url: broker_url.endpoint(Api::V2),
            first_api: if config.loadbalancing.effective {
                "v2"
            } else {
                "v1"
            },
            ca_bundle: broker_url.tls.then(|| TlsRoots::system(root).describe()),
            registration_window_secs: config.registration_window_secs,
        },
        peers: site.peers.clone(),
        mtu: Mtu {
            vxlan: site.mtu,
            wireguard: site.wireguard_mtu(),
        },
        interfaces: Interfaces {
            wireguard: site.iface.clone(),
            vxlan: link::VXLAN_IFACE,
        },
        vxlan_port: link::VXLAN_PORT,
        ntp_servers: config.ntp_servers,
        health: config.health,
    })
}

impl Explanation {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let none = || "(none: no valid private key yet)".to_string();
        let _ = writeln!(
            out,
            "mesh VPN        {}",
            if self.enabled { "enabled" } else { "disabled" }
        );
        if let Some(note) = &self.enabled_note {
            let _ = writeln!(out, "                ({note})");
        }
        if let Some(domain) = &self.domain {
            let alias = match domain.code == domain.configured {
                true => String::new(),
                false => format!(" (alias '{}')", domain.configured),
            };
            let _ = writeln!(out, "domain          {}{alias}", domain.code);
        }
        let _ = writeln!(out, "private key     {}", self.private_key);
        let _ = writeln!(
            out,
            "public key      {}",
            self.public_key.clone().unwrap_or_else(none)
        );
        let _ = writeln!(
            out,
            "link-local      {}",
            self.link_local.map(|a| a.to_string()).unwrap_or_else(none)
        );
        let _ = writeln!(
            out,
            "VXLAN           {} VNI {} port {}",
            self.interfaces.vxlan, self.vni, self.vxlan_port
        );
        let _ = writeln!(
            out,
            "interfaces      {} MTU {}, {} MTU {}",
            self.interfaces.wireguard, self.mtu.wireguard, self.interfaces.vxlan, self.mtu.vxlan
        );
        let _ = writeln!(out, "loadbalancing   {}", self.loadbalancing.explanation);
        let _ = writeln!(
            out,
            "broker          {} (first call: {})",
            quote(&self.broker.site_value),
            self.broker.first_api
        );
        let _ = writeln!(out, "  v1            {}", self.broker.v1_url);
        let _ = writeln!(out, "  v2            {}", self.broker.v2_url);
        if let Some(bundle) = &self.broker.ca_bundle {
            let _ = writeln!(out, "  CA bundle     {bundle}");
        }
        let window = self.broker.registration_window_secs;
        let _ = writeln!(
            out,
            "  retry         connected without it: register again within {window} s, then within {} s",
            u64::from(window) * 2
        );
        let _ = writeln!(out, "site peers      {}", self.peers.len());
        for peer in &self.peers {
            let _ = writeln!(
                out,
                "  {:<13} {} link {} key {}",
                peer.name, peer.endpoint, peer.link_address, peer.public_key
            );
        }
        let servers: Vec<_> = self.ntp_servers.iter().map(quote).collect();
        let _ = writeln!(out, "NTP servers     {}", servers.join(" "));
        let h = &self.health;
        let _ = writeln!(
            out,
            "liveness        probe after {} s without traffic; dead after {} unanswered probes",
            h.probe_after_silence_secs, h.failures_before_reconnect
        );
        let _ = writeln!(
            out,
            "health check    every {} s; reconnect after {} failed checks in a row",
            h.probe_interval_secs, h.failures_before_reconnect
        );
        out
    }
}
