//! Framing on a byte stream: a reader takes the 12-byte prefix (header and container tag), checks
//! the length against the 1 MiB limit, then reads the rest.
//!
//! Long-lived connections read through [`buffered`] and write through [`write_batch`], so a burst
//! of messages costs one system call each way instead of two reads and one write per message.

use std::io::ErrorKind;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::message::{Message, MessageType, PREFIX_LEN};

/// Reads one message. `Ok(None)` is a clean end of stream between messages (ubusd went away);
/// a stream that ends inside a message is an error.
pub async fn read_message<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<Message>> {
    match read_frame(reader).await? {
        Some(bytes) => Message::decode(&bytes).map(Some),
        None => Ok(None),
    }
}

/// Reads the bytes of one message, framed by its length but not decoded, for a reader that
/// decodes them its own way (a relay: [`Message::decode_routing`]).
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<Vec<u8>>> {
    let mut prefix = [0u8; PREFIX_LEN];
    let mut filled = 0;
    while filled < PREFIX_LEN {
        let n = reader
            .read(&mut prefix[filled..])
            .await
            .map_err(|e| Error::io("reading from ubusd", e))?;
        if n == 0 {
            return match filled {
                0 => Ok(None),
                _ => Err(Error::malformed(
                    "header",
                    format!("stream ended after {filled} of {PREFIX_LEN} bytes"),
                )),
            };
        }
        filled += n;
    }
    let rest = Message::remaining_len(&prefix)?;
    let mut bytes = Vec::with_capacity(PREFIX_LEN + rest);
    bytes.extend_from_slice(&prefix);
    bytes.resize(PREFIX_LEN + rest, 0);
    reader
        .read_exact(&mut bytes[PREFIX_LEN..])
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => Error::malformed(
                "container",
                format!("stream ended inside a message of {} bytes", bytes.len()),
            ),
            _ => Error::io("reading from ubusd", e),
        })?;
    Ok(Some(bytes))
}

/// How much one read may take off the socket.
const READ_BUFFER: usize = 64 * 1024;
/// How many queued bytes one write may carry.
const WRITE_BATCH: usize = 64 * 1024;

/// A reader for [`read_message`] that takes whatever the socket has in one read. Not for
/// reads that may be cancelled (a timeout around [`read_message`]): buffered bytes would be lost.
pub fn buffered<R: AsyncRead>(reader: R) -> BufReader<R> {
    BufReader::with_capacity(READ_BUFFER, reader)
}

/// Writes `first` and whatever is already queued behind it (up to 64 KiB) with one write.
pub async fn write_batch<W: AsyncWrite + Unpin>(
    writer: &mut W,
    first: Vec<u8>,
    queue: &mut mpsc::UnboundedReceiver<Vec<u8>>,
) -> std::io::Result<()> {
    let mut batch = first;
    while batch.len() < WRITE_BATCH {
        match queue.try_recv() {
            Ok(more) => batch.extend_from_slice(&more),
            Err(_) => break,
        }
    }
    writer.write_all(&batch).await
}

pub async fn write_message<W: AsyncWrite + Unpin>(writer: &mut W, message: &Message) -> Result<()> {
    let bytes = message.encode()?;
    writer
        .write_all(&bytes)
        .await
        .map_err(|e| Error::io("writing to ubusd", e))
}

/// Reads the HELLO that ubusd sends unasked on connect; its header `peer` is our client id.
pub async fn read_hello<R: AsyncRead + Unpin>(reader: &mut R) -> Result<u32> {
    let hello = read_message(reader).await?.ok_or(Error::Closed)?;
    if hello.kind != MessageType::Hello || hello.version != 0 {
        return Err(Error::Protocol {
            request: "connect".into(),
            problem: format!(
                "expected HELLO version 0, got {:?} version {}",
                hello.kind, hello.version
            ),
        });
    }
    Ok(hello.peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_back_to_back_messages_then_eof() {
        let hello = [0u8, 0, 0, 0, 0x25, 0xb6, 0x29, 0xfd, 0, 0, 0, 4];
        let status = [
            0u8, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x0c, 1, 0, 0, 8, 0, 0, 0, 0,
        ];
        let stream = [&hello[..], &status[..]].concat();
        let mut reader = &stream[..];
        assert_eq!(read_hello(&mut reader).await.unwrap(), 0x25b6_29fd);
        let msg = read_message(&mut reader).await.unwrap().unwrap();
        assert_eq!((msg.kind, msg.status()), (MessageType::Status, Some(0)));
        assert!(read_message(&mut reader).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn truncated_streams_are_errors() {
        let mut short_prefix = &[0u8, 0, 0, 0, 0][..];
        assert!(matches!(
            read_message(&mut short_prefix).await,
            Err(Error::Malformed { .. })
        ));
        let mut short_body = &[0u8, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x0c, 1, 0][..];
        assert!(matches!(
            read_message(&mut short_body).await,
            Err(Error::Malformed { .. })
        ));
        let mut empty = &[][..];
        assert!(matches!(read_hello(&mut empty).await, Err(Error::Closed)));
    }

    #[tokio::test]
    async fn oversized_length_is_refused_without_reading_it() {
        let mut huge = &[0u8, 2, 0, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfc][..];
        assert!(matches!(
            read_message(&mut huge).await,
            Err(Error::TooLarge { .. })
        ));
    }

    #[tokio::test]
    async fn a_first_message_other_than_hello_is_refused() {
        let mut status = &[
            0u8, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x0c, 1, 0, 0, 8, 0, 0, 0, 0,
        ][..];
        assert!(matches!(
            read_hello(&mut status).await,
            Err(Error::Protocol { .. })
        ));
    }
}
