//! Self-registration through the real pages, on SQLite and PostgreSQL: the form, the
//! verification mail in the development outbox, the single-use link, logging in afterwards;
//! the same answer for an address that already has an account (and the mail that goes there
//! instead); field errors for bad input; bad and reused links; required fields, and the
//! password with its configured minimum on the page the link opens; purging expired links.

use std::path::Path;

pub(crate) use crate::common::account::{
    mails, outbox, start_with_outbox as start, status, wait_for_mails, Eml,
};
use crate::common::*;
use reqwest::StatusCode;
use sqlx::Row;

/// Fetches the registration form and posts it; `csrf: None` takes the page's token.
pub(crate) async fn register(
    server: &TestServer,
    browser: &Browser,
    fields: &[(&str, &str)],
    csrf: Option<&str>,
) -> Outcome {
    let page = browser.get(&server.url("/register")).await;
    assert!(page.is_page("/register"), "{page:?}");
    let token = hidden(page.html(), "csrf");
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    match csrf {
        None => form.push(("csrf", &token)),
        Some("") => {}
        Some(other) => form.push(("csrf", other)),
    }
    browser.post_form(&server.url("/register"), &form).await
}

/// Opens a confirmation link and chooses `password` on the page it shows (the link holder
/// sets the password: docs/registration.md). The page after the POST.
pub(crate) async fn confirm(browser: &Browser, link: &str, password: &str) -> Outcome {
    let page = browser.get(link).await;
    assert_eq!(status(&page), StatusCode::OK, "{page:?}");
    let action = link.split_once('?').unwrap().0;
    browser
        .post_form(
            action,
            &[
                ("csrf", &hidden(page.html(), "csrf")),
                ("token", &hidden(page.html(), "token")),
                ("password", password),
            ],
        )
        .await
}

pub(crate) async fn audit_actions(server: &TestServer) -> Vec<(String, String)> {
    server
        .app
        .db
        .audit_list(Some("account."), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail.to_string()))
        .collect()
}

