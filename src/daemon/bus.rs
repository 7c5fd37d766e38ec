//! Keeps `mesh_vpn` registered on ubus for the daemon's whole life: connect,
//! register, publish state changes as events and notifies, and when ubusd
//! goes away (restart, crash) reconnect and register again with new ids.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use log::{info, warn};
use tokio::sync::watch;
use ubus_wire::{Bus, Table};

use super::control::Control;
use super::object;
use crate::broker::Board;
use crate::engine::state::{Snapshot, State};

/// Short enough that a restarted ubusd sees `mesh_vpn` again within a second.
const RECONNECT_MAX_DELAY: Duration = Duration::from_millis(500);
const BOARD_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn serve(
    socket: PathBuf,
    control: Arc<Control>,
    mut snapshots: watch::Receiver<Snapshot>,
    board: watch::Sender<Option<Board>>,
) {
    let handler: Arc<dyn ubus_wire::Handler> = Arc::new(object::handler(control));
    loop {
        let bus = ubus_wire::connect_with_backoff(&socket, RECONNECT_MAX_DELAY).await;
        let registered = match bus.add_object(object::spec(), handler.clone()).await {
            Ok(registered) => registered,
            Err(e) => {
                warn!(
                    "registering {} on {}: {e}",
                    object::OBJECT,
                    socket.display()
                );
                tokio::time::sleep(RECONNECT_MAX_DELAY).await;
                continue;
            }
        };
        info!(
            "ubus object {} registered (id {:#010x})",
            object::OBJECT,
            registered.id
        );
        if board.borrow().is_none() {
            board.send_replace(read_board(&bus).await);
        }
        let why = publish_until_closed(&bus, registered.id, &mut snapshots).await;
        warn!("ubus connection lost ({why}); reconnecting");
    }
}

/// `ubus call system board`, for the broker's User-Agent and X-* headers;
/// `None` (headers left out, never faked) when procd does not answer.
async fn read_board(bus: &Bus) -> Option<Board> {
    let replies = bus
        .call("system", "board", Table::new(), BOARD_TIMEOUT)
        .await
        .map_err(|e| info!("no board information from ubus: {e}"))
        .ok()?;
    let json = ubus_wire::json::from_table(replies.first()?).to_string();
    Board::from_json(&json)
        .map_err(|e| warn!("ubus system board: {e}"))
        .ok()
}

/// Sends an event and a notify for every state change until the connection ends.
async fn publish_until_closed(
    bus: &Bus,
    object_id: u32,
    snapshots: &mut watch::Receiver<Snapshot>,
) -> ubus_wire::Error {
    let mut last = snapshots.borrow_and_update().state;
    loop {
        tokio::select! {
            why = bus.closed() => return why,
            changed = snapshots.changed() => {
                if changed.is_err() {
                    // The daemon is shutting down; keep serving until it drops us.
                    return bus.closed().await;
                }
                let (state, reason) = {
                    let s = snapshots.borrow_and_update();
                    (s.state, s.reason.clone())
                };
                if state != last {
                    publish(bus, object_id, state, last, &reason).await;
                    last = state;
                }
            }
        }
    }
}

async fn publish(bus: &Bus, object_id: u32, state: State, previous: State, reason: &str) {
    let payload = object::state_change(state, previous, reason);
    if let Err(e) = bus.send_event(object::STATE_EVENT, payload.clone()).await {
        warn!("sending event {}: {e}", object::STATE_EVENT);
    }
    if bus.has_subscribers(object_id) {
        if let Err(e) = bus.notify(object_id, "state", payload) {
            warn!("notifying subscribers of {}: {e}", object::OBJECT);
        }
    }
}
