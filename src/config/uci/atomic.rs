//! Writing UCI files without ever leaving a half-written one behind: the
//! `wireguard` file holds the node's private key.

use super::UciFile;
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Read-modify-write of one UCI file as one transaction: load, let `change`
/// edit, and when the text changed write the whole file atomically with
/// `mode`. Returns what `change` returned.
///
/// Nothing is written when `change` fails or the file does not parse (a file
/// holding a private key is never "repaired" by dropping it).
///
/// It does not take libuci's `flock` on the file (`File::lock` needs Rust
/// 1.89, above the crate's MSRV), so a `uci commit` of the same file running
/// at the same moment may have one of the two changes lost.
pub fn update<T>(
    path: &Path,
    mode: u32,
    change: impl FnOnce(&mut UciFile) -> Result<T>,
) -> Result<T> {
    let mut file = UciFile::load(path)?;
    let before = file.to_text();
    let result = change(&mut file)?;
    let after = file.to_text();
    if after != before {
        write_atomic(path, after.as_bytes(), mode)?;
    }
    Ok(result)
}

/// Replaces `path` with `contents` atomically: a new file in the same
/// directory gets `mode`, the contents and an fsync, is renamed over `path`,
/// and the directory is synced. On failure the new file is removed and the
/// old one is untouched.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let (dir, name) = split(path)?;
    let (temp, mut file) = create_temp(dir, name, mode)?;
    let written = fill(&mut file, contents, mode)
        .map_err(|e| Error::io("writing", &temp, e))
        .and_then(|()| fs::rename(&temp, path).map_err(|e| Error::io("replacing", path, e)));
    drop(file);
    if let Err(error) = written {
        // Best effort: the error that matters is the one being returned.
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    // Makes the rename itself survive a power cut.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("syncing directory", dir, e))
}

fn split(path: &Path) -> Result<(&Path, &std::ffi::OsStr)> {
    let Some(name) = path.file_name() else {
        let problem = io::Error::new(io::ErrorKind::InvalidInput, "not a file name");
        return Err(Error::io("writing", path, problem));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// A new file next to the target; `create_new` (O_EXCL) never reuses one.
fn create_temp(dir: &Path, name: &std::ffi::OsStr, mode: u32) -> Result<(PathBuf, File)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut last_error = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".mesh-vpn-wg-{}-{n}", std::process::id()));
        let temp = dir.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some((temp, e)),
            Err(e) => return Err(Error::io("creating", temp, e)),
        }
    }
    let (temp, e) =
        last_error.unwrap_or_else(|| (dir.to_path_buf(), io::ErrorKind::AlreadyExists.into()));
    Err(Error::io("creating", temp, e))
}

