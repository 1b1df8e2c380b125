//! The callback's query parser on arbitrary input. Properties: no panic; what it accepts
//! survives a round trip through `application/x-www-form-urlencoded` serialization; a query
//! over the cap or with a protocol parameter twice is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_openid_connect::__internals::parse_callback_query;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = parse_callback_query(Some(raw)) else {
        return;
    };
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("code", &params.code),
        ("state", &params.state),
        ("iss", &params.iss),
        ("error", &params.error),
        ("error_description", &params.error_description),
    ] {
        if let Some(v) = value {
            ser.append_pair(name, v);
        }
    }
    let query = ser.finish();
    if query.len() <= 16 * 1024 {
        let again = parse_callback_query(Some(&query)).expect("re-serialized query parses");
        assert_eq!(again, params);
    }
});
