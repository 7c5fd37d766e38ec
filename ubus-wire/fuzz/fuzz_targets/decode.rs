//! Arbitrary bytes into the message decoders: they must never panic, and whatever they accept
//! must re-encode to a form that decodes to the same bytes again. What a relay's decode (DATA kept
//! as bytes) accepts must survive being forwarded: re-encoded, it decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ubus_wire::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        let once = message.encode().expect("a decoded message re-encodes");
        let again = Message::decode(&once).expect("our own encoding decodes");
        assert_eq!(again.encode().expect("re-encodes"), once, "re-encoding is not stable");
    }
    if let Ok(routed) = Message::decode_routing(data) {
        let relayed = routed.encode().expect("a routed message re-encodes");
        let again = Message::decode_routing(&relayed).expect("our own encoding decodes");
        assert_eq!(again, routed, "relaying changed the message");
    }
});
