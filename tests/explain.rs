//! `explain` on node trees nobody tuned it to: multi-domain sites with
//! aliases, every loadbalancing mode with and without override, IPv4 and IPv6
//! endpoints, fresh trees without a key, and broken input of every kind.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

fn explain(root: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mesh-vpn-wg"))
        .arg("--root")
        .arg(root)
        .arg("explain")
        .args(extra)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

fn explain_json(root: &Path) -> Value {
    let (code, stdout, stderr) = explain(root, &["--json"]);
    assert_eq!(code, 0, "explain failed: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Every file below `root` with its contents, to prove nothing was written.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(
                    path.display().to_string(),
                    std::fs::read(&path).unwrap_or_default(),
                );
            }
        }
    }
    files
}

#[test]
fn identity_interfaces_and_broker_of_a_single_domain_node() {
    let tree = node(Some("on-by-default"), None);
    let out = explain_json(tree.path());
    assert_eq!(out["public_key"], PUBLIC_KEY);
    assert_eq!(out["link_local"], LINK_LOCAL);
    assert_eq!(out["vni"], 3_773_516);
    assert_eq!(out["mtu"], json!({"vxlan": 1406, "wireguard": 1476}));
    assert_eq!(
        out["interfaces"],
        json!({"wireguard": "wg_mesh_vpn", "vxlan": "mesh-vpn"})
    );
    assert_eq!(out["vxlan_port"], 8472);
    assert_eq!(
        out["broker"]["v1_url"],
        "https://broker.example.net/api/v1/wg/key/exchange"
    );
    assert_eq!(
        out["broker"]["v2_url"],
        "https://broker.example.net/api/v2/wg/key/exchange"
    );
    let ca_bundle = out["broker"]["ca_bundle"].as_str().unwrap_or_default();
    assert!(
        ca_bundle.contains("etc/ssl/certs/ca-certificates.crt") && ca_bundle.contains("ca-bundle"),
        "an https broker without the image's CA bundle is named: {ca_bundle}"
    );
    assert_eq!(out["enabled"], true);
    assert_eq!(out["ntp_servers"], json!(["ntp.example.net"]));
}

#[test]
fn loadbalancing_for_every_site_mode_and_override() {
    // (site mode, UCI override) -> (effective, user_changeable, override as reported)
    let cases = [
        (Some("on"), None, true, false, Value::Null),
        (Some("on"), Some("0"), true, false, json!(false)),
        (Some("off"), None, false, false, Value::Null),
        (Some("off"), Some("1"), false, false, json!(true)),
        (Some("on-by-default"), None, true, true, Value::Null),
        (Some("on-by-default"), Some("0"), false, true, json!(false)),
        (Some("on-by-default"), Some("1"), true, true, json!(true)),
        (Some("off-by-default"), None, false, true, Value::Null),
        (Some("off-by-default"), Some("1"), true, true, json!(true)),
        (Some("off-by-default"), Some("0"), false, true, json!(false)),
        (
            Some("off-by-default"),
            Some("true"),
            false,
            true,
            Value::Null,
        ),
        (None, None, false, false, Value::Null),
        (None, Some("1"), false, false, json!(true)),
    ];
    for (mode, ov, effective, changeable, reported) in cases {
        let tree = node(mode, ov);
        let lb = &explain_json(tree.path())["loadbalancing"];
        let label = format!("site {mode:?} override {ov:?}: {lb}");
        assert_eq!(
            lb["site_mode"],
            mode.map_or(Value::Null, |m| json!(m)),
            "{label}"
        );
        assert_eq!(lb["effective"], effective, "{label}");
        assert_eq!(lb["user_changeable"], changeable, "{label}");
        assert_eq!(lb["override"], reported, "{label}");
        let first = explain_json(tree.path())["broker"]["first_api"].clone();
        assert_eq!(first, if effective { "v2" } else { "v1" }, "{label}");
    }
}

