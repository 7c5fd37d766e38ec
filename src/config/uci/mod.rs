//! UCI files (`/etc/config/*`) as libuci reads and `uci commit` writes them.
//!
//! The model keeps sections and options in file order so that a file written
//! by `uci` survives a read-modify-write byte for byte. Comments and other
//! hand-written forms are normalised on write, exactly as `uci commit` does.

mod atomic;
mod parse;
#[cfg(test)]
mod tests;

pub use atomic::{update, write_atomic};

use crate::error::{Error, Result};
use crate::quote::quote as shown;
use std::path::{Path, PathBuf};

/// One UCI file: its sections in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UciFile {
    /// Only used to name the file in error messages.
    file: PathBuf,
    sections: Vec<Section>,
}

/// `config <kind> ['<name>']` and its options; anonymous sections have no name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: String,
    pub name: Option<String>,
    options: Vec<(String, Value)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Single(String),
    List(Vec<String>),
}

impl UciFile {
    /// A file with no sections (what OpenWrt assumes for a missing file).
    pub fn empty(file: impl Into<PathBuf>) -> Self {
        UciFile {
            file: file.into(),
            sections: Vec::new(),
        }
    }

    /// Parses `text`; `file` only names the file in error messages.
    pub fn parse(text: &str, file: &Path) -> Result<Self> {
        Ok(UciFile {
            file: file.to_path_buf(),
            sections: parse::sections(text, file)?,
        })
    }

    /// Reads and parses `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse_bytes(&bytes, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::empty(path)),
            Err(e) => Err(Error::io("reading", path, e)),
        }
    }

    fn parse_bytes(bytes: &[u8], file: &Path) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes
                .iter()
                .take(e.valid_up_to())
                .filter(|&&b| b == b'\n')
                .count();
            uci_error(file, Some(line), "not valid UTF-8")
        })?;
        Self::parse(text, file)
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The file as `uci commit` would write it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            section.write_to(&mut out);
        }
        out.push('\n');
        out
    }

    /// A single (non-list) value.
    pub fn get(&self, section: &str, option: &str) -> Option<&str> {
        self.section(section)?.get(option)
    }

    /// A list; a single value counts as a one-item list.
    pub fn get_list(&self, section: &str, option: &str) -> Option<&[String]> {
        self.section(section)?.get_list(option)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.as_deref() == Some(name))
    }

    /// All sections of one type, named and anonymous, in file order.
    pub fn sections(&self, kind: &str) -> impl Iterator<Item = &Section> {
        self.sections.iter().filter(move |s| s.kind == kind)
    }

    /// Sets `section.option` to a single value, like `uci set`. The section is
    /// created as `config <kind> '<section>'` when absent; an existing section
    /// keeps its type. An empty value is stored as `''`, not deleted.
    /// Names are checked so that the file written later always parses again.
    pub fn set(&mut self, section: &str, kind: &str, option: &str, value: &str) -> Result<()> {
        let problem = if !parse::is_valid_name(section) {
            Some(format!("invalid section name {}", shown(section)))
        } else if !parse::is_valid_type(kind) {
            Some(format!("invalid section type {}", shown(kind)))
        } else if !parse::is_valid_name(option) {
            Some(format!("invalid option name {}", shown(option)))
        } else if value.contains('\0') {
            Some("a value cannot contain a NUL character".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            let problem = format!(
                "cannot set {}: {problem}",
                shown(format!("{section}.{option}"))
            );
            return Err(uci_error(&self.file, None, problem));
        }
        if self.section(section).is_none() {
            self.sections.push(Section::new(kind, Some(section)));
        }
        if let Some(target) = self.section_mut(section) {
            target.put(option, Value::Single(value.to_string()));
        }
        Ok(())
    }

    /// Removes `section.option`; returns whether it existed.
    pub fn delete(&mut self, section: &str, option: &str) -> bool {
        self.section_mut(section)
            .is_some_and(|target| target.remove(option))
    }

    fn section_mut(&mut self, name: &str) -> Option<&mut Section> {
        self.sections
            .iter_mut()
            .find(|s| s.name.as_deref() == Some(name))
    }
}

impl Section {
    fn new(kind: &str, name: Option<&str>) -> Self {
        Section {
            kind: kind.to_string(),
            name: name.map(str::to_string),
            options: Vec::new(),
        }
    }

    pub fn get(&self, option: &str) -> Option<&str> {
        match self.value(option)? {
            Value::Single(value) => Some(value),
            Value::List(_) => None,
        }
    }

    /// A list; a single value counts as a one-item list.
    pub fn get_list(&self, option: &str) -> Option<&[String]> {
        match self.value(option)? {
            Value::Single(value) => Some(std::slice::from_ref(value)),
            Value::List(items) => Some(items),
        }
    }

    pub fn value(&self, option: &str) -> Option<&Value> {
        self.options
            .iter()
            .find(|(name, _)| name == option)
            .map(|(_, value)| value)
    }

    /// Options in the order they were first set.
    pub fn options(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.options
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// Replaces an option in place (libuci keeps its position) or appends it.
    fn put(&mut self, option: &str, value: Value) {
        match self.options.iter_mut().find(|(name, _)| name == option) {
            Some((_, slot)) => *slot = value,
            None => self.options.push((option.to_string(), value)),
        }
    }

    /// `list <option> <item>`: appends to a list; replaces a single value.
    fn append(&mut self, option: &str, item: String) {
        match self.options.iter_mut().find(|(name, _)| name == option) {
            Some((_, Value::List(items))) => items.push(item),
            Some((_, slot)) => *slot = Value::List(vec![item]),
            None => self
                .options
                .push((option.to_string(), Value::List(vec![item]))),
        }
    }

    fn remove(&mut self, option: &str) -> bool {
        let before = self.options.len();
        self.options.retain(|(name, _)| name != option);
        self.options.len() != before
    }

    fn write_to(&self, out: &mut String) {
        out.push_str("\nconfig ");
        out.push_str(&self.kind);
        if let Some(name) = &self.name {
            out.push_str(&format!(" '{}'", quote(name)));
        }
        out.push('\n');
        for (name, value) in &self.options {
            match value {
                Value::Single(value) => push_line(out, "option", name, value),
                Value::List(items) => items.iter().for_each(|i| push_line(out, "list", name, i)),
            }
        }
    }
}

fn push_line(out: &mut String, keyword: &str, name: &str, value: &str) {
    out.push_str(&format!("\t{keyword} {name} '{}'\n", quote(value)));
}

/// Inside single quotes nothing is escaped, so a `'` closes the quote, adds an
/// escaped `'` and reopens it.
fn quote(value: &str) -> String {
    value.replace('\'', r"'\''")
}

fn uci_error(file: &Path, line: Option<usize>, problem: impl Into<String>) -> Error {
    Error::Uci {
        file: file.to_path_buf(),
        line,
        problem: problem.into(),
    }
}
