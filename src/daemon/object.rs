//! The ubus object `mesh_vpn`: its methods, their argument checks, and the
//! events that tell listeners about state changes.

use std::sync::Arc;

use ubus_wire::{
    BlobmsgType, MethodResult, MethodSpec, ObjectSpec, Request, StatusCode, Table, Value,
};

use super::control::{Control, Refusal};
use crate::engine::state::State;
use crate::quote::quote_json;

pub const OBJECT: &str = "mesh_vpn";
pub const STATE_EVENT: &str = "mesh_vpn.state";

pub fn spec() -> ObjectSpec {
    ObjectSpec::new(OBJECT)
        .method(MethodSpec::new("status"))
        .method(MethodSpec::new("reconnect"))
        .method(MethodSpec::new("set_loadbalancing").arg("enabled", BlobmsgType::Bool))
}

pub fn handler(
    control: Arc<Control>,
) -> impl Fn(&Request<'_>) -> MethodResult + Send + Sync + 'static {
    move |request| match request.method {
        "status" => control.status().map(Some).map_err(|e| {
            log::error!("status does not encode as blobmsg: {e}");
            StatusCode::UnknownError
        }),
        "reconnect" => {
            control.reconnect();
            Ok(Some(Table::new().with("accepted", true).into()))
        }
        "set_loadbalancing" => {
            let enabled = enabled_argument(request.args).map_err(|why| {
                // Said once per refused call, so a caller can see why.
                log::info!("set_loadbalancing refused: {why}");
                StatusCode::InvalidArgument
            })?;
            match control.set_loadbalancing(enabled) {
                Ok(decision) => Ok(Some(super::status::render_loadbalancing(&decision).into())),
                Err(Refusal::SiteFixed) => Err(StatusCode::PermissionDenied),
                Err(Refusal::Write(problem)) => {
                    log::error!("set_loadbalancing: {problem}");
                    Err(StatusCode::UnknownError)
                }
            }
        }
        _ => Err(StatusCode::MethodNotFound),
    }
}

/// `enabled` as the ubus CLI and uhttpd encode JSON: `true`/`false` arrive as
/// INT8. We also take the integers 0 and 1 (INT32 from `{"enabled":1}`),
/// which a libubus BOOL policy would drop: a shell user means the same thing.
/// Anything else, or nothing, is INVALID_ARGUMENT, with the reason (the
/// caller's value quoted) for the log. Other keys (uhttpd's
/// `ubus_rpc_session`) are ignored.
pub(crate) fn enabled_argument(args: &Table) -> Result<bool, String> {
    match args.get("enabled") {
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(format!(
                "'enabled' must be true/false or 1/0, not {}",
                quote_json(&ubus_wire::json::from_value(v))
            )),
        },
        None => Err("no 'enabled' argument".into()),
    }
}

/// The payload of the `mesh_vpn.state` event and the `state` notify.
pub fn state_change(state: State, previous: State, reason: &str) -> Table {
    Table::new()
        .with("state", state.as_str())
        .with("previous", previous.as_str())
        .with("reason", reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_is_typed_loosely_but_not_carelessly() {
        let args = |v: Value| {
            Table::new()
                .with("enabled", v)
                .with("ubus_rpc_session", "0123")
        };
        assert_eq!(enabled_argument(&args(Value::Bool(true))), Ok(true));
        assert_eq!(enabled_argument(&args(Value::Bool(false))), Ok(false));
        assert_eq!(enabled_argument(&args(Value::Int32(1))), Ok(true));
        assert_eq!(enabled_argument(&args(Value::Int64(0))), Ok(false));
        for bad in [
            Value::Int32(2),
            Value::String("yes".into()),
            Value::Null,
            Value::Double(1.0),
        ] {
            let why = enabled_argument(&args(bad)).unwrap_err();
            assert!(why.starts_with("'enabled' must be"), "{why}");
        }
        let why = enabled_argument(&args(Value::String("on\n\x1b[2J".into()))).unwrap_err();
        assert!(why.ends_with("not 'on\\n\\x1b[2J'"), "{why}");
        assert_eq!(
            enabled_argument(&Table::new()),
            Err("no 'enabled' argument".to_string())
        );
    }
}
