//! The OpenID Connect / OAuth 2.0 protocol: decisions and token issuance, free of HTTP types.
//!
//! One file per endpoint or grant type; the web layer (`web::protocol`) parses the request,
//! calls in here and renders the result.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod fuzz;
pub mod grants;
pub mod introspect;
pub mod issue;
pub mod logout;
pub mod params;
pub mod revoke;
pub mod subject;
pub mod token;
pub mod userinfo;
pub mod verified_claims;

pub use crate::accounts::login::SsoLogin;
