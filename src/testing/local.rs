//! The walks over `rocket::local::asynchronous::Client`: requests dispatched in-process, the
//! cookies kept by the client itself (it must be tracked).

use rocket::http::{ContentType, Header};
use rocket::local::asynchronous::Client;

use super::sealed::Driver;
use super::sealed::{App, Reply};
use super::TestingError;
use crate::state::OidcState;

#[rocket::async_trait]
impl Driver for Client {
    fn app(&self) -> Result<App, TestingError> {
        self.rocket()
            .state::<OidcState>()
            .map(App::of)
            .ok_or(TestingError::NotConfigured)
    }

    async fn send(
        &self,
        post_form: Option<&[(&str, &str)]>,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, TestingError> {
        let mut req = match post_form {
            None => self.get(path_and_query.to_owned()),
            Some(form) => {
                let body: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish();
                self.post(path_and_query.to_owned())
                    .header(ContentType::Form)
                    .body(body)
            }
        };
        for (name, value) in headers {
            req = req.header(Header::new(name.to_string(), value.to_string()));
        }
        let resp = req.dispatch().await;
        let status = resp.status().code;
        let location = resp.headers().get_one("Location").map(str::to_owned);
        let body = resp.into_string().await.unwrap_or_default();
        Ok(Reply {
            status,
            location,
            body,
        })
    }

    fn has_session_cookie(&self) -> bool {
        let Some(state) = self.rocket().state::<OidcState>() else {
            return false;
        };
        let name = state.cookie_options().session_name(0);
        self.cookies().get(&name).is_some()
    }
}
