//! Logging in through an upstream identity source, and the citizen's linked sources.
//!
//! - `POST /upstream/{id}/start` (`csrf`, `req`, `purpose` = `login` | `step_up` | `link`,
//!   `level`): from the login page, the step-up page or the link confirmation. Checks that the
//!   source is offered (enabled; the pending request's client allows it), computes the level to
//!   ask for from the pending request, keeps `state`, `nonce` and the PKCE verifier in the SSO
//!   session (single use, 10 minutes) and redirects to the upstream (`upstream::oidc::start`).
//!   A POST with the session's CSRF token, so no other site can start it.
//! - `GET /upstream/{id}/callback`: the redirect URI registered at the upstream. Takes the
//!   flight by `state` (removed at once: a replayed callback finds none), validates
//!   (`upstream::oidc::finish`), links or creates (`upstream::link::complete`) and finishes the
//!   login through the one pipeline (`web::login::finish`). Every failure is a readable page
//!   with the way back and an `upstream.login_failed` audit event, and changes nothing.
//! - `GET /account/links`, `GET /upstream/{id}/link` (confirmation), `POST
//!   /account/links/{id}/unlink`: the linked sources ("verknüpfte Anmeldewege").

use std::collections::BTreeMap;

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{
    authorize::lang,
    csrf::{CsrfForm, CsrfOnly, HasCsrf},
    error::PageError,
    i18n::Lang,
    login,
    pages::{self, SourceForms, SourceOption, UpstreamFailure},
    session,
};
use crate::{
    accounts::login::{Authenticated, UpstreamLogin},
    app::App,
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    store::{clients::Client, identities::Unlinked, upstreams::Upstream},
    upstream::{
        link::{self, LinkError, Purpose},
        oidc::{self, Flight, UpstreamError},
    },
};

/// How long a started upstream login may take.
const FLIGHT_TTL: i64 = 10 * 60;
/// At most this many upstream logins wait in one session.
const MAX_FLIGHTS: usize = 4;

/// A started upstream login as the session keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebFlight {
    pub flight: Flight,
    pub purpose: Purpose,
    /// The pending authorization request, or empty.
    pub req: String,
    pub lang: Lang,
}

/// The upstream session of the current login, for RP-initiated logout there.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpstreamSession {
    pub upstream: String,
    /// Pforte's client id at the upstream.
    pub client_id: String,
    pub id_token: String,
    pub end_session_endpoint: String,
}

/// Where the browser goes once the upstream has ended its session too (kept in the new,
/// empty session across the upstream's logout).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogoutReturn {
    pub state: String,
    /// The client's post_logout_redirect_uri with its `state`, already validated; `None`: the
    /// logged-out page.
    pub then: Option<String>,
}

/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2) at the upstream the login
/// came from: called after Pforte's own session was cleared, with what it kept of the upstream
/// session. Returns the redirect to the upstream's end_session_endpoint (`id_token_hint`,
/// `post_logout_redirect_uri` = `{issuer}/logout/upstream-done`, a fresh `state`), or `None`
/// when there is no upstream session to end.
pub async fn end_upstream_session(
    app: &App,
    s: &Session,
    up: Option<UpstreamSession>,
    then: Option<String>,
) -> Result<Option<Response>, session::SessionError> {
    let Some(up) = up else { return Ok(None) };
    let Ok(mut url) = url::Url::parse(&up.end_session_endpoint) else {
        return Ok(None);
    };
    let state = crate::secrets::random_token(16);
    url.query_pairs_mut()
        .append_pair("id_token_hint", &up.id_token)
        .append_pair("client_id", &up.client_id)
        .append_pair(
            "post_logout_redirect_uri",
            &format!(
                "{}/logout/upstream-done",
                app.config.issuer.trim_end_matches('/')
            ),
        )
        .append_pair("state", &state);
    session::keys::UPSTREAM_LOGOUT_RETURN
        .insert(s, &LogoutReturn { state, then })
        .await?;
    Ok(Some(Redirect::to(url.as_str()).into_response()))
}

#[derive(Deserialize)]
pub struct DoneQuery {
    pub state: Option<String>,
}