async fn register_verify_login(backend: Backend) {
    let (server, dir) = start(backend).await;
    server.confidential("rp", true).await;
    let browser = Browser::new(&server);

    let page = browser.get(&server.url("/register")).await;
    assert_eq!(status(&page), StatusCode::OK);
    assert!(page.html().contains("lang=\"de\""));
    let done = register(
        &server,
        &browser,
        &[
            ("email", " Joerg.Neu@Müller.DE "),
            ("given_name", "Jörg"),
            ("family_name", "Neumann"),
            ("password", PASSWORD),
        ],
        None,
    )
    .await;
    assert!(done.is_page("/register/done"), "{done:?}");
    assert_eq!(status(&done), StatusCode::OK);
    assert!(
        done.html().contains("joerg.neu@müller.de"),
        "{}",
        done.html()
    );

    // The account exists, unverified, proofed at low only.
    let account = server
        .app
        .db
        .account_by_email("joerg.neu@müller.de")
        .await
        .unwrap()
        .expect("account created");
    assert!(!account.email_verified);
    assert_eq!(account.proofing_level, pforte::assurance::Level::Low);
    let attrs = server.app.db.account_attributes(&account.id).await.unwrap();
    assert!(attrs
        .iter()
        .any(|a| a.name == "given_name" && a.value == "Jörg" && a.source == "self"));

    // One well-formed mail in the outbox, German first, with the link.
    let files = mails(&outbox(&dir));
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.len() > 20 && name.as_bytes()[..8].iter().all(u8::is_ascii_digit),
        "<timestamp>-<random>.eml: {name}"
    );
    let mail = Eml::read(&files[0]);
    // The internationalised domain in its ASCII form keeps the message 7-bit.
    assert_eq!(mail.header("To"), "joerg.neu@xn--mller-kva.de");
    assert!(mail.header("From").contains("Pforte") && mail.header("From").contains('@'));
    assert!(
        mail.header("Subject")
            .to_ascii_lowercase()
            .contains("=?utf-8?b?"),
        "non-ASCII subject is RFC 2047 encoded"
    );
    assert!(mail
        .subject()
        .contains("Bitte bestätigen Sie Ihre E-Mail-Adresse"));
    assert!(mail.header("Date").ends_with("+0000"));
    assert!(mail.header("Message-ID").starts_with('<') && mail.header("Message-ID").ends_with('>'));
    assert_eq!(mail.header("MIME-Version"), "1.0");
    assert_eq!(mail.header("Content-Type"), "text/plain; charset=utf-8");
    let de = mail.body.find("Guten Tag").expect("German text");
    let en = mail.body.find("Hello").expect("English text");
    assert!(de < en, "German first");
    assert!(mail.body.contains("bestätigen"));
    let links = mail.links(&server.url("/register/verify?token="));
    assert!(!links.is_empty(), "verification link in:\n{}", mail.body);
    assert!(links.iter().all(|l| l == &links[0]));
    let link = links[0].clone();
    let token = link.rsplit_once("token=").unwrap().1.to_string();
    assert_eq!(token.len(), 43, "32 random bytes, base64url");

    // Only the token's SHA-256 is stored; neither password nor token is in the audit log.
    let rows = sqlx::query("SELECT token_hash FROM email_verifications")
        .fetch_all(&server.app.db.pool)
        .await
        .unwrap();
    let hashes: Vec<String> = rows.iter().map(|r| r.get("token_hash")).collect();
    assert_eq!(hashes, vec![pforte::secrets::hash_secret(&token)]);
    let audit = audit_actions(&server).await;
    assert!(
        audit.iter().any(|(a, _)| a == "account.registered"),
        "{audit:?}"
    );
    for (_, detail) in &audit {
        assert!(!detail.contains(PASSWORD) && !detail.contains(&token));
    }

    // Before confirmation nothing logs in, not even with the password typed at registration.
    let early = Browser::new(&server);
    let (url, _) = authorize_url(&server, "rp", &[]);
    let login = early.get(&url).await;
    let refused = early.login(&login, "joerg.neu@müller.de", PASSWORD).await;
    assert!(refused.is_page("/login"), "{refused:?}");
    // Opening the link changes nothing (mail scanners fetch links); choosing the password
    // on the page it opens confirms the address.
    let opened = browser.get(&link).await;
    assert!(opened
        .html()
        .contains("Adresse bestätigen und Passwort wählen"));
    assert!(
        !server
            .app
            .db
            .account_get(&account.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    let verified = confirm(&browser, &link, PASSWORD).await;
    assert_eq!(status(&verified), StatusCode::OK, "{verified:?}");
    assert!(verified.html().contains("E-Mail-Adresse bestätigt"));
    assert!(verified.html().contains("href=\"/account\""));
    let account = server
        .app
        .db
        .account_get(&account.id)
        .await
        .unwrap()
        .unwrap();
    assert!(account.email_verified);
    assert!(audit_actions(&server)
        .await
        .iter()
        .any(|(a, _)| a == "account.email_verified"));

    // Single use.
    let again = browser.get(&link).await;
    assert_eq!(status(&again), StatusCode::BAD_REQUEST);
    assert!(
        again.html().contains("Bestätigungslink ist ungültig"),
        "{}",
        again.html()
    );

    // The citizen logs in through an authorization request; the client sees a verified address.
    let citizen = Browser::new(&server);
    let (code, verifier) = login_code(&server, &citizen, "rp", "Joerg.Neu@müller.de").await;
    let (st, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{tokens}");
    let at = tokens["access_token"].as_str().unwrap();
    let info = crate::common::attack::userinfo(&server, at).await;
    assert_eq!(info["sub"], account.id.as_str());
    assert_eq!(info["email"], "joerg.neu@müller.de");
    assert_eq!(info["email_verified"], true);
}

#[tokio::test]
async fn register_verify_login_sqlite() {
    register_verify_login(Backend::Sqlite).await;
}

#[tokio::test]
async fn register_verify_login_postgres() {
    register_verify_login(Backend::Postgres).await;
}

async fn duplicate(backend: Backend) {
    let (server, dir) = start(backend).await;
    let existing = server.citizen("anna@example.de", PASSWORD).await;

    let fresh = register(
        &server,
        &Browser::new(&server),
        &[("email", "bernd@example.de"), ("password", PASSWORD)],
        None,
    )
    .await;
    let dup = register(
        &server,
        &Browser::new(&server),
        &[
            ("email", " ANNA@example.de"),
            ("given_name", "Mallory"),
            ("password", "another long password"),
        ],
        None,
    )
    .await;
    // The same answer: status, page and wording; only the address (and each browser's CSRF
    // token for the resend button) differs.
    assert!(dup.is_page("/register/done"), "{dup:?}");
    assert_eq!(status(&dup), status(&fresh));
    let neutral = |o: &Outcome, email: &str| {
        o.html()
            .replace(email, "X")
            .replace(&hidden(o.html(), "csrf"), "CSRF")
    };
    assert_eq!(
        neutral(&dup, "anna@example.de"),
        neutral(&fresh, "bernd@example.de")
    );

    // No second account, nothing changed on the first.
    let accounts = server.app.db.account_list().await.unwrap();
    assert_eq!(accounts.len(), 2, "{accounts:?}");
    let anna = server
        .app
        .db
        .account_by_email("anna@example.de")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna.id, existing);
    assert!(pforte::accounts::authenticate(
        &server.app.db,
        &server.app.hasher,
        "anna@example.de",
        PASSWORD
    )
    .await
    .unwrap()
    .is_some());

    // Anna got a notice instead of a link.
    let files = mails(&outbox(&dir));
    assert_eq!(files.len(), 2, "{files:?}");
    let notices: Vec<Eml> = files
        .iter()
        .map(|f| Eml::read(f))
        .filter(|m| m.header("To") == "anna@example.de")
        .collect();
    assert_eq!(notices.len(), 1);
    let notice = &notices[0];
    assert!(
        notice.subject().contains("Registrierungsversuch"),
        "{}",
        notice.subject()
    );
    assert!(
        !notice.links(&server.url("/account")).is_empty(),
        "{}",
        notice.body
    );
    assert!(
        !notice.raw.contains("verify"),
        "no verification link for an existing account"
    );
    assert!(notice.body.find("Guten Tag").unwrap() < notice.body.find("Hello").unwrap());
    assert!(audit_actions(&server)
        .await
        .iter()
        .any(|(a, _)| a == "account.registration_repeated"));

    // A second attempt at once shows the same page but does not flood the mailbox.
    let again = register(
        &server,
        &Browser::new(&server),
        &[("email", "anna@example.de"), ("password", PASSWORD)],
        None,
    )
    .await;
    assert!(again.is_page("/register/done"));
    assert_eq!(mails(&outbox(&dir)).len(), 2);
}

#[tokio::test]
async fn duplicate_sqlite() {
    duplicate(Backend::Sqlite).await;
}

#[tokio::test]
async fn duplicate_postgres() {
    duplicate(Backend::Postgres).await;
}

/// The field error is shown, tied to its input (aria-invalid, aria-describedby → message).
pub(crate) fn assert_field_error(html: &str, field: &str, text: &str) {
    let doc = scraper::Html::parse_document(html);
    let input = scraper::Selector::parse(&format!("input[name=\"{field}\"]")).unwrap();
    let input = doc.select(&input).next().expect("input");
    assert_eq!(input.value().attr("aria-invalid"), Some("true"), "{field}");
    let described = input.value().attr("aria-describedby").unwrap_or_default();
    let error_id = format!("{field}-error");
    assert!(
        described.split(' ').any(|id| id == error_id),
        "{field}: {described}"
    );
    let err = scraper::Selector::parse(&format!("#{error_id}")).unwrap();
    let message: String = doc
        .select(&err)
        .next()
        .expect("error element")
        .text()
        .collect();
    assert!(
        message.contains(text),
        "{field}: {message:?} lacks {text:?}"
    );
}

async fn bad_inputs(backend: Backend) {
    let (server, dir) = start(backend).await;
    let browser = Browser::new(&server);
    let good = [
        ("email", "carla@example.de"),
        ("given_name", "Carla"),
        ("family_name", "Klein"),
        ("password", PASSWORD),
    ];
    let with = |name: &'static str, value: &'static str| {
        good.iter()
            .map(|(k, v)| (*k, if *k == name { value } else { *v }))
            .collect::<Vec<_>>()
    };

    // (form, field with the error, text expected in the page)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            with("email", "carla.example.de"),
            "email",
            "gültige E-Mail-Adresse",
        ),
        (
            with("email", "carla@example"),
            "email",
            "gültige E-Mail-Adresse",
        ),
        (
            with("email", "car,la@example.de"),
            "email",
            "gültige E-Mail-Adresse",
        ),
        (
            with("email", "jörg@example.de"),
            "email",
            "gültige E-Mail-Adresse",
        ),
        (with("email", ""), "email", "E-Mail-Adresse"),
        (
            with("given_name", "Car\u{7}la"),
            "given_name",
            "unzulässige Zeichen",
        ),
        (
            with("family_name", "Klein\r\nBcc: x@y.de"),
            "family_name",
            "unzulässige Zeichen",
        ),
    ];
    for (form, field, text) in cases {
        let out = register(&server, &browser, &form, None).await;
        assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{form:?}");
        assert!(out.is_page("/register"), "{out:?}");
        assert_field_error(out.html(), field, text);
        assert!(out.html().contains("error-summary"));
        assert!(
            !out.html().contains(PASSWORD),
            "the password is never echoed"
        );
        // The form comes back with a usable token and the entered values.
        assert!(!hidden(out.html(), "csrf").is_empty());
    }
    // Missing or wrong CSRF token: a form-level error, nothing created.
    for csrf in [Some(""), Some("forged-token")] {
        let out = register(&server, &browser, &good, csrf).await;
        assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{csrf:?}");
        assert!(
            out.html().contains("Die Sitzung ist abgelaufen"),
            "{}",
            out.html()
        );
        assert!(out.html().contains("carla@example.de"), "values kept");
    }
    // Without any session at all.
    let out = reqwest::Client::new()
        .post(server.url("/register"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::BAD_REQUEST);

    // English by Accept-Language and by ui_locales.
    let en = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let html = en
        .get(server.url("/register?ui_locales=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("action=\"/register?ui_locales=en\""));
    let csrf = hidden(&html, "csrf");
    let resp = en
        .post(server.url("/register"))
        .header("accept-language", "en-GB,en;q=0.9")
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "nope"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("lang=\"en\""));
    assert_field_error(&html, "email", "valid email address");

    assert!(server.app.db.account_list().await.unwrap().is_empty());
    assert!(mails(&outbox(&dir)).is_empty());
    assert!(audit_actions(&server).await.is_empty());

    // And the good form still works afterwards.
    let ok = register(&server, &browser, &good, None).await;
    assert!(ok.is_page("/register/done"), "{ok:?}");
    assert_eq!(server.app.db.account_list().await.unwrap().len(), 1);

    // The password is checked on the page the link opens; a bad one leaves the link unused.
    let link = link_in(&server, &wait_for_mails(&outbox(&dir), 1).await[0]);
    let page = browser.get(&link).await;
    let action = link.split_once('?').unwrap().0;
    let long = "x".repeat(1025);
    let token = hidden(page.html(), "token");
    let csrf = hidden(page.html(), "csrf");
    for (password, csrf, text) in [
        ("zu kurz", csrf.as_str(), "mindestens 12 Zeichen"),
        ("", csrf.as_str(), "Passwort ein"),
        (long.as_str(), csrf.as_str(), "zu lang"),
        (PASSWORD, "forged-token", "Die Sitzung ist abgelaufen"),
    ] {
        let out = browser
            .post_form(
                action,
                &[("csrf", csrf), ("token", &token), ("password", password)],
            )
            .await;
        assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{password:?}");
        assert!(out.html().contains(text), "{text}: {}", out.html());
        assert!(
            !out.html().contains(PASSWORD),
            "the password is never echoed"
        );
    }
    assert!(!server.app.db.account_list().await.unwrap()[0].email_verified);
    let done = confirm(&browser, &link, PASSWORD).await;
    assert!(done.html().contains("E-Mail-Adresse bestätigt"), "{done:?}");
}

