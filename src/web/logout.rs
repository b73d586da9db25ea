//! RP-Initiated Logout 1.0 (`end_session_endpoint`) and the citizen's own logout.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::{
    authorize::lang,
    csrf::{CsrfForm, CsrfOnly},
    error::PageError,
    pages,
    protocol::EndpointParams,
    session,
};
use crate::{
    app::App,
    audit::{self, Actor, Entry, Event},
    oidc::{logout, params::Params},
    sessions,
};

/// The end_session endpoint, GET and POST (RP-Initiated Logout 1.0 §2).
pub async fn logout(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    EndpointParams(p): EndpointParams,
) -> Result<Response, PageError> {
    match p {
        Ok(p) => handle(&app, &s, &headers, p).await,
        Err(e) => Err(PageError::oauth(&e).in_lang(lang(&headers, None))),
    }
}

/// With a valid id_token_hint naming the logged-in citizen the logout happens at once; without
/// one the citizen confirms first (§2: the OP SHOULD ask, so a third party cannot log them out).
async fn handle(
    app: &App,
    s: &Session,
    headers: &HeaderMap,
    p: Params,
) -> Result<Response, PageError> {
    let lang = lang(headers, p.get("ui_locales"));
    let req = logout::validate(app, &p)
        .await
        .map_err(|e| PageError::oauth(&e).in_lang(lang))?;
    let login = session::login(&app.db, s).await.ok().flatten();
    let confirmed = p.get("confirm").is_some()
        && session::csrf_ok(s, p.get("csrf").unwrap_or(""))
            .await
            .unwrap_or(false);
    let hint_matches = req.hinted_sub.is_some()
        && match &login {
            None => true,
            Some(l) => logout::hint_names(app, &req, &l.account_id)
                .await
                .map_err(|e| PageError::oauth(&e).in_lang(lang))?,
        };
    if login.is_some() && !hint_matches && !confirmed {
        let csrf = session::csrf_token(s)
            .await
            .map_err(|e| PageError::from(e).in_lang(lang))?;
        let client_name = match &req.client_id {
            Some(id) => app.db.client_get(id).await.ok().flatten().map(|c| c.name),
            None => None,
        };
        let page = pages::LogoutPage {
            lang,
            action: "/logout".into(),
            csrf,
            client_name,
            post_logout_redirect_uri: p.get("post_logout_redirect_uri").map(str::to_string),
            state: req.state.clone(),
            id_token_hint: p.get("id_token_hint").map(str::to_string),
            client_id: p.get("client_id").map(str::to_string),
        };
        return Ok(Html(page.render(&app.config.site)).into_response());
    }
    if let Some(l) = &login {
        audit::record_or_log(
            &app.db,
            Entry::new(Event::Logout, Actor::Account(l.account_id.to_string()))
                .subject_opt(req.client_id.as_deref())
                .fields(serde_json::json!({ "sid": l.sid })),
        )
        .await;
        end_session(app, &l.sid)
            .await
            .map_err(|e| PageError::from(e).in_lang(lang))?;
    }
    session::clear(s)
        .await
        .map_err(|e| PageError::from(e).in_lang(lang))?;
    Ok(match req.redirect {
        Some(uri) => Redirect::to(&uri).into_response(),
        None => Html(pages::LoggedOutPage { lang }.render(&app.config.site)).into_response(),
    })
}

/// The account page's logout button.
pub async fn account_logout(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Response {
    let lang = lang(&headers, None);
    if let Ok(Some(l)) = session::login(&app.db, &s).await {
        audit::record_or_log(
            &app.db,
            Entry::new(Event::Logout, Actor::Account(l.account_id.to_string()))
                .fields(serde_json::json!({ "sid": l.sid })),
        )
        .await;
        if let Err(e) = end_session(&app, &l.sid).await {
            return crate::web::error::internal(lang, e);
        }
    }
    let _ = session::clear(&s).await;
    Html(pages::LoggedOutPage { lang }.render(&app.config.site)).into_response()
}

/// Ends the browser's session in the registry (every instance sees it logged out; the
/// services it reached are told through back-channel logout).
async fn end_session(app: &App, sid: &str) -> Result<(), crate::store::StoreError> {
    sessions::end(&app.db, sessions::Scope::One(sid), sessions::Reason::Logout).await?;
    Ok(())
}
