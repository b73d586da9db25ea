//! The admin console at `{issuer}/admin/`: HTML pages for staff, German and English, without
//! JavaScript. Handlers extract, check the staff member's role with `admin::roles::allowed`,
//! call the same `admin` functions as the CLI and the API (validation and audit live there),
//! and render `templates/admin/`.
//!
//! Owns: the console's own session (cookie `<session cookie>_admin`, `Path=/admin`, HttpOnly,
//! `SameSite=Strict`, Secure under https), the sign-in through Pforte itself as the first-party
//! client `admin::console::CLIENT_ID` (authorization code + PKCE, nonce, `max_age` from
//! `admin.max_age_secs`, at least substantial: the ID token is verified in process), the
//! [`Staff`] extractor (roles re-read from the database on every request, so a revoke counts
//! at once), the confirmation checkbox and CSRF token of every change, and the freshness rule
//! for changes (an older login is sent to log in again with `prompt=login`).

mod audit_trail;
mod citizens;
mod policy;
mod services;
mod signin;
mod signing_keys;
mod sources;
pub mod texts;

use self::{
    audit_trail::*, citizens::*, policy::*, services::*, signin::*, signing_keys::*, sources::*,
};

use askama::Template;
use axum::{
    extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::{cookie::SameSite, Expiry, Session, SessionManagerLayer};

use self::texts::Tr;
use super::{
    csrf::{CsrfForm, HasCsrf},
    session::{self, keys},
};
use crate::{
    admin::{
        self, bulk,
        console::{self as console_client, LoginProblem},
        roles::{self, Action, Role},
        AdminError, NewClient,
    },
    app::App,
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    oidc::params::Params,
    secrets,
    tokens::{claims::IdClaims, Expect},
};

/// A console sign-in in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignIn {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

/// The staff member signed in to the console. Roles are not kept here: they are read per
/// request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaffLogin {
    pub account_id: String,
    pub email: String,
    pub auth_time: i64,
    pub level: Level,
}

/// A secret to show once (kept for the type registry in `web::session::keys`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShowOnce {
    pub client_id: String,
}

/// The console's routes, with the console's own session layer.
pub fn router(app: &App) -> Router<App> {
    let cfg = &app.config;
    let sessions = SessionManagerLayer::new(app.sessions.clone())
        .with_name(format!("{}_admin", cfg.session.cookie_name))
        .with_secure(cfg.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/admin")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            cfg.session.idle_secs as i64,
        )));
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/") }))
        .route("/admin/", get(home))
        .route("/admin/login", get(login))
        .route("/admin/callback", get(callback))
        .route("/admin/logout", post(logout))
        .route("/admin/services", get(services))
        .route("/admin/services/new", get(service_new).post(service_create))
        .route(
            "/admin/services/import",
            get(import_page)
                .post(import_submit)
                .layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/admin/services/export", get(export))
        .route(
            "/admin/services/{id}",
            get(service_edit).post(service_update),
        )
        .route("/admin/services/{id}/secret", post(service_rotate))
        .route("/admin/services/{id}/disable", post(service_disable))
        .route("/admin/services/{id}/enable", post(service_enable))
        .route("/admin/policy", get(policy))
        .route("/admin/policy/levels", post(policy_levels))
        .route("/admin/policy/scopes", post(policy_scope))
        .route("/admin/keys", get(keys_page))
        .route("/admin/keys/rotate", post(keys_rotate))
        .route("/admin/citizens", get(citizens))
        .route("/admin/citizens/{id}", get(citizen))
        .route("/admin/citizens/{id}/lock", post(citizen_lock))
        .route("/admin/citizens/{id}/unlock", post(citizen_unlock))
        .route(
            "/admin/citizens/{id}/end-sessions",
            post(citizen_end_sessions),
        )
        .route("/admin/citizens/{id}/proof", post(citizen_proof))
        .route("/admin/citizens/{id}/roles/{op}", post(citizen_role))
        .route("/admin/sources", get(sources))
        .route("/admin/sources/new", get(source_new).post(source_create))
        .route("/admin/sources/{id}", get(source_edit).post(source_update))
        .route("/admin/sources/{id}/{state}", post(source_state))
        .route("/admin/audit", get(audit_page))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            super::error::render_error_pages,
        ))
        .layer(sessions)
        .route(
            "/admin/static/admin.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    include_str!("../../../static/admin.css"),
                )
            }),
        )
}

// ---------------------------------------------------------------------------------------
// Layout, answers
// ---------------------------------------------------------------------------------------

