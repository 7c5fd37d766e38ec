//! libuci's file syntax. A lexer splits the text into statements of words
//! (handling quotes, escapes, comments and continuation lines); each
//! statement then edits the list of sections.

use super::{Section, uci_error};
use crate::error::Result;
use crate::quote::quote;
use std::path::Path;

/// Section and option names: letters, digits and `_`.
pub(super) fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Section types may also contain `-`.
pub(super) fn is_valid_type(kind: &str) -> bool {
    !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(super) fn sections(text: &str, file: &Path) -> Result<Vec<Section>> {
    let mut lexer = Lexer {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
        file,
    };
    let mut sections = Sections {
        file,
        list: Vec::new(),
        current: None,
    };
    while let Some(statement) = lexer.next_statement()? {
        sections.apply(&statement)?;
    }
    Ok(sections.list)
}

/// The words of one statement and the line it starts on.
struct Statement {
    line: usize,
    words: Vec<String>,
}

struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
    file: &'a Path,
}

impl Lexer<'_> {
    /// The next non-empty statement, or `None` at the end of the text.
    fn next_statement(&mut self) -> Result<Option<Statement>> {
        let mut statement = Statement {
            line: self.line,
            words: Vec::new(),
        };
        loop {
            match self.peek(0) {
                None => break,
                Some(b'\n') => {
                    self.advance_line(1);
                    if !statement.words.is_empty() {
                        break;
                    }
                }
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'#') => self.skip_comment(),
                Some(b'\\') if self.line_break_after_backslash().is_some() => {
                    self.skip_continuation()
                }
                Some(_) => {
                    if statement.words.is_empty() {
                        statement.line = self.line;
                    }
                    statement.words.push(self.word()?);
                }
            }
        }
        Ok((!statement.words.is_empty()).then_some(statement))
    }

    /// One word: unquoted, quoted and escaped pieces up to the next blank.
    fn word(&mut self) -> Result<String> {
        let mut word = Vec::new();
        while let Some(byte) = self.peek(0) {
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' => break,
                b'\'' => self.single_quoted(&mut word)?,
                b'"' => self.double_quoted(&mut word)?,
                b'\\' => self.escaped(&mut word),
                _ => {
                    word.push(byte);
                    self.pos += 1;
                }
            }
        }
        // Words end only at ASCII bytes, so valid UTF-8 stays valid.
        Ok(String::from_utf8_lossy(&word).into_owned())
    }

    /// `'...'`: everything up to the next `'` is literal, newlines included.
    fn single_quoted(&mut self, word: &mut Vec<u8>) -> Result<()> {
        let opened_on = self.line;
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => return Err(self.unterminated('\'', opened_on)),
                Some(b'\'') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(byte) => {
                    word.push(byte);
                    self.advance_char(byte);
                }
            }
        }
    }

    /// `"..."`: a backslash escapes the next character.
    fn double_quoted(&mut self, word: &mut Vec<u8>) -> Result<()> {
        let opened_on = self.line;
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => return Err(self.unterminated('"', opened_on)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.escaped(word),
                Some(byte) => {
                    word.push(byte);
                    self.advance_char(byte);
                }
            }
        }
    }

    /// A backslash: before a line break it continues the statement on the
    /// next line, otherwise the next character is taken literally.
    fn escaped(&mut self, word: &mut Vec<u8>) {
        if self.line_break_after_backslash().is_some() {
            self.skip_continuation();
            return;
        }
        self.pos += 1;
        if let Some(byte) = self.peek(0) {
            word.push(byte);
            self.pos += 1;
        }
    }

    /// Length of `\` + line break at the current position, if that is what is there.
    fn line_break_after_backslash(&self) -> Option<usize> {
        match (self.peek(1), self.peek(2)) {
            (Some(b'\n'), _) => Some(2),
            (Some(b'\r'), Some(b'\n')) => Some(3),
            _ => None,
        }
    }

    fn skip_continuation(&mut self) {
        if let Some(length) = self.line_break_after_backslash() {
            self.advance_line(length);
        }
    }

    fn skip_comment(&mut self) {
        while self.peek(0).is_some_and(|byte| byte != b'\n') {
            self.pos += 1;
        }
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.pos + ahead).copied()
    }

    fn advance_char(&mut self, byte: u8) {
        self.pos += 1;
        if byte == b'\n' {
            self.line += 1;
        }
    }

    /// Moves past `length` bytes that end with a newline.
    fn advance_line(&mut self, length: usize) {
        self.pos += length;
        self.line += 1;
    }

    fn unterminated(&self, quote: char, line: usize) -> crate::error::Error {
        uci_error(self.file, Some(line), format!("unterminated {quote} quote"))
    }
}

