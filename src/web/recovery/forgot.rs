//! "Passwort vergessen?": the request form, the same answer for every address, and the reset
//! link sent after the answer.

use super::*;

pub(super) async fn render_forgot(
    app: &App,
    s: &Session,
    lang: Lang,
    query: &str,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let mut field = FormField::new("email", lang.texts().email_label, "email", "username");
    field.value = email.trim().to_string();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.forgot_title.into(),
        intro: t.forgot_intro.into(),
        action: format!("{FORGOT_URL}{query}"),
        csrf,
        fields: vec![field],
        submit: t.forgot_submit.into(),
        errors,
        links: vec![(format!("/login{query}"), t.back_to_login.into())],
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

/// `GET /password/forgot`
pub async fn forgot_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    render_forgot(&app, &s, lang, &query, "", Vec::new()).await
}

/// `POST /password/forgot`: the same answer for every valid address.
pub async fn forgot_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<EmailForm>, CsrfRejection<EmailForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let (f, csrf_ok) = match read_form(form) {
        Ok(x) => x,
        Err(e) => return internal(lang, e),
    };
    let email = match (csrf_ok, check_email(&f.email)) {
        (true, Ok(e)) => e,
        (ok, result) => {
            let mut errors = Vec::new();
            if !ok {
                errors.push(("form".to_string(), "session_expired".to_string()));
            }
            if let Err(key) = result {
                errors.push(("email".to_string(), key.to_string()));
            }
            return render_forgot(&app, &s, lang, &query, &f.email, errors).await;
        }
    };
    if let Err(resp) = take_submission(&app, addr, lang).await {
        return resp;
    }
    // Whether the address has an account must not show in the answer or its timing: the
    // lookup, the link and the mail happen after the answer.
    tokio::spawn(send_reset_link(app.clone(), email.clone()));
    let t = texts(lang);
    let minutes = app.config.login.password_reset_ttl_secs / 60;
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.forgot_sent_title.into(),
            text: fill(
                &fill(t.forgot_sent_text, "email", &email),
                "minutes",
                &minutes.to_string(),
            ),
            hint: Some(t.forgot_sent_hint.into()),
            links: vec![(format!("/login{query}"), t.back_to_login.into())],
            mail: true,
            ..Default::default()
        },
    )
}

/// The normalised address, or the field error key.
pub(super) fn check_email(raw: &str) -> Result<String, &'static str> {
    if raw.trim().is_empty() {
        return Err("required");
    }
    match accounts::normalise_email(raw) {
        Ok(e) if mail::is_valid_address(&e) => Ok(e),
        _ => Err("email_invalid"),
    }
}

/// Stores and mails a reset link if an enabled account has this address and none went to it
/// within [`RESET_MAIL_WINDOW`].
pub(super) async fn send_reset_link(app: App, email: String) {
    let account = match app.db.account_by_email(&email).await {
        Ok(Some(a)) if a.disabled_at.is_none() => a,
        Ok(_) => {
            tracing::info!("password reset requested for an address without an account");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "looking up an account for a password reset failed");
            return;
        }
    };
    let now = app.clock.now();
    let send = match app
        .db
        .reset_mail_claim(&account.id, now, RESET_MAIL_WINDOW)
        .await
    {
        Ok(send) => send,
        Err(e) => {
            tracing::error!(error = %e, "claiming a password reset mail failed");
            return;
        }
    };
    if send {
        let ttl = app.config.login.password_reset_ttl_secs;
        let token = secrets::new_secret();
        let stored = app
            .db
            .reset_insert(
                &PendingReset {
                    token_hash: token_hash("reset", &token),
                    account_id: account.id.clone(),
                    email: account.email.clone(),
                    expires_at: now + ttl as i64,
                },
                now,
            )
            .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "storing a password reset link failed");
            return;
        }
        let link = format!("{}{RESET_URL}?token={token}", app.config.issuer);
        let mail = reset_mail(&app.config.issuer, &account.email, &link, ttl / 60);
        if let Err(e) = app.outbox.send(&mail).await {
            tracing::error!(error = %e, "queueing a password reset mail failed");
            return;
        }
    }
    audit::record_or_log(
        &app.db,
        Entry::new(Event::PasswordResetRequested, Actor::Anonymous)
            .subject(&account.id)
            .with("sent", send),
    )
    .await;
}
