//! blobmsg: typed, named values inside blob attributes (every DATA and SIGNATURE payload).
//!
//! A blobmsg attribute has the extended bit set and its id holds the type. Its payload starts
//! with a name header (u16 BE length, the name, a NUL, zero padding to 4 bytes), then the value.

use crate::blob::{self, Writer};
use crate::error::{Error, Result};
pub use crate::value::{BlobmsgType, Table, Value};

/// Tables and arrays may nest this deep; deeper input is rejected instead of recursing further.
pub const MAX_DEPTH: usize = 64;

// ---- encoding ----

/// A table body on its own, e.g. a reply encoded once and sent many times as [`crate::Data::Raw`].
pub fn encode_table(table: &Table) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    encode_table_body(&mut w, table)?;
    Ok(w.into_bytes())
}

/// Appends the members of `table` as blobmsg attributes (a table body, as in DATA).
pub fn encode_table_body(w: &mut Writer, table: &Table) -> Result<()> {
    table
        .0
        .iter()
        .try_for_each(|(name, value)| encode_value(w, name, value))
}

fn encode_value(w: &mut Writer, name: &str, value: &Value) -> Result<()> {
    let name_len = u16::try_from(name.len()).map_err(|_| Error::TooLarge {
        what: "blobmsg name",
        len: name.len(),
        limit: u16::MAX.into(),
    })?;
    let mark = w.open(true, value.blobmsg_type() as u8);
    w.put_bytes(&name_len.to_be_bytes());
    w.put_bytes(name.as_bytes());
    w.put_bytes(&[0]);
    w.pad();
    match value {
        Value::Null => {}
        Value::Bool(b) => w.put_bytes(&[u8::from(*b)]),
        Value::Int16(n) => w.put_bytes(&n.to_be_bytes()),
        Value::Int32(n) => w.put_bytes(&n.to_be_bytes()),
        Value::Int64(n) => w.put_bytes(&n.to_be_bytes()),
        Value::Double(x) => w.put_bytes(&x.to_bits().to_be_bytes()),
        Value::String(s) => {
            w.put_bytes(s.as_bytes());
            w.put_bytes(&[0]);
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| encode_value(w, "", item))?,
        Value::Table(table) => encode_table_body(w, table)?,
    }
    w.close(mark);
    Ok(())
}

// ---- decoding ----

/// Decodes a table body: blobmsg attributes with names.
pub fn decode_table_body(buf: &[u8]) -> Result<Table> {
    decode_table(buf, 0)
}

fn decode_table(buf: &[u8], depth: usize) -> Result<Table> {
    blob::attrs(buf)
        .map(|attr| {
            let (name, value) = decode_attr(attr?, depth)?;
            Ok((name.to_owned(), value))
        })
        .collect::<Result<Vec<_>>>()
        .map(Table)
}

/// Array members carry (normally empty) names, which are not kept.
fn decode_array(buf: &[u8], depth: usize) -> Result<Vec<Value>> {
    blob::attrs(buf)
        .enumerate()
        .map(|(index, attr)| {
            decode_attr(attr?, depth)
                .map(|(_, value)| value)
                .map_err(|e| e.within(&format!("[{index}]")))
        })
        .collect()
}

fn decode_attr(attr: blob::RawAttr<'_>, depth: usize) -> Result<(&str, Value)> {
    if !attr.extended {
        return Err(Error::malformed(
            "",
            format!("attribute id {} lacks the blobmsg extended bit", attr.id),
        ));
    }
    let (name, body) = split_name(attr.payload)?;
    let value = decode_body(attr.id, body, depth).map_err(|e| e.within(name))?;
    Ok((name, value))
}

/// Splits a blobmsg payload into its name and the value bytes after the padded name header.
fn split_name(payload: &[u8]) -> Result<(&str, &[u8])> {
    let len_bytes: [u8; 2] = payload
        .get(..2)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::malformed("", "payload too short for a blobmsg name header"))?;
    let name_len = usize::from(u16::from_be_bytes(len_bytes));
    let header_len = blob::padded(2 + name_len + 1);
    let header = payload.get(..header_len).ok_or_else(|| {
        Error::malformed(
            "",
            format!("name of {name_len} bytes does not fit the attribute"),
        )
    })?;
    if header.get(2 + name_len) != Some(&0) {
        return Err(Error::malformed("", "blobmsg name is not NUL-terminated"));
    }
    let name = std::str::from_utf8(&header[2..2 + name_len])
        .map_err(|_| Error::malformed("", "blobmsg name is not UTF-8"))?;
    Ok((name, &payload[header_len..]))
}

