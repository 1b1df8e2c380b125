use super::*;

#[test]
fn callback_query_parses_the_protocol_parameters() {
    let p = parse_callback_query(Some(
        "code=abc&state=x%2By&iss=http%3A%2F%2Fi&other=1&other=2",
    ))
    .unwrap();
    assert_eq!(p.code.as_deref(), Some("abc"));
    assert_eq!(p.state.as_deref(), Some("x+y"));
    assert_eq!(p.iss.as_deref(), Some("http://i"));
    let p = parse_callback_query(Some("error=access_denied&error_description=a+b")).unwrap();
    assert_eq!(p.error_description.as_deref(), Some("a b"));
    assert_eq!(
        parse_callback_query(None).unwrap(),
        CallbackParams::default()
    );
}

#[test]
fn callback_query_refuses_duplicates_bad_encoding_and_huge_input() {
    for bad in [
        "code=a&code=b",
        "state=a&state=b",
        "iss=a&iss=b",
        "error=a&error=b",
        "code=%zz",
        "code=%",
        "code=%4",
        "state=%FF%FE",
        "co%de=1",
    ] {
        assert!(
            matches!(
                parse_callback_query(Some(bad)),
                Err(LoginError::BadRequest(_))
            ),
            "{bad:?} was accepted"
        );
    }
    let huge = format!("code={}", "a".repeat(100 * 1024));
    assert!(parse_callback_query(Some(&huge)).is_err());
}
