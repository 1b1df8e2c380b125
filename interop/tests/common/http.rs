//! A browser stand-in over plain HTTP for quick runs: reqwest with redirects followed by hand, a
//! small cookie jar, the fetch-metadata headers a browser sends, and just enough HTML parsing to
//! fill in and post the provider's devInteractions forms.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode, Url};

/// One cookie, keyed as RFC 6265 §5.3 keys them (name, host, path); ports do not count.
#[derive(Clone, Debug)]
struct StoredCookie {
    name: String,
    value: String,
    host: String,
    path: String,
}

/// A response the agent ended on, after following redirects.
#[derive(Debug)]
pub struct Page {
    pub url: Url,
    pub status: StatusCode,
    pub body: String,
    /// Every URL the navigation went through, the final one last.
    pub chain: Vec<Url>,
}

#[derive(Clone, Debug, Default)]
pub struct Form {
    pub id: Option<String>,
    pub action: Option<String>,
    pub method: String,
    /// Inputs with a name, in document order (values HTML-unescaped).
    pub fields: Vec<(String, String)>,
    /// Submit buttons belonging to the form (inside it or with `form="<id>"`).
    pub buttons: Vec<Button>,
}

#[derive(Clone, Debug)]
pub struct Button {
    pub name: Option<String>,
    pub value: Option<String>,
    pub id: Option<String>,
    pub text: String,
}

pub struct Agent {
    client: reqwest::Client,
    jar: Vec<StoredCookie>,
    /// A redirect to a URL starting with this is not followed: the agent returns it as the
    /// page's `url` (status: the redirect's, empty body). For checking the provider alone.
    pub stop_at: Option<String>,
    /// Every URL requested, in order, redirects included.
    pub history: Vec<Url>,
}

const NAVIGATE_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

impl Agent {
    pub fn new() -> Agent {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("reqwest client");
        Agent {
            client,
            jar: Vec::new(),
            stop_at: None,
            history: Vec::new(),
        }
    }

    /// Like typing `url` into the address bar.
    pub async fn navigate(&mut self, url: &str) -> Page {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
        self.request(Method::GET, url, None, None).await
    }

    /// Submits `form` (found on `page`) with its fields, `overrides` replacing or adding fields,
    /// and the named submit `button` if given, as a browser does.
    pub async fn submit(
        &mut self,
        page: &Page,
        form: &Form,
        overrides: &[(&str, &str)],
        button: Option<&Button>,
    ) -> Page {
        let action = match &form.action {
            Some(action) if !action.is_empty() => page
                .url
                .join(action)
                .unwrap_or_else(|e| panic!("bad form action {action}: {e}")),
            _ => page.url.clone(),
        };
        let mut fields = form.fields.clone();
        for (name, value) in overrides {
            fields.retain(|(n, _)| n != name);
            fields.push((name.to_string(), value.to_string()));
        }
        if let Some(Button {
            name: Some(name),
            value,
            ..
        }) = button
        {
            fields.push((name.clone(), value.clone().unwrap_or_default()));
        }
        let body = form_urlencode(&fields);
        if form.method.eq_ignore_ascii_case("get") {
            let mut url = action;
            url.set_query(Some(&body));
            self.request(Method::GET, url, Some(page.url.clone()), None)
                .await
        } else {
            self.request(Method::POST, action, Some(page.url.clone()), Some(body))
                .await
        }
    }

