//! The session cookie decoder on arbitrary chunk strings (what a browser can send after Rocket
//! decrypted them: the decryption key is secret, but a session of ours from another app sharing
//! the key, or a bug in our own encoder, reaches this code as is).
//!
//! Input: the chunk values, separated by `\n`. Property: no panic; whatever decodes re-encodes
//! and decodes to the same session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_openid_connect::__internals::{decode_chunks, encode_chunks};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let chunks: Vec<&str> = text.split('\n').collect();
    let decoded = decode_chunks(|i| chunks.get(i).map(|c| c.to_string()));
    if let Some(session) = decoded {
        let again = encode_chunks(&session).expect("a decoded session encodes");
        assert_eq!(
            decode_chunks(|i| again.get(i).cloned()).as_ref(),
            Some(&session)
        );
    }
});
