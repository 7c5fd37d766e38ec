//! The connection side of the test broker: accept, optional TLS, read one
//! request, record it, answer it the way the configured [`Behaviour`] says,
//! close. Like waitress, one request per connection is all a client gets here.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::wgkex::{self, Reply};
use super::{Behaviour, Recorded, Route, State};

const HEAD_LIMIT: u64 = 64 * 1024;
const BODY_LIMIT: usize = 1024 * 1024;

pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<Mutex<State>>,
) {
    while let Ok((tcp, peer)) = listener.accept().await {
        let tls = tls.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let local = tcp.local_addr().unwrap_or(peer);
            match tls {
                // A client that rejects our certificate ends here, which is the point.
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        let _ = handle(stream, peer, local, state).await;
                    }
                }
                None => {
                    let _ = handle(tcp, peer, local, state).await;
                }
            }
        });
    }
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: SocketAddr,
    local: SocketAddr,
    state: Arc<Mutex<State>>,
) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let request = read_request(&mut reader, peer, local).await?;
    let (reply, behaviour) = {
        let mut state = state
            .lock()
            .map_err(|_| io::Error::other("state poisoned"))?;
        state.requests.push(request.clone());
        decide(&mut state, &request)
    };
    let mut stream = reader.into_inner();
    match behaviour {
        Behaviour::NeverReply => std::future::pending::<()>().await,
        Behaviour::Delay(delay) => tokio::time::sleep(delay).await,
        _ => {}
    }
    let framing = match behaviour {
        Behaviour::Chunked => Framing::Chunked,
        Behaviour::CloseDelimited | Behaviour::EndlessBody => Framing::Close,
        _ => Framing::Length,
    };
    let location = match &behaviour {
        Behaviour::Redirect(url) => Some(url.as_str()),
        _ => None,
    };
    let answer = match &behaviour {
        Behaviour::Raw(bytes) => bytes.clone(),
        _ => encode(&reply, framing, location),
    };
    match behaviour {
        Behaviour::Trickle(every) => trickle(&mut stream, &answer, every).await?,
        Behaviour::EndlessBody => endless(&mut stream, &answer).await?,
        _ => stream.write_all(&answer).await?,
    }
    stream.shutdown().await
}

/// Writes `answer` one byte per `every`, until done or the client hangs up.
async fn trickle<S: AsyncWrite + Unpin>(
    stream: &mut S,
    answer: &[u8],
    every: Duration,
) -> io::Result<()> {
    for byte in answer {
        stream.write_all(&[*byte]).await?;
        stream.flush().await?;
        tokio::time::sleep(every).await;
    }
    Ok(())
}

/// Writes `head`, then filler until the client hangs up (a write error ends it).
async fn endless<S: AsyncWrite + Unpin>(stream: &mut S, head: &[u8]) -> io::Result<()> {
    stream.write_all(head).await?;
    let filler = [b'x'; 4096];
    loop {
        stream.write_all(&filler).await?;
    }
}

/// The reply for `request`, and the behaviour that shapes its delivery.
fn decide(state: &mut State, request: &Recorded) -> (Reply, Behaviour) {
    let path = request.path.split('?').next().unwrap_or_default();
    let route = match path {
        wgkex::V1_PATH => Route::V1,
        wgkex::V2_PATH => Route::V2,
        "/" if request.method == "GET" => return (Reply::index(), Behaviour::Faithful),
        "/" => return (Reply::method_not_allowed(), Behaviour::Faithful),
        _ => return (Reply::not_found(), Behaviour::Faithful),
    };
    let behaviour = state.behaviour(route).clone();
    if let Behaviour::V2Missing = behaviour {
        return (Reply::not_found(), behaviour);
    }
    if request.method != "POST" {
        return (Reply::method_not_allowed(), behaviour);
    }
    let Some((domain, key)) = wgkex::key_exchange(&state.config, &request.body) else {
        return (Reply::error(400, wgkex::GENERIC_ERROR), behaviour);
    };
    // wgkex publishes the key to MQTT before anything else can fail.
    if let Some(publish) = &state.config.publish {
        (publish.0)(&key);
    }
    state.published.push((domain, key));
    let reply = match (&behaviour, route) {
        (Behaviour::Reply { status, body }, _) => Reply {
            status: *status,
            content_type: "application/json",
            body: body.clone(),
        },
        (Behaviour::Oversized(size), _) => Reply::json(200, "x".repeat(*size)),
        (Behaviour::Redirect(_), _) => Reply::json(301, String::new()),
        (Behaviour::EndlessBody, _) => Reply::json(200, String::new()),
        (Behaviour::NoGateway, _) => Reply::error(400, wgkex::NO_GATEWAY),
        (Behaviour::NoGatewayData, _) => Reply::error(500, wgkex::NO_GATEWAY_DATA),
        (_, Route::V1) => Reply::v1_ok(),
        (_, Route::V2) => Reply::v2_ok(&state.config.gateway),
    };
    (reply, behaviour)
}

async fn read_request<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    peer: SocketAddr,
    local: SocketAddr,
) -> io::Result<Recorded> {
    let mut head = Vec::new();
    let mut limited = (&mut *reader).take(HEAD_LIMIT);
    loop {
        let start = head.len();
        if limited.read_until(b'\n', &mut head).await? == 0 {
            return Err(io::Error::other("closed inside the request head"));
        }
        if matches!(&head[start..], b"\r\n" | b"\n") {
            break;
        }
    }
    let text = String::from_utf8(head).map_err(io::Error::other)?;
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(BODY_LIMIT);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Recorded {
        method,
        path,
        headers,
        body,
        peer,
        local,
    })
}

enum Framing {
    Length,
    Chunked,
    Close,
}

fn encode(reply: &Reply, framing: Framing, location: Option<&str>) -> Vec<u8> {
    let reason = match reply.status {
        200 => "OK",
        301 => "MOVED PERMANENTLY",
        400 => "BAD REQUEST",
        404 => "NOT FOUND",
        405 => "METHOD NOT ALLOWED",
        500 => "INTERNAL SERVER ERROR",
        _ => "UNKNOWN",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nServer: waitress\r\nContent-Type: {}\r\n",
        reply.status, reply.content_type
    );
    if reply.status == 405 {
        head.push_str("Allow: OPTIONS, POST\r\n");
    }
    if let Some(location) = location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    let mut out = match framing {
        Framing::Length => {
            format!("{head}Content-Length: {}\r\n\r\n", reply.body.len()).into_bytes()
        }
        Framing::Close => format!("{head}Connection: close\r\n\r\n").into_bytes(),
        Framing::Chunked => format!("{head}Transfer-Encoding: chunked\r\n\r\n").into_bytes(),
    };
    match framing {
        Framing::Chunked => {
            for chunk in reply.body.chunks(7) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
        _ => out.extend_from_slice(&reply.body),
    }
    out
}