    /// An API call (`Accept: application/json`, no redirects followed): status and body.
    pub async fn get_json(&mut self, url: &str) -> (StatusCode, String) {
        let url = Url::parse(url).expect("url");
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert("sec-fetch-mode", HeaderValue::from_static("cors"));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        if let Some(cookies) = self.cookie_header(&url) {
            headers.insert(
                COOKIE,
                HeaderValue::from_str(&cookies).expect("cookie header"),
            );
        }
        let response = self
            .client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        self.store_cookies(&url, response.headers());
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Is a cookie named `name` stored for `host`?
    pub fn has_cookie(&self, host: &str, name_prefix: &str) -> bool {
        self.jar
            .iter()
            .any(|c| c.host == host && c.name.starts_with(name_prefix))
    }

    /// Sends one request and follows redirects as a browser navigation would (303 and, for
    /// GET/POST, 301/302 turn into GET; 307/308 keep method and body).
    async fn request(
        &mut self,
        mut method: Method,
        mut url: Url,
        initiator: Option<Url>,
        mut body: Option<String>,
    ) -> Page {
        let mut chain = Vec::new();
        // Fetch metadata (Sec-Fetch-Site): "none" for a typed URL; else the weakest relation
        // between the initiator and any URL of the redirect chain.
        let mut site = initiator.as_ref().map(|i| relation(i, &url));
        let origin = initiator.as_ref().map(|i| i.origin().ascii_serialization());
        for _ in 0..20 {
            chain.push(url.clone());
            self.history.push(url.clone());
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static(NAVIGATE_ACCEPT));
            headers.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
            headers.insert("sec-fetch-dest", HeaderValue::from_static("document"));
            headers.insert(
                "sec-fetch-site",
                HeaderValue::from_static(site.unwrap_or("none")),
            );
            if let Some(cookies) = self.cookie_header(&url) {
                headers.insert(
                    COOKIE,
                    HeaderValue::from_str(&cookies).expect("cookie header"),
                );
            }
            let mut request = self.client.request(method.clone(), url.clone());
            if let Some(body) = &body {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                if let Some(origin) = &origin {
                    headers.insert("origin", HeaderValue::from_str(origin).expect("origin"));
                }
                request = request.body(body.clone());
            }
            let response = request
                .headers(headers)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            self.store_cookies(&url, response.headers());
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or_else(|| panic!("{status} from {url} without Location"));
                let next = url
                    .join(location)
                    .unwrap_or_else(|e| panic!("bad Location {location}: {e}"));
                if status != StatusCode::TEMPORARY_REDIRECT
                    && status != StatusCode::PERMANENT_REDIRECT
                {
                    method = Method::GET;
                    body = None;
                }
                if self
                    .stop_at
                    .as_ref()
                    .is_some_and(|s| next.as_str().starts_with(s))
                {
                    chain.push(next.clone());
                    return Page {
                        url: next,
                        status,
                        body: String::new(),
                        chain,
                    };
                }
                if let Some(initiator) = &initiator {
                    site = Some(weakest(
                        site.unwrap_or("same-origin"),
                        relation(initiator, &next),
                    ));
                }
                url = next;
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            return Page {
                url,
                status,
                body,
                chain,
            };
        }
        panic!("more than 20 redirects: {chain:?}");
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?;
        let path = url.path();
        let cookies: Vec<String> = self
            .jar
            .iter()
            .filter(|c| c.host == host && path_matches(path, &c.path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!cookies.is_empty()).then(|| cookies.join("; "))
    }

    fn store_cookies(&mut self, url: &Url, headers: &HeaderMap) {
        let host = url.host_str().unwrap_or_default().to_string();
        for header in headers.get_all(SET_COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            let mut parts = header.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            let mut path = default_path(url.path());
            let mut removed = false;
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                match key.trim().to_ascii_lowercase().as_str() {
                    "path" if val.trim().starts_with('/') => path = val.trim().to_string(),
                    "max-age" => removed |= val.trim().parse::<i64>().is_ok_and(|s| s <= 0),
                    // Removal cookies are dated in the past: koa uses 1970, Rocket a year ago.
                    // Parsing the date is more than this jar needs; Max-Age covers Rocket.
                    "expires" => removed |= val.contains("1970"),
                    _ => {}
                }
            }
            self.jar
                .retain(|c| !(c.name == name && c.host == host && c.path == path));
            if !removed {
                self.jar.push(StoredCookie {
                    name,
                    value,
                    host: host.clone(),
                    path,
                });
            }
        }
    }
}

