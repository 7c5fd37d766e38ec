//! Answers an attacker on the broker's path could send (issue 16): each must
//! end in a clear error, within the size cap and the total timeout, and its
//! message must be one line with the attacker's bytes escaped. The times are
//! printed (MEASURED lines), not asserted tightly: a slow machine must pass.

use std::time::{Duration, Instant};

use mesh_vpn_wg::broker::{Api, BODY_LIMIT, BrokerError, Phase, Timeouts};
use mesh_vpn_wg::resolve::Family;
use serde_json::json;
use testkit::broker::{Behaviour, Route, TestBroker};

use crate::{DOMAIN, NODE_KEY, client};

/// The v2 error for `behaviour` with `timeouts`, and how long it took.
async fn v2_error_within(behaviour: Behaviour, timeouts: Timeouts) -> (BrokerError, Duration) {
    let test_broker = TestBroker::http().await.expect("broker starts");
    test_broker.set_behaviour(Route::V2, behaviour);
    let mut broker = client(&test_broker.url(), &test_broker);
    broker.timeouts = timeouts;
    let started = Instant::now();
    let result = broker
        .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    let took = started.elapsed();
    match result {
        Ok(r) => panic!("a hostile answer was accepted: {r:?}"),
        Err(e) => (e, took),
    }
}

async fn v2_error(behaviour: Behaviour) -> BrokerError {
    v2_error_within(behaviour, crate::client_timeouts()).await.0
}

/// One line, no control character, bounded: fit for syslog.
fn assert_loggable(message: &str) {
    assert!(
        !message.chars().any(mesh_vpn_wg::quote::needs_escape),
        "raw control character in {message:?}"
    );
    assert!(message.len() < 1024, "unbounded message: {message:?}");
}

fn hostile_v2(pointer: &str, value: serde_json::Value) -> Behaviour {
    let mut body = json!({"Endpoint": {
        "Address": "gw04.ext.ffmuc.net",
        "AllowedIPs": ["fe80::27c:16ff:fec0:6c74"],
        "Port": "40004",
        "PublicKey": "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=",
    }});
    *body.pointer_mut(pointer).expect("field in the body") = value;
    Behaviour::reply(200, &body.to_string())
}

#[tokio::test]
async fn control_bytes_in_reply_fields_are_refused_and_escaped() {
    let cases = [
        (
            hostile_v2("/Endpoint/Address", json!("$(reboot);`id`\n\0")),
            "Endpoint.Address: '$(reboot);`id`\\n\\0' is neither a host name nor an IP address",
        ),
        (
            hostile_v2("/Endpoint/Port", json!("99999999")),
            "Endpoint.Port: '99999999' is not a port from 1 to 65535",
        ),
        (
            hostile_v2("/Endpoint/AllowedIPs", json!(["0.0.0.0/0"])),
            "Endpoint.AllowedIPs[0]: '0.0.0.0/0' is not an IPv6 address",
        ),
        (
            hostile_v2("/Endpoint/PublicKey", json!("\u{1b}[2J\u{9b}31m\r\n")),
            "Endpoint.PublicKey: '\\x1b[2J\\u{9b}31m\\r\\n' is not a WireGuard key",
        ),
        (
            Behaviour::reply(
                400,
                r#"{"error":{"message":"busy\n<13>Nov  2 forged: root login\u0000"}}"#,
            ),
            "HTTP 400: 'busy\\n<13>Nov  2 forged: root login\\0'",
        ),
        (
            Behaviour::Reply {
                status: 502,
                body: b"\xff\xfe<h1>\x07bad\x1b]0;gateway\x07".to_vec(),
            },
            "HTTP 502: the reply is not JSON: '\\xff\\xfe<h1>\\x07bad\\x1b]0;gateway\\x07'",
        ),
        (
            Behaviour::Raw(b"HTTP/1.1 200 OK\x1b[2J\r\nX-Evil\x00\r\n\r\n".to_vec()),
            "the reply is not valid HTTP: header line without ':': 'X-Evil\\0'",
        ),
        (
            Behaviour::Raw(b"HTTP/1.1 2\n0 OK\r\n\r\n".to_vec()),
            "the reply is not valid HTTP: bad status line 'HTTP/1.1 2'",
        ),
        (
            Behaviour::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1\x1b[8m\r\n\r\n{".to_vec()),
            "the reply is not valid HTTP: Content-Length '1\\x1b[8m' is not a number",
        ),
    ];
    for (behaviour, expected) in cases {
        let message = v2_error(behaviour).await.to_string();
        assert_loggable(&message);
        assert!(message.starts_with(expected), "{message}");
    }
}

#[tokio::test]
async fn a_redirect_is_refused_by_name() {
    let (err, took) = v2_error_within(
        Behaviour::Redirect("http://evil.example/\u{1b}[31mx".into()),
        crate::client_timeouts(),
    )
    .await;
    let message = err.to_string();
    testkit::measured(&format!("redirect refused after {took:?}: {message}"));
    assert_loggable(&message);
    assert!(
        message.starts_with("the reply is not valid HTTP: HTTP 301 redirects to 'http://evil.example/\\x1b[31mx'; redirects are not followed"),
        "{message}"
    );
}

#[tokio::test]
async fn a_body_that_never_ends_stops_at_the_size_cap() {
    let (err, took) = v2_error_within(Behaviour::EndlessBody, Timeouts::default()).await;
    testkit::measured(&format!("endless body refused after {took:?}: {err}"));
    assert!(
        matches!(err, BrokerError::TooLarge { limit: BODY_LIMIT }),
        "{err:?}"
    );
    // Reading 64 KiB over loopback takes milliseconds; only the timeout bounds it.
    assert!(took < Timeouts::default().total, "{took:?}");
}

#[tokio::test]
async fn a_broker_sending_one_byte_every_two_seconds_hits_the_total_timeout() {
    let timeouts = Timeouts::default();
    let (err, took) = v2_error_within(Behaviour::Trickle(Duration::from_secs(2)), timeouts).await;
    testkit::measured(&format!("byte every 2 s given up after {took:?}: {err}"));
    assert!(
        matches!(
            err,
            BrokerError::Timeout {
                phase: Phase::Receive,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "gave up after 30s (total timeout) while waiting for the reply"
    );
    // Not before the deadline; the upper bound is generous for a loaded machine.
    assert!(
        took >= timeouts.total && took < timeouts.total * 3,
        "{took:?}"
    );
}
