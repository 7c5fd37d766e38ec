//! The test broker inside the WAN namespace. Its runtime's worker threads are
//! created by a thread that joined the namespace, so they, and the sockets
//! the broker opens on them, live there; the broker can be stopped (the node
//! then meets a refused connection, as with a broker that is down) and
//! started again on the same address.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::broker::{Behaviour, Config, Gateway, Route, TestBroker};
use crate::netns::Netns;

pub struct BrokerHost {
    broker: Option<TestBroker>,
    bind: SocketAddr,
    config: Config,
    runtime: Runtime,
}

impl BrokerHost {
    pub fn new(wan: &Netns, bind: SocketAddr, config: Config) -> io::Result<BrokerHost> {
        let runtime = wan
            .thread(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("broker")
                    .enable_all()
                    .build()
            })
            .join()
            .map_err(|_| io::Error::other("the broker runtime thread panicked"))??;
        Ok(BrokerHost {
            broker: None,
            bind,
            config,
            runtime,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.bind)
    }

    pub fn is_up(&self) -> bool {
        self.broker.is_some()
    }

    /// Starts listening; retries briefly while the stopped listener is still being dropped.
    pub fn start(&mut self) -> io::Result<()> {
        if self.broker.is_some() {
            return Ok(());
        }
        let mut last = None;
        for _ in 0..20 {
            let start = TestBroker::start(self.bind, false, self.config.clone());
            // Spawned, not block_on: the bind must run on a worker thread (in the namespace).
            let task = self.runtime.spawn(start);
            match self.runtime.block_on(task).map_err(io::Error::other)? {
                Ok(broker) => {
                    self.broker = Some(broker);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
                Err(e) => return Err(e),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(last.unwrap_or_else(|| io::Error::other("broker did not start")))
    }

    /// The broker goes down: connections to it are refused.
    pub fn stop(&mut self) {
        drop(self.broker.take());
    }

    /// The gateway v2 answers with, now and after a restart.
    pub fn set_gateway(&mut self, gateway: Gateway) {
        if let Some(broker) = &self.broker {
            broker.set_gateway(gateway.clone());
        }
        self.config.gateway = gateway;
    }

    pub fn set_behaviour(&self, route: Route, behaviour: Behaviour) {
        if let Some(broker) = &self.broker {
            broker.set_behaviour(route, behaviour);
        }
    }

    /// Requests so far to the running broker (paths), in arrival order.
    pub fn request_paths(&self) -> Vec<String> {
        self.broker
            .as_ref()
            .map(|b| b.requests().into_iter().map(|r| r.path).collect())
            .unwrap_or_default()
    }
}

impl Drop for BrokerHost {
    fn drop(&mut self) {
        // The broker's task must be aborted while its runtime still runs.
        self.stop();
    }
}
