//! A wgkex-style gateway in its own namespace, built with the real tools
//! (wireguard-go or kernel WireGuard, wg, ip, bridge, batctl) as a wgkex
//! worker would set it up, and the probes a node runs against it.

use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{JoinHandle, sleep};
use std::time::Duration;

use mesh_vpn_wg::dataplane::GatewayPeer;
use mesh_vpn_wg::identity::{PrivateKey, link_local};

use super::{Netns, run, sh, unique_suffix, wait_for};

pub const VNI: u32 = 3_773_516;
pub const GATEWAY_UNDERLAY: &str = "fd00:db8::1";
pub const NODE_UNDERLAY: &str = "fd00:db8::2";
pub const GATEWAY_PORT: u16 = 51820;
pub const GATEWAY_OVERLAY: &str = "fd01::1";

/// How a gateway is built. The default (wireguard-go, no batman-adv) runs on
/// any host; the kernel lab turns both on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flavor {
    /// Kernel WireGuard (`ip link add … type wireguard`) instead of wireguard-go.
    pub kernel_wireguard: bool,
    /// The VXLAN enslaved to a batman-adv bat0 that carries the overlay address.
    pub batman: bool,
}

/// A wgkex-style gateway: WireGuard, its link address, a VXLAN without
/// remote plus an FDB entry for the node, and an HTTP responder.
pub struct Gateway {
    /// wireguard-go; `None` with kernel WireGuard.
    pub daemon: Option<Child>,
    flavor: Flavor,
    wg: String,
    public_key: String,
    link_address: Ipv6Addr,
    underlay: Ipv6Addr,
    http_stop: Arc<AtomicBool>,
    http: Option<JoinHandle<()>>,
    ns: Netns,
}

