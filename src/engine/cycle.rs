//! One reconnect cycle: set the clock (once per boot), register the key with
//! the broker, choose the gateway, build the link and wait for the handshake.
//! A broker that does not answer does not end the cycle: the gateways that
//! knew the key before are tried without it.
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
use super::state::State;

/// How often the handshake is polled while waiting for it.
const HANDSHAKE_POLL: Duration = Duration::from_millis(500);

/// What a cycle needs besides the ports; borrowed from the engine.
pub struct CycleContext<'a> {
    pub report: &'a Reporter,
    pub peers: &'a mut PeerQueue,
    pub time_synced: &'a mut bool,
    /// The public key of the gateway this run declared dead last: not worth
    /// a handshake timeout as "the last gateway" while the broker is down.
    pub dead: Option<&'a str>,
}

/// How a cycle connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub gateway: Gateway,
    /// The key exchange of this cycle succeeded; when not, the gateway knew
    /// the key from before and the key is registered again in the background.
    pub registered: bool,
}

pub async fn run(
    ports: &mut impl Ports,
    cx: CycleContext<'_>,
    loadbalancing: bool,
    site_peers: &[Gateway],
    settings: &Settings,
) -> Result<Connected, String> {
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
    cx.report.record_exchange(&exchange);
    let registered = exchange.outcome.is_ok();
    let gateway = match exchange.outcome {
        Ok(Registered::Gateway(gateway)) => {
            link(ports, cx.report, &gateway, settings, "").await?;
            gateway
        }
        Ok(Registered::KeyOnly) => {
            let gateway = cx
                .peers
                .next(site_peers)
                .cloned()
                .ok_or("the broker chose no gateway and the site lists no peers")?;
            if let Err(e) = link(ports, cx.report, &gateway, settings, "").await {
                // A site peer that failed goes to the end of the next round.
                cx.peers.failed(&gateway, site_peers);
                return Err(e);
            }
            gateway
        }
        Err(e) => {
            without_broker(
                ports,
                cx,
                &format!("key exchange failed: {e}"),
                site_peers,
                settings,
            )
            .await?
        }
    };
    ports.remember(&gateway);
    Ok(Connected {
        gateway,
        registered,
    })
}

/// The broker did not register the key. The gateways most likely still know
/// it (see [`super::ports::LastGateway`]), so the cycle goes on: the last
/// gateway first, then each site peer once in the usual order. `Err` only
/// when none of them handshakes.
async fn without_broker(
    ports: &mut impl Ports,
    cx: CycleContext<'_>,
    error: &str,
    site_peers: &[Gateway],
    settings: &Settings,
) -> Result<Gateway, String> {
    let why = " without the broker";
    let last = ports
        .recall()
        .filter(|g| Some(g.public_key.as_str()) != cx.dead);
    let mut failures = Vec::new();
    if let Some(gateway) = &last {
        let line = format!("{error}; trying the last gateway {}", gateway.name);
        cx.report.log(log::Level::Info, "without-broker", &line);
        match link(ports, cx.report, gateway, settings, why).await {
            Ok(()) => return Ok(gateway.clone()),
            Err(e) => {
                cx.peers.failed(gateway, site_peers);
                failures.push(e);
            }
        }
    }
    for _ in 0..site_peers.len() {
        let Some(gateway) = cx.peers.next(site_peers).cloned() else {
            break;
        };
        if last
            .as_ref()
            .is_some_and(|l| l.public_key == gateway.public_key)
        {
            continue;
        }
        match link(ports, cx.report, &gateway, settings, why).await {
            Ok(()) => return Ok(gateway),
            Err(e) => {
                cx.peers.failed(&gateway, site_peers);
                failures.push(e);
            }
        }
    }
    match failures.is_empty() {
        true => Err(error.to_string()),
        false => Err(format!("{error}; without it: {}", failures.join(", "))),
    }
}

/// Builds the link to `gateway` and waits for its handshake.
async fn link(
    ports: &mut impl Ports,
    report: &Reporter,
    gateway: &Gateway,
    settings: &Settings,
    why: &str,
) -> Result<(), String> {
    report.enter(
        State::Connecting,
        &format!("connecting to {}{why}", gateway.name),
    );
    report.set_peer(Some((gateway, gateway.endpoint.to_string())));
    // Taken before the link is built: wireguard-go and the kernel send the
    // first handshake as soon as the peer is configured, so it often completes
    // while `connect` is still adding the VXLAN and the firewall rule.
    let link_started = Instant::now();
    let linked = match ports.connect(gateway).await {
        Ok(endpoint) => {
            report.set_peer(Some((gateway, endpoint)));
            report.record_firewall(ports.firewall());
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
    linked.map_err(|e| format!("{}: {e}", gateway.name))
}

async fn wait_for_handshake(
    ports: &mut impl Ports,
    gateway: Ipv6Addr,
    started: Instant,
    timeout: Duration,
) -> Result<(), String> {
    // The receive counter when the gateway was asked to answer.
    let mut asked: Option<u64> = None;
    loop {
        let stats = ports.stats().await?;
        match (stats.handshake_age, asked) {
            // A handshake after this link was set up proves it.
            (Some(age), _) if age <= started.elapsed() => return Ok(()),
            // The same peer again (a `reconnect` of a working tunnel): WireGuard
            // keeps its session and will not handshake for up to two minutes,
            // so bytes from the gateway through the tunnel prove it instead.
            (Some(age), None) if age < HANDSHAKE_MAX_AGE => {
                ports.solicit(gateway);
                asked = Some(stats.rx_bytes);
            }
            (_, Some(before)) if stats.rx_bytes > before => return Ok(()),
            _ => {}
        }
        if started.elapsed() >= timeout {
            return Err(format!("no handshake within {} s", timeout.as_secs()));
        }
        sleep(HANDSHAKE_POLL).await;
    }
}
