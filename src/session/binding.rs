//! What a session must be bound to, to be a provider's ([`SessionBinding`]): the guard checks
//! every session's ID token against the binding of the provider the session names.

use std::sync::Arc;

#[cfg(any(test, feature = "internals"))]
use crate::config::Config;
use crate::config::ProviderName;
use crate::provider::IssuerPolicy;

/// What a session must be bound to, to be this provider's: its issuer (policy) and client id,
/// and its name and issuer for [`ProviderInfo`](crate::ProviderInfo). Built once per provider: the guard's check
/// borrows it and allocates nothing for it.
pub struct SessionBinding {
    pub(crate) name: ProviderName,
    pub(crate) policy: IssuerPolicy,
    pub(crate) client_id: String,
    /// The issuer's text, shared by every [`ProviderInfo`](crate::ProviderInfo) of this
    /// provider.
    pub(crate) issuer: Arc<str>,
}

impl SessionBinding {
    /// The binding of provider `name` with this issuer policy and client id.
    pub(crate) fn new(name: ProviderName, policy: IssuerPolicy, client_id: &str) -> SessionBinding {
        let issuer = match &policy {
            IssuerPolicy::Exact(issuer) => Arc::from(issuer.as_str()),
            IssuerPolicy::Tenant(t) => Arc::from(t.as_str()),
        };
        SessionBinding {
            name,
            policy,
            client_id: client_id.to_owned(),
            issuer,
        }
    }

    /// The binding of the one provider of `config` (no provider tables), whose `iss` is exactly
    /// `config.issuer`: for the benches and tests.
    #[cfg(any(test, feature = "internals"))]
    pub fn of(config: &Config) -> SessionBinding {
        SessionBinding::new(
            ProviderName::DEFAULT_NAME,
            IssuerPolicy::Exact(config.issuer.clone()),
            &config.client_id,
        )
    }
}
