//! Changing the e-mail address: the link to the new address, its confirmation, the notice to
//! the old one.

use super::*;

pub(super) async fn render_change_email(
    app: &App,
    s: &Session,
    lang: Lang,
    account: &Account,
    email: &str,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let mut new_email = FormField::new("email", t.new_email_label, "email", "email");
    new_email.value = email.trim().to_string();
    let mut fields = vec![new_email];
    fields.extend(current_password_field(lang, account));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.change_email_title.into(),
        intro: fill(t.change_email_intro, "email", &account.email),
        action: EMAIL_URL.into(),
        csrf,
        fields,
        submit: t.change_email_submit.into(),
        errors,
        links: vec![(
            crate::web::security::SECURITY_URL.into(),
            t.back_to_security.into(),
        )],
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

/// `GET /account/security/email`
pub async fn change_email_page(State(app): State<App>, s: Session, headers: HeaderMap) -> Response {
    let lang = lang(&headers, None);
    match citizen(&app, &s, lang).await {
        Ok((_, account)) => render_change_email(&app, &s, lang, &account, "", Vec::new()).await,
        Err(r) => r,
    }
}

/// `POST /account/security/email`: sends the confirmation link to the new address.
pub async fn change_email_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    form: Result<CsrfForm<EmailForm>, CsrfRejection<EmailForm>>,
) -> Response {
    let lang = lang(&headers, None);
    let (login, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (f, csrf_ok) = match read_form(form) {
        Ok(x) => x,
        Err(e) => return internal(lang, e),
    };
    if !csrf_ok {
        let errors = vec![("form".to_string(), "session_expired".to_string())];
        return render_change_email(&app, &s, lang, &account, &f.email, errors).await;
    }
    let t = texts(lang);
    let mut errors = Vec::new();
    let new_email = match check_email(&f.email) {
        Ok(e) if e == account.email => {
            errors.push(("email".to_string(), t.email_same.to_string()));
            None
        }
        Ok(e) => Some(e),
        Err(key) => {
            errors.push(("email".to_string(), key.to_string()));
            None
        }
    };
    match confirm_identity(&app, &login, &account, &f.current_password, lang).await {
        Ok(Some(e)) => errors.push(e),
        Ok(None) => {}
        Err(r) => return r,
    }
    let Some(new_email) = new_email.filter(|_| errors.is_empty()) else {
        return render_change_email(&app, &s, lang, &account, &f.email, errors).await;
    };
    let now = app.clock.now();
    let ttl = app.config.login.email_change_ttl_secs;
    let token = secrets::new_secret();
    let link = format!("{}{EMAIL_CONFIRM_URL}?token={token}", app.config.issuer);
    // Whether another account has the new address is not told here (the confirmation page
    // says so only to whoever holds the new mailbox).
    let mail_row = match app.outbox.row(&email_confirm_mail(
        &app.config.issuer,
        &new_email,
        &link,
        ttl / 3600,
    )) {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    let change = PendingEmailChange {
        token_hash: token_hash("email-change", &token),
        account_id: account.id.clone(),
        old_email: account.email.clone(),
        new_email: new_email.clone(),
        expires_at: now + ttl as i64,
    };
    if let Err(e) = app.db.email_change_insert(&change, now, &mail_row).await {
        return internal(lang, e);
    }
    app.outbox.queued(&mail_row.id).await;
    let recorded = audit::record(
        &app.db,
        Entry::new(
            Event::EmailChangeRequested,
            Actor::Account(account.id.clone()),
        )
        .subject(&account.id)
        .before(&account.email)
        .after(&new_email),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.change_email_sent_title.into(),
            text: fill(
                &fill(
                    &fill(t.change_email_sent_text, "new_email", &new_email),
                    "old_email",
                    &account.email,
                ),
                "hours",
                &(ttl / 3600).to_string(),
            ),
            links: vec![(
                crate::web::security::SECURITY_URL.into(),
                t.back_to_security.into(),
            )],
            mail: true,
            ..Default::default()
        },
    )
}

pub(super) async fn invalid_email_link(app: &App, lang: Lang) -> Response {
    tracing::info!("e-mail change link rejected (unknown, expired or used)");
    let t = texts(lang);
    notice(
        app,
        StatusCode::BAD_REQUEST,
        NoticePage {
            lang,
            title: t.email_confirm_invalid_title.into(),
            text: t.email_confirm_invalid_text.into(),
            links: vec![(
                "/account".into(),
                lang.texts().register_verified_link.into(),
            )],
            ..Default::default()
        },
    )
}

/// `GET /account/email/confirm?token=…`: a button to confirm (the link stays unused, so a
/// mail scanner fetching it changes nothing).
pub async fn email_confirm_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    q: Result<Query<LangQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (lang, query, token) = link_query(&headers, q);
    let (db, now) = (&app.db, app.clock.now());
    let pending = match pending_link(&token, "email-change", |h| async move {
        db.email_change_pending(&h, now).await
    })
    .await
    {
        Ok(p) => p,
        Err(e) => return internal(lang, e),
    };
    let Some(pending) = pending else {
        return invalid_email_link(&app, lang).await;
    };
    let csrf = match session::csrf_token(&s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let page = FormPage {
        lang,
        title: t.email_confirm_title.into(),
        intro: fill(t.email_confirm_intro, "new_email", &pending.new_email),
        action: format!("{EMAIL_CONFIRM_URL}{query}"),
        csrf,
        hidden: vec![("token", token)],
        submit: t.email_confirm_submit.into(),
        ..Default::default()
    };
    html(StatusCode::OK, page.render(&app.config.site))
}

/// `POST /account/email/confirm`: the address changes now.
pub async fn email_confirm_submit(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: Result<CsrfForm<PasswordForm>, CsrfRejection<PasswordForm>>,
) -> Response {
    let (lang, query) = page_lang(&headers, q.ui_locales.as_deref());
    let f = match form {
        Ok(CsrfForm(f)) => f,
        Err(CsrfRejection::Expired(_)) => {
            return PageError::form_expired().in_lang(lang).into_response()
        }
        Err(CsrfRejection::Unreadable(_)) => return invalid_email_link(&app, lang).await,
        Err(CsrfRejection::Session(e)) => return internal(lang, e),
    };
    if !plausible_token(&f.token) {
        return invalid_email_link(&app, lang).await;
    }
    let hash = token_hash("email-change", &f.token);
    let now = app.clock.now();
    let pending = match app.db.email_change_pending(&hash, now).await {
        Ok(Some(p)) => p,
        Ok(None) => return invalid_email_link(&app, lang).await,
        Err(e) => return internal(lang, e),
    };
    let notice_row = match app.outbox.row(&email_changed_mail(
        &app.config.issuer,
        &pending.old_email,
        &pending.new_email,
    )) {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    let outcome = match app.db.email_change_consume(&hash, now, &notice_row).await {
        Ok(o) => o,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    match outcome {
        EmailChangeOutcome::Invalid => invalid_email_link(&app, lang).await,
        EmailChangeOutcome::Taken(_) => notice(
            &app,
            StatusCode::CONFLICT,
            NoticePage {
                lang,
                title: t.email_taken_title.into(),
                text: t.email_taken_text.into(),
                links: vec![(format!("/account{query}"), t.login_link.into())],
                ..Default::default()
            },
        ),
        EmailChangeOutcome::Changed(c) => {
            app.outbox.queued(&notice_row.id).await;
            let recorded = audit::record(
                &app.db,
                Entry::new(Event::EmailChanged, Actor::Account(c.account_id.clone()))
                    .subject(&c.account_id)
                    .before(&c.old_email)
                    .after(&c.new_email)
                    .with("method", "link"),
            )
            .await;
            if let Err(e) = recorded {
                return internal(lang, e);
            }
            notice(
                &app,
                StatusCode::OK,
                NoticePage {
                    lang,
                    title: t.email_changed_title.into(),
                    text: fill(t.email_changed_text, "new_email", &c.new_email),
                    links: vec![(format!("/account{query}"), t.login_link.into())],
                    success: true,
                    ..Default::default()
                },
            )
        }
    }
}
