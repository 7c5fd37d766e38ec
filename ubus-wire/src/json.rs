//! JSON <-> blobmsg with the conversions of the `ubus` CLI and uhttpd (libubox `blobmsg_json`):
//! `true`/`false` are INT8, integers that fit in 32 bits are INT32, larger ones INT64, other
//! numbers DOUBLE and `null` UNSPEC. Back to JSON, INT8 becomes a boolean and UNSPEC `null`.
//!
//! Member order follows `serde_json::Map`: sorted by name unless serde_json's `preserve_order`
//! feature is on. Build a [`Table`] directly when the wire order matters.

use serde_json::{Map, Number, Value as Json};

use crate::blobmsg::{MAX_DEPTH, Table, Value};
use crate::error::{Error, Result};

/// A JSON object as a blobmsg table (what `ubus call obj method '<json>'` sends).
pub fn to_table(json: &Json) -> Result<Table> {
    match json {
        Json::Object(map) => object_to_table(map, 0),
        other => Err(Error::Json(format!(
            "arguments must be a JSON object, not {other}"
        ))),
    }
}

pub fn to_value(json: &Json) -> Result<Value> {
    json_to_value(json, 0)
}

fn object_to_table(map: &Map<String, Json>, depth: usize) -> Result<Table> {
    map.iter()
        .map(|(name, json)| Ok((name.clone(), json_to_value(json, depth)?)))
        .collect()
}

fn json_to_value(json: &Json, depth: usize) -> Result<Value> {
    let nested = || {
        if depth >= MAX_DEPTH {
            Err(Error::Json(format!(
                "nested deeper than {MAX_DEPTH} levels"
            )))
        } else {
            Ok(depth + 1)
        }
    };
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number_to_value(n),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => {
            let depth = nested()?;
            Value::Array(
                items
                    .iter()
                    .map(|item| json_to_value(item, depth))
                    .collect::<Result<_>>()?,
            )
        }
        Json::Object(map) => Value::Table(object_to_table(map, nested()?)?),
    })
}

fn number_to_value(n: &Number) -> Value {
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).map_or(Value::Int64(i), Value::Int32);
    }
    if n.is_u64() {
        // json-c saturates integers above i64::MAX; so do we.
        return Value::Int64(i64::MAX);
    }
    Value::Double(n.as_f64().unwrap_or(0.0))
}

/// A blobmsg table as a JSON object (what `ubus call` prints).
pub fn from_table(table: &Table) -> Json {
    Json::Object(
        table
            .iter()
            .map(|(name, value)| (name.to_owned(), from_value(value)))
            .collect(),
    )
}

pub fn from_value(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int16(n) => Json::from(*n),
        Value::Int32(n) => Json::from(*n),
        Value::Int64(n) => Json::from(*n),
        // JSON has no NaN or infinity; libubox would print them as bare words, we use null.
        Value::Double(x) => Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        Value::Array(items) => Json::Array(items.iter().map(from_value).collect()),
        Value::Table(table) => from_table(table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_take_the_cli_types() {
        let table = to_table(&json!({
            "enabled": false, "small": -7, "big": 123456789012_i64, "neg_big": -5000000000_i64,
            "f": 1.5, "n": null, "huge": u64::MAX, "edge": 2147483647, "over": 2147483648_i64
        }))
        .unwrap();
        let expected = [
            ("enabled", Value::Bool(false)),
            ("small", Value::Int32(-7)),
            ("big", Value::Int64(123_456_789_012)),
            ("neg_big", Value::Int64(-5_000_000_000)),
            ("f", Value::Double(1.5)),
            ("n", Value::Null),
            ("huge", Value::Int64(i64::MAX)),
            ("edge", Value::Int32(i32::MAX)),
            ("over", Value::Int64(2_147_483_648)),
        ];
        assert_eq!(table.len(), expected.len());
        for (name, value) in expected {
            assert_eq!(table.get(name), Some(&value), "{name}");
        }
    }

    #[test]
    fn round_trip_keeps_values_and_nesting() {
        let json = json!({"z": 1, "a": [1, true, "y", null], "t": {"k": "v", "d": 0.5}});
        assert_eq!(from_table(&to_table(&json).unwrap()), json);
    }

    #[test]
    fn int8_prints_as_bool_and_unspec_as_null() {
        let table = Table::new()
            .with("ok", Value::Bool(true))
            .with("none", Value::Null)
            .with("s", Value::Int16(-3));
        assert_eq!(
            from_table(&table),
            json!({"ok": true, "none": null, "s": -3})
        );
        assert_eq!(from_value(&Value::Double(f64::NAN)), Json::Null);
    }

    #[test]
    fn non_objects_and_deep_nesting_are_errors() {
        assert!(to_table(&json!([1, 2])).is_err());
        assert!(to_table(&json!("x")).is_err());
        let mut deep = json!(1);
        for _ in 0..=MAX_DEPTH {
            deep = json!([deep]);
        }
        assert!(matches!(
            to_table(&json!({ "d": deep })),
            Err(Error::Json(_))
        ));
        let mut ok = json!(1);
        for _ in 0..MAX_DEPTH {
            ok = json!([ok]);
        }
        assert!(to_table(&json!({ "d": ok })).is_ok());
    }
}
