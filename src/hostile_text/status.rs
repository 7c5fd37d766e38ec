//! `status` as `ubus call mesh_vpn status` shows it, with outside text in
//! every string a snapshot holds, as if a call site had not quoted it.

use std::time::Instant;

use super::{Checked, texts, values};
use crate::daemon::status::Ages;
use crate::engine::state::{Check, Peer, PeerSource, Snapshot};
use crate::quote::needs_escape;

fn snapshot(text: &str) -> Snapshot {
    let mut s = Snapshot::starting(
        true,
        None,
        7,
        crate::loadbalancing::decide(None, None),
        text.to_string(),
    );
    s.reason = text.to_string();
    s.last_error = Some(text.to_string());
    s.broker_error = Some(text.to_string());
    s.peer = Some(Peer {
        source: PeerSource::Broker,
        name: text.to_string(),
        public_key: text.to_string(),
        endpoint: text.to_string(),
        link_address: "fe80::1".parse().expect("literal"),
        latest_handshake: None,
        rx_bytes: 0,
        tx_bytes: 0,
    });
    let check = Check {
        ok: false,
        at: s.since,
        detail: Some(text.to_string()),
    };
    s.checks.insert("http", check);
    s
}

/// The JSON text of `status`, through blobmsg as ubusd relays it.
fn status_json(snapshot: &Snapshot) -> String {
    let table = snapshot.render(&Ages::new(Instant::now()));
    let bytes = ubus_wire::blobmsg::encode_table(&table).expect("encodes");
    let decoded = ubus_wire::blobmsg::decode_table_body(&bytes).expect("decodes");
    ubus_wire::json::from_table(&decoded).to_string()
}

#[test]
fn status_stays_valid_json_without_raw_controls() {
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        let json = status_json(&snapshot(&text));
        let raw_char = json.chars().find(|c| needs_escape(*c));
        assert!(
            raw_char.is_none(),
            "raw {raw_char:?} in status for {}",
            crate::quote::quote(raw)
        );
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        let reason = value["reason"].as_str().expect("reason");
        for shown in [
            &value["last_error"],
            &value["peer"]["name"],
            &value["broker"]["last_error"],
        ] {
            assert_eq!(
                shown.as_str(),
                Some(reason),
                "the same text shows the same everywhere"
            );
        }
        // Text that needed no escaping keeps its meaning exactly.
        if !text.chars().any(needs_escape) {
            assert_eq!(reason, text);
        }
        checked.0 += 1;
    }
    checked.at_least(values().len());
}
