//! The property behind issue 16, checked on every path that puts outside
//! text into a message: whatever bytes arrive (every byte 0..=255, C1 and bidi
//! controls, broken UTF-8, terminal escapes, values far past any limit), the
//! resulting message is one line without a control character and of bounded
//! length, and `status` stays valid JSON. A deterministic generator instead
//! of a random one: every byte value is covered in every run.

mod broker;
mod config;
mod status;

use crate::quote::{needs_escape, quote};

/// Longer than any message needs when every quoted value is cut.
const MESSAGE_LIMIT: usize = 2048;

/// The hostile values, as raw bytes.
fn values() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for b in 0..=255u8 {
        out.push(vec![b]);
        out.push(vec![b'g', b, b'w']);
    }
    let unicode = (0x80..=0x9f).chain([
        0x61c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202e, 0x2066, 0x2069,
    ]);
    for c in unicode.filter_map(char::from_u32) {
        out.push(format!("gw{c}1").into_bytes());
    }
    let broken: [&[u8]; 6] = [
        b"\xc3",
        b"\xed\xa0\x80",
        b"\xc0\x80",
        b"\xf8\x88\x80\x80\x80",
        b"\xe2\x80",
        b"\xff\xfe",
    ];
    for bytes in broken {
        out.push([b"gw".as_slice(), bytes, b".net"].concat());
    }
    out.push(b"$(reboot);`id`\n\0".to_vec());
    out.push(b"\x1b[2J\x1b]0;owned\x07\x1b[31m".to_vec());
    out.push(b"ok\r\nSet-Cookie: x\r\n\r\n<13>Nov  2 forged".to_vec());
    out.push(vec![b'A'; 100_000]);
    out.push(vec![b'\n'; 70_000]);
    out.push((0..=255u8).cycle().take(100_000).collect());
    out
}

/// The values as text, for paths that only ever see valid UTF-8 (JSON
/// strings, UCI words, ubus strings); broken sequences become U+FFFD.
fn texts() -> Vec<String> {
    values()
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// Counts the messages checked, so a path that produced none fails.
#[derive(Default)]
struct Checked(usize);

impl Checked {
    /// One line, no control character, bounded: fit for syslog and a terminal.
    fn message(&mut self, message: &str, from: &[u8]) {
        let raw = message.chars().find(|c| needs_escape(*c));
        assert!(
            raw.is_none(),
            "raw {raw:?} in {} (from {})",
            quote(message),
            quote(from)
        );
        assert!(
            message.len() <= MESSAGE_LIMIT,
            "{} bytes in {} (from {})",
            message.len(),
            quote(message),
            quote(from)
        );
        self.0 += 1;
    }

    fn at_least(&self, n: usize) {
        assert!(
            self.0 >= n,
            "only {} messages checked, expected {n}",
            self.0
        );
    }
}

#[test]
fn the_generator_covers_every_byte_and_long_values() {
    let values = values();
    for b in 0..=255u8 {
        assert!(values.iter().any(|v| v == &[b]), "byte {b}");
    }
    assert!(values.iter().any(|v| std::str::from_utf8(v).is_err()));
    assert!(values.iter().any(|v| v.len() >= 100_000));
}

#[test]
fn quoting_keeps_every_value_on_one_bounded_line() {
    let mut checked = Checked::default();
    for value in values() {
        checked.message(&quote(&value), &value);
        let text = String::from_utf8_lossy(&value);
        let line = crate::quote::one_line(&text);
        assert!(!line.chars().any(needs_escape), "{}", quote(&value));
        if !text.chars().any(needs_escape) {
            assert_eq!(line, text, "one_line changed text that needed nothing");
        }
        let logged = crate::logging::rfc3164(log::Level::Warn, std::time::UNIX_EPOCH, 1, &line);
        assert!(!logged.contains(['\n', '\r', '\0']), "{}", quote(&value));
    }
    checked.at_least(values().len());
}
