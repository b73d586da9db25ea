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

use super::{i18n::Lang, pages, protocol::EndpointParams, session};
use crate::{
    accounts,
    app::App,
    assurance::{level, AcrVocabulary, Level},
    oidc::{
        authorize::{self, AuthRequest, Facts, Next, ResponseMode},
        error::OAuthError,
        params::Params,
        SsoLogin,
    },
    secrets,
    store::{
        clients::Client,
        grants::{AuthContext, CodeRecord},
        now,
    },
    tokens::{self, claims::IdClaims, Expect},
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

fn internal(lang: Lang, e: impl std::fmt::Display) -> Response {
    super::error::PageError::internal(e)
        .in_lang(lang)
        .into_response()
}

/// The authorization endpoint, GET and POST (OIDC Core §3.1.2.1).
pub async fn authorize(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    EndpointParams(p): EndpointParams,
) -> Response {
    match p {
        Ok(p) => start(&app, &s, &headers, p).await,
        Err(e) => error_page(lang(&headers, None), &e),
    }
}

/// Validates a new authorization request, parks it in the session and proceeds.
async fn start(app: &App, s: &Session, headers: &HeaderMap, p: Params) -> Response {
    let lang = lang(headers, p.get("ui_locales"));
    let client = match p.get("client_id") {
        Some(id) => match app.db.client_get(id).await {
            Ok(c) => c,
            Err(e) => return internal(lang, e),
        },
        None => None,
    };
    let redirect_uri = match authorize::resolve_client(&p, client.as_ref()) {
        Ok(r) => r,
        Err(authorize::PageError(e)) => return error_page(lang, &e),
    };
    let Some(client) = client else {
        return error_page(lang, &OAuthError::invalid_request("unknown client"));
    };
    let hint = match p.get("id_token_hint") {
        None => Ok(None),
        Some(h) => {
            let expect = Expect {
                issuer: &app.config.issuer,
                typ: &["JWT"],
                check_exp: false,
            };
            match tokens::verify::<IdClaims>(&app.keys, h, &expect).await {
                Ok(c) if c.aud == client.id => Ok(Some(c.sub)),
                Ok(_) => Err("issued to another client".to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    let req = match authorize::validate(&p, &client, redirect_uri, hint) {
        Ok(r) => r,
        Err(e) => {
            return respond(
                app,
                lang,
                &e.redirect_uri,
                e.response_mode,
                error_fields(&e.error, e.state.as_deref(), &app.config.issuer),
            )
        }
    };
    let id = match session::park(s, req, now()).await {
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

/// Runs the decision for a parked request and carries it out.
pub async fn proceed(app: &App, s: &Session, lang_hint: Lang, id: &str) -> Response {
    let t = now();
    let pending = match session::pending(s, id, t).await {
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
    let client = match app.db.client_get(&req.client_id).await {
        Ok(Some(c)) if c.is_enabled() => c,
        Ok(_) => {
            return error_page(
                lang,
                &OAuthError::invalid_request("the client is no longer registered"),
            )
        }
        Err(e) => return internal(lang, e),
    };
    let login = match session::login(s).await {
        Ok(l) => l,
        Err(e) => return internal(lang, e),
    };
    // A disabled account's session no longer counts.
    let account = match &login {
        Some(l) => match app.db.account_get(&l.account_id).await {
            Ok(a) => a.filter(|a| a.disabled_at.is_none()),
            Err(e) => return internal(lang, e),
        },
        None => None,
    };
    let login = login.filter(|_| account.is_some());
    let consent = match &login {
        Some(l) => match app.db.consent_get(&l.account_id, &client.id).await {
            Ok(c) => c.map(|c| c.scopes),
            Err(e) => return internal(lang, e),
        },
        None => None,
    };
    let reachable = match &account {
        Some(a) => match app.db.credentials_of(&a.id).await {
            Ok(creds) => {
                let mut enrolled = accounts::enrolled_methods(a, &creds);
                enrolled.retain(|m| client.offers_method(m.policy_name()));
                accounts::reachable_level(a, &enrolled)
            }
            Err(e) => return internal(lang, e),
        },
        None => Level::Low,
    };
    // Read per decision: a policy change (CLI, another instance) applies to the very next request.
    let policy = match crate::oidc::policy::load(&app.db).await {
        Ok(p) => p,
        Err(e) => return internal(lang, e),
    };
    // The session's level never exceeds what the account's proofing allows now (a proofing
    // lowered by an admin applies to live sessions at once).
    let proofing = account
        .as_ref()
        .and_then(|a| Level::parse_name(&a.proofing_level))
        .unwrap_or(Level::Low);
    let view = login.as_ref().map(|l| {
        let mut v = l.view();
        v.level = v.level.min(proofing);
        v
    });
    let next = authorize::decide(
        req,
        &Facts {
            client: &client,
            session: view.as_ref(),
            consented_scopes: consent.as_deref(),
            policy: &policy,
            reachable,
            interaction: pending.interaction,
            now: t,
        },
    );
    match next {
        Next::Login => Redirect::to(&format!("/login?req={id}")).into_response(),
        // The session is too weak but the citizen can reach the level: the step-up page offers
        // the means (second factors now; identity sources with federation).
        Next::StepUp { target } => {
            Redirect::to(&format!("/stepup?req={id}&level={target}")).into_response()
        }
        Next::Consent => Redirect::to(&format!("/consent?req={id}")).into_response(),
        Next::Error(e) => {
            let _ = session::finish_pending(s, id).await;
            respond(
                app,
                lang,
                &req.redirect_uri,
                req.response_mode,
                error_fields(&e, req.state.as_deref(), &app.config.issuer),
            )
        }
        Next::Issue { level } => {
            let Some(login) = login else {
                return internal(lang, "issue without login");
            };
            match issue_code(app, req, &client, &login, level).await {
                Ok(code) => {
                    let _ = session::finish_pending(s, id).await;
                    let mut fields = vec![("code".to_string(), code)];
                    if let Some(st) = &req.state {
                        fields.push(("state".into(), st.clone()));
                    }
                    // RFC 9207: identify the issuer in the authorization response.
                    fields.push(("iss".into(), app.config.issuer.clone()));
                    respond(app, lang, &req.redirect_uri, req.response_mode, fields)
                }
                Err(e) => error_page(lang, &e),
            }
        }
    }
}

fn expired_page(lang: Lang) -> Response {
    error_page(
        lang,
        &OAuthError::invalid_request("this login request has expired or was already completed; please start again at the service"),
    )
}

/// Creates and stores a code for the request, carrying the login's level in the client's vocabulary.
async fn issue_code(
    app: &App,
    req: &AuthRequest,
    client: &Client,
    login: &SsoLogin,
    level: Level,
) -> Result<String, OAuthError> {
    let code = secrets::new_secret();
    let t = now();
    let vocab = AcrVocabulary::parse(&client.acr_vocabulary).unwrap_or_default();
    app.db
        .code_insert(&CodeRecord {
            code_hash: secrets::hash_secret(&code),
            grant_id: secrets::random_token(16),
            client_id: client.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            code_challenge_method: req.code_challenge_method.clone(),
            ctx: AuthContext {
                account_id: login.account_id.clone(),
                scope: req.scope_string(),
                claims: req.claims.clone(),
                auth_time: login.auth_time,
                acr: level.acr(vocab).to_string(),
                amr: serde_json::to_string(&level::amr(&login.methods))
                    .unwrap_or_else(|_| "[]".into()),
                sid: login.sid.clone(),
            },
            created_at: t,
            expires_at: t + app.config.tokens.code_ttl as i64,
        })
        .await?;
    Ok(code)
}

fn error_fields(e: &OAuthError, state: Option<&str>, issuer: &str) -> Vec<(String, String)> {
    let mut f = vec![
        ("error".to_string(), e.error.to_string()),
        ("error_description".to_string(), e.error_description.clone()),
    ];
    if let Some(s) = state {
        f.push(("state".into(), s.to_string()));
    }
    f.push(("iss".into(), issuer.to_string()));
    f
}

/// Sends the authorization response to a registered redirect URI.
fn respond(
    app: &App,
    lang: Lang,
    redirect_uri: &str,
    mode: ResponseMode,
    fields: Vec<(String, String)>,
) -> Response {
    match mode {
        ResponseMode::Query => {
            let Ok(mut url) = url::Url::parse(redirect_uri) else {
                return error_page(
                    lang,
                    &OAuthError::invalid_request("the registered redirect_uri is not a valid URL"),
                );
            };
            url.query_pairs_mut().extend_pairs(fields.iter());
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
                action: redirect_uri.to_string(),
                fields,
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
        Some(id) => match session::pending(s, id, now()).await {
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
    let client_name = match &pending {
        Some(p) => app
            .db
            .client_get(&p.req.client_id)
            .await
            .ok()
            .flatten()
            .map(|c| c.name),
        None => None,
    };
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
    if f.email.trim().is_empty() {
        return render_login(
            &app,
            &s,
            lang,
            req,
            Some(pages::LoginError::MissingField {
                field: pages::LoginField::Email,
            }),
            f.email,
        )
        .await;
    }
    if f.password.is_empty() {
        return render_login(
            &app,
            &s,
            lang,
            req,
            Some(pages::LoginError::MissingField {
                field: pages::LoginField::Password,
            }),
            f.email,
        )
        .await;
    }
    let account = match accounts::authenticate(&app.db, &app.hasher, &f.email, &f.password).await {
        Ok(a) => a,
        Err(accounts::AccountError::Hash(accounts::HashError::Busy)) => {
            return error_page(
                lang,
                &OAuthError::temporarily_unavailable(
                    "too many logins at once; please try again in a moment",
                ),
            )
        }
        Err(e) => return internal(lang, e),
    };
    let Some(account) = account else {
        let _ = app
            .db
            .audit(
                "anonymous",
                "login.failed",
                None,
                serde_json::json!({ "method": "pwd" }),
            )
            .await;
        return render_login(
            &app,
            &s,
            lang,
            req,
            Some(pages::LoginError::InvalidCredentials),
            f.email,
        )
        .await;
    };
    let methods = vec![level::Method::Password];
    let proofing = Level::parse_name(&account.proofing_level).unwrap_or(Level::Low);
    let reached = level::login_level(&level::LoginFacts {
        proofing,
        methods: methods.clone(),
        upstream: None,
    })
    .unwrap_or(Level::Low);
    let login = SsoLogin {
        account_id: account.id.clone(),
        auth_time: now(),
        methods,
        level: reached,
        sid: secrets::random_token(16),
    };
    if let Err(e) = session::set_login(&s, &login).await {
        return internal(lang, e);
    }
    let _ = app
        .db
        .audit(
            &format!("account:{}", account.id),
            "login.succeeded",
            Some(&account.id),
            serde_json::json!({ "method": "pwd", "level": reached }),
        )
        .await;
    match req {
        Some(id) => {
            if let Err(e) = session::update_pending(&s, id, |i| i.logged_in = true).await {
                return internal(lang, e);
            }
            Redirect::to(&format!("/authorize/continue?req={id}")).into_response()
        }
        None => Redirect::to("/account").into_response(),
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
    let pending = match session::pending(&s, &id, now()).await {
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
        scopes: pending.req.scopes.clone(),
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
    let t = now();
    let (pending, login) = match (
        session::pending(&s, &f.req, t).await,
        session::login(&s).await,
    ) {
        (Ok(Some(p)), Ok(Some(l))) => (p, l),
        (Ok(_), Ok(_)) => return expired_page(lang),
        (Err(e), _) | (_, Err(e)) => return internal(lang, e),
    };
    match f.decision.as_str() {
        "allow" => {
            if let Err(e) = app
                .db
                .consent_grant(
                    &login.account_id,
                    &pending.req.client_id,
                    &pending.req.scopes,
                    t,
                )
                .await
            {
                return internal(lang, e);
            }
            let _ = app
                .db
                .audit(
                    &format!("account:{}", login.account_id),
                    "consent.granted",
                    Some(&pending.req.client_id),
                    serde_json::json!({ "scopes": pending.req.scopes }),
                )
                .await;
            if let Err(e) = session::update_pending(&s, &f.req, |i| i.consented = true).await {
                return internal(lang, e);
            }
            Redirect::to(&format!("/authorize/continue?req={}", f.req)).into_response()
        }
        "deny" => {
            let _ = session::finish_pending(&s, &f.req).await;
            let e = OAuthError::access_denied("the citizen declined");
            respond(
                &app,
                lang,
                &pending.req.redirect_uri,
                pending.req.response_mode,
                error_fields(&e, pending.req.state.as_deref(), &app.config.issuer),
            )
        }
        _ => error_page(
            lang,
            &OAuthError::invalid_request("decision must be allow or deny"),
        ),
    }
}
