//! The command line of the one binary: `mesh-vpn-wg [--root DIR] <command> [options]`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::quote::quote;
use crate::root::Root;

pub const USAGE: &str = "\
usage: mesh-vpn-wg [--root DIR] <command> [options]

commands:
  daemon [--foreground] [--fwmark N]   run the mesh VPN client
  explain [--json]                     print what the daemon would do; changes nothing
  status [--json]                      the running daemon's state (ubus call mesh_vpn status)
  reconnect                            make the daemon reconnect now
  loadbalancing on|off                 let the broker pick the gateway, or not (if the site allows)

options:
  --root DIR         read and write every file below DIR instead of / (default /)
  --ubus-socket PATH ubusd's socket (default /var/run/ubus/ubus.sock, else /var/run/ubus.sock)
  --fwmark N         packet mark for sockets to the broker and gateways (default 1, 0 disables)
  --foreground       log to stderr instead of syslog
  --json             machine-readable output
  -h, --help         this text
  -V, --version      the version

exit codes: 0 done, 1 failed, 2 bad command line, 3 ubusd or the daemon not reachable,
4 refused because the site fixes the setting";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Daemon { foreground: bool, fwmark: u32 },
    Explain { json: bool },
    Status { json: bool },
    Reconnect,
    Loadbalancing { enabled: bool },
    Help,
    Version,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub root: Root,
    pub command: Command,
    /// `--ubus-socket`; otherwise [`ubus_socket`] picks the default below the root.
    pub ubus_socket: Option<PathBuf>,
}

impl Invocation {
    /// The ubusd socket: `--ubus-socket`, else `/var/run/ubus/ubus.sock`
    /// below the root, else the pre-21.02 `/var/run/ubus.sock` if that exists.
    pub fn ubus_socket(&self) -> PathBuf {
        if let Some(path) = &self.ubus_socket {
            return path.clone();
        }
        let current = self.root.join("var/run/ubus/ubus.sock");
        let legacy = self.root.join("var/run/ubus.sock");
        if !current.exists() && legacy.exists() {
            legacy
        } else {
            current
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Invocation> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let mut root = Root::default();
    let mut command: Option<String> = None;
    let mut operand: Option<String> = None;
    let mut ubus_socket: Option<PathBuf> = None;
    let mut json = false;
    let mut foreground = false;
    let mut fwmark: Option<u32> = None;
    let usage = |e: lexopt::Error| Error::Usage(e.to_string());

    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Long("root") => root = Root::new(PathBuf::from(parser.value().map_err(usage)?)),
            Long("json") => json = true,
            Long("ubus-socket") => {
                ubus_socket = Some(PathBuf::from(parser.value().map_err(usage)?))
            }
            Long("foreground") => foreground = true,
            Long("fwmark") => {
                let text = parser.value().map_err(usage)?.string().map_err(usage)?;
                fwmark = Some(parse_fwmark(&text)?);
            }
            Short('h') | Long("help") => {
                return Ok(Invocation {
                    root,
                    command: Command::Help,
                    ubus_socket,
                });
            }
            Short('V') | Long("version") => {
                return Ok(Invocation {
                    root,
                    command: Command::Version,
                    ubus_socket,
                });
            }
            Value(value) if command.is_none() => command = Some(value.string().map_err(usage)?),
            Value(value) if command.as_deref() == Some("loadbalancing") && operand.is_none() => {
                operand = Some(value.string().map_err(usage)?)
            }
            other => return Err(usage(other.unexpected())),
        }
    }

    let only_for = |flag: &str, set: bool, allowed: bool| -> Result<()> {
        match set && !allowed {
            true => Err(Error::Usage(format!(
                "--{flag} does not apply to '{}'",
                command.as_deref().unwrap_or("")
            ))),
            false => Ok(()),
        }
    };
    let name = command.as_deref().unwrap_or("");
    only_for("json", json, name == "explain" || name == "status")?;
    only_for("foreground", foreground, name == "daemon")?;
    only_for("fwmark", fwmark.is_some(), name == "daemon")?;

