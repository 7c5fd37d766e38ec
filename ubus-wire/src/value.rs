//! The blobmsg value model: typed, named values that keep their exact wire types.

/// The blobmsg type numbers (`BLOBMSG_TYPE_*`). They are also what a method signature stores
/// for each argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BlobmsgType {
    Unspec = 0,
    Array = 1,
    Table = 2,
    String = 3,
    Int64 = 4,
    Int32 = 5,
    Int16 = 6,
    /// INT8, which libubox calls BOOL.
    Bool = 7,
    Double = 8,
}

/// One blobmsg value, keeping its exact wire type so re-encoding reproduces the input.
/// `Bool` is the INT8 type (any non-zero byte reads as `true`); `Null` is UNSPEC (any payload
/// of an UNSPEC is dropped).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Double(f64),
    String(String),
    Array(Vec<Value>),
    Table(Table),
}

impl Value {
    pub fn blobmsg_type(&self) -> BlobmsgType {
        match self {
            Value::Null => BlobmsgType::Unspec,
            Value::Bool(_) => BlobmsgType::Bool,
            Value::Int16(_) => BlobmsgType::Int16,
            Value::Int32(_) => BlobmsgType::Int32,
            Value::Int64(_) => BlobmsgType::Int64,
            Value::Double(_) => BlobmsgType::Double,
            Value::String(_) => BlobmsgType::String,
            Value::Array(_) => BlobmsgType::Array,
            Value::Table(_) => BlobmsgType::Table,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Any of the integer types, widened.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int16(n) => Some((*n).into()),
            Value::Int32(n) => Some((*n).into()),
            Value::Int64(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int32(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int64(n)
    }
}
/// Unsigned integers as `blobmsg_json` encodes a JSON number: INT32 when it fits, else INT64
/// (saturating, as json-c does), so a table built here reads like one converted from JSON.
impl From<u64> for Value {
    fn from(n: u64) -> Self {
        match i32::try_from(n) {
            Ok(small) => Value::Int32(small),
            Err(_) => Value::Int64(i64::try_from(n).unwrap_or(i64::MAX)),
        }
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        u64::from(n).into()
    }
}
impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Double(x)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<Table> for Value {
    fn from(t: Table) -> Self {
        Value::Table(t)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Named values in wire order. Duplicate names are kept, as on the wire.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table(pub Vec<(String, Value)>);

impl Table {
    pub fn new() -> Self {
        Table(Vec::new())
    }

    /// Builder form of [`Table::push`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.push(name, value);
        self
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first member with this name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, Value)> for Table {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Table(iter.into_iter().collect())
    }
}
