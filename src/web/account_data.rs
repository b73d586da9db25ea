//! The citizen's activity list, the export of all their data (GDPR Art. 15 and 20) and the
//! deletion of the account (Art. 17).
//!
//! - `GET /account/activity`: logins (methods, level, time, device) from the session
//!   registry, and what each service received (the releases).
//! - `GET /account/data`: the two forms below.
//! - `POST /account/export` (CSRF; `password` unless the login is fresh): a JSON download of
//!   everything stored about the account (`accounts::data::export`), audited
//!   `account.data_exported`.
//! - `POST /account/delete` (CSRF; `confirm=yes`; `password` unless the login is fresh):
//!   every session of the account ends, then `accounts::data::erase` removes the personal
//!   data and revokes every token in one transaction, keeping the audit trail under a
//!   pseudonym; audited `account.deleted` (under the pseudonym).
//!
//! "Fresh" is the rule passkey registration uses: a login (or step-up) at most
//! [`CONFIRM_MAX_LOGIN_AGE`] ago. A session that guesses passwords here is ended after
//! [`MAX_CONFIRM_FAILURES`] wrong ones.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;
use tower_sessions::Session;

use super::{
    account::{citizen, format_time},
    authorize::lang,
    csrf::{CsrfForm, HasCsrf},
    error::internal,
    i18n::{self, Lang},
    pages::{self, ConfirmError, DataForm},
    session,
};
use crate::{
    accounts::data,
    app::App,
    audit::{self, Actor, Entry, Event},
    oidc::SsoLogin,
    store::accounts::Account,
};

/// How old a login may be to export or delete without the password (as for passkeys).
pub const CONFIRM_MAX_LOGIN_AGE: i64 = super::passkey::REGISTER_MAX_LOGIN_AGE;
/// Wrong passwords a session may enter on these forms before it is ended.
pub const MAX_CONFIRM_FAILURES: u32 = 5;
/// The key of the wrong-password count in the session's step-up failure map.
const FAILURE_KEY: &str = "account-data-confirm";

/// Whether the login is fresh enough to skip the password.
pub fn fresh(login: &SsoLogin, now: i64) -> bool {
    now.saturating_sub(login.auth_time) <= CONFIRM_MAX_LOGIN_AGE
}

