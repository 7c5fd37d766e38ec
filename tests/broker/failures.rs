//! Every way the broker can say no, and checkuplink's v2 → v1 fallback.

use std::time::Duration;

use mesh_vpn_wg::broker::{Api, BrokerError, Phase, Registration, Timeouts};
use mesh_vpn_wg::resolve::Family;
use testkit::broker::{Behaviour, Route, TestBroker};

use crate::{DOMAIN, NODE_KEY, client, expected_gateway};

async fn v2_error(behaviour: Behaviour) -> BrokerError {
    let test_broker = TestBroker::http().await.expect("broker starts");
    test_broker.set_behaviour(Route::V2, behaviour);
    let broker = client(&test_broker.url(), &test_broker);
    match broker
        .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
    {
        Ok(r) => panic!("v2 succeeded: {r:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn broker_error_statuses_surface_their_message() {
    let err = v2_error(Behaviour::NoGateway).await;
    assert!(
        matches!(err, BrokerError::Http { status: 400, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("no gateway online for this domain"),
        "{err}"
    );
    let err = v2_error(Behaviour::NoGatewayData).await;
    assert_eq!(err.to_string(), "HTTP 500: 'could not get gateway data'");
    let err = v2_error(Behaviour::V2Missing).await;
    assert!(
        matches!(err, BrokerError::NotJson { status: 404, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("404 Not Found"), "{err}");
}

#[tokio::test]
async fn a_domain_the_broker_does_not_know_gives_the_generic_400() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let broker = client(&test_broker.url(), &test_broker);
    let err = broker
        .exchange(Api::V1, "ffmuc_nowhere", NODE_KEY, Family::V4, 0)
        .await
        .expect_err("unknown domain");
    assert_eq!(
        err.to_string(),
        "HTTP 400: 'An internal error has occurred. Please try again later.'"
    );
    assert!(test_broker.published().is_empty());
}

#[tokio::test]
async fn malformed_wrong_typed_and_oversized_replies_are_named() {
    let err = v2_error(Behaviour::reply(200, "{\"Endpoint\": ")).await;
    assert!(
        matches!(err, BrokerError::NotJson { status: 200, .. }),
        "{err:?}"
    );
    let wrong_port = r#"{"Endpoint":{"Address":"gw1.example.net","AllowedIPs":["fe80::1"],"Port":40011,"PublicKey":"TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g="}}"#;
    let err = v2_error(Behaviour::reply(200, wrong_port)).await;
    assert_eq!(
        err.to_string(),
        "Endpoint.Port: expected a string, got '40011'"
    );
    let err = v2_error(Behaviour::Oversized(100 * 1024)).await;
    assert!(
        matches!(err, BrokerError::TooLarge { limit: 65536 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "the reply is larger than the 64 KiB limit");
}

#[tokio::test]
async fn v2_failure_falls_back_to_v1_and_keeps_the_v2_error() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    test_broker.set_behaviour(Route::V2, Behaviour::NoGateway);
    let broker = client(&test_broker.url(), &test_broker);
    let outcome = broker.register(true, DOMAIN, NODE_KEY, Family::V4, 0).await;
    assert_eq!(
        outcome.result.expect("v1 succeeds"),
        Registration::Registered
    );
    let v2 = outcome.v2_error.expect("v2 error kept");
    assert!(
        matches!(v2, BrokerError::Http { status: 400, .. }),
        "{v2:?}"
    );
    let paths: Vec<_> = test_broker.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/api/v2/wg/key/exchange", "/api/v1/wg/key/exchange"]
    );
    // wgkex publishes before failing: the key reached the workers twice.
    assert_eq!(test_broker.published().len(), 2);
}

#[tokio::test]
async fn register_uses_v2_when_it_works_and_v1_only_without_loadbalancing() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let broker = client(&test_broker.url(), &test_broker);
    let outcome = broker.register(true, DOMAIN, NODE_KEY, Family::V4, 0).await;
    assert_eq!(outcome.result.expect("v2 succeeds"), expected_gateway());
    assert!(outcome.v2_error.is_none());
    let outcome = broker
        .register(false, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert_eq!(
        outcome.result.expect("v1 succeeds"),
        Registration::Registered
    );
    assert!(outcome.v2_error.is_none());
    let paths: Vec<_> = test_broker.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/api/v2/wg/key/exchange", "/api/v1/wg/key/exchange"]
    );
}

#[tokio::test]
async fn a_v1_failure_is_an_error() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    test_broker.set_behaviour(Route::V2, Behaviour::NoGatewayData);
    test_broker.set_behaviour(Route::V1, Behaviour::reply(503, "busy"));
    let broker = client(&test_broker.url(), &test_broker);
    let outcome = broker.register(true, DOMAIN, NODE_KEY, Family::V4, 0).await;
    let err = outcome.result.expect_err("v1 failed");
    assert_eq!(err.to_string(), "HTTP 503: the reply is not JSON: 'busy'");
    assert!(outcome.v2_error.is_some());
}

async fn timed_out(behaviour: Behaviour) -> BrokerError {
    let test_broker = TestBroker::http().await.expect("broker starts");
    test_broker.set_behaviour(Route::V1, behaviour);
    let mut broker = client(&test_broker.url(), &test_broker);
    broker.timeouts = Timeouts {
        connect: Duration::from_millis(200),
        total: Duration::from_millis(300),
    };
    let started = std::time::Instant::now();
    let result = broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    result.expect_err("timed out")
}

#[tokio::test]
async fn slow_and_silent_brokers_hit_the_total_timeout() {
    for behaviour in [
        Behaviour::NeverReply,
        Behaviour::Delay(Duration::from_secs(3)),
    ] {
        let err = timed_out(behaviour).await;
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
            "gave up after 0.3s (total timeout) while waiting for the reply"
        );
    }
    // A short delay inside the budget is fine.
    let test_broker = TestBroker::http().await.expect("broker starts");
    test_broker.set_behaviour(Route::V1, Behaviour::Delay(Duration::from_millis(50)));
    let broker = client(&test_broker.url(), &test_broker);
    let got = broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert_eq!(got.expect("delayed v1"), Registration::Registered);
}
