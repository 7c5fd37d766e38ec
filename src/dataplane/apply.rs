//! Desired state in, host state out: each step looks first and changes only
//! what differs, so `apply` is idempotent and repairs partial state.

use std::net::Ipv6Addr;

use super::batman::{self, BatmanOutcome};
use super::batman_neighbors::{self, BatmanNeighbor};
use super::firewall::FirewallState;
use super::links::{
    ensure_mtu, ensure_only_link_local, ensure_up, ensure_vxlan, read_created, remove_vxlan,
    rtnl_error,
};
use super::rtnl::{LinkState, Rtnl};
use super::wireguard::{CounterReader, DeviceConfig, DeviceState, PeerConfig, key_from_base64};
use super::{DataPlane, LinkSpec};
use crate::error::{Error, Result};
use crate::link::PERSISTENT_KEEPALIVE_SECS;

/// What `apply` had to change; empty when the host already matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub changes: Vec<String>,
    pub batman: Option<BatmanOutcome>,
    /// The firewall rule's state, or the failing tool's message: a health
    /// layer, so a failure here never fails `apply`.
    pub firewall: Option<std::result::Result<FirewallState, String>>,
}

/// The data plane as the kernel reports it.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    pub wireguard: Option<LinkState>,
    pub vxlan: Option<LinkState>,
    pub wg_addresses: Vec<(Ipv6Addr, u8)>,
    pub device: Option<DeviceState>,
}

impl DataPlane {
    pub fn apply(&mut self, spec: &LinkSpec) -> Result<ApplyReport> {
        let mut report = ApplyReport::default();
        let mut rtnl = Rtnl::open().map_err(rtnl_error(
            "open rtnetlink",
            &spec.wg_interface,
            "NETLINK_ROUTE",
        ))?;
        let wg = self.ensure_wireguard_link(&mut rtnl, spec, &mut report)?;
        self.ensure_wireguard_config(spec, &mut report)?;
        ensure_mtu(&mut rtnl, &wg, spec.wg_mtu(), &mut report)?;
        ensure_only_link_local(&mut rtnl, &wg, spec.node_link_local(), &mut report)?;
        ensure_up(&mut rtnl, &wg, &mut report)?;
        let vxlan = ensure_vxlan(&mut rtnl, spec, wg.index, &mut report)?;
        let firewall = self.firewall.ensure(&spec.wg_interface, wg.index);
        if let Ok(FirewallState::Open { inserted: true, .. }) = firewall {
            report
                .changes
                .push(format!("inserted firewall rule on {}", spec.wg_interface));
        }
        report.firewall = Some(firewall);
        report.batman = self.ensure_batman(&vxlan)?;
        Ok(report)
    }

    /// Removes VXLAN, WireGuard interface (and process) and firewall rule;
    /// each step is tried whatever the others did, and every failure is in
    /// the error.
    pub fn teardown(&mut self, wg_interface: &str, vxlan_interface: &str) -> Result<()> {
        self.batman_done = None;
        let mut failures = Vec::new();
        match Rtnl::open() {
            Ok(mut rtnl) => {
                if let Err(e) = remove_vxlan(&mut rtnl, vxlan_interface) {
                    failures.push(e.to_string());
                }
            }
            Err(e) => failures.push(format!("open rtnetlink: {e}")),
        }
        if let Err(e) = self.wireguard.delete(wg_interface) {
            failures.push(e.to_string());
        }
        if let Err(e) = self.firewall.remove(wg_interface) {
            failures.push(format!("removing the firewall rule: {e}"));
        }
        if failures.is_empty() {
            return Ok(());
        }
        let source = std::io::Error::other(failures.join("; "));
        Err(Error::dataplane(
            "tear down",
            wg_interface,
            vxlan_interface,
            source,
        ))
    }

    /// What batman-adv hears on the VXLAN, for the health check.
    pub fn batman_neighbor(&mut self, vxlan_interface: &str) -> Result<BatmanNeighbor> {
        let mut rtnl = Rtnl::open().map_err(rtnl_error(
            "open rtnetlink",
            vxlan_interface,
            "NETLINK_ROUTE",
        ))?;
        let vxlan = rtnl.link(vxlan_interface).map_err(rtnl_error(
            "read link",
            vxlan_interface,
            "state",
        ))?;
        match vxlan {
            Some(link) => batman_neighbors::neighbor(&link.name, link.index, link.master),
            None => Ok(BatmanNeighbor::NotAHardInterface),
        }
    }

