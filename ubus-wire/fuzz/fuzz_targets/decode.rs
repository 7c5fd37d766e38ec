//! Arbitrary bytes into the message decoder: it must never panic, and whatever it accepts must
//! re-encode to a form that decodes to the same bytes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ubus_wire::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        let once = message.encode().expect("a decoded message re-encodes");
        let again = Message::decode(&once).expect("our own encoding decodes");
        assert_eq!(again.encode().expect("re-encodes"), once, "re-encoding is not stable");
    }
});
