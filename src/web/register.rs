//! Self-registration: the form, the "check your mail" page, and the e-mail verification link.
//!
//! - `GET /register` shows the form; `POST /register` checks it (CSRF, e-mail syntax, password
//!   length, names without control characters) and shows it again with field errors (400).
//! - A valid submission for a new address creates the account (`email_verified = false`,
//!   proofing level low), mails a single-use verification link valid for 24 hours, and
//!   redirects (303) to `GET /register/done`.
//! - For an address that already has an account the citizen sees exactly the same: the same
//!   redirect and page, after the same password-hashing work. Instead of a link, the address
//!   gets a mail saying that someone tried to register with it (at most one per
//!   [`NOTICE_WINDOW`]), so the form reveals nothing about which addresses have accounts.
//! - `GET /register/verify?token=…` uses the link: the address is verified (audited
//!   `account.email_verified`) and a confirmation page links to the account. An unknown,
//!   expired or used link gives a readable 400 page.
//!
//! Neither the password nor a link's token is written to the audit log or the logs; the
//! token is stored only as its SHA-256 ([`secrets::hash_secret`]).

use axum::{
    extract::{rejection::FormRejection, Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{
    authorize::{error_page, lang},
    i18n::Lang,
    pages, session,
};
use crate::{
    accounts::{self, AccountError, HashError, NewAccount},
    app::App,
    mail::{self, Mail, Mailer},
    oidc::error::OAuthError,
    secrets,
    store::{accounts::Account, now, verifications::Verification},
};

/// How long a verification link stays valid.
pub const VERIFICATION_TTL: i64 = 24 * 3600;
/// At most one "someone tried to register with your address" mail per address in this time.
pub const NOTICE_WINDOW: i64 = 15 * 60;
/// Longest password accepted, in bytes (argon2 input stays bounded).
const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Session key holding the address the done page talks about.
const DONE_EMAIL: &str = "register_done";

#[derive(Deserialize, Default)]
pub struct LangQuery {
    pub ui_locales: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    pub token: Option<String>,
    pub ui_locales: Option<String>,
}

/// The page language, and the query that keeps an explicit `ui_locales` choice across the
/// form post and the redirect (built from the chosen language, never echoing the input).
fn page_lang(headers: &HeaderMap, q: &LangQuery) -> (Lang, String) {
    let lang = lang(headers, q.ui_locales.as_deref());
    let explicit = q
        .ui_locales
        .as_deref()
        .is_some_and(|u| u.split_whitespace().any(|t| Lang::parse(t).is_some()));
    let query = if explicit {
        format!("?ui_locales={}", lang.code())
    } else {
        String::new()
    };
    (lang, query)
}

fn internal(lang: Lang, e: impl std::fmt::Display) -> Response {
    error_page(lang, &OAuthError::internal(e))
}

fn busy(lang: Lang) -> Response {
    error_page(
        lang,
        &OAuthError::temporarily_unavailable(
            "too many registrations at once; please try again in a moment",
        ),
    )
}

/// Renders the form; `errors` as in [`pages::RegisterPage::errors`].
async fn render_form(
    s: &Session,
    lang: Lang,
    query: &str,
    form: &RegisterForm,
    errors: Vec<(String, String)>,
) -> Response {
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = pages::RegisterPage {
        lang,
        action: format!("/register{query}"),
        csrf,
        email: form.email.trim().to_string(),
        given_name: form.given_name.clone(),
        family_name: form.family_name.clone(),
        errors,
        login_url: format!("/login{query}"),
    };
    (status, Html(page.render())).into_response()
}

/// `GET /register`
pub async fn register_page(s: Session, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let (lang, query) = page_lang(&headers, &q);
    render_form(&s, lang, &query, &RegisterForm::default(), Vec::new()).await
}

/// Characters a name must not contain: control characters and the Unicode bidirectional
/// overrides and isolates (they can make a name display as something else).
fn forbidden_in_name(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks the form. `Ok(normalised e-mail)` or the field errors in form order.
fn validate(
    f: &RegisterForm,
    min_password: usize,
    lang: Lang,
) -> Result<String, Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut err = |field: &str, key: String| errors.push((field.to_string(), key));
    let email = if f.email.trim().is_empty() {
        err("email", "required".into());
        None
    } else {
        match accounts::normalise_email(&f.email) {
            Ok(e) if mail::is_valid_address(&e) => Some(e),
            _ => {
                err("email", "email_invalid".into());
                None
            }
        }
    };
    for (field, value) in [
        ("given_name", &f.given_name),
        ("family_name", &f.family_name),
    ] {
        if value.chars().any(forbidden_in_name) {
            err(field, "invalid_characters".into());
        } else if value.trim().chars().count() > MAX_NAME_CHARS {
            err(field, "too_long".into());
        }
    }
    if f.password.is_empty() {
        err("password", "required".into());
    } else if f.password.len() > MAX_PASSWORD_BYTES {
        err("password", "password_too_long".into());
    } else if f.password.chars().count() < min_password {
        err("password", too_short_message(lang, min_password));
    }
    match email {
        Some(e) if errors.is_empty() => Ok(e),
        _ => Err(errors),
    }
}

/// The key `password_too_short` names the default minimum; another configured minimum gets
/// its own sentence.
fn too_short_message(lang: Lang, min: usize) -> String {
    if min == pages::MIN_PASSWORD_LEN as usize {
        return "password_too_short".into();
    }
    match lang {
        Lang::De => format!("Das Passwort muss mindestens {min} Zeichen lang sein."),
        Lang::En => format!("The password must be at least {min} characters long."),
    }
}

/// `POST /register`
pub async fn register_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: Result<Form<RegisterForm>, FormRejection>,
) -> Response {
    let (lang, query) = page_lang(&headers, &q);
    let Ok(Form(f)) = form else {
        let errors = vec![("form".to_string(), "session_expired".to_string())];
        return render_form(&s, lang, &query, &RegisterForm::default(), errors).await;
    };
    let csrf_ok = match session::csrf_ok(&s, &f.csrf).await {
        Ok(ok) => ok,
        Err(e) => return internal(lang, e),
    };
    let min_password = app.config.login.min_password_length as usize;
    let email = match (csrf_ok, validate(&f, min_password, lang)) {
        (true, Ok(email)) => email,
        (ok, result) => {
            let mut errors = result.err().unwrap_or_default();
            if !ok {
                errors.insert(0, ("form".into(), "session_expired".into()));
            }
            return render_form(&s, lang, &query, &f, errors).await;
        }
    };

    let existing = match app.db.account_by_email(&email).await {
        Ok(a) => a,
        Err(e) => return internal(lang, e),
    };
    let outcome = match existing {
        Some(account) => already_registered(&app, &account, f.password).await,
        None => {
            let new = NewAccount {
                email: email.clone(),
                password: f.password,
                given_name: Some(f.given_name),
                family_name: Some(f.family_name),
                email_verified: false,
            };
            match accounts::create(&app.db, &app.hasher, new, min_password).await {
                Ok(account) => registered(&app, &account).await,
                // Registered in the meantime by a concurrent request: the same as above, but
                // the password was hashed already.
                Err(AccountError::EmailTaken) => match app.db.account_by_email(&email).await {
                    Ok(Some(account)) => notify_existing(&app, &account).await,
                    Ok(None) => Err(Failure::Internal("account vanished".into())),
                    Err(e) => Err(Failure::Internal(e.to_string())),
                },
                Err(AccountError::Hash(HashError::Busy)) => Err(Failure::Busy),
                Err(
                    e @ (AccountError::InvalidEmail
                    | AccountError::PasswordTooShort(_)
                    | AccountError::PasswordTooLong
                    | AccountError::InvalidName(_)),
                ) => {
                    // `validate` is at least as strict; this is a safety net.
                    Err(Failure::Internal(format!(
                        "registration input rejected: {e}"
                    )))
                }
                Err(e) => Err(Failure::Internal(e.to_string())),
            }
        }
    };
    match outcome {
        Ok(()) => {}
        Err(Failure::Busy) => return busy(lang),
        Err(Failure::Internal(e)) => return internal(lang, e),
    }
    if let Err(e) = s.insert(DONE_EMAIL, &email).await {
        return internal(lang, e);
    }
    Redirect::to(&format!("/register/done{query}")).into_response()
}

enum Failure {
    Busy,
    Internal(String),
}

/// A new account: store a verification link, mail it, audit.
async fn registered(app: &App, account: &Account) -> Result<(), Failure> {
    let t = now();
    let token = secrets::new_secret();
    app.db
        .verification_insert(&Verification {
            token_hash: secrets::hash_secret(&token),
            account_id: account.id.clone(),
            email: account.email.clone(),
            created_at: t,
            expires_at: t + VERIFICATION_TTL,
        })
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let _ = app
        .db
        .audit(
            &format!("account:{}", account.id),
            "account.registered",
            Some(&account.id),
            json!({
                "email": account.email,
                "method": "self",
                "proofing_level": account.proofing_level,
                "email_verified": false,
            }),
        )
        .await;
    tracing::info!(account = %account.id, "account registered; verification mail follows");
    let link = format!("{}/register/verify?token={token}", app.config.issuer);
    deliver(
        app,
        verification_mail(&app.config.issuer, &account.email, &link),
    )
    .await;
    Ok(())
}

/// The address has an account: spend the same hashing work as a registration would (so the
/// answer time does not tell), then notify the holder.
async fn already_registered(app: &App, account: &Account, password: String) -> Result<(), Failure> {
    match app.hasher.hash(password).await {
        Ok(_) => {}
        Err(HashError::Busy) => return Err(Failure::Busy),
        Err(e) => return Err(Failure::Internal(e.to_string())),
    }
    notify_existing(app, account).await
}

async fn notify_existing(app: &App, account: &Account) -> Result<(), Failure> {
    let send = account.disabled_at.is_none()
        && app
            .db
            .registration_notice_claim(&account.id, now(), NOTICE_WINDOW)
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?;
    let _ = app
        .db
        .audit(
            "anonymous",
            "account.registration_repeated",
            Some(&account.id),
            json!({ "notice_sent": send }),
        )
        .await;
    if send {
        let url = format!("{}/account", app.config.issuer);
        deliver(
            app,
            existing_account_mail(&app.config.issuer, &account.email, &url),
        )
        .await;
    } else {
        tracing::info!(account = %account.id, "registration with a registered address; notice throttled");
    }
    Ok(())
}

/// Sends a mail; failures are logged, never shown (the page must not differ between a new
/// and a registered address, and the account exists either way).
async fn deliver(app: &App, mail: Mail) {
    let mailer = match Mailer::from_config(&app.config) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "cannot send mail");
            return;
        }
    };
    if let Err(e) = mailer.send(&mail).await {
        tracing::error!(error = %e, subject = %mail.subject, "sending mail failed");
    }
}

