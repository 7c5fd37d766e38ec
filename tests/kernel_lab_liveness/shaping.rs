//! netem on the node's uplink for the liveness benchmark.

use super::*;

/// netem on the node's WAN veth (egress), and optionally on its peer in the
/// internet namespace (the node's ingress).
pub(crate) struct Shaping {
    /// (namespace, device, what it shapes)
    pub(crate) devices: Vec<(String, String, &'static str)>,
    pub(crate) netem: String,
}

impl Shaping {
    pub(crate) fn new(lab: &Lab, settings: &Settings) -> Shaping {
        let node = &lab.site.node;
        let mut devices = vec![(
            node.name.clone(),
            "wan".to_string(),
            "node → internet (egress of the node's WAN veth)",
        )];
        if settings.both_ways {
            let peer = veth_peer(node, "wan", &lab.site.wan);
            devices.push((
                lab.site.wan.name.clone(),
                peer,
                "internet → node (egress of the veth's bridge end)",
            ));
        }
        Shaping {
            devices,
            netem: settings.netem.clone(),
        }
    }

    pub(crate) fn apply(&self) {
        for (ns, dev, _) in &self.devices {
            let mut args = vec![
                "netns",
                "exec",
                ns.as_str(),
                "tc",
                "qdisc",
                "replace",
                "dev",
                dev.as_str(),
            ];
            args.extend(["root", "netem"]);
            args.extend(self.netem.split_whitespace());
            let output = testkit::netns::run("ip", &args);
            assert!(
                output.status.success(),
                "tc {}: {}",
                args[3..].join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    pub(crate) fn remove(&self) {
        for (ns, dev, _) in &self.devices {
            let args = [
                "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root",
            ];
            let output = testkit::netns::run("ip", &args);
            assert!(
                output.status.success(),
                "tc qdisc del dev {dev} root: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// The qdiscs as the kernel reports them, and what each shapes.
    pub(crate) fn describe(&self) -> String {
        let lines: Vec<String> = self
            .devices
            .iter()
            .map(|(ns, dev, what)| {
                let args = ["netns", "exec", ns, "tc", "qdisc", "show", "dev", dev];
                let shown = testkit::netns::run("ip", &args);
                let qdisc = String::from_utf8_lossy(&shown.stdout);
                format!("{what}: `{}` on {dev}", qdisc.trim())
            })
            .collect();
        lines.join("; ")
    }

    pub(crate) fn summary(&self) -> String {
        let direction = match self.devices.len() {
            1 => "node's uplink egress only (node → internet); the return path is not shaped",
            _ => "both directions of the node's uplink",
        };
        format!("netem `{}` on the node's WAN veth: {direction}", self.netem)
    }
}

/// The name, in `other`, of the far end of veth `dev` of `ns`.
pub(crate) fn veth_peer(ns: &Netns, dev: &str, other: &Netns) -> String {
    let shown = ns.ip(&["-o", "link", "show", dev]);
    let index = shown
        .split_once("@if")
        .and_then(|(_, rest)| rest.split(':').next())
        .unwrap_or_else(|| panic!("no veth peer in {shown}"));
    let links = other.ip(&["-o", "link", "show"]);
    links
        .lines()
        .find_map(|line| {
            let (number, rest) = line.split_once(": ")?;
            (number == index).then(|| rest.split(['@', ':']).next().unwrap_or_default().into())
        })
        .unwrap_or_else(|| panic!("no link {index} in {}: {links}", other.name))
}
