//! What wgkex's Flask app (`wgkex/broker/app.py`, commit 20706f9f) answers,
//! byte for byte: routes, validation, status codes and bodies. Bodies are
//! compact JSON with sorted keys and a trailing newline, as Flask's jsonify
//! writes them.

use serde_json::Value;

use super::{Config, Gateway};

pub const V1_PATH: &str = "/api/v1/wg/key/exchange";
pub const V2_PATH: &str = "/api/v2/wg/key/exchange";

pub const GENERIC_ERROR: &str = "An internal error has occurred. Please try again later.";
pub const NO_GATEWAY: &str =
    "no gateway online for this domain, please check the domain value and try again later";
pub const NO_GATEWAY_DATA: &str = "could not get gateway data";

/// One HTTP reply: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, compact: String) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: format!("{compact}\n").into_bytes(),
        }
    }

    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            format!(r#"{{"error":{{"message":{}}}}}"#, quote(message)),
        )
    }

    pub fn v1_ok() -> Reply {
        Reply::json(200, r#"{"Message":"OK"}"#.to_string())
    }

    pub fn v2_ok(gateway: &Gateway) -> Reply {
        Reply::json(
            200,
            format!(
                r#"{{"Endpoint":{{"Address":{},"AllowedIPs":[{}],"Port":{},"PublicKey":{}}}}}"#,
                quote(&gateway.address),
                quote(&gateway.link_address),
                quote(&gateway.port.to_string()),
                quote(&gateway.public_key),
            ),
        )
    }

    /// Werkzeug's HTML 404 page for an unknown path.
    pub fn not_found() -> Reply {
        html(
            404,
            "Not Found",
            "The requested URL was not found on the server. If you entered the URL manually \
             please check your spelling and try again.",
        )
    }

    /// Werkzeug's HTML 405 page for a known path and a wrong method.
    pub fn method_not_allowed() -> Reply {
        html(
            405,
            "Method Not Allowed",
            "The method is not allowed for the requested URL.",
        )
    }

    /// The page `GET /` serves (the real one is a template; its text does not matter).
    pub fn index() -> Reply {
        Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: b"<!doctype html>\n<title>wgkex</title>\n".to_vec(),
        }
    }
}

fn html(status: u16, title: &str, text: &str) -> Reply {
    Reply {
        status,
        content_type: "text/html; charset=utf-8",
        body: format!(
            "<!doctype html>\n<html lang=en>\n<title>{status} {title}</title>\n<h1>{title}</h1>\n<p>{text}</p>\n"
        )
        .into_bytes(),
    }
}

fn quote(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// `KeyExchange.from_dict`: the validated (domain, public_key), or `None`
/// for anything that would raise in Python (all of which answer the same 400).
pub fn key_exchange(config: &Config, body: &[u8]) -> Option<(String, String)> {
    let data: Value = serde_json::from_slice(body).ok()?;
    let public_key = data.get("public_key")?.as_str()?;
    if !matches_key_pattern(public_key) {
        return None;
    }
    let domain = python_str(data.get("domain")?);
    let valid_domain = config.domains.contains(&domain)
        && config
            .domain_prefixes
            .iter()
            .any(|p| domain.starts_with(p.as_str()));
    valid_domain.then(|| (domain, public_key.to_string()))
}

/// `re.match(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$", key)`; Python's `$`
/// also matches before one trailing newline.
pub fn matches_key_pattern(key: &str) -> bool {
    let key = key.strip_suffix('\n').unwrap_or(key).as_bytes();
    let body = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    key.len() == 44
        && key[..42].iter().all(body)
        && b"AEIMQUYcgkosw480".contains(&key[42])
        && key[43] == b'='
}

/// Python's `str()` of a JSON value, for the scalars that can reach it.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pattern_is_wgkexs() {
        let key = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
        assert!(matches_key_pattern(key));
        assert!(matches_key_pattern(&format!("{key}\n")));
        assert!(!matches_key_pattern(&format!("{key}\n\n")));
        assert!(!matches_key_pattern(&key.replace("mo=", "mp=")));
        assert!(!matches_key_pattern(&key.replace('2', "-")));
        assert!(!matches_key_pattern(&key[1..]));
    }

    #[test]
    fn bodies_are_byte_exact() {
        assert_eq!(Reply::v1_ok().body, b"{\"Message\":\"OK\"}\n");
        assert_eq!(
            Reply::error(400, GENERIC_ERROR).body,
            b"{\"error\":{\"message\":\"An internal error has occurred. Please try again later.\"}}\n"
        );
        let gw = Gateway {
            address: "gw04.ext.ffmuc.net".into(),
            port: 40004,
            public_key: "k".into(),
            link_address: "fe80::1".into(),
        };
        assert_eq!(
            String::from_utf8(Reply::v2_ok(&gw).body).unwrap(),
            "{\"Endpoint\":{\"Address\":\"gw04.ext.ffmuc.net\",\"AllowedIPs\":[\"fe80::1\"],\
             \"Port\":\"40004\",\"PublicKey\":\"k\"}}\n"
        );
    }

    #[test]
    fn domain_must_be_listed_and_prefixed() {
        let mut config = Config::default();
        config.domains.push("other_x".into());
        let key = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
        let body = |d: &str| format!(r#"{{"domain":"{d}","public_key":"{key}"}}"#);
        assert!(key_exchange(&config, body("ffmuc_welt").as_bytes()).is_some());
        assert!(key_exchange(&config, body("other_x").as_bytes()).is_none());
        assert!(key_exchange(&config, body("ffmuc_nowhere").as_bytes()).is_none());
        assert!(key_exchange(&config, b"[]").is_none());
        assert!(key_exchange(&config, b"{\"domain\":\"ffmuc_welt\"}").is_none());
    }
}
