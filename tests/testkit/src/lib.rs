//! Test and demo tooling for mesh-vpn-wg: stand-ins for the services a Gluon
//! node talks to (wgkex broker, ubusd), network-namespace hosts and gateways,
//! and a whole Freifunk site built from them. Never shipped to routers.

pub mod broker;
pub mod netns;
pub mod site;
pub mod ubusd;

/// Says that the running test cannot run here, and why, on the real standard
/// error: libtest keeps `eprintln!` of a passing test to itself, and a skipped
/// test must be seen, not pass silently.
pub fn skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let _ = writeln!(std::io::stderr(), "SKIP {test}: {reason}");
}

/// Shows a figure the running test measured (`MEASURED <test>: <what>`) on
/// the real standard error, past libtest's capture like [`skip`], so a
/// passing run still says what it saw.
pub fn measured(what: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let _ = writeln!(std::io::stderr(), "MEASURED {test}: {what}");
}
