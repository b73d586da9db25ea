//! The authorization endpoint and the citizen's way through it: login, consent, and the
//! authorization response (query redirect or form post).

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{error::internal, i18n::Lang, pages, protocol::EndpointParams, session};
use crate::{
    accounts::{self, login::Authenticated},
    app::App,
    audit::{self, Actor, Entry, Event},
    metrics::{LoginMethod, LoginOutcome},
    oidc::{
        authorize::{
            flow::{self, AuthResponse, Step},
            ResponseMode,
        },
        error::OAuthError,
        params::Params,
    },
    secrets, throttle,
};

/// The language for a page: the request's `ui_locales`, then Accept-Language.
pub fn lang(headers: &HeaderMap, ui_locales: Option<&str>) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(ui_locales, accept)
}

/// A readable error page (never a redirect).
pub fn error_page(lang: Lang, e: &OAuthError) -> Response {
    super::error::PageError::oauth(e)
        .in_lang(lang)
        .into_response()
}

/// The authorization endpoint, GET and POST (OIDC Core §3.1.2.1).
pub async fn authorize(
    State(app): State<App>,
    s: Session,
    method: axum::http::Method,
    super::client_addr::ClientAddr(addr): super::client_addr::ClientAddr,
    headers: HeaderMap,
    EndpointParams(p): EndpointParams,
) -> Response {
    match p {
        // A form POST from another site carries no session cookie (SameSite=Lax), so answering
        // it here would start a new session and overwrite a citizen's cookie (logging them
        // out). Send it on as a top-level GET with the same parameters instead: that request
        // carries the cookie, and nothing is stored before it.
        Ok(p)
            if method == axum::http::Method::POST
                && !super::has_session_cookie(&app.config, &headers) =>
        {
            Redirect::to(&format!("/authorize?{}", p.to_query())).into_response()
        }
        Ok(p) => {
            let anonymous = (!super::has_session_cookie(&app.config, &headers)).then_some(addr);
            start(&app, &s, &headers, p, anonymous).await
        }
        Err(e) => error_page(lang(&headers, None), &e),
    }
}

/// Validates a new authorization request, parks it in the session and proceeds.
/// `anonymous`: the client address of a request without a session cookie, whose valid
/// request would store a new session row: those are bounded per address, in the database
/// (`throttle::ANON_AUTHORIZE_ADDRESS`).
async fn start(
    app: &App,
    s: &Session,
    headers: &HeaderMap,
    p: Params,
    anonymous: Option<std::net::IpAddr>,
) -> Response {
    let lang = lang(headers, p.get("ui_locales"));
    let req = match flow::accept(app, &p).await {
        Ok(r) => r,
        Err(flow::Refused::Page(e)) => return error_page(lang, &e),
        Err(flow::Refused::Redirect(r)) => return respond(app, lang, r),
    };
    if let Some(addr) = anonymous {
        let key = throttle::address_key("anon-authorize", addr);
        let now = app.clock.now();
        match throttle::reserve(&app.db, &throttle::ANON_AUTHORIZE_ADDRESS, &key, now).await {
            Ok(throttle::Verdict::Allowed { .. }) => {}
            Ok(throttle::Verdict::Locked { until }) => {
                return super::error::PageError::too_many(
                    "too many new sign-in requests from this network; please wait a few minutes",
                    std::time::Duration::from_secs((until - now).max(1) as u64),
                )
                .in_lang(lang)
                .into_response()
            }
            Err(e) => return internal(lang, e),
        }
    }
    let id = match session::park(s, req, app.clock.now()).await {
        Ok(id) => id,
        Err(e) => return internal(lang, e),
    };
    proceed(app, s, lang, &id).await
}

#[derive(Deserialize)]
pub struct ReqQuery {
    pub req: Option<String>,
}

/// Continues a parked request after login or consent.
pub async fn resume(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<ReqQuery>,
) -> Response {
    let lang = lang(&headers, None);
    match q.req {
        Some(id) => proceed(&app, &s, lang, &id).await,
        None => error_page(
            lang,
            &OAuthError::invalid_request("missing request reference"),
        ),
    }
}

