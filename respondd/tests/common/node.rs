//! A node tree (site, UCI) and the daemon on it, on a test ubusd, in a network
//! namespace of its own: the pattern of the daemon's tests (tests/common), which this
//! crate cannot include because it names the daemon's binary at compile time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::ubusd::TestUbusd;

/// RFC 7748 6.1 (Alice) and its public key: the daemon's tests use the same pair.
pub const PRIVATE_KEY: &str = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
pub const PUBLIC_KEY: &str = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
const SEED: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A single-domain node with one site gateway; `enabled` as in `wireguard.mesh_vpn`.
pub fn write_tree(root: &Path, enabled: bool) {
    let site = json!({
        "domain_seed": SEED,
        "ntp_servers": ["ntp.example.net"],
        "mesh_vpn": {"wireguard": {
            "iface": "wg_mesh_vpn",
            "mtu": 1406,
            "broker": "broker.example.net",
            "peers": [{
                "publickey": "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=",
                "endpoint": "gw1.example.net:40011",
                "link_address": "fe80::27c:16ff:fec0:6c74",
            }],
        }},
    });
    // With the site's gateway as the upgrade script writes it.
    let wireguard = format!(
        "\nconfig wireguard 'mesh_vpn'\n\toption enabled '{}'\n\toption privatekey '{PRIVATE_KEY}'\n\n\
         config peer 'peer_1'\n\toption enabled '1'\n\toption endpoint 'gw1.example.net:40011'\n\
         \toption publickey 'TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g='\n\
         \toption link_address 'fe80::27c:16ff:fec0:6c74'\n\n",
        u8::from(enabled)
    );
    write(root, "lib/gluon/site.json", &site.to_string());
    write(root, "etc/config/wireguard", &wireguard);
    write(
        root,
        "etc/config/gluon",
        "\nconfig core 'core'\n\toption domain 'example'\n\n",
    );
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The daemon in its own network namespace (no uplink: it stays off the host's
/// network), registered on a test ubusd in `root`.
pub struct Daemon {
    pub socket: PathBuf,
    _ubusd: TestUbusd,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    pub fn start(binary: &Path, root: &Path) -> Daemon {
        let socket = root.join("ubus.sock");
        let ubusd = TestUbusd::start(&socket).expect("start test ubusd");
        let log = root.join("daemon.log");
        let child = Command::new("unshare")
            .args(["--net", "--"])
            .arg(binary)
            .arg("--root")
            .arg(root)
            .args(["daemon", "--foreground", "--ubus-socket"])
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn daemon");
        Daemon {
            socket,
            _ubusd: ubusd,
            child,
            log,
        }
    }

    /// Waits until `ready` holds, at most 10 s; panics with the daemon's log otherwise.
    pub fn wait_until(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        panic!("{what} did not happen within 10 s; daemon log:\n{log}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
