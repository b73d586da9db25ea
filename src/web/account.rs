//! The citizen's account overview (the data cockpit): which services have which data, when
//! they last received it and at which level, withdrawing a service, and the signed-in devices.
//!
//! - `GET /account` (`?revoked=CLIENT` / `?ended=N` confirm an action at the top);
//! - `POST /account/consents/{client_id}/revoke` (CSRF): the consent goes and every grant,
//!   refresh token and access token the service holds for this account is revoked at once
//!   (`Db::service_revoke`, one transaction); `consent.revoked` is audited. The client id in
//!   the path is only ever combined with the session's own account, so nobody can withdraw
//!   another citizen's service.
//! - `POST /account/sessions/end-others` (CSRF): "log out everywhere else" through
//!   `sessions::end`; audited `logout` with the ended sids.
//!
//! Shared helpers of the account pages live here too: [`citizen`] (the logged-in, enabled
//! account or the way to the login page), [`format_date`] and [`format_time`].

use axum::{
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    authorize::lang,
    csrf::{CsrfForm, CsrfOnly},
    error::PageError,
    i18n, pages, session,
};
use crate::{
    accounts::data,
    app::App,
    audit::{self, Actor, Entry, Event},
    oidc::SsoLogin,
    store::accounts::Account,
};

/// The logged-in citizen whose account still exists and is enabled, or the response to send
/// instead (the login page; a session whose account is gone or disabled is cleared).
pub(in crate::web) async fn citizen(
    app: &App,
    s: &Session,
    lang: i18n::Lang,
) -> Result<(SsoLogin, Account), Response> {
    let login = match session::login(&app.db, s).await {
        Ok(Some(l)) => l,
        Ok(None) => return Err(Redirect::to("/login").into_response()),
        Err(e) => return Err(PageError::from(e).in_lang(lang).into_response()),
    };
    match app.db.account_get(&login.account_id).await {
        Ok(Some(a)) if a.disabled_at.is_none() => Ok((login, a)),
        Ok(_) => {
            let _ = session::clear(s).await;
            Err(Redirect::to("/login").into_response())
        }
        Err(e) => Err(PageError::from(e).in_lang(lang).into_response()),
    }
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    pub revoked: Option<String>,
    pub ended: Option<usize>,
}

/// `GET /account`.
pub async fn account(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    // A database failure shows an error page, never an account page with data missing.
    let loaded = async {
        let attrs = app.db.account_attributes(&account.id).await?;
        let consents = app.db.consent_list(&account.id).await?;
        let releases = app.db.releases_of(&account.id).await?;
        let mut services = Vec::new();
        for svc in data::services(&consents, &releases) {
            let client = app.db.client_get(&svc.client_id).await?;
            // A service that needs a consent (or no longer exists) and has none: withdrawn.
            let withdrawn =
                svc.consent.is_none() && !client.as_ref().is_some_and(|c| c.first_party);
            services.push(pages::ServiceRow {
                client_name: display_name(client, &svc.client_id),
                withdrawn,
                scopes: svc.consent.map(|c| c.scopes),
                received: svc.received,
                last: svc
                    .last_at
                    .zip(svc.level)
                    .map(|(t, l)| (format_date(lang, t), l.as_str().to_string())),
                revoke_action: format!("/account/consents/{}/revoke", urlencode(&svc.client_id)),
            });
        }
        let idle = app.config.session.idle_secs as i64;
        let sessions = app
            .db
            .sso_sessions_of(&account.id, idle)
            .await?
            .into_iter()
            .map(|r| pages::SessionRow {
                device: r
                    .user_agent
                    .as_deref()
                    .map(|ua| super::account_data::device_words(lang, ua))
                    .unwrap_or_else(|| i18n::account_texts(lang).device_unknown.to_string()),
                since: format_time(lang, r.created_at),
                last_seen: format_time(lang, r.last_seen_at),
                current: r.sid == login.sid,
            })
            .collect::<Vec<_>>();
        let notice = match (&q.revoked, q.ended) {
            (Some(id), _) => Some(pages::AccountNotice::Revoked(client_name(&app, id).await?)),
            (None, Some(n)) => Some(pages::AccountNotice::SessionsEnded(n)),
            _ => None,
        };
        Ok::<_, PageError>((attrs, services, sessions, notice))
    };
    let (attrs, services, sessions, notice) = loaded.await.map_err(|e| e.in_lang(lang))?;
    let csrf = session::csrf_token(&s)
        .await
        .map_err(|e| PageError::from(e).in_lang(lang))?;
    let page = pages::AccountPage {
        lang,
        display_name: crate::accounts::display_name(&account, &attrs),
        email: account.email.clone(),
        level_label: i18n::level_label(lang, login.level.as_str())
            .unwrap_or(login.level.as_str())
            .to_string(),
        csrf,
        logout_action: "/account/logout".into(),
        services,
        sessions: Some(sessions),
        sessions_end_action: "/account/sessions/end-others".into(),
        notice,
    };
    Ok(Html(page.render(&app.config.site)).into_response())
}

/// A client's display name (its id when it has none or is gone).
async fn client_name(app: &App, client_id: &str) -> Result<String, crate::store::StoreError> {
    Ok(display_name(app.db.client_get(client_id).await?, client_id))
}