impl Page {
    /// The page's text: tags dropped, entities decoded, whitespace collapsed.
    pub fn text(&self) -> String {
        let mut text = String::new();
        let mut rest = self.body.as_str();
        // Drop <style> and <script> contents before the tags.
        while let Some(start) = rest.find('<') {
            text.push_str(&rest[..start]);
            text.push(' ');
            let after = &rest[start..];
            let lower = after.get(..8).unwrap_or(after).to_ascii_lowercase();
            let close = if lower.starts_with("<style") {
                after.find("</style>").map(|i| i + 8)
            } else if lower.starts_with("<script") {
                after.find("</script>").map(|i| i + 9)
            } else {
                after.find('>').map(|i| i + 1)
            };
            match close {
                Some(end) => rest = &after[end..],
                None => {
                    rest = "";
                }
            }
        }
        text.push_str(rest);
        unescape(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The HTML forms on the page.
    pub fn forms(&self) -> Vec<Form> {
        let html = self.body.as_str();
        let lower = html.to_ascii_lowercase();
        let mut forms = Vec::new();
        let mut at = 0;
        while let Some(start) = lower[at..].find("<form").map(|i| i + at) {
            let (attributes, tag_end) = tag_attributes(html, start);
            let end = lower[tag_end..]
                .find("</form>")
                .map_or(html.len(), |i| i + tag_end);
            let inner = &html[tag_end..end];
            let mut form = Form {
                id: attr(&attributes, "id"),
                action: attr(&attributes, "action"),
                method: attr(&attributes, "method").unwrap_or_else(|| "get".into()),
                ..Form::default()
            };
            for (tag, attributes, text) in elements(inner, &["input", "button"]) {
                if attributes.iter().any(|(k, _)| k == "form") {
                    continue; // Owned by the form it names; collected below.
                }
                add_control(&mut form, &tag, &attributes, text);
            }
            forms.push(form);
            at = end;
        }
        // Controls outside a form that name it with `form="id"` (the provider's logout page).
        for (tag, attributes, text) in elements(html, &["input", "button"]) {
            let Some(owner) = attr(&attributes, "form") else {
                continue;
            };
            if let Some(form) = forms.iter_mut().find(|f| f.id.as_deref() == Some(&owner)) {
                add_control(form, &tag, &attributes, text);
            }
        }
        forms
    }

    /// The form whose action contains `action_part`.
    pub fn form_with_action(&self, action_part: &str) -> Form {
        self.forms()
            .into_iter()
            .find(|f| f.action.as_deref().is_some_and(|a| a.contains(action_part)))
            .unwrap_or_else(|| {
                panic!(
                    "no form with action containing {action_part:?} at {}:\n{}",
                    self.url, self.body
                )
            })
    }

    /// Is there an `<a href="{href}">`?
    pub fn has_link(&self, href: &str) -> bool {
        elements(&self.body, &["a"])
            .iter()
            .any(|(_, attributes, _)| attr(attributes, "href").as_deref() == Some(href))
    }

    /// Does the page have an element with this `id`?
    pub fn has_id(&self, id: &str) -> bool {
        self.body.contains(&format!("id=\"{id}\"")) || self.body.contains(&format!("id='{id}'"))
    }
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The submit button whose text or value contains `label`.
    pub fn button(&self, label: &str) -> &Button {
        self.buttons
            .iter()
            .find(|b| {
                b.text.contains(label) || b.value.as_deref().is_some_and(|v| v.contains(label))
            })
            .unwrap_or_else(|| panic!("no button {label:?} in {self:?}"))
    }
}

fn add_control(form: &mut Form, tag: &str, attributes: &[(String, String)], text: String) {
    let kind = attr(attributes, "type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if tag == "button" || kind == "submit" {
        if kind != "button" && kind != "reset" {
            form.buttons.push(Button {
                name: attr(attributes, "name"),
                value: attr(attributes, "value"),
                id: attr(attributes, "id"),
                text,
            });
        }
    } else if let Some(name) = attr(attributes, "name") {
        if kind != "checkbox" || attributes.iter().any(|(k, _)| k == "checked") {
            form.fields
                .push((name, attr(attributes, "value").unwrap_or_default()));
        }
    }
}

/// An element's tag name, attributes, and inner text (up to its closing tag, if any).
type Element = (String, Vec<(String, String)>, String);

/// Elements named in `tags`, in document order.
fn elements(html: &str, tags: &[&str]) -> Vec<Element> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find('<').map(|i| i + at) {
        let name: String = lower[start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let (attributes, tag_end) = tag_attributes(html, start);
        if tags.contains(&name.as_str()) {
            let close = format!("</{name}>");
            let text = match name.as_str() {
                "input" => String::new(),
                _ => lower[tag_end..]
                    .find(&close)
                    .map(|i| unescape(html[tag_end..tag_end + i].trim()))
                    .unwrap_or_default(),
            };
            found.push((name, attributes, text));
        }
        at = tag_end.max(start + 1);
    }
    found
}

/// Parses the attributes of the tag opening at `start`; returns them and the index after `>`.
fn tag_attributes(html: &str, start: usize) -> (Vec<(String, String)>, usize) {
    let bytes = html.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let mut attributes = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return (attributes, bytes.len());
        }
        if bytes[i] == b'>' {
            return (attributes, i + 1);
        }
        let name_start = i;
        while i < bytes.len() && !b"=> \t\r\n/".contains(&bytes[i]) {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let value_start = i + 1;
                i = value_start;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                value = unescape(&html[value_start..i.min(bytes.len())]);
                i += 1;
            } else {
                let value_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = unescape(&html[value_start..i]);
            }
        }
        attributes.push((name, value));
    }
}

