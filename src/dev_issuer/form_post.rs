//! `response_mode=form_post` (OAuth 2.0 Form Post Response Mode): the authorization response
//! as an HTML form that the browser POSTs to the client's `redirect_uri`.

use rocket::http::Status;

use super::reply::{escape, Reply};

/// How the authorization response reaches the client (OAuth 2.0 Multiple Response Type Encoding
/// Practices §2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    /// Parameters in the query of a 303 to the `redirect_uri`: the default for `code`.
    #[default]
    Query,
    /// An auto-submitting form POSTed to the `redirect_uri` (Form Post Response Mode §2).
    FormPost,
}

impl ResponseMode {
    /// The mode the `response_mode` parameter asks for, `None` for one the issuer does not offer
    /// (`fragment`, JARM's `*.jwt`, anything else).
    pub fn parse(value: Option<&str>) -> Option<ResponseMode> {
        match value {
            None | Some("query") => Some(ResponseMode::Query),
            Some("form_post") => Some(ResponseMode::FormPost),
            Some(_) => None,
        }
    }
}

/// The form of Form Post Response Mode §2 (modelled on the example in §5.1): one hidden input per
/// parameter, submitted on load; with JavaScript off, the `<noscript>` button submits it.
/// `no-store`, as it carries a code (RFC 6749 §4.1.2 codes are single-use secrets).
pub(crate) fn form_post_page(redirect_uri: &str, params: &[(&str, &str)]) -> Reply {
    let mut inputs = String::new();
    for (name, value) in params {
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Submit this form · development issuer</title></head>\n\
         <body onload=\"document.forms[0].submit()\">\n\
         <form method=\"post\" action=\"{action}\">\n{inputs}\
         <noscript><p>JavaScript is off: press the button to return to the application.</p>\
         <button type=\"submit\">Continue</button></noscript>\n</form>\n</body></html>\n",
        action = escape(redirect_uri),
    );
    Reply::html(Status::Ok, body).no_store()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_modes() {
        assert_eq!(ResponseMode::parse(None), Some(ResponseMode::Query));
        assert_eq!(
            ResponseMode::parse(Some("query")),
            Some(ResponseMode::Query)
        );
        assert_eq!(
            ResponseMode::parse(Some("form_post")),
            Some(ResponseMode::FormPost)
        );
        assert_eq!(ResponseMode::parse(Some("fragment")), None);
        assert_eq!(ResponseMode::parse(Some("form_post.jwt")), None);
    }
}
