//! The web layer: axum routes, the session and security middleware, and the citizen pages.
//!
//! Handlers are thin: they extract, call `oidc` / `accounts`, and render `pages`.

pub mod account;
pub mod account_data;
pub mod admin;
pub mod authorize;
pub mod client_addr;
pub mod csrf;
pub mod device;
pub mod error;
pub mod i18n;
pub mod info;
pub mod lockout;
pub mod login;
pub mod logout;
pub mod operations;
pub mod pages;
pub mod passkey;
pub mod profile;
pub mod protocol;
pub mod recovery;
pub mod register;
pub mod request_id;
pub mod resilience;
pub mod security;
pub mod security_headers;
pub mod session;
pub mod stepup;
pub mod upstream;

use axum::{
    extract::DefaultBodyLimit,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::app::App;

/// The whole HTTP surface.
pub fn router(app: App) -> Router {
    let cfg = &app.config;
    let sessions = SessionManagerLayer::new(app.sessions.clone())
        .with_name(session_cookie_name(cfg))
        .with_secure(cfg.secure_cookies())
        .with_http_only(true)
        // Lax: the authorization request arrives as a top-level navigation from the client.
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            cfg.session.idle_secs as i64,
        )));

    // Pages that need the single sign-on session.
    let pages = Router::new()
        .route(
            "/authorize",
            get(authorize::authorize).post(authorize::authorize),
        )
        .route("/authorize/continue", get(authorize::resume))
        .route(
            "/login",
            get(authorize::login_page).post(authorize::login_submit),
        )
        .route(
            "/consent",
            get(authorize::consent_page).post(authorize::consent_submit),
        )
        .route("/logout", get(logout::logout).post(logout::logout))
        .route("/account", get(account::account))
        .route(
            "/register",
            get(register::register_page).post(register::register_submit),
        )
        .route("/register/done", get(register::register_done))
        .route(
            "/register/verify",
            get(register::verify).post(register::confirm_submit),
        )
        .route(
            "/register/resend",
            get(register::resend_page).post(register::resend_submit),
        )
        .route("/account/logout", post(logout::account_logout))
        .route(
            "/account/consents/{client_id}/revoke",
            post(account::revoke_consent),
        )
        // The citizen's data: profile, activity, export, deletion (issue 9).
        .route(
            "/account/profile",
            get(profile::profile_page).post(profile::profile_submit),
        )
        .route(
            "/account/sessions/end-others",
            post(account::end_other_sessions),
        )
        .route("/account/activity", get(account_data::activity))
        .route("/account/data", get(account_data::data_page))
        .route("/account/export", post(account_data::export))
        .route("/account/delete", post(account_data::delete))
        // The footer's pages (BITV 2.0).
        .route("/barrierefreiheit", get(info::accessibility))
        .route("/leichte-sprache", get(info::easy_language))
        // Passkeys (WebAuthn) JSON endpoints for static/passkey.js.
        .route(
            "/account/security/passkey/start",
            post(passkey::register_start),
        )
        .route(
            "/account/security/passkey/finish",
            post(passkey::register_finish),
        )
        .route("/stepup/passkey/start", post(passkey::stepup_start))
        .route("/stepup/passkey/finish", post(passkey::stepup_finish))
        // Second factors and step-up (web::security, web::stepup).
        .route("/account/security", get(security::security_page))
        .route(
            "/account/security/totp",
            get(security::totp_page).post(security::totp_submit),
        )
        .route(
            "/account/security/recovery-codes",
            post(security::recovery_regenerate),
        )
        .route(
            "/account/security/credentials/{id}/remove",
            post(security::credential_remove),
        )
        // Recovery, password and e-mail change (web::recovery).
        .route(
            recovery::FORGOT_URL,
            get(recovery::forgot_page).post(recovery::forgot_submit),
        )
        .route(
            recovery::RESET_URL,
            get(recovery::reset_page).post(recovery::reset_submit),
        )
        .route(
            recovery::PASSWORD_URL,
            get(recovery::change_password_page).post(recovery::change_password_submit),
        )
        .route(
            recovery::EMAIL_URL,
            get(recovery::change_email_page).post(recovery::change_email_submit),
        )
        .route(
            recovery::EMAIL_CONFIRM_URL,
            get(recovery::email_confirm_page).post(recovery::email_confirm_submit),
        )
        .route("/stepup", get(stepup::stepup_page))
        .route("/stepup/totp", post(stepup::stepup_totp))
        .route("/stepup/recovery", post(stepup::stepup_recovery))
        .route("/stepup/decline", post(stepup::stepup_decline))
        .route("/stepup/enrol-totp", post(stepup::stepup_enrol_totp))
        // Upstream identity sources (web::upstream).
        .route("/upstream/{id}/start", post(upstream::start))
        .route("/upstream/{id}/callback", get(upstream::callback))
        .route("/upstream/{id}/link", get(upstream::link_confirm))
        .route("/account/links", get(upstream::links_page))
        .route("/account/links/{id}/unlink", post(upstream::unlink))
        .route("/logout/upstream-done", get(upstream::logout_done));
    // Bounded concurrency for the pages (web::resilience); inside the error-page layer, which
    // renders the "try again shortly" page of a refused request.
    let limits = &cfg.limits;
    let pages = resilience::limit(
        pages,
        limits.pages_concurrency,
        limits.retry_after_secs,
        resilience::Answer::Page,
    )
    // Renders `error::PageError` answers with the configured footer links.
    .layer(axum::middleware::from_fn_with_state(
        app.clone(),
        error::render_error_pages,
    ))
    .layer(sessions);

    // Machine endpoints: no session, no cookies.
    let api = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(protocol::discovery),
        )
        .route("/jwks", get(protocol::jwks))
        .route("/token", post(protocol::token))
        .route("/introspect", post(protocol::introspect))
        .route("/revoke", post(protocol::revoke))
        .route(
            "/userinfo",
            get(protocol::userinfo_get).post(protocol::userinfo_post),
        )
        .route(
            "/static/pforte.css",
            get(|| async {
                static_file(
                    "text/css; charset=utf-8",
                    include_str!("../../static/pforte.css"),
                )
            }),
        )
        .route(
            "/static/passkey.js",
            get(|| async {
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../../static/passkey.js"),
                )
            }),
        )
        .route(
            "/static/logo.svg",
            get(|| async { static_file("image/svg+xml", include_str!("../../static/logo.svg")) }),
        )
        .route(
            "/favicon.ico",
            get(|| async {
                static_file("image/svg+xml", include_str!("../../static/favicon.svg"))
            }),
        );
    let api = resilience::limit(
        api,
        limits.protocol_concurrency,
        limits.retry_after_secs,
        resilience::Answer::Json,
    );
    let admin_api = resilience::limit(
        crate::admin::api::router(),
        limits.admin_concurrency,
        limits.retry_after_secs,
        resilience::Answer::Json,
    );
    // Probes and scrapes: never bounded, so they answer under overload.
    let ops = Router::new()
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz))
        .route("/metrics", get(operations::metrics));

    let router = Router::new()
        .merge(pages)
        .merge(api)
        .merge(admin_api)
        // The admin console's pages (its own session and sign-in, web::admin).
        .merge(admin::router(&app))
        .merge(ops)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(DefaultBodyLimit::max(64 * 1024))
        // Counts every answer, limits included, after the database safety net
        // (`resilience::settle`: 503 with Retry-After instead of 500 while the database does not
        // answer).
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            operations::track,
        ))
        // A request id, its span and log line, and the security headers.
        .layer(request_id::EnvelopeLayer::new(
            cfg.trusted_proxies.clone(),
            cfg.secure_cookies(),
        ));
    router.with_state(app)
}

