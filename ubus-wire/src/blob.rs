//! Plain libubox blob attributes: a big-endian u32 header (extended bit, 7-bit id, 24-bit length
//! counting the header but not the padding) followed by the payload and zero padding to 4 bytes.

use crate::error::{Error, Result};

pub const HEADER_LEN: usize = 4;
const EXTENDED_BIT: u32 = 1 << 31;
const ID_SHIFT: u32 = 24;
const ID_MASK: u32 = 0x7f;
const LEN_MASK: u32 = 0x00ff_ffff;

/// Rounds a length up to the next multiple of 4.
pub fn padded(len: usize) -> usize {
    len.div_ceil(4) * 4
}

/// One attribute as it sits in a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttr<'a> {
    pub extended: bool,
    pub id: u8,
    pub payload: &'a [u8],
}

impl RawAttr<'_> {
    /// The attribute's length field: header plus payload, without padding.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

/// Reads one attribute header at the start of `buf`; returns the attribute and its padded size.
fn read_one(buf: &[u8]) -> Result<(RawAttr<'_>, usize)> {
    let header: [u8; HEADER_LEN] = buf
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| {
            Error::malformed(
                "",
                format!("{} bytes left, need a 4-byte attribute header", buf.len()),
            )
        })?;
    let word = u32::from_be_bytes(header);
    let len = (word & LEN_MASK) as usize;
    if len < HEADER_LEN {
        return Err(Error::malformed(
            "",
            format!("attribute length {len} is shorter than its header"),
        ));
    }
    if padded(len) > buf.len() {
        return Err(Error::malformed(
            "",
            format!(
                "attribute length {len} (padded {}) exceeds the {} bytes left",
                padded(len),
                buf.len()
            ),
        ));
    }
    let attr = RawAttr {
        extended: word & EXTENDED_BIT != 0,
        id: ((word >> ID_SHIFT) & ID_MASK) as u8,
        payload: &buf[HEADER_LEN..len],
    };
    Ok((attr, padded(len)))
}

/// Walks a container's payload attribute by attribute without allocating. The children, each
/// padded, must fill the payload exactly; the first that does not ends the walk with an error.
pub fn attrs(buf: &[u8]) -> Attrs<'_> {
    Attrs { rest: buf }
}

/// Iterator behind [`attrs`].
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<RawAttr<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read_one(self.rest) {
            Ok((attr, size)) => {
                self.rest = &self.rest[size..];
                Some(Ok(attr))
            }
            Err(err) => {
                self.rest = &[];
                Some(Err(err))
            }
        }
    }
}

/// [`attrs`], collected.
pub fn split(buf: &[u8]) -> Result<Vec<RawAttr<'_>>> {
    attrs(buf).collect()
}

/// Reads the container attribute that makes up a whole message body (id 0, not extended) and
/// returns its payload. Trailing bytes after the padded container are an error.
pub fn container(buf: &[u8]) -> Result<&[u8]> {
    let (attr, size) = read_one(buf).map_err(|e| e.within("container"))?;
    if attr.extended || attr.id != 0 {
        return Err(Error::malformed(
            "container",
            format!(
                "tag has id {} extended {}, expected id 0",
                attr.id, attr.extended
            ),
        ));
    }
    if size != buf.len() || attr.len() != size {
        return Err(Error::malformed(
            "container",
            format!(
                "length {} does not match the {} bytes of the message body",
                attr.len(),
                buf.len()
            ),
        ));
    }
    Ok(attr.payload)
}

/// Appends attributes to a buffer. Lengths are patched in when an attribute is closed; the
/// message encoder checks the overall size against the 1 MiB limit, which also keeps every
/// inner length below the 24-bit maximum.
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Starts an attribute; returns a mark for [`Writer::close`].
    pub fn open(&mut self, extended: bool, id: u8) -> usize {
        let mark = self.buf.len();
        let word = (u32::from(extended) << 31) | ((u32::from(id) & ID_MASK) << ID_SHIFT);
        self.buf.extend_from_slice(&word.to_be_bytes());
        mark
    }

    /// Finishes the attribute started at `mark`: writes its length and pads to 4 bytes.
    pub fn close(&mut self, mark: usize) {
        let len = (self.buf.len() - mark).min(LEN_MASK as usize) as u32;
        if let Some(header) = self.buf.get_mut(mark..mark + HEADER_LEN) {
            let word = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) | len;
            header.copy_from_slice(&word.to_be_bytes());
        }
        self.buf.resize(padded(self.buf.len()), 0);
    }

    /// Zero-pads the buffer to a multiple of 4 (the end of a blobmsg name header).
    pub fn pad(&mut self) {
        self.buf.resize(padded(self.buf.len()), 0);
    }

    pub fn put_bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A whole attribute with the given payload.
    pub fn put(&mut self, extended: bool, id: u8, payload: &[u8]) {
        let mark = self.open(extended, id);
        self.put_bytes(payload);
        self.close(mark);
    }
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_pads_and_split_reads_back() {
        let mut w = Writer::new();
        w.put(false, 4, b"status\0");
        w.put(true, 7, &[1]);
        let bytes = w.into_bytes();
        assert_eq!(
            bytes,
            [
                4, 0, 0, 11, b's', b't', b'a', b't', b'u', b's', 0, 0, 0x87, 0, 0, 5, 1, 0, 0, 0
            ]
        );
        let attrs = split(&bytes).unwrap();
        assert_eq!(attrs.len(), 2);
        assert_eq!(
            (attrs[0].extended, attrs[0].id, attrs[0].payload),
            (false, 4, &b"status\0"[..])
        );
        assert_eq!(
            (attrs[1].extended, attrs[1].id, attrs[1].len()),
            (true, 7, 5)
        );
    }

    #[test]
    fn split_rejects_bad_lengths() {
        assert!(split(&[0, 0, 0]).is_err(), "truncated header");
        assert!(
            split(&[0, 0, 0, 3]).is_err(),
            "length below the header size"
        );
        assert!(
            split(&[0, 0, 0, 12, 0, 0, 0, 0]).is_err(),
            "length beyond the buffer"
        );
        assert!(
            split(&[0, 0, 0, 5, 1]).is_err(),
            "padding beyond the buffer"
        );
        assert!(split(&[]).unwrap().is_empty());
    }

    #[test]
    fn container_must_fill_the_body_exactly() {
        assert_eq!(container(&[0, 0, 0, 4]).unwrap(), &[] as &[u8]);
        assert!(
            container(&[0, 0, 0, 4, 0, 0, 0, 0]).is_err(),
            "trailing bytes"
        );
        assert!(container(&[1, 0, 0, 4]).is_err(), "id 1");
        assert!(container(&[0x80, 0, 0, 4]).is_err(), "extended");
        assert!(
            container(&[0, 0, 0, 5, 0, 0, 0, 0]).is_err(),
            "unpadded length"
        );
    }
}
