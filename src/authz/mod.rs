//! Who may see what: [`Rule`]s on claims (`rule.rs`), the requirement guard
//! [`Authorized<R>`] (`guard.rs`), and the 403 / 500 responses of refused requests
//! (`response.rs`).

mod guard;
mod response;
mod rule;
#[cfg(test)]
mod tests;

pub use guard::{Authorized, AuthzError, EmailVerified, Requirement};
pub(crate) use response::register_catchers;
pub use response::{access_denied, AccessDenied};
pub use rule::{ClaimPath, Rule};

/// Declares requirement types for [`Authorized`]: each `Name = rule;` becomes a unit struct
/// implementing [`Requirement`] with that [`Rule`], named `Name` in log lines.
///
/// ```rust
/// # #[macro_use] extern crate rocket;
/// use rocket_openid_connect::{requirement, Authorized, Rule};
///
/// requirement! {
///     /// Members of the `admins` group.
///     pub Admin = Rule::group("admins");
///     /// Keycloak realm role `editor`, or the `editors` group.
///     pub Editor = Rule::role("editor").or(Rule::group("editors"));
/// }
///
/// #[get("/admin")]
/// fn admin(user: Authorized<Admin>) -> &'static str {
///     "admins only"
/// }
/// ```
#[macro_export]
macro_rules! requirement {
    ($($(#[$meta:meta])* $vis:vis $name:ident = $rule:expr;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::Requirement for $name {
            fn rule() -> $crate::Rule {
                $rule
            }

            fn name() -> &'static str {
                stringify!($name)
            }
        }
    )+};
}
