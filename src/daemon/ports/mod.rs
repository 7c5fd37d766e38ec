//! The engine's side effects as they happen on a router: the clock over
//! SNTP, the broker over HTTPS, the link through netlink, the probes through
//! the tunnel. [`LivePorts`] implements the narrow traits of
//! [`crate::engine::ports`] by delegating to one file each.

pub mod clock;
pub mod exchange;
pub mod last_gateway;
pub mod probe;
pub mod sampler;
pub mod tunnel;

use std::net::Ipv6Addr;

use tokio::sync::watch;

use crate::broker::{Board, NodeHeaders};
use crate::dataplane::routes::WanRoutes;
use crate::engine::ports::{
    Exchange, Gateway, KeyExchange, LastGateway, Probes, TimeSync, Tunnel, TunnelStats,
};
use crate::root::Root;
use clock::ClockSync;
use exchange::KeyExchanger;
use last_gateway::LastGatewayFile;
use probe::HttpProber;
use tunnel::LiveTunnel;

pub struct LivePorts {
    pub root: Root,
    pub clock: ClockSync,
    pub exchanger: KeyExchanger,
    pub last_gateway: LastGatewayFile,
    pub tunnel: LiveTunnel,
    pub wan: watch::Receiver<WanRoutes>,
    /// `ubus call system board`, once the bus has answered it.
    pub board: watch::Receiver<Option<Board>>,
    pub prober: HttpProber,
}

impl TimeSync for LivePorts {
    async fn sync_time(&mut self) -> Result<(), String> {
        let prefer = self.wan.borrow().prefer();
        self.clock.sync(prefer).await
    }
}

impl KeyExchange for LivePorts {
    async fn exchange(&mut self, loadbalancing: bool) -> Exchange {
        // Headers are re-read each time: the board answer may have arrived
        // since start, and a firmware upgrade changes the version files.
        let board = self.board.borrow().clone();
        self.exchanger.broker.headers = NodeHeaders::from_files(&self.root, board);
        let prefer = self.wan.borrow().prefer();
        self.exchanger.exchange(loadbalancing, prefer).await
    }
}

impl LastGateway for LivePorts {
    fn recall(&mut self) -> Option<Gateway> {
        self.last_gateway.recall()
    }

    fn remember(&mut self, gateway: &Gateway) {
        self.last_gateway.remember(gateway)
    }
}

impl Tunnel for LivePorts {
    async fn connect(&mut self, gateway: &Gateway) -> Result<String, String> {
        let prefer = self.wan.borrow().prefer();
        self.tunnel.connect(gateway, prefer).await
    }

    async fn stats(&mut self) -> Result<TunnelStats, String> {
        self.tunnel.stats().await
    }

    async fn repair(&mut self) -> Result<(), String> {
        self.tunnel.repair().await
    }

    fn firewall(&self) -> Option<Result<String, String>> {
        self.tunnel.firewall()
    }

    async fn tear_down(&mut self) {
        self.tunnel.tear_down().await
    }
}

impl Probes for LivePorts {
    fn solicit(&mut self, link_address: Ipv6Addr) {
        self.prober.solicit(link_address)
    }

    fn probe_result(&mut self) -> Option<Result<(), String>> {
        self.prober.take_result()
    }

    async fn batman(&mut self) -> Option<Result<(), String>> {
        self.tunnel.batman().await
    }
}