/// `GET /logout/upstream-done`: back from the upstream's logout; on to the client's
/// post_logout_redirect_uri (only with the `state` Pforte sent), else the logged-out page.
pub async fn logout_done(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let back = session::keys::UPSTREAM_LOGOUT_RETURN.take(&s).await?;
    match back {
        Some(b)
            if q.state
                .as_deref()
                .is_some_and(|st| crate::secrets::ct_eq(st.as_bytes(), b.state.as_bytes())) =>
        {
            if let Some(then) = b.then {
                return Ok(Redirect::to(&then).into_response());
            }
        }
        _ => {}
    }
    Ok(Html(pages::LoggedOutPage { lang }.render(&app.config.site)).into_response())
}

/// Whether `client` (if any) may offer upstream `u`.
fn client_offers(client: Option<&Client>, u: &Upstream) -> bool {
    client.is_none_or(|c| c.offers_upstream(&u.id))
}

/// The sources a page may offer: enabled, allowed by the client, reaching at least `min`.
pub async fn offered(
    app: &App,
    client: Option<&Client>,
    min: Level,
) -> Result<Vec<Upstream>, crate::store::StoreError> {
    Ok(app
        .db
        .upstream_list()
        .await?
        .into_iter()
        .filter(|u| u.disabled_at.is_none() && client_offers(client, u) && u.max_level >= min)
        .collect())
}

/// The buttons for a page.
pub fn source_forms(
    sources: &[Upstream],
    csrf: String,
    req: &str,
    purpose: &str,
    level: Option<Level>,
) -> SourceForms {
    SourceForms {
        csrf,
        req: req.to_string(),
        purpose: purpose.into(),
        level: level.map(|l| l.as_str().to_string()).unwrap_or_default(),
        sources: sources
            .iter()
            .map(|u| SourceOption {
                id: u.id.clone(),
                name: u.name.clone(),
                level: u.max_level.as_str().into(),
            })
            .collect(),
    }
}

/// The level a pending request cannot do without (policy minimum, essential acr) and the level
/// it prefers (its first voluntary `acr_values` entry), given the client and the policy.
pub fn request_levels(
    req: &crate::oidc::authorize::AuthRequest,
    client: &Client,
    policy: &crate::assurance::policy::Policy,
) -> (Level, Option<Level>) {
    let scopes = req.consent_scopes();
    let policy_min = policy.required_level(client.min_level, scopes.iter().map(String::as_str));
    let essential = req
        .essential_acr
        .iter()
        .filter_map(|a| Level::from_acr(a))
        .min();
    let hard = essential.map_or(policy_min, |e| e.max(policy_min));
    let preferred = req.acr_values.iter().find_map(|a| Level::from_acr(a));
    (hard, preferred)
}

#[derive(Deserialize, Default)]
pub struct StartForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub req: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub level: String,
}

impl HasCsrf for StartForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// A failure page in the making: the source it is about, the citizen's language, where it
/// leads back to (the pending request, or the account for linking) and who is logged in.
#[derive(Clone, Copy)]
struct Failure<'a> {
    app: &'a App,
    lang: Lang,
    id: &'a str,
    name: &'a str,
    req: &'a str,
    purpose: Purpose,
    account: Option<&'a str>,
}

impl Failure<'_> {
    /// Shows the failure page and audits it (`upstream.login_failed` with `reason` = `kind`).
    async fn show(self, failure: UpstreamFailure, kind: &str, level: Option<Level>) -> Response {
        audit::record_or_log(
            &self.app.db,
            Entry::new(
                Event::UpstreamLoginFailed,
                self.account
                    .map_or(Actor::Anonymous, |a| Actor::Account(a.to_string())),
            )
            .subject_opt(self.account)
            .with("upstream", self.id)
            .with("reason", kind),
        )
        .await;
        let back_url = match self.purpose {
            Purpose::Link => "/account/links".to_string(),
            _ if self.req.is_empty() => "/login".to_string(),
            _ => format!("/login?req={}", urlencode(self.req)),
        };
        error_page(
            self.app, self.lang, failure, self.name, kind, level, back_url,
        )
    }

    /// [`Failure::show`] for an error of the upstream login (logged too), `asked`: the level
    /// the request could not do without.
    async fn upstream(self, e: UpstreamError, asked: Option<Level>) -> Response {
        tracing::warn!(upstream = %self.id, error = %e, "upstream login failed");
        self.show(failure_of(&e), e.kind(), asked).await
    }

    /// The source `id` if it exists and is enabled, else the "not offered" page.
    async fn enabled(self, app: &App) -> Result<Result<Upstream, Response>, PageError> {
        Ok(
            match app
                .db
                .upstream_get(self.id)
                .await?
                .filter(|u| u.disabled_at.is_none())
            {
                Some(u) => Ok(u),
                None => Err(self
                    .show(UpstreamFailure::NotOffered, "unknown_upstream", None)
                    .await),
            },
        )
    }
}