/// The client's name, or its id when it has none (or no longer exists).
fn display_name(client: Option<crate::store::clients::Client>, client_id: &str) -> String {
    client
        .map(|c| c.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| client_id.to_string())
}

/// `POST /account/consents/{client_id}/revoke`: withdraws one service and revokes what it
/// holds for this account, at once.
pub async fn revoke_consent(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let (_, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let t = app.clock.now();
    let withdrawn = app
        .db
        .service_revoke(&account.id, &client_id, t)
        .await
        .map_err(|e| PageError::from(e).in_lang(lang))?;
    if !withdrawn {
        return Ok(Redirect::to("/account").into_response());
    }
    audit::record(
        &app.db,
        Entry::new(Event::ConsentRevoked, Actor::Account(account.id.clone()))
            .subject(&client_id)
            .client(&client_id),
    )
    .await
    .map_err(|e| PageError::from(e).in_lang(lang))?;
    Ok(Redirect::to(&format!("/account?revoked={}", urlencode(&client_id))).into_response())
}

/// `POST /account/sessions/end-others`: "log out everywhere else". Every other live session
/// of the account ends through the one ending function (the services they reached are told by
/// back-channel logout where registered); this browser stays logged in.
pub async fn end_other_sessions(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let ended = crate::sessions::end(
        &app.db,
        crate::sessions::Scope::Account {
            account_id: &account.id,
            except: Some(&login.sid),
        },
        crate::sessions::Reason::LoggedOutElsewhere,
    )
    .await
    .map_err(|e| PageError::from(e).in_lang(lang))?;
    audit::record(
        &app.db,
        Entry::new(Event::Logout, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .with("scope", "other_sessions")
            .with(
                "sids",
                ended.iter().map(|e| e.sid.as_str()).collect::<Vec<_>>(),
            ),
    )
    .await
    .map_err(|e| PageError::from(e).in_lang(lang))?;
    Ok(Redirect::to(&format!("/account?ended={}", ended.len())).into_response())
}

pub(super) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A date as people write it in `lang` (UTC): `23.11.2026` / `23 November 2026`.
pub(super) fn format_date(lang: i18n::Lang, t: i64) -> String {
    let Ok(d) = time::OffsetDateTime::from_unix_timestamp(t) else {
        return String::new();
    };
    [
        ("d", d.day().to_string()),
        ("dd", format!("{:02}", d.day())),
        ("mm", format!("{:02}", u8::from(d.month()))),
        ("month", d.month().to_string()),
        ("yyyy", format!("{:04}", d.year())),
    ]
    .iter()
    .fold(
        lang.texts().date_pattern.to_string(),
        |text, (name, value)| i18n::fill(&text, name, value),
    )
}

/// Date and time of day (`14:05`) in German time (CET/CEST, the EU summer-time rule:
/// from the last Sunday of March to the last Sunday of October, 01:00 UTC), where Pforte's
/// citizens live; the date as [`format_date`] writes it.
pub(super) fn format_time(lang: i18n::Lang, t: i64) -> (String, String) {
    let local = t + german_offset(t);
    let Ok(d) = time::OffsetDateTime::from_unix_timestamp(local) else {
        return (String::new(), String::new());
    };
    (
        format_date(lang, local),
        format!("{:02}:{:02}", d.hour(), d.minute()),
    )
}

/// Seconds east of UTC for Germany at `t`: 3600, or 7200 in summer time.
fn german_offset(t: i64) -> i64 {
    let Ok(d) = time::OffsetDateTime::from_unix_timestamp(t) else {
        return 3600;
    };
    let last_sunday_1am = |month: time::Month| {
        let last = time::Date::from_calendar_date(d.year(), month, 31).ok()?;
        let sunday = last - time::Duration::days(last.weekday().number_days_from_sunday() as i64);
        Some(sunday.midnight().assume_utc().unix_timestamp() + 3600)
    };
    match (
        last_sunday_1am(time::Month::March),
        last_sunday_1am(time::Month::October),
    ) {
        (Some(start), Some(end)) if t >= start && t < end => 7200,
        _ => 3600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_time_follows_the_eu_summer_time_rule() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let at = |y, m, d, h, min| {
            time::Date::from_calendar_date(y, m, d)
                .unwrap()
                .with_hms(h, min, 0)
                .unwrap()
                .assume_utc()
                .unix_timestamp()
        };
        use time::Month::*;
        assert_eq!(
            format_time(i18n::Lang::De, at(2026, December, 7, 13, 5)).1,
            "14:05"
        );
        assert_eq!(
            format_time(i18n::Lang::De, at(2026, July, 1, 13, 5)).1,
            "15:05"
        );
        assert_eq!(german_offset(at(2026, March, 29, 0, 59)), 3600);
        assert_eq!(german_offset(at(2026, March, 29, 1, 0)), 7200);
        assert_eq!(german_offset(at(2026, October, 25, 0, 59)), 7200);
        assert_eq!(german_offset(at(2026, October, 25, 1, 0)), 3600);
        // Late evening UTC on the 31st is the next day in Germany.
        assert_eq!(
            format_time(i18n::Lang::De, at(2026, December, 31, 23, 30)).0,
            "01.01.2027"
        );
    }
}
