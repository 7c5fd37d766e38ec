//! Desired state in, host state out: each step looks first and changes only
//! what differs, so `apply` is idempotent and repairs partial state.

use std::net::Ipv6Addr;

use super::batman::{self, BatmanOutcome};
use super::rtnl::{LinkState, Rtnl};
use super::vxlan::VxlanSpec;
use super::wireguard::{DeviceConfig, DeviceState, PeerConfig, key_from_base64};
use super::{DataPlane, LinkSpec};
use crate::error::{Error, Result};
use crate::link::PERSISTENT_KEEPALIVE_SECS;

/// What `apply` had to change; empty when the host already matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub changes: Vec<String>,
    pub batman: Option<BatmanOutcome>,
}

/// The data plane as the kernel reports it.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    pub wireguard: Option<LinkState>,
    pub vxlan: Option<LinkState>,
    pub wg_addresses: Vec<(Ipv6Addr, u8)>,
    pub device: Option<DeviceState>,
}

fn rtnl_error(
    operation: &'static str,
    interface: &str,
    value: impl Into<String>,
) -> impl FnOnce(std::io::Error) -> Error {
    let interface = interface.to_string();
    let value = value.into();
    move |source| Error::dataplane(operation, &interface, value, source)
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
        if self.firewall_verified != Some(wg.index) {
            if self.firewall.ensure(&spec.wg_interface)? {
                report
                    .changes
                    .push(format!("inserted firewall rule on {}", spec.wg_interface));
            }
            self.firewall_verified = Some(wg.index);
        }
        report.batman = self.ensure_batman(&vxlan)?;
        Ok(report)
    }

    /// Re-verifies the firewall rule (firewall reloads drop it); returns
    /// whether it had to be inserted again. For the health loop.
    pub fn check_firewall(&mut self, wg_interface: &str) -> Result<bool> {
        self.firewall.ensure(wg_interface)
    }

    /// Removes VXLAN, WireGuard interface (and process) and firewall rule.
    pub fn teardown(&mut self, wg_interface: &str, vxlan_interface: &str) -> Result<()> {
        let mut rtnl =
            Rtnl::open().map_err(rtnl_error("open rtnetlink", wg_interface, "NETLINK_ROUTE"))?;
        remove_vxlan(&mut rtnl, vxlan_interface)?;
        self.wireguard.delete(wg_interface)?;
        self.firewall.remove(wg_interface)?;
        self.firewall_verified = None;
        self.batman_done = None;
        Ok(())
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
        if existing.is_some() && self.wireguard.is_alive(name) {
            if let Some(link) = existing {
                return Ok(link);
            }
        }
        remove_vxlan(rtnl, &spec.vxlan_interface)?;
        self.wireguard.delete(name)?;
        self.wireguard.create(name)?;
        report.changes.push(format!("created {name}"));
        rtnl.link(name)
            .map_err(rtnl_error("read link", name, "state"))?
            .ok_or_else(|| {
                Error::dataplane(
                    "read link",
                    name,
                    "after create",
                    std::io::Error::from_raw_os_error(libc::ENODEV),
                )
            })
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

fn ensure_mtu(rtnl: &mut Rtnl, link: &LinkState, mtu: u32, report: &mut ApplyReport) -> Result<()> {
    if link.mtu != mtu {
        rtnl.set_mtu(link.index, mtu).map_err(rtnl_error(
            "set mtu",
            &link.name,
            mtu.to_string(),
        ))?;
        report.changes.push(format!("set {} mtu {mtu}", link.name));
    }
    Ok(())
}

fn ensure_up(rtnl: &mut Rtnl, link: &LinkState, report: &mut ApplyReport) -> Result<()> {
    if !link.up {
        rtnl.set_up(link.index)
            .map_err(rtnl_error("set link up", &link.name, "up"))?;
        report.changes.push(format!("set {} up", link.name));
    }
    Ok(())
}

/// The node's link address must be the only link-local address on the
/// WireGuard interface: the gateway accepts nothing else as source (its
/// allowed-ips is that /128), so a kernel-made one would break traffic.
fn ensure_only_link_local(
    rtnl: &mut Rtnl,
    link: &LinkState,
    address: Ipv6Addr,
    report: &mut ApplyReport,
) -> Result<()> {
    if link.generates_ipv6_link_local {
        rtnl.disable_ipv6_link_local(link.index)
            .map_err(rtnl_error("set addrgenmode", &link.name, "none"))?;
        report
            .changes
            .push(format!("set {} addrgenmode none", link.name));
    }
    let value = format!("{address}/64");
    let present = rtnl.ipv6_addresses(link.index).map_err(rtnl_error(
        "read addresses",
        &link.name,
        value.clone(),
    ))?;
    for (stray, prefix) in present
        .iter()
        .filter(|(ip, _)| ip.is_unicast_link_local() && *ip != address)
    {
        let stray_value = format!("{stray}/{prefix}");
        rtnl.delete_ipv6_address(link.index, *stray, *prefix)
            .map_err(rtnl_error(
                "delete address",
                &link.name,
                stray_value.clone(),
            ))?;
        report
            .changes
            .push(format!("removed {stray_value} from {}", link.name));
    }
    if !present.contains(&(address, 64)) {
        rtnl.add_ipv6_address(link.index, address, 64)
            .map_err(rtnl_error("add address", &link.name, value.clone()))?;
        report
            .changes
            .push(format!("added {value} to {}", link.name));
    }
    Ok(())
}

fn ensure_vxlan(
    rtnl: &mut Rtnl,
    spec: &LinkSpec,
    underlay: u32,
    report: &mut ApplyReport,
) -> Result<LinkState> {
    let wanted = VxlanSpec {
        name: spec.vxlan_interface.clone(),
        vni: spec.vni,
        local: spec.node_link_local(),
        remote: spec.gateway.link_address,
        port: spec.vxlan_port,
        underlay,
        mtu: u32::from(spec.site_mtu),
    };
    let name = &wanted.name;
    let mut existing = rtnl
        .link(name)
        .map_err(rtnl_error("read link", name, "state"))?;
    if existing
        .as_ref()
        .is_some_and(|link| !wanted.parameters_match(link))
    {
        remove_vxlan(rtnl, name)?;
        report.changes.push(format!("removed stale {name}"));
        existing = None;
    }
    let link = match existing {
        Some(link) => link,
        None => {
            rtnl.create(wanted.link_request()).map_err(rtnl_error(
                "create vxlan",
                name,
                wanted.describe(),
            ))?;
            report.changes.push(format!("created {name}"));
            rtnl.link(name)
                .map_err(rtnl_error("read link", name, "state"))?
                .ok_or_else(|| {
                    Error::dataplane(
                        "read link",
                        name,
                        "after create",
                        std::io::Error::from_raw_os_error(libc::ENODEV),
                    )
                })?
        }
    };
    ensure_mtu(rtnl, &link, wanted.mtu, report)?;
    ensure_up(rtnl, &link, report)?;
    Ok(link)
}

/// Detaches `name` from its master (bat0) first, as checkuplink did, then
/// deletes it. A missing link is fine.
fn remove_vxlan(rtnl: &mut Rtnl, name: &str) -> Result<()> {
    let Some(link) = rtnl
        .link(name)
        .map_err(rtnl_error("read link", name, "state"))?
    else {
        return Ok(());
    };
    if link.master.is_some() {
        rtnl.set_nomaster(link.index)
            .map_err(rtnl_error("set nomaster", name, "master 0"))?;
    }
    rtnl.delete_link(link.index)
        .map_err(rtnl_error("delete link", name, "vxlan"))
}