/// The page of an upstream failure (status by kind), leading back to `back_url`.
fn error_page(
    app: &App,
    lang: Lang,
    failure: UpstreamFailure,
    name: &str,
    kind: &str,
    level: Option<Level>,
    back_url: String,
) -> Response {
    let status = match failure {
        UpstreamFailure::Unreachable => StatusCode::BAD_GATEWAY,
        UpstreamFailure::LinkedElsewhere | UpstreamFailure::LastWay => StatusCode::CONFLICT,
        UpstreamFailure::NotOffered => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    let page = pages::UpstreamErrorPage {
        lang,
        failure,
        name: name.to_string(),
        level: level.map(|l| l.as_str().to_string()).unwrap_or_default(),
        code: kind.to_string(),
        back_to_account: back_url.starts_with("/account"),
        back_url,
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What the citizen reads for an upstream failure.
fn failure_of(e: &UpstreamError) -> UpstreamFailure {
    match e {
        UpstreamError::Timeout
        | UpstreamError::Unreachable(_)
        | UpstreamError::Discovery(_)
        | UpstreamError::Config(_) => UpstreamFailure::Unreachable,
        UpstreamError::Denied { .. } => UpstreamFailure::Cancelled,
        UpstreamError::AcrTooLow => UpstreamFailure::TooLow,
        UpstreamError::State => UpstreamFailure::State,
        _ => UpstreamFailure::Invalid,
    }
}

/// `POST /upstream/{id}/start`.
pub async fn start(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<StartForm>,
) -> Result<Response, PageError> {
    let mut lang = lang(&headers, None);
    let purpose = match f.purpose.as_str() {
        "step_up" => Purpose::StepUp,
        "link" => Purpose::Link,
        _ => Purpose::Login,
    };
    let mut at = Failure {
        app: &app,
        lang,
        id: &id,
        name: &id,
        req: &f.req,
        purpose,
        account: None,
    };
    let u = match at.enabled(&app).await? {
        Ok(u) => u,
        Err(page) => return Ok(page),
    };
    at.name = &u.name;
    let login = session::login(&app.db, &s).await?;
    if purpose == Purpose::Link && login.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    // The pending request decides which sources are allowed and which level to ask for.
    let (mut wanted, mut required) = (None, None);
    if !f.req.is_empty() {
        let Some(pending) = session::pending(&s, &f.req, app.clock.now()).await? else {
            let at = Failure { req: "", ..at };
            return Ok(at
                .show(UpstreamFailure::State, "request_expired", None)
                .await);
        };
        if let Some(l) = pending
            .req
            .ui_locales
            .as_deref()
            .and_then(|x| x.split(' ').find_map(Lang::parse))
        {
            lang = l;
            at.lang = l;
        }
        let client = app.db.client_get(&pending.req.client_id).await?;
        if !client_offers(client.as_ref(), &u) {
            return Ok(at
                .show(UpstreamFailure::NotOffered, "not_offered", None)
                .await);
        }
        if let Some(c) = &client {
            let policy = app.db.policy_load().await?;
            let (hard, preferred) = request_levels(&pending.req, c, &policy);
            required = Some(hard);
            // Aim for the step-up's target, else the request's first preference that this
            // source can reach; never ask more than the source is trusted for.
            let target = Level::parse_name(&f.level).or(preferred.filter(|p| *p <= u.max_level));
            wanted = target.map(|t| t.min(u.max_level)).or(Some(hard));
        }
    }
    let (url, flight) = match oidc::start(
        &app,
        &u,
        wanted,
        required,
        lang.code(),
        purpose != Purpose::Login,
    )
    .await
    {
        Ok(x) => x,
        Err(e) => {
            let account = login.as_ref().map(|l| l.account_id.as_str());
            return Ok(Failure { account, ..at }.upstream(e, required).await);
        }
    };
    let now = app.clock.now();
    let mut flights = session::keys::UPSTREAM_FLIGHTS
        .get(&s)
        .await?
        .unwrap_or_default();
    flights.retain(|_, w| now - w.flight.created < FLIGHT_TTL);
    while flights.len() >= MAX_FLIGHTS {
        let oldest = flights
            .iter()
            .min_by_key(|(_, w)| w.flight.created)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => flights.remove(&k),
            None => break,
        };
    }
    flights.insert(
        flight.state.clone(),
        WebFlight {
            flight,
            purpose,
            req: f.req.clone(),
            lang,
        },
    );
    session::keys::UPSTREAM_FLIGHTS.insert(&s, &flights).await?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Takes (and so uses up) the flight for `state`.
async fn take_flight(
    s: &Session,
    state: &str,
    now: i64,
) -> Result<Option<WebFlight>, session::SessionError> {
    let mut flights: BTreeMap<String, WebFlight> = session::keys::UPSTREAM_FLIGHTS
        .get(s)
        .await?
        .unwrap_or_default();
    let found = flights.remove(state);
    session::keys::UPSTREAM_FLIGHTS.insert(s, &flights).await?;
    Ok(found.filter(|w| now - w.flight.created < FLIGHT_TTL))
}

/// `GET /upstream/{id}/callback`.
pub async fn callback(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    device: login::Device,
    Path(id): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let hint = lang(&headers, None);
    let upstream = app.db.upstream_get(&id).await?;
    let name = upstream.as_ref().map_or(id.clone(), |u| u.name.clone());
    let current = session::login(&app.db, &s).await?.map(|l| l.account_id);
    let flight = match q.state.as_deref() {
        Some(st) if !st.is_empty() => take_flight(&s, st, app.clock.now()).await?,
        _ => None,
    };
    // No flight for this state: unknown, already used (a replayed callback) or expired; or it
    // belongs to another source.
    let (Some(w), Some(u)) = (flight.filter(|w| w.flight.upstream == id), upstream) else {
        let at = Failure {
            app: &app,
            lang: hint,
            id: &id,
            name: &name,
            req: "",
            purpose: Purpose::Login,
            account: current.as_deref(),
        };
        return Ok(at.show(UpstreamFailure::State, "state", None).await);
    };
    let lang = w.lang;
    let at = Failure {
        app: &app,
        lang,
        id: &u.id,
        name: &u.name,
        req: &w.req,
        purpose: w.purpose,
        account: current.as_deref(),
    };
    if let Some(error) = q.error {
        // The citizen cancelled (access_denied) or the upstream refused (OIDC Core §3.1.2.6).
        let e = UpstreamError::Denied { error };
        return Ok(at.upstream(e, w.flight.asked).await);
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return Ok(at.upstream(UpstreamError::State, w.flight.asked).await);
    };
    let asserted = match oidc::finish(&app, &u, &w.flight, &code).await {
        Ok(a) => a,
        Err(e) => return Ok(at.upstream(e, w.flight.asked).await),
    };
    let done = match link::complete(&app, &u, &asserted, w.purpose, current.as_deref()).await {
        Ok(d) => d,
        Err(LinkError::LinkedElsewhere) => {
            let failure = UpstreamFailure::LinkedElsewhere;
            return Ok(at.show(failure, "linked_elsewhere", None).await);
        }
        Err(LinkError::Disabled) => {
            let failure = UpstreamFailure::Invalid;
            return Ok(at.show(failure, "account_disabled", None).await);
        }
        Err(LinkError::Store(e)) => return Err(PageError::from(e).in_lang(lang)),
    };
    let req = (!w.req.is_empty()).then_some(w.req.as_str());
    let finished = login::finish(
        &app,
        &s,
        &done.account.id,
        done.proofing,
        Authenticated::Upstream(UpstreamLogin {
            source: u.id.clone(),
            asserted: asserted.level,
            trust_cap: u.max_level,
        }),
        req,
        &device,
    )
    .await
    .map_err(|e| PageError::internal(e).in_lang(lang))?;
    // For RP-initiated logout at the upstream (item 8), when configured and offered.
    match asserted.end_session_endpoint.filter(|_| u.end_session) {
        Some(endpoint) => {
            session::keys::UPSTREAM_SESSION
                .insert(
                    &s,
                    &UpstreamSession {
                        upstream: u.id.clone(),
                        client_id: u.client_id.clone(),
                        id_token: asserted.id_token.clone(),
                        end_session_endpoint: endpoint,
                    },
                )
                .await?
        }
        None => session::keys::UPSTREAM_SESSION.remove(&s).await?,
    }
    let fallback = if w.purpose == Purpose::Link {
        "/account/links?linked=1"
    } else {
        "/account"
    };
    Ok(Redirect::to(&finished.next.url(fallback)).into_response())
}

#[derive(Deserialize)]
pub struct LinksQuery {
    pub linked: Option<String>,
    pub unlinked: Option<String>,
    pub ui_locales: Option<String>,
}

/// `GET /account/links`: the linked sources.
pub async fn links_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LinksQuery>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, q.ui_locales.as_deref());
    let Some(login) = session::login(&app.db, &s).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(account) = app
        .db
        .account_get(&login.account_id)
        .await?
        .filter(|a| a.disabled_at.is_none())
    else {
        return Ok(Redirect::to("/login").into_response());
    };
    let identities = app.db.identities_of(&account.id).await?;
    let sources = app.db.upstream_list().await?;
    let name_of = |id: &str| {
        sources
            .iter()
            .find(|u| u.id == id)
            .map_or(id.to_string(), |u| u.name.clone())
    };
    let last = account.password_hash.is_none() && identities.len() <= 1;
    let links = identities
        .iter()
        .map(|i| pages::LinkRow {
            name: name_of(&i.provider),
            since: super::account::format_date(lang, i.linked_at),
            unlink_action: format!("/account/links/{}/unlink", i.provider),
            can_unlink: !last,
        })
        .collect();
    let available = sources
        .iter()
        .filter(|u| u.disabled_at.is_none() && !identities.iter().any(|i| i.provider == u.id))
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    let f = super::i18n::federation_texts(lang);
    let notice = if q.linked.is_some() {
        Some(f.notice_linked.to_string())
    } else if q.unlinked.is_some() {
        Some(f.notice_unlinked.to_string())
    } else {
        None
    };
    let page = pages::LinksPage {
        lang,
        csrf: session::csrf_token(&s).await?,
        links,
        available,
        notice,
    };
    Ok(Html(page.render(&app.config.site)).into_response())
}

/// `GET /upstream/{id}/link`: confirm linking.
pub async fn link_confirm(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    if session::login(&app.db, &s).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    let at = Failure {
        app: &app,
        lang,
        id: &id,
        name: &id,
        req: "",
        purpose: Purpose::Link,
        account: None,
    };
    let u = match at.enabled(&app).await? {
        Ok(u) => u,
        Err(page) => return Ok(page),
    };
    let page = pages::LinkConfirmPage {
        lang,
        csrf: session::csrf_token(&s).await?,
        id: u.id,
        name: u.name,
    };
    Ok(Html(page.render(&app.config.site)).into_response())
}

/// `POST /account/links/{id}/unlink`: removes the link to source `id`, unless it is the last
/// way to log in.
pub async fn unlink(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let Some(login) = session::login(&app.db, &s).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let name = app
        .db
        .upstream_get(&id)
        .await?
        .map_or(id.clone(), |u| u.name);
    let mut outcome = Unlinked::NotFound;
    for i in app.db.identities_of(&login.account_id).await? {
        if i.provider == id {
            outcome = app
                .db
                .identity_unlink(&login.account_id, &i.provider, &i.subject)
                .await?;
            if outcome != Unlinked::Removed {
                break;
            }
        }
    }
    match outcome {
        Unlinked::Removed => {
            audit::record(
                &app.db,
                Entry::new(
                    Event::IdentityUnlinked,
                    Actor::Account(login.account_id.clone()),
                )
                .subject(&login.account_id)
                .with("upstream", &id),
            )
            .await?;
            Ok(Redirect::to("/account/links?unlinked=1").into_response())
        }
        Unlinked::LastWay => {
            audit::record_or_log(
                &app.db,
                Entry::new(
                    Event::IdentityRefused,
                    Actor::Account(login.account_id.clone()),
                )
                .subject(&login.account_id)
                .with("upstream", &id)
                .with("reason", "last_way_to_log_in"),
            )
            .await;
            let failure = UpstreamFailure::LastWay;
            let back = "/account/links".to_string();
            Ok(error_page(
                &app,
                lang,
                failure,
                &name,
                "last_way_to_log_in",
                None,
                back,
            ))
        }
        Unlinked::NotFound => Ok(Redirect::to("/account/links").into_response()),
    }
}
