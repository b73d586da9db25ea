//! Self-registration through the real pages, on SQLite and PostgreSQL: the form, the
//! verification mail in the development outbox, the single-use link, logging in afterwards;
//! the same answer for an address that already has an account (and the mail that goes there
//! instead); field errors for bad input; bad and reused links; required fields, and the
//! password with its configured minimum on the page the link opens; purging expired links; registering from a
//! service's login and continuing it; requesting a new link; the per-address rate limit.

use std::path::{Path, PathBuf};

use crate::common::*;
use base64::{engine::general_purpose::STANDARD, Engine};
use reqwest::StatusCode;
use sqlx::Row;

pub(crate) async fn start(backend: Backend) -> (TestServer, tempdir::Dir) {
    let dir = tempdir::Dir::new(&format!(
        "pforte-outbox-{}-{}",
        std::process::id(),
        pforte::secrets::random_token(6).replace(['-', '_'], "x")
    ));
    // A folder that does not exist yet: the mailer creates it.
    let outbox = dir.path.join("outbox");
    let server = TestServer::start_with(backend, |c| c.mail.outbox = Some(outbox)).await;
    (server, dir)
}

pub(crate) fn outbox(dir: &tempdir::Dir) -> PathBuf {
    dir.path.join("outbox")
}

/// The `.eml` files in the outbox, oldest first (names start with a UTC timestamp).
pub(crate) fn mails(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    for f in &files {
        assert!(
            f.extension().is_some_and(|e| e == "eml"),
            "only .eml files in the outbox: {f:?}"
        );
    }
    files
}

