//! The issuer's in-memory state: directory, faults, counters and issued grants.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;

use super::counters::Counters;
use super::directory::{DevClient, DevUser};
use super::faults::Faults;
use super::form_post::ResponseMode;
use super::options::{Options, Tenants};

/// How long a login page stays usable.
const PENDING_LIFETIME: Duration = Duration::from_secs(600);

/// Shared between the [`DevIssuer`](super::DevIssuer) handle and the Rocket handlers.
pub(crate) struct Inner {
    /// `http://127.0.0.1:PORT`, set at liftoff.
    pub issuer: OnceLock<String>,
    pub code_lifetime: Duration,
    pub token_lifetime: Duration,
    pub options: Options,
    /// The multi-tenant mode, if on (set before the issuer starts).
    pub tenants: Option<Tenants>,
    state: Mutex<State>,
}

impl Inner {
    pub fn new(
        clients: Vec<DevClient>,
        users: Vec<DevUser>,
        code_lifetime: Duration,
        token_lifetime: Duration,
    ) -> Inner {
        let mut state = State::default();
        for client in clients {
            state.clients.insert(client.client_id.clone(), client);
        }
        state.users = users;
        Inner {
            issuer: OnceLock::new(),
            code_lifetime,
            token_lifetime,
            options: Options::default(),
            tenants: None,
            state: Mutex::new(state),
        }
    }

    /// The issuer URL (empty before liftoff, when no request can arrive anyway).
    pub fn issuer(&self) -> &str {
        self.issuer.get().map(String::as_str).unwrap_or("")
    }

    /// Locks the state. A panic while holding the lock cannot leave it inconsistent in a way
    /// that matters for a development server, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Everything mutable.
#[derive(Default)]
pub(crate) struct State {
    pub clients: HashMap<String, DevClient>,
    pub users: Vec<DevUser>,
    pub faults: Faults,
    pub auto_login: Option<String>,
    /// `(client_id, jti)` of the `private_key_jwt` assertions seen, with their `exp` (RFC 7523
    /// §3 item 7: replay protection).
    pub client_assertion_jtis: HashMap<(String, String), u64>,
    pub counters: Counters,
    /// Authorization requests waiting for the login form, by opaque id.
    pub pending: HashMap<String, Pending>,
    pub codes: HashMap<String, CodeGrant>,
    pub access_tokens: HashMap<String, AccessGrant>,
    pub refresh_tokens: HashMap<String, Grant>,
    /// Refresh tokens consumed by rotation, for reuse detection.
    pub consumed_refresh: HashMap<String, Consumed>,
    /// Refresh tokens of revoked grants, so that a refresh with one still counts for its grant.
    pub revoked_refresh: HashMap<String, Grant>,
    next_grant_id: u64,
}

impl State {
    /// Finds a user by `preferred_username`, `sub` or `email`.
    pub fn user(&self, name: &str) -> Option<&DevUser> {
        self.users
            .iter()
            .find(|u| u.preferred_username == name)
            .or_else(|| self.users.iter().find(|u| u.sub == name || u.email == name))
    }

    pub fn add_pending(&mut self, pending: Pending) -> String {
        self.pending
            .retain(|_, p| p.created.elapsed() < PENDING_LIFETIME);
        let id = random_token();
        self.pending.insert(id.clone(), pending);
        id
    }

    pub fn add_code(&mut self, code: CodeGrant) -> String {
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        let id = random_token();
        self.codes.insert(id.clone(), code);
        id
    }

    pub fn new_grant_id(&mut self) -> u64 {
        self.next_grant_id += 1;
        self.next_grant_id
    }

    /// Records an access token (opaque or JWT).
    pub fn insert_access_token(&mut self, token: String, grant: AccessGrant) {
        let now = Instant::now();
        self.access_tokens.retain(|_, t| t.expires > now);
        self.access_tokens.insert(token, grant);
    }

    pub fn add_refresh_token(&mut self, grant: Grant) -> String {
        let token = random_token();
        self.refresh_tokens.insert(token.clone(), grant);
        token
    }
}

/// An authorization request shown as a login page.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub login_hint: Option<String>,
    pub response_mode: ResponseMode,
    pub created: Instant,
}

/// What a user granted a client: shared by codes, access and refresh tokens.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// Groups the tokens of one login (RFC 7009 §2.1: revoking a refresh token revokes the
    /// access tokens of the same grant).
    pub id: u64,
    pub client_id: String,
    pub sub: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub auth_time: u64,
    /// The login's session id (`sid`, Back-Channel Logout 1.0 §2.1).
    pub sid: String,
}

/// An authorization code, one-time and short-lived.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub grant: Grant,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires: Instant,
}

/// An opaque access token.
#[derive(Debug, Clone)]
pub(crate) struct AccessGrant {
    pub grant: Grant,
    pub expires: Instant,
}

/// A refresh token consumed by rotation.
#[derive(Debug, Clone)]
pub(crate) struct Consumed {
    pub grant: Grant,
    pub at: Instant,
    /// Whether the grace period's one extra use is spent.
    pub grace_used: bool,
}

/// 32 random bytes, base64url: 43 characters.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