/// `GET /account/activity`.
pub async fn activity(State(app): State<App>, s: Session, headers: HeaderMap) -> Response {
    let lang = lang(&headers, None);
    let (_, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let loaded = async {
        let logins = app.db.sso_sessions_history(&account.id, 50).await?;
        let releases = app.db.releases_of(&account.id).await?;
        let mut names = BTreeMap::new();
        for r in &releases {
            if !names.contains_key(&r.client_id) {
                let n = app
                    .db
                    .client_get(&r.client_id)
                    .await?
                    .map(|c| c.name)
                    .unwrap_or_else(|| r.client_id.clone());
                names.insert(r.client_id.clone(), n);
            }
        }
        Ok::<_, crate::store::StoreError>((logins, releases, names))
    };
    let (logins, releases, names) = match loaded.await {
        Ok(x) => x,
        Err(e) => return internal(lang, e),
    };
    let page = pages::ActivityPage {
        lang,
        logins: logins
            .iter()
            .map(|l| pages::LoginRow {
                when: format_time(lang, l.created_at),
                methods: l.methods.clone(),
                level: l.level.as_str().into(),
                device: l.user_agent.as_deref().map(|ua| device_words(lang, ua)),
            })
            .collect(),
        releases: releases
            .iter()
            .map(|r| pages::ReleaseRow {
                when: format_time(lang, r.last_at),
                client_name: names.get(&r.client_id).cloned().unwrap_or_default(),
                claims: r.claims.clone(),
                level: r.level.as_str().into(),
                count: r.count,
            })
            .collect(),
    };
    Html(page.render(&app.config.site)).into_response()
}

/// A `User-Agent` in plain words ("Firefox auf Linux").
pub fn device_words(lang: Lang, user_agent: &str) -> String {
    let a = i18n::account_texts(lang);
    match super::device::describe(user_agent) {
        (None, None) => a.device_unknown.to_string(),
        (b, o) => i18n::fill(
            &i18n::fill(a.device, "browser", b.unwrap_or(a.browser_unknown)),
            "os",
            o.unwrap_or(a.os_unknown),
        ),
    }
}

async fn render_data(
    app: &App,
    s: &Session,
    lang: Lang,
    login: &SsoLogin,
    error: Option<(DataForm, ConfirmError)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let page = pages::DataPage {
        lang,
        csrf,
        fresh: fresh(login, app.clock.now()),
        export_action: "/account/export".into(),
        delete_action: "/account/delete".into(),
        error,
    };
    let status = match error {
        None => StatusCode::OK,
        Some((_, ConfirmError::PasswordWrong)) => StatusCode::UNAUTHORIZED,
        Some(_) => StatusCode::BAD_REQUEST,
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// `GET /account/data`.
pub async fn data_page(State(app): State<App>, s: Session, headers: HeaderMap) -> Response {
    let lang = lang(&headers, None);
    match citizen(&app, &s, lang).await {
        Ok((login, _)) => render_data(&app, &s, lang, &login, None).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

impl HasCsrf for ConfirmForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The logged-in citizen of a form of `/account/data`, once the session proved it is them: a
/// fresh login, or the right password. `Err` is the page to show (the login page, the form
/// with its error, or the login page after too many wrong passwords).
async fn confirmed(
    app: &App,
    s: &Session,
    lang: Lang,
    form: DataForm,
    password: &str,
) -> Result<(SsoLogin, Account), Response> {
    let (login, account) = citizen(app, s, lang).await?;
    confirm(app, s, lang, &login, &account, form, password).await?;
    Ok((login, account))
}

/// The session proves it is the citizen: a fresh login, or the right password.
async fn confirm(
    app: &App,
    s: &Session,
    lang: Lang,
    login: &SsoLogin,
    account: &Account,
    form: DataForm,
    password: &str,
) -> Result<(), Response> {
    if fresh(login, app.clock.now()) {
        return Ok(());
    }
    if password.is_empty() {
        return Err(render_data(
            app,
            s,
            lang,
            login,
            Some((form, ConfirmError::PasswordMissing)),
        )
        .await);
    }
    let ok = match app
        .hasher
        .verify(password.to_string(), account.password_hash.clone())
        .await
    {
        Ok(ok) => ok,
        Err(e) => return Err(internal(lang, e)),
    };
    let mut failures = session::keys::STEPUP_FAILURES
        .get(s)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    if ok {
        if failures.remove(FAILURE_KEY).is_some() {
            let _ = session::keys::STEPUP_FAILURES.insert(s, &failures).await;
        }
        return Ok(());
    }
    let n = failures.get(FAILURE_KEY).copied().unwrap_or(0) + 1;
    audit::record_or_log(
        &app.db,
        Entry::new(Event::LoginFailed, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .with("method", "pwd")
            .with("purpose", "confirm_account_data"),
    )
    .await;
    if n >= MAX_CONFIRM_FAILURES {
        let _ = session::clear(s).await;
        return Err(axum::response::Redirect::to("/login").into_response());
    }
    failures.insert(FAILURE_KEY.to_string(), n);
    if let Err(e) = session::keys::STEPUP_FAILURES.insert(s, &failures).await {
        return Err(internal(lang, e));
    }
    Err(render_data(
        app,
        s,
        lang,
        login,
        Some((form, ConfirmError::PasswordWrong)),
    )
    .await)
}

/// `POST /account/export`: the JSON download.
pub async fn export(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> Response {
    let lang = lang(&headers, None);
    let (_, account) = match confirmed(&app, &s, lang, DataForm::Export, &f.password).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sessions = match app.db.sso_sessions_history(&account.id, 1000).await {
        Ok(rows) => Value::Array(
            rows.iter()
                .map(|r| {
                    serde_json::json!({
                        "created_at": r.created_at,
                        "last_seen_at": r.last_seen_at,
                        "auth_time": r.auth_time,
                        "methods": r.methods,
                        "level": r.level,
                        "user_agent": r.user_agent,
                        "address": r.address,
                        "ended_at": r.ended_at,
                        "end_reason": r.end_reason,
                    })
                })
                .collect(),
        ),
        Err(e) => return internal(lang, e),
    };
    let doc = match data::export(&app.db, &account, sessions).await {
        Ok(d) => d,
        Err(e) => return internal(lang, e),
    };
    if let Err(e) = audit::record(
        &app.db,
        Entry::new(
            Event::AccountDataExported,
            Actor::Account(account.id.clone()),
        )
        .subject(&account.id),
    )
    .await
    {
        return internal(lang, e);
    }
    let body = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string());
    (
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pforte-daten.json\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// `POST /account/delete`.
pub async fn delete(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> Response {
    let lang = lang(&headers, None);
    let (login, account) = match confirmed(&app, &s, lang, DataForm::Delete, &f.password).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if f.confirm != "yes" {
        return render_data(
            &app,
            &s,
            lang,
            &login,
            Some((DataForm::Delete, ConfirmError::NotConfirmed)),
        )
        .await;
    }
    // Audited first (a security event gates the action); the erasure then rewrites this entry
    // to the pseudonym like every other one about the account.
    if let Err(e) = audit::record(
        &app.db,
        Entry::new(Event::AccountDeleted, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .with(
                "confirmed_by",
                if fresh(&login, app.clock.now()) {
                    "fresh_login"
                } else {
                    "password"
                },
            ),
    )
    .await
    {
        return internal(lang, e);
    }
    // Every session of the account ends through the one ending function (back-channel
    // logout tells the services they reached), then the data goes.
    if let Err(e) = crate::sessions::end(
        &app.db,
        crate::sessions::Scope::Account {
            account_id: &account.id,
            except: None,
        },
        crate::sessions::Reason::AccountDeleted,
    )
    .await
    {
        return internal(lang, e);
    }
    if let Err(e) = data::erase(&app.db, &app.kek, &account).await {
        return internal(lang, e);
    }
    let _ = session::clear(&s).await;
    Html(pages::DeletedPage { lang }.render(&app.config.site)).into_response()
}
