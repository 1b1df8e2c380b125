use super::codec::*;
use super::cookies::*;
use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::serde::json::serde_json::json;

fn sample(extra_bytes: usize) -> SessionData {
    let mut userinfo_extra = Map::new();
    userinfo_extra.insert("groups".into(), json!(["a".repeat(extra_bytes)]));
    SessionData {
        id_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln".into(),
        access_token: Some("access-é-token".into()),
        access_expires_at: Some(1_800_000_000),
        refresh_token: Some("refresh".into()),
        userinfo_extra,
        session_id: Some("Zm9vYmFyYmF6".into()),
        created: 1_700_000_000,
        seen: 1_700_000_100,
        nonce: None,
        provider: None,
        app_data: None,
    }
}

fn roundtrip(chunks: &[String]) -> Option<SessionData> {
    decode_chunks(|i| chunks.get(i).cloned())
}

#[test]
fn small_session_is_one_chunk_and_round_trips() {
    let data = sample(10);
    let chunks = encode_chunks(&data).unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(roundtrip(&chunks), Some(data));
}

#[test]
fn large_session_is_chunked_within_the_cookie_limit_and_round_trips() {
    let data = sample(10_000);
    let chunks = encode_chunks(&data).unwrap();
    assert_eq!(
        chunks.len(),
        4,
        "{:?}",
        chunks.iter().map(String::len).collect::<Vec<_>>()
    );
    let room = max_chunk_plaintext(MAX_NAME_BYTES);
    for c in &chunks {
        assert!(c.len() <= room, "chunk of {} bytes > {room}", c.len());
        // Encrypted size: base64 of nonce + ciphertext + tag, plus name and attributes.
        let wire = (c.len() + ENCRYPTION_OVERHEAD).div_ceil(3) * 4
            + PERCENT_ENCODING_ALLOWANCE
            + MAX_NAME_BYTES
            + 1
            + ATTRIBUTE_BUDGET;
        assert!(wire <= MAX_COOKIE_BYTES);
    }
    assert_eq!(roundtrip(&chunks), Some(data));
}

#[test]
fn multibyte_text_is_never_split_inside_a_character() {
    let mut data = sample(0);
    data.userinfo_extra
        .insert("name".into(), json!("é".repeat(5000)));
    let chunks = encode_chunks(&data).unwrap();
    assert!(chunks.len() > 1);
    assert_eq!(roundtrip(&chunks), Some(data));
}

#[test]
fn too_large_a_session_is_an_error_that_says_what_to_change() {
    let err = encode_chunks(&sample(40_000)).unwrap_err();
    assert!(err.contains("keep_refresh_token"), "{err}");
}

#[test]
fn chunks_of_two_sessions_cannot_be_mixed() {
    let a = encode_chunks(&sample(5_000)).unwrap();
    let b = encode_chunks(&sample(5_000)).unwrap();
    let mixed = vec![a[0].clone(), b[1].clone()];
    assert_eq!(roundtrip(&mixed), None);
}

#[test]
fn missing_reordered_or_malformed_chunks_mean_no_session() {
    let a = encode_chunks(&sample(5_000)).unwrap();
    assert!(a.len() >= 2);
    assert_eq!(roundtrip(&a[..1]), None);
    let swapped = vec![a[1].clone(), a[0].clone()];
    assert_eq!(roundtrip(&swapped), None);
    for junk in [
        "",
        "~",
        "x~0~1~",
        "x~0~1~{",
        "x~0~0~{}",
        "x~0~99~{}",
        "x~a~1~{}",
        "x~0~-1~{}",
    ] {
        assert_eq!(roundtrip(&[junk.to_string()]), None, "{junk:?}");
    }
}

