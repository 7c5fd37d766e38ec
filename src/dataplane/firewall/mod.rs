//! The one firewall rule the tunnel needs, as a health layer and not a gate:
//! firewall4 (a `/var/run/fw4.state`, or an `inet fw4` table) gets an nft
//! rule, firewall3 or a plain host with ip6tables gets checkuplink's
//! ip6tables rule, and a host with neither has nothing to open. A failing
//! tool is reported, never fatal; the caller keeps the tunnel up.
//!
//! Which firewall the host runs is decided again whenever it could have
//! changed: a state file changed (a firewall (re)start), `nft` or `ip6tables`
//! appeared or vanished on PATH, or the last attempt failed. Otherwise a
//! verified rule is not looked at again, so steady state starts no process.

pub mod host;
pub mod rules;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::SystemTime;

use host::{Host, System, tool_failure};
use rules::{ip6tables_args, nft_delete_args, nft_handles, nft_insert_args, nft_list_args};

pub use rules::{RULE_COMMENT, rule_text};

/// More copies of our rule than any sequence of restarts leaves behind.
const MAX_COPIES: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallKind {
    /// firewall4: `nft ... inet fw4 input`.
    Nftables,
    /// firewall3 or plain hosts: `ip6tables ... INPUT`.
    Ip6tables,
}

/// Where the rule stands after [`Firewall::ensure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallState {
    /// The rule is in place; `inserted` when this call had to add it.
    Open { kind: FirewallKind, inserted: bool },
    /// Neither firewall4 nor ip6tables on this host: nothing to open.
    NoFirewall,
}

impl FirewallState {
    /// For `status`: what is in place, in an admin's words.
    pub fn describe(&self, interface: &str) -> String {
        let rule = rule_text(interface);
        match self {
            FirewallState::Open {
                kind: FirewallKind::Nftables,
                ..
            } => format!("nft rule in inet fw4 input: {rule}"),
            FirewallState::Open {
                kind: FirewallKind::Ip6tables,
                ..
            } => format!("ip6tables rule in INPUT: {rule}"),
            FirewallState::NoFirewall => {
                "no firewall on this host (no fw4/fw3, no inet fw4 table, no ip6tables): nothing to open"
                    .into()
            }
        }
    }
}

/// What the decision was based on; any change means deciding again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    state_files: Vec<Option<SystemTime>>,
    nft: bool,
    ip6tables: bool,
}

pub struct Firewall<H: Host = System> {
    host: H,
    /// `fw4.state`, then `fw3.state`.
    state_files: [PathBuf; 2],
    stamp: Option<Stamp>,
    /// `Some(None)`: decided there is no firewall.
    decided: Option<Option<FirewallKind>>,
    /// The WireGuard ifindex and state last verified; reused until something changes.
    verified: Option<(u32, FirewallState)>,
    /// Where our rule was last put, so a switch of firewall and teardown find it.
    rule_in: Option<FirewallKind>,
}

impl Firewall<System> {
    /// Watches the state files in `run_dir` (`/var/run` on a router).
    pub fn new(run_dir: impl Into<PathBuf>) -> Firewall<System> {
        Firewall::with_host(System, run_dir.into())
    }
}

impl<H: Host> Firewall<H> {
    pub fn with_host(host: H, run_dir: PathBuf) -> Firewall<H> {
        Firewall {
            host,
            state_files: [run_dir.join("fw4.state"), run_dir.join("fw3.state")],
            stamp: None,
            decided: None,
            verified: None,
            rule_in: None,
        }
    }

    /// Puts the rule in place for `interface` (ifindex `index`) when needed.
    /// An `Err` is the failing tool's message; the caller reports it and
    /// calls again at the next health check.
    pub fn ensure(&mut self, interface: &str, index: u32) -> Result<FirewallState, String> {
        let stamp = self.stamp();
        if self.stamp.as_ref() != Some(&stamp) {
            self.stamp = Some(stamp);
            self.decided = None;
            self.verified = None;
        }
        if let Some((verified, state)) = &self.verified {
            if *verified == index {
                return Ok(match state {
                    FirewallState::Open { kind, .. } => FirewallState::Open {
                        kind: *kind,
                        inserted: false,
                    },
                    other => other.clone(),
                });
            }
        }
        let kind = match self.decided {
            Some(kind) => kind,
            None => self.detect(),
        };
        let result = match kind {
            None => Ok(FirewallState::NoFirewall),
            Some(kind) => self
                .ensure_rule(kind, interface)
                .map(|inserted| FirewallState::Open { kind, inserted }),
        };
        match &result {
            Ok(state) => {
                if let Some(old) = self.rule_in.filter(|old| Some(*old) != kind) {
                    // The host switched firewalls; the old rule is harmless
                    // but ours, so it goes (best effort).
                    let _ = self.remove_rule(old, interface);
                }
                self.rule_in = kind;
                self.decided = Some(kind);
                self.verified = Some((index, state.clone()));
            }
            Err(_) => {
                self.decided = None;
                self.verified = None;
            }
        }
        result
    }