/// Runs the decision for a parked request (`oidc::authorize::flow::advance`) and renders it.
pub async fn proceed(app: &App, s: &Session, lang_hint: Lang, id: &str) -> Response {
    let pending = match session::pending(s, id, app.clock.now()).await {
        Ok(Some(p)) => p,
        Ok(None) => return expired_page(lang_hint),
        Err(e) => return internal(lang_hint, e),
    };
    let req = &pending.req;
    let lang = req
        .ui_locales
        .as_deref()
        .and_then(|u| u.split(' ').find_map(Lang::parse))
        .unwrap_or(lang_hint);
    let login = match session::login(&app.db, s).await {
        Ok(l) => l,
        Err(e) => return internal(lang, e),
    };
    match flow::advance(app, req, pending.interaction, login.as_ref()).await {
        Ok(Step::Login) => Redirect::to(&format!("/login?req={id}")).into_response(),
        // The session is too weak but the citizen can reach the level: the step-up page offers
        // the means (second factors now; identity sources with federation).
        Ok(Step::StepUp { target }) => {
            Redirect::to(&format!("/stepup?req={id}&level={target}")).into_response()
        }
        Ok(Step::Consent) => Redirect::to(&format!("/consent?req={id}")).into_response(),
        Ok(Step::Respond(r)) => {
            if let Err(e) = session::finish_pending(s, id).await {
                return internal(lang, e);
            }
            respond(app, lang, r)
        }
        Err(e) => error_page(lang, &e),
    }
}

fn expired_page(lang: Lang) -> Response {
    error_page(
        lang,
        &OAuthError::invalid_request("this login request has expired or was already completed; please start again at the service"),
    )
}

/// Sends an authorization response to its registered redirect URI: a 303 with the fields in
/// the query, or an auto-submitting form (`response_mode=form_post`).
fn respond(app: &App, lang: Lang, r: AuthResponse) -> Response {
    match r.mode {
        ResponseMode::Query => {
            let Ok(mut url) = url::Url::parse(&r.redirect_uri) else {
                return error_page(
                    lang,
                    &OAuthError::invalid_request("the registered redirect_uri is not a valid URL"),
                );
            };
            url.query_pairs_mut().extend_pairs(r.fields.iter());
            // 303 so that a POSTed authorization request is not re-posted to the client.
            (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, url.to_string())],
                (),
            )
                .into_response()
        }
        ResponseMode::FormPost => {
            let nonce = secrets::random_token(16);
            let page = pages::FormPostPage {
                action: r.redirect_uri,
                fields: r.fields,
                lang,
                nonce: nonce.clone(),
            };
            let csp = format!("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
            (
                [
                    (header::CONTENT_SECURITY_POLICY, csp),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                Html(page.render(&app.config.site)),
            )
                .into_response()
        }
    }
}

// --- Login -------------------------------------------------------------------------------

pub async fn login_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<ReqQuery>,
) -> Response {
    let lang = lang(&headers, None);
    render_login(&app, &s, lang, q.req.as_deref(), None, String::new()).await
}