/// The session cookie's name: under an https issuer with the `__Host-` prefix (RFC 6265bis
/// §4.1.3.2: the browser accepts it only with `Secure`, `Path=/` and no `Domain`, so no
/// sibling host or plain-http page can set or shadow it).
pub fn session_cookie_name(cfg: &crate::config::Config) -> String {
    if cfg.secure_cookies() {
        format!("__Host-{}", cfg.session.cookie_name)
    } else {
        cfg.session.cookie_name.clone()
    }
}

/// Whether the request carries the session cookie (a cross-site POST does not: SameSite=Lax).
pub fn has_session_cookie(cfg: &crate::config::Config, headers: &axum::http::HeaderMap) -> bool {
    let name = session_cookie_name(cfg);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|c| c.trim().split_once('=').is_some_and(|(n, _)| n == name))
}

fn static_file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_prefix_under_https_only() {
        let mut cfg = crate::config::Config::default();
        assert_eq!(session_cookie_name(&cfg), "pforte_session");
        cfg.issuer = "https://login.example.de".into();
        assert_eq!(session_cookie_name(&cfg), "__Host-pforte_session");
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::COOKIE, "a=b; pforte_session=x".parse().unwrap());
        assert!(!has_session_cookie(&cfg, &h));
        h.insert(
            header::COOKIE,
            "a=b; __Host-pforte_session=x".parse().unwrap(),
        );
        assert!(has_session_cookie(&cfg, &h));
    }
}
