//! Setting the clock over the WAN before the first key exchange after boot.
//! Routers without RTC boot with an old clock; gateways then drop our
//! handshakes (their timestamps look replayed) and TLS certificates look
//! invalid. checkuplink ran busybox `ntpd -q` with the packet mark; this is a
//! single SNTP query (RFC 4330) on a marked socket, bounded by a timeout,
//! and skipped when the kernel already reports a synchronised clock.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::time::timeout;

use crate::endpoint::Host;
use crate::resolve::{self, Family};

const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Seconds from 1900 (NTP era 0) to 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Closer than this and the clock is left alone.
const TOLERANCE: Duration = Duration::from_secs(1);

pub struct ClockSync {
    pub servers: Vec<String>,
    pub fwmark: u32,
    /// False under `--root` other than `/`: never touch the host's clock from a test or demo.
    pub may_set_clock: bool,
}

impl ClockSync {
    pub async fn sync(&self, prefer: Family) -> Result<(), String> {
        if kernel_clock_synced() {
            return Ok(());
        }
        let mut problems = Vec::new();
        for server in &self.servers {
            match self.ask(server, prefer).await {
                Ok(time) => return self.apply(time),
                Err(e) => problems.push(format!("{}: {e}", crate::quote::quote(server))),
            }
        }
        if problems.is_empty() {
            return Err("no NTP servers configured (system.ntp.server or site ntp_servers)".into());
        }
        Err(problems.join("; "))
    }

    async fn ask(&self, server: &str, prefer: Family) -> Result<SystemTime, String> {
        let host = Host::parse(server)?;
        let addrs = resolve::resolve(&host, 123, prefer)
            .await
            .map_err(|e| e.to_string())?;
        let mut last = String::from("no address");
        for addr in addrs {
            match timeout(QUERY_TIMEOUT, query(addr, self.fwmark)).await {
                Ok(Ok(time)) => return Ok(time),
                Ok(Err(e)) => last = format!("{addr}: {e}"),
                Err(_) => last = format!("{addr}: no answer within {} s", QUERY_TIMEOUT.as_secs()),
            }
        }
        Err(last)
    }

    fn apply(&self, server_time: SystemTime) -> Result<(), String> {
        let off = match server_time.duration_since(SystemTime::now()) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        if off <= TOLERANCE || !self.may_set_clock {
            return Ok(());
        }
        set_clock(server_time)
    }
}

async fn query(server: SocketAddr, fwmark: u32) -> Result<SystemTime, String> {
    let socket = marked_udp(server, fwmark)?;
    let request = request_packet(SystemTime::now());
    socket
        .send_to(&request, server)
        .await
        .map_err(|e| e.to_string())?;
    let mut reply = [0u8; 68];
    loop {
        let (len, from) = socket
            .recv_from(&mut reply)
            .await
            .map_err(|e| e.to_string())?;
        if from == server {
            return parse_reply(&reply[..len], &request[40..48]);
        }
    }
}

fn marked_udp(server: SocketAddr, fwmark: u32) -> Result<UdpSocket, String> {
    let socket = Socket::new(
        Domain::for_address(server),
        Type::DGRAM,
        Some(Protocol::UDP),
    )
    .map_err(|e| e.to_string())?;
    if fwmark != 0 {
        socket
            .set_mark(fwmark)
            .map_err(|e| format!("setting SO_MARK {fwmark} (needs CAP_NET_ADMIN): {e}"))?;
    }
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    UdpSocket::from_std(socket.into()).map_err(|e| e.to_string())
}

/// A client request (LI 0, version 4, mode 3) carrying `now` as transmit
/// time, which the server echoes as originate time: our check against spoofing.
fn request_packet(now: SystemTime) -> [u8; 48] {
    let mut packet = [0u8; 48];
    packet[0] = 0x23;
    packet[40..48].copy_from_slice(&to_ntp(now));
    packet
}

fn parse_reply(reply: &[u8], sent: &[u8]) -> Result<SystemTime, String> {
    if reply.len() < 48 {
        return Err(format!("short reply ({} bytes)", reply.len()));
    }
    if reply[0] & 0x07 != 4 {
        return Err("not a server reply".into());
    }
    if reply[1] == 0 {
        return Err("server refused (kiss-o'-death)".into());
    }
    if &reply[24..32] != sent {
        return Err("reply does not answer our request".into());
    }
    let seconds = u64::from(u32::from_be_bytes([
        reply[40], reply[41], reply[42], reply[43],
    ]));
    let fraction = u64::from(u32::from_be_bytes([
        reply[44], reply[45], reply[46], reply[47],
    ]));
    let unix = seconds
        .checked_sub(NTP_UNIX_OFFSET)
        .ok_or("time before 1970")?;
    let nanos = (fraction * 1_000_000_000) >> 32;
    Ok(UNIX_EPOCH + Duration::from_secs(unix) + Duration::from_nanos(nanos))
}