#[tokio::test]
async fn bad_inputs_sqlite() {
    bad_inputs(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_inputs_postgres() {
    bad_inputs(Backend::Postgres).await;
}

async fn bad_links(backend: Backend) {
    let (server, _dir) = start(backend).await;
    let browser = Browser::new(&server);
    let bogus = pforte::secrets::new_secret();
    for path in [
        format!("/register/verify?token={bogus}"),
        "/register/verify?token=".to_string(),
        "/register/verify".to_string(),
        "/register/verify?token=%00%ff'%22<script>".to_string(),
        format!("/register/verify?token={}", "a".repeat(5000)),
    ] {
        let out = browser.get(&server.url(&path)).await;
        assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            out.html().contains("Bestätigungslink ist ungültig"),
            "{path}"
        );
        assert!(!out.html().contains("<script>"));
    }
    let en = reqwest::Client::new()
        .get(server.url(&format!("/register/verify?token={bogus}")))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), StatusCode::BAD_REQUEST);
    assert!(en
        .text()
        .await
        .unwrap()
        .contains("confirmation link is not valid"));

    // An expired link is refused too.
    let id = server.citizen("dora@example.de", PASSWORD).await;
    let token = pforte::secrets::new_secret();
    let t = server.app.clock.now();
    server
        .app
        .db
        .verification_insert(&pforte::store::verifications::Verification {
            token_hash: pforte::secrets::hash_secret(&token),
            account_id: id.clone(),
            email: "dora@example.de".into(),
            created_at: t - 25 * 3600,
            expires_at: t - 3600,
        })
        .await
        .unwrap();
    let out = browser
        .get(&server.url(&format!("/register/verify?token={token}")))
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);

    // The done page without a registration leads back to the form.
    let out = Browser::new(&server)
        .get(&server.url("/register/done"))
        .await;
    assert!(out.is_page("/register"), "{out:?}");
}

