//! Strict reading of wgkex replies (domain.md 3.1). checkuplink only asserted
//! that the fields exist; here every field is checked for type and range so a
//! bad reply is reported by name instead of becoming a broken WireGuard peer.

use std::net::Ipv6Addr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use super::error::BrokerError;
use super::url::Api;
use crate::endpoint::{Host, parse_port};
use crate::quote::{quote, quote_json};

/// What a successful exchange gave us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// API v1: the key is registered; the node picks a site peer itself.
    Registered,
    /// API v2: the key is registered and the broker chose this gateway.
    Gateway(GatewayPeer),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPeer {
    pub host: Host,
    pub port: u16,
    pub public_key: String,
    /// The gateway's address inside the tunnel (`AllowedIPs[0]`).
    pub link_address: Ipv6Addr,
}

/// Turns a status and body into a registration or a named error.
pub fn parse(api: Api, status: u16, body: &[u8]) -> Result<Registration, BrokerError> {
    let json = serde_json::from_slice::<Value>(body).map_err(|_| BrokerError::NotJson {
        status,
        excerpt: quote(body),
    });
    if !(200..300).contains(&status) {
        return Err(error_reply(status, json?, body));
    }
    let json = json?;
    match api {
        Api::V1 => parse_v1(&json),
        Api::V2 => parse_v2(&json).map(Registration::Gateway),
    }
}

/// wgkex errors look like `{"error":{"message":"..."}}`.
fn error_reply(status: u16, json: Value, body: &[u8]) -> BrokerError {
    let message = match json.pointer("/error/message").and_then(Value::as_str) {
        Some(message) => quote(message),
        None => format!("no error message in {}", quote(body)),
    };
    BrokerError::Http { status, message }
}

fn parse_v1(json: &Value) -> Result<Registration, BrokerError> {
    match json.get("Message") {
        Some(Value::String(m)) if m == "OK" => Ok(Registration::Registered),
        Some(other) => Err(BrokerError::malformed(
            "Message",
            format!("{} is not \"OK\"", quote_json(other)),
        )),
        None => Err(BrokerError::malformed("Message", "missing")),
    }
}

fn parse_v2(json: &Value) -> Result<GatewayPeer, BrokerError> {
    let endpoint = field(json, "", "Endpoint")?;
    if !endpoint.is_object() {
        return Err(BrokerError::malformed(
            "Endpoint",
            wrong_type("an object", endpoint),
        ));
    }
    let address = string_field(endpoint, "Address")?;
    let host = Host::parse(address).map_err(|e| BrokerError::malformed("Endpoint.Address", e))?;
    let port_text = string_field(endpoint, "Port")?;
    let port = parse_port(port_text).map_err(|_| {
        BrokerError::malformed(
            "Endpoint.Port",
            format!("{} is not a port from 1 to 65535", quote(port_text)),
        )
    })?;
    let public_key = string_field(endpoint, "PublicKey")?;
    if !is_wireguard_key(public_key) {
        return Err(BrokerError::malformed(
            "Endpoint.PublicKey",
            format!(
                "{} is not a WireGuard key (base64 of 32 bytes)",
                quote(public_key)
            ),
        ));
    }
    Ok(GatewayPeer {
        host,
        port,
        public_key: public_key.to_string(),
        link_address: link_address(endpoint)?,
    })
}

fn link_address(endpoint: &Value) -> Result<Ipv6Addr, BrokerError> {
    let list = field(endpoint, "Endpoint.", "AllowedIPs")?;
    let Value::Array(items) = list else {
        return Err(BrokerError::malformed(
            "Endpoint.AllowedIPs",
            wrong_type("a list", list),
        ));
    };
    let first = items
        .first()
        .ok_or_else(|| BrokerError::malformed("Endpoint.AllowedIPs", "is empty"))?;
    let Value::String(text) = first else {
        return Err(BrokerError::malformed(
            "Endpoint.AllowedIPs[0]",
            wrong_type("a string", first),
        ));
    };
    text.strip_suffix("/128")
        .unwrap_or(text)
        .parse()
        .map_err(|_| {
            BrokerError::malformed(
                "Endpoint.AllowedIPs[0]",
                format!("{} is not an IPv6 address", quote(text)),
            )
        })
}

fn field<'a>(object: &'a Value, prefix: &str, name: &str) -> Result<&'a Value, BrokerError> {
    object
        .get(name)
        .ok_or_else(|| BrokerError::malformed(format!("{prefix}{name}"), "missing"))
}

fn string_field<'a>(endpoint: &'a Value, name: &str) -> Result<&'a str, BrokerError> {
    let value = field(endpoint, "Endpoint.", name)?;
    value.as_str().ok_or_else(|| {
        BrokerError::malformed(format!("Endpoint.{name}"), wrong_type("a string", value))
    })
}

fn wrong_type(expected: &str, got: &Value) -> String {
    format!("expected {expected}, got {}", quote_json(got))
}

/// Canonical base64 of exactly 32 bytes, as `wg` prints keys.
fn is_wireguard_key(text: &str) -> bool {
    text.len() == 44 && BASE64.decode(text).is_ok_and(|bytes| bytes.len() == 32)
}

#[cfg(test)]
mod tests;