/// `GET /register/done`: "we have sent you an e-mail".
pub async fn register_done(s: Session, headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let (lang, query) = page_lang(&headers, &q);
    match s.get::<String>(DONE_EMAIL).await {
        Ok(Some(email)) => Html(pages::RegisterDonePage { lang, email }.render()).into_response(),
        Ok(None) => Redirect::to(&format!("/register{query}")).into_response(),
        Err(e) => internal(lang, e),
    }
}

/// `GET /register/verify?token=…`
pub async fn verify(
    State(app): State<App>,
    headers: HeaderMap,
    q: Result<Query<VerifyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let lang = lang(&headers, q.ui_locales.as_deref());
    let token = q.token.unwrap_or_default();
    // Tokens are 43 characters of base64url; anything else cannot match.
    let plausible = !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let verified = if plausible {
        match app
            .db
            .verification_consume(&secrets::hash_secret(&token), now())
            .await
        {
            Ok(v) => v,
            Err(e) => return internal(lang, e),
        }
    } else {
        None
    };
    let Some(v) = verified else {
        tracing::info!("e-mail verification link rejected (unknown, expired or used)");
        let page = pages::ErrorPage {
            lang,
            status: 400,
            title: None,
            error: "invalid_verification_link".into(),
            description: "the verification link is unknown, expired or already used".into(),
        };
        return (StatusCode::BAD_REQUEST, Html(page.render())).into_response();
    };
    let _ = app
        .db
        .audit(
            &format!("account:{}", v.account_id),
            "account.email_verified",
            Some(&v.account_id),
            json!({ "email": v.email, "method": "link" }),
        )
        .await;
    tracing::info!(account = %v.account_id, "e-mail address verified");
    let page = pages::RegisterVerifiedPage {
        lang,
        account_url: "/account".into(),
    };
    Html(page.render()).into_response()
}

