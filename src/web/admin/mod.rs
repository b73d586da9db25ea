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

pub mod texts;

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

fn yes(v: &Option<String>) -> bool {
    v.as_deref() == Some("yes")
}

// ---------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    fresh: Option<String>,
}

/// Starts the sign-in: an authorization request of the console's client to Pforte itself.
async fn login(State(app): State<App>, s: Session, Query(q): Query<LoginQuery>) -> Response {
    if let Err(e) = console_client::ensure_client(&app.db, &app.hasher, &app.config.issuer).await {
        return internal(e);
    }
    let sign_in = SignIn {
        state: secrets::random_token(16),
        nonce: secrets::random_token(16),
        verifier: secrets::new_secret(),
        next: safe_next(q.next.as_deref()),
    };
    if let Err(e) = keys::ADMIN_SIGNIN.insert(&s, &sign_in).await {
        return internal(e);
    }
    let issuer = &app.config.issuer;
    let mut url = url::Url::parse(&format!("{issuer}/authorize")).expect("issuer is a URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", console_client::CLIENT_ID)
        .append_pair("redirect_uri", &console_client::redirect_uri(issuer))
        .append_pair("scope", "openid email")
        .append_pair("state", &sign_in.state)
        .append_pair("nonce", &sign_in.nonce)
        .append_pair("code_challenge", &secrets::pkce_s256(&sign_in.verifier))
        .append_pair("code_challenge_method", "S256")
        .append_pair(
            "acr_values",
            console_client::MIN_LEVEL.acr(crate::assurance::AcrVocabulary::default()),
        )
        .append_pair("max_age", &app.config.admin.max_age_secs.to_string());
    if q.fresh.as_deref() == Some("1") {
        url.query_pairs_mut().append_pair("prompt", "login");
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The end of the sign-in: code exchange in process, ID token verified, roles checked.
async fn callback(
    State(app): State<App>,
    s: Session,
    Query(q): Query<CallbackQuery>,
    parts_uri: axum::http::Uri,
) -> Response {
    let t = keys::ADMIN_LANG.get(&s).await.ok().flatten().as_deref() == Some("en");
    let t = Tr { en: t };
    let c = || C::new(t, parts_uri.path(), &[]);
    let failed = |status: StatusCode, key: &str| {
        message(
            c(),
            status,
            t.get(if status == StatusCode::FORBIDDEN {
                "forbidden"
            } else {
                "bad_request"
            }),
            t.get(key).into(),
            None,
            Some(("/admin/login".into(), t.get("signin_again").into())),
        )
    };
    let sign_in = match keys::ADMIN_SIGNIN.take(&s).await {
        Ok(Some(x)) => x,
        Ok(None) => return failed(StatusCode::BAD_REQUEST, "signin_failed"),
        Err(e) => return internal(e),
    };
    if !q
        .state
        .as_deref()
        .is_some_and(|st| secrets::ct_eq(st.as_bytes(), sign_in.state.as_bytes()))
    {
        return failed(StatusCode::BAD_REQUEST, "signin_failed");
    }
    if let Some(e) = q.error.as_deref() {
        // The login could not reach substantial (or was declined).
        return if e == "unmet_authentication_requirements" || e == "access_denied" {
            failed(StatusCode::FORBIDDEN, "too_weak")
        } else {
            failed(StatusCode::BAD_REQUEST, "signin_failed")
        };
    }
    let Some(code) = q.code else {
        return failed(StatusCode::BAD_REQUEST, "signin_failed");
    };
    let issuer = app.config.issuer.clone();
    let params = match Params::from_pairs(vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code),
        ("redirect_uri".into(), console_client::redirect_uri(&issuer)),
        ("client_id".into(), console_client::CLIENT_ID.into()),
        ("code_verifier".into(), sign_in.verifier.clone()),
    ]) {
        Ok(p) => p,
        Err(_) => return failed(StatusCode::BAD_REQUEST, "signin_failed"),
    };
    let tokens = match crate::oidc::token::token(&app, None, &params).await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e.error_description, "admin console code exchange failed");
            return failed(StatusCode::BAD_REQUEST, "signin_failed");
        }
    };
    let Some(id_token) = tokens.id_token else {
        return failed(StatusCode::BAD_REQUEST, "signin_failed");
    };
    let claims: IdClaims = match crate::tokens::verify(
        &app.keys,
        &id_token,
        &Expect {
            issuer: &issuer,
            typ: &["JWT"],
            check_exp: true,
        },
    )
    .await
    {
        Ok(c) => c,
        Err(_) => return failed(StatusCode::BAD_REQUEST, "signin_failed"),
    };
    if claims.aud != console_client::CLIENT_ID
        || !claims
            .nonce
            .as_deref()
            .is_some_and(|n| secrets::ct_eq(n.as_bytes(), sign_in.nonce.as_bytes()))
    {
        return failed(StatusCode::BAD_REQUEST, "signin_failed");
    }
    let level = claims.acr.as_deref().and_then(Level::from_acr);
    let auth_time = claims.auth_time.unwrap_or(0);
    if let Err(LoginProblem::TooWeak | LoginProblem::Stale) = console_client::check_login(
        level,
        auth_time,
        app.clock.now(),
        app.config.admin.max_age_secs,
        true,
    ) {
        return failed(StatusCode::FORBIDDEN, "too_weak");
    }
    let roles = match admin::roles_of(&app.db, &claims.sub).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let account = match app.db.account_get(&claims.sub).await {
        Ok(Some(a)) => a,
        Ok(None) => return failed(StatusCode::FORBIDDEN, "forbidden_text"),
        Err(e) => return internal(e),
    };
    if roles.is_empty() {
        audit::record_or_log(
            &app.db,
            Entry::new(Event::AdminDenied, Actor::Account(account.id.clone()))
                .fields(json!({ "console": "no staff role" })),
        )
        .await;
        return failed(StatusCode::FORBIDDEN, "forbidden_text");
    }
    let login = StaffLogin {
        account_id: account.id.clone(),
        email: account.email.clone(),
        auth_time,
        level: level.unwrap_or(Level::Low),
    };
    if let Err(e) = s.cycle_id().await {
        return internal(e);
    }
    if let Err(e) = keys::ADMIN_LOGIN.insert(&s, &login).await {
        return internal(e);
    }
    if let Err(e) = audit::record(
        &app.db,
        Entry::new(
            Event::AdminConsoleLogin,
            Actor::Admin(format!("account:{}", account.id)),
        )
        .subject(&account.id)
        .fields(json!({ "roles": roles, "acr": claims.acr, "auth_time": auth_time })),
    )
    .await
    {
        return internal(e);
    }
    Redirect::to(&sign_in.next).into_response()
}

