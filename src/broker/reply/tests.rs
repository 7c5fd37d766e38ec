use serde_json::{Value, json};

use super::*;

const GW_KEY: &str = "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=";

fn v2_body() -> Value {
    json!({"Endpoint": {
        "Address": "gw04.ext.ffmuc.net",
        "AllowedIPs": ["fe80::27c:16ff:fec0:6c74"],
        "Port": "40011",
        "PublicKey": GW_KEY,
    }})
}

fn v2_with(pointer: &str, value: Value) -> Result<Registration, BrokerError> {
    let mut body = v2_body();
    match body.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => panic!("no {pointer} in the test body"),
    }
    parse(Api::V2, 200, body.to_string().as_bytes())
}

fn message(result: Result<Registration, BrokerError>) -> String {
    match result {
        Ok(r) => panic!("accepted: {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn v1_ok_and_v2_gateway_are_read() {
    assert_eq!(
        parse(Api::V1, 200, b"{\"Message\":\"OK\"}\n").unwrap(),
        Registration::Registered
    );
    let got = parse(Api::V2, 200, v2_body().to_string().as_bytes()).unwrap();
    assert_eq!(
        got,
        Registration::Gateway(GatewayPeer {
            host: Host::Name("gw04.ext.ffmuc.net".into()),
            port: 40011,
            public_key: GW_KEY.into(),
            link_address: "fe80::27c:16ff:fec0:6c74".parse().unwrap(),
        })
    );
    let with_prefix = v2_with("/Endpoint/AllowedIPs", json!(["fe80::1/128"])).unwrap();
    let Registration::Gateway(peer) = with_prefix else {
        panic!("not a gateway")
    };
    assert_eq!(peer.link_address, "fe80::1".parse::<Ipv6Addr>().unwrap());
    let literal = v2_with("/Endpoint/Address", json!("2001:db8::7")).unwrap();
    let Registration::Gateway(peer) = literal else {
        panic!("not a gateway")
    };
    assert_eq!(peer.host, Host::Ip("2001:db8::7".parse().unwrap()));
}

#[test]
fn every_bad_v2_field_is_named() {
    let cases = [
        (
            "/Endpoint/Port",
            json!("70000"),
            "Endpoint.Port: '70000' is not a port",
        ),
        (
            "/Endpoint/Port",
            json!(40011),
            "Endpoint.Port: expected a string, got '40011'",
        ),
        (
            "/Endpoint/Port",
            json!("0"),
            "Endpoint.Port: '0' is not a port",
        ),
        (
            "/Endpoint/Address",
            json!("bad host"),
            "Endpoint.Address: 'bad host' is neither",
        ),
        (
            "/Endpoint/Address",
            json!(null),
            "Endpoint.Address: expected a string, got 'null'",
        ),
        (
            "/Endpoint/PublicKey",
            json!("short"),
            "Endpoint.PublicKey: 'short' is not a WireGuard key",
        ),
        (
            "/Endpoint/PublicKey",
            json!("TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2h="),
            "Endpoint.PublicKey",
        ),
        (
            "/Endpoint/AllowedIPs",
            json!([]),
            "Endpoint.AllowedIPs: is empty",
        ),
        (
            "/Endpoint/AllowedIPs",
            json!("fe80::1"),
            "Endpoint.AllowedIPs: expected a list",
        ),
        (
            "/Endpoint/AllowedIPs",
            json!(["10.0.0.1"]),
            "Endpoint.AllowedIPs[0]: '10.0.0.1' is not an IPv6",
        ),
        (
            "/Endpoint/AllowedIPs",
            json!(["fe80::1/64"]),
            "is not an IPv6 address",
        ),
        (
            "/Endpoint/AllowedIPs",
            json!([7]),
            "Endpoint.AllowedIPs[0]: expected a string",
        ),
        ("/Endpoint", json!("x"), "Endpoint: expected an object"),
    ];
    for (pointer, value, needle) in cases {
        let got = message(v2_with(pointer, value.clone()));
        assert!(
            got.starts_with(needle) || got.contains(needle),
            "{pointer}={value}: {got}"
        );
    }
    let missing = message(parse(Api::V2, 200, br#"{"Endpoint":{"Address":"gw"}}"#));
    assert_eq!(missing, "Endpoint.Port: missing");
    assert_eq!(
        message(parse(Api::V2, 200, br#"{"Message":"OK"}"#)),
        "Endpoint: missing"
    );
}

#[test]
fn v1_wants_exactly_ok() {
    assert_eq!(
        message(parse(Api::V1, 200, br#"{"Message":"NOPE"}"#)),
        "Message: 'NOPE' is not \"OK\""
    );
    assert_eq!(message(parse(Api::V1, 200, b"{}")), "Message: missing");
}

#[test]
fn error_statuses_carry_the_brokers_message() {
    let body = br#"{"error":{"message":"no gateway online for this domain, please check the domain value and try again later"}}"#;
    let err = parse(Api::V2, 400, body).unwrap_err();
    assert!(matches!(err, BrokerError::Http { status: 400, .. }));
    assert_eq!(
        err.to_string(),
        "HTTP 400: 'no gateway online for this domain, please check the domain value and try again later'"
    );
    let odd = message(parse(Api::V1, 500, br#"{"detail":"x"}"#));
    assert_eq!(odd, r#"HTTP 500: no error message in '{"detail":"x"}'"#);
}

#[test]
fn non_json_bodies_say_so_with_a_short_excerpt() {
    let html = format!(
        "<!doctype html>\n<title>404 Not Found</title>{}",
        "x".repeat(500)
    );
    let got = message(parse(Api::V2, 404, html.as_bytes()));
    assert!(
        got.starts_with("HTTP 404: the reply is not JSON: '<!doctype html>\\n<title>404"),
        "{got}"
    );
    assert!(got.ends_with("… (544 bytes)"), "excerpt not cut: {got}");
    let got = message(parse(Api::V1, 200, b"OK"));
    assert_eq!(got, "HTTP 200: the reply is not JSON: 'OK'");
}