impl Gateway {
    /// A gateway on a veth straight to `node` (GATEWAY_UNDERLAY ↔ NODE_UNDERLAY).
    pub fn start(node: &Netns, node_public_key: &str) -> Gateway {
        let ns = Netns::new("dpgw");
        ns.ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", &node.name,
        ]);
        node.ip(&[
            "addr",
            "add",
            &format!("{NODE_UNDERLAY}/64"),
            "dev",
            "veth1",
            "nodad",
        ]);
        node.ip(&["link", "set", "veth1", "up"]);
        let underlay = GATEWAY_UNDERLAY.parse().expect("ula");
        Gateway::launch(ns, underlay, node_public_key, VNI, Flavor::default())
    }

    /// A gateway in a namespace of its own (named after `prefix`), plugged
    /// into `bridge` of the `wan` namespace with `underlay` as its address.
    pub fn on_bridge(
        wan: &Netns,
        bridge: &str,
        prefix: &str,
        underlay: Ipv6Addr,
        node_public_key: &str,
        vni: u32,
        flavor: Flavor,
    ) -> Gateway {
        let ns = Netns::new(prefix);
        let port = format!("g{}", unique_suffix());
        wan.ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", "veth0", "netns", &ns.name,
        ]);
        wan.ip(&["link", "set", &port, "master", bridge, "up"]);
        Gateway::launch(ns, underlay, node_public_key, vni, flavor)
    }

    fn launch(
        ns: Netns,
        underlay: Ipv6Addr,
        node_public_key: &str,
        vni: u32,
        flavor: Flavor,
    ) -> Gateway {
        ns.ip(&[
            "addr",
            "add",
            &format!("{underlay}/64"),
            "dev",
            "veth0",
            "nodad",
        ]);
        ns.ip(&["link", "set", "veth0", "up"]);
        let wg = format!("wgg{}", unique_suffix());
        let daemon = if flavor.kernel_wireguard {
            ns.ip(&["link", "add", &wg, "type", "wireguard"]);
            None
        } else {
            let child = ns
                .command("wireguard-go")
                .args(["-f", &wg])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn gateway wireguard-go");
            Some(child)
        };
        let key = PrivateKey::generate().expect("random key");
        let public_key = key.public_key();
        let link_address = link_local(&public_key);
        let mut gateway = Gateway {
            daemon,
            flavor,
            wg,
            public_key,
            link_address,
            underlay,
            http_stop: Arc::new(AtomicBool::new(false)),
            http: None,
            ns,
        };
        gateway.configure(&key, node_public_key, vni);
        gateway.http = Some(gateway.serve_http());
        gateway
    }

    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    pub fn link_address(&self) -> Ipv6Addr {
        self.link_address
    }

    pub fn underlay(&self) -> Ipv6Addr {
        self.underlay
    }

    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// This gateway's WireGuard as a wgkex worker manages it.
    pub fn worker(&self) -> Worker {
        Worker {
            netns: self.ns.name.clone(),
            wg: self.wg.clone(),
        }
    }

    /// The gateway dies: its wireguard-go ends, or its kernel WireGuard
    /// interface is deleted, and the tunnel with it, as when a gateway
    /// machine crashes. The HTTP server stays, but is unreachable without the
    /// tunnel.
    pub fn kill(&mut self) {
        if let Some(mut daemon) = self.daemon.take() {
            let _ = daemon.kill();
            let _ = daemon.wait();
            let _ = std::fs::remove_file(format!("/var/run/wireguard/{}.sock", self.wg));
        } else if self.flavor.kernel_wireguard {
            // Errors ignored: a second kill, or the drop after one, finds it gone.
            let _ = run("ip", &["-n", &self.ns.name, "link", "del", &self.wg]);
        }
    }

    fn configure(&self, key: &PrivateKey, node_public_key: &str, vni: u32) {
        if !self.flavor.kernel_wireguard {
            let what = format!("gateway UAPI socket {}", self.wg);
            wait_for(&what, Duration::from_secs(15), || {
                let socket = format!("/var/run/wireguard/{}.sock", self.wg);
                std::os::unix::net::UnixStream::connect(socket).is_ok()
            });
        }
        let key_file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(key_file.path(), key.to_base64()).expect("write key");
        let node_ll = link_local(node_public_key);
        let key_path = key_file.path().to_string_lossy().into_owned();
        let port = GATEWAY_PORT.to_string();
        let allowed = format!("{node_ll}/128");
        let wg_args = [
            "set",
            &self.wg,
            "private-key",
            &key_path,
            "listen-port",
            &port,
            "peer",
            node_public_key,
            "allowed-ips",
            &allowed,
        ];
        assert!(
            self.ns.exec("wg", &wg_args).status.success(),
            "wg set on gateway"
        );
        let wg = self.wg.as_str();
        self.ns.ip(&["link", "set", wg, "mtu", "1476", "up"]);
        self.ns.ip(&[
            "addr",
            "add",
            &format!("{}/64", self.link_address),
            "dev",
            wg,
            "nodad",
        ]);
        let vni = vni.to_string();
        let local = self.link_address.to_string();
        self.ns.ip(&[
            "link", "add", "vx0", "type", "vxlan", "id", &vni, "dstport", "0", "local", &local,
            "dev", wg,
        ]);
        // `via` the WireGuard interface, as wgkex sets NDA_IFINDEX: without
        // it, frames flooded to this entry (broadcasts such as batman-adv's
        // OGMs) go to a link-local address with no interface and are lost;
        // only unicast to a MAC learned from the node (with its interface)
        // would get through.
        let node_ll = node_ll.to_string();
        sh(
            "bridge",
            &[
                "-n",
                &self.ns.name,
                "fdb",
                "append",
                "00:00:00:00:00:00",
                "dst",
                &node_ll,
                "via",
                wg,
                "dev",
                "vx0",
            ],
        );
        self.ns.ip(&["link", "set", "vx0", "mtu", "1406", "up"]);
        let overlay = if self.flavor.batman {
            create_bat0(&self.ns);
            self.ns.ip(&["link", "set", "vx0", "master", "bat0"]);
            self.ns.ip(&["link", "set", "bat0", "up"]);
            "bat0"
        } else {
            "vx0"
        };
        self.ns.ip(&[
            "addr",
            "add",
            &format!("{GATEWAY_OVERLAY}/64"),
            "dev",
            overlay,
            "nodad",
        ]);
    }

    /// Answers every HTTP request with 200, as the gateways' web server does
    /// for checkuplink's health check.
    fn serve_http(&self) -> JoinHandle<()> {
        let any = || SocketAddr::from((Ipv6Addr::UNSPECIFIED, 80));
        serve_http_ok(&self.ns, self.http_stop.clone(), any)
    }

    pub fn peer(&self) -> GatewayPeer {
        GatewayPeer {
            public_key: self.public_key.clone(),
            endpoint: SocketAddr::new(self.underlay.into(), GATEWAY_PORT),
            link_address: self.link_address,
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.http_stop.store(true, Ordering::Relaxed);
        if let Some(http) = self.http.take() {
            let _ = http.join();
        }
        self.kill();
    }
}