#[tokio::test]
async fn bad_links_sqlite() {
    bad_links(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_links_postgres() {
    bad_links(Backend::Postgres).await;
}

/// Without a mail transport the registration still succeeds (a warning is logged).
#[tokio::test]
async fn without_outbox_registration_still_succeeds() {
    let server = TestServer::start(Backend::Sqlite).await;
    let out = register(
        &server,
        &Browser::new(&server),
        &[("email", "emil@example.de"), ("password", PASSWORD)],
        None,
    )
    .await;
    assert!(out.is_page("/register/done"), "{out:?}");
    let a = server
        .app
        .db
        .account_by_email("emil@example.de")
        .await
        .unwrap()
        .unwrap();
    assert!(!a.email_verified);
}

/// The verification link in a mail.
pub(crate) fn link_in(server: &TestServer, path: &Path) -> String {
    let links = Eml::read(path).links(&server.url("/register/verify?token="));
    assert!(!links.is_empty(), "no verification link in {path:?}");
    links[0].clone()
}

/// The `href` of the first `<a>` whose target starts with `prefix`.
pub(crate) fn href(html: &str, prefix: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("a[href]").unwrap();
    doc.select(&sel)
        .filter_map(|a| a.value().attr("href"))
        .find(|h| h.starts_with(prefix))
        .map(String::from)
}

/// Names of the inputs carrying `required`.
pub(crate) fn required_inputs(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("input[required]").unwrap();
    doc.select(&sel)
        .filter_map(|i| i.value().attr("name"))
        .map(String::from)
        .collect()
}

/// The text of the `<label>` for input `id`.
fn label(html: &str, id: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("label[for=\"{id}\"]")).unwrap();
    doc.select(&sel).next().expect("label").text().collect()
}

/// Only the e-mail is required, the names say so; the password is chosen on the page the
/// link opens, and the configured minimum length is what that page announces, sets as
/// `minlength` and enforces.
#[tokio::test]
async fn form_shows_required_fields_and_configured_minimum() {
    let dir = tempdir::Dir::new(&format!("pforte-outbox-min-{}", std::process::id()));
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.login.min_password_length = 16;
        c.mail.outbox = Some(dir.path.join("outbox"));
    })
    .await;
    let browser = Browser::new(&server);
    let page = browser.get(&server.url("/register")).await;
    let html = page.html();
    assert_eq!(required_inputs(html), ["email"]);
    assert_eq!(label(html, "given_name"), "Vorname (optional)");
    assert_eq!(label(html, "family_name"), "Familienname (optional)");
    assert_eq!(label(html, "email"), "E-Mail-Adresse");
    assert!(!html.contains("Alle Felder sind Pflichtfelder"));
    assert!(html.contains("Nötig ist nur Ihre E-Mail-Adresse"));
    assert!(!html.contains("type=\"password\""));

    // Names may stay empty.
    let out = register(
        &server,
        &browser,
        &[
            ("email", "fritz@example.de"),
            ("given_name", ""),
            ("family_name", ""),
        ],
        None,
    )
    .await;
    assert!(out.is_page("/register/done"), "{out:?}");
    let link = link_in(
        &server,
        &wait_for_mails(&dir.path.join("outbox"), 1).await[0],
    );
    let page = browser.get(&link).await;
    let html = page.html();
    assert_eq!(required_inputs(html), ["password"]);
    assert!(html.contains("minlength=\"16\""), "{html}");
    assert!(html.contains("Mindestens 16 Zeichen."));
    assert!(!html.contains("minlength=\"12\"") && !html.contains("Mindestens 12"));

    // 15 characters are too short here, with the configured number in the message …
    let out = confirm(&browser, &link, "fünfzehn Zeich").await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert_field_error(out.html(), "password", "mindestens 16 Zeichen");
    assert!(out.html().contains("minlength=\"16\""));
    // … 16 characters are enough.
    let out = confirm(&browser, &link, "sechzehn Zeichen").await;
    assert!(out.html().contains("E-Mail-Adresse bestätigt"), "{out:?}");

    // English too.
    let en = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let html = en
        .get(server.url("/register?ui_locales=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(label(&html, "given_name"), "Given name (optional)");
    assert!(!html.contains("All fields are required"));
}

/// The first column of every row, as text.
async fn column(server: &TestServer, sql: &str) -> Vec<String> {
    sqlx::query(sql)
        .fetch_all(&server.app.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

async fn purge(backend: Backend) {
    let server = TestServer::start(backend).await;
    let db = &server.app.db;
    let a = server.citizen("anna@example.de", PASSWORD).await;
    let b = server.citizen("bernd@example.de", PASSWORD).await;
    let t = server.app.clock.now();
    let link =
        |account: &str, token: &str, expires_at: i64| pforte::store::verifications::Verification {
            token_hash: pforte::secrets::hash_secret(token),
            account_id: account.into(),
            email: "x@example.de".into(),
            created_at: expires_at - 24 * 3600,
            expires_at,
        };
    db.verification_insert(&link(&a, "expired", t - 10))
        .await
        .unwrap();
    db.verification_insert(&link(&a, "valid", t + 3600))
        .await
        .unwrap();
    db.verification_insert(&link(&b, "expired-too", t - 7200))
        .await
        .unwrap();
    let window = pforte::store::verifications::MAIL_WINDOW;
    assert!(db
        .registration_notice_claim(&a, t - window - 5, window)
        .await
        .unwrap());
    assert!(db
        .registration_notice_claim(&b, t - 60, window)
        .await
        .unwrap());
    assert!(db
        .verification_resend_claim(&a, t - window - 5, window)
        .await
        .unwrap());
    assert!(db
        .verification_resend_claim(&b, t - 60, window)
        .await
        .unwrap());

    let purged = db.purge_expired(t).await.unwrap();
    assert_eq!(purged, 4);
    assert_eq!(
        column(&server, "SELECT token_hash FROM email_verifications").await,
        [pforte::secrets::hash_secret("valid")]
    );
    assert_eq!(
        column(&server, "SELECT account_id FROM registration_notices").await,
        [b.as_str()]
    );
    assert_eq!(
        column(&server, "SELECT account_id FROM verification_resends").await,
        [b.as_str()]
    );
    // A purged throttle entry throttles nothing anyway; a kept one still does.
    assert!(db.registration_notice_claim(&a, t, window).await.unwrap());
    assert!(!db.registration_notice_claim(&b, t, window).await.unwrap());
    assert_eq!(db.purge_expired(t).await.unwrap(), 0);
}

#[tokio::test]
async fn purge_sqlite() {
    purge(Backend::Sqlite).await;
}

#[tokio::test]
async fn purge_postgres() {
    purge(Backend::Postgres).await;
}
