//! Changing the password on the security page (the current password or a fresh login).

use super::*;

/// Whether the change may go ahead: the current password is right, or the account has none
/// and the login is fresh. `Err` carries the field error (or a busy/internal response).
pub(super) async fn confirm_identity(
    app: &App,
    login: &SsoLogin,
    account: &Account,
    current: &str,
    lang: Lang,
) -> Result<Option<(String, String)>, Response> {
    let t = texts(lang);
    match &account.password_hash {
        Some(stored) => {
            if current.is_empty() {
                return Ok(Some((
                    "current_password".into(),
                    lang.catalog().lookups.fields.required_password.into(),
                )));
            }
            match app
                .hasher
                .verify(current.to_string(), Some(stored.clone()))
                .await
            {
                Ok(true) => Ok(None),
                Ok(false) => Ok(Some((
                    "current_password".into(),
                    t.current_password_wrong.into(),
                ))),
                Err(HashError::Busy) => Err(busy(lang)),
                Err(e) => Err(internal(lang, e)),
            }
        }
        None if app.clock.now().saturating_sub(login.auth_time) <= FRESH_LOGIN_SECS => Ok(None),
        None => Ok(Some(("form".into(), t.fresh_login_needed.into()))),
    }
}

pub(super) fn current_password_field(lang: Lang, account: &Account) -> Option<FormField> {
    account.password_hash.as_ref().map(|_| {
        FormField::new(
            "current_password",
            texts(lang).current_password_label,
            "password",
            "current-password",
        )
    })
}

pub(super) async fn render_change_password(
    app: &App,
    s: &Session,
    lang: Lang,
    account: &Account,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let t = texts(lang);
    let mut fields: Vec<FormField> = current_password_field(lang, account).into_iter().collect();
    fields.push(new_password_field(app, lang));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = FormPage {
        lang,
        title: t.change_password_title.into(),
        intro: t.change_password_intro.into(),
        action: PASSWORD_URL.into(),
        csrf,
        fields,
        submit: t.change_password_submit.into(),
        errors,
        links: vec![(
            crate::web::security::SECURITY_URL.into(),
            t.back_to_security.into(),
        )],
        min_password_len: app.config.login.min_password_length,
        ..Default::default()
    };
    html(status, page.render(&app.config.site))
}

/// `GET /account/security/password`
pub async fn change_password_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers, None);
    match citizen(&app, &s, lang).await {
        Ok((_, account)) => render_change_password(&app, &s, lang, &account, Vec::new()).await,
        Err(r) => r,
    }
}

/// `POST /account/security/password`
pub async fn change_password_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    form: Result<CsrfForm<PasswordForm>, CsrfRejection<PasswordForm>>,
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
        return render_change_password(&app, &s, lang, &account, errors).await;
    }
    let mut errors = Vec::new();
    match confirm_identity(&app, &login, &account, &f.current_password, lang).await {
        Ok(Some(e)) => errors.push(e),
        Ok(None) => {}
        Err(r) => return r,
    }
    errors.extend(password_problem(
        &f.password,
        &rules_for(&app, &account.id, &account.email).await,
    ));
    if !errors.is_empty() {
        return render_change_password(&app, &s, lang, &account, errors).await;
    }
    let password_hash = match app.hasher.hash(f.password).await {
        Ok(h) => h,
        Err(HashError::Busy) => return busy(lang),
        Err(e) => return internal(lang, e),
    };
    let notice_row = match app
        .outbox
        .row(&password_changed_mail(&app.config.issuer, &account.email))
    {
        Ok(r) => r,
        Err(e) => return internal(lang, e),
    };
    match app
        .db
        .password_change(&account.id, &password_hash, &notice_row)
        .await
    {
        Ok(true) => {}
        Ok(false) => return Redirect::to("/login").into_response(),
        Err(e) => return internal(lang, e),
    }
    app.outbox.queued(&notice_row.id).await;
    let ended = end_sessions(&app, &account.id, Some(&login.sid)).await;
    let recorded = audit::record(
        &app.db,
        Entry::new(Event::PasswordChanged, Actor::Account(account.id.clone()))
            .subject(&account.id)
            .with("sessions_ended", ended),
    )
    .await;
    if let Err(e) = recorded {
        return internal(lang, e);
    }
    let t = texts(lang);
    notice(
        &app,
        StatusCode::OK,
        NoticePage {
            lang,
            title: t.password_changed_title.into(),
            text: t.password_changed_text.into(),
            links: vec![(
                crate::web::security::SECURITY_URL.into(),
                t.back_to_security.into(),
            )],
            success: true,
            ..Default::default()
        },
    )
}
