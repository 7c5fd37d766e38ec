//! One reconnect cycle: set the clock (once per boot), register the key with
//! the broker, choose the gateway, build the link and wait for the handshake.
//! No fixed sleeps: the handshake is polled and the cycle ends as soon as it
//! is there, or fails after `handshake_timeout`.

use std::net::Ipv6Addr;
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::Settings;
use super::health::HANDSHAKE_MAX_AGE;
use super::peers::PeerQueue;
use super::ports::{Gateway, Ports, Registered};
use super::report::Reporter;
use super::state::{PeerSource, State};

/// How often the handshake is polled while waiting for it.
const HANDSHAKE_POLL: Duration = Duration::from_millis(500);

/// What a cycle needs besides the ports; borrowed from the engine.
pub struct CycleContext<'a> {
    pub report: &'a Reporter,
    pub peers: &'a mut PeerQueue,
    pub time_synced: &'a mut bool,
}

pub async fn run(
    ports: &mut impl Ports,
    cx: CycleContext<'_>,
    loadbalancing: bool,
    site_peers: &[Gateway],
    settings: &Settings,
) -> Result<Gateway, String> {
    if !*cx.time_synced {
        cx.report.enter(
            State::SyncingTime,
            "setting the clock before the first key exchange",
        );
        let synced = ports.sync_time().await;
        cx.report.record_probe("time", &synced);
        // An unset clock is reported but does not block: the handshake may
        // still work, and the next cycle tries the clock again.
        *cx.time_synced = synced.is_ok();
    }

    let api = if loadbalancing {
        "v2 (loadbalancing)"
    } else {
        "v1"
    };
    cx.report.enter(
        State::ExchangingKey,
        &format!("registering the key with the broker, {api}"),
    );
    let exchange = ports.exchange(loadbalancing).await;
    cx.report.update(|s| {
        s.broker_requests += u64::from(exchange.requests);
        s.broker_api = Some(match (&exchange.outcome, loadbalancing) {
            (Ok(Registered::Gateway(_)), _) => "v2",
            _ => "v1",
        });
        s.broker_error = exchange.v2_error.clone().or(exchange.outcome.clone().err());
    });
    let gateway = match exchange.outcome {
        Ok(Registered::Gateway(gateway)) => gateway,
        Ok(Registered::KeyOnly) => cx
            .peers
            .next(site_peers)
            .cloned()
            .ok_or("the broker chose no gateway and the site lists no peers")?,
        Err(e) => return Err(format!("key exchange failed: {e}")),
    };

    cx.report.enter(
        State::Connecting,
        &format!("connecting to {}", gateway.name),
    );
    cx.report
        .set_peer(Some((&gateway, gateway.endpoint.to_string())));
    // Taken before the link is built: wireguard-go and the kernel send the
    // first handshake as soon as the peer is configured, so it often completes
    // while `connect` is still adding the VXLAN and the firewall rule.
    let link_started = Instant::now();
    let linked = match ports.connect(&gateway).await {
        Ok(endpoint) => {
            cx.report.set_peer(Some((&gateway, endpoint)));
            cx.report.record_firewall(ports.firewall());
            wait_for_handshake(
                ports,
                gateway.link_address,
                link_started,
                settings.handshake_timeout,
            )
            .await
        }
        Err(e) => Err(format!("setting up the link: {e}")),
    };
    if let Err(e) = linked {
        // A site peer that failed goes to the end of the next round.
        if gateway.source == PeerSource::Site {
            cx.peers.failed();
        }
        return Err(format!("{}: {e}", gateway.name));
    }
    Ok(gateway)
}

async fn wait_for_handshake(
    ports: &mut impl Ports,
    gateway: Ipv6Addr,
    started: Instant,
    timeout: Duration,
) -> Result<(), String> {
    let mut asked_through_tunnel = false;
    loop {
        let stats = ports.stats().await?;
        match stats.handshake_age {
            // A handshake after this link was set up proves it.
            Some(age) if age <= started.elapsed() => return Ok(()),
            // The same peer again (a `reconnect` of a working tunnel): WireGuard
            // keeps its session and will not handshake for up to two minutes,
            // so the gateway answering through the tunnel proves it instead.
            Some(age) if age < HANDSHAKE_MAX_AGE && !asked_through_tunnel => {
                asked_through_tunnel = true;
                if ports.http(gateway).await.is_ok() {
                    return Ok(());
                }
            }
            _ => {}
        }
        if started.elapsed() >= timeout {
            return Err(format!("no handshake within {} s", timeout.as_secs()));
        }
        sleep(HANDSHAKE_POLL).await;
    }
}