async fn logout(s: Session, CsrfForm(_): CsrfForm<super::csrf::CsrfOnly>) -> Response {
    let _ = session::clear(&s).await;
    Redirect::to("/admin/login").into_response()
}

// ---------------------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    c: C,
}

async fn home(staff: Staff) -> Response {
    page(
        StatusCode::OK,
        HomePage {
            c: staff.c("home", staff.t.get("home")),
        }
        .render(),
    )
}

// ---------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------

struct ServiceRow {
    id: String,
    name: String,
    method: String,
    min_level: &'static str,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage {
    c: C,
    q: String,
    count: String,
    rows: Vec<ServiceRow>,
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn services(State(app): State<App>, staff: Staff, Query(q): Query<SearchQuery>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewServices).await {
        return r;
    }
    let t = staff.t;
    let all = match app.db.client_list().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let needle = q.q.trim().to_lowercase();
    let rows: Vec<ServiceRow> = all
        .iter()
        .filter(|c| {
            needle.is_empty()
                || c.id.to_lowercase().contains(&needle)
                || c.name.to_lowercase().contains(&needle)
        })
        .take(500)
        .map(|c| ServiceRow {
            id: c.id.clone(),
            name: c.name.clone(),
            method: c.token_endpoint_auth_method.to_string(),
            min_level: t.level(c.min_level.unwrap_or(Level::Low)),
            state: t.get(if c.is_enabled() { "active" } else { "disabled" }),
        })
        .collect();
    let count = if t.en {
        format!("{} of {} services", rows.len(), all.len())
    } else {
        format!("{} von {} Diensten", rows.len(), all.len())
    };
    page(
        StatusCode::OK,
        ServicesPage {
            c: staff.c("services", t.get("services")),
            q: q.q,
            count,
            rows,
        }
        .render(),
    )
}