/// What `templates/admin/base.html` shows around every page.
pub struct C {
    t: Tr,
    lang: &'static str,
    title: String,
    switch_href: String,
    other_lang: &'static str,
    other_lang_name: &'static str,
    who: Option<String>,
    roles: String,
    section: &'static str,
    csrf: String,
    flash: Option<String>,
    can_services: bool,
    can_manage_services: bool,
    can_policy: bool,
    can_manage_policy: bool,
    can_keys: bool,
    can_rotate: bool,
    can_citizens: bool,
    can_help: bool,
    can_proof: bool,
    can_audit: bool,
    can_staff: bool,
}

impl C {
    fn new(t: Tr, path: &str, roles: &[Role]) -> C {
        let can = |a| roles::allowed(roles, a);
        C {
            t,
            lang: t.code(),
            title: String::new(),
            switch_href: format!("{path}?lang={}", if t.en { "de" } else { "en" }),
            other_lang: if t.en { "de" } else { "en" },
            other_lang_name: if t.en { "Deutsch" } else { "English" },
            who: None,
            roles: roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            section: "home",
            csrf: String::new(),
            flash: None,
            can_services: can(Action::ViewServices),
            can_manage_services: can(Action::ManageServices),
            can_policy: can(Action::ViewPolicy),
            can_manage_policy: can(Action::ManagePolicy),
            can_keys: can(Action::ViewKeys),
            can_rotate: can(Action::RotateKeys),
            can_citizens: can(Action::ViewCitizens),
            can_help: can(Action::HelpCitizens),
            can_proof: can(Action::ProofCitizens),
            can_audit: can(Action::ViewAudit),
            can_staff: can(Action::ManageStaff),
        }
    }
}

fn page(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(html) => (
            status,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            ],
            html,
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    super::error::PageError::internal(e).into_response()
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage {
    c: C,
    heading: String,
    text: String,
    detail: Option<Vec<String>>,
    link: Option<(String, String)>,
}

fn message(
    mut c: C,
    status: StatusCode,
    heading: &str,
    text: String,
    detail: Option<Vec<String>>,
    link: Option<(String, String)>,
) -> Response {
    c.title = heading.to_string();
    page(
        status,
        MessagePage {
            c,
            heading: heading.into(),
            text,
            detail,
            link,
        }
        .render(),
    )
}

/// A staff member signed in to the console with at least one role.
pub struct Staff {
    pub login: StaffLogin,
    pub roles: Vec<Role>,
    pub t: Tr,
    csrf: String,
    path: String,
    flash: bool,
}

fn lang_of(parts: &Parts) -> Option<bool> {
    let q = parts.uri.query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v == "en")
}

async fn console_tr(s: &Session, parts: &Parts) -> Result<Tr, Response> {
    let en = match lang_of(parts) {
        Some(en) => {
            keys::ADMIN_LANG
                .insert(s, &(if en { "en" } else { "de" }).to_string())
                .await
                .map_err(internal)?;
            en
        }
        None => keys::ADMIN_LANG.get(s).await.map_err(internal)?.as_deref() == Some("en"),
    };
    Ok(Tr { en })
}

impl FromRequestParts<App> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let s = Session::from_request_parts(parts, app)
            .await
            .map_err(|(_, m)| internal(m))?;
        let t = console_tr(&s, parts).await?;
        let path = parts.uri.path().to_string();
        let Some(login) = keys::ADMIN_LOGIN.get(&s).await.map_err(internal)? else {
            let next = if parts.method == axum::http::Method::GET {
                parts.uri.path_and_query().map_or("/admin/", |p| p.as_str())
            } else {
                "/admin/"
            };
            return Err(
                Redirect::to(&format!("/admin/login?next={}", urlencoding(next))).into_response(),
            );
        };
        let account = app
            .db
            .account_get(&login.account_id)
            .await
            .map_err(internal)?;
        let roles = admin::roles_of(&app.db, &login.account_id)
            .await
            .map_err(internal)?;
        if account.is_none_or(|a| a.disabled_at.is_some()) || roles.is_empty() {
            // A revoked role or a locked account ends console access at once.
            let _ = session::clear(&s).await;
            return Err(message(
                C::new(t, &path, &[]),
                StatusCode::FORBIDDEN,
                t.get("forbidden"),
                t.get("forbidden_text").into(),
                None,
                None,
            ));
        }
        let csrf = session::csrf_token(&s).await.map_err(internal)?;
        let flash = parts.uri.query().is_some_and(|q| q.contains("done=1"));
        Ok(Staff {
            login,
            roles,
            t,
            csrf,
            path,
            flash,
        })
    }
}

