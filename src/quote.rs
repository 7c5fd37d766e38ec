//! The one way text from outside the daemon (broker replies, HTTP heads,
//! DNS names and resolver messages, site.json and UCI values, ubus arguments,
//! tool output) goes into a message. Log lines end up in syslog and on an
//! admin's terminal: a raw newline would start a forged line, a NUL cuts the
//! rest, an escape sequence drives the terminal, a bidi control reorders what
//! is read. So such text is shown quoted, escaped and cut, never raw.

use std::borrow::Cow;
use std::fmt::Write;

/// How many characters of a value (after escaping) a message shows.
pub const SHOWN: usize = 100;

/// `text` between single quotes with every control character, invalid UTF-8
/// byte, quote and backslash escaped; a longer value is cut after [`SHOWN`]
/// characters and followed by an ellipsis and its original length in bytes.
pub fn quote(text: impl AsRef<[u8]>) -> String {
    let bytes = text.as_ref();
    let mut out = String::with_capacity(bytes.len().min(SHOWN) + 2);
    out.push('\'');
    let mut shown = 0;
    let mut piece = String::new();
    for chunk in bytes.utf8_chunks() {
        let chars = chunk.valid().chars().map(Unit::Char);
        let invalid = chunk.invalid().iter().map(|b| Unit::Byte(*b));
        for unit in chars.chain(invalid) {
            piece.clear();
            unit.escape(&mut piece, true);
            shown += piece.chars().count();
            if shown > SHOWN {
                return format!("{out}'… ({} bytes)", bytes.len());
            }
            out.push_str(&piece);
        }
    }
    out.push('\'');
    out
}

/// A JSON value from outside: a string as [`quote`] shows it, anything
/// else as its JSON text, quoted the same way (`'null'`, `'[1,2]'`).
pub fn quote_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => quote(text),
        other => quote(other.to_string()),
    }
}

/// `text` with its control characters escaped and nothing else changed: the
/// last guard where whole messages leave the daemon (the log and `status`),
/// for text that no call site quoted (a system error, say).
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        Unit::Char(c).escape(&mut out, false);
    }
    Cow::Owned(out)
}

/// True for what must not reach a log line raw: C0, DEL and C1 controls, the
/// Unicode line and paragraph separators, and bidi controls.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// One character of valid UTF-8, or one byte that is not part of any.
enum Unit {
    Char(char),
    Byte(u8),
}

impl Unit {
    /// Appends the unit as shown; inside quotes `'` and `\` are escaped too,
    /// so the quoted value reads back unambiguously.
    fn escape(&self, out: &mut String, quoted: bool) {
        let c = match *self {
            Unit::Byte(b) => {
                let _ = write!(out, "\\x{b:02x}");
                return;
            }
            Unit::Char(c) => c,
        };
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '\'' | '\\' if quoted => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u8);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
