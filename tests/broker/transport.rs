//! Sockets, TLS and framing: IPv6, SO_MARK, refused and hanging connects,
//! untrusted certificates, chunked and close-delimited replies, and the test
//! broker's own routing (404/405).

use std::net::{Ipv6Addr, SocketAddr};
use std::time::Duration;

use mesh_vpn_wg::broker::{Api, BrokerError, Registration, Timeouts, TlsRoots};
use mesh_vpn_wg::resolve::Family;
use testkit::broker::{Behaviour, Config, Route, TestBroker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{DOMAIN, NODE_KEY, client, expected_gateway};

#[tokio::test]
async fn ipv6_loopback_works() {
    let bind = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
    let test_broker = match TestBroker::start(bind, true, Config::default()).await {
        Ok(b) => b,
        Err(e) => {
            testkit::skip(&format!("no IPv6 loopback here ({e})"));
            return;
        }
    };
    let broker = client(&test_broker.url(), &test_broker);
    let got = broker
        .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V6, 0)
        .await;
    assert_eq!(got.expect("v2 over [::1]"), expected_gateway());
    let request = test_broker.requests().pop().expect("one request");
    assert!(request.peer.is_ipv6(), "{:?}", request.peer);
    assert_eq!(
        request.header("Host"),
        Some(format!("[::1]:{}", test_broker.port()).as_str())
    );
}

#[tokio::test]
async fn untrusted_certificates_are_refused() {
    let test_broker = TestBroker::https().await.expect("broker starts");
    let stranger = TestBroker::https().await.expect("second broker starts");
    {
        let mut broker = client(&test_broker.url(), &test_broker);
        broker.roots = TlsRoots::Custom(vec![stranger.ca().expect("CA").ca_der()]);
        let err = broker
            .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
            .await
            .expect_err("untrusted");
        assert!(matches!(err, BrokerError::Tls { .. }), "{err:?}");
        assert!(err.to_string().contains("certificate"), "{err}");
    }
    assert!(
        test_broker.requests().is_empty(),
        "nothing was sent in the clear"
    );
}

#[tokio::test]
async fn chunked_and_close_delimited_replies_are_read() {
    for tls in [false, true] {
        for behaviour in [Behaviour::Chunked, Behaviour::CloseDelimited] {
            let bind = SocketAddr::from(([127, 0, 0, 1], 0));
            let test_broker = TestBroker::start(bind, tls, Config::default())
                .await
                .expect("starts");
            test_broker.set_behaviour(Route::V2, behaviour.clone());
            let broker = client(&test_broker.url(), &test_broker);
            let got = broker
                .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V4, 0)
                .await;
            assert_eq!(
                got.expect("framed reply"),
                expected_gateway(),
                "{behaviour:?} tls={tls}"
            );
        }
    }
}

#[tokio::test]
async fn a_closed_port_names_the_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let test_broker = TestBroker::http().await.expect("broker starts");
    let broker = client(&format!("http://{addr}"), &test_broker);
    let err = broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
        .expect_err("refused");
    assert!(
        matches!(err, BrokerError::Connect { addr: a, .. } if a == addr),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("cannot connect to {addr}: ")),
        "{err}"
    );
}

/// A listener whose accept queue is full drops SYNs, so connect hangs.
#[tokio::test]
async fn a_hanging_connect_hits_the_connect_timeout() {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    socket.listen(0).expect("listen");
    let addr = socket
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("inet");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(100),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let test_broker = TestBroker::http().await.expect("broker starts");
    let mut broker = client(&format!("http://{addr}"), &test_broker);
    broker.timeouts = Timeouts {
        connect: Duration::from_millis(200),
        total: Duration::from_secs(5),
    };
    match broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
    {
        Err(BrokerError::Connect { source, .. })
            if source.kind() == std::io::ErrorKind::TimedOut =>
        {
            assert!(
                source.to_string().contains("no answer within 0.2s"),
                "{source}"
            );
        }
        other => testkit::skip(&format!(
            "this kernel answered the queued connect ({other:?})"
        )),
    }
}

#[tokio::test]
async fn fwmark_is_set_on_the_socket_and_loopback_still_works() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let mut broker = client(&test_broker.url(), &test_broker);
    broker.fwmark = 1;
    match broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
    {
        Ok(got) => assert_eq!(got, Registration::Registered),
        Err(BrokerError::Mark { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            testkit::skip(&format!("setting SO_MARK needs CAP_NET_ADMIN ({source})"));
        }
        Err(e) => panic!("marked exchange failed: {e}"),
    }
}

/// Sends `request` as raw bytes and returns the status line and body.
async fn raw(test_broker: &TestBroker, request: &str) -> (String, String) {
    let mut stream = tokio::net::TcpStream::connect(test_broker.addr())
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.expect("read");
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    (status, body.to_string())
}

#[tokio::test]
async fn the_test_broker_routes_like_flask() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let (status, body) = raw(
        &test_broker,
        "GET /api/v2/wg/key/exchange HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 405 METHOD NOT ALLOWED");
    assert!(
        body.contains("<title>405 Method Not Allowed</title>"),
        "{body}"
    );
    let (status, _) = raw(
        &test_broker,
        "POST /api/v3/wg/key/exchange HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 404 NOT FOUND");
    let post = |body: &str| {
        format!(
            "POST /api/v1/wg/key/exchange HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let (status, body) = raw(&test_broker, &post("not json")).await;
    assert_eq!(status, "HTTP/1.1 400 BAD REQUEST");
    assert_eq!(
        body,
        "{\"error\":{\"message\":\"An internal error has occurred. Please try again later.\"}}\n"
    );
    // Flask ignores the Content-Type and Python's `$` accepts one trailing newline.
    let key_with_newline = format!(r#"{{"domain":"{DOMAIN}","public_key":"{NODE_KEY}\n"}}"#);
    let (status, body) = raw(&test_broker, &post(&key_with_newline)).await;
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 200 OK", "{\"Message\":\"OK\"}\n")
    );
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_hits_the_total_timeout() {
    // The kernel accepts the connection into the backlog; nobody ever speaks TLS.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("addr");
    let test_broker = TestBroker::https().await.expect("broker starts");
    let mut broker = client(&format!("https://{addr}"), &test_broker);
    broker.timeouts = Timeouts {
        connect: Duration::from_millis(200),
        total: Duration::from_millis(300),
    };
    let err = broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
        .expect_err("silent peer");
    assert!(
        matches!(
            err,
            BrokerError::Timeout {
                phase: mesh_vpn_wg::broker::Phase::TlsHandshake,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "gave up after 0.3s (total timeout) while in the TLS handshake"
    );
}
