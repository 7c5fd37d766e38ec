//! Broker replies, HTTP heads, host names and resolver messages, and the
//! ubus argument of `set_loadbalancing`.

use serde_json::{Value, json};

use super::{Checked, texts, values};
use crate::broker::reply::parse;
use crate::broker::{Api, BrokerError, BrokerUrl, http};
use crate::endpoint::{Endpoint, Host, parse_port};
use crate::quote::quote;

fn v2_body() -> Value {
    json!({"Endpoint": {
        "Address": "gw04.ext.ffmuc.net",
        "AllowedIPs": ["fe80::27c:16ff:fec0:6c74"],
        "Port": "40011",
        "PublicKey": "TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g=",
    }})
}

/// Every reply that puts `text` where a field, a message or the body goes.
fn replies(text: &str, raw: &[u8]) -> Vec<(Api, u16, Vec<u8>)> {
    let mut out = Vec::new();
    for pointer in [
        "/Endpoint/Address",
        "/Endpoint/Port",
        "/Endpoint/PublicKey",
        "/Endpoint/AllowedIPs/0",
        "/Endpoint/AllowedIPs",
        "/Endpoint",
    ] {
        let mut body = v2_body();
        if let Some(slot) = body.pointer_mut(pointer) {
            *slot = json!(text);
        }
        out.push((Api::V2, 200, body.to_string().into_bytes()));
    }
    let v1 = json!({"Message": text}).to_string().into_bytes();
    out.push((Api::V1, 200, v1));
    let error = json!({"error": {"message": text}}).to_string().into_bytes();
    out.push((Api::V2, 400, error));
    out.push((
        Api::V2,
        500,
        json!({"detail": text}).to_string().into_bytes(),
    ));
    out.push((Api::V1, 200, raw.to_vec()));
    out.push((Api::V2, 503, raw.to_vec()));
    out
}

#[test]
fn broker_reply_fields_and_bodies() {
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        for (api, status, body) in replies(&text, raw) {
            if let Err(e) = parse(api, status, &body) {
                checked.message(&e.to_string(), raw);
            }
        }
    }
    checked.at_least(values().len() * 8);
}

/// Replies whose status line, a header or a chunk size line is `raw`.
fn heads(raw: &[u8]) -> Vec<Vec<u8>> {
    let join = |parts: &[&[u8]]| parts.concat();
    vec![
        join(&[raw, b"\r\n\r\n"]),
        join(&[b"HTTP/1.1 200 OK\r\n", raw, b"\r\n\r\n"]),
        join(&[b"HTTP/1.1 200 OK\r\nContent-Length: ", raw, b"\r\n\r\n"]),
        join(&[
            b"HTTP/1.1 302 Found\r\nLocation: ",
            raw,
            b"\r\nContent-Length: 0\r\n\r\n",
        ]),
        join(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            raw,
            b"\r\n",
        ]),
    ]
}

#[tokio::test]
async fn http_status_lines_headers_and_chunks() {
    let mut checked = Checked::default();
    for raw in values() {
        for head in heads(&raw) {
            let result = http::receive(head.as_slice()).await;
            let result = result.and_then(|r| r.refuse_redirect());
            if let Err(e) = result {
                checked.message(&e.to_string(), &raw);
            }
        }
    }
    checked.at_least(values().len() * 3);
}

#[test]
fn host_names_urls_ports_and_resolver_messages() {
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        let errors = [
            Host::parse(&text).err(),
            Endpoint::parse(&text).err(),
            Endpoint::parse(&format!("{text}:1")).err(),
            Endpoint::parse(&format!("gw.example:{text}")).err(),
            BrokerUrl::parse(&text).err(),
            BrokerUrl::parse(&format!("http://broker/{text}")).err(),
            parse_port(&text).err(),
        ];
        for message in errors.into_iter().flatten() {
            checked.message(&message, raw);
        }
        // A resolver that echoes the name it was given, as some libcs do.
        let resolve = crate::error::Error::Resolve {
            host: text.clone(),
            problem: quote(format!("{text}: Name does not resolve")),
        };
        let broker = BrokerError::Resolve(resolve.to_string());
        checked.message(&broker.to_string(), raw);
    }
    checked.at_least(values().len() * 3);
}

#[test]
fn ubus_arguments_in_refusals() {
    let mut checked = Checked::default();
    for (raw, text) in values().iter().zip(texts()) {
        let args = ubus_wire::Table::new().with("enabled", ubus_wire::Value::String(text));
        let why = crate::daemon::object::enabled_argument(&args).expect_err("a string is refused");
        checked.message(&format!("set_loadbalancing refused: {why}"), raw);
    }
    checked.at_least(values().len());
}