/// A parsed message: unfolded headers and the decoded body.
pub(crate) struct Eml {
    pub(crate) raw: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Eml {
    pub(crate) fn read(path: &Path) -> Eml {
        let raw = std::fs::read_to_string(path).unwrap();
        assert!(raw.is_ascii(), "7-bit clean message");
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .expect("header/body separator (CRLF)");
        for line in raw.split("\r\n") {
            assert!(line.len() <= 78, "line too long: {line:?}");
            assert!(!line.contains('\n'), "bare LF in {line:?}");
        }
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let headers = unfolded
            .split("\r\n")
            .map(|l| {
                let (k, v) = l.split_once(": ").expect("header line");
                (k.to_string(), v.to_string())
            })
            .collect::<Vec<_>>();
        let eml = Eml {
            body: String::new(),
            headers,
            raw: raw.clone(),
        };
        let body = if eml
            .header("Content-Transfer-Encoding")
            .eq_ignore_ascii_case("quoted-printable")
        {
            decode_qp(body)
        } else {
            body.to_string()
        };
        Eml { body, ..eml }
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no header {name} in {:?}", self.headers))
    }

    /// The subject with RFC 2047 encoded-words decoded.
    pub(crate) fn subject(&self) -> String {
        decode_words(self.header("Subject"))
    }

    /// Links in the body starting with `prefix`.
    pub(crate) fn links(&self, prefix: &str) -> Vec<String> {
        self.body
            .split_whitespace()
            .filter(|w| w.starts_with(prefix))
            .map(String::from)
            .collect()
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("QP escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .expect("UTF-8 body")
        .replace("\r\n", "\n")
}

fn decode_words(v: &str) -> String {
    if !v.contains("=?") {
        return v.to_string();
    }
    // RFC 2047 §6.2: plain words stay as they are; white space between two adjacent
    // encoded-words is not part of the text.
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, w) in v.split_whitespace().enumerate() {
        let inner = w
            .strip_prefix("=?utf-8?B?")
            .or_else(|| w.strip_prefix("=?utf-8?b?"))
            .and_then(|w| w.strip_suffix("?="));
        if i > 0 && !(prev_encoded && inner.is_some()) {
            out.push(' ');
        }
        match inner {
            Some(b64) => out.push_str(&String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()),
            None => out.push_str(w),
        }
        prev_encoded = inner.is_some();
    }
    out
}

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

pub(crate) fn status(o: &Outcome) -> StatusCode {
    match o {
        Outcome::Page { status, .. } => *status,
        other => panic!("expected a page, got {other:?}"),
    }
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
fn assert_field_error(html: &str, field: &str, text: &str) {
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

/// Polls the outbox until it holds `n` mails (links are re-sent after the answer).
pub(crate) async fn wait_for_mails(dir: &Path, n: usize) -> Vec<PathBuf> {
    for _ in 0..100 {
        // A message being written is a hidden temporary file until it is renamed.
        let writing = std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with('.'))
        });
        if !writing {
            let files = mails(dir);
            if files.len() >= n {
                return files;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {n} mails, have {:?}", mails(dir));
}

/// The verification link in a mail.
pub(crate) fn link_in(server: &TestServer, path: &Path) -> String {
    let links = Eml::read(path).links(&server.url("/register/verify?token="));
    assert!(!links.is_empty(), "no verification link in {path:?}");
    links[0].clone()
}

/// The `href` of the first `<a>` whose target starts with `prefix`.
fn href(html: &str, prefix: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("a[href]").unwrap();
    doc.select(&sel)
        .filter_map(|a| a.value().attr("href"))
        .find(|h| h.starts_with(prefix))
        .map(String::from)
}

/// Names of the inputs carrying `required`.
fn required_inputs(html: &str) -> Vec<String> {
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

/// Follows the consent page if one is shown; returns the code.
async fn finish_login(browser: &Browser, out: Outcome) -> String {
    let out = if out.is_page("/consent") {
        browser.consent(&out, true).await
    } else {
        out
    };
    out.param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"))
}

async fn userinfo(server: &TestServer, code: &str, verifier: &str) -> serde_json::Value {
    let (st, tokens) = exchange(server, "rp", code, verifier).await;
    assert_eq!(st, StatusCode::OK, "{tokens}");
    reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn continue_service_login(backend: Backend) {
    let (server, dir) = start(backend).await;
    server.confidential("rp", true).await;

    // 1. Registering from the service's login: no way back before the address is confirmed
    //    (nothing logs in to an unconfirmed account, docs/registration.md).
    let browser = Browser::new(&server);
    let (url, verifier) = authorize_url(&server, "rp", &[("ui_locales", "en")]);
    let login = browser.get(&url).await;
    assert!(login.is_page("/login"), "{login:?}");
    let req = hidden(login.html(), "req");
    let register_url = href(login.html(), "/register").expect("register link");
    assert_eq!(register_url, format!("/register?req={req}"));
    let form = browser.get(&server.url(&register_url)).await;
    assert_eq!(status(&form), StatusCode::OK);
    // The request's language and the request itself carry over.
    assert!(form.html().contains("lang=\"en\""));
    assert_eq!(hidden(form.html(), "req"), req);
    assert_eq!(
        href(form.html(), "/login").as_deref(),
        Some(format!("/login?req={req}").as_str())
    );
    let done = browser
        .post_form(
            &server.url("/register"),
            &[
                ("csrf", &hidden(form.html(), "csrf")),
                ("req", &req),
                ("email", "gerda@example.de"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(done.is_page("/register/done"), "{done:?}");
    assert!(done.html().contains("lang=\"en\""));
    assert!(done.html().contains("You can sign in after that."));
    assert!(href(done.html(), "/login").is_none(), "{}", done.html());
    let login = browser.get(&server.url(&format!("/login?req={req}"))).await;
    assert!(login.is_page("/login"), "{login:?}");
    let out = browser.login(&login, "gerda@example.de", PASSWORD).await;
    assert!(
        out.is_page("/login"),
        "refused before confirmation: {out:?}"
    );
    // Confirmed in this browser: the confirmation page leads back to the service's login.
    let link = link_in(&server, mails(&outbox(&dir)).last().unwrap());
    let verified = confirm(&browser, &link, PASSWORD).await;
    let back = href(verified.html(), "/login").expect("continue link");
    assert_eq!(back, format!("/login?req={req}"));
    let out = browser
        .login(
            &browser.get(&server.url(&back)).await,
            "gerda@example.de",
            PASSWORD,
        )
        .await;
    let code = finish_login(&browser, out).await;
    let info = userinfo(&server, &code, &verifier).await;
    assert_eq!(info["email"], "gerda@example.de");
    assert_eq!(info["email_verified"], true);

    // 2. Verifying first, in the same browser: the confirmation page leads back to the login.
    let browser = Browser::new(&server);
    let (url, verifier) = authorize_url(&server, "rp", &[]);
    let login = browser.get(&url).await;
    let req = hidden(login.html(), "req");
    let form = browser
        .get(&server.url(&href(login.html(), "/register").unwrap()))
        .await;
    let done = browser
        .post_form(
            &server.url("/register"),
            &[
                ("csrf", &hidden(form.html(), "csrf")),
                ("req", &req),
                ("email", "hugo@example.de"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(done.is_page("/register/done"), "{done:?}");
    let files = mails(&outbox(&dir));
    let link = link_in(&server, files.last().unwrap());
    let verified = confirm(&browser, &link, PASSWORD).await;
    assert_eq!(status(&verified), StatusCode::OK);
    assert!(verified.html().contains("Weiter zur Anmeldung bei „rp“"));
    let back = href(verified.html(), "/login").expect("continue link");
    assert_eq!(back, format!("/login?req={req}"));
    let out = browser
        .login(
            &browser.get(&server.url(&back)).await,
            "hugo@example.de",
            PASSWORD,
        )
        .await;
    let code = finish_login(&browser, out).await;
    let info = userinfo(&server, &code, &verifier).await;
    assert_eq!(info["email_verified"], true);

    // The link opened elsewhere (no pending login there) just confirms.
    let other = Browser::new(&server);
    let (url, _) = authorize_url(&server, "rp", &[]);
    let login = other.get(&url).await;
    let req = hidden(login.html(), "req");
    let form = other
        .get(&server.url(&format!("/register?req={req}")))
        .await;
    other
        .post_form(
            &server.url("/register"),
            &[
                ("csrf", &hidden(form.html(), "csrf")),
                ("req", &req),
                ("email", "ida@example.de"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let link = link_in(&server, mails(&outbox(&dir)).last().unwrap());
    let verified = confirm(&Browser::new(&server), &link, PASSWORD).await;
    assert_eq!(status(&verified), StatusCode::OK);
    assert!(href(verified.html(), "/login").is_none());
    assert!(verified.html().contains("href=\"/account\""));

    // A stale or unknown request id is dropped: plain registration, plain login link.
    let browser = Browser::new(&server);
    let form = browser.get(&server.url("/register?req=unknown")).await;
    assert_eq!(status(&form), StatusCode::OK);
    assert_eq!(hidden(form.html(), "req"), "");
    assert_eq!(href(form.html(), "/login").as_deref(), Some("/login"));
    let done = browser
        .post_form(
            &server.url("/register"),
            &[
                ("csrf", &hidden(form.html(), "csrf")),
                ("req", "forged"),
                ("email", "jan@example.de"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(done.is_page("/register/done"), "{done:?}");
    assert!(href(done.html(), "/login").is_none());
    // A login page without a pending request links to the plain form.
    let login = browser.get(&server.url("/login")).await;
    assert_eq!(
        href(login.html(), "/register").as_deref(),
        Some("/register")
    );
}

#[tokio::test]
async fn continue_service_login_sqlite() {
    continue_service_login(Backend::Sqlite).await;
}

#[tokio::test]
async fn continue_service_login_postgres() {
    continue_service_login(Backend::Postgres).await;
}

/// Posts the resend form of `page` (the done page's button or the resend form) with `email`.
async fn resend(server: &TestServer, browser: &Browser, page: &Outcome, email: &str) -> Outcome {
    browser
        .post_form(
            &server.url("/register/resend"),
            &[("csrf", &hidden(page.html(), "csrf")), ("email", email)],
        )
        .await
}

async fn audit_count(server: &TestServer, action: &str) -> usize {
    audit_actions(server)
        .await
        .iter()
        .filter(|(a, _)| a == action)
        .count()
}

/// Waits until the background resend has audited `n` requests.
async fn wait_for_audit(server: &TestServer, action: &str, n: usize) {
    for _ in 0..100 {
        if audit_count(server, action).await >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {n} × {action}: {:?}", audit_actions(server).await);
}

async fn resend_link(backend: Backend) {
    let (server, dir) = start(backend).await;
    let browser = Browser::new(&server);
    let done = register(
        &server,
        &browser,
        &[("email", "karl@example.de"), ("password", PASSWORD)],
        None,
    )
    .await;
    assert!(done.is_page("/register/done"));
    let first = link_in(&server, &wait_for_mails(&outbox(&dir), 1).await[0]);

    // The done page's button: the same e-mail address, a fresh link.
    assert_eq!(hidden(done.html(), "email"), "karl@example.de");
    let sent = resend(&server, &browser, &done, "karl@example.de").await;
    assert_eq!(status(&sent), StatusCode::OK, "{sent:?}");
    assert!(sent.html().contains("Bitte prüfen Sie Ihr Postfach"));
    assert!(sent
        .html()
        .contains("Wenn es für karl@example.de ein Servicekonto gibt"));
    let files = wait_for_mails(&outbox(&dir), 2).await;
    let second = link_in(&server, &files[1]);
    assert_ne!(first, second);
    wait_for_audit(&server, "account.verification_resent", 1).await;

    // At once again: the same page, but no further mail (one per 15 minutes).
    let again = resend(&server, &browser, &done, "KARL@example.de ").await;
    assert_eq!(status(&again), StatusCode::OK);
    assert_eq!(again.html(), sent.html());
    wait_for_audit(&server, "account.verification_resent", 2).await;
    assert!(audit_actions(&server)
        .await
        .iter()
        .any(|(a, d)| a == "account.verification_resent" && d.contains("false")));
    assert_eq!(mails(&outbox(&dir)).len(), 2);

    // An unknown and a verified address: the same answer, no mail.
    server.citizen("lena@example.de", PASSWORD).await;
    for email in ["niemand@example.de", "lena@example.de"] {
        let out = resend(&server, &browser, &done, email).await;
        assert_eq!(status(&out), StatusCode::OK);
        assert_eq!(
            out.html().replace(email, "X"),
            sent.html().replace("karl@example.de", "X")
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails(&outbox(&dir)).len(), 2);
    assert_eq!(audit_count(&server, "account.verification_resent").await, 2);

    // The new link works (and voids the old one).
    let verified = confirm(&browser, &second, PASSWORD).await;
    assert_eq!(status(&verified), StatusCode::OK, "{verified:?}");
    let old = browser.get(&first).await;
    assert_eq!(status(&old), StatusCode::BAD_REQUEST);
    // The "link not valid" page carries the form for a new link.
    assert!(old.html().contains("Bestätigungslink ist ungültig"));
    assert!(old.html().contains("Neuen Bestätigungslink anfordern"));
    let doc = scraper::Html::parse_document(old.html());
    let form = scraper::Selector::parse("form[action=\"/register/resend\"] input[name=\"email\"]")
        .unwrap();
    assert!(doc.select(&form).next().is_some(), "{}", old.html());
    let out = resend(&server, &browser, &old, "karl@example.de").await;
    assert_eq!(status(&out), StatusCode::OK);

    // The standalone form, its errors, and CSRF.
    let page = browser.get(&server.url("/register/resend")).await;
    assert_eq!(status(&page), StatusCode::OK);
    assert_eq!(required_inputs(page.html()), ["email"]);
    let out = resend(&server, &browser, &page, "kein-mail").await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert_field_error(out.html(), "email", "gültige E-Mail-Adresse");
    let out = browser
        .post_form(
            &server.url("/register/resend"),
            &[("csrf", "forged"), ("email", "karl@example.de")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(out.html().contains("Die Sitzung ist abgelaufen"));
    assert!(out.html().contains("karl@example.de"), "value kept");
}

#[tokio::test]
async fn resend_link_sqlite() {
    resend_link(Backend::Sqlite).await;
}

#[tokio::test]
async fn resend_link_postgres() {
    resend_link(Backend::Postgres).await;
}

/// Ten valid submissions per client address and ten minutes (registration and resend
/// together); then a readable 429 page with Retry-After. Invalid forms do not count.
#[tokio::test]
async fn rate_limit_per_client_address() {
    let (server, dir) = start(Backend::Sqlite).await;
    let browser = Browser::new(&server);
    let page = browser.get(&server.url("/register/resend")).await;
    for i in 0..10 {
        let out = resend(&server, &browser, &page, &format!("person{i}@example.de")).await;
        assert_eq!(status(&out), StatusCode::OK, "submission {i}");
    }
    // Form errors are still shown (and do not count).
    let out = resend(&server, &browser, &page, "kein-mail").await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    let out = register(
        &server,
        &browser,
        &[("email", "x@example"), ("given_name", "X")],
        None,
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);

    // The eleventh valid one, on either form, is refused.
    let resp = browser
        .http
        .post(server.url("/register/resend"))
        .form(&[
            ("csrf", hidden(page.html(), "csrf").as_str()),
            ("email", "person10@example.de"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Zu viele Versuche") && html.contains("<code>429</code>"),
        "{html}"
    );
    let out = register(
        &server,
        &browser,
        &[("email", "otto@example.de"), ("password", PASSWORD)],
        None,
    )
    .await;
    assert_eq!(status(&out), StatusCode::TOO_MANY_REQUESTS);
    assert!(out.html().contains("Zu viele Versuche"));
    assert!(server.app.db.account_list().await.unwrap().is_empty());
    assert!(mails(&outbox(&dir)).is_empty());

    // Other pages are not affected.
    let form = browser.get(&server.url("/register")).await;
    assert_eq!(status(&form), StatusCode::OK);
}