impl Staff {
    fn actor(&self) -> Actor {
        Actor::Admin(format!("account:{}", self.login.account_id))
    }

    fn c(&self, section: &'static str, title: &str) -> C {
        let mut c = C::new(self.t, &self.path, &self.roles);
        c.who = Some(self.login.email.clone());
        c.section = section;
        c.title = title.to_string();
        c.csrf = self.csrf.clone();
        c.flash = self.flash.then(|| self.t.get("changed").to_string());
        c
    }

    /// 403 unless a role allows `action` (audited as `admin.denied`).
    async fn require(&self, app: &App, action: Action) -> Result<(), Response> {
        if roles::allowed(&self.roles, action) {
            return Ok(());
        }
        audit::record_or_log(
            &app.db,
            Entry::new(Event::AdminDenied, self.actor()).fields(
                json!({ "action": format!("{action:?}"), "path": self.path, "roles": self.roles }),
            ),
        )
        .await;
        Err(message(
            self.c("home", self.t.get("forbidden")),
            StatusCode::FORBIDDEN,
            self.t.get("forbidden"),
            self.t.get("forbidden_text").into(),
            None,
            None,
        ))
    }

    /// For a change: the role, the confirmation checkbox, and a login no older than
    /// `admin.max_age_secs` (else: log in again, then come back to `back`).
    async fn require_change(
        &self,
        app: &App,
        action: Action,
        confirmed: bool,
        back: &str,
    ) -> Result<(), Response> {
        self.require(app, action).await?;
        match console_client::check_login(
            Some(self.login.level),
            self.login.auth_time,
            app.clock.now(),
            app.config.admin.max_age_secs,
            true,
        ) {
            Ok(()) => {}
            Err(_) => {
                return Err(Redirect::to(&format!(
                    "/admin/login?fresh=1&next={}",
                    urlencoding(back)
                ))
                .into_response())
            }
        }
        if !confirmed {
            return Err(message(
                self.c("home", self.t.get("bad_request")),
                StatusCode::BAD_REQUEST,
                self.t.get("bad_request"),
                self.t.get("confirm_missing").into(),
                None,
                Some((back.to_string(), self.t.get("back").into())),
            ));
        }
        Ok(())
    }

    /// An `admin` function's error as a page.
    fn error(&self, e: AdminError, back: &str) -> Response {
        let t = self.t;
        let (status, heading, text, detail) = match e {
            AdminError::Invalid(m) => (StatusCode::BAD_REQUEST, t.get("bad_request"), m, None),
            AdminError::Account(a) => (
                StatusCode::BAD_REQUEST,
                t.get("bad_request"),
                a.to_string(),
                None,
            ),
            AdminError::NotFound(m) => (StatusCode::NOT_FOUND, t.get("not_found"), m, None),
            AdminError::Rows(rows) => (
                StatusCode::BAD_REQUEST,
                t.get("import_failed"),
                String::new(),
                Some(rows.iter().map(ToString::to_string).collect()),
            ),
            AdminError::Store(e) => return internal(e),
        };
        message(
            self.c("home", heading),
            status,
            heading,
            text,
            detail,
            Some((back.to_string(), t.get("back").into())),
        )
    }
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Only console paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin/") && !n.starts_with("//") && !n.contains('\\') => {
            n.into()
        }
        _ => "/admin/".into(),
    }
}

fn done(path: &str) -> Response {
    Redirect::to(&format!("{path}?done=1")).into_response()
}

/// A form with the confirmation checkbox and the CSRF token only.
#[derive(Deserialize)]
struct Confirm {
    #[serde(default)]
    csrf: String,
    confirm: Option<String>,
}

impl HasCsrf for Confirm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The search box of the services and citizens lists (`?q=`).
#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn yes(v: &Option<String>) -> bool {
    v.as_deref() == Some("yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/admin/services?q=x")),
            "/admin/services?q=x"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/admin/");
        assert_eq!(safe_next(Some("//evil.example/admin/")), "/admin/");
        assert_eq!(safe_next(Some("/admin/\\evil")), "/admin/");
        assert_eq!(safe_next(None), "/admin/");
    }

    #[test]
    fn days_parse_as_utc_midnight() {
        assert_eq!(day("1970-01-02"), Some(86_400));
        assert_eq!(day("gestern"), None);
    }
}
