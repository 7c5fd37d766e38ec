//! Just enough HTTP/1.1 for one POST per connection: write the request, read
//! the status, headers and a body framed by Content-Length, chunked encoding
//! or the end of the connection, never more than [`BODY_LIMIT`] bytes.

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};

use super::error::{BrokerError, Phase};
use crate::quote::quote;

/// A wgkex reply is under 300 bytes; anything near this is not a broker.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Status line plus headers.
const HEAD_LIMIT: usize = 16 * 1024;

/// A POST request with a JSON body.
pub struct Request<'a> {
    pub path: &'a str,
    pub host: &'a str,
    pub headers: &'a [(&'static str, String)],
    pub body: &'a str,
}

impl Request<'_> {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("POST {} HTTP/1.1\r\nHost: {}\r\n", self.path, self.host);
        for (name, value) in self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// The `Location` header of a redirect, as sent.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Response {
    /// A redirect is an error: the node talks to the broker the site names,
    /// never to one a reply (or whoever is between) points it to.
    pub fn refuse_redirect(&self) -> Result<(), BrokerError> {
        if !(300..400).contains(&self.status) {
            return Ok(());
        }
        let to = match &self.location {
            Some(location) => format!(" to {}", quote(location)),
            None => String::new(),
        };
        Err(BrokerError::Protocol(format!(
            "HTTP {} redirects{to}; redirects are not followed (the site's broker URL must name the broker itself)",
            self.status
        )))
    }
}

pub async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    request: &Request<'_>,
) -> Result<(), BrokerError> {
    let io = |source| BrokerError::Io {
        phase: Phase::Send,
        source,
    };
    stream.write_all(&request.to_bytes()).await.map_err(io)?;
    stream.flush().await.map_err(io)
}

pub async fn receive<S: AsyncRead + Unpin>(stream: S) -> Result<Response, BrokerError> {
    let mut reader = tokio::io::BufReader::new(stream);
    let (status, headers) = read_head(&mut reader).await?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let chunked =
        header("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        read_chunked(&mut reader).await?
    } else if let Some(length) = header("Content-Length") {
        let length: usize = length.parse().map_err(|_| {
            BrokerError::Protocol(format!("Content-Length {} is not a number", quote(length)))
        })?;
        read_exact_body(&mut reader, length).await?
    } else {
        read_to_close(&mut reader).await?
    };
    let location = header("Location").map(str::to_string);
    Ok(Response {
        status,
        location,
        body,
    })
}

type Head = (u16, Vec<(String, String)>);

/// Reads status line and headers, skipping any 1xx interim response.
async fn read_head<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Head, BrokerError> {
    let mut budget = HEAD_LIMIT;
    loop {
        let status_line = read_line(reader, &mut budget).await?;
        let status = parse_status_line(&status_line)?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(reader, &mut budget).await?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| {
                BrokerError::Protocol(format!("header line without ':': {}", quote(&line)))
            })?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        if !(100..200).contains(&status) {
            return Ok((status, headers));
        }
    }
}

fn parse_status_line(line: &str) -> Result<u16, BrokerError> {
    let bad = || BrokerError::Protocol(format!("bad status line {}", quote(line)));
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad());
    }
    let code = parts.next().unwrap_or_default();
    if code.len() != 3 {
        return Err(bad());
    }
    code.parse().map_err(|_| bad())
}

