//! The two replies, as plain JSON built from the daemon's `status` and what the node's
//! UCI says (see the crate documentation for the shapes and where they come from).
//! No I/O here.

use serde_json::{Map, Value as Json, json};

use crate::uci::Wireguard;

/// The daemon's version: both crates take the workspace version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// fastd's group name; yanic and the status page only need some group.
pub const GROUP: &str = "backbone";

/// `nodeinfo`: `software.wireguard` from the daemon's status, else from UCI (the key
/// derived from the private key there), else `{}`.
pub fn nodeinfo(status: Option<&Json>, uci: Option<&Wireguard>) -> Json {
    let (enabled, public_key) = match (status.filter(|s| s.is_object()), uci) {
        (Some(status), _) => (
            status.get("enabled").and_then(Json::as_bool) == Some(true),
            status.get("public_key").and_then(Json::as_str),
        ),
        (None, Some(uci)) => (uci.enabled, uci.public_key.as_deref()),
        (None, None) => return json!({}),
    };
    let mut wireguard = Map::new();
    wireguard.insert("version".into(), json!(VERSION));
    wireguard.insert("enabled".into(), json!(enabled));
    if let (true, Some(key)) = (enabled, public_key) {
        wireguard.insert("public_key".into(), json!(key));
    }
    json!({"software": {"wireguard": wireguard}})
}

/// `statistics`: `mesh_vpn` in fastd's layout while the VPN is enabled (the daemon's
/// word, else UCI's); `{}` otherwise, so the status page hides its mesh-VPN box as it
/// does upstream (no wgpeerselector or fastd runs there then).
pub fn statistics(status: Option<&Json>, uci: Option<&Wireguard>) -> Json {
    let status = status.filter(|s| s.is_object());
    let enabled = match (status, uci) {
        (Some(status), _) => status.get("enabled").and_then(Json::as_bool) == Some(true),
        (None, Some(uci)) => uci.enabled,
        (None, None) => false,
    };
    if !enabled {
        return json!({});
    }
    json!({"mesh_vpn": {"groups": {GROUP: {"peers": peers(status, uci)}}}})
}

/// Every gateway of the site (UCI `peer` sections) as not connected, as Gluon's fastd
/// module lists its peers; the current gateway with its link on top.
fn peers(status: Option<&Json>, uci: Option<&Wireguard>) -> Json {
    let mut peers = Map::new();
    for name in uci.map(|u| u.gateways.as_slice()).unwrap_or_default() {
        peers.insert(name.clone(), Json::Null);
    }
    if let Some(status) = status {
        current(status, &mut peers);
    }
    Json::Object(peers)
}

/// The current gateway by name: `{"established": s}` while connected, else `null`.
fn current(status: &Json, peers: &mut Map<String, Json>) {
    let peer = status.get("peer").filter(|p| p.is_object());
    let name = peer.and_then(|p| p.get("name")).and_then(Json::as_str);
    if let Some(name) = name {
        peers.insert(name.to_owned(), link(status));
    }
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
        let on = nodeinfo(Some(&status("connected", true, Json::Null)), None);
        let off = nodeinfo(Some(&status("disabled", false, Json::Null)), None);
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
        let stats = statistics(Some(&status("connected", true, gateway())), None);
        assert_eq!(
            stats,
            json!({"mesh_vpn": {"groups": {"backbone": {"peers": {"gw1": {"established": 42}}}}}})
        );
    }

    #[test]
    fn a_peer_that_is_not_connected_is_null_like_fastd() {
        let stats = statistics(Some(&status("connecting", true, gateway())), None);
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
        let stats = statistics(Some(&status("no_uplink", true, Json::Null)), None);
        assert_eq!(stats["mesh_vpn"]["groups"]["backbone"]["peers"], json!({}));
        assert_eq!(statistics(None, None), json!({}));
        assert_eq!(
            statistics(Some(&status("disabled", false, gateway())), None),
            json!({})
        );
        assert_eq!(nodeinfo(None, None), json!({}));
        assert_eq!(nodeinfo(Some(&json!("not an object")), None), json!({}));
    }

    fn node(enabled: bool) -> Wireguard {
        Wireguard {
            enabled,
            public_key: Some("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=".into()),
            gateways: vec!["peer_1".into(), "peer_2".into()],
        }
    }

    #[test]
    fn without_the_daemon_uci_answers() {
        let info = nodeinfo(None, Some(&node(true)));
        assert_eq!(
            info,
            json!({"software": {"wireguard": {"version": VERSION, "enabled": true,
                "public_key": "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="}}})
        );
        let off = nodeinfo(None, Some(&node(false)));
        assert!(
            off["software"]["wireguard"].get("public_key").is_none(),
            "{off}"
        );
        assert_eq!(
            statistics(None, Some(&node(true))),
            json!({"mesh_vpn": {"groups": {"backbone": {"peers": {"peer_1": null, "peer_2": null}}}}})
        );
        assert_eq!(statistics(None, Some(&node(false))), json!({}));
    }

    #[test]
    fn the_site_gateways_are_listed_with_the_current_one_on_top() {
        let mut gw = gateway();
        gw["name"] = json!("peer_2");
        let stats = statistics(Some(&status("connected", true, gw)), Some(&node(true)));
        assert_eq!(
            stats["mesh_vpn"]["groups"]["backbone"]["peers"],
            json!({"peer_1": null, "peer_2": {"established": 42}})
        );
        // Enabled but no gateway chosen: the site's gateways, not an empty box.
        let idle = statistics(
            Some(&status("no_uplink", true, Json::Null)),
            Some(&node(true)),
        );
        assert_eq!(
            idle["mesh_vpn"]["groups"]["backbone"]["peers"],
            json!({"peer_1": null, "peer_2": null})
        );
        // The daemon's word on enabled wins over UCI's.
        assert_eq!(
            statistics(
                Some(&status("disabled", false, Json::Null)),
                Some(&node(true))
            ),
            json!({})
        );
    }
}
