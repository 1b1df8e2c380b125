//! `response_mode=form_post` (OAuth 2.0 Form Post Response Mode): the authorization response
//! as an auto-submitting form POSTed to the redirect_uri.

use rocket::serde::json::serde_json::{json, Value};
use rocket_openid_connect::dev_issuer::DevIssuer;

use crate::*;

/// What a browser would POST: the form's method, action and hidden inputs, in order.
#[derive(Debug)]
struct Form {
    method: String,
    action: String,
    fields: Vec<(String, String)>,
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the tag text `tag`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// Parses the one `<form>` of a page.
fn parse_form(html: &str) -> Form {
    let start = html.find("<form").expect("a form");
    let end = start + html[start..].find("</form>").expect("the form ends");
    let form = &html[start..end];
    let open = &form[..form.find('>').unwrap()];
    let fields = form
        .match_indices("<input")
        .map(|(at, _)| &form[at..at + form[at..].find('>').unwrap()])
        .map(|tag| {
            assert_eq!(attribute(tag, "type").as_deref(), Some("hidden"), "{tag}");
            (
                attribute(tag, "name").unwrap(),
                attribute(tag, "value").unwrap(),
            )
        })
        .collect();
    Form {
        method: attribute(open, "method").unwrap(),
        action: attribute(open, "action").unwrap(),
        fields,
    }
}

fn names(form: &Form) -> Vec<&str> {
    form.fields.iter().map(|(name, _)| name.as_str()).collect()
}

#[rocket::async_test]
async fn form_post_posts_code_state_and_iss_to_the_redirect_uri() {
    let issuer = DevIssuer::start().await.unwrap();
    issuer.set_auto_login(Some("ada"));
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &["profile"]);
    let response = http()
        .get(format!("{}&response_mode=form_post", request.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    // Submitted on load; with JavaScript off, by its button.
    assert!(
        html.contains("<body onload=\"document.forms[0].submit()\">"),
        "{html}"
    );
    assert!(html.contains("<noscript>") && html.contains("<button type=\"submit\">"));
    let form = parse_form(&html);
    assert_eq!(
        (form.method.as_str(), form.action.as_str()),
        ("post", REDIRECT_URI)
    );
    assert_eq!(names(&form), ["code", "state", "iss"]);
    assert_eq!(
        param(&form.fields, "state"),
        Some(request.state.secret().as_str())
    );
    assert_eq!(param(&form.fields, "iss"), Some(issuer.issuer_url()));
    // The posted code is a real one.
    let code = param(&form.fields, "code").unwrap();
    exchange(&client, code, request.verifier).await.unwrap();
}

#[rocket::async_test]
async fn form_post_through_the_login_page_and_on_deny() {
    let issuer = DevIssuer::start().await.unwrap();
    let client = default_client(discover(&issuer).await.unwrap());
    for (action, expected) in [
        ("login", vec!["code", "state", "iss"]),
        ("deny", vec!["error", "error_description", "state", "iss"]),
    ] {
        let request = authorization_request(&client, &[]);
        let url = format!("{}&response_mode=form_post", request.url);
        let page = http().get(&url).send().await.unwrap().text().await.unwrap();
        let response = http()
            .post(format!("{}/login", issuer.issuer_url()))
            .form(&[
                ("request_id", request_id(&page).as_str()),
                ("username", "grace"),
                ("action", action),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{action}");
        let form = parse_form(&response.text().await.unwrap());
        assert_eq!(form.action, REDIRECT_URI);
        assert_eq!(names(&form), expected, "{action}");
        assert_eq!(
            param(&form.fields, "state"),
            Some(request.state.secret().as_str())
        );
        if action == "deny" {
            assert_eq!(param(&form.fields, "error"), Some("access_denied"));
        }
    }
}

#[rocket::async_test]
async fn form_post_carries_errors_and_other_modes_are_refused_in_the_query() {
    let issuer = DevIssuer::start().await.unwrap();
    let client = default_client(discover(&issuer).await.unwrap());
    let request = authorization_request(&client, &[]);
    let response = http()
        .get(format!(
            "{}&response_mode=form_post&prompt=none",
            request.url
        ))
        .send()
        .await
        .unwrap();
    let form = parse_form(&response.text().await.unwrap());
    assert_eq!(param(&form.fields, "error"), Some("login_required"));

    for mode in ["fragment", "form_post.jwt", "web_message"] {
        let response = http()
            .get(format!("{}&response_mode={mode}", request.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{mode}");
        let params = location_params(&response);
        assert_eq!(param(&params, "error"), Some("invalid_request"));
        assert_eq!(
            param(&params, "error_description"),
            Some("response_mode must be query or form_post")
        );
    }
}

#[rocket::async_test]
async fn discovery_advertises_form_post() {
    let issuer = DevIssuer::start().await.unwrap();
    let document: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            issuer.issuer_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        document["response_modes_supported"],
        json!(["query", "form_post"])
    );
}
