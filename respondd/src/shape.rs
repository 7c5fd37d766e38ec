//! The two replies, as plain JSON built from the daemon's `status` (see the crate
//! documentation for the shapes and where they come from). No I/O here.

use serde_json::{Map, Value as Json, json};

/// The daemon's version: both crates take the workspace version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// fastd's group name; yanic and the status page only need some group.
pub const GROUP: &str = "backbone";

/// `nodeinfo`: `software.wireguard`, or `{}` without a status.
pub fn nodeinfo(status: Option<&Json>) -> Json {
    let Some(status) = status.filter(|s| s.is_object()) else {
        return json!({});
    };
    let enabled = status.get("enabled").and_then(Json::as_bool) == Some(true);
    let mut wireguard = Map::new();
    wireguard.insert("version".into(), json!(VERSION));
    wireguard.insert("enabled".into(), json!(enabled));
    let public_key = status.get("public_key").and_then(Json::as_str);
    if let (true, Some(key)) = (enabled, public_key) {
        wireguard.insert("public_key".into(), json!(key));
    }
    json!({"software": {"wireguard": wireguard}})
}

/// `statistics`: `mesh_vpn` in fastd's layout; `{}` without a status or while the
/// VPN is disabled, so the status page hides its mesh-VPN box as it does upstream
/// (no wgpeerselector or fastd runs there then).
pub fn statistics(status: Option<&Json>) -> Json {
    let enabled = |s: &&Json| s.get("enabled").and_then(Json::as_bool) == Some(true);
    let Some(status) = status.filter(enabled) else {
        return json!({});
    };
    json!({"mesh_vpn": {"groups": {GROUP: {"peers": peers(status)}}}})
}

/// The current gateway by name: `{"established": s}` while connected, else `null`.
fn peers(status: &Json) -> Json {
    let mut peers = Map::new();
    let peer = status.get("peer").filter(|p| p.is_object());
    let name = peer.and_then(|p| p.get("name")).and_then(Json::as_str);
    if let Some(name) = name {
        peers.insert(name.to_owned(), link(status));
    }
    Json::Object(peers)
}

/// fastd reports how long the connection has stood; the daemon's `since` is how long
/// it has been in its state, which is the same while that state is `connected`.
fn link(status: &Json) -> Json {
    let connected = status.get("state").and_then(Json::as_str) == Some("connected");
    let since = status.get("since").and_then(Json::as_u64);
    match (connected, since) {
        (true, Some(seconds)) => json!({"established": seconds}),
        _ => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, enabled: bool, peer: Json) -> Json {
        json!({"state": state, "since": 42, "enabled": enabled,
               "public_key": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", "peer": peer})
    }

    fn gateway() -> Json {
        json!({"name": "gw1", "public_key": "k", "latest_handshake": 7})
    }

    #[test]
    fn nodeinfo_hides_the_key_of_a_disabled_node() {
        let on = nodeinfo(Some(&status("connected", true, Json::Null)));
        let off = nodeinfo(Some(&status("disabled", false, Json::Null)));
        let wg = |v: &Json| v["software"]["wireguard"].clone();
        assert_eq!(wg(&on)["enabled"], true);
        assert_eq!(wg(&on)["version"], VERSION);
        assert_eq!(
            wg(&on)["public_key"],
            "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
        );
        assert_eq!(wg(&off)["enabled"], false);
        assert!(wg(&off).get("public_key").is_none(), "{off}");
    }

    #[test]
    fn a_connected_peer_is_established_since_the_state_began() {
        let stats = statistics(Some(&status("connected", true, gateway())));
        assert_eq!(
            stats,
            json!({"mesh_vpn": {"groups": {"backbone": {"peers": {"gw1": {"established": 42}}}}}})
        );
    }

    #[test]
    fn a_peer_that_is_not_connected_is_null_like_fastd() {
        let stats = statistics(Some(&status("connecting", true, gateway())));
        assert_eq!(
            stats["mesh_vpn"]["groups"]["backbone"]["peers"]["gw1"],
            Json::Null
        );
        assert!(
            stats["mesh_vpn"]["groups"]["backbone"]["peers"]
                .get("gw1")
                .is_some()
        );
    }

    #[test]
    fn no_peer_gives_an_empty_group_and_no_status_gives_nothing() {
        let stats = statistics(Some(&status("no_uplink", true, Json::Null)));
        assert_eq!(stats["mesh_vpn"]["groups"]["backbone"]["peers"], json!({}));
        assert_eq!(statistics(None), json!({}));
        assert_eq!(
            statistics(Some(&status("disabled", false, gateway()))),
            json!({})
        );
        assert_eq!(nodeinfo(None), json!({}));
        assert_eq!(nodeinfo(Some(&json!("not an object"))), json!({}));
    }
}
