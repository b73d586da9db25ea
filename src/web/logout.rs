//! RP-Initiated Logout 1.0 (`end_session_endpoint`) and the citizen's own logout.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    authorize::{error_page, lang},
    pages,
    protocol::EndpointParams,
    session,
};
use crate::{
    app::App,
    oidc::{error::OAuthError, logout, params::Params},
};

/// The end_session endpoint, GET and POST (RP-Initiated Logout 1.0 §2).
pub async fn logout(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    EndpointParams(p): EndpointParams,
) -> Response {
    match p {
        Ok(p) => handle(&app, &s, &headers, p).await,
        Err(e) => error_page(lang(&headers, None), &e),
    }
}

/// With a valid id_token_hint naming the logged-in citizen the logout happens at once; without
/// one the citizen confirms first (§2: the OP SHOULD ask, so a third party cannot log them out).
async fn handle(app: &App, s: &Session, headers: &HeaderMap, p: Params) -> Response {
    let lang = lang(headers, p.get("ui_locales"));
    let req = match logout::validate(app, &p).await {
        Ok(r) => r,
        Err(e) => return error_page(lang, &e),
    };
    let login = session::login(s).await.ok().flatten();
    let confirmed = p.get("confirm").is_some()
        && session::csrf_ok(s, p.get("csrf").unwrap_or(""))
            .await
            .unwrap_or(false);
    let hint_matches = req.hinted_sub.is_some()
        && login
            .as_ref()
            .is_none_or(|l| Some(&l.account_id) == req.hinted_sub.as_ref());
    if login.is_some() && !hint_matches && !confirmed {
        let csrf = match session::csrf_token(s).await {
            Ok(t) => t,
            Err(e) => return error_page(lang, &OAuthError::internal(e)),
        };
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
        return Html(page.render()).into_response();
    }
    if let Some(l) = &login {
        let _ = app
            .db
            .audit(
                &format!("account:{}", l.account_id),
                "logout",
                req.client_id.as_deref(),
                serde_json::json!({ "sid": l.sid }),
            )
            .await;
    }
    if let Err(e) = session::clear(s).await {
        return error_page(lang, &OAuthError::internal(e));
    }
    match req.redirect {
        Some(uri) => Redirect::to(&uri).into_response(),
        None => Html(pages::LoggedOutPage { lang }.render()).into_response(),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The account page's logout button.
pub async fn account_logout(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = lang(&headers, None);
    if !session::csrf_ok(&s, &f.csrf).await.unwrap_or(false) {
        return error_page(
            lang,
            &OAuthError::invalid_request("the form has expired; please try again"),
        );
    }
    if let Ok(Some(l)) = session::login(&s).await {
        let _ = app
            .db
            .audit(
                &format!("account:{}", l.account_id),
                "logout",
                None,
                serde_json::json!({ "sid": l.sid }),
            )
            .await;
    }
    let _ = session::clear(&s).await;
    Html(pages::LoggedOutPage { lang }.render()).into_response()
}
