//! The once-a-second counter sample allocates nothing in steady state: a
//! counting global allocator (this binary's own) around 100 reads, after a
//! few reads to warm up. Three levels:
//! - the kernel dump walk and the UAPI scan on bytes (any host);
//! - `LiveTunnel::stats()`, the engine's real path (sampler thread, UAPI
//!   connection kept open), against wireguard-go with a handshake to a
//!   gateway in network namespaces (root and wireguard-go, else SKIP);
//! - the same over kernel WireGuard's generic netlink (in the kernel lab or
//!   on a host with the module, else SKIP).
//!
//! The count is process-wide, so it includes the sampler thread; the tests
//! take turns, and nothing else in this process allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mesh_vpn_wg::daemon::ports::tunnel::{LinkIdentity, LiveTunnel};
use mesh_vpn_wg::dataplane::wireguard::counters_parse::{DumpWalk, scan_uapi_get};
use mesh_vpn_wg::dataplane::{Backend, DataPlane, Firewall};
use mesh_vpn_wg::endpoint::Endpoint;
use mesh_vpn_wg::engine::ports::{Gateway as EngineGateway, TunnelStats};
use mesh_vpn_wg::engine::state::PeerSource;
use mesh_vpn_wg::identity::PrivateKey;
use mesh_vpn_wg::resolve::Family;
use netlink_packet_core::{NLM_F_MULTIPART, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;
use netlink_packet_wireguard::{
    WireguardAttribute, WireguardCmd, WireguardMessage, WireguardPeer, WireguardPeerAttribute,
    WireguardTimeSpec,
};
use testkit::netns::gateway::{GATEWAY_PORT, GATEWAY_UNDERLAY, Gateway, VNI};
use testkit::netns::{Netns, in_kernel_lab, missing_prerequisite, unique_suffix};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One test at a time: the count is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

const READS: usize = 100;
const WARM_UP: usize = 5;
const SITE_MTU: u16 = 1406;

/// Allocations (allocs, zeroed allocs and reallocs) made while `work` ran.
fn allocations<T>(work: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let result = work();
    (ALLOCATIONS.load(Ordering::SeqCst) - before, result)
}

const FAMILY: u16 = 0x1d;
const SEQUENCE: u32 = 9;

/// A one-peer GetDevice dump part and its NLMSG_DONE, as the kernel sends them.
fn dump_datagram() -> Vec<u8> {
    let peer = WireguardPeer(vec![
        WireguardPeerAttribute::PublicKey([9; 32]),
        WireguardPeerAttribute::LastHandshake(WireguardTimeSpec {
            seconds: 1_700_000_000,
            nano_seconds: 1,
        }),
        WireguardPeerAttribute::TxBytes(1234),
        WireguardPeerAttribute::RxBytes(5678),
    ]);
    let message = WireguardMessage {
        cmd: WireguardCmd::GetDevice,
        attributes: vec![
            WireguardAttribute::IfName("wg_mesh_vpn".into()),
            WireguardAttribute::ListenPort(51820),
            WireguardAttribute::Peers(vec![peer]),
        ],
    };
    let mut genl = GenlMessage::from_payload(message);
    genl.set_resolved_family_id(FAMILY);
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_MULTIPART;
    header.sequence_number = SEQUENCE;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);
    let mut done = Vec::new();
    done.extend_from_slice(&20u32.to_ne_bytes());
    done.extend_from_slice(&3u16.to_ne_bytes()); // NLMSG_DONE
    done.extend_from_slice(&NLM_F_MULTIPART.to_ne_bytes());
    done.extend_from_slice(&SEQUENCE.to_ne_bytes());
    done.extend_from_slice(&0u32.to_ne_bytes());
    done.extend_from_slice(&0i32.to_ne_bytes());
    bytes.extend(done);
    bytes
}

#[test]
fn parsing_the_answers_allocates_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let datagram = dump_datagram();
    let uapi = format!(
        "private_key={}\nlisten_port=51000\npublic_key={}\nlast_handshake_time_sec=1700000000\n\
         last_handshake_time_nsec=1\ntx_bytes=1234\nrx_bytes=5678\nallowed_ip=fe80::1/128\n\
         errno=0\n\n",
        "01".repeat(32),
        "ab".repeat(32)
    );
    let (count, sum) = allocations(|| {
        let mut sum = 0;
        for _ in 0..READS {
            let mut walk = DumpWalk::new(FAMILY, SEQUENCE);
            assert!(walk.feed(&datagram).expect("walk"));
            let kernel = walk.first_peer().expect("peer");
            let uapi = scan_uapi_get(uapi.as_bytes()).expect("scan").expect("peer");
            assert_eq!(kernel, uapi);
            sum += kernel.rx_bytes;
        }
        sum
    });
    assert_eq!(sum, 5678 * READS as u64);
    testkit::measured(&format!(
        "{count} allocations in {READS} dump walks and UAPI scans"
    ));
    assert_eq!(count, 0);
}

fn identity(iface: &str, key: &PrivateKey) -> LinkIdentity {
    LinkIdentity {
        iface: iface.to_string(),
        private_key: key.clone(),
        site_mtu: SITE_MTU,
        vni: VNI,
        fwmark: 1,
    }
}

