//! The broker client against the wgkex stand-in of testkit: successful
//! exchanges over HTTP and HTTPS, and the requests exactly as they arrive.

mod broker {
    pub mod failures;
    pub mod hostile;
    pub mod transport;
}

use std::time::Duration;

use mesh_vpn_wg::broker::{
    Api, Board, Broker, BrokerUrl, GatewayPeer, NodeHeaders, Registration, Timeouts, TlsRoots,
};
use mesh_vpn_wg::endpoint::Host;
use mesh_vpn_wg::resolve::Family;
use testkit::broker::TestBroker;

pub const DOMAIN: &str = "ffmuc_welt";
/// RFC 7748 6.1 (Alice), the public key the tests register.
pub const NODE_KEY: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

/// A client for `url`, trusting the test broker's CA, with short timeouts.
pub fn client(url: &str, test_broker: &TestBroker) -> Broker {
    let roots = match test_broker.ca() {
        Some(ca) => TlsRoots::Custom(vec![ca.ca_der()]),
        None => TlsRoots::Custom(Vec::new()),
    };
    Broker {
        url: BrokerUrl::parse(url).expect("test URL parses"),
        headers: NodeHeaders::default(),
        fwmark: 0,
        roots,
        timeouts: client_timeouts(),
    }
}

/// Short timeouts, so a test of a failure does not wait for the real ones.
pub fn client_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
    }
}

pub fn expected_gateway() -> Registration {
    Registration::Gateway(GatewayPeer {
        host: Host::Name("gw04.ext.ffmuc.net".into()),
        port: 40004,
        public_key: "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=".into(),
        link_address: "fe80::27c:16ff:fec0:6c74".parse().expect("literal"),
    })
}

async fn both_apis_succeed(test_broker: TestBroker) {
    let broker = client(&test_broker.url(), &test_broker);
    let v1 = broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert_eq!(v1.expect("v1 exchange"), Registration::Registered);
    let v2 = broker
        .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert_eq!(v2.expect("v2 exchange"), expected_gateway());
    let paths: Vec<_> = test_broker.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/api/v1/wg/key/exchange", "/api/v2/wg/key/exchange"]
    );
    assert_eq!(
        test_broker.published(),
        vec![(DOMAIN.to_string(), NODE_KEY.to_string()); 2]
    );
}

#[tokio::test]
async fn v1_and_v2_over_http() {
    both_apis_succeed(TestBroker::http().await.expect("broker starts")).await;
}

#[tokio::test]
async fn v1_and_v2_over_https() {
    both_apis_succeed(TestBroker::https().await.expect("broker starts")).await;
}

#[tokio::test]
async fn https_trusts_the_ca_bundle_under_the_root() {
    let test_broker = TestBroker::https().await.expect("broker starts");
    let root = tempfile::tempdir().expect("tempdir");
    let bundle = root.path().join("etc/ssl/certs/ca-certificates.crt");
    std::fs::create_dir_all(bundle.parent().expect("has parent")).expect("mkdir");
    let ca = test_broker.ca().expect("https broker has a CA");
    std::fs::write(&bundle, ca.ca_pem()).expect("write bundle");
    let mut broker = client(&test_broker.url(), &test_broker);
    broker.roots = TlsRoots::system(&mesh_vpn_wg::root::Root::new(root.path()));
    let got = broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert_eq!(
        got.expect("trusted through the bundle"),
        Registration::Registered
    );
}

#[tokio::test]
async fn headers_arrive_exactly_as_gluon_sends_them() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let mut broker = client(&test_broker.url(), &test_broker);
    let board = Board::from_json(
        r#"{"kernel":"5.10.206","board_name":"vmware-inc-vmware-virtual-platform",
            "release":{"version":"22.03-SNAPSHOT","target":"x86/64"}}"#,
    )
    .expect("board JSON");
    broker.headers = NodeHeaders::new(Some("v2023.1.2+\n"), Some("v2024.3.1\n"), Some(board));
    broker
        .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
        .expect("v2 exchange");
    let requests = test_broker.requests();
    let request = requests.first().expect("one request");
    let port = test_broker.port();
    let expected = [
        ("Host", format!("127.0.0.1:{port}")),
        (
            "User-Agent",
            "gluon/v2023.1.2+ (vmware-inc-vmware-virtual-platform) OpenWrt/22.03-SNAPSHOT \
             (kernel/5.10.206; x86/64) firmware/v2024.3.1"
                .into(),
        ),
        ("X-Gluon-Version", "v2023.1.2+".into()),
        ("X-Board-Name", "vmware-inc-vmware-virtual-platform".into()),
        ("X-Openwrt-Version", "22.03-SNAPSHOT".into()),
        ("X-Kernel-Version", "5.10.206".into()),
        ("X-Target-Name", "x86/64".into()),
        ("X-Firmware-Version", "v2024.3.1".into()),
        ("Content-Type", "application/json".into()),
        ("Content-Length", "83".into()),
        ("Connection", "close".into()),
    ];
    let got: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let want: Vec<(&str, &str)> = expected.iter().map(|(n, v)| (*n, v.as_str())).collect();
    assert_eq!(got, want);
    assert_eq!(request.method, "POST");
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        format!(r#"{{"domain":"{DOMAIN}","public_key":"{NODE_KEY}"}}"#)
    );
}

#[tokio::test]
async fn unknown_values_are_left_out_not_faked() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let mut broker = client(&test_broker.url(), &test_broker);
    let board = Board::from_json(r#"{"kernel":"6.6.73"}"#).expect("board JSON");
    broker.headers = NodeHeaders::new(None, Some("v2025.1.0"), Some(board));
    broker
        .exchange(Api::V1, DOMAIN, NODE_KEY, Family::V4, 0)
        .await
        .expect("v1 exchange");
    let request = test_broker.requests().pop().expect("one request");
    let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Host",
            "User-Agent",
            "X-Kernel-Version",
            "X-Firmware-Version",
            "Content-Type",
            "Content-Length",
            "Connection"
        ]
    );
    let agent = request.header("User-Agent").expect("a User-Agent");
    assert_eq!(agent, format!("mesh-vpn-wg/{}", env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn legacy_v1_url_suffix_still_reaches_both_apis() {
    let test_broker = TestBroker::http().await.expect("broker starts");
    let legacy = format!("{}/api/v1/wg/key/exchange", test_broker.url());
    let broker = client(&legacy, &test_broker);
    let got = broker
        .exchange(Api::V2, DOMAIN, NODE_KEY, Family::V4, 0)
        .await;
    assert_eq!(got.expect("v2 exchange"), expected_gateway());
    let request = test_broker.requests().pop().expect("one request");
    assert_eq!(request.path, "/api/v2/wg/key/exchange");
}