/// The mode is set before the contents arrive (and exactly, whatever the umask).
fn fill(file: &mut File, contents: &[u8], mode: u32) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::uci::tests::WIREGUARD;
    use std::os::unix::fs::MetadataExt;

    fn read(path: &Path) -> String {
        fs::read_to_string(path).expect("read back")
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
    }

    /// Names in `dir`, to spot temporary files left behind.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn wireguard_file(mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wireguard");
        fs::write(&path, WIREGUARD).expect("write");
        fs::set_permissions(&path, Permissions::from_mode(mode)).expect("chmod");
        (dir, path)
    }

    #[test]
    fn update_changes_one_option_and_keeps_everything_else() {
        let (dir, path) = wireguard_file(0o644);
        let previous = update(&path, 0o600, |file| {
            let previous = file.get("mesh_vpn", "loadbalancing").map(str::to_string);
            file.set("mesh_vpn", "wireguard", "loadbalancing", "0")?;
            Ok(previous)
        })
        .expect("update");
        assert_eq!(previous.as_deref(), Some("1"));
        let expected = WIREGUARD.replace("option loadbalancing '1'", "option loadbalancing '0'");
        assert_ne!(expected, WIREGUARD);
        assert_eq!(read(&path), expected);
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(entries(dir.path()), ["wireguard"]);
    }

    #[test]
    fn a_no_op_update_does_not_rewrite_the_file() {
        // Hand-written, so any rewrite would also drop the comment.
        let text = "# keep me\nconfig wireguard mesh_vpn\n\toption enabled 1\n";
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wireguard");
        fs::write(&path, text).expect("write");
        let before = fs::metadata(&path).expect("metadata");
        update(&path, 0o600, |file| {
            file.set("mesh_vpn", "wireguard", "enabled", "1")?;
            file.delete("mesh_vpn", "absent");
            Ok(())
        })
        .expect("update");
        let after = fs::metadata(&path).expect("metadata");
        assert_eq!(read(&path), text);
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.modified().ok(), before.modified().ok());
        assert_eq!(after.permissions().mode(), before.permissions().mode());
    }

    #[test]
    fn an_error_from_change_writes_nothing() {
        let (dir, path) = wireguard_file(0o644);
        let result: Result<()> = update(&path, 0o600, |file| {
            file.delete("mesh_vpn", "privatekey");
            Err(Error::Usage("changed my mind".into()))
        });
        assert!(matches!(result, Err(Error::Usage(ref m)) if m == "changed my mind"));
        assert_eq!(read(&path), WIREGUARD);
        assert_eq!(mode_of(&path), 0o644);
        assert_eq!(entries(dir.path()), ["wireguard"]);
    }

    #[test]
    fn a_file_that_does_not_parse_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wireguard");
        let text = "config wireguard 'mesh_vpn'\n\toption privatekey 'abc\n";
        fs::write(&path, text).expect("write");
        let mut called = false;
        let result = update(&path, 0o600, |file| {
            called = true;
            file.set("mesh_vpn", "wireguard", "privatekey", "new")
        });
        match result {
            Err(Error::Uci { line, .. }) => assert_eq!(line, Some(2)),
            other => panic!("expected the parse error, got {other:?}"),
        }
        assert!(!called, "change must not run on an unparsable file");
        assert_eq!(read(&path), text);
    }

    #[test]
    fn a_missing_file_is_created_only_when_something_is_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wireguard");
        update(&path, 0o600, |_| Ok(())).expect("no-op update");
        assert!(!path.exists(), "a no-op must not create the file");

        update(&path, 0o600, |file| {
            file.set("mesh_vpn", "wireguard", "enabled", "1")
        })
        .expect("update");
        assert_eq!(
            read(&path),
            "\nconfig wireguard 'mesh_vpn'\n\toption enabled '1'\n\n"
        );
        assert_eq!(mode_of(&path), 0o600);
    }

    #[test]
    fn write_atomic_replaces_contents_and_sets_the_exact_mode() {
        let (dir, path) = wireguard_file(0o600);
        write_atomic(&path, b"new\n", 0o640).expect("write");
        assert_eq!(read(&path), "new\n");
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(entries(dir.path()), ["wireguard"]);
    }

    #[test]
    fn a_failed_rename_leaves_the_old_target_and_no_temporary_file() {
        // A directory where the file should go: everything up to the rename
        // succeeds, the rename fails.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wireguard");
        fs::create_dir(&path).expect("mkdir");
        fs::write(path.join("inside"), "old").expect("write");

        let error = write_atomic(&path, WIREGUARD.as_bytes(), 0o600).expect_err("rename fails");
        assert!(
            matches!(&error, Error::Io { action: "replacing", path: p, .. } if *p == path),
            "{error:?}"
        );
        assert_eq!(read(&path.join("inside")), "old");
        assert_eq!(entries(dir.path()), ["wireguard"]);
    }

    #[test]
    fn a_parent_that_is_not_a_directory_fails_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let not_a_dir = dir.path().join("config");
        fs::write(&not_a_dir, "old").expect("write");
        let error =
            write_atomic(&not_a_dir.join("wireguard"), b"x", 0o600).expect_err("cannot create");
        assert!(
            matches!(
                error,
                Error::Io {
                    action: "creating",
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(read(&not_a_dir), "old");
        assert_eq!(entries(dir.path()), ["config"]);
    }

    #[test]
    fn split_handles_bare_names_and_rejects_paths_without_one() {
        let (dir, name) = split(Path::new("wireguard")).expect("bare name");
        assert_eq!(
            (dir, name),
            (Path::new("."), std::ffi::OsStr::new("wireguard"))
        );
        assert!(matches!(split(Path::new("/")), Err(Error::Io { .. })));
        assert!(matches!(split(Path::new("/etc/..")), Err(Error::Io { .. })));
    }
}