/// One CRLF- (or LF-) terminated line, charged against `budget`.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    budget: &mut usize,
) -> Result<String, BrokerError> {
    let mut line = Vec::new();
    let limit = (*budget as u64).saturating_add(1);
    let n = (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut line)
        .await
        .map_err(receive_error)?;
    if n > *budget {
        return Err(BrokerError::Protocol(format!(
            "reply headers are larger than {} KiB",
            HEAD_LIMIT / 1024
        )));
    }
    *budget -= n;
    if line.last() != Some(&b'\n') {
        return Err(BrokerError::Protocol(
            "the connection closed inside the reply headers".into(),
        ));
    }
    let text = String::from_utf8(line)
        .map_err(|_| BrokerError::Protocol("reply headers are not UTF-8".into()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

async fn read_exact_body<R: AsyncRead + Unpin>(
    reader: &mut R,
    length: usize,
) -> Result<Vec<u8>, BrokerError> {
    if length > BODY_LIMIT {
        return Err(BrokerError::TooLarge { limit: BODY_LIMIT });
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => BrokerError::Protocol(format!(
                "the connection closed before the {length} announced bytes"
            )),
            _ => receive_error(e),
        })?;
    Ok(body)
}

async fn read_to_close<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Vec<u8>, BrokerError> {
    let mut body = Vec::new();
    let limit = BODY_LIMIT as u64 + 1;
    match reader.take(limit).read_to_end(&mut body).await {
        Ok(_) => {}
        // A TLS peer that closes without close_notify: the body is what arrived.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(receive_error(e)),
    }
    if body.len() > BODY_LIMIT {
        return Err(BrokerError::TooLarge { limit: BODY_LIMIT });
    }
    Ok(body)
}

async fn read_chunked<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Vec<u8>, BrokerError> {
    let mut body = Vec::new();
    let mut budget = HEAD_LIMIT;
    loop {
        let size_line = read_line(reader, &mut budget).await?;
        let hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(hex, 16)
            .map_err(|_| BrokerError::Protocol(format!("bad chunk size {}", quote(&size_line))))?;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            while !read_line(reader, &mut budget).await?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > BODY_LIMIT {
            return Err(BrokerError::TooLarge { limit: BODY_LIMIT });
        }
        let chunk = read_exact_body(reader, size).await?;
        body.extend_from_slice(&chunk);
        if !read_line(reader, &mut budget).await?.is_empty() {
            return Err(BrokerError::Protocol("chunk not followed by CRLF".into()));
        }
    }
}

fn receive_error(source: std::io::Error) -> BrokerError {
    BrokerError::Io {
        phase: Phase::Receive,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Result<Response, BrokerError> {
        receive(raw).await
    }

    #[test]
    fn request_is_exactly_what_wgkex_expects() {
        let headers = [("User-Agent", "mesh-vpn-wg/0".to_string())];
        let request = Request {
            path: "/api/v2/wg/key/exchange",
            host: "broker.example:8443",
            headers: &headers,
            body: r#"{"domain":"d","public_key":"k"}"#,
        };
        let text = String::from_utf8(request.to_bytes()).unwrap();
        assert_eq!(
            text,
            "POST /api/v2/wg/key/exchange HTTP/1.1\r\nHost: broker.example:8443\r\n\
             User-Agent: mesh-vpn-wg/0\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\
             Connection: close\r\n\r\n{\"domain\":\"d\",\"public_key\":\"k\"}"
        );
    }

    #[tokio::test]
    async fn bodies_by_length_chunks_and_close() {
        let by_length = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA")
            .await
            .unwrap();
        assert_eq!(
            (by_length.status, by_length.body.as_slice()),
            (200, &b"hello"[..])
        );
        let chunked = b"HTTP/1.1 400 BAD\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nT: 1\r\n\r\n";
        assert_eq!(parse(chunked).await.unwrap().body, b"hello");
        let to_close = parse(b"HTTP/1.0 200 OK\nServer: x\n\nhello").await.unwrap();
        assert_eq!(to_close.body, b"hello");
        let interim = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        assert_eq!(interim.unwrap().status, 201);
    }

    #[tokio::test]
    async fn oversized_and_broken_replies_are_errors() {
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            BODY_LIMIT + 1
        );
        assert!(matches!(
            parse(big.as_bytes()).await,
            Err(BrokerError::TooLarge { limit: BODY_LIMIT })
        ));
        let mut endless = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        endless.resize(endless.len() + BODY_LIMIT + 1, b'x');
        let err = parse(&endless).await.unwrap_err();
        assert!(err.to_string().contains("64 KiB"), "{err}");
        for raw in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Le",
        ] {
            assert!(
                matches!(parse(raw).await, Err(BrokerError::Protocol(_))),
                "{raw:?}"
            );
        }
    }
}
