//! `status`, `reconnect` and `loadbalancing on|off`: the daemon's ubus
//! methods for people at a shell, with messages that say what went wrong.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use ubus_wire::{Bus, StatusCode, Table};

use crate::daemon::object::OBJECT;
use crate::error::{Error, Result};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Calls one method of `mesh_vpn` and returns its reply as JSON.
pub fn call(socket: &Path, method: &str, args: Table) -> Result<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime for", socket, e))?;
    runtime.block_on(async {
        let bus = Bus::connect(socket)
            .await
            .map_err(|e| not_running(socket, e))?;
        let replies = bus
            .call(OBJECT, method, args, CALL_TIMEOUT)
            .await
            .map_err(|e| explain_failure(socket, e))?;
        Ok(replies
            .first()
            .map(ubus_wire::json::from_table)
            .unwrap_or(Value::Null))
    })
}

fn not_running(socket: &Path, e: ubus_wire::Error) -> Error {
    // Keep the underlying cause only; the action already says what we tried.
    let source = match e {
        ubus_wire::Error::Io { source, .. } => source,
        other => std::sync::Arc::new(std::io::Error::other(other.to_string())),
    };
    Error::Ubus(ubus_wire::Error::Io {
        action: format!(
            "connecting to ubus at {} (is ubusd running?)",
            socket.display()
        ),
        source,
    })
}

fn explain_failure(socket: &Path, e: ubus_wire::Error) -> Error {
    match e {
        ubus_wire::Error::Status {
            status: StatusCode::NotFound,
            ..
        } => Error::Ubus(ubus_wire::Error::Status {
            request: format!(
                "{OBJECT} is not registered on {} (is the mesh-vpn-wg daemon running?)",
                socket.display()
            ),
            status: StatusCode::NotFound,
        }),
        ubus_wire::Error::Status {
            status: StatusCode::PermissionDenied,
            ..
        } => Error::Refused(
            "the site fixes loadbalancing (mode 'on' or 'off'); it cannot be changed on this node"
                .into(),
        ),
        other => Error::Ubus(other),
    }
}

pub fn loadbalancing_args(enabled: bool) -> Table {
    Table::new().with("enabled", enabled)
}

/// The human form of `status`.
pub fn status_text(status: &Value) -> String {
    let s = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut lines = vec![format!(
        "state           {} for {} s ({})",
        s(&status["state"]),
        s(&status["since"]),
        s(&status["reason"])
    )];
    lines.push(format!("public key      {}", s(&status["public_key"])));
    lines.push(format!(
        "link-local      {}  VNI {}",
        s(&status["link_local"]),
        s(&status["vni"])
    ));
    let lb = &status["loadbalancing"];
    let who = if lb["user_changeable"] == Value::Bool(true) {
        "owner may change it"
    } else {
        "fixed by the site"
    };
    lines.push(format!(
        "loadbalancing   {} (site mode {}, override {}, {who})",
        if lb["effective"] == Value::Bool(true) {
            "on"
        } else {
            "off"
        },
        s(&lb["site_mode"]),
        s(&lb["override"]),
    ));
    match &status["peer"] {
        Value::Null => lines.push("gateway         none".into()),
        peer => lines.push(format!(
            "gateway         {} {} ({}), handshake {} s ago, rx {} B, tx {} B",
            s(&peer["name"]),
            s(&peer["endpoint"]),
            s(&peer["source"]),
            s(&peer["latest_handshake"]),
            s(&peer["rx_bytes"]),
            s(&peer["tx_bytes"]),
        )),
    }
    lines.push(format!(
        "broker          {} (api {}, last error {})",
        s(&status["broker"]["url"]),
        s(&status["broker"]["api"]),
        s(&status["broker"]["last_error"])
    ));
    if !status["last_error"].is_null() {
        lines.push(format!("last error      {}", s(&status["last_error"])));
    }
    if !status["next_attempt_in"].is_null() {
        lines.push(format!(
            "next attempt in {} s",
            s(&status["next_attempt_in"])
        ));
    }
    lines.join("\n") + "\n"
}