async fn render_login(
    app: &App,
    s: &Session,
    lang_hint: Lang,
    req: Option<&str>,
    error: Option<pages::LoginError>,
    email: String,
) -> Response {
    let pending = match req {
        Some(id) => match session::pending(s, id, app.clock.now()).await {
            Ok(Some(p)) => Some(p),
            Ok(None) => return expired_page(lang_hint),
            Err(e) => return internal(lang_hint, e),
        },
        None => None,
    };
    let lang = pending
        .as_ref()
        .and_then(|p| p.req.ui_locales.as_deref())
        .and_then(|u| u.split(' ').find_map(Lang::parse))
        .unwrap_or(lang_hint);
    let client = match &pending {
        Some(p) => app.db.client_get(&p.req.client_id).await.ok().flatten(),
        None => None,
    };
    let client_name = client.as_ref().map(|c| c.name.clone());
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    // Prefill: what was typed, else the service's login_hint, else the address just
    // registered in this browser.
    let email = if !email.is_empty() {
        email
    } else if let Some(hint) = pending.as_ref().and_then(|p| p.req.login_hint.clone()) {
        hint
    } else {
        super::register::registered_email(s)
            .await
            .unwrap_or_default()
    };
    let req_q = req.map(|r| format!("req={r}&")).unwrap_or_default();
    // Upstream sources the client allows, reaching at least what the request cannot do without.
    let min = match (&pending, &client) {
        (Some(p), Some(c)) => match app.db.policy_load().await {
            Ok(policy) => super::upstream::request_levels(&p.req, c, &policy).0,
            Err(e) => return internal(lang, e),
        },
        _ => crate::assurance::Level::Low,
    };
    let sources = match super::upstream::offered(app, client.as_ref(), min).await {
        Ok(list) => super::upstream::source_forms(
            &list,
            csrf.clone(),
            req.unwrap_or_default(),
            "login",
            None,
        ),
        Err(e) => return internal(lang, e),
    };
    let page = pages::LoginPage {
        lang,
        client_name,
        action: "/login".into(),
        csrf,
        req: req.unwrap_or_default().to_string(),
        email,
        error: error.clone(),
        register_url: req.map_or_else(|| "/register".into(), |r| format!("/register?req={r}")),
        lang_switch: format!("/login?{req_q}"),
        sources,
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

pub async fn login_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    super::client_addr::ClientAddr(addr): super::client_addr::ClientAddr,
    device: super::login::Device,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang(&headers, None);
    let req = (!f.req.is_empty()).then_some(f.req.as_str());
    match session::csrf_ok(&s, &f.csrf).await {
        Ok(true) => {}
        Ok(false) => {
            return render_login(
                &app,
                &s,
                lang,
                req,
                Some(pages::LoginError::CsrfExpired),
                f.email,
            )
            .await
        }
        Err(e) => return internal(lang, e),
    }
    let missing = if f.email.trim().is_empty() {
        Some(pages::LoginField::Email)
    } else if f.password.is_empty() {
        Some(pages::LoginField::Password)
    } else {
        None
    };
    if let Some(field) = missing {
        let error = pages::LoginError::MissingField { field };
        return render_login(&app, &s, lang, req, Some(error), f.email).await;
    }
    let now = app.clock.now();
    let outcome =
        accounts::password_login(&app.db, &app.hasher, &f.email, &f.password, addr, now).await;
    let account = match outcome {
        Ok(accounts::PasswordLogin::Success(a)) => a,
        Ok(accounts::PasswordLogin::Locked { until }) => {
            app.metrics
                .login(LoginMethod::Password, None, LoginOutcome::Failure);
            audit::record_or_log(
                &app.db,
                Entry::new(Event::LoginThrottled, Actor::Anonymous)
                    .address(addr.to_string())
                    .fields(serde_json::json!({ "method": "pwd", "until": until })),
            )
            .await;
            let time = super::lockout::berlin_hhmm(until);
            let mut resp = render_login(
                &app,
                &s,
                lang,
                req,
                Some(pages::LoginError::TooManyAttempts { time }),
                f.email,
            )
            .await;
            if resp.status() == StatusCode::UNAUTHORIZED {
                *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                let wait = (until - now).max(1).to_string();
                if let Ok(v) = axum::http::HeaderValue::from_str(&wait) {
                    resp.headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, v);
                }
            }
            return resp;
        }
        Ok(accounts::PasswordLogin::Failed { lockout_started }) => {
            app.metrics
                .login(LoginMethod::Password, None, LoginOutcome::Failure);
            audit::record_or_log(
                &app.db,
                Entry::new(Event::LoginFailed, Actor::Anonymous)
                    .address(addr.to_string())
                    .fields(serde_json::json!({ "method": "pwd" })),
            )
            .await;
            if lockout_started {
                super::lockout::notify_in_background(&app, &f.email);
            }
            return render_login(
                &app,
                &s,
                lang,
                req,
                Some(pages::LoginError::InvalidCredentials),
                f.email,
            )
            .await;
        }
        Err(accounts::AccountError::Hash(accounts::HashError::Busy)) => {
            app.metrics
                .login(LoginMethod::Password, None, LoginOutcome::Busy);
            return error_page(
                lang,
                &OAuthError::temporarily_unavailable(
                    "too many logins at once; please try again in a moment",
                ),
            );
        }
        Err(e) => return internal(lang, e),
    };
    let proofing = account.proofing_level;
    match super::login::finish(
        &app,
        &s,
        &account.id,
        proofing,
        Authenticated::Password,
        req,
        &device,
    )
    .await
    {
        Ok(done) => Redirect::to(&done.next.url("/account")).into_response(),
        Err(e) => internal(lang, e),
    }
}

