//! Follows the WAN's default routes on a thread of its own (netlink reads
//! block) and publishes them: the routes for the address family choice, and
//! up/down for the engine.

use log::{info, warn};
use tokio::sync::watch;

use crate::dataplane::routes::{self, WanRoutes};

/// Assumed when the routes cannot be read at all: better to try than to sit
/// in `no_uplink` for ever on a kernel that hides its routes from us.
const UNKNOWN: WanRoutes = WanRoutes {
    ipv6: false,
    ipv4: true,
};

pub fn follow() -> (watch::Receiver<WanRoutes>, watch::Receiver<bool>) {
    let initial = routes::wan_routes().unwrap_or_else(|e| {
        warn!("reading the WAN routes: {e}; assuming a WAN");
        UNKNOWN
    });
    let (routes_tx, routes_rx) = watch::channel(initial);
    let (up_tx, up_rx) = watch::channel(initial.up());
    let spawned = std::thread::Builder::new()
        .name("wan-routes".into())
        .spawn(move || {
            let result = routes::follow(|now| {
                info!(
                    "WAN: IPv6 default {}, IPv4 default {}",
                    yes(now.ipv6),
                    yes(now.ipv4)
                );
                routes_tx.send_replace(now);
                up_tx.send_if_modified(|up| std::mem::replace(up, now.up()) != now.up());
            });
            if let Err(e) = result {
                warn!("no longer following WAN routes: {e}");
            }
        });
    if let Err(e) = spawned {
        warn!("starting the WAN route follower: {e}");
    }
    (routes_rx, up_rx)
}

fn yes(present: bool) -> &'static str {
    if present { "present" } else { "absent" }
}
