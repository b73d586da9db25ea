//! Signing staff in: the console as a first-party client of Pforte (login, callback with the
//! ID token checked in process, logout) and the overview page.

use super::*;

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
    fresh: Option<String>,
}

/// Starts the sign-in: an authorization request of the console's client to Pforte itself.
pub(super) async fn login(
    State(app): State<App>,
    s: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
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
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The end of the sign-in: code exchange in process, ID token verified, roles checked.
pub(super) async fn callback(
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

pub(super) async fn logout(
    s: Session,
    CsrfForm(_): CsrfForm<crate::web::csrf::CsrfOnly>,
) -> Response {
    let _ = session::clear(&s).await;
    Redirect::to("/admin/login").into_response()
}

// ---------------------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/home.html")]
pub(super) struct HomePage {
    c: C,
}

pub(super) async fn home(staff: Staff) -> Response {
    page(
        StatusCode::OK,
        HomePage {
            c: staff.c("home", staff.t.get("home")),
        }
        .render(),
    )
}