#[test]
fn multi_domain_site_with_an_alias_uses_the_primary_domain() {
    let tree = Tree::new();
    let mut site = wireguard_site(Some("off"));
    site.as_object_mut().unwrap().remove("domain_seed");
    site["mesh_vpn"]["wireguard"]
        .as_object_mut()
        .unwrap()
        .remove("peers");
    tree.site(site);
    let seed2 = "f".repeat(64);
    tree.domain(
        "dom_a",
        json!({"domain_seed": SEED, "mesh_vpn": {"wireguard": {"peers": peers()}}}),
    );
    tree.domain(
        "dom_b",
        json!({
            "domain_seed": seed2,
            "mesh_vpn": {"wireguard": {"mtu": 1376, "peers": [
                {"publickey": GATEWAYS[0].0, "endpoint": "198.51.100.9:51820", "link_address": GATEWAYS[0].2}
            ]}}
        }),
    );
    tree.alias("old_name", "dom_b");
    tree.uci_domain("old_name")
        .uci_wireguard(&[("enabled", "1"), ("privatekey", PRIVATE_KEY)]);

    let out = explain_json(tree.path());
    assert_eq!(out["domain"]["configured"], "old_name");
    assert_eq!(out["domain"]["code"], "dom_b");
    // The domain's mtu wins over the site's, its peers replace the list.
    assert_eq!(out["mtu"]["vxlan"], 1376);
    assert_eq!(out["peers"].as_array().unwrap().len(), 1);
    assert_eq!(out["peers"][0]["endpoint"], "198.51.100.9:51820");
    // VNI from dom_b's seed, not dom_a's.
    assert_ne!(out["vni"], 3_773_516);
    let (_, text, _) = explain(tree.path(), &[]);
    assert!(text.contains("dom_b (alias 'old_name')"), "{text}");

    tree.uci_domain("dom_a");
    let out = explain_json(tree.path());
    assert_eq!(out["domain"]["code"], "dom_a");
    assert_eq!(out["vni"], 3_773_516);
    assert_eq!(out["peers"][1]["endpoint"], "[2001:db8::2]:40012");
    assert_eq!(out["peers"][1]["name"], "peer_2");
    assert_eq!(out["peers"][1]["link_address"], GATEWAYS[1].2);
}

#[test]
fn a_fresh_tree_without_a_key_is_reported_not_written() {
    let tree = Tree::new();
    tree.site(wireguard_site(Some("on"))).uci_domain("example");
    let before = snapshot(tree.path());
    let out = explain_json(tree.path());
    assert!(
        out["private_key"]
            .as_str()
            .unwrap()
            .contains("would generate"),
        "{out}"
    );
    assert_eq!(out["public_key"], Value::Null);
    assert_eq!(out["link_local"], Value::Null);
    assert_eq!(out["enabled"], false);
    assert_eq!(snapshot(tree.path()), before, "explain wrote to the tree");

    tree.uci_wireguard(&[("enabled", "1"), ("privatekey", "not-a-key")]);
    let out = explain_json(tree.path());
    assert!(
        out["private_key"].as_str().unwrap().contains("replace"),
        "{out}"
    );
}

#[test]
fn the_private_key_is_never_printed() {
    let tree = node(Some("on"), None);
    for args in [&[][..], &["--json"][..]] {
        let (code, stdout, stderr) = explain(tree.path(), args);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains(PUBLIC_KEY));
        assert!(!stdout.contains(PRIVATE_KEY) && !stderr.contains(PRIVATE_KEY));
    }
}

#[test]
fn a_site_with_loadbalancing_on_needs_no_peers() {
    let tree = node(Some("on"), None);
    let mut site = wireguard_site(Some("on"));
    site["mesh_vpn"]["wireguard"]
        .as_object_mut()
        .unwrap()
        .remove("peers");
    tree.site(site);
    assert_eq!(explain_json(tree.path())["peers"], json!([]));
}

