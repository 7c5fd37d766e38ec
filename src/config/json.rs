//! Gluon's site.json + domain merge, with the file each value came from so
//! that an error can name the file the admin has to fix.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::quote::quote_json;

/// The site tree merged with the domain tree exactly as libgluonutil does it:
/// objects merge recursively with the domain winning; arrays, scalars and
/// type mismatches are replaced wholesale by the domain's value.
#[derive(Debug)]
pub struct MergedSite {
    merged: Value,
    domain: Option<Value>,
    site_file: PathBuf,
    domain_file: Option<PathBuf>,
}

impl MergedSite {
    pub fn load(site_file: &Path, domain_file: Option<&Path>) -> Result<MergedSite> {
        let site = read_json(site_file)?;
        let domain = domain_file.map(read_json).transpose()?;
        let mut merged = site;
        if let Some(domain) = &domain {
            merge(&mut merged, domain);
        }
        Ok(MergedSite {
            merged,
            domain,
            site_file: site_file.to_path_buf(),
            domain_file: domain_file.map(Path::to_path_buf),
        })
    }

    /// The value at a dotted path such as `mesh_vpn.wireguard.mtu`.
    pub fn get(&self, path: &str) -> Option<&Value> {
        walk(&self.merged, path)
    }

    /// The file that supplied `path`: the domain file when it sets the key,
    /// otherwise site.json.
    pub fn origin(&self, path: &str) -> &Path {
        match (&self.domain, &self.domain_file) {
            (Some(domain), Some(file)) if walk(domain, path).is_some() => file,
            _ => &self.site_file,
        }
    }

    /// An error about `path`, naming the file to fix.
    pub fn error(&self, path: &str, problem: impl Into<String>) -> Error {
        Error::site(self.origin(path), path, problem)
    }

    /// A required string.
    pub fn string(&self, path: &str) -> Result<&str> {
        match self.get(path) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) => Err(self.error(path, "is empty")),
            Some(other) => Err(self.error(path, format!("must be a string, not {}", kind(other)))),
            None => Err(self.error(path, "is missing")),
        }
    }

    /// An optional string: absent is fine, any other type is an error.
    pub fn optional_string(&self, path: &str) -> Result<Option<&str>> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(path).map(Some),
        }
    }

    /// A required whole number within `range`.
    pub fn integer(&self, path: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64> {
        let value = self
            .get(path)
            .ok_or_else(|| self.error(path, "is missing"))?;
        value.as_u64().filter(|n| range.contains(n)).ok_or_else(|| {
            self.error(
                path,
                format!(
                    "must be a whole number from {} to {}, not {}",
                    range.start(),
                    range.end(),
                    quote_json(value)
                ),
            )
        })
    }

    /// An optional list of strings.
    pub fn string_list(&self, path: &str) -> Result<Vec<String>> {
        let Some(value) = self.get(path) else {
            return Ok(Vec::new());
        };
        let list = value
            .as_array()
            .ok_or_else(|| self.error(path, format!("must be a list, not {}", kind(value))))?;
        list.iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().map(str::to_string).ok_or_else(|| {
                    self.error(
                        path,
                        format!("entry {} must be a string, not {}", i + 1, kind(item)),
                    )
                })
            })
            .collect()
    }
}

/// The human name of a JSON value's type, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::site(path, "(file)", format!("not valid JSON: {e}")))
}

fn walk<'a>(mut value: &'a Value, path: &str) -> Option<&'a Value> {
    for key in path.split('.') {
        value = value.as_object()?.get(key)?;
    }
    Some(value)
}

fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, overlay) => *base = overlay.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_like_libgluonutil() {
        let mut site = json!({
            "a": {"x": 1, "y": {"deep": 1, "keep": true}, "list": [1, 2, 3]},
            "scalar": "site",
            "mismatch": {"obj": 1},
        });
        let domain = json!({
            "a": {"y": {"deep": 2}, "list": [9]},
            "scalar": "domain",
            "mismatch": [1],
            "new": null,
        });
        merge(&mut site, &domain);
        assert_eq!(
            site,
            json!({
                "a": {"x": 1, "y": {"deep": 2, "keep": true}, "list": [9]},
                "scalar": "domain",
                "mismatch": [1],
                "new": null,
            })
        );
    }

    #[test]
    fn errors_name_the_file_that_set_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site.json");
        let domain = dir.path().join("dom.json");
        std::fs::write(
            &site,
            r#"{"mesh_vpn":{"wireguard":{"mtu":"big"}},"seed":1}"#,
        )
        .unwrap();
        std::fs::write(&domain, r#"{"seed":"abc"}"#).unwrap();
        let merged = MergedSite::load(&site, Some(&domain)).unwrap();
        let err = merged
            .integer("mesh_vpn.wireguard.mtu", 1280..=9000)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("site.json")
                && err.contains("mesh_vpn.wireguard.mtu")
                && err.contains("not 'big'"),
            "{err}"
        );
        assert_eq!(merged.origin("seed"), domain.as_path());
        assert!(
            merged
                .string("nothing.here")
                .unwrap_err()
                .to_string()
                .contains("is missing")
        );
    }

    #[test]
    fn invalid_json_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site.json");
        std::fs::write(&site, "{ not json").unwrap();
        let err = MergedSite::load(&site, None).unwrap_err().to_string();
        assert!(
            err.contains("site.json") && err.contains("not valid JSON"),
            "{err}"
        );
    }
}