#[test]
fn userinfo_delta_keeps_only_new_or_different_claims() {
    let id: Map<String, Value> =
        serde_json::from_value(json!({"sub": "ada", "name": "Ada", "email": "a@x"})).unwrap();
    let ui: Map<String, Value> = serde_json::from_value(
        json!({"sub": "ada", "name": "Ada L.", "email": "a@x", "groups": ["g"]}),
    )
    .unwrap();
    let delta = userinfo_delta(&id, ui);
    assert_eq!(
        Value::Object(delta),
        json!({"name": "Ada L.", "groups": ["g"]})
    );
}

#[test]
fn tx_cookie_names_use_only_safe_characters() {
    assert_eq!(
        tx_cookie_name("abcDEF123-_xyz789012345"),
        "oidc_tx_abcDEF123-_xyz78"
    );
    assert_eq!(tx_cookie_name("a;b=c d"), "oidc_tx_abcd");
}

/// An RS256 ID token shaped like the development issuer's (header with a 43-character `kid`,
/// profile and email claims, a 256-byte signature); the signature bytes are filler.
fn realistic_id_token() -> String {
    let header =
        r#"{"alg":"RS256","kid":"Xq3Pp0Q3Ww3kS1sRk8Qf7m6o4bYlQxkqkRrYlT0fA1c","typ":"JWT"}"#;
    let payload = r#"{"at_hash":"77QmUPtjPfzWtF2AnpK9RQ","aud":"rocket-quickstart","auth_time":1764180000,"email":"ada@example.com","email_verified":true,"exp":1764183600,"family_name":"Lovelace","given_name":"Ada","iat":1764180000,"iss":"http://127.0.0.1:8080","name":"Ada Lovelace","nonce":"n-0S6_WzA2Mj","preferred_username":"ada","sub":"ada-lovelace-1815"}"#;
    let signature: Vec<u8> = (0..=255u8).collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[test]
fn compact_form_stores_the_id_token_decoded_and_gives_it_back_byte_for_byte() {
    let mut data = sample(0);
    data.id_token = realistic_id_token();
    let body = encode_body(&data).unwrap();
    assert!(body.starts_with(COMPACT), "{body}");
    assert!(
        body.contains(r#""name":"Ada Lovelace""#),
        "payload stored as JSON"
    );
    let plain = serde_json::to_string(&data).unwrap();
    assert!(
        body.len() + 100 < plain.len(),
        "{} vs {}",
        body.len(),
        plain.len()
    );
    assert_eq!(decode_body(&body), Some(data.clone()));
    assert_eq!(roundtrip(&encode_chunks(&data).unwrap()), Some(data));
}

#[test]
fn tokens_that_do_not_round_trip_are_stored_as_they_are() {
    let token = realistic_id_token();
    let (header, rest) = token.split_once('.').unwrap();
    for odd in [
        // Padding, which the compact serialization forbids.
        format!("{header}=.{rest}"),
        // Non-zero trailing bits: decodes, but re-encodes differently.
        format!("{}d.{rest}", &header[..header.len() - 1]),
        // Not three segments, not base64, not JSON.
        "a.b".into(),
        "not a jwt".into(),
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode("[1]"),
            URL_SAFE_NO_PAD.encode("{}")
        ),
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(" {} "),
            URL_SAFE_NO_PAD.encode("{}")
        ),
    ] {
        let mut data = sample(0);
        data.id_token = odd.clone();
        let body = encode_body(&data).unwrap();
        assert!(body.starts_with('{'), "{odd}: {body}");
        assert_eq!(decode_body(&body), Some(data), "{odd}");
    }
}

