//! `test-ubusd <socket path>`: the test stand-in for OpenWrt's ubusd, for demos on machines
//! without OpenWrt. Runs until SIGINT or SIGTERM; never shipped to routers.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!("usage: test-ubusd <socket path>");
        return ExitCode::from(2);
    };
    let mut ubusd = match testkit::ubusd::TestUbusd::start(&path) {
        Ok(ubusd) => ubusd,
        Err(e) => {
            eprintln!("test-ubusd: listening on {}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    eprintln!("test-ubusd: listening on {}", ubusd.path().display());
    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(wait_for_signal()));
    ubusd.stop();
    match waited {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("test-ubusd: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