// --- Mail texts: German first, English below ------------------------------------------------

const SIGNATURE_DE: &str =
    "Diese E-Mail wurde automatisch erstellt. Bitte antworten Sie nicht darauf.";
const SIGNATURE_EN: &str = "This email was generated automatically. Please do not reply.";

/// The verification mail for a new account.
pub fn verification_mail(issuer: &str, to: &str, link: &str) -> Mail {
    let hours = VERIFICATION_TTL / 3600;
    Mail {
        to: to.into(),
        subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse / Please confirm your email address"
            .into(),
        body: format!(
            "Guten Tag,\n\
             \n\
             mit dieser E-Mail-Adresse wurde bei Pforte, dem Servicekonto Ihrer Kommune ({issuer}), \
             ein Servicekonto erstellt. Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie diesen \
             Link öffnen:\n\
             \n\
             {link}\n\
             \n\
             Der Link ist {hours} Stunden gültig und kann nur einmal verwendet werden.\n\
             \n\
             Falls Sie kein Servicekonto erstellt haben, können Sie diese E-Mail ignorieren.\n\
             \n\
             {SIGNATURE_DE}\n\
             \n\
             ---------- English ----------\n\
             \n\
             Hello,\n\
             \n\
             a citizen account has been created with this email address at Pforte, your \
             municipality's citizen account ({issuer}). Please confirm your email address by \
             opening this link:\n\
             \n\
             {link}\n\
             \n\
             The link is valid for {hours} hours and can be used only once.\n\
             \n\
             If you did not create a citizen account, you can ignore this email.\n\
             \n\
             {SIGNATURE_EN}\n"
        ),
    }
}