fn engine_gateway(public_key: &str, link_address: std::net::Ipv6Addr) -> EngineGateway {
    EngineGateway {
        source: PeerSource::Site,
        name: "gw-test".into(),
        endpoint: Endpoint::parse(&format!("[{GATEWAY_UNDERLAY}]:{GATEWAY_PORT}"))
            .expect("endpoint"),
        public_key: public_key.to_string(),
        link_address,
    }
}

/// `stats()` `WARM_UP` times, then `READS` times counted; returns the count
/// and the first and last counted sample.
async fn count_stats(tunnel: &mut LiveTunnel) -> (usize, TunnelStats, TunnelStats) {
    for _ in 0..WARM_UP {
        tunnel.stats().await.expect("warm-up read");
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let first = tunnel.stats().await.expect("read");
    let mut last = first;
    for _ in 1..READS {
        last = tunnel.stats().await.expect("read");
    }
    let count = ALLOCATIONS.load(Ordering::SeqCst) - before;
    (count, first, last)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn wireguard_go_samples_allocate_nothing_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(reason) = missing_prerequisite(&["ip", "wireguard-go", "wg", "ip6tables"]) {
        testkit::skip(&reason);
        return;
    }
    if in_kernel_lab() {
        testkit::skip("wireguard-go runs on the host, not in the kernel lab");
        return;
    }
    let node = Netns::new("ctnode");
    let key = PrivateKey::generate().expect("random key");
    let gateway = Gateway::start(&node, &key.public_key());
    let wg = format!("wgc{}", unique_suffix());
    let target = engine_gateway(gateway.public_key(), gateway.link_address());
    let run_dir = tempfile::tempdir().expect("run dir");
    let firewall = Firewall::new(run_dir.path());
    let scenario = node.thread(move || {
        let dataplane = DataPlane::new(Backend::Userspace("wireguard-go".into()), firewall);
        let mut tunnel = LiveTunnel::new(dataplane, identity(&wg, &key));
        runtime().block_on(async {
            tunnel.connect(&target, Family::V6).await.expect("connect");
            let mut handshake = false;
            for _ in 0..150 {
                if tunnel.stats().await.expect("read").handshake_age.is_some() {
                    handshake = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(handshake, "no handshake with the gateway in 15 s");
            let (steady, first, last) = count_stats(&mut tunnel).await;
            assert!(first.rx_bytes > 0 && first.tx_bytes > 0, "{first:?}");
            assert!(last.rx_bytes >= first.rx_bytes, "{first:?} {last:?}");

            // wireguard-go restarted under the reader: the next read opens a
            // new connection by itself, and steady state is free again.
            tunnel.tear_down().await;
            tunnel
                .connect(&target, Family::V6)
                .await
                .expect("reconnect");
            tunnel.stats().await.expect("read after the restart");
            let (restarted, _, _) = count_stats(&mut tunnel).await;
            tunnel.tear_down().await;
            (steady, last, restarted)
        })
    });
    let outcome = scenario.join();
    drop(gateway);
    drop(node);
    let (steady, last, restarted) =
        outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    testkit::measured(&format!(
        "{steady} allocations in {READS} LiveTunnel::stats() over wireguard-go UAPI \
         (rx {} B, tx {} B); {restarted} in {READS} more after wireguard-go was restarted",
        last.rx_bytes, last.tx_bytes
    ));
    assert_eq!(steady, 0, "allocations in steady state");
    assert_eq!(restarted, 0, "allocations after a reconnect");
}

#[test]
fn kernel_samples_allocate_nothing_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(reason) = missing_prerequisite(&["ip"]) {
        testkit::skip(&reason);
        return;
    }
    if !in_kernel_lab() && !std::path::Path::new("/sys/module/wireguard").exists() {
        testkit::skip("no kernel WireGuard here (scripts/kernel-lab.sh --test runs this)");
        return;
    }
    if in_kernel_lab() {
        testkit::netns::load_modules(&["wireguard", "vxlan"]);
    }
    let node = Netns::new("ctkern");
    let key = PrivateKey::generate().expect("random key");
    let gateway_key = PrivateKey::generate().expect("random key").public_key();
    let link_address = "fe80::27c:16ff:fec0:6c74".parse().expect("address");
    let target = engine_gateway(&gateway_key, link_address);
    let wg = format!("wgk{}", unique_suffix());
    let scenario = node.thread(move || {
        let dataplane = DataPlane::new(Backend::Kernel, Firewall::new("/nonexistent"));
        let mut tunnel = LiveTunnel::new(dataplane, identity(&wg, &key));
        runtime().block_on(async {
            // No gateway answers: the counters stay at what the kernel sent.
            tunnel.connect(&target, Family::V6).await.expect("connect");
            let (count, first, last) = count_stats(&mut tunnel).await;
            assert_eq!(first.handshake_age, None, "no handshake without a gateway");
            tunnel.tear_down().await;
            let gone = tunnel.stats().await.expect_err("no interface");
            assert!(gone.contains("read wireguard counters"), "{gone}");
            (count, last)
        })
    });
    let outcome = scenario.join();
    drop(node);
    let (count, last) = outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    testkit::measured(&format!(
        "{count} allocations in {READS} LiveTunnel::stats() over generic netlink \
         (rx {} B, tx {} B)",
        last.rx_bytes, last.tx_bytes
    ));
    assert_eq!(count, 0, "allocations in steady state");
}
