//! Logging to OpenWrt's logd through `/dev/log`, or to stderr with
//! `--foreground`. Hand-written instead of the `syslog` crate (+72 KiB): an
//! RFC 3164 datagram is one line of formatting.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

const TAG: &str = "mesh-vpn-wg";
/// LOG_DAEMON
const FACILITY: u8 = 3;

pub enum Target {
    Stderr,
    Syslog { socket: UnixDatagram, path: PathBuf },
}

pub struct Logger {
    target: Target,
    level: LevelFilter,
}

impl Logger {
    /// Installs the logger process-wide; a second call is ignored.
    pub fn install(foreground: bool, level: LevelFilter) {
        let target = match foreground {
            true => Target::Stderr,
            false => UnixDatagram::unbound()
                .map(|socket| Target::Syslog {
                    socket,
                    path: PathBuf::from("/dev/log"),
                })
                .unwrap_or(Target::Stderr),
        };
        if log::set_boxed_logger(Box::new(Logger { target, level })).is_ok() {
            log::set_max_level(level);
        }
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Call sites quote outside text; this keeps a line one line even
        // where one did not (a system error message, say).
        let message = record.args().to_string();
        let message = crate::quote::one_line(&message);
        match &self.target {
            Target::Stderr => eprintln!("{}: {message}", record.level().as_str().to_lowercase()),
            Target::Syslog { socket, path } => {
                let line = rfc3164(
                    record.level(),
                    SystemTime::now(),
                    std::process::id(),
                    &message,
                );
                // logd being restarted must not stop the daemon; the line is lost.
                let _ = socket.send_to(line.as_bytes(), path);
            }
        }
    }

    fn flush(&self) {}
}

/// `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`. The timestamp is always sent:
/// logd skips 16 bytes after `<PRI>` when byte 15 is a space and would
/// otherwise cut our tag.
pub fn rfc3164(level: Level, now: SystemTime, pid: u32, message: &str) -> String {
    let severity = match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    };
    let pri = FACILITY * 8 + severity;
    format!("<{pri}>{} {TAG}[{pid}]: {message}", timestamp(now))
}

/// `Mmm dd hh:mm:ss` in UTC (a router has no local time zone database).
fn timestamp(now: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (_, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let month = MONTHS.get(month as usize - 1).unwrap_or(&"Jan");
    format!(
        "{month} {day:>2} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), after Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_what_logd_expects() {
        // 2026-11-02 07:05:09 UTC
        let t = UNIX_EPOCH + Duration::from_secs(1_793_603_109);
        let line = rfc3164(Level::Warn, t, 42, "gateway gw1 lost");
        assert_eq!(
            line,
            "<28>Nov  2 07:05:09 mesh-vpn-wg[42]: gateway gw1 lost"
        );
        // logd strips "<pri>" then 16 bytes when byte 15 is a space: our tag survives.
        let after_pri = &line[line.find('>').unwrap() + 1..];
        assert_eq!(&after_pri[15..16], " ");
        assert!(after_pri[16..].starts_with("mesh-vpn-wg[42]"));
    }

    #[test]
    fn calendar_conversion_handles_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
        assert_eq!(civil_from_days(20_758), (2026, 11, 1));
    }

    #[test]
    fn lines_reach_a_syslog_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let logger = Logger {
            target: Target::Syslog {
                socket: UnixDatagram::unbound().unwrap(),
                path: path.clone(),
            },
            level: LevelFilter::Info,
        };
        logger.log(
            &Record::builder()
                .level(Level::Info)
                .args(format_args!("hello"))
                .build(),
        );
        logger.log(
            &Record::builder()
                .level(Level::Warn)
                .args(format_args!("forged?\n<30>x\0y"))
                .build(),
        );
        logger.log(
            &Record::builder()
                .level(Level::Debug)
                .args(format_args!("dropped"))
                .build(),
        );
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(
            got.starts_with("<30>") && got.ends_with("]: hello"),
            "{got}"
        );
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(got.ends_with("]: forged?\\n<30>x\\0y"), "{got}");
        server.set_nonblocking(true).unwrap();
        assert!(
            server.recv(&mut buf).is_err(),
            "debug line was sent at level info"
        );
    }
}
