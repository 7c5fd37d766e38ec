//! Hostile input: every kind of broken message gives an error, never a panic, and whatever
//! decodes re-encodes to a stable form. The pseudo-random part is deterministic so CI exercises
//! the decoder the same way on every run, with or without cargo-fuzz.

mod common;

use common::{all_fixtures, hex};
use ubus_wire::blob::Writer;
use ubus_wire::blobmsg::MAX_DEPTH;
use ubus_wire::connection::read_message;
use ubus_wire::{Error, MAX_MESSAGE_LEN, Message};

fn fixture_messages() -> Vec<Vec<u8>> {
    all_fixtures()
        .iter()
        .flat_map(|(_, fx)| fx["messages"].as_array().unwrap().clone())
        .map(|m| hex(m["hex"].as_str().unwrap()))
        .collect()
}

/// A message header plus a container holding `body` (already padded).
fn message_with_body(body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 2, 0, 1, 0, 0, 0, 0];
    bytes.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    bytes.extend_from_slice(body);
    bytes
}

fn decode_err(bytes: &[u8]) -> String {
    match Message::decode(bytes) {
        Ok(msg) => panic!("decoded {msg:?} from {bytes:02x?}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn every_truncation_and_extension_of_a_recorded_message_is_rejected() {
    for bytes in fixture_messages() {
        for len in 0..bytes.len() {
            decode_err(&bytes[..len]);
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0, 0, 0, 0]);
        decode_err(&longer);
    }
}

#[test]
fn lengths_beyond_the_buffer_are_rejected() {
    // Container claims more than there is.
    let mut bytes = message_with_body(&[3, 0, 0, 8, 0, 0, 0, 1]);
    bytes[11] += 4;
    assert!(decode_err(&bytes).contains("container"));
    // An attribute claims more than its container.
    let err = decode_err(&message_with_body(&[3, 0, 0, 12, 0, 0, 0, 1]));
    assert!(err.contains("exceeds"), "{err}");
    // A blobmsg inside DATA claims more than DATA.
    let err = decode_err(&message_with_body(&[
        7, 0, 0, 12, 0x85, 0, 0, 0x40, 0, 0, 0, 0,
    ]));
    assert!(err.contains("DATA"), "{err}");
}

#[test]
fn messages_over_one_mebibyte_are_rejected() {
    let body = vec![0u8; MAX_MESSAGE_LEN]; // UNSPEC attrs of length 0 would be invalid anyway
    let bytes = message_with_body(&body);
    assert!(matches!(
        Message::decode(&bytes),
        Err(Error::TooLarge { .. })
    ));
    let prefix: [u8; 12] = bytes[..12].try_into().unwrap();
    assert!(matches!(
        Message::remaining_len(&prefix),
        Err(Error::TooLarge { .. })
    ));
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut w = Writer::new();
    let data = w.open(false, 7);
    let marks: Vec<usize> = (0..depth)
        .map(|level| {
            let mark = w.open(true, 1);
            let name: &[u8] = if level == 0 {
                b"\0\x01a\0"
            } else {
                b"\0\0\0\0"
            };
            w.put_bytes(name);
            mark
        })
        .collect();
    marks.into_iter().rev().for_each(|mark| w.close(mark));
    w.close(data);
    message_with_body(&w.into_bytes())
}

#[test]
fn nesting_is_bounded() {
    assert!(Message::decode(&nested_arrays(MAX_DEPTH)).is_ok());
    let err = decode_err(&nested_arrays(MAX_DEPTH + 1));
    assert!(err.contains("nested deeper"), "{err}");
    // Far deeper than the stack would allow if the decoder recursed blindly.
    decode_err(&nested_arrays(100_000));
}

#[test]
fn bad_utf8_is_rejected_everywhere() {
    // OBJPATH "\xff\xfe", METHOD "\xc3", a blobmsg STRING value and a blobmsg name.
    let cases: [&[u8]; 4] = [
        &[2, 0, 0, 7, 0xff, 0xfe, 0, 0],
        &[4, 0, 0, 6, 0xc3, 0, 0, 0],
        &[7, 0, 0, 16, 0x83, 0, 0, 10, 0, 1, b's', 0, 0xff, 0, 0, 0],
        &[7, 0, 0, 16, 0x87, 0, 0, 9, 0, 1, 0xff, 0, 1, 0, 0, 0],
    ];
    for body in cases {
        let err = decode_err(&message_with_body(body));
        assert!(err.contains("UTF-8"), "{err}");
    }
}

#[test]
fn wrong_attribute_sizes_are_rejected() {
    let cases: [&[u8]; 5] = [
        &[1, 0, 0, 5, 0, 0, 0, 0],                              // STATUS of 1 byte
        &[9, 0, 0, 8, 0, 0, 0, 1],                              // ACTIVE of 4 bytes
        &[11, 0, 0, 12, 0x80, 0, 0, 8, 0, 0, 0, 1], // SUBSCRIBERS entry with the extended bit
        &[11, 0, 0, 12, 0, 0, 0, 7, 0, 0, 1, 0],    // SUBSCRIBERS entry of 3 bytes
        &[7, 0, 0, 16, 0x88, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0], // DOUBLE of 4 bytes
    ];
    for body in cases {
        decode_err(&message_with_body(body));
    }
}

/// xorshift64*: small, deterministic, good enough to scatter mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Decoding must not panic; what decodes must re-encode, and the re-encoding is a fixed point.
fn check_stable(bytes: &[u8]) -> bool {
    let Ok(msg) = Message::decode(bytes) else {
        return false;
    };
    let once = msg.encode().expect("a decoded message re-encodes");
    let twice = Message::decode(&once)
        .expect("our encoding decodes")
        .encode()
        .unwrap();
    assert_eq!(once, twice, "re-encoding of {bytes:02x?} is not stable");
    true
}

#[test]
fn pseudo_random_and_mutated_inputs_never_panic() {
    let mut rng = Rng(0x5eed_1e55_cafe_f00d);
    let seeds = fixture_messages();
    let mut decoded = 0;
    for round in 0..6000 {
        let mut bytes = if round % 3 == 0 {
            // Random attributes in a consistent container, so decoding gets past the header.
            let body: Vec<u8> = (0..rng.below(16) * 4).map(|_| rng.next() as u8).collect();
            message_with_body(&body)
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] ^= 1 << rng.below(8),
                1 => bytes[at] = rng.next() as u8,
                2 => bytes.truncate(at.max(1)),
                _ => bytes.insert(at, rng.next() as u8),
            }
        }
        decoded += usize::from(check_stable(&bytes));
    }
    // Some mutations (e.g. of a string's content) leave valid messages: both paths were taken.
    assert!(decoded > 100, "only {decoded} inputs decoded");
}

#[tokio::test]
async fn a_corrupted_stream_ends_in_an_error_or_eof_not_a_hang() {
    let mut rng = Rng(42);
    let stream: Vec<u8> = fixture_messages().concat();
    for _ in 0..200 {
        let mut corrupted = stream.clone();
        for _ in 0..8 {
            let at = rng.below(corrupted.len());
            corrupted[at] = rng.next() as u8;
        }
        let mut reader = &corrupted[..];
        // Each successful read consumes at least 12 bytes, so this loop is bounded.
        while let Ok(Some(_)) = read_message(&mut reader).await {}
    }
}