fn decode_body(type_id: u8, body: &[u8], depth: usize) -> Result<Value> {
    let value = match type_id {
        0 => Value::Null,
        1 | 2 if depth >= MAX_DEPTH => {
            return Err(Error::malformed(
                "",
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        1 => Value::Array(decode_array(body, depth + 1)?),
        2 => Value::Table(decode_table(body, depth + 1)?),
        3 => Value::String(decode_string(body)?),
        4 => Value::Int64(i64::from_be_bytes(fixed(body, "INT64")?)),
        5 => Value::Int32(i32::from_be_bytes(fixed(body, "INT32")?)),
        6 => Value::Int16(i16::from_be_bytes(fixed(body, "INT16")?)),
        7 => Value::Bool(fixed::<1>(body, "INT8")?[0] != 0),
        8 => Value::Double(f64::from_bits(u64::from_be_bytes(fixed(body, "DOUBLE")?))),
        other => {
            return Err(Error::malformed(
                "",
                format!("unknown blobmsg type {other}"),
            ));
        }
    };
    Ok(value)
}

/// A payload that must have exactly `N` bytes.
pub(crate) fn fixed<const N: usize>(body: &[u8], type_name: &str) -> Result<[u8; N]> {
    body.try_into().map_err(|_| {
        Error::malformed(
            "",
            format!("{type_name} payload is {} bytes, expected {N}", body.len()),
        )
    })
}

/// A NUL-terminated UTF-8 string payload.
pub(crate) fn decode_string(body: &[u8]) -> Result<String> {
    let text = body
        .strip_suffix(&[0])
        .ok_or_else(|| Error::malformed("", "string is not NUL-terminated"))?;
    String::from_utf8(text.to_vec()).map_err(|_| Error::malformed("", "string is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(table: &Table) -> Vec<u8> {
        encode_table(table).unwrap()
    }

    #[test]
    fn bool_matches_the_recorded_bytes() {
        // "access": true, as recorded from rpcd.
        let bytes = encode(&Table::new().with("access", true));
        assert_eq!(
            bytes,
            [
                0x87, 0, 0, 0x11, 0, 6, b'a', b'c', b'c', b'e', b's', b's', 0, 0, 0, 0, 1, 0, 0, 0
            ]
        );
    }

    #[test]
    fn every_type_round_trips() {
        let table = Table::new()
            .with("n", Value::Null)
            .with("b", false)
            .with("i16", Value::Int16(-2))
            .with("i32", -7)
            .with("i64", 123_456_789_012_i64)
            .with("d", 0.5)
            .with("s", "connected")
            .with(
                "a",
                Value::Array(vec![
                    Value::from("a"),
                    Value::Int32(1),
                    Value::Array(vec![]),
                ]),
            )
            .with("t", Table::new().with("k", "v"));
        let bytes = encode(&table);
        assert_eq!(decode_table_body(&bytes).unwrap(), table);
        assert_eq!(encode(&decode_table_body(&bytes).unwrap()), bytes);
    }

    #[test]
    fn wrong_payload_sizes_are_rejected_with_the_path() {
        let mut w = Writer::new();
        let mark = w.open(true, BlobmsgType::Table as u8);
        w.put_bytes(&[0, 1, b'p', 0]);
        w.put(
            true,
            BlobmsgType::Int32 as u8,
            &[0, 3, b'm', b't', b'u', 0, 0, 0, 0, 0, 5],
        );
        w.close(mark);
        let err = decode_table_body(&w.into_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("at p.mtu: INT32 payload is 3 bytes, expected 4"),
            "{err}"
        );
    }

    #[test]
    fn bad_strings_and_names_are_rejected() {
        let cases: [&[u8]; 5] = [
            &[0x83, 0, 0, 0x0a, 0, 1, b's', 0, 0xff, 0, 0, 0], // value not UTF-8
            &[0x83, 0, 0, 0x09, 0, 1, b's', 0, b'x', 0, 0, 0], // value without NUL
            &[0x87, 0, 0, 0x09, 0, 1, 0xc3, 0, 1, 0, 0, 0],    // name not UTF-8
            &[0x87, 0, 0, 0x09, 0, 1, b'n', b'x', 1, 0, 0, 0], // name without NUL
            &[0x87, 0, 0, 0x08, 0, 9, b'n', 0],                // name longer than the attr
        ];
        for bytes in cases {
            assert!(decode_table_body(bytes).is_err(), "{bytes:02x?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_recursed() {
        let mut value = Value::Null;
        for _ in 0..=MAX_DEPTH {
            value = Value::Array(vec![value]);
        }
        let bytes = encode(&Table::new().with("deep", value));
        let err = decode_table_body(&bytes).unwrap_err().to_string();
        assert!(err.contains("nested deeper"), "{err}");
    }

    #[test]
    fn plain_attributes_are_not_blobmsg() {
        let err = decode_table_body(&[3, 0, 0, 8, 0, 0, 0, 3])
            .unwrap_err()
            .to_string();
        assert!(err.contains("extended bit"), "{err}");
    }
}
