//! The tunnel port: resolves the gateway, hands the desired link to the data
//! plane and reads the peer's counters back. The data plane speaks blocking
//! netlink, so every call runs on tokio's blocking pool and the ubus
//! connection never waits behind it; the once-a-second counter read goes to
//! a thread of its own instead, which allocates nothing per read
//! ([`super::sampler`]).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::dataplane::batman_neighbors::BatmanNeighbor;
use crate::dataplane::{ApplyReport, DataPlane, GatewayPeer, LinkSpec};
use crate::engine::ports::{Gateway, TunnelStats};
use crate::identity::PrivateKey;
use crate::link::VXLAN_IFACE;
use crate::resolve::{self, Family, Rotation};

use super::sampler::CounterSampler;

/// Gateways send OGMs (BATMAN IV) or ELP probes (BATMAN V) every second or
/// faster; ten seconds of silence means batman-adv lost the gateway.
const BATMAN_NEIGHBOR_MAX_AGE: Duration = Duration::from_secs(10);

/// The node's fixed part of every link.
#[derive(Clone)]
pub struct LinkIdentity {
    pub iface: String,
    pub private_key: PrivateKey,
    pub site_mtu: u16,
    pub vni: u32,
    pub fwmark: u32,
}

pub struct LiveTunnel {
    dataplane: Arc<Mutex<DataPlane>>,
    counters: CounterSampler,
    identity: LinkIdentity,
    spec: Option<LinkSpec>,
    rotation: Rotation,
    /// The firewall layer after the latest apply: `Ok(what is in place)` or
    /// the failing tool's message.
    firewall: Option<Result<String, String>>,
}

impl LiveTunnel {
    pub fn new(dataplane: DataPlane, identity: LinkIdentity) -> LiveTunnel {
        LiveTunnel {
            counters: CounterSampler::new(dataplane.counter_reader(&identity.iface)),
            dataplane: Arc::new(Mutex::new(dataplane)),
            identity,
            spec: None,
            rotation: Rotation::default(),
            firewall: None,
        }
    }

    pub async fn connect(&mut self, gateway: &Gateway, prefer: Family) -> Result<String, String> {
        let port = gateway.endpoint.port;
        let ordered = resolve::resolve(&gateway.endpoint.host, port, prefer)
            .await
            .map_err(|e| e.to_string())?;
        let endpoint = *self
            .rotation
            .next_addrs(&ordered)
            .first()
            .ok_or("no address to connect to")?;
        let id = &self.identity;
        let mut spec = LinkSpec::new(
            &id.iface,
            id.private_key.clone(),
            id.site_mtu,
            id.vni,
            GatewayPeer {
                public_key: gateway.public_key.clone(),
                endpoint,
                link_address: gateway.link_address,
            },
        );
        spec.fwmark = id.fwmark;
        self.apply(spec).await?;
        Ok(endpoint.to_string())
    }

    /// The firewall layer as the latest connect or repair left it.
    pub fn firewall(&self) -> Option<Result<String, String>> {
        self.firewall.clone()
    }

    async fn apply(&mut self, spec: LinkSpec) -> Result<(), String> {
        self.spec = Some(spec.clone());
        let iface = spec.wg_interface.clone();
        let report: ApplyReport = self.blocking(move |dp| dp.apply(&spec)).await?;
        self.firewall = report
            .firewall
            .map(|result| result.map(|state| state.describe(&iface)));
        Ok(())
    }

    /// The gateway peer's counters: called every second while connected,
    /// it allocates nothing unless the read fails.
    pub async fn stats(&mut self) -> Result<TunnelStats, String> {
        let peer = self.counters.read().await?;
        let now = SystemTime::now();
        Ok(TunnelStats {
            handshake_age: peer
                .last_handshake
                .map(|t| now.duration_since(t).unwrap_or(Duration::ZERO)),
            rx_bytes: peer.rx_bytes,
            tx_bytes: peer.tx_bytes,
        })
    }

    /// Re-applies the link (netlink only when nothing changed); the firewall
    /// rule is looked at again when the firewall may have changed or failed.
    pub async fn repair(&mut self) -> Result<(), String> {
        let Some(spec) = self.spec.clone() else {
            return Err("no link has been set up".into());
        };
        self.apply(spec).await
    }

    /// `None` where batman-adv does not apply (no module, mesh-vpn not in a mesh).
    pub async fn batman(&mut self) -> Option<Result<(), String>> {
        let heard = self.blocking(|dp| dp.batman_neighbor(VXLAN_IFACE)).await;
        match heard {
            Ok(BatmanNeighbor::NotAvailable | BatmanNeighbor::NotAHardInterface) => None,
            Ok(BatmanNeighbor::LastSeen(Some(age))) if age <= BATMAN_NEIGHBOR_MAX_AGE => {
                Some(Ok(()))
            }
            Ok(BatmanNeighbor::LastSeen(Some(age))) => Some(Err(format!(
                "batman-adv last heard the gateway on {VXLAN_IFACE} {} s ago",
                age.as_secs()
            ))),
            Ok(BatmanNeighbor::LastSeen(None)) => Some(Err(format!(
                "batman-adv hears no neighbor on {VXLAN_IFACE}"
            ))),
            Err(e) => Some(Err(e)),
        }
    }

    pub async fn tear_down(&mut self) {
        self.spec = None;
        self.firewall = None;
        let iface = self.identity.iface.clone();
        if let Err(e) = self
            .blocking(move |dp| dp.teardown(&iface, VXLAN_IFACE))
            .await
        {
            log::warn!("tearing the link down: {e}");
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DataPlane) -> crate::error::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let dataplane = self.dataplane.clone();
        tokio::task::spawn_blocking(move || {
            let mut dp = dataplane
                .lock()
                .map_err(|_| "the data plane lock is poisoned".to_string())?;
            work(&mut dp).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("data plane task: {e}"))?
    }
}
