//! What the ubus methods can do to the daemon, shared between the ubus
//! connection (which must never block) and the engine. Reads come from the
//! published snapshot; the only write, the loadbalancing override, is one
//! small atomic UCI update.

use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::status_reply::StatusReply;
use crate::config::{SECTION, keys::KEY_FILE_MODE, uci};
use crate::engine::Command;
use crate::engine::state::Snapshot;
use crate::error::Result;
use crate::loadbalancing::{self, Decision};
use crate::root::Root;

/// Why `set_loadbalancing` refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The site fixes the mode (`on`, `off` or no key).
    SiteFixed,
    /// Writing UCI failed; the message says why.
    Write(String),
}

pub struct Control {
    root: Root,
    snapshot: watch::Sender<Snapshot>,
    status: StatusReply,
    commands: mpsc::Sender<Command>,
}

impl Control {
    pub fn new(
        root: Root,
        snapshot: watch::Sender<Snapshot>,
        commands: mpsc::Sender<Command>,
    ) -> Control {
        Control {
            root,
            status: StatusReply::new(snapshot.subscribe()),
            snapshot,
            commands,
        }
    }

    pub fn status(&self) -> Result<ubus_wire::Data, ubus_wire::Error> {
        self.status.at(Instant::now())
    }

    /// Queues a reconnect; a reconnect already queued makes a second one redundant.
    pub fn reconnect(&self) {
        let _ = self.commands.try_send(Command::Reconnect);
    }

    /// Persists the owner's choice when the site allows one, publishes the new
    /// decision, and reconnects when the effective choice changed, since the
    /// gateway choice depends on it.
    pub fn set_loadbalancing(&self, enabled: bool) -> Result<Decision, Refusal> {
        let current = self.snapshot.borrow().loadbalancing;
        if !current.user_changeable {
            return Err(Refusal::SiteFixed);
        }
        write_override(&self.root, enabled).map_err(|e| Refusal::Write(e.to_string()))?;
        let decision = loadbalancing::decide(current.site_mode, Some(enabled));
        self.snapshot.send_modify(|s| s.loadbalancing = decision);
        if decision.effective != current.effective {
            // The engine reconnects: the gateway choice depends on it.
            let _ = self
                .commands
                .try_send(Command::Loadbalancing(decision.effective));
        }
        Ok(decision)
    }
}

fn write_override(root: &Root, enabled: bool) -> Result<()> {
    let value = if enabled { "1" } else { "0" };
    uci::update(&root.uci("wireguard"), KEY_FILE_MODE, |file| {
        file.set(SECTION, "wireguard", "loadbalancing", value)
    })
}
