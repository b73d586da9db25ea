//! The citizen's own pages: the account overview (what each service received, revoke it).

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::{
    authorize::lang,
    csrf::{CsrfForm, CsrfOnly},
    error::PageError,
    i18n, pages, session,
};
use crate::{
    app::App,
    audit::{self, Actor, Entry, Event},
};

pub async fn account(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let Ok(Some(login)) = session::login(&app.db, &s).await else {
        return Ok(Redirect::to("/login").into_response());
    };
    let account = match app.db.account_get(&login.account_id).await {
        Ok(Some(a)) if a.disabled_at.is_none() => a,
        Ok(_) => {
            let _ = session::clear(&s).await;
            return Ok(Redirect::to("/login").into_response());
        }
        Err(e) => return Err(PageError::from(e).in_lang(lang)),
    };
    // A database failure shows an error page, never an account page with data missing.
    let loaded = async {
        let attrs = app.db.account_attributes(&account.id).await?;
        let mut consents = Vec::new();
        for c in app.db.consent_list(&account.id).await? {
            let client_name = app
                .db
                .client_get(&c.client_id)
                .await?
                .map(|c| c.name)
                .unwrap_or_else(|| c.client_id.clone());
            consents.push(pages::ConsentRow {
                client_name,
                scopes: c.scopes,
                granted_at: format_date(lang, c.granted_at),
                revoke_action: format!("/account/consents/{}/revoke", urlencode(&c.client_id)),
            });
        }
        Ok::<_, PageError>((attrs, consents))
    };
    let (attrs, consents) = loaded.await.map_err(|e| e.in_lang(lang))?;
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
        consents,
    };
    Ok(Html(page.render(&app.config.site)).into_response())
}

/// Withdraws consent for one service and revokes what it holds.
pub async fn revoke_consent(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let lang = lang(&headers, None);
    let Ok(Some(login)) = session::login(&app.db, &s).await else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = app.clock.now();
    let revoked = async {
        app.db.consent_revoke(&login.account_id, &client_id).await?;
        app.db
            .grants_revoke_for(&login.account_id, &client_id, t)
            .await
    };
    revoked
        .await
        .map_err(|e| PageError::from(e).in_lang(lang))?;
    audit::record(
        &app.db,
        Entry::new(
            Event::ConsentRevoked,
            Actor::Account(login.account_id.to_string()),
        )
        .subject(&client_id),
    )
    .await
    .map_err(|e| PageError::from(e).in_lang(lang))?;
    Ok(Redirect::to("/account").into_response())
}

fn urlencode(s: &str) -> String {
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
