//! `cargo bench --bench status_latency`: how fast `status` answers while the daemon is busy.
//! A test ubusd and the daemon on an enabled node whose broker (127.0.0.1) accepts and never
//! answers, so an engine would hang mid-reconnect; then 100 concurrent callers, each on its own
//! connection, make `STATUS_CALLS` (default 300) status calls one after the other through
//! ubusd. Prints figures; target p99 < 5 ms.
//!
//! Each caller works as a libubus client does: it sends the INVOKE and frames the DATA and
//! STATUS that come back, checking the ubus attributes and the status code; the reply's values
//! are the application's business (`ubus call` turns them into JSON), so only each caller's
//! first reply is decoded in full and checked. The test ubusd and the callers run inside this
//! process, so each phase also prints the CPU time the daemon and this process used, to tell
//! the daemon's share from the harness'.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::{Tree, wireguard_site};
use testkit::netns;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::net::UnixStream;
use ubus_wire::connection::{buffered, read_frame, read_hello};
use ubus_wire::{Attr, Bus, Data, Message, MessageType, Table, Value, blobmsg};

const CALLERS: usize = 100;

/// A namespace whose only "WAN" is loopback (so the engine sees an uplink and
/// works), with a broker in it that accepts every connection and holds it open
/// without a byte in reply. The daemon's engine cannot touch the host from there.
fn node_netns() -> (netns::Netns, u16) {
    let ns = netns::Netns::new("mvbench");
    ns.ip(&["route", "add", "default", "dev", "lo"]);
    let (tx, rx) = std::sync::mpsc::channel();
    drop(ns.thread(move || {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind broker");
        tx.send(listener.local_addr().expect("address").port())
            .expect("port");
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    }));
    let port = rx.recv().expect("broker port");
    (ns, port)
}

fn enabled_node(broker_port: u16) -> Tree {
    let mut site = wireguard_site(Some("on-by-default"));
    site["mesh_vpn"]["wireguard"]["broker"] = format!("http://127.0.0.1:{broker_port}").into();
    site["ntp_servers"] = serde_json::json!(["127.0.0.1"]);
    let tree = Tree::new();
    tree.site(site);
    tree.uci_wireguard(&[("enabled", "1"), ("privatekey", common::PRIVATE_KEY)])
        .uci_domain("example");
    tree
}

async fn caller(socket: PathBuf, object: u32, calls: usize) -> Vec<Duration> {
    let stream = UnixStream::connect(&socket).await.expect("connect");
    let (read, mut write) = stream.into_split();
    let mut read = buffered(read);
    read_hello(&mut read).await.expect("HELLO");
    let mut took = Vec::with_capacity(calls);
    for seq in (1..=u16::MAX).take(calls) {
        let invoke = Message::new(
            MessageType::Invoke,
            seq,
            object,
            vec![
                Attr::ObjId(object),
                Attr::Method("status".into()),
                Attr::Data(Data::Table(Table::new())),
            ],
        );
        let bytes = invoke.encode().expect("encode INVOKE");
        let start = Instant::now();
        write.write_all(&bytes).await.expect("send INVOKE");
        let data = reply(&mut read, seq).await;
        took.push(start.elapsed());
        if seq == 1 {
            let status = blobmsg::decode_table_body(&data).expect("status is a blobmsg table");
            assert_eq!(
                status.get("state").and_then(Value::as_str),
                Some("exchanging_key")
            );
        }
    }
    took
}

/// The DATA payload of the reply to `seq`, once its STATUS 0 has arrived.
async fn reply(read: &mut (impl AsyncRead + Unpin), seq: u16) -> Vec<u8> {
    let mut data = None;
    loop {
        let frame = read_frame(read)
            .await
            .expect("read reply")
            .expect("ubusd open");
        let message = Message::decode_routing(&frame).expect("well-formed reply");
        assert_eq!(message.seq, seq, "reply to another call: {message:?}");
        match message.kind {
            MessageType::Data => data = message.attrs.into_iter().find_map(raw_data),
            MessageType::Status => {
                assert_eq!(message.status(), Some(0), "status call failed");
                return data.expect("a DATA before the STATUS");
            }
            kind => panic!("unexpected {kind:?} in a reply"),
        }
    }
}

fn raw_data(attr: Attr) -> Option<Vec<u8>> {
    match attr {
        Attr::Data(Data::Raw(payload)) => Some(payload),
        _ => None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// CPU time (user + system) a process has used so far, from /proc (clock ticks of 10 ms).
fn cpu_ms(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10)
}

/// Runs `callers` concurrent callers of `calls` status calls each; prints one line of figures.
fn measure(daemon: &Daemon, callers: usize, calls: usize) {
    let socket = &daemon.socket;
    let pid = daemon.pid().to_string();
    let cpu_before = (cpu_ms(&pid), cpu_ms("self"));
    let runtime = common::daemon::runtime();
    let started = Instant::now();
    let mut all: Vec<Duration> = runtime.block_on(async {
        let bus = Bus::connect(socket).await.expect("connect");
        let object = bus.lookup("mesh_vpn").await.expect("lookup").id;
        let tasks: Vec<_> = (0..callers)
            .map(|_| tokio::spawn(caller(socket.to_path_buf(), object, calls)))
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("caller"));
        }
        all
    });
    let wall = started.elapsed().as_secs_f64();
    let cpu = |before: Option<u64>, pid: &str| match (before, cpu_ms(pid)) {
        (Some(before), Some(after)) => format!("{} ms", after - before),
        _ => "?".into(),
    };
    let (daemon_cpu, bench_cpu) = (cpu(cpu_before.0, &pid), cpu(cpu_before.1, "self"));
    all.sort();
    println!(
        "{callers:>3} callers: count {}  min {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3} ms  ({:.0} calls/s; CPU: daemon {daemon_cpu}, ubusd + callers {bench_cpu})",
        all.len(),
        percentile(&all, 0.0),
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
        all.len() as f64 / wall,
    );
}

fn main() {
    let calls: usize = std::env::var("STATUS_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let (ns, broker_port) = node_netns();
    let daemon = Daemon::start_in_netns(enabled_node(broker_port), &ns.name);
    daemon.call("reconnect", Table::new()).expect("reconnect");
    // Measure while the engine is stuck in the key exchange with the silent broker.
    let deadline = Instant::now() + Duration::from_secs(15);
    while daemon.status()["state"] != "exchanging_key" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let state = daemon.status()["state"].clone();
    println!(
        "status latency through the test ubusd, {calls} calls per caller, daemon state {state}"
    );
    // 1 and 10 callers first as a baseline: with one ubusd and one daemon thread, latency
    // under 100 callers is mostly queueing (100 requests in flight at once).
    for callers in [1, 10, CALLERS] {
        measure(&daemon, callers, calls);
    }
}
