//! Step-up: a citizen whose session is below what a request needs reaches the level in the
//! same session, and the session then carries it.
//!
//! - `GET /stepup?req=ID&level=LEVEL` explains why ("Für diesen Dienst ist das Vertrauensniveau
//!   „substanziell“ nötig.") and offers what the account has: a TOTP code, a recovery code, a
//!   passkey (button driven by `passkey.js`), and "Ohne höhere Stufe fortfahren".
//! - `POST /stepup/totp` / `POST /stepup/recovery` (`req`, `csrf`, `code`): a right code adds
//!   the method to the login through the one login pipeline (`web::login::finish`: the
//!   level is recomputed, the login stored under a new session id, audited `login.step_up`,
//!   the request marked as freshly authenticated) and the request continues (303 to
//!   `/authorize/continue`). A wrong code shows the
//!   form again with the error tied to the field (401). After [`MAX_FAILURES`] wrong codes for
//!   one request the request ends with a readable page (429); across sessions an account takes
//!   at most [`ACCOUNT_MAX_FAILURES`] wrong codes per quarter hour. Every attempt is reserved
//!   in the database before the code is checked (`crate::throttle`), so parallel guesses count.
//! - `POST /stepup/decline` (`req`, `csrf`): the request continues at the session's real level
//!   if it allows that (voluntary `acr_values`), or fails with
//!   `unmet_authentication_requirements` (a hard minimum) — decided by `oidc::authorize::decide`.
//!
//! Without `req` the page confirms the second factor for the account pages (changing
//! credentials needs it, see `web::security`) and returns to `/account/security`.

use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{
    authorize::{error_page, lang},
    error::internal,
    i18n::Lang,
    login,
    pages::{self, CodeError, StepUpError},
    security::{
        confirm_setup, has_second_factor, new_recovery_codes, setup_seed, SetupCheck, SECURITY_URL,
    },
    session,
};
use crate::{
    accounts::{login::Authenticated, passkey, totp},
    app::App,
    assurance::{
        level::{effective_level, Method},
        Level,
    },
    audit::{self, Actor, Entry, Event},
    metrics::LoginOutcome,
    oidc::{error::OAuthError, SsoLogin},
    store::accounts::Account,
    throttle,
};

/// Wrong codes allowed per pending request (or per session for the account pages).
pub const MAX_FAILURES: u32 = 5;
/// Wrong codes allowed per account within a quarter of an hour, across all sessions and
/// instances, before delays grow ([`throttle::STEPUP_ACCOUNT`]).
pub const ACCOUNT_MAX_FAILURES: u32 = throttle::STEPUP_ACCOUNT.free;

#[derive(Deserialize)]
pub struct StepUpQuery {
    pub req: Option<String>,
    pub level: Option<String>,
}