    let command = match name {
        "daemon" => Command::Daemon {
            foreground,
            fwmark: fwmark.unwrap_or(1),
        },
        "explain" => Command::Explain { json },
        "status" => Command::Status { json },
        "reconnect" => Command::Reconnect,
        "loadbalancing" => Command::Loadbalancing {
            enabled: match operand.as_deref() {
                Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(Error::Usage(format!(
                        "loadbalancing takes 'on' or 'off', not {}",
                        quote(other)
                    )));
                }
                None => return Err(Error::Usage("loadbalancing needs 'on' or 'off'".into())),
            },
        },
        "" => return Err(Error::Usage("no command given".into())),
        other => return Err(Error::Usage(format!("unknown command {}", quote(other)))),
    };
    Ok(Invocation {
        root,
        command,
        ubus_socket,
    })
}

fn parse_fwmark(text: &str) -> Result<u32> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| {
        Error::Usage(format!(
            "--fwmark {} is not a number (decimal or 0x hex)",
            quote(text)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Invocation> {
        parse(args.iter().map(Into::into))
    }

    #[test]
    fn parses_commands_and_options_in_any_order() {
        let inv = run(&["--root", "/tmp/t", "explain", "--json"]).unwrap();
        assert_eq!(inv.root, Root::new("/tmp/t"));
        assert_eq!(inv.command, Command::Explain { json: true });
        let inv = run(&["daemon", "--fwmark", "0x10", "--foreground", "--root=/x"]).unwrap();
        assert_eq!(
            inv.command,
            Command::Daemon {
                foreground: true,
                fwmark: 16
            }
        );
        assert_eq!(inv.root, Root::new("/x"));
        assert_eq!(
            run(&["daemon"]).unwrap().command,
            Command::Daemon {
                foreground: false,
                fwmark: 1
            }
        );
        assert_eq!(run(&["--help"]).unwrap().command, Command::Help);
        assert_eq!(
            run(&["loadbalancing", "off"]).unwrap().command,
            Command::Loadbalancing { enabled: false }
        );
        assert_eq!(
            run(&["status", "--json"]).unwrap().command,
            Command::Status { json: true }
        );
        assert_eq!(run(&["reconnect"]).unwrap().command, Command::Reconnect);
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let cases = [
            (vec![], "no command"),
            (vec!["frobnicate"], "unknown command 'frobnicate'"),
            (vec!["explain", "extra"], "extra"),
            (
                vec!["daemon", "--json"],
                "--json does not apply to 'daemon'",
            ),
            (vec!["explain", "--fwmark", "1"], "--fwmark does not apply"),
            (
                vec!["daemon", "--fwmark", "one"],
                "--fwmark 'one' is not a number",
            ),
            (vec!["daemon", "--fwmark"], "--fwmark"),
            (vec!["explain", "--bogus"], "--bogus"),
            (vec!["--root"], "--root"),
            (vec!["loadbalancing"], "needs 'on' or 'off'"),
            (vec!["loadbalancing", "maybe"], "not 'maybe'"),
            (vec!["reconnect", "now"], "now"),
        ];
        for (args, expected) in cases {
            let err = run(&args).unwrap_err().to_string();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}

#[cfg(test)]
mod socket_tests {
    use super::*;

    #[test]
    fn the_ubus_socket_defaults_below_the_root_and_falls_back_to_the_old_path() {
        let dir = tempfile::tempdir().unwrap();
        let inv = parse(["--root".into(), dir.path().into(), "status".into()]).unwrap();
        assert_eq!(inv.ubus_socket(), dir.path().join("var/run/ubus/ubus.sock"));
        std::fs::create_dir_all(dir.path().join("var/run")).unwrap();
        std::fs::write(dir.path().join("var/run/ubus.sock"), "").unwrap();
        assert_eq!(inv.ubus_socket(), dir.path().join("var/run/ubus.sock"));
        let inv = parse(["--ubus-socket".into(), "/x.sock".into(), "status".into()]).unwrap();
        assert_eq!(inv.ubus_socket(), PathBuf::from("/x.sock"));
    }
}
