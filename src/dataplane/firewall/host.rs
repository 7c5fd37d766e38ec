//! The firewall's side effects: running a tool, finding it on PATH, reading
//! the firewall state files. Behind a trait so the decision logic is tested
//! with a scripted host; [`System`] is the real one.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

use crate::dataplane::count_spawn;

pub trait Host {
    fn run(&mut self, program: &str, args: &[String]) -> io::Result<Output>;
    /// Whether `program` is an executable file in a PATH directory.
    fn on_path(&self, program: &str) -> bool;
    fn modified(&self, path: &Path) -> Option<SystemTime>;
}

/// This machine, with the PATH the daemon was started with.
#[derive(Debug, Default)]
pub struct System;

impl Host for System {
    fn run(&mut self, program: &str, args: &[String]) -> io::Result<Output> {
        count_spawn();
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
    }

    fn on_path(&self, program: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
        std::env::split_paths(&path)
            .map(|dir: PathBuf| dir.join(program))
            .any(|file| {
                std::fs::metadata(file)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
    }

    fn modified(&self, path: &Path) -> Option<SystemTime> {
        std::fs::metadata(path).and_then(|m| m.modified()).ok()
    }
}

/// A tool run that did not succeed, as one line naming the tool and the
/// command and quoting its stderr. The only place tool output enters a
/// message, so it can be escaped in one place.
pub fn tool_failure(program: &str, args: &[String], outcome: &io::Result<Output>) -> String {
    let command = format!("{program} {}", args.join(" "));
    match outcome {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            format!("{program} is not installed (not found on PATH); `{command}` could not run")
        }
        Err(e) => format!("`{command}` could not run: {e}"),
        Ok(output) => {
            // The tool's words, not ours: quoted, escaped and cut (issue 16).
            let stderr = crate::quote::quote(output.stderr.trim_ascii());
            format!("`{command}` failed ({}): {stderr}", output.status)
        }
    }
}