#[derive(Deserialize)]
pub struct StepUpForm {
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

/// Everything a step-up page or form works with.
struct Ctx {
    lang: Lang,
    /// Pending request id; empty for the account pages.
    req: String,
    client_name: Option<String>,
    /// The requesting client: its policy limits which methods are offered.
    client: Option<crate::store::clients::Client>,
    login: SsoLogin,
    account: Account,
}

impl Ctx {
    /// Whether this step-up may use `method` (the client's login-method policy).
    fn offers(&self, method: Method) -> bool {
        self.client
            .as_ref()
            .is_none_or(|c| c.offers_method(method.policy_name()))
    }
}

/// Loads the pending request (if `req`), the login and the account; else the page to show.
async fn context(app: &App, s: &Session, lang_hint: Lang, req: &str) -> Result<Ctx, Response> {
    let mut lang = lang_hint;
    let mut client = None;
    if !req.is_empty() {
        let pending = match session::pending(s, req, app.clock.now()).await {
            Ok(Some(p)) => p,
            Ok(None) => return Err(expired_request(lang_hint)),
            Err(e) => return Err(internal(lang_hint, e)),
        };
        lang = pending
            .req
            .ui_locales
            .as_deref()
            .and_then(|u| u.split(' ').find_map(Lang::parse))
            .unwrap_or(lang_hint);
        client = match app.db.client_get(&pending.req.client_id).await {
            Ok(c) => c,
            Err(e) => return Err(internal(lang, e)),
        };
    }
    let login_url = if req.is_empty() {
        "/login".to_string()
    } else {
        format!("/login?req={req}")
    };
    let login = match session::login(&app.db, s).await {
        Ok(Some(l)) => l,
        Ok(None) => return Err(Redirect::to(&login_url).into_response()),
        Err(e) => return Err(internal(lang, e)),
    };
    let account = match app.db.account_get(&login.account_id).await {
        Ok(Some(a)) if a.disabled_at.is_none() => a,
        Ok(_) => {
            let _ = session::clear(s).await;
            return Err(Redirect::to("/login").into_response());
        }
        Err(e) => return Err(internal(lang, e)),
    };
    Ok(Ctx {
        lang,
        req: req.to_string(),
        client_name: client.as_ref().map(|c| c.name.clone()),
        client,
        login,
        account,
    })
}

fn expired_request(lang: Lang) -> Response {
    error_page(
        lang,
        &OAuthError::invalid_request(
            "this login request has expired or was already completed; please start again at the service",
        ),
    )
}

/// Renders the step-up page with the means the account has.
async fn render(
    app: &App,
    s: &Session,
    ctx: &Ctx,
    target: Level,
    error: Option<StepUpError>,
    attempts_left: Option<u32>,
    status: StatusCode,
) -> Response {
    render_with(app, s, ctx, target, error, attempts_left, None, status).await
}

/// Whether the step-up page offers to set up an authenticator app right here: a service's
/// request waits, the account has no second factor yet, the service accepts TOTP, and the
/// account's proofing allows the level asked for (a second factor would then reach it).
fn offers_enrolment(
    ctx: &Ctx,
    creds: &[crate::store::credentials::Credential],
    target: Level,
) -> bool {
    !ctx.req.is_empty()
        && !has_second_factor(creds)
        && ctx.offers(Method::Totp)
        && target <= ctx.account.proofing_level
}

/// [`render`] with an error for the set-up's code field.
#[allow(clippy::too_many_arguments)]
async fn render_with(
    app: &App,
    s: &Session,
    ctx: &Ctx,
    target: Level,
    error: Option<StepUpError>,
    attempts_left: Option<u32>,
    enrol_error: Option<CodeError>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let creds = match app.db.credentials_of(&ctx.account.id).await {
        Ok(c) => c,
        Err(e) => return internal(lang, e),
    };
    let enrol = if offers_enrolment(ctx, &creds, target) {
        let fresh = app.clock.now().saturating_sub(ctx.login.auth_time) <= ENROL_MAX_LOGIN_AGE;
        let mut offer = pages::EnrolTotp {
            fresh,
            relogin_url: format!("/login?req={}", ctx.req),
            email: ctx.account.email.clone(),
            error: enrol_error,
            ..Default::default()
        };
        if fresh {
            let seed = match setup_seed(app, s, &ctx.account.id).await {
                Ok(seed) => seed,
                Err(e) => return internal(lang, e),
            };
            offer.secret = totp::display_secret(&seed);
            offer.qr = totp::qr_path(&totp::otpauth_uri(&seed, &ctx.account.email));
        }
        Some(offer)
    } else {
        None
    };
    let totp = creds.iter().any(|c| c.kind == totp::KIND) && ctx.offers(Method::Totp);
    let passkey = creds.iter().any(|c| c.kind == passkey::KIND) && ctx.offers(Method::Passkey);
    let recovery_left = if totp || passkey {
        match app.db.recovery_codes_left(&ctx.account.id).await {
            Ok(n) => n,
            Err(e) => return internal(lang, e),
        }
    } else {
        0
    };
    let policy = match app.db.policy_load().await {
        Ok(p) => p,
        Err(e) => return internal(lang, e),
    };
    let age = app.clock.now().saturating_sub(ctx.login.auth_time).max(0) as u64;
    let current =
        effective_level(ctx.login.level, age, |l| policy.max_age_of(l)).unwrap_or(Level::Low);
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    // Upstream sources that reach the target: a low session asked for high is led to the eID.
    let sources = if ctx.req.is_empty() {
        Vec::new()
    } else {
        match super::upstream::offered(app, ctx.client.as_ref(), target).await {
            Ok(list) => list,
            Err(e) => return internal(lang, e),
        }
    };
    let sources =
        super::upstream::source_forms(&sources, csrf.clone(), &ctx.req, "step_up", Some(target));
    let page = pages::StepUpPage {
        lang,
        client_name: ctx.client_name.clone(),
        level: target.as_str().into(),
        current_level: current.as_str().into(),
        req: ctx.req.clone(),
        csrf,
        totp,
        recovery_left,
        passkey,
        error,
        attempts_left,
        cancel_url: SECURITY_URL.into(),
        enrol,
        sources,
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// `GET /stepup?req=ID&level=LEVEL`.
pub async fn stepup_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<StepUpQuery>,
) -> Response {
    let req = q.req.unwrap_or_default();
    let ctx = match context(&app, &s, lang(&headers, None), &req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let target = q
        .level
        .as_deref()
        .and_then(Level::parse_name)
        .unwrap_or(Level::Substantial);
    render(&app, &s, &ctx, target, None, None, StatusCode::OK).await
}

/// `POST /stepup/totp`.
pub async fn stepup_totp(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    device: login::Device,
    Form(f): Form<StepUpForm>,
) -> Response {
    submit(&app, &s, &headers, &device, f, Method::Totp).await
}

/// `POST /stepup/recovery`.
pub async fn stepup_recovery(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    device: login::Device,
    Form(f): Form<StepUpForm>,
) -> Response {
    submit(&app, &s, &headers, &device, f, Method::RecoveryCode).await
}

async fn failures(s: &Session) -> BTreeMap<String, u32> {
    session::keys::STEPUP_FAILURES
        .get(s)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn set_failures(s: &Session, key: &str, n: Option<u32>) -> Result<(), session::SessionError> {
    let mut map = failures(s).await;
    match n {
        Some(n) => map.insert(key.to_string(), n),
        None => map.remove(key),
    };
    session::keys::STEPUP_FAILURES.insert(s, &map).await
}

fn too_many(lang: Lang) -> Response {
    error_page(
        lang,
        &OAuthError {
            error: "too_many_requests",
            error_description:
                "too many wrong codes; please wait a few minutes and start again at the service"
                    .into(),
            status: StatusCode::TOO_MANY_REQUESTS.as_u16(),
            www_authenticate: None,
        },
    )
}

/// The CSRF check of every step-up form: an expired or forged form gets a readable error page
/// (the `Err`), as the service's request cannot go on from it.
async fn check_csrf(s: &Session, lang_hint: Lang, csrf: &str) -> Result<(), Response> {
    match session::csrf_ok(s, csrf).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(error_page(
            lang_hint,
            &OAuthError::invalid_request("the form has expired; please start again at the service"),
        )),
        Err(e) => Err(internal(lang_hint, e)),
    }
}

async fn submit(
    app: &App,
    s: &Session,
    headers: &HeaderMap,
    device: &login::Device,
    f: StepUpForm,
    method: Method,
) -> Response {
    let lang_hint = lang(headers, None);
    if let Err(r) = check_csrf(s, lang_hint, &f.csrf).await {
        return r;
    }
    let ctx = match context(app, s, lang_hint, &f.req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    if !ctx.offers(method) {
        return error_page(
            lang,
            &OAuthError::access_denied("this service does not accept this kind of second factor"),
        );
    }
    let account_id = ctx.account.id.clone();
    let t = app.clock.now();
    let target = Level::Substantial;
    let wrap = |e: CodeError| match method {
        Method::RecoveryCode => StepUpError::Recovery(e),
        _ => StepUpError::Totp(e),
    };
    if f.code.trim().is_empty() {
        return render(
            app,
            s,
            &ctx,
            target,
            Some(wrap(CodeError::Missing)),
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let failed = failures(s).await.get(&ctx.req).copied().unwrap_or(0);
    if failed >= MAX_FAILURES {
        return give_up(app, s, &ctx).await;
    }
    // Reserve the attempt before the code is checked (`crate::throttle`): per request and
    // per account, in the database, so parallel guesses each take their own count and none
    // races past the limits. A right code gives its attempts back.
    let request_key = format!("stepup-request:{account_id}:{}", ctx.req);
    let account_key = format!("stepup-account:{account_id}");
    for (policy, key) in [
        (&throttle::STEPUP_REQUEST, &request_key),
        (&throttle::STEPUP_ACCOUNT, &account_key),
    ] {
        match throttle::reserve(&app.db, policy, key, t).await {
            Ok(throttle::Verdict::Allowed { .. }) => {}
            Ok(throttle::Verdict::Locked { .. }) => return give_up(app, s, &ctx).await,
            Err(e) => return internal(lang, e),
        }
    }
    // Check the code; `Err` is the error to show.
    let checked: Result<Option<String>, CodeError> = match method {
        Method::RecoveryCode => {
            if totp::normalise_recovery_code(&f.code).is_none() {
                Err(CodeError::Malformed)
            } else {
                match totp::use_recovery_code(&app.db, &app.kek, &account_id, &f.code, t).await {
                    Ok(true) => Ok(None),
                    Ok(false) => Err(CodeError::Wrong),
                    Err(e) => return internal(lang, e),
                }
            }
        }
        _ => match totp::verify(&app.db, &app.kek, &account_id, &f.code, t).await {
            Ok(totp::Check::Accepted { credential_id, .. }) => Ok(Some(credential_id)),
            Ok(totp::Check::Replayed) => Err(CodeError::Replayed),
            Ok(totp::Check::Malformed) => Err(CodeError::Malformed),
            Ok(totp::Check::Wrong) => Err(CodeError::Wrong),
            Err(e) => return internal(lang, e),
        },
    };
    let method_name = match method {
        Method::RecoveryCode => "recovery_code",
        _ => "otp",
    };
    let credential_id = match checked {
        Ok(c) => c,
        Err(e) => {
            let failed = failed + 1;
            if let Err(err) = set_failures(s, &ctx.req, Some(failed)).await {
                return internal(lang, err);
            }
            app.metrics
                .login(method.into(), None, LoginOutcome::Failure);
            if let Err(e) = audit::record(
                &app.db,
                Entry::new(
                    Event::LoginStepUpFailed,
                    Actor::Account(account_id.to_string()),
                )
                .subject(&account_id)
                .fields(json!({ "method": method_name, "request": !ctx.req.is_empty() })),
            )
            .await
            {
                // The account-wide throttle counts these: an unrecorded failure is not allowed.
                return internal(lang, e);
            }
            if failed >= MAX_FAILURES {
                return give_up(app, s, &ctx).await;
            }
            return render(
                app,
                s,
                &ctx,
                target,
                Some(wrap(e)),
                Some(MAX_FAILURES - failed),
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
    };

    // The code is right: the session now carries the method and the level it yields.
    let proofing = ctx.account.proofing_level;
    let what = match (method, credential_id) {
        (Method::RecoveryCode, _) => Authenticated::RecoveryCode,
        (_, Some(credential_id)) => Authenticated::Totp { credential_id },
        (_, None) => return internal(lang, "TOTP accepted without a credential"),
    };
    let req = (!ctx.req.is_empty()).then_some(ctx.req.as_str());
    match login::finish(app, s, &account_id, proofing, what, req, device).await {
        Ok(done) => {
            let _ = set_failures(s, &ctx.req, None).await;
            for key in [&request_key, &account_key] {
                if let Err(e) = throttle::refund(&app.db, key).await {
                    tracing::error!(error = %e, "giving back a step-up attempt");
                }
            }
            Redirect::to(&done.next.url(SECURITY_URL)).into_response()
        }
        Err(e) => internal(lang, e),
    }
}

/// Too many wrong codes: the request ends (or, on the account pages, the session), with a
/// readable page.
async fn give_up(app: &App, s: &Session, ctx: &Ctx) -> Response {
    let _ = set_failures(s, &ctx.req, None).await;
    if ctx.req.is_empty() {
        let _ = session::clear(s).await;
    } else {
        let _ = session::finish_pending(s, &ctx.req).await;
    }
    audit::record_or_log(
        &app.db,
        Entry::new(
            Event::LoginStepUpBlocked,
            Actor::Account(ctx.account.id.to_string()),
        )
        .subject(&ctx.account.id)
        .fields(json!({ "request": !ctx.req.is_empty() })),
    )
    .await;
    too_many(ctx.lang)
}

#[derive(Deserialize)]
pub struct DeclineForm {
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub csrf: String,
}

/// `POST /stepup/decline`: continue without the higher level; `decide` then issues at the real
/// level or fails a hard minimum.
pub async fn stepup_decline(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<DeclineForm>,
) -> Response {
    let lang_hint = lang(&headers, None);
    if let Err(r) = check_csrf(&s, lang_hint, &f.csrf).await {
        return r;
    }
    if f.req.is_empty() {
        return Redirect::to(SECURITY_URL).into_response();
    }
    let ctx = match context(&app, &s, lang_hint, &f.req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = session::update_pending(&s, &f.req, |i| i.declined_step_up = true).await {
        return internal(ctx.lang, e);
    }
    audit::record_or_log(
        &app.db,
        Entry::new(
            Event::LoginStepUpDeclined,
            Actor::Account(ctx.account.id.to_string()),
        )
        .subject(&ctx.account.id)
        .fields(json!({ "level": ctx.login.level })),
    )
    .await;
    Redirect::to(&format!("/authorize/continue?req={}", f.req)).into_response()
}

/// How old a login may be to set up an authenticator app on the step-up page: the rule of
/// the security page's passkey registration (a stolen, long-lived session must not add a
/// second factor of the thief's).
pub const ENROL_MAX_LOGIN_AGE: i64 = super::passkey::REGISTER_MAX_LOGIN_AGE;

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub level: String,
}

/// `POST /stepup/enrol-totp`: the first code from the authenticator app set up on the
/// step-up page. A right code stores the app (`credential.added`) and counts as the second
/// factor of this login at once (`login.step_up` through `web::login::finish`); the new
/// recovery codes are shown once, and their page continues the service's request.
pub async fn stepup_enrol_totp(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    device: login::Device,
    Form(f): Form<EnrolForm>,
) -> Response {
    let lang_hint = lang(&headers, None);
    if let Err(r) = check_csrf(&s, lang_hint, &f.csrf).await {
        return r;
    }
    if f.req.is_empty() {
        return Redirect::to(SECURITY_URL).into_response();
    }
    let ctx = match context(&app, &s, lang_hint, &f.req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let target = Level::parse_name(&f.level).unwrap_or(Level::Substantial);
    let creds = match app.db.credentials_of(&ctx.account.id).await {
        Ok(c) => c,
        Err(e) => return internal(lang, e),
    };
    let fresh = app.clock.now().saturating_sub(ctx.login.auth_time) <= ENROL_MAX_LOGIN_AGE;
    if !offers_enrolment(&ctx, &creds, target) || !fresh {
        // Not (or no longer) allowed here: the step-up page says what is possible.
        return Redirect::to(&format!(
            "/stepup?req={}&level={}",
            super::account::urlencode(&ctx.req),
            target.as_str()
        ))
        .into_response();
    }
    let cred = match confirm_setup(&app, &s, &ctx.account, &f.code).await {
        Ok(SetupCheck::Added(c)) => c,
        Ok(SetupCheck::Refused(e)) => {
            return render_with(
                &app,
                &s,
                &ctx,
                target,
                None,
                None,
                Some(e),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Ok(SetupCheck::Expired) => {
            return render_with(
                &app,
                &s,
                &ctx,
                target,
                None,
                None,
                Some(CodeError::Wrong),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => return internal(lang, e),
    };
    let done = match login::finish(
        &app,
        &s,
        &ctx.account.id,
        ctx.account.proofing_level,
        Authenticated::Totp {
            credential_id: cred.id.clone(),
        },
        Some(&ctx.req),
        &device,
    )
    .await
    {
        Ok(done) => done,
        Err(e) => return internal(lang, e),
    };
    new_recovery_codes(
        &app,
        lang,
        &ctx.account.id,
        app.clock.now(),
        "first_second_factor",
        Some(done.next.url(SECURITY_URL)),
    )
    .await
}