fn to_ntp(time: SystemTime) -> [u8; 8] {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = (since.as_secs() + NTP_UNIX_OFFSET) as u32;
    let fraction = ((u64::from(since.subsec_nanos()) << 32) / 1_000_000_000) as u32;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&seconds.to_be_bytes());
    out[4..].copy_from_slice(&fraction.to_be_bytes());
    out
}

/// The kernel's view: a running NTP daemon (sysntpd) clears STA_UNSYNC.
/// `adjtimex` is the call glibc and musl both have (`ntp_adjtime` is glibc's
/// alias only); with `modes = 0` it only reads.
fn kernel_clock_synced() -> bool {
    // SAFETY: a zeroed timex is a valid read-only request (modes = 0).
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    state >= 0 && state != libc::TIME_ERROR
}

/// Steps the clock. On 32-bit musl the libc crate binds the time32 ABI
/// that musl keeps for compatibility (`time_t` is 32 bits there), so a
/// time past 2038-01-19 cannot be expressed: it is refused with an error
/// instead of wrapping to 1901, which would break every handshake.
fn set_clock(time: SystemTime) -> Result<(), String> {
    let since = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "time before 1970")?;
    let spec = libc::timespec {
        tv_sec: seconds_as_time_t(since.as_secs())?,
        tv_nsec: since.subsec_nanos() as _,
    };
    // SAFETY: `spec` is a valid timespec for the duration of the call.
    match unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &spec) } {
        0 => Ok(()),
        _ => Err(format!(
            "setting the clock: {}",
            std::io::Error::last_os_error()
        )),
    }
}

#[allow(deprecated)] // musl's time_t is deprecated in the libc crate: it changes width with musl 1.2
fn seconds_as_time_t(seconds: u64) -> Result<libc::time_t, String> {
    libc::time_t::try_from(seconds).map_err(|_| {
        format!(
            "time {seconds} s after 1970 does not fit this C library's {}-bit time_t",
            8 * std::mem::size_of::<libc::time_t>()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_reply(request: &[u8; 48], server_time: SystemTime) -> [u8; 48] {
        let mut reply = [0u8; 48];
        reply[0] = 0x24; // version 4, mode 4 (server)
        reply[1] = 2;
        reply[24..32].copy_from_slice(&request[40..48]);
        reply[40..48].copy_from_slice(&to_ntp(server_time));
        reply
    }

    #[test]
    fn a_reply_gives_the_servers_time_to_the_millisecond() {
        let request = request_packet(SystemTime::now());
        let server_time = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        let parsed = parse_reply(&server_reply(&request, server_time), &request[40..48]).unwrap();
        let diff = parsed
            .duration_since(server_time)
            .unwrap_or_else(|e| e.duration());
        assert!(diff < Duration::from_millis(1), "{diff:?}");
    }

    #[test]
    fn spoofed_refused_and_short_replies_are_rejected() {
        let request = request_packet(SystemTime::now());
        let good = server_reply(&request, SystemTime::now());
        let other = request_packet(UNIX_EPOCH + Duration::from_secs(5));
        assert!(
            parse_reply(&good, &other[40..48])
                .unwrap_err()
                .contains("does not answer")
        );
        let mut kiss = good;
        kiss[1] = 0;
        assert!(
            parse_reply(&kiss, &request[40..48])
                .unwrap_err()
                .contains("kiss")
        );
        assert!(
            parse_reply(&good[..20], &request[40..48])
                .unwrap_err()
                .contains("short")
        );
        let mut client = good;
        client[0] = 0x23;
        assert!(parse_reply(&client, &request[40..48]).is_err());
    }

    #[tokio::test]
    async fn a_query_against_a_local_server_on_loopback() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let answer = tokio::spawn(async move {
            let mut buf = [0u8; 48];
            let (_, from) = server.recv_from(&mut buf).await.unwrap();
            server
                .send_to(&server_reply(&buf, SystemTime::now()), from)
                .await
                .unwrap();
        });
        let time = query(addr, 0).await.unwrap();
        let off = time
            .duration_since(SystemTime::now())
            .unwrap_or_else(|e| e.duration());
        assert!(off < Duration::from_secs(1));
        answer.await.unwrap();
    }

    #[test]
    #[allow(deprecated)]
    fn times_past_the_c_librarys_time_t_are_refused_not_wrapped() {
        let largest = libc::time_t::MAX as u64;
        assert_eq!(seconds_as_time_t(1_800_000_000).unwrap(), 1_800_000_000);
        assert_eq!(seconds_as_time_t(largest).unwrap() as u64, largest);
        let error = seconds_as_time_t(largest + 1).unwrap_err();
        assert!(error.contains("does not fit"), "{error}");
    }
}
