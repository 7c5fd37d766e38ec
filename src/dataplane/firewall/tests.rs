//! The decision logic against a scripted host: which tool runs when, and
//! that a failure is retried and a verified rule is not looked at again.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output};
use std::time::{Duration, SystemTime};

use super::host::Host;
use super::*;

/// Tools answer by the first word of their arguments; every run is recorded.
#[derive(Default)]
struct Scripted {
    on_path: HashSet<&'static str>,
    files: HashMap<PathBuf, SystemTime>,
    /// (program, first argument) → (exit code, stdout, stderr).
    answers: HashMap<(&'static str, &'static str), (i32, &'static str, &'static str)>,
    runs: Vec<String>,
}

impl Host for Scripted {
    fn run(&mut self, program: &str, args: &[String]) -> io::Result<Output> {
        self.runs.push(format!("{program} {}", args.join(" ")));
        if !self.on_path.contains(program) {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        let first = args.iter().find(|a| *a != "-w" && *a != "-a");
        let key = self
            .answers
            .keys()
            .find(|(p, a)| *p == program && Some(*a) == first.map(String::as_str))
            .copied();
        let (code, stdout, stderr) = key.map_or((0, "", ""), |k| self.answers[&k]);
        Ok(Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        })
    }

    fn on_path(&self, program: &str) -> bool {
        self.on_path.contains(program)
    }

    fn modified(&self, path: &Path) -> Option<SystemTime> {
        self.files.get(path).copied()
    }
}

fn firewall(host: Scripted) -> Firewall<Scripted> {
    Firewall::with_host(host, PathBuf::from("/run"))
}

fn runs(fw: &mut Firewall<Scripted>) -> Vec<String> {
    std::mem::take(&mut fw.host.runs)
}

#[test]
fn no_tool_means_nothing_to_open_and_no_process() {
    let mut fw = firewall(Scripted::default());
    assert_eq!(fw.ensure("wg0", 7), Ok(FirewallState::NoFirewall));
    assert!(runs(&mut fw).is_empty());
    let detail = FirewallState::NoFirewall.describe("wg0");
    assert!(detail.contains("nothing to open"), "{detail}");
}

#[test]
fn a_failing_tool_is_named_with_its_stderr_and_retried_until_it_works() {
    let mut host = Scripted::default();
    host.on_path.insert("ip6tables");
    let message =
        "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Invalid argument";
    host.answers.insert(("ip6tables", "-C"), (4, "", message));
    let mut fw = firewall(host);
    let error = fw.ensure("wg0", 7).unwrap_err();
    assert!(error.contains("ip6tables -w -C INPUT -i wg0"), "{error}");
    assert!(error.contains("Could not fetch rule set"), "{error}");
    // Retried at the next call, and recovers once the tool works.
    fw.host
        .answers
        .insert(("ip6tables", "-C"), (1, "", "Bad rule"));
    assert_eq!(
        fw.ensure("wg0", 7),
        Ok(FirewallState::Open {
            kind: FirewallKind::Ip6tables,
            inserted: true
        })
    );
    assert!(
        runs(&mut fw)
            .iter()
            .any(|r| r.starts_with("ip6tables -w -I INPUT 1"))
    );
    // Verified: the next call starts nothing.
    assert!(matches!(
        fw.ensure("wg0", 7),
        Ok(FirewallState::Open {
            inserted: false,
            ..
        })
    ));
    assert!(runs(&mut fw).is_empty());
}

#[test]
fn a_missing_binary_says_it_is_not_installed() {
    let mut host = Scripted::default();
    // fw4 says it runs, but nft is gone.
    host.files
        .insert(PathBuf::from("/run/fw4.state"), SystemTime::UNIX_EPOCH);
    let mut fw = firewall(host);
    let error = fw.ensure("wg0", 7).unwrap_err();
    assert!(error.contains("nft is not installed"), "{error}");
}

#[test]
fn fw4_starting_after_us_is_decided_again_and_gets_the_nft_rule() {
    let mut host = Scripted::default();
    host.on_path.extend(["nft", "ip6tables"]);
    host.answers
        .insert(("nft", "list"), (1, "", "No such file or directory"));
    host.answers
        .insert(("ip6tables", "-C"), (1, "", "Bad rule"));
    let mut fw = firewall(host);
    assert!(matches!(
        fw.ensure("wg0", 7),
        Ok(FirewallState::Open {
            kind: FirewallKind::Ip6tables,
            ..
        })
    ));
    runs(&mut fw);
    // firewall4 starts: its state file appears and the table exists.
    fw.host
        .files
        .insert(PathBuf::from("/run/fw4.state"), SystemTime::UNIX_EPOCH);
    fw.host
        .answers
        .insert(("nft", "list"), (0, "table inet fw4 {}", ""));
    assert_eq!(
        fw.ensure("wg0", 7),
        Ok(FirewallState::Open {
            kind: FirewallKind::Nftables,
            inserted: true
        })
    );
    let runs = runs(&mut fw);
    assert!(
        runs.iter()
            .any(|r| r.starts_with("nft insert rule inet fw4 input")),
        "{runs:?}"
    );
    // Where the old ip6tables rule was is looked at (and it is taken out).
    assert!(
        runs.iter().any(|r| r.starts_with("ip6tables -w -C INPUT")),
        "{runs:?}"
    );
}

#[test]
fn a_restart_of_the_firewall_rechecks_the_rule() {
    let mut host = Scripted::default();
    host.on_path.insert("ip6tables");
    host.files
        .insert(PathBuf::from("/run/fw3.state"), SystemTime::UNIX_EPOCH);
    let mut fw = firewall(host);
    assert!(fw.ensure("wg0", 7).is_ok());
    runs(&mut fw);
    assert!(fw.ensure("wg0", 7).is_ok());
    assert!(runs(&mut fw).is_empty(), "steady state");
    let later = SystemTime::UNIX_EPOCH + Duration::from_secs(60);
    fw.host.files.insert(PathBuf::from("/run/fw3.state"), later);
    assert!(fw.ensure("wg0", 7).is_ok());
    assert_eq!(
        runs(&mut fw),
        ["ip6tables -w -C INPUT -i wg0 -p udp -m udp --dport 8472 -j ACCEPT"]
    );
}

#[test]
fn removal_reports_the_tool_failure() {
    let mut host = Scripted::default();
    host.on_path.insert("ip6tables");
    host.answers.insert(("ip6tables", "-C"), (0, "", ""));
    host.answers.insert(
        ("ip6tables", "-D"),
        (4, "", "Permission denied (you must be root)"),
    );
    let mut fw = firewall(host);
    assert!(fw.ensure("wg0", 7).is_ok());
    let error = fw.remove("wg0").unwrap_err();
    assert!(error.contains("Permission denied"), "{error}");
}

#[test]
fn a_delete_that_deletes_nothing_does_not_loop_forever() {
    let mut host = Scripted::default();
    host.on_path.insert("ip6tables");
    host.answers.insert(("ip6tables", "-C"), (0, "", ""));
    let mut fw = firewall(host);
    assert!(fw.ensure("wg0", 7).is_ok());
    let error = fw.remove("wg0").unwrap_err();
    assert!(error.contains("still lists the rule"), "{error}");
}