/// A batman-adv bat0 (down), set up as the kernel-lab recipe found necessary:
/// bridge loop avoidance off (it blocks multicast over bat0 for ~30 s) and
/// no duplicate address detection.
pub fn create_bat0(ns: &Netns) {
    ns.ip(&["link", "add", "bat0", "type", "batadv"]);
    let bla = ["meshif", "bat0", "bridge_loop_avoidance", "0"];
    assert!(ns.exec("batctl", &bla).status.success(), "batctl on bat0");
    let dad = ["-qw", "net.ipv6.conf.bat0.accept_dad=0"];
    assert!(ns.exec("sysctl", &dad).status.success(), "sysctl on bat0");
}

/// ping6 from the calling thread's namespace, a few tries (neighbour
/// discovery on the VXLAN can eat the first one).
pub fn ping(target: &str, extra: &[&str]) -> bool {
    (0..5).any(|_| {
        let mut args = vec!["-6", "-c", "1", "-W", "2"];
        args.extend_from_slice(extra);
        args.push(target);
        run("ping", &args).status.success()
    })
}

pub fn http_get(target: SocketAddrV6) -> String {
    let mut stream = TcpStream::connect_timeout(&target.into(), Duration::from_secs(5))
        .expect("connect gateway http");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// How long the test web server waits for a request or for the client to
/// take the answer: a real one (nginx) gives up on a silent client too.
const HTTP_CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// A gateway's web server for the health check's HTTP probe: answers every
/// request with 200 "ok" until `stop`. `bind` runs inside the namespace, so
/// it may look up interface indexes there. Each connection gets a thread of
/// its own, as with a real web server: on a lossy, slow uplink (netem in the
/// kernel lab's liveness benchmark) one client whose request is still being
/// retransmitted must not hold up the next client's probe.
pub fn serve_http_ok(
    ns: &Netns,
    stop: Arc<AtomicBool>,
    bind: impl FnOnce() -> SocketAddr + Send + 'static,
) -> JoinHandle<()> {
    ns.thread(move || {
        let listener = TcpListener::bind(bind()).expect("bind gateway http");
        listener.set_nonblocking(true).expect("nonblocking");
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => {
                    std::thread::spawn(move || answer_ok(stream));
                }
                Err(_) => sleep(Duration::from_millis(20)),
            }
        }
    })
}

fn answer_ok(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(HTTP_CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(HTTP_CLIENT_TIMEOUT));
    let mut request = [0u8; 512];
    let _ = stream.read(&mut request);
    let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

pub fn ifindex(name: &str) -> u32 {
    let name = std::ffi::CString::new(name).expect("name");
    // SAFETY: a valid NUL-terminated string.
    unsafe { libc::if_nametoindex(name.as_ptr()) }
}

/// What a wgkex worker does with a node key: adds the peer when the broker
/// publishes it, removes it after 3 h without a handshake (or loses it in a
/// reboot). Plain names, so the broker's thread can hold one.
#[derive(Debug, Clone)]
pub struct Worker {
    netns: String,
    wg: String,
}

impl Worker {
    /// Idempotent; `false` when the gateway is gone (a dead worker misses it).
    pub fn add_peer(&self, node_public_key: &str) -> bool {
        let allowed = format!("{}/128", link_local(node_public_key));
        self.wg(&["peer", node_public_key, "allowed-ips", &allowed])
    }

    pub fn remove_peer(&self, node_public_key: &str) -> bool {
        self.wg(&["peer", node_public_key, "remove"])
    }

    fn wg(&self, args: &[&str]) -> bool {
        let mut all = vec!["netns", "exec", &self.netns, "wg", "set", &self.wg];
        all.extend_from_slice(args);
        run("ip", &all).status.success()
    }
}
