//! The reset link's page: check the single-use token, set the new password, end every
//! session of the account.

use super::*;

pub(super) async fn invalid_reset(app: &App, lang: Lang, query: &str) -> Response {
    tracing::info!("password reset link rejected (unknown, expired or used)");
    let t = texts(lang);
    notice(
        app,
        StatusCode::BAD_REQUEST,
        NoticePage {
            lang,
            title: t.reset_invalid_title.into(),
            text: t.reset_invalid_text.into(),
            links: vec![
                (format!("{FORGOT_URL}{query}"), t.reset_request_again.into()),
                (format!("/login{query}"), t.back_to_login.into()),
            ],
            ..Default::default()
        },
    )
}

pub(super) async fn render_reset(
    app: &App,
    s: &Session,
    lang: Lang,
    query: &str,
    token: &str,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.reset_title.into(),
        intro: fill(t.reset_intro, "email", email),
        action: format!("{RESET_URL}{query}"),
        csrf,
        hidden: vec![("token", token.to_string())],
        fields: vec![new_password_field(app, lang)],
        submit: t.reset_submit.into(),
        errors,
        min_password_len: app.config.login.min_password_length,
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

pub(super) fn new_password_field(app: &App, lang: Lang) -> FormField {
    let p = lang.texts();
    let min = app.config.login.min_password_length;
    let mut f = FormField::new("password", p.new_password_label, "password", "new-password");
    f.hint = Some(fill(p.password_hint, "min", &min.to_string()));
    f.minlength = Some(min);
    f
}

/// `GET /password/reset?token=…`: the form for a usable link; the link stays unused.
pub async fn reset_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    q: Result<Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (lang, query, token) = link_query(&headers, q);
    let (db, now) = (&app.db, app.clock.now());
    let pending = match pending_link(&token, "reset", |h| async move {
        db.reset_pending(&h, now).await
    })
    .await
    {
        Ok(p) => p,
        Err(e) => return internal(lang, e),
    };
    match pending {
        Some(p) => render_reset(&app, &s, lang, &query, &token, &p.email, Vec::new()).await,
        None => invalid_reset(&app, lang, &query).await,
    }
}

/// `POST /password/reset`: uses the link and sets the new password.
pub async fn reset_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<PasswordForm>, CsrfRejection<PasswordForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let (f, csrf_ok) = match form {
        Ok(CsrfForm(f)) => (f, true),
        Err(CsrfRejection::Expired(f)) => (f, false),
        Err(CsrfRejection::Unreadable(_)) => return invalid_reset(&app, lang, &query).await,
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    let hash = token_hash("reset", &f.token);
    let now = app.clock.now();
    let pending = if plausible_token(&f.token) {
        match app.db.reset_pending(&hash, now).await {
            Ok(p) => p,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    let Some(pending) = pending else {
        return invalid_reset(&app, lang, &query).await;
    };
    let account = match app.db.account_get(&pending.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return invalid_reset(&app, lang, &query).await,
        Err(e) => return internal(lang, e),
    };
    let mut errors = Vec::new();
    if !csrf_ok {
        errors.push(("form".to_string(), "session_expired".to_string()));
    }
    errors.extend(password_problem(
        &f.password,
        &rules_for(&app, &account.id, &account.email).await,
    ));
    if !errors.is_empty() {
        return render_reset(&app, &s, lang, &query, &f.token, &pending.email, errors).await;
    }
    let password_hash = match app.hasher.hash(f.password).await {
        Ok(h) => h,
        Err(HashError::Busy) => return busy(lang),
        Err(e) => return internal(lang, e),
    };
    let notice_row = match app
        .outbox
        .row(&password_changed_mail(&app.config.issuer, &pending.email))
    {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    let used = match app
        .db
        .reset_consume(&hash, now, &password_hash, &notice_row)
        .await
    {
        Ok(u) => u,
        Err(e) => return internal(lang, e),
    };
    let Some(reset) = used else {
        return invalid_reset(&app, lang, &query).await;
    };
    app.outbox.queued(&notice_row.id).await;
    // Every session of the account ends: whoever knew the old password is out.
    let ended = end_sessions(&app, &reset.account_id, None).await;
    let recorded = audit::record(
        &app.db,
        Entry::new(
            Event::PasswordReset,
            Actor::Account(reset.account_id.clone()),
        )
        .subject(&reset.account_id)
        .with("method", "link")
        .with("sessions_ended", ended),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    tracing::info!(account = %reset.account_id, sessions_ended = ended, "password reset by link");
    let t = texts(lang);
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.reset_done_title.into(),
            text: t.reset_done_text.into(),
            links: vec![(format!("/account{query}"), t.login_link.into())],
            success: true,
            ..Default::default()
        },
    )
}