/// The service form's fields, as shown and as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
struct ServiceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    grant_types: String,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    min_level: String,
    #[serde(default)]
    methods: String,
    #[serde(default)]
    upstreams: String,
    first_party: Option<String>,
    confirm: Option<String>,
    #[serde(skip)]
    auth_label: String,
}

impl HasCsrf for ServiceForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl ServiceForm {
    fn of(c: &crate::store::clients::Client) -> ServiceForm {
        ServiceForm {
            id: c.id.clone(),
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            auth: if c.is_public() { "public" } else { "secret" }.into(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            scopes: c.scopes.join(" "),
            min_level: c.min_level.unwrap_or(Level::Low).as_str().into(),
            methods: c
                .login_methods
                .as_ref()
                .map(|m| m.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            upstreams: c
                .upstreams
                .as_ref()
                .map(|u| u.join(" "))
                .unwrap_or_default(),
            first_party: c.first_party.then(|| "yes".into()),
            auth_label: c.token_endpoint_auth_method.to_string(),
            ..ServiceForm::default()
        }
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn to_new(&self) -> Result<NewClient, AdminError> {
        let min_level = Level::parse_name(self.min_level.trim()).ok_or_else(|| {
            AdminError::Invalid("min_level: expected low, substantial or high".into())
        })?;
        Ok(NewClient {
            id: self.id.trim().to_string(),
            name: (!self.name.trim().is_empty()).then(|| self.name.trim().to_string()),
            secret: None,
            redirect_uris: Self::words(&self.redirect_uris),
            post_logout_redirect_uris: Self::words(&self.post_logout_redirect_uris),
            grant_types: Self::words(&self.grant_types),
            scopes: Self::words(&self.scopes),
            min_level: (min_level != Level::Low).then_some(min_level),
            first_party: yes(&self.first_party),
            ..NewClient::default()
        })
    }

    fn methods(&self) -> (Option<Vec<String>>, Option<Vec<String>>) {
        let m = Self::words(&self.methods);
        let u = Self::words(&self.upstreams);
        ((!m.is_empty()).then_some(m), (!u.is_empty()).then_some(u))
    }
}

#[derive(Template)]
#[template(path = "admin/service_form.html")]
struct ServiceFormPage {
    c: C,
    heading: String,
    action: String,
    is_new: bool,
    f: ServiceForm,
    errors: Vec<String>,
    levels: Vec<(&'static str, &'static str)>,
    has_secret: bool,
    disabled: bool,
}

fn level_options(t: Tr) -> Vec<(&'static str, &'static str)> {
    Level::ALL
        .iter()
        .map(|l| (l.as_str(), t.level(*l)))
        .collect()
}

async fn service_new(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ManageServices).await {
        return r;
    }
    let t = staff.t;
    let f = ServiceForm {
        auth: "public".into(),
        grant_types: "authorization_code refresh_token".into(),
        scopes: "openid profile email".into(),
        min_level: "low".into(),
        ..ServiceForm::default()
    };
    page(
        StatusCode::OK,
        ServiceFormPage {
            c: staff.c("services", t.get("service_new")),
            heading: t.get("service_new").into(),
            action: "/admin/services/new".into(),
            is_new: true,
            f,
            errors: vec![],
            levels: level_options(t),
            has_secret: false,
            disabled: false,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
struct SecretPage {
    c: C,
    id: String,
    secret: String,
}

async fn service_create(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<ServiceForm>,
) -> Response {
    if let Err(r) = staff
        .require_change(
            &app,
            Action::ManageServices,
            yes(&f.confirm),
            "/admin/services/new",
        )
        .await
    {
        return r;
    }
    let t = staff.t;
    let result = async {
        let mut n = f.to_new()?;
        let secret = (f.auth == "secret").then(secrets::new_secret);
        n.secret = secret.clone();
        n.subject_type = Some(app.config.tokens.default_subject_type.clone());
        let c = admin::register_client(&app.db, &app.hasher, &staff.actor(), n).await?;
        let (m, u) = f.methods();
        if m.is_some() || u.is_some() {
            admin::set_client_methods(&app.db, &staff.actor(), &c.id, m, u).await?;
        }
        app.clients.invalidate(&c.id);
        Ok::<_, AdminError>((c, secret))
    }
    .await;
    match result {
        Ok((c, Some(secret))) => page(
            StatusCode::OK,
            SecretPage {
                c: staff.c("services", t.get("new_secret")),
                id: c.id,
                secret,
            }
            .render(),
        ),
        Ok((c, None)) => done(&format!("/admin/services/{}", c.id)),
        Err(AdminError::Invalid(m)) => page(
            StatusCode::BAD_REQUEST,
            ServiceFormPage {
                c: staff.c("services", t.get("service_new")),
                heading: t.get("service_new").into(),
                action: "/admin/services/new".into(),
                is_new: true,
                f,
                errors: vec![m],
                levels: level_options(t),
                has_secret: false,
                disabled: false,
            }
            .render(),
        ),
        Err(e) => staff.error(e, "/admin/services/new"),
    }
}

async fn service_edit(State(app): State<App>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewServices).await {
        return r;
    }
    let c = match app.db.client_get(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return staff.error(
                AdminError::NotFound(format!("client `{id}`")),
                "/admin/services",
            )
        }
        Err(e) => return internal(e),
    };
    let t = staff.t;
    page(
        StatusCode::OK,
        ServiceFormPage {
            c: staff.c("services", &c.name),
            heading: c.name.clone(),
            action: format!("/admin/services/{}", c.id),
            is_new: false,
            f: ServiceForm::of(&c),
            errors: vec![],
            levels: level_options(t),
            has_secret: c.secret_hash.is_some(),
            disabled: !c.is_enabled(),
        }
        .render(),
    )
}

async fn service_update(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(mut f): CsrfForm<ServiceForm>,
) -> Response {
    let back = format!("/admin/services/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    f.id = id.clone();
    let result = async {
        let before = app
            .db
            .client_get(&id)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
        let mut n = f.to_new()?;
        // Not on this form: kept as they are.
        n.verified_claims = before.verified_claims;
        n.subject_type = Some(before.subject_type.as_str().to_string());
        admin::update_client(&app.db, &app.hasher, &staff.actor(), n).await?;
        let (m, u) = f.methods();
        let before_m = before
            .login_methods
            .as_ref()
            .map(|m| m.iter().map(|x| x.as_str().to_string()).collect::<Vec<_>>());
        if m != before_m || u != before.upstreams {
            admin::set_client_methods(&app.db, &staff.actor(), &id, m, u).await?;
        }
        app.clients.invalidate(&id);
        Ok::<_, AdminError>(())
    }
    .await;
    match result {
        Ok(()) => done(&back),
        Err(e) => staff.error(e, &back),
    }
}

async fn service_rotate(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let back = format!("/admin/services/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    match admin::rotate_client_secret(&app.db, &app.hasher, &staff.actor(), &id).await {
        Ok(secret) => {
            app.clients.invalidate(&id);
            page(
                StatusCode::OK,
                SecretPage {
                    c: staff.c("services", staff.t.get("new_secret")),
                    id,
                    secret,
                }
                .render(),
            )
        }
        Err(e) => staff.error(e, &back),
    }
}

async fn service_set_disabled(
    app: App,
    staff: Staff,
    id: String,
    f: Confirm,
    disabled: bool,
) -> Response {
    let back = format!("/admin/services/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    match admin::set_client_disabled(&app.db, &staff.actor(), &id, disabled).await {
        Ok(()) => {
            app.clients.invalidate(&id);
            done(&back)
        }
        Err(e) => staff.error(e, &back),
    }
}

async fn service_disable(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    service_set_disabled(app, staff, id, f, true).await
}

async fn service_enable(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    service_set_disabled(app, staff, id, f, false).await
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    c: C,
}

async fn import_page(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ManageServices).await {
        return r;
    }
    page(
        StatusCode::OK,
        ImportPage {
            c: staff.c("services", staff.t.get("import_export")),
        }
        .render(),
    )
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    file: String,
    confirm: Option<String>,
}

impl HasCsrf for ImportForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn import_submit(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<ImportForm>,
) -> Response {
    let back = "/admin/services/import";
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    let result = async {
        let rows = bulk::parse(&f.file, bulk::Format::sniff(&f.file)).map_err(AdminError::Rows)?;
        bulk::import(
            &app.db,
            &app.hasher,
            &staff.actor(),
            &app.config.tokens.default_subject_type,
            rows,
        )
        .await
    }
    .await;
    match result {
        Ok(report) => {
            for id in report.created.iter().chain(&report.updated) {
                app.clients.invalidate(id);
            }
            message(
                staff.c("services", staff.t.get("imported")),
                StatusCode::OK,
                staff.t.get("imported"),
                report.summary(),
                None,
                Some(("/admin/services".into(), staff.t.get("services").into())),
            )
        }
        Err(e) => staff.error(e, back),
    }
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(State(app): State<App>, staff: Staff, Query(q): Query<ExportQuery>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewServices).await {
        return r;
    }
    let csv = q.format.as_deref() == Some("csv");
    let format = if csv {
        bulk::Format::Csv
    } else {
        bulk::Format::Json
    };
    let body = match bulk::export_all(&app.db, format).await {
        Ok(b) => b,
        Err(e) => return internal(e),
    };
    let (ct, name) = if csv {
        (
            "text/csv; charset=utf-8",
            "attachment; filename=\"services.csv\"",
        )
    } else {
        ("application/json", "attachment; filename=\"services.json\"")
    };
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Preview {
    client: String,
    scope: String,
    level: String,
    age: String,
    result: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/policy.html")]
struct PolicyPage {
    c: C,
    levels: Vec<(&'static str, &'static str, u64)>,
    scopes: Vec<(String, &'static str)>,
    pv: Preview,
}

#[derive(Deserialize)]
struct PreviewQuery {
    client: Option<String>,
    scope: Option<String>,
    level: Option<String>,
    age: Option<String>,
}

/// The preview's answer, from the same pure functions a login uses
/// (`Policy::required_level`, `effective_level`).
fn preview_text(
    t: Tr,
    policy: &crate::assurance::policy::Policy,
    client: Option<&crate::store::clients::Client>,
    scopes: &str,
    reached: Level,
    age: u64,
) -> String {
    let required =
        policy.required_level(client.and_then(|c| c.min_level), scopes.split_whitespace());
    let effective =
        crate::assurance::level::effective_level(reached, age, |l| policy.max_age_of(l));
    let (de, en) = match effective {
        Some(e) if e >= required => (
            format!(
                "Zugelassen: Die Anmeldung zählt als „{}“, verlangt ist „{}“.",
                Tr { en: false }.level(e),
                Tr { en: false }.level(required)
            ),
            format!(
                "Allowed: the login counts as “{}”, “{}” is required.",
                Tr { en: true }.level(e),
                Tr { en: true }.level(required)
            ),
        ),
        Some(e) => (
            format!(
                "Höherstufung nötig: Die Anmeldung zählt nur als „{}“, verlangt ist „{}“.",
                Tr { en: false }.level(e),
                Tr { en: false }.level(required)
            ),
            format!(
                "Step-up needed: the login counts only as “{}”, “{}” is required.",
                Tr { en: true }.level(e),
                Tr { en: true }.level(required)
            ),
        ),
        None => (
            "Neue Anmeldung nötig: Die Anmeldung ist für jedes Niveau zu alt.".to_string(),
            "A new login is needed: the login is too old for every level.".to_string(),
        ),
    };
    if t.en {
        en
    } else {
        de
    }
}

async fn policy(State(app): State<App>, staff: Staff, Query(q): Query<PreviewQuery>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewPolicy).await {
        return r;
    }
    let t = staff.t;
    let p = match app.db.policy_load().await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let mut pv = Preview {
        client: q.client.clone().unwrap_or_default(),
        scope: q.scope.clone().unwrap_or_else(|| "openid".into()),
        level: q.level.clone().unwrap_or_else(|| "substantial".into()),
        age: q.age.clone().unwrap_or_else(|| "0".into()),
        result: None,
    };
    if q.level.is_some() {
        let client = match q.client.as_deref().filter(|c| !c.is_empty()) {
            Some(id) => match app.db.client_get(id).await {
                Ok(c) => c,
                Err(e) => return internal(e),
            },
            None => None,
        };
        let level = Level::parse_name(&pv.level).unwrap_or(Level::Low);
        let age = pv.age.trim().parse::<u64>().unwrap_or(0);
        pv.result = Some(preview_text(t, &p, client.as_ref(), &pv.scope, level, age));
    }
    page(
        StatusCode::OK,
        PolicyPage {
            c: staff.c("policy", t.get("policy")),
            levels: Level::ALL
                .iter()
                .map(|l| (l.as_str(), t.level(*l), p.max_age_of(*l)))
                .collect(),
            scopes: p
                .scope_min
                .iter()
                .map(|(s, l)| (s.clone(), t.level(*l)))
                .collect(),
            pv,
        }
        .render(),
    )
}

#[derive(Deserialize)]
struct LevelsForm {
    #[serde(default)]
    csrf: String,
    low: String,
    substantial: String,
    high: String,
    confirm: Option<String>,
}

impl HasCsrf for LevelsForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn policy_levels(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<LevelsForm>,
) -> Response {
    let back = "/admin/policy";
    if let Err(r) = staff
        .require_change(&app, Action::ManagePolicy, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    let result = async {
        let p = app.db.policy_load().await?;
        for (level, text) in [
            (Level::Low, &f.low),
            (Level::Substantial, &f.substantial),
            (Level::High, &f.high),
        ] {
            let secs: u64 = text.trim().parse().map_err(|_| {
                AdminError::Invalid(format!("{}: expected a number of seconds", level.as_str()))
            })?;
            if secs != p.max_age_of(level) {
                admin::set_level_max_age(&app.db, &staff.actor(), level, secs).await?;
            }
        }
        Ok::<_, AdminError>(())
    }
    .await;
    match result {
        Ok(()) => done(back),
        Err(e) => staff.error(e, back),
    }
}

#[derive(Deserialize)]
struct ScopeForm {
    #[serde(default)]
    csrf: String,
    scope: String,
    #[serde(default)]
    min_level: String,
    confirm: Option<String>,
}

impl HasCsrf for ScopeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn policy_scope(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<ScopeForm>,
) -> Response {
    let back = "/admin/policy";
    if let Err(r) = staff
        .require_change(&app, Action::ManagePolicy, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    let level = match f.min_level.as_str() {
        "" => None,
        l => match Level::parse_name(l) {
            Some(l) => Some(l),
            None => return staff.error(AdminError::Invalid(format!("level `{l}`")), back),
        },
    };
    match admin::set_scope_min_level(&app.db, &staff.actor(), f.scope.trim(), level).await {
        Ok(()) => done(back),
        Err(e) => staff.error(e, back),
    }
}

// ---------------------------------------------------------------------------------------
// Signing keys
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    c: C,
    keys: Vec<(String, String, String)>,
}

async fn keys_page(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewKeys).await {
        return r;
    }
    let keys = match app.db.keys_published(app.clock.now()).await {
        Ok(k) => k,
        Err(e) => return internal(e),
    };
    page(
        StatusCode::OK,
        KeysPage {
            c: staff.c("keys", staff.t.get("keys")),
            keys: keys.into_iter().map(|k| (k.kid, k.alg, k.state)).collect(),
        }
        .render(),
    )
}

async fn keys_rotate(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let back = "/admin/keys";
    if let Err(r) = staff
        .require_change(&app, Action::RotateKeys, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    match app.keys.rotate(app.max_token_lifetime()).await {
        Ok(kids) => {
            if let Err(e) = audit::record(
                &app.db,
                Entry::new(Event::KeysRotated, staff.actor()).after(&kids),
            )
            .await
            {
                return internal(e);
            }
            done(back)
        }
        Err(e) => internal(e),
    }
}

// ---------------------------------------------------------------------------------------
// Citizens (help desk)
// ---------------------------------------------------------------------------------------

struct CitizenRow {
    id: String,
    email: String,
    proofing: &'static str,
    state: &'static str,
    verified: &'static str,
    locked: bool,
}

fn citizen_row(t: Tr, a: &crate::store::accounts::Account) -> CitizenRow {
    CitizenRow {
        id: a.id.clone(),
        email: a.email.clone(),
        proofing: t.level(a.proofing_level),
        state: t.get(if a.disabled_at.is_some() {
            "locked"
        } else {
            "active"
        }),
        verified: t.get(if a.email_verified { "yes" } else { "no" }),
        locked: a.disabled_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "admin/citizens.html")]
struct CitizensPage {
    c: C,
    q: String,
    count: String,
    rows: Vec<CitizenRow>,
}

async fn citizens(State(app): State<App>, staff: Staff, Query(q): Query<SearchQuery>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewCitizens).await {
        return r;
    }
    let t = staff.t;
    let needle = q.q.trim();
    let rows = if needle.is_empty() {
        vec![]
    } else {
        match app.db.account_search(needle, 50).await {
            Ok(r) => r.iter().map(|a| citizen_row(t, a)).collect(),
            Err(e) => return internal(e),
        }
    };
    let count = if t.en {
        format!("{} found (at most 50 shown)", rows.len())
    } else {
        format!("{} gefunden (höchstens 50 angezeigt)", rows.len())
    };
    page(
        StatusCode::OK,
        CitizensPage {
            c: staff.c("citizens", t.get("citizens")),
            q: q.q,
            count,
            rows,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "admin/citizen.html")]
struct CitizenPage {
    c: C,
    a: CitizenRow,
    sessions: Vec<(String, String, &'static str, String)>,
}

fn utc(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                d.year(),
                d.month() as u8,
                d.day(),
                d.hour(),
                d.minute()
            )
        })
        .unwrap_or_default()
}

async fn citizen(State(app): State<App>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewCitizens).await {
        return r;
    }
    let t = staff.t;
    let a = match app.db.account_get(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return staff.error(
                AdminError::NotFound(format!("account `{id}`")),
                "/admin/citizens",
            )
        }
        Err(e) => return internal(e),
    };
    let sessions = match app
        .db
        .sso_sessions_of(&a.id, app.config.session.idle_secs as i64)
        .await
    {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    page(
        StatusCode::OK,
        CitizenPage {
            c: staff.c("citizens", &a.email),
            a: citizen_row(t, &a),
            sessions: sessions
                .iter()
                .map(|s| {
                    (
                        utc(s.created_at),
                        utc(s.last_seen_at),
                        t.level(s.level),
                        s.user_agent
                            .clone()
                            .unwrap_or_default()
                            .chars()
                            .take(80)
                            .collect(),
                    )
                })
                .collect(),
        }
        .render(),
    )
}

async fn citizen_change(
    app: &App,
    staff: &Staff,
    id: &str,
    confirmed: bool,
    action: Action,
    f: impl std::future::Future<Output = Result<(), AdminError>>,
) -> Response {
    let back = format!("/admin/citizens/{id}");
    if let Err(r) = staff.require_change(app, action, confirmed, &back).await {
        return r;
    }
    match f.await {
        Ok(()) => done(&back),
        Err(e) => staff.error(e, &back),
    }
}

async fn citizen_lock(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let actor = staff.actor();
    let op = async { admin::lock_account(&app.db, &actor, &id).await.map(|_| ()) };
    citizen_change(&app, &staff, &id, yes(&f.confirm), Action::HelpCitizens, op).await
}

async fn citizen_unlock(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let actor = staff.actor();
    let op = async {
        admin::unlock_account(&app.db, &actor, &id)
            .await
            .map(|_| ())
    };
    citizen_change(&app, &staff, &id, yes(&f.confirm), Action::HelpCitizens, op).await
}

async fn citizen_end_sessions(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let actor = staff.actor();
    let op = async {
        admin::end_account_sessions(&app.db, &actor, &id)
            .await
            .map(|_| ())
    };
    citizen_change(&app, &staff, &id, yes(&f.confirm), Action::HelpCitizens, op).await
}

#[derive(Deserialize)]
struct ProofForm {
    #[serde(default)]
    csrf: String,
    level: String,
    #[serde(default)]
    evidence: String,
    confirm: Option<String>,
}

impl HasCsrf for ProofForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn citizen_proof(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ProofForm>,
) -> Response {
    let actor = staff.actor();
    let op = async {
        let level = Level::parse_name(&f.level)
            .ok_or_else(|| AdminError::Invalid(format!("level `{}`", f.level)))?;
        let a = app
            .db
            .account_get(&id)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("account `{id}`")))?;
        admin::proof_account(&app.db, &actor, &a.email, level, &f.evidence)
            .await
            .map(|_| ())
    };
    citizen_change(
        &app,
        &staff,
        &id,
        yes(&f.confirm),
        Action::ProofCitizens,
        op,
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Audit trail
// ---------------------------------------------------------------------------------------

#[derive(Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    c: C,
    f: AuditQuery,
    count: String,
    rows: Vec<(String, String, String, String, String)>,
}

/// `YYYY-MM-DD` as Unix seconds at 00:00 UTC.
fn day(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

async fn audit_page(State(app): State<App>, staff: Staff, Query(q): Query<AuditQuery>) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewAudit).await {
        return r;
    }
    let t = staff.t;
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let filter = crate::store::audit::AuditFilter {
        actor: opt(&q.actor),
        subject: opt(&q.subject),
        event: opt(&q.event),
        from: day(&q.from),
        to: day(&q.to).map(|d| d + 86_400),
    };
    let csv = q.format.as_deref() == Some("csv");
    let events = match app
        .db
        .audit_search(&filter, if csv { 100_000 } else { 200 })
        .await
    {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    if csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "id",
            "time_utc",
            "unix_time",
            "actor",
            "event",
            "subject",
            "detail",
        ]);
        for e in &events {
            let _ = w.write_record([
                e.id.clone(),
                utc(e.at),
                e.at.to_string(),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone().unwrap_or_default(),
                e.detail.to_string(),
            ]);
        }
        return (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            w.into_inner().unwrap_or_default(),
        )
            .into_response();
    }
    let count = if t.en {
        format!(
            "{} events (newest first, at most 200; the CSV has all)",
            events.len()
        )
    } else {
        format!(
            "{} Ereignisse (neueste zuerst, höchstens 200; die CSV-Datei enthält alle)",
            events.len()
        )
    };
    page(
        StatusCode::OK,
        AuditPage {
            c: staff.c("audit", t.get("audit")),
            rows: events
                .into_iter()
                .map(|e| {
                    (
                        utc(e.at),
                        e.actor,
                        e.action,
                        e.target.unwrap_or_default(),
                        e.detail.to_string().chars().take(400).collect(),
                    )
                })
                .collect(),
            f: q,
            count,
        }
        .render(),
    )
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
