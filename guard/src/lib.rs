//! # pforte-guard
//!
//! The relying-party side of Pforte for axum 0.8 / tower services: validate Pforte's JWT
//! access tokens and demand an assurance level, with step-up per RFC 9470.
//!
//! - **Validation** (RFC 9068 §4): header `typ` `at+jwt`; `alg` one of RS256, ES256, EdDSA
//!   (never `none`, never HMAC); signature against the issuer's JWKS (discovered from
//!   `{issuer}/.well-known/openid-configuration`, cached by `kid`, refreshed on an unknown
//!   `kid` at most every 10 s and in the background after 15 min); `iss` exactly the issuer;
//!   `aud` containing the audience; `exp`/`nbf` with 30 s leeway; `iat`, `sub`, `client_id`,
//!   `jti` present. See [`Guard`].
//! - **Claims for handlers**: the [`AccessToken`] extractor (derefs to [`Claims`]). A request
//!   without a token gets `401` with a bare `WWW-Authenticate: Bearer` (RFC 6750 §3.1); an
//!   invalid one `401 … error="invalid_token"`.
//! - **Assurance levels**: [`Level`] `Low < Substantial < High`, read from `acr` in the eIDAS,
//!   BSI TR-03130 or STORK vocabulary ([`Level::from_acr`]). Demand one with the
//!   [`RequireLevel`] layer, with [`AccessToken::require`] inline, or decide yourself with
//!   [`check_level`]. A token that falls short gets the RFC 9470 §3 challenge
//!   `401 … error="insufficient_user_authentication", acr_values="…"[, max_age="…"]` so the
//!   client can send the citizen back to Pforte to step up.
//!
//! ## Example
//!
//! ```no_run
//! use std::time::Duration;
//! use axum::{extract::Path, routing::post, Extension, Router};
//! use pforte_guard::{AccessToken, Guard, Level, Rejection, RequireLevel};
//!
//! async fn reserve(token: AccessToken) -> String {
//!     format!("reserved for {}", token.sub)
//! }
//!
//! async fn pay(token: AccessToken, Path(id): Path<u32>) -> String {
//!     // RequireLevel already refused anything below substantial.
//!     format!("reservation {id} paid by {}", token.sub)
//! }
//!
//! async fn cancel(token: AccessToken, Path(id): Path<u32>) -> Result<String, Rejection> {
//!     // Decide inline: cancelling needs a login of at most ten minutes ago.
//!     token.require_fresh(Level::Low, Duration::from_secs(600))?;
//!     Ok(format!("reservation {id} cancelled"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let guard = Guard::builder("https://pforte.example.de", "wunschkennzeichen")
//!     .realm("wunschkennzeichen")
//!     .build()?;
//! guard.prefetch().await?; // optional: fail at start-up, not on the first request
//!
//! let app: Router = Router::new()
//!     .route("/reservations", post(reserve))
//!     .route(
//!         "/reservations/{id}/payment",
//!         post(pay).route_layer(RequireLevel::new(Level::Substantial)),
//!     )
//!     .route("/reservations/{id}/cancel", post(cancel))
//!     .layer(Extension(guard));
//! # let _ = app; Ok(()) }
//! ```
//!
//! ## What a token must carry
//!
//! Header: `typ: "at+jwt"`, `alg` (RS256/ES256/EdDSA), `kid` (may be left out only if the
//! JWKS has a single key for that `alg`). Claims: `iss`, `sub`, `aud`, `client_id`, `exp`,
//! `iat`, `jti` (RFC 9068 §2.2), and for level demands `acr` and (for `max_age`) `auth_time`.
//!
//! Tokens are never logged; refusals are logged at `debug` with their reason only.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod axum;
mod challenge;
mod guard;
mod jwks;
mod level;
mod validate;

pub use crate::axum::{
    bearer_token, AccessToken, Reason, Rejection, RequireLevel, RequireLevelService,
};
pub use crate::challenge::{insufficient_scope, ShortBy, StepUp};
pub use crate::guard::{
    ConfigError, Guard, GuardBuilder, DEFAULT_LEEWAY, DEFAULT_MAX_CACHE_AGE,
    DEFAULT_MIN_REFRESH_INTERVAL,
};
pub use crate::jwks::JwksError;
pub use crate::level::{check_level, AcrVocabulary, Level};
pub use crate::validate::{Claims, TokenError};
