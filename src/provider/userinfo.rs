//! The userinfo endpoint (OpenID Connect Core 1.0 §5.3).

use rocket::serde::json::serde_json::{Map, Value};

use super::Provider;
use crate::error::{Endpoint, LoginError};
use crate::util;

impl Provider {
    /// Fetches userinfo with a Bearer header (RFC 6750 §2.1) and checks its `sub` (OIDC Core
    /// §5.3.2).
    pub(crate) async fn userinfo(
        &self,
        access_token: &str,
        subject: &str,
    ) -> Result<Option<Map<String, Value>>, LoginError> {
        let Some(endpoint) = self.metadata.userinfo_endpoint.as_deref() else {
            return Ok(None);
        };
        let resp = self
            .http
            .get(endpoint, Some(access_token))
            .await
            .map_err(|source| LoginError::Unreachable {
                endpoint: Endpoint::Userinfo,
                source,
            })?;
        if !resp.is_success() {
            return Err(LoginError::UserInfo(format!("HTTP {}", resp.status)));
        }
        if resp
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/jwt"))
        {
            return Err(LoginError::UserInfo(
                "signed or encrypted userinfo responses are not supported; configure the \
                 client at the provider to return plain JSON"
                    .into(),
            ));
        }
        let claims: Map<String, Value> = resp
            .json()
            .map_err(|e| LoginError::UserInfo(e.to_string()))?;
        match claims.get("sub") {
            Some(Value::String(sub)) if util::constant_time_eq(sub, subject) => Ok(Some(claims)),
            Some(Value::String(_)) => Err(LoginError::UserInfo(
                "the userinfo `sub` differs from the ID token's `sub`".into(),
            )),
            _ => Err(LoginError::UserInfo(
                "the userinfo response has no string `sub`".into(),
            )),
        }
    }
}