    /// A reader of the gateway peer's counters and handshake for the
    /// once-a-second liveness sample: its own netlink socket or UAPI
    /// connection, kept open, and no allocation per read.
    pub fn counter_reader(&self, wg_interface: &str) -> CounterReader {
        self.wireguard.counter_reader(wg_interface)
    }

    pub fn inspect(&mut self, wg_interface: &str, vxlan_interface: &str) -> Result<Inspection> {
        let mut rtnl =
            Rtnl::open().map_err(rtnl_error("open rtnetlink", wg_interface, "NETLINK_ROUTE"))?;
        let wireguard =
            rtnl.link(wg_interface)
                .map_err(rtnl_error("read link", wg_interface, "state"))?;
        let vxlan = rtnl.link(vxlan_interface).map_err(rtnl_error(
            "read link",
            vxlan_interface,
            "state",
        ))?;
        let mut inspection = Inspection {
            wireguard,
            vxlan,
            ..Inspection::default()
        };
        if let Some(link) = &inspection.wireguard {
            inspection.wg_addresses = rtnl.ipv6_addresses(link.index).map_err(rtnl_error(
                "read addresses",
                wg_interface,
                "ipv6",
            ))?;
            inspection.device = Some(self.wireguard.device(wg_interface)?);
        }
        Ok(inspection)
    }

    /// The WireGuard link, created (after removing stale remains) if it is
    /// missing or its wireguard-go is gone.
    fn ensure_wireguard_link(
        &mut self,
        rtnl: &mut Rtnl,
        spec: &LinkSpec,
        report: &mut ApplyReport,
    ) -> Result<LinkState> {
        let name = &spec.wg_interface;
        let existing = rtnl
            .link(name)
            .map_err(rtnl_error("read link", name, "state"))?;
        let kind = self.wireguard.link_kind();
        if let Some(link) = existing.filter(|link| link.kind.as_deref() == Some(kind)) {
            if self.wireguard.is_alive(name) {
                return Ok(link);
            }
        }
        remove_vxlan(rtnl, &spec.vxlan_interface)?;
        self.wireguard.delete(name)?;
        self.wireguard.create(name)?;
        report.changes.push(format!("created {name}"));
        read_created(rtnl, name)
    }

    fn ensure_wireguard_config(&mut self, spec: &LinkSpec, report: &mut ApplyReport) -> Result<()> {
        let config = device_config(spec)?;
        let current = self.wireguard.device(&spec.wg_interface)?;
        if !config.is_applied(&current) {
            self.wireguard.configure(&spec.wg_interface, &config)?;
            report.changes.push(format!(
                "configured {} peer {}",
                spec.wg_interface, spec.gateway.endpoint
            ));
        }
        Ok(())
    }

    fn ensure_batman(&mut self, vxlan: &LinkState) -> Result<Option<BatmanOutcome>> {
        let done = vxlan.master.map(|master| (vxlan.index, master));
        if done.is_some() && done == self.batman_done {
            return Ok(None);
        }
        let outcome = batman::set_throughput_override(&vxlan.name, vxlan.index, vxlan.master)?;
        if outcome == BatmanOutcome::Set {
            self.batman_done = done;
        }
        Ok(Some(outcome))
    }
}

fn device_config(spec: &LinkSpec) -> Result<DeviceConfig> {
    let invalid = |what: &str| {
        let source = std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a WireGuard key: {what}"),
        );
        Error::dataplane(
            "configure wireguard",
            &spec.wg_interface,
            what.to_string(),
            source,
        )
    };
    let private_key =
        key_from_base64(&spec.private_key.to_base64()).ok_or_else(|| invalid("private key"))?;
    let public_key = key_from_base64(&spec.gateway.public_key)
        .ok_or_else(|| invalid(&spec.gateway.public_key))?;
    Ok(DeviceConfig {
        private_key,
        fwmark: spec.fwmark,
        peer: PeerConfig {
            public_key,
            endpoint: spec.gateway.endpoint,
            allowed_ip: spec.gateway.link_address,
            persistent_keepalive: PERSISTENT_KEEPALIVE_SECS,
        },
    })
}
