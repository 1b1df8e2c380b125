//! A browser-like HTTP client: a cookie jar per origin (or per host, as real browsers keep
//! cookies), the headers a navigating browser (or a page's `fetch()`) sends, and redirects
//! followed one response at a time.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderValue;
use rocket::serde::json::serde_json::{self, Value};

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    pub set_cookies: Vec<String>,
}

impl Resp {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTP client that keeps cookies per origin and does not follow redirects by itself.
pub struct Browser {
    pub client: reqwest::Client,
    /// origin (or host, see `per_host`) -> (name -> value)
    pub jar: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// Headers a navigating browser sends.
    pub navigate_headers: bool,
    /// One jar per host, whatever the port and scheme: what browsers do (RFC 6265 §8.5,
    /// "cookies do not provide isolation by port"; the `Secure` flag aside). Off by default,
    /// which keeps each test app's cookies apart from its issuer's on the same 127.0.0.1.
    pub per_host: bool,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

pub fn origin_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.origin().ascii_serialization()
}

/// The host of `url`, without scheme and port: the key of a browser's cookie jar.
pub fn host_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.host_str().unwrap_or_default().to_owned()
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            jar: Mutex::new(BTreeMap::new()),
            navigate_headers: true,
            per_host: false,
        }
    }

    /// A browser that keeps cookies per host as real ones do: every port of `127.0.0.1`
    /// (several apps, and the issuer) sees the same cookies.
    pub fn per_host() -> Browser {
        Browser {
            per_host: true,
            ..Browser::new()
        }
    }

    /// The jar `url`'s cookies live in.
    fn jar_key(&self, url: &str) -> String {
        if self.per_host {
            host_of(url)
        } else {
            origin_of(url)
        }
    }

    /// An API client: no HTML in Accept, fetch metadata of a `fetch()` call.
    pub fn api() -> Browser {
        Browser {
            navigate_headers: false,
            ..Browser::new()
        }
    }

    pub fn cookies(&self, url: &str) -> BTreeMap<String, String> {
        self.jar
            .lock()
            .unwrap()
            .get(&self.jar_key(url))
            .cloned()
            .unwrap_or_default()
    }

    pub fn set_cookie(&self, url: &str, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .entry(self.jar_key(url))
            .or_default()
            .insert(name.into(), value.into());
    }

    pub fn remove_cookie(&self, url: &str, name: &str) {
        if let Some(cookies) = self.jar.lock().unwrap().get_mut(&self.jar_key(url)) {
            cookies.remove(name);
        }
    }

    fn cookie_header(&self, url: &str) -> Option<String> {
        let c = self.cookies(url);
        (!c.is_empty()).then(|| {
            c.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// An API client (see [`Browser::api`]) holding a copy of this browser's cookies: what a
    /// page's `fetch()` sends.
    pub fn api_client(&self) -> Browser {
        let api = Browser {
            per_host: self.per_host,
            ..Browser::api()
        };
        *api.jar.lock().unwrap() = self.jar.lock().unwrap().clone();
        api
    }

    /// Sends `req` with the jar's cookies for `url` and this browser's default headers (those
    /// `req` does not set itself, so a test's own `Accept` is the only one sent), and stores
    /// the cookies the answer sets.
    pub async fn request(&self, req: reqwest::RequestBuilder, url: &str) -> Resp {
        let (client, req) = req.build_split();
        let mut req = req.unwrap_or_else(|e| panic!("request to {url} cannot be built: {e}"));
        let defaults: &[(&'static str, &'static str)] = if self.navigate_headers {
            &[
                ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
            ]
        } else {
            &[("accept", "application/json")]
        };
        let headers = req.headers_mut();
        for (name, value) in defaults {
            if !headers.contains_key(*name) {
                headers.insert(*name, HeaderValue::from_static(value));
            }
        }
        if let Some(cookie) = self.cookie_header(url) {
            if !headers.contains_key("cookie") {
                headers.insert("cookie", cookie.parse().unwrap());
            }
        }
        let resp = client
            .execute(req)
            .await
            .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        self.store(url, &set_cookies);
        let body = resp.text().await.unwrap_or_default();
        Resp {
            status,
            url: url.to_owned(),
            headers,
            body,
            set_cookies,
        }
    }

    fn store(&self, url: &str, set_cookies: &[String]) {
        let mut jar = self.jar.lock().unwrap();
        let cookies = jar.entry(self.jar_key(url)).or_default();
        for sc in set_cookies {
            let first = sc.split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            let lower = sc.to_ascii_lowercase();
            let expired =
                lower.contains("max-age=0") || lower.contains("max-age=-") || value.is_empty();
            if expired {
                cookies.remove(name.trim());
            } else {
                cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&self, url: &str) -> Resp {
        self.request(self.client.get(url), url).await
    }

    pub async fn head(&self, url: &str) -> Resp {
        self.request(self.client.head(url), url).await
    }

    pub async fn get_with(&self, url: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.client.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.request(req, url).await
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.post(url).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.request(req, url).await
    }

    /// Follows redirects from `resp` (at most 10), returning every response on the way.
    pub async fn follow(&self, resp: Resp) -> Vec<Resp> {
        let mut chain = vec![resp];
        for _ in 0..10 {
            let last = chain.last().unwrap();
            if !(300..400).contains(&last.status) {
                break;
            }
            let next = url::Url::parse(&last.url)
                .unwrap()
                .join(&last.location().unwrap())
                .unwrap();
            let r = self.get(next.as_str()).await;
            chain.push(r);
        }
        chain
    }

    /// GET `url` and follow redirects; the last response.
    pub async fn visit(&self, url: &str) -> Resp {
        let first = self.get(url).await;
        self.follow(first).await.pop().unwrap()
    }
}