/// The mail to an address that already has an account, instead of a second account.
pub fn existing_account_mail(issuer: &str, to: &str, account_url: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Registrierungsversuch mit Ihrer E-Mail-Adresse / Registration attempt with your email address"
            .into(),
        body: format!(
            "Guten Tag,\n\
             \n\
             soeben wurde versucht, bei Pforte, dem Servicekonto Ihrer Kommune ({issuer}), mit \
             Ihrer E-Mail-Adresse ein Servicekonto zu erstellen. Für diese Adresse gibt es bereits \
             ein Servicekonto. Es wurde deshalb kein neues Konto angelegt, und Ihr bestehendes \
             Konto wurde nicht verändert.\n\
             \n\
             Waren Sie das? Dann melden Sie sich bitte mit Ihrem bestehenden Konto an:\n\
             \n\
             {account_url}\n\
             \n\
             Waren Sie das nicht, können Sie diese E-Mail ignorieren. Durch diesen Versuch hat \
             niemand Zugriff auf Ihr Konto erhalten.\n\
             \n\
             {SIGNATURE_DE}\n\
             \n\
             ---------- English ----------\n\
             \n\
             Hello,\n\
             \n\
             someone just tried to create a citizen account with your email address at Pforte, \
             your municipality's citizen account ({issuer}). There already is a citizen account \
             for this address, so no new account was created and your existing account was not \
             changed.\n\
             \n\
             Was this you? Then please sign in with your existing account:\n\
             \n\
             {account_url}\n\
             \n\
             If this was not you, you can ignore this email. Nobody has gained access to your \
             account through this attempt.\n\
             \n\
             {SIGNATURE_EN}\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(email: &str, password: &str, given: &str) -> RegisterForm {
        RegisterForm {
            csrf: String::new(),
            email: email.into(),
            given_name: given.into(),
            family_name: String::new(),
            password: password.into(),
        }
    }

    fn keys(r: Result<String, Vec<(String, String)>>) -> Vec<(String, String)> {
        r.err().unwrap_or_default()
    }

    #[test]
    fn validation() {
        let ok = "correct horse battery staple";
        assert_eq!(
            validate(&form(" Anna@Example.DE ", ok, "Anna"), 12, Lang::De).unwrap(),
            "anna@example.de"
        );
        assert_eq!(
            validate(&form("a@b.de", ok, ""), 12, Lang::De).unwrap(),
            "a@b.de"
        );
        let e = |f: &RegisterForm| keys(validate(f, 12, Lang::De));
        assert_eq!(e(&form("", ok, "")), [("email".into(), "required".into())]);
        assert_eq!(
            e(&form("a,b@c.de", ok, "")),
            [("email".into(), "email_invalid".into())]
        );
        assert_eq!(
            e(&form("a@b.de", "kurz", "")),
            [("password".into(), "password_too_short".into())]
        );
        assert_eq!(
            e(&form("a@b.de", &"x".repeat(1025), "")),
            [("password".into(), "password_too_long".into())]
        );
        assert_eq!(
            e(&form("a@b.de", ok, "An\u{7}na")),
            [("given_name".into(), "invalid_characters".into())]
        );
        assert_eq!(
            e(&form("a@b.de", ok, "Anna\u{202E}")),
            [("given_name".into(), "invalid_characters".into())]
        );
        assert_eq!(
            e(&form("a@b.de", ok, &"a".repeat(201))),
            [("given_name".into(), "too_long".into())]
        );
        // Several problems at once, in form order.
        assert_eq!(e(&form("x", "", "A\nB")).len(), 3);
        // Another configured minimum gets its own sentence.
        assert!(
            keys(validate(&form("a@b.de", "short", ""), 16, Lang::En))[0]
                .1
                .contains("16")
        );
    }

    #[test]
    fn mails_are_german_first_and_carry_the_link() {
        let m = verification_mail(
            "https://p.example.de",
            "anna@example.de",
            "https://p.example.de/register/verify?token=T",
        );
        let de = m.body.find("Guten Tag").unwrap();
        let en = m.body.find("Hello").unwrap();
        assert!(de < en);
        assert_eq!(
            m.body
                .matches("https://p.example.de/register/verify?token=T\n")
                .count(),
            2
        );
        let n = existing_account_mail(
            "https://p.example.de",
            "anna@example.de",
            "https://p.example.de/account",
        );
        assert!(n.body.contains("https://p.example.de/account\n"));
        assert!(!n.body.contains("token"));
    }
}