/// Applies statements in order, as libuci does while it reads a file.
struct Sections<'a> {
    file: &'a Path,
    list: Vec<Section>,
    /// Index of the section that `option` and `list` statements add to.
    current: Option<usize>,
}

impl Sections<'_> {
    fn apply(&mut self, statement: &Statement) -> Result<()> {
        let file = self.file;
        let fail = |problem: String| uci_error(file, Some(statement.line), problem);
        let Some((keyword, args)) = statement.words.split_first() else {
            return Ok(());
        };
        match (keyword.as_str(), args) {
            ("package", [_]) => Ok(()),
            ("config", [kind]) => self.open_section(kind, None).map_err(fail),
            ("config", [kind, name]) => self.open_section(kind, Some(name)).map_err(fail),
            ("option" | "list", [name, value]) => self
                .add_option(keyword == "list", name, value)
                .map_err(fail),
            ("package", _) => Err(fail(count_problem(keyword, args, 1, "a package name"))),
            ("config", _) => Err(fail(count_problem(
                keyword,
                args,
                2,
                "a type and an optional name",
            ))),
            ("option" | "list", _) => {
                Err(fail(count_problem(keyword, args, 2, "a name and a value")))
            }
            _ => Err(fail(format!("unknown keyword {}", quote(keyword)))),
        }
    }

    fn open_section(&mut self, kind: &str, name: Option<&str>) -> Result<(), String> {
        if !is_valid_type(kind) {
            return Err(format!("invalid section type {}", quote(kind)));
        }
        if let Some(name) = name.filter(|name| !is_valid_name(name)) {
            return Err(format!("invalid section name {}", quote(name)));
        }
        let earlier = name.and_then(|name| {
            self.list
                .iter()
                .position(|s| s.name.as_deref() == Some(name))
        });
        match earlier {
            // libuci continues an earlier section of the same name (and, in its
            // default strict mode, refuses one of another type).
            Some(index) => {
                let earlier_kind = self.list.get(index).map(|s| s.kind.as_str());
                if earlier_kind != Some(kind) {
                    let name = name.unwrap_or_default();
                    let earlier_kind = earlier_kind.unwrap_or_default();
                    return Err(format!(
                        "section {} of type {} repeats a section of type {}",
                        quote(name),
                        quote(kind),
                        quote(earlier_kind)
                    ));
                }
                self.current = Some(index);
            }
            None => {
                self.list.push(Section::new(kind, name));
                self.current = Some(self.list.len() - 1);
            }
        }
        Ok(())
    }

    fn add_option(&mut self, is_list: bool, name: &str, value: &str) -> Result<(), String> {
        let keyword = if is_list { "list" } else { "option" };
        let Some(section) = self.current.and_then(|index| self.list.get_mut(index)) else {
            return Err(format!(
                "{} before the first 'config'",
                quote(format!("{keyword} {name}"))
            ));
        };
        if !is_valid_name(name) {
            return Err(format!("invalid option name {}", quote(name)));
        }
        if is_list {
            section.append(name, value.to_string());
        } else {
            section.put(name, super::Value::Single(value.to_string()));
        }
        Ok(())
    }
}

fn count_problem(keyword: &str, args: &[String], most: usize, expected: &str) -> String {
    let amount = if args.len() > most {
        "too many"
    } else {
        "too few"
    };
    format!(
        "{amount} words after {} (expected {expected}, found {})",
        quote(keyword),
        args.len()
    )
}
