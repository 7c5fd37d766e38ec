use std::process::ExitCode;

use mesh_vpn_wg::cli::{self, Command, USAGE};
use mesh_vpn_wg::commands::{self, client};
use mesh_vpn_wg::daemon;
use mesh_vpn_wg::error::{Error, Result};
use mesh_vpn_wg::quote::one_line;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // One line each, as in the log: the terminal gets no raw control characters.
        Err(Error::Usage(problem)) => {
            eprintln!("mesh-vpn-wg: {}\n\n{USAGE}", one_line(&problem));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("mesh-vpn-wg: {}", one_line(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

fn run() -> Result<()> {
    let invocation = cli::parse(std::env::args_os().skip(1))?;
    match invocation.command {
        Command::Help => println!("{USAGE}"),
        Command::Version => println!("mesh-vpn-wg {}", env!("CARGO_PKG_VERSION")),
        Command::Explain { json } => {
            let explanation = commands::explain::explain(&invocation.root)?;
            match json {
                true => println!(
                    "{}",
                    serde_json::to_string_pretty(&explanation).unwrap_or_default()
                ),
                false => print!("{}", explanation.to_text()),
            }
        }
        Command::Daemon { foreground, fwmark } => {
            let ubus_socket = invocation.ubus_socket();
            daemon::run(
                invocation.root,
                daemon::Options {
                    foreground,
                    fwmark,
                    ubus_socket,
                },
            )?
        }
        Command::Status { json } => {
            let status = client::call(&invocation.ubus_socket(), "status", Default::default())?;
            match json {
                true => println!(
                    "{}",
                    serde_json::to_string_pretty(&status).unwrap_or_default()
                ),
                false => print!("{}", client::status_text(&status)),
            }
        }
        Command::Reconnect => {
            client::call(&invocation.ubus_socket(), "reconnect", Default::default())?;
            println!("reconnect requested");
        }
        Command::Loadbalancing { enabled } => {
            let args = client::loadbalancing_args(enabled);
            let reply = client::call(&invocation.ubus_socket(), "set_loadbalancing", args)?;
            let effective = if reply["effective"] == serde_json::Value::Bool(true) {
                "on"
            } else {
                "off"
            };
            println!("loadbalancing is now {effective}");
        }
    }
    Ok(())
}