#[test]
fn malformed_compact_bodies_mean_no_session() {
    for junk in [
        ".",
        ".{}{}{}",
        ".2.2.{}{}",
        ".2.2.{}{}{",
        ".2.2.{}{}[]",
        ".1.2.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".2.3.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".2.99.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".18446744073709551615.2.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".2.18446744073709551615.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".-2.2.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".x.2.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".2.2.[]{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".2.2.{}{}{\"i\":\"a.b\",\"c\":1,\"s\":1}",
        ".7.7.{\"a\":1}{\"b\":2}{\"c\":1,\"s\":1}",
        ".2.3.{}é{}{\"i\":\"s\",\"c\":1,\"s\":1}",
        ".3.2.{é}{}{\"i\":\"s\",\"c\":1,\"s\":1}",
    ] {
        assert_eq!(decode_body(junk), None, "{junk:?}");
    }
    assert!(decode_body(".2.2.{}{}{\"i\":\"s\",\"c\":1,\"s\":1}").is_some());
}

/// Fuzz finding (`session_roundtrip`, `session_chunks`): float claims lost their last bit in
/// the session, because serde_json's default float parser is not exact. Inputs from the crash
/// artifacts.
#[test]
fn float_claims_round_trip_exactly() {
    let mut data = sample(0);
    data.userinfo_extra
        .insert("f".into(), json!(1.382_417_207_251_688_9e306));
    data.userinfo_extra.insert("g".into(), json!(0.1 + 0.2));
    let chunks = encode_chunks(&data).unwrap();
    assert_eq!(roundtrip(&chunks), Some(data));

    // A long integer literal from a provider decodes to a float that re-encodes exactly.
    let first = r#"AbCdEfGhIjK~0~1~{"i":"t","u":{"x":170000000000000000000000000000000000000000000000000000000766},"c":1,"s":1}"#;
    let decoded = roundtrip(&[first.to_string()]).unwrap();
    let again = encode_chunks(&decoded).unwrap();
    assert_eq!(roundtrip(&again), Some(decoded));
}

#[test]
fn debug_output_never_shows_tokens_or_transaction_secrets() {
    let mut data = sample(0);
    data.refresh_token = Some("rt-secret-value".into());
    let shown = format!("{data:?}");
    for secret in [data.id_token.as_str(), "access-é-token", "rt-secret-value"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let tx = Transaction {
        state: "state-secret".into(),
        nonce: "nonce-secret".into(),
        pkce_verifier: "verifier-secret".into(),
        return_to: "/protected".into(),
        issuer: "https://op.example".into(),
        created: 1,
        provider: None,
    };
    let shown = format!("{tx:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("/protected"));
}

#[test]
fn a_sessions_provider_costs_its_name_and_round_trips() {
    use crate::config::ProviderName;
    let unnamed = sample(10);
    let named = SessionData {
        provider: ProviderName::new("okta"),
        ..unnamed.clone()
    };
    assert_eq!(unnamed.provider_name(), "default");
    assert_eq!(named.provider_name(), "okta");
    for data in [&unnamed, &named] {
        let body = encode_body(data).unwrap();
        assert!(body.starts_with(codec::COMPACT), "compact: {body}");
        assert_eq!(decode_body(&body).as_ref(), Some(data));
    }
    // `"p":"okta",`: the name and seven bytes, never the issuer.
    let growth = encode_body(&named).unwrap().len() - encode_body(&unnamed).unwrap().len();
    assert_eq!(growth, "okta".len() + 7);
    // A session of a name that is no provider name does not decode (it never was written).
    let body = encode_body(&named)
        .unwrap()
        .replace("\"okta\"", "\"Okta!\"");
    assert_eq!(decode_body(&body), None);
    assert!(format!("{named:?}").contains("provider: \"okta\""));
}

// --- lifetimes: load() and check() at exact times ----------------------------------------------

const LIFETIMES: Lifetimes = Lifetimes {
    idle: 100,
    absolute: 1000,
    skew: 60,
};
const CREATED: i64 = 1_700_000_000;

fn timed(created: i64, seen: i64) -> SessionData {
    SessionData {
        created,
        seen,
        ..sample(0)
    }
}

fn valid(rewrite: bool) -> Option<bool> {
    Some(rewrite)
}

#[test]
fn idle_lifetime_ends_exactly_after_idle_seconds() {
    let data = timed(CREATED, CREATED);
    // The renewal interval is idle / 20 = 5 s.
    assert_eq!(check(&data, LIFETIMES, CREATED), valid(false));
    assert_eq!(check(&data, LIFETIMES, CREATED + 4), valid(false));
    assert_eq!(check(&data, LIFETIMES, CREATED + 5), valid(true));
    assert_eq!(check(&data, LIFETIMES, CREATED + 100), valid(true));
    assert_eq!(check(&data, LIFETIMES, CREATED + 101), None);
}

#[test]
fn absolute_lifetime_ends_however_recent_the_last_request() {
    let data = timed(CREATED, CREATED + 990);
    assert_eq!(check(&data, LIFETIMES, CREATED + 1000), valid(true));
    assert_eq!(check(&data, LIFETIMES, CREATED + 1001), None);
}

#[test]
fn the_renewal_interval_is_a_twentieth_of_idle_between_1_and_300_seconds() {
    let at = |idle: i64, after: i64| {
        let lifetimes = Lifetimes {
            idle,
            absolute: 1_000_000,
            skew: 60,
        };
        check(&timed(CREATED, CREATED), lifetimes, CREATED + after)
    };
    assert_eq!(at(10, 1), valid(true), "at least 1 s");
    assert_eq!(at(10, 0), valid(false));
    assert_eq!(at(86_400, 299), valid(false), "at most 300 s");
    assert_eq!(at(86_400, 300), valid(true));
}

#[test]
fn renew_slides_the_idle_lifetime_and_keeps_the_absolute_one() {
    let client = jar_client();
    let req = client.get("/");
    let jar = req.inner().cookies();
    let mut data = timed(CREATED, CREATED + 10);
    renew(jar, PLAIN, &mut data, LIFETIMES, CREATED + 40).unwrap();
    assert_eq!(data.seen, CREATED + 40);
    assert_eq!(data.created, CREATED);
    let written = jar
        .get_pending("oidc_session")
        .expect("the session is written");
    // What is left of the absolute lifetime: created + 1000 - now.
    assert_eq!(
        written.max_age(),
        Some(time::Duration::seconds(960)),
        "{written:?}"
    );
}

/// A local client whose requests carry private cookies encrypted with a fixed key.
fn jar_client() -> rocket::local::blocking::Client {
    let figment = rocket::Config::figment()
        .merge(("secret_key", [7u8; 64].to_vec()))
        .merge(("log_level", "off"));
    rocket::local::blocking::Client::untracked(rocket::custom(figment)).unwrap()
}

const PLAIN: CookieOptions = CookieOptions::new(false);

#[test]
fn load_tells_no_session_from_a_stale_one_and_a_valid_one() {
    let client = jar_client();
    assert_eq!(
        load(client.get("/").inner().cookies(), PLAIN, LIFETIMES, CREATED),
        Loaded::None
    );
    // Not encrypted with this key: another app's session, or junk. Not ours to expire.
    let junk = client
        .get("/")
        .cookie(rocket::http::Cookie::new("oidc_session", "not-encrypted"));
    assert_eq!(
        load(junk.inner().cookies(), PLAIN, LIFETIMES, CREATED),
        Loaded::Foreign
    );
    // Encrypted with this key but no session: ours, and stale.
    let garbled = client
        .get("/")
        .private_cookie(rocket::http::Cookie::new("oidc_session", "x~0~1~{"));
    assert_eq!(
        load(garbled.inner().cookies(), PLAIN, LIFETIMES, CREATED),
        Loaded::Stale
    );
    let data = timed(CREATED, CREATED);
    let mut req = client.get("/");
    for (i, chunk) in encode_chunks(&data).unwrap().into_iter().enumerate() {
        req = req.private_cookie(rocket::http::Cookie::new(PLAIN.session_name(i), chunk));
    }
    let jar = req.inner().cookies();
    match load(jar, PLAIN, LIFETIMES, CREATED + 1) {
        Loaded::Valid { session, rewrite } => {
            assert_eq!(session.data, data);
            assert!(!rewrite);
            // The compact form keeps the ID token's claims as JSON for the guards.
            let payload = data.id_token.split('.').nth(1).unwrap();
            let expected = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            assert_eq!(session.claims_json(), Some(expected.as_str()));
        }
        other => panic!("expected a valid session, got {other:?}"),
    }
    assert_eq!(load(jar, PLAIN, LIFETIMES, CREATED + 101), Loaded::Stale);
}

#[test]
fn app_data_round_trips_and_counts_in_the_session_size() {
    let plain = sample(10);
    let with_data = SessionData {
        app_data: Some(json!({"user_id": 42, "plan": "pro", "n": 1.5})),
        ..sample(10)
    };
    let chunks = encode_chunks(&with_data).unwrap();
    assert_eq!(roundtrip(&chunks), Some(with_data.clone()));
    let size = |d: &SessionData| encode_body(d).unwrap().len();
    assert_eq!(
        size(&with_data) - size(&plain),
        r#","d":{"user_id":42,"plan":"pro","n":1.5}"#.len(),
        "the data's JSON, once"
    );
    // Too much app data is refused, not silently cut.
    let huge = SessionData {
        app_data: Some(json!("x".repeat(40_000))),
        ..sample(10)
    };
    assert!(encode_chunks(&huge).is_err());
}

#[test]
fn times_beyond_now_and_the_skew_are_stale() {
    let now = CREATED + 500;
    for (created, seen, ok) in [
        (now, now, true),
        (now - 10, now + 60, true),
        (now + 60, now + 60, true),
        (now - 10, now + 61, false),
        (now + 61, now, false),
        (1 << 62, now, false),
        (now, 1 << 62, false),
        (i64::MAX, i64::MAX, false),
        (i64::MIN, now, false),
        (now, i64::MIN, false),
    ] {
        let got = check(&timed(created, seen), LIFETIMES, now);
        assert_eq!(got.is_some(), ok, "created {created}, seen {seen}: {got:?}");
    }
    // At the edges of time itself, nothing overflows.
    for now in [i64::MIN, i64::MAX] {
        assert_eq!(check(&timed(CREATED, CREATED), LIFETIMES, now), None);
    }
}

#[test]
fn renewing_any_session_never_panics_and_never_outlives_400_days() {
    let client = jar_client();
    let req = client.get("/");
    let jar = req.inner().cookies();
    for (created, now) in [
        (1 << 62, CREATED),
        (i64::MAX, CREATED),
        (i64::MIN, CREATED),
        (CREATED, i64::MAX),
        (CREATED, i64::MIN),
    ] {
        let mut data = timed(created, CREATED);
        let long = Lifetimes {
            absolute: i64::MAX,
            ..LIFETIMES
        };
        renew(jar, PLAIN, &mut data, long, now).unwrap();
        let written = jar.get_pending("oidc_session").unwrap();
        let age = written.max_age().unwrap().whole_seconds();
        assert!((0..=400 * 86_400).contains(&age), "{created} {now}: {age}");
    }
}

#[test]
fn only_a_session_of_ours_is_cleared() {
    let client = jar_client();
    let foreign = client
        .get("/")
        .cookie(rocket::http::Cookie::new("oidc_session", "another-apps"))
        .cookie(rocket::http::Cookie::new("oidc_session.1", "another-apps"));
    let jar = foreign.inner().cookies();
    assert!(!clear_own_session(jar, PLAIN));
    assert!(jar
        .get_pending("oidc_session")
        .is_some_and(|c| c.value() == "another-apps"));
    let ours = client
        .get("/")
        .private_cookie(rocket::http::Cookie::new("oidc_session", "x~0~2~{"))
        .cookie(rocket::http::Cookie::new("oidc_session.1", "whatever"));
    let jar = ours.inner().cookies();
    assert!(clear_own_session(jar, PLAIN));
    for name in ["oidc_session", "oidc_session.1"] {
        assert!(jar.get_pending(name).is_none(), "{name} expired");
    }
}
