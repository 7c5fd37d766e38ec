//! The data plane: WireGuard interface, node link-local address, VXLAN
//! `mesh-vpn`, the firewall rule and batman-adv's throughput override.
//!
//! [`DataPlane::apply`] takes a desired [`LinkSpec`] and makes the host match
//! it, repairing whatever is missing or wrong and leaving a working tunnel
//! alone; [`DataPlane::teardown`] removes all of it. Only netlink requests
//! and a local socket are used in steady state: a process is started only
//! for wireguard-go (once) and for firewall tools (on creation, and when the
//! host's firewall may have changed or its tool failed; see [`firewall`]).

mod apply;
pub mod batman;
pub mod batman_neighbors;
pub mod firewall;
mod genl;
mod links;
pub mod routes;
pub mod rtnl;
mod rtnl_abi;
mod rtnl_build;
mod rtnl_parse;
mod socket;
pub mod vxlan;
pub mod wireguard;

use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use apply::{ApplyReport, Inspection};
pub use batman::BatmanOutcome;
pub use rtnl::{LinkState, VxlanState};

use crate::identity::PrivateKey;
use crate::link::{VXLAN_IFACE, VXLAN_OVERHEAD, VXLAN_PORT};
pub use firewall::{Firewall, FirewallState};
use wireguard::WireGuard;

/// Default fwmark of the WireGuard socket: Gluon routes mark 1 via WAN.
pub const DEFAULT_FWMARK: u32 = 1;

/// The gateway the node connects to, as the broker answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPeer {
    /// Base64 WireGuard public key.
    pub public_key: String,
    pub endpoint: SocketAddr,
    /// The gateway's link address (VXLAN remote, WireGuard allowed IP /128).
    pub link_address: Ipv6Addr,
}

/// Everything the data plane should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpec {
    /// WireGuard interface name (site `mesh_vpn.wireguard.iface`).
    pub wg_interface: String,
    pub vxlan_interface: String,
    pub private_key: PrivateKey,
    pub fwmark: u32,
    /// Site `mesh_vpn.wireguard.mtu`: the VXLAN's MTU; WireGuard gets +70.
    pub site_mtu: u16,
    pub vni: u32,
    pub vxlan_port: u16,
    pub gateway: GatewayPeer,
}

impl LinkSpec {
    /// A spec with the reference constants (mesh-vpn, port 8472, fwmark 1).
    pub fn new(
        wg_interface: &str,
        private_key: PrivateKey,
        site_mtu: u16,
        vni: u32,
        gateway: GatewayPeer,
    ) -> LinkSpec {
        LinkSpec {
            wg_interface: wg_interface.to_string(),
            vxlan_interface: VXLAN_IFACE.to_string(),
            private_key,
            fwmark: DEFAULT_FWMARK,
            site_mtu,
            vni,
            vxlan_port: VXLAN_PORT,
            gateway,
        }
    }

    /// The node's address on the WireGuard interface (domain.md 2.1).
    pub fn node_link_local(&self) -> Ipv6Addr {
        crate::identity::link_local(&self.private_key.public_key())
    }

    pub fn wg_mtu(&self) -> u32 {
        u32::from(self.site_mtu) + u32::from(VXLAN_OVERHEAD)
    }
}

/// Which WireGuard implementation drives the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Kernel,
    /// wireguard-go (or another UAPI implementation) at this path.
    Userspace(PathBuf),
}

impl Backend {
    /// The kernel module when it is loaded or loadable, else wireguard-go.
    pub fn detect() -> Backend {
        let kernel = std::path::Path::new("/sys/module/wireguard").exists()
            || std::path::Path::new("/lib/modules")
                .join(kernel_release())
                .join("kernel/drivers/net/wireguard")
                .exists();
        if kernel {
            Backend::Kernel
        } else {
            Backend::Userspace(PathBuf::from("wireguard-go"))
        }
    }

    fn build(self) -> Box<dyn WireGuard> {
        match self {
            Backend::Kernel => Box::new(wireguard::kernel::KernelWireGuard::new()),
            Backend::Userspace(program) => {
                Box::new(wireguard::uapi::UserspaceWireGuard::new(program))
            }
        }
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

/// The data plane of one node. Holds the WireGuard backend (and with it any
/// wireguard-go child) and what it last verified, so steady-state `apply`
/// costs a few netlink round trips and nothing more.
pub struct DataPlane {
    wireguard: Box<dyn WireGuard>,
    firewall: Firewall,
    /// The VXLAN ifindex and master the throughput override was set for.
    batman_done: Option<(u32, u32)>,
}

impl DataPlane {
    /// `firewall` watches the host's firewall state files (`Firewall::new("/var/run")`).
    pub fn new(backend: Backend, firewall: Firewall) -> DataPlane {
        DataPlane {
            wireguard: backend.build(),
            firewall,
            batman_done: None,
        }
    }
}

static SPAWNED: AtomicUsize = AtomicUsize::new(0);

/// How many processes the data plane has started so far (wireguard-go and
/// firewall tools); lets tests prove that steady state starts none.
pub fn processes_spawned() -> usize {
    SPAWNED.load(Ordering::Relaxed)
}

pub(crate) fn count_spawn() {
    SPAWNED.fetch_add(1, Ordering::Relaxed);
}
