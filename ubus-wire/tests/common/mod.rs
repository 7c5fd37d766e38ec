//! Loading the recorded ubus fixtures (`tests/fixtures/*.json`, a copy of the
//! project's `shared/ubus-fixtures` recordings of the real ubusd).
#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;

use serde_json::Value as Json;

pub fn fixture_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    assert!(
        dir.join("README.md").is_file(),
        "ubus fixtures not found at {}",
        dir.display()
    );
    dir
}

/// All fixture files as (file name, parsed JSON), sorted by name.
pub fn all_fixtures() -> Vec<(String, Json)> {
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir())
        .expect("read fixture dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read fixture");
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).expect("fixture is JSON"))
        })
        .collect()
}

pub fn fixture(name: &str) -> Json {
    let path = fixture_dir().join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read fixture"))
        .expect("fixture is JSON")
}

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw bytes of message `i` of a fixture.
pub fn message_bytes(fixture: &Json, i: usize) -> Vec<u8> {
    let message = &fixture["messages"][i];
    assert_eq!(message["i"], i, "messages are listed in order");
    hex(message["hex"].as_str().expect("hex string"))
}

/// Reads one whole message from the scripted peer's end, as raw bytes.
pub async fn read_raw(stream: &mut tokio::net::UnixStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut prefix = [0u8; ubus_wire::message::PREFIX_LEN];
    let read = stream.read_exact(&mut prefix);
    tokio::time::timeout(PEER_TIMEOUT, read)
        .await
        .expect("peer waited too long")
        .expect("read prefix");
    let rest = ubus_wire::Message::remaining_len(&prefix).expect("valid length");
    let mut bytes = prefix.to_vec();
    bytes.resize(prefix.len() + rest, 0);
    stream
        .read_exact(&mut bytes[prefix.len()..])
        .await
        .expect("read body");
    bytes
}

pub async fn write_raw(stream: &mut tokio::net::UnixStream, bytes: &[u8]) {
    use tokio::io::AsyncWriteExt;
    stream.write_all(bytes).await.expect("peer write");
}

/// Generous: only a broken implementation ever waits this long.
pub const PEER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The same message with another seq, for comparing our requests (whose seq depends on how
/// many we sent before) with recorded ones.
pub fn with_seq(bytes: &[u8], seq: u16) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    bytes[2..4].copy_from_slice(&seq.to_be_bytes());
    bytes
}

/// Plays ubusd's side of one recorded connection: writes what ubusd sent and checks that what
/// we send equals what the recorded client sent. Returns how many of our messages it compared.
pub async fn replay(fixture: &Json, conn: &str, ubusd: &mut tokio::net::UnixStream) -> usize {
    let mut compared = 0;
    for message in fixture["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["conn"] == conn)
    {
        let bytes = hex(message["hex"].as_str().expect("hex"));
        if message["dir"] == "from_ubusd" {
            write_raw(ubusd, &bytes).await;
        } else {
            let ours = read_raw(ubusd).await;
            assert_eq!(
                to_hex(&ours),
                to_hex(&bytes),
                "{} message {}",
                fixture["scenario"],
                message["i"]
            );
            compared += 1;
        }
    }
    compared
}
