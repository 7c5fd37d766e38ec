//! The one firewall rule the tunnel needs: accept VXLAN (UDP 8472) coming in
//! on the WireGuard interface (domain.md 1.2 step 18). firewall4 (nftables,
//! table `inet fw4`) gets an nft rule; firewall3 (or no fw4 table) gets the
//! ip6tables rule checkuplink used. Every probe's stderr is captured, so a
//! missing rule is never logged as an error by micrond-style wrappers.

use std::io;
use std::process::{Command, Output, Stdio};

use crate::dataplane::count_spawn;
use crate::error::{Error, Result};
use crate::link::VXLAN_PORT;

/// Marks our nft rule so it can be found and removed again.
pub const RULE_COMMENT: &str = "mesh-vpn-wg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallKind {
    /// firewall4: `nft ... inet fw4 input`.
    Nftables,
    /// firewall3 or plain hosts: `ip6tables ... INPUT`.
    Ip6tables,
}

#[derive(Debug, Default)]
pub struct Firewall {
    kind: Option<FirewallKind>,
}

impl Firewall {
    pub fn new() -> Firewall {
        Firewall::default()
    }

    /// Which firewall this host runs; probed once, then remembered.
    pub fn kind(&mut self) -> FirewallKind {
        *self.kind.get_or_insert_with(|| {
            let fw4 = run("nft", &["list", "chain", "inet", "fw4", "input"]);
            match fw4 {
                Ok(output) if output.status.success() => FirewallKind::Nftables,
                _ => FirewallKind::Ip6tables,
            }
        })
    }

    /// Whether the rule for `interface` is in place.
    pub fn check(&mut self, interface: &str) -> Result<bool> {
        let fail = |source| {
            Error::dataplane(
                "check firewall rule",
                interface,
                rule_text(interface),
                source,
            )
        };
        match self.kind() {
            FirewallKind::Ip6tables => {
                let output = run("ip6tables", &ip6tables_args("-C", interface)).map_err(fail)?;
                Ok(output.status.success())
            }
            FirewallKind::Nftables => Ok(nft_handles(interface).map_err(fail)?.next().is_some()),
        }
    }

    /// Adds the rule when it is missing; returns whether it had to.
    pub fn ensure(&mut self, interface: &str) -> Result<bool> {
        if self.check(interface)? {
            return Ok(false);
        }
        let fail = |source| {
            Error::dataplane(
                "insert firewall rule",
                interface,
                rule_text(interface),
                source,
            )
        };
        let output = match self.kind() {
            FirewallKind::Ip6tables => run("ip6tables", &ip6tables_args("-I", interface)),
            FirewallKind::Nftables => run("nft", &nft_insert_args(interface)),
        }
        .map_err(fail)?;
        succeeded(output).map_err(fail)?;
        Ok(true)
    }

    /// Removes every copy of the rule (teardown).
    pub fn remove(&mut self, interface: &str) -> Result<()> {
        let fail = |source| {
            Error::dataplane(
                "delete firewall rule",
                interface,
                rule_text(interface),
                source,
            )
        };
        match self.kind() {
            FirewallKind::Ip6tables => {
                while self.check(interface)? {
                    let output =
                        run("ip6tables", &ip6tables_args("-D", interface)).map_err(fail)?;
                    succeeded(output).map_err(fail)?;
                }
            }
            FirewallKind::Nftables => {
                let handles: Vec<String> = nft_handles(interface).map_err(fail)?.collect();
                for handle in handles {
                    let args = ["delete", "rule", "inet", "fw4", "input", "handle", &handle];
                    succeeded(run("nft", &args).map_err(fail)?).map_err(fail)?;
                }
            }
        }
        Ok(())
    }
}

pub fn rule_text(interface: &str) -> String {
    format!("in {interface} udp dport {VXLAN_PORT} accept")
}

fn ip6tables_args(action: &'static str, interface: &str) -> Vec<String> {
    let mut args = vec!["-w".to_string(), action.to_string(), "INPUT".to_string()];
    if action == "-I" {
        args.push("1".into());
    }
    let port = VXLAN_PORT.to_string();
    let rule = [
        "-i", interface, "-p", "udp", "-m", "udp", "--dport", &port, "-j", "ACCEPT",
    ];
    args.extend(rule.iter().map(|part| part.to_string()));
    args
}

fn nft_insert_args(interface: &str) -> Vec<String> {
    let port = VXLAN_PORT.to_string();
    let quoted_comment = format!("\"{RULE_COMMENT}\"");
    let rule = [
        "insert",
        "rule",
        "inet",
        "fw4",
        "input",
        "iifname",
        interface,
        "udp",
        "dport",
        &port,
        "accept",
        "comment",
        &quoted_comment,
    ];
    rule.iter().map(|part| part.to_string()).collect()
}

/// The handles of our rules in `inet fw4 input`, found by interface, port
/// and comment in `nft -a` output.
fn nft_handles(interface: &str) -> io::Result<impl Iterator<Item = String>> {
    let output = run("nft", &["-a", "list", "chain", "inet", "fw4", "input"])?;
    let listing = String::from_utf8_lossy(&succeeded(output)?.stdout).into_owned();
    let wanted =
        format!("iifname \"{interface}\" udp dport {VXLAN_PORT} accept comment \"{RULE_COMMENT}\"");
    let handles: Vec<String> = listing
        .lines()
        .filter(|line| line.contains(&wanted))
        .filter_map(|line| {
            line.rsplit_once("# handle ")
                .map(|(_, h)| h.trim().to_string())
        })
        .collect();
    Ok(handles.into_iter())
}

fn run<S: AsRef<std::ffi::OsStr>>(program: &str, args: &[S]) -> io::Result<Output> {
    count_spawn();
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
}

/// Turns a failed tool run into an error carrying the tool's own message.
fn succeeded(output: Output) -> io::Result<Output> {
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(io::Error::other(format!(
        "{}: {}",
        output.status,
        stderr.trim()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip6tables_rule_is_checkuplinks() {
        let args = ip6tables_args("-I", "wg_mesh_vpn").join(" ");
        assert_eq!(
            args,
            "-w -I INPUT 1 -i wg_mesh_vpn -p udp -m udp --dport 8472 -j ACCEPT"
        );
        let check = ip6tables_args("-C", "wg_mesh_vpn").join(" ");
        assert_eq!(
            check,
            "-w -C INPUT -i wg_mesh_vpn -p udp -m udp --dport 8472 -j ACCEPT"
        );
    }

    #[test]
    fn nft_rule_names_interface_port_and_comment() {
        let args = nft_insert_args("wg_mesh_vpn").join(" ");
        assert_eq!(
            args,
            "insert rule inet fw4 input iifname wg_mesh_vpn udp dport 8472 accept comment \"mesh-vpn-wg\""
        );
    }
}
