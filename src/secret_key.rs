//! The launch warning for a public `secret_key`: the development key of the `Rocket.toml` this
//! repository ships for the quickstart, used outside the debug profile.
//!
//! The `secret_key` encrypts and authenticates every session cookie, so whoever knows it can
//! forge a session for any user. The shipped key is in a public repository: fine for `cargo
//! run --example quickstart` on a laptop (its `[debug]` profile), and a forged-session hole
//! anywhere else. Rocket itself refuses to start outside debug without a key, and warns about
//! the key of its own documentation, but cannot know this one. A warning rather than a refusal:
//! a staging or load-test profile on a laptop is legitimate, and the line says exactly what to
//! change.

use rocket::config::SecretKey;
use rocket::figment::Figment;

/// The `secret_key` of the `[debug]` profile of the shipped `Rocket.toml`: public.
const PUBLIC_DEVELOPMENT_KEY: &str =
    "PQe9lHGsjAmKyAtSyRMg2WmdeoYnZg3HgRzkfDzzTzYJQqtvDXxEfWCqi0D3ng7E3cnZcXDK9mzfglbdBImUJA==";

/// What to log when `figment` selects a profile other than `debug` and its `secret_key` is the
/// public development key; `None` otherwise (also when the key is absent or unreadable, which
/// Rocket reports itself).
pub(crate) fn public_key_warning(figment: &Figment) -> Option<String> {
    let profile = figment.profile();
    if profile == rocket::Config::DEBUG_PROFILE {
        return None;
    }
    let key: SecretKey = figment.extract_inner(rocket::Config::SECRET_KEY).ok()?;
    let public: SecretKey = rocket::figment::value::Value::from(PUBLIC_DEVELOPMENT_KEY)
        .deserialize()
        .ok()?;
    // `SecretKey`'s comparison is constant-time.
    (key == public).then(|| {
        format!(
            "secret_key is the public development key from the example Rocket.toml, and the \
             profile is `{profile}`: anyone can forge a session for any user. Generate a key \
             of your own (`openssl rand -base64 64`) and set it as ROCKET_SECRET_KEY, or in \
             [{profile}] of your Rocket.toml."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figment(profile: &str, key: &str) -> Figment {
        rocket::Config::figment()
            .merge(("secret_key", key))
            .select(profile)
    }

    #[test]
    fn the_public_key_is_named_outside_debug_only() {
        let warning = public_key_warning(&figment("release", PUBLIC_DEVELOPMENT_KEY)).unwrap();
        assert!(warning.contains("profile is `release`"), "{warning}");
        assert!(warning.contains("ROCKET_SECRET_KEY"), "{warning}");
        assert!(!warning.contains(PUBLIC_DEVELOPMENT_KEY), "{warning}");
        assert!(public_key_warning(&figment("staging", PUBLIC_DEVELOPMENT_KEY)).is_some());
        assert_eq!(
            public_key_warning(&figment("debug", PUBLIC_DEVELOPMENT_KEY)),
            None
        );
    }

    #[test]
    fn other_keys_and_no_key_say_nothing() {
        let own = "8Xui8SN4mI+7egV/9dlfYYLGQJeEx4+DwmSQLwDVXJg6Bi2nKvHVJ9XxKgGyEPrt1jeYDPpr3DUX8wN4h9tM6A==";
        assert_eq!(public_key_warning(&figment("release", own)), None);
        assert_eq!(
            public_key_warning(&rocket::Config::figment().select("release")),
            None
        );
    }

    #[test]
    fn the_key_is_the_one_rocket_toml_ships() {
        let toml = include_str!("../Rocket.toml");
        assert!(
            toml.contains(&format!("secret_key = \"{PUBLIC_DEVELOPMENT_KEY}\"")),
            "update PUBLIC_DEVELOPMENT_KEY to the key in Rocket.toml"
        );
    }
}