fn attr(attributes: &[(String, String)], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Decodes the character references that HTML templates emit.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ if entity.starts_with("#x") || entity.starts_with("#X") => {
                u32::from_str_radix(&entity[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if entity.starts_with('#') => entity[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub fn form_urlencode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// RFC 6265 §5.1.4 default-path.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => request_path[..i].into(),
    }
}

/// RFC 6265 §5.1.4 path-match.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// Fetch metadata's relation of `target` to `initiator`. Hosts stand in for sites: the suite
/// uses `localhost` and `127.0.0.1`, which are different sites.
fn relation(initiator: &Url, target: &Url) -> &'static str {
    if initiator.origin() == target.origin() {
        "same-origin"
    } else if initiator.scheme() == target.scheme() && initiator.host_str() == target.host_str() {
        "same-site"
    } else {
        "cross-site"
    }
}

fn weakest(a: &'static str, b: &'static str) -> &'static str {
    let rank = |s: &str| match s {
        "same-origin" => 0,
        "same-site" => 1,
        _ => 2,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

impl Page {
    /// The form that posts the given `prompt` (devInteractions: "login" or "consent").
    pub fn prompt_form(&self, prompt: &str) -> Option<Form> {
        self.forms()
            .into_iter()
            .find(|f| f.field("prompt") == Some(prompt))
    }
}

/// On the provider's devInteractions login page: signs in as `login` (any password works) and
/// grants consent if asked. Returns the page the flow ends on (back at the app, or where
/// `stop_at` stopped it).
pub async fn sign_in_at_provider(agent: &mut Agent, page: Page, login: &str) -> Page {
    let form = page.prompt_form("login").unwrap_or_else(|| {
        panic!(
            "expected the provider's login page, got {} {}:\n{}",
            page.status,
            page.url,
            page.text()
        )
    });
    let mut page = agent
        .submit(
            &page,
            &form,
            &[("login", login), ("password", super::provider::PASSWORD)],
            None,
        )
        .await;
    if let Some(consent) = page.prompt_form("consent") {
        page = agent.submit(&page, &consent, &[], None).await;
    }
    page
}