// --- Consent -----------------------------------------------------------------------------

pub async fn consent_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<ReqQuery>,
) -> Response {
    let lang_hint = lang(&headers, None);
    let Some(id) = q.req else {
        return expired_page(lang_hint);
    };
    let pending = match session::pending(&s, &id, app.clock.now()).await {
        Ok(Some(p)) => p,
        Ok(None) => return expired_page(lang_hint),
        Err(e) => return internal(lang_hint, e),
    };
    let lang = pending
        .req
        .ui_locales
        .as_deref()
        .and_then(|u| u.split(' ').find_map(Lang::parse))
        .unwrap_or(lang_hint);
    let client = match app.db.client_get(&pending.req.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return expired_page(lang),
        Err(e) => return internal(lang, e),
    };
    let csrf = match session::csrf_token(&s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let page = pages::ConsentPage {
        lang,
        client_name: client.name,
        scopes: pending.req.consent_scopes(),
        action: "/consent".into(),
        csrf,
        req: id,
    };
    Html(page.render(&app.config.site)).into_response()
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub decision: String,
}

pub async fn consent_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<ConsentForm>,
) -> Response {
    let lang = lang(&headers, None);
    match session::csrf_ok(&s, &f.csrf).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                lang,
                &OAuthError::invalid_request(
                    "the form has expired; please start again at the service",
                ),
            )
        }
        Err(e) => return internal(lang, e),
    }
    let t = app.clock.now();
    let (pending, login) = match (
        session::pending(&s, &f.req, t).await,
        session::login(&app.db, &s).await,
    ) {
        (Ok(Some(p)), Ok(Some(l))) => (p, l),
        (Ok(_), Ok(_)) => return expired_page(lang),
        (Err(e), _) | (_, Err(e)) => return internal(lang, e),
    };
    match f.decision.as_str() {
        "allow" => {
            let scopes = pending.req.consent_scopes();
            if let Err(e) = app
                .db
                .consent_grant(&login.account_id, &pending.req.client_id, &scopes, t)
                .await
            {
                return internal(lang, e);
            }
            if let Err(e) = audit::record(
                &app.db,
                Entry::new(
                    Event::ConsentGranted,
                    Actor::Account(login.account_id.to_string()),
                )
                .subject(&pending.req.client_id)
                .fields(serde_json::json!({ "scopes": scopes })),
            )
            .await
            {
                return internal(lang, e);
            }
            if let Err(e) = session::update_pending(&s, &f.req, |i| i.consented = true).await {
                return internal(lang, e);
            }
            Redirect::to(&format!("/authorize/continue?req={}", f.req)).into_response()
        }
        "deny" => {
            if let Err(e) = session::finish_pending(&s, &f.req).await {
                return internal(lang, e);
            }
            let e = OAuthError::access_denied("the citizen declined");
            respond(
                &app,
                lang,
                AuthResponse::error_for(&pending.req, &e, &app.config.issuer),
            )
        }
        _ => error_page(
            lang,
            &OAuthError::invalid_request("decision must be allow or deny"),
        ),
    }
}