    /// Removes every copy of the rule (teardown); `Ok` when there was none.
    pub fn remove(&mut self, interface: &str) -> Result<(), String> {
        self.verified = None;
        let kind = match self.rule_in.take() {
            Some(kind) => Some(kind),
            None => self.detect(),
        };
        match kind {
            Some(kind) => self.remove_rule(kind, interface),
            None => Ok(()),
        }
    }

    fn stamp(&self) -> Stamp {
        Stamp {
            state_files: self
                .state_files
                .iter()
                .map(|f| self.host.modified(f))
                .collect(),
            nft: self.host.on_path("nft"),
            ip6tables: self.host.on_path("ip6tables"),
        }
    }

    /// A state file names the firewall that runs (even while it restarts);
    /// without one, an `inet fw4` table means nftables, else ip6tables if
    /// installed, else there is no firewall.
    fn detect(&mut self) -> Option<FirewallKind> {
        let [fw4, fw3] = &self.state_files;
        if self.host.modified(fw4).is_some() {
            return Some(FirewallKind::Nftables);
        }
        if self.host.modified(fw3).is_some() {
            return Some(FirewallKind::Ip6tables);
        }
        let table = ["list", "table", "inet", "fw4"].map(String::from);
        if self.host.on_path("nft") && self.succeeds("nft", &table) {
            return Some(FirewallKind::Nftables);
        }
        self.host
            .on_path("ip6tables")
            .then_some(FirewallKind::Ip6tables)
    }

    /// Returns whether the rule had to be inserted.
    fn ensure_rule(&mut self, kind: FirewallKind, interface: &str) -> Result<bool, String> {
        let present = match kind {
            FirewallKind::Nftables => !self.nft_handles(interface)?.is_empty(),
            FirewallKind::Ip6tables => self.ip6tables_present(interface)?,
        };
        if present {
            return Ok(false);
        }
        match kind {
            FirewallKind::Nftables => self.must("nft", nft_insert_args(interface))?,
            FirewallKind::Ip6tables => self.must("ip6tables", ip6tables_args("-I", interface))?,
        }
        Ok(true)
    }

    fn remove_rule(&mut self, kind: FirewallKind, interface: &str) -> Result<(), String> {
        match kind {
            FirewallKind::Nftables => {
                for handle in self.nft_handles(interface)? {
                    self.must("nft", nft_delete_args(&handle))?;
                }
            }
            FirewallKind::Ip6tables => {
                // One copy per `-D`; bounded, so a tool that reports success
                // without deleting cannot keep us here.
                for _ in 0..MAX_COPIES {
                    if !self.ip6tables_present(interface)? {
                        return Ok(());
                    }
                    self.must("ip6tables", ip6tables_args("-D", interface))?;
                }
                if self.ip6tables_present(interface)? {
                    return Err(format!(
                        "ip6tables still lists the rule after {MAX_COPIES} deletions"
                    ));
                }
            }
        }
        Ok(())
    }

    /// `ip6tables -C`: exit 0 present, 1 absent, anything else is a failure.
    fn ip6tables_present(&mut self, interface: &str) -> Result<bool, String> {
        let args = ip6tables_args("-C", interface);
        let outcome = self.host.run("ip6tables", &args);
        match &outcome {
            Ok(output) if output.status.success() => Ok(true),
            Ok(output) if output.status.code() == Some(1) => Ok(false),
            _ => Err(tool_failure("ip6tables", &args, &outcome)),
        }
    }

    fn nft_handles(&mut self, interface: &str) -> Result<Vec<String>, String> {
        let args = nft_list_args();
        let outcome = self.host.run("nft", &args);
        match &outcome {
            Ok(output) if output.status.success() => Ok(nft_handles(
                &String::from_utf8_lossy(&output.stdout),
                interface,
            )),
            _ => Err(tool_failure("nft", &args, &outcome)),
        }
    }

    fn must(&mut self, program: &str, args: Vec<String>) -> Result<(), String> {
        let outcome = self.host.run(program, &args);
        match &outcome {
            Ok(output) if output.status.success() => Ok(()),
            _ => Err(tool_failure(program, &args, &outcome)),
        }
    }

    fn succeeds(&mut self, program: &str, args: &[String]) -> bool {
        self.host
            .run(program, args)
            .is_ok_and(|output| output.status.success())
    }
}
