//! The key exchange port: the wgkex client with the node's identity, asked
//! v2-then-v1 by the engine; repeated attempts rotate through the broker's
//! addresses.

use crate::broker::{Broker, Registration};
use crate::endpoint::Endpoint;
use crate::engine::ports::{Exchange, Gateway, Registered};
use crate::engine::state::PeerSource;
use crate::resolve::Family;

pub struct KeyExchanger {
    pub broker: Broker,
    /// The primary domain code (aliases resolved), as the broker knows it.
    pub domain: String,
    pub public_key: String,
    attempt: usize,
}

impl KeyExchanger {
    pub fn new(broker: Broker, domain: String, public_key: String) -> KeyExchanger {
        KeyExchanger {
            broker,
            domain,
            public_key,
            attempt: 0,
        }
    }

    pub async fn exchange(&mut self, loadbalancing: bool, prefer: Family) -> Exchange {
        if self.domain.is_empty() {
            return Exchange {
                requests: 0,
                v2_error: None,
                outcome: Err("gluon.core.domain is not set; the broker needs the domain".into()),
            };
        }
        let attempt = self.attempt;
        self.attempt = self.attempt.wrapping_add(1);
        let outcome = self
            .broker
            .register(
                loadbalancing,
                &self.domain,
                &self.public_key,
                prefer,
                attempt,
            )
            .await;
        let requests = 1 + u32::from(outcome.v2_error.is_some());
        Exchange {
            requests,
            v2_error: outcome.v2_error.map(|e| format!("v2: {e}")),
            outcome: outcome
                .result
                .map(registered)
                .map_err(|e| format!("{}: {e}", self.broker.url)),
        }
    }
}

fn registered(registration: Registration) -> Registered {
    match registration {
        Registration::Registered => Registered::KeyOnly,
        Registration::Gateway(peer) => Registered::Gateway(Gateway {
            source: PeerSource::Broker,
            name: peer.host.to_string(),
            endpoint: Endpoint {
                host: peer.host,
                port: peer.port,
            },
            public_key: peer.public_key,
            link_address: peer.link_address,
        }),
    }
}