#[test]
fn broken_input_is_a_clear_error_and_changes_nothing() {
    let wg = |f: &dyn Fn(&mut Value)| {
        let mut site = wireguard_site(Some("off"));
        f(&mut site["mesh_vpn"]["wireguard"]);
        site
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"domain_seed": SEED}),
            "mesh_vpn.wireguard: is missing",
        ),
        (
            wg(&|w| w["mtu"] = json!("1406")),
            "mesh_vpn.wireguard.mtu: must be a whole number",
        ),
        (wg(&|w| w["mtu"] = json!(100)), "mesh_vpn.wireguard.mtu"),
        (
            wg(&|w| w["broker"] = json!(7)),
            "mesh_vpn.wireguard.broker: must be a string",
        ),
        (
            wg(&|w| w["iface"] = json!("a very long interface")),
            "mesh_vpn.wireguard.iface",
        ),
        (
            wg(&|w| w["loadbalancing"] = json!("maybe")),
            "'maybe' is not one of",
        ),
        (
            wg(&|w| w["peers"] = json!({"gw1": {}})),
            "map of named peers",
        ),
        (wg(&|w| w["peers"] = json!([])), "is empty"),
        (
            wg(&|w| w["peers"][1]["publickey"] = json!("short")),
            "mesh_vpn.wireguard.peers[2]: publickey 'short'",
        ),
        (
            wg(&|w| w["peers"][0]["endpoint"] = json!("gw1.example.net")),
            "peers[1]: endpoint",
        ),
        (
            wg(&|w| w["peers"][0]["link_address"] = json!("10.0.0.1")),
            "link_address '10.0.0.1'",
        ),
        (
            wg(&|w| {
                w.as_object_mut()
                    .unwrap()
                    .remove("peers")
                    .map(|_| ())
                    .unwrap()
            }),
            "peers: is missing",
        ),
        (
            json!({"domain_seed": "xyz", "mesh_vpn": wireguard_site(None)["mesh_vpn"]}),
            "domain_seed: must be 64",
        ),
    ];
    for (site, expected) in cases {
        let tree = node(Some("off"), None);
        tree.site(site);
        let before = snapshot(tree.path());
        let (code, stdout, stderr) = explain(tree.path(), &["--json"]);
        assert_eq!(code, 1, "{expected}: {stdout}");
        assert!(
            stderr.contains(expected),
            "expected '{expected}' in: {stderr}"
        );
        assert!(
            stderr.contains("site.json"),
            "the error names the file: {stderr}"
        );
        assert_eq!(snapshot(tree.path()), before);
    }
}

#[test]
fn broken_files_and_domains_are_named() {
    let tree = node(Some("off"), None);
    tree.write("lib/gluon/site.json", "{\"mesh_vpn\": ");
    let (code, _, stderr) = explain(tree.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("site.json") && stderr.contains("not valid JSON"),
        "{stderr}"
    );

    let tree = node(Some("off"), None);
    tree.domain("real", json!({}));
    tree.uci_domain("missing_dom");
    let (code, _, stderr) = explain(tree.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("core.domain 'missing_dom' has no domain file"),
        "{stderr}"
    );

    tree.uci_domain("../../etc/passwd");
    let (_, _, stderr) = explain(tree.path(), &[]);
    assert!(stderr.contains("is not a valid domain name"), "{stderr}");

    tree.uci(
        "gluon",
        "\nconfig core 'core'\n\toption domain 'unterminated\n",
    );
    let (code, _, stderr) = explain(tree.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("etc/config/gluon:3"),
        "names file and line: {stderr}"
    );
}

#[test]
fn bad_command_lines_exit_2_with_usage() {
    let tree = node(Some("off"), None);
    let (code, _, stderr) = explain(tree.path(), &["--frobnicate"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--frobnicate") && stderr.contains("usage:"),
        "{stderr}"
    );
}

#[test]
fn health_tunables_come_from_uci_and_bad_values_are_named() {
    let tree = node(Some("off"), None);
    assert_eq!(
        explain_json(tree.path())["health"],
        json!({"probe_interval_secs": 5, "failures_before_reconnect": 3, "probe_after_silence_secs": 2})
    );
    tree.uci_wireguard(&[
        ("enabled", "1"),
        ("privatekey", PRIVATE_KEY),
        ("failures_before_reconnect", "6"),
        ("probe_after_silence", "4"),
    ]);
    let health = &explain_json(tree.path())["health"];
    assert_eq!(health["failures_before_reconnect"], 6);
    assert_eq!(health["probe_after_silence_secs"], 4);
    assert_eq!(
        explain_json(tree.path())["broker"]["registration_window_secs"],
        3600
    );
    tree.uci_wireguard(&[
        ("enabled", "1"),
        ("privatekey", PRIVATE_KEY),
        ("registration_window", "10"),
    ]);
    assert_eq!(
        explain_json(tree.path())["broker"]["registration_window_secs"],
        10
    );
    for (option, value) in [
        ("failures_before_reconnect", "0"),
        ("probe_interval", "fast"),
        ("probe_after_silence", "0"),
        ("registration_window", "0"),
    ] {
        tree.uci_wireguard(&[
            ("enabled", "1"),
            ("privatekey", PRIVATE_KEY),
            (option, value),
        ]);
        let (code, _, stderr) = explain(tree.path(), &[]);
        assert_eq!(code, 1);
        assert!(
            stderr.contains(&format!("mesh_vpn.{option} = '{value}'")),
            "{stderr}"
        );
        assert!(stderr.contains("etc/config/wireguard"), "{stderr}");
    }
}
