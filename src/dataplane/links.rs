//! Link-level steps of `apply`: each looks at the kernel's state first and
//! changes only what differs, recording the change in the report.

use std::net::Ipv6Addr;

use super::ApplyReport;
use super::LinkSpec;
use super::rtnl::{LinkState, Rtnl};
use super::vxlan::VxlanSpec;
use crate::error::{Error, Result};

/// Wraps an `io::Error` with the operation, interface and value it was about.
pub(super) fn rtnl_error(
    operation: &'static str,
    interface: &str,
    value: impl Into<String>,
) -> impl FnOnce(std::io::Error) -> Error {
    let interface = interface.to_string();
    let value = value.into();
    move |source| Error::dataplane(operation, &interface, value, source)
}

pub(super) fn ensure_mtu(
    rtnl: &mut Rtnl,
    link: &LinkState,
    mtu: u32,
    report: &mut ApplyReport,
) -> Result<()> {
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

pub(super) fn ensure_up(rtnl: &mut Rtnl, link: &LinkState, report: &mut ApplyReport) -> Result<()> {
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
pub(super) fn ensure_only_link_local(
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

pub(super) fn ensure_vxlan(
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
            read_created(rtnl, name)?
        }
    };
    ensure_mtu(rtnl, &link, wanted.mtu, report)?;
    ensure_up(rtnl, &link, report)?;
    Ok(link)
}

/// Detaches `name` from its master (bat0) first, as checkuplink did, then
/// deletes it. A missing link is fine.
pub(super) fn remove_vxlan(rtnl: &mut Rtnl, name: &str) -> Result<()> {
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

/// The link just created, as the kernel reports it; its absence is an error.
pub(super) fn read_created(rtnl: &mut Rtnl, name: &str) -> Result<LinkState> {
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
