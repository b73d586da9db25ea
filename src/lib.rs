//! Pforte: identity and citizen-account single sign-on for German municipalities.
//!
//! An OpenID Connect provider whose every token says how sure the identity is (assurance
//! level, eIDAS / BSI TR-03107). Module map (dependencies point downwards):
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | the command line of `docs/contract.md` |
//! | [`server`] | binding, TLS, graceful shutdown |
//! | [`web`] | axum routes, session, security headers, citizen pages, i18n |
//! | [`oidc`] | protocol decisions per endpoint and grant type, free of HTTP types |
//! | [`tokens`] | token contents, JWS signing, the key ring and its rotation |
//! | [`assurance`] | levels, their vocabularies, the level function, the policy |
//! | [`accounts`] | citizens, credentials, password hashing |
//! | [`upstream`] | identity sources: profiles, trust, acr mapping |
//! | [`admin`] | client registration, policy changes, admin HTTP API |
//! | [`store`] | SQL on SQLite and PostgreSQL |
//! | [`config`] | typed configuration from TOML and environment |
//! | [`metrics`] | the Prometheus registry and the typed recording functions |
//! | [`readiness`] | what `/readyz` checks and its verdict |

pub mod accounts;
pub mod admin;
pub mod app;
pub mod assurance;
pub mod audit;
pub mod backchannel;
pub mod cli;
pub mod clock;
pub mod config;
pub mod core;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod readiness;
pub mod secrets;
pub mod server;
pub mod sessions;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod upstream;
pub mod web;

pub use app::App;
pub use config::Config;
