//! Mail for real and account recovery: a real SMTP server process on loopback (aiosmtpd,
//! tests/peers/smtp_sink.py) receives the registration mail; with the server stopped, mails
//! wait in the database outbox and arrive once it is back. "Passwort vergessen?": the same
//! answer for unknown addresses, the single-use, expiring, purpose-bound link, the password
//! rules, the old password refused afterwards; password change; e-mail change confirmed only
//! at the new address with a notice to the old one. Attacker tests first.

use std::{path::PathBuf, time::Duration};

use crate::common::{
    account::{
        link, login, mails, outbox, outbox_state, scratch, start_with_outbox, status, submit,
        wait_for_mails, wait_until_retried, Eml, SmtpSink,
    },
    *,
};
use reqwest::StatusCode;
use sqlx::Row;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Asks for a reset link for `email`; returns the answer page.
async fn forgot(server: &TestServer, browser: &Browser, email: &str) -> Outcome {
    let page = browser.get(&server.url("/password/forgot")).await;
    assert_eq!(status(&page), StatusCode::OK);
    submit(
        server,
        browser,
        &page,
        "/password/forgot",
        &[("email", email)],
    )
    .await
}

/// Sets a new password through a reset link.
async fn reset_with(server: &TestServer, browser: &Browser, link: &str, password: &str) -> Outcome {
    let page = browser.get(link).await;
    if status(&page) != StatusCode::OK {
        return page;
    }
    let token = hidden(page.html(), "token");
    submit(
        server,
        browser,
        &page,
        "/password/reset",
        &[("token", &token), ("password", password)],
    )
    .await
}

const NEW_PASSWORD: &str = "Rhabarber-Kuchen schmeckt im Mai";

// ---------------------------------------------------------------------------------------
// Attacker tests
// ---------------------------------------------------------------------------------------

/// A reset link sets the password of its own account only; a replayed, tampered or expired
/// link, or a link of another purpose, is refused.
async fn reset_links_cannot_be_abused(backend: Backend) {
    let (server, dir) = start_with_outbox(backend).await;
    let anna = server.citizen("anna@example.de", PASSWORD).await;
    let _bernd = server.citizen("bernd@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    forgot(&server, &browser, "anna@example.de").await;
    let files = wait_for_mails(&outbox(&dir), 1).await;
    let anna_link = link(&files[0], &server.url("/password/reset?token="));
    let token = anna_link.split("token=").nth(1).unwrap().to_string();

    // Tampered: one character changed.
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let out = browser
        .get(&server.url(&format!("/password/reset?token={tampered}")))
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    // Posting a tampered token with a valid form is refused too, and changes nothing.
    let page = browser.get(&anna_link).await;
    let out = submit(
        &server,
        &browser,
        &page,
        "/password/reset",
        &[("token", &tampered), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);

    // The reset token is no registration link, and the other way round.
    let out = browser
        .get(&server.url(&format!("/register/verify?token={token}")))
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    let out = browser
        .get(&server.url(&format!("/account/email/confirm?token={token}")))
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);

    // Anna's link changes Anna's password; Bernd's stays.
    let out = reset_with(&server, &browser, &anna_link, NEW_PASSWORD).await;
    assert_eq!(status(&out), StatusCode::OK, "{}", out.html());
    let b2 = Browser::new(&server);
    assert!(login(&server, &b2, "bernd@example.de", PASSWORD)
        .await
        .is_page("/account"));
    let b3 = Browser::new(&server);
    assert!(login(&server, &b3, "anna@example.de", NEW_PASSWORD)
        .await
        .is_page("/account"));

    // Replayed: used once, refused the second time.
    let out = reset_with(&server, &browser, &anna_link, "another fine passphrase 42").await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    let b4 = Browser::new(&server);
    assert!(login(&server, &b4, "anna@example.de", NEW_PASSWORD)
        .await
        .is_page("/account"));

    // The audit trail has the reset, never the token.
    let rows =
        sqlx::query("SELECT action, detail FROM audit_log WHERE action LIKE 'account.password%'")
            .fetch_all(&server.app.db.pool)
            .await
            .unwrap();
    assert!(rows
        .iter()
        .any(|r| r.get::<String, _>("action") == "account.password_reset"
            && r.get::<String, _>("detail").contains(&anna)));
    assert!(rows
        .iter()
        .all(|r| !r.get::<String, _>("detail").contains(&token)));
}

#[tokio::test]
async fn reset_links_cannot_be_abused_sqlite() {
    reset_links_cannot_be_abused(Backend::Sqlite).await;
}

#[tokio::test]
async fn reset_links_cannot_be_abused_postgres() {
    reset_links_cannot_be_abused(Backend::Postgres).await;
}

/// A flood of reset requests from one network is cut off (429), and one account gets at most
/// one link per window however often it is asked for.
#[tokio::test]
async fn reset_request_floods_are_limited() {
    let (server, dir) = start_with_outbox(Backend::Sqlite).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let mut limited = false;
    for i in 0..15 {
        let out = forgot(&server, &browser, "anna@example.de").await;
        match status(&out) {
            StatusCode::OK => assert!(i < 10, "request {i} should have been limited"),
            StatusCode::TOO_MANY_REQUESTS => {
                limited = true;
                break;
            }
            s => panic!("unexpected {s}"),
        }
    }
    assert!(limited, "the flood was never limited");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        mails(&outbox(&dir)).len(),
        1,
        "one link per account per window"
    );
}

// ---------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------

/// The whole reset: the same answer for an unknown address (no mail), the password rules on
/// the link's page, the old password refused afterwards, other sessions ended, the link
/// expiring, a newer link voiding the older ones.
async fn password_reset(backend: Backend) {
    let dir = scratch("pforte-reset");
    let out_dir = dir.path.join("outbox");
    let o = out_dir.clone();
    let server = TestServer::start_manual_clock(backend, move |c| c.mail.outbox = Some(o)).await;
    let anna = server.citizen("anna.schmidt@example.de", PASSWORD).await;

    // Logged in elsewhere (the session a thief would hold).
    let elsewhere = Browser::new(&server);
    assert!(
        login(&server, &elsewhere, "anna.schmidt@example.de", PASSWORD)
            .await
            .is_page("/account")
    );

    // The log-in page links to the form.
    let page = Browser::new(&server).get(&server.url("/login")).await;
    assert!(
        page.html().contains("href=\"/password/forgot"),
        "{}",
        page.html()
    );

    // Unknown and known addresses get the same page (but for the address shown).
    let browser = Browser::new(&server);
    let unknown = forgot(&server, &browser, "nobody@example.de").await;
    let known = forgot(&server, &browser, "anna.schmidt@example.de").await;
    assert_eq!(status(&unknown), StatusCode::OK);
    assert_eq!(status(&known), StatusCode::OK);
    assert_eq!(
        unknown.html().replace("nobody@example.de", "X"),
        known.html().replace("anna.schmidt@example.de", "X")
    );
    let files = wait_for_mails(&out_dir, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails(&out_dir).len(), 1, "no mail for the unknown address");
    let first = link(&files[0], &server.url("/password/reset?token="));
    assert_eq!(Eml::read(&files[0]).header("To"), "anna.schmidt@example.de");

    // A second link after the per-account window; the first one stays usable until a link
    // is used, then both are spent.
    server
        .app
        .clock
        .advance(pforte::web::recovery::RESET_MAIL_WINDOW + 1);
    forgot(&server, &browser, "anna.schmidt@example.de").await;
    let files = wait_for_mails(&out_dir, 2).await;
    let second = link(&files[1], &server.url("/password/reset?token="));
    assert_ne!(first, second);

    // The password rules on the link's page: too short, built from her name or address, common.
    for (weak, key) in [
        ("kurz", "mindestens"),
        ("AnnaSchmidt2026", "Namen"),
        ("anna.schmidt@example.de", "Namen"),
        ("Pforte-Pforte-1", "Namen"),
        ("passwort1234", "leicht zu erraten"),
    ] {
        let out = reset_with(&server, &browser, &second, weak).await;
        assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{weak}");
        assert!(out.html().contains(key), "{weak}: {}", out.html());
    }
    let out = reset_with(&server, &browser, &second, NEW_PASSWORD).await;
    assert_eq!(status(&out), StatusCode::OK, "{}", out.html());

    // The older link is void now.
    let out = reset_with(&server, &browser, &first, "yet another long passphrase").await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);

    // The old password is refused, the new one works.
    let b = Browser::new(&server);
    let out = login(&server, &b, "anna.schmidt@example.de", PASSWORD).await;
    assert!(out.is_page("/login"), "{out:?}");
    assert!(login(&server, &b, "anna.schmidt@example.de", NEW_PASSWORD)
        .await
        .is_page("/account"));

    // The session opened before the reset is over.
    let out = elsewhere.get(&server.url("/account")).await;
    assert!(
        out.is_page("/login"),
        "the other session was not ended: {out:?}"
    );

    // A notice went to the account.
    let files = wait_for_mails(&out_dir, 3).await;
    assert!(Eml::read(&files[2])
        .subject()
        .contains("Ihr Passwort wurde geändert"));

    // A link expires.
    server
        .app
        .clock
        .advance(pforte::web::recovery::RESET_MAIL_WINDOW + 1);
    forgot(&server, &browser, "anna.schmidt@example.de").await;
    let files = wait_for_mails(&out_dir, 4).await;
    let third = link(&files[3], &server.url("/password/reset?token="));
    server
        .app
        .clock
        .advance(server.app.config.login.password_reset_ttl_secs as i64 + 1);
    let out = browser.get(&third).await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    let _ = anna;
}

#[tokio::test]
async fn password_reset_sqlite() {
    password_reset(Backend::Sqlite).await;
}

#[tokio::test]
async fn password_reset_postgres() {
    password_reset(Backend::Postgres).await;
}

/// Changing the password on the security page needs the current one and follows the rules.
#[tokio::test]
async fn password_change() {
    let (server, dir) = start_with_outbox(Backend::Sqlite).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    assert!(login(&server, &browser, "anna@example.de", PASSWORD)
        .await
        .is_page("/account"));
    let security = browser.get(&server.url("/account/security")).await;
    assert!(security.html().contains("/account/security/password"));
    let page = browser.get(&server.url("/account/security/password")).await;
    assert_eq!(status(&page), StatusCode::OK);
    // Without the right current password: refused.
    let out = submit(
        &server,
        &browser,
        &page,
        "/account/security/password",
        &[
            ("current_password", "wrong password!"),
            ("password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    // Built from the given name (Anna) and family name (Schmidt) of the account: refused.
    let out = submit(
        &server,
        &browser,
        &page,
        "/account/security/password",
        &[
            ("current_password", PASSWORD),
            ("password", "SchmidtAnna1990"),
        ],
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(out.html().contains("Namen"), "{}", out.html());
    let out = submit(
        &server,
        &browser,
        &page,
        "/account/security/password",
        &[("current_password", PASSWORD), ("password", NEW_PASSWORD)],
    )
    .await;
    assert_eq!(status(&out), StatusCode::OK, "{}", out.html());
    let files = wait_for_mails(&outbox(&dir), 1).await;
    assert!(Eml::read(&files[0])
        .subject()
        .contains("Ihr Passwort wurde geändert"));
    let b = Browser::new(&server);
    assert!(login(&server, &b, "anna@example.de", PASSWORD)
        .await
        .is_page("/login"));
    assert!(login(&server, &b, "anna@example.de", NEW_PASSWORD)
        .await
        .is_page("/account"));
    // This session goes on.
    assert!(browser
        .get(&server.url("/account"))
        .await
        .is_page("/account"));
}

/// The address changes only when the link sent to the new address is used; the old address is
/// told afterwards; nobody else can confirm it.
async fn email_change(backend: Backend) {
    let (server, dir) = start_with_outbox(backend).await;
    let anna = server.citizen("anna@example.de", PASSWORD).await;
    server.citizen("bernd@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    assert!(login(&server, &browser, "anna@example.de", PASSWORD)
        .await
        .is_page("/account"));
    let page = browser.get(&server.url("/account/security/email")).await;
    assert_eq!(status(&page), StatusCode::OK);
    // Wrong current password: nothing sent.
    let out = submit(
        &server,
        &browser,
        &page,
        "/account/security/email",
        &[
            ("email", "anna.neu@example.de"),
            ("current_password", "nope nope nope"),
        ],
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(mails(&outbox(&dir)).is_empty());
    let out = submit(
        &server,
        &browser,
        &page,
        "/account/security/email",
        &[
            ("email", "Anna.Neu@example.de"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status(&out), StatusCode::OK, "{}", out.html());
    let files = wait_for_mails(&outbox(&dir), 1).await;
    assert_eq!(files.len(), 1, "only the new address gets mail now");
    let mail = Eml::read(&files[0]);
    assert_eq!(mail.header("To"), "anna.neu@example.de");
    let confirm = link(&files[0], &server.url("/account/email/confirm?token="));
    // Not changed yet.
    let a = server.app.db.account_get(&anna).await.unwrap().unwrap();
    assert_eq!(a.email, "anna@example.de");

    // Opening the link changes nothing; a tampered token is refused.
    let stranger = Browser::new(&server);
    let page = stranger.get(&confirm).await;
    assert_eq!(status(&page), StatusCode::OK);
    let out = submit(
        &server,
        &stranger,
        &page,
        "/account/email/confirm",
        &[("token", "x")],
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert_eq!(
        server
            .app
            .db
            .account_get(&anna)
            .await
            .unwrap()
            .unwrap()
            .email,
        "anna@example.de"
    );
    // Confirming (whoever holds the new mailbox; no login needed) changes it.
    let token = hidden(page.html(), "token");
    let out = submit(
        &server,
        &stranger,
        &page,
        "/account/email/confirm",
        &[("token", &token)],
    )
    .await;
    assert_eq!(status(&out), StatusCode::OK, "{}", out.html());
    let a = server.app.db.account_get(&anna).await.unwrap().unwrap();
    assert_eq!(a.email, "anna.neu@example.de");
    assert!(a.email_verified);
    // Replayed: refused.
    let out = submit(
        &server,
        &stranger,
        &page,
        "/account/email/confirm",
        &[("token", &token)],
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    // The old address is told (masked new address, no link to confirm anything).
    let files = wait_for_mails(&outbox(&dir), 2).await;
    let notice = Eml::read(&files[1]);
    assert_eq!(notice.header("To"), "anna@example.de");
    assert!(notice.subject().contains("E-Mail-Adresse"));
    assert!(!notice.raw.contains("anna.neu@example.de"));
    // The new address logs in; the old one no longer.
    let b = Browser::new(&server);
    assert!(login(&server, &b, "anna@example.de", PASSWORD)
        .await
        .is_page("/login"));
    assert!(login(&server, &b, "anna.neu@example.de", PASSWORD)
        .await
        .is_page("/account"));

    // Asking for an address another account has: the link goes out, but confirming it
    // changes nothing.
    let page = b.get(&server.url("/account/security/email")).await;
    let out = submit(
        &server,
        &b,
        &page,
        "/account/security/email",
        &[
            ("email", "bernd@example.de"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status(&out), StatusCode::OK);
    let files = wait_for_mails(&outbox(&dir), 3).await;
    let taken = link(&files[2], &server.url("/account/email/confirm?token="));
    let page = stranger.get(&taken).await;
    let token = hidden(page.html(), "token");
    let out = submit(
        &server,
        &stranger,
        &page,
        "/account/email/confirm",
        &[("token", &token)],
    )
    .await;
    assert_eq!(status(&out), StatusCode::CONFLICT);
    assert_eq!(
        server
            .app
            .db
            .account_get(&anna)
            .await
            .unwrap()
            .unwrap()
            .email,
        "anna.neu@example.de"
    );
}

#[tokio::test]
async fn email_change_sqlite() {
    email_change(Backend::Sqlite).await;
}

#[tokio::test]
async fn email_change_postgres() {
    email_change(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// SMTP
// ---------------------------------------------------------------------------------------

/// Registration's verification mail arrives at a real SMTP server.
async fn registration_mail_arrives_by_smtp(backend: Backend) {
    let mut sink = SmtpSink::new();
    sink.start().await;
    let url = sink.url();
    let server = TestServer::start_with(backend, move |c| c.mail.smtp_url = Some(url)).await;
    // Test servers run no background duties: start the outbox worker as `serve` does.
    server.app.outbox.spawn_worker();
    let browser = Browser::new(&server);
    let page = browser.get(&server.url("/register")).await;
    let out = submit(
        &server,
        &browser,
        &page,
        "/register",
        &[("email", "joerg@müller.de"), ("req", "")],
    )
    .await;
    assert!(out.is_page("/register/done"), "{out:?}");
    let files = sink.wait_for(1).await;
    let mail = Eml::read(&files[0]);
    assert_eq!(mail.header("X-Sink-Rcpt-To"), "joerg@xn--mller-kva.de");
    assert_eq!(mail.header("To"), "joerg@xn--mller-kva.de");
    assert!(mail
        .subject()
        .contains("Bitte bestätigen Sie Ihre E-Mail-Adresse"));
    assert_eq!(mail.header("Auto-Submitted"), "auto-generated");
    let verify = link(&files[0], &server.url("/register/verify?token="));
    let page = browser.get(&verify).await;
    assert_eq!(status(&page), StatusCode::OK);
    // Sent, and the body (with the link) is gone from the database.
    let r = sqlx::query("SELECT sent_at, body FROM mail_outbox")
        .fetch_one(&server.app.db.pool)
        .await
        .unwrap();
    assert!(r.get::<Option<i64>, _>("sent_at").is_some());
    assert_eq!(r.get::<String, _>("body"), "");
}

#[tokio::test]
async fn registration_mail_arrives_by_smtp_sqlite() {
    registration_mail_arrives_by_smtp(Backend::Sqlite).await;
}

#[tokio::test]
async fn registration_mail_arrives_by_smtp_postgres() {
    registration_mail_arrives_by_smtp(Backend::Postgres).await;
}

/// With the SMTP server down, the mail waits in the outbox (retried with backoff, counted in
/// /metrics) and is delivered once the server is back; a second instance on the same database
/// does not send it twice.
#[tokio::test]
async fn smtp_outage_mails_wait_and_are_delivered_later() {
    let mut sink = SmtpSink::new();
    let url = sink.url();
    let tweak = move |c: &mut pforte::config::Config| {
        c.mail.smtp_url = Some(url);
        c.mail.retry_base_secs = 1;
        c.mail.retry_max_secs = 2;
        c.mail.poll_secs = 1;
        c.mail.smtp_timeout_secs = 5;
    };
    let server = TestServer::start_with(Backend::Postgres, tweak.clone()).await;
    server.app.outbox.spawn_worker();
    // A second instance on the same database with its own worker.
    let second = pforte::app::App::open({
        let mut cfg = config(&server.issuer, server.db_url(), server.kek());
        tweak(&mut cfg);
        cfg
    })
    .await
    .unwrap();
    second.outbox.spawn_worker();

    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let out = forgot(&server, &browser, "anna@example.de").await;
    assert_eq!(status(&out), StatusCode::OK);
    // The server is down: the mail waits, attempts are counted.
    wait_until_retried(&server, 2).await;
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pforte_mail_deliveries_total{outcome=\"retry\"}"),
        "{metrics}"
    );
    // Back up: delivered, exactly once.
    sink.start().await;
    let files = sink.wait_for(1).await;
    assert!(Eml::read(&files[0]).subject().contains("Neues Passwort"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.received().len(), 1, "delivered once");
    assert_eq!(outbox_state(&server).await.0, 0);
}

/// A configuration with a bad SMTP URL fails with a message naming the key.
#[test]
fn smtp_configuration_errors_name_the_key() {
    for (url, expect) in [
        ("smtp://mail.example.de?tls=none", "loopback"),
        ("http://mail.example.de", "scheme"),
        ("smtp://mail.example.de?foo=bar", "unknown parameter"),
        ("smtps://mail.example.de?tls=none", "contradicts"),
    ] {
        let err = pforte::config::Config::load_from(
            None,
            vec![("PFORTE_SMTP_URL".to_string(), url.to_string())],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mail.smtp_url") && err.contains(expect),
            "{url}: {err}"
        );
    }
    let err = pforte::config::Config::load_from(
        None,
        vec![
            (
                "PFORTE_SMTP_URL".to_string(),
                "smtps://u:secret@mail.example.de".to_string(),
            ),
            ("PFORTE_MAIL_SMTP_USER".to_string(), "other".to_string()),
            ("PFORTE_MAIL_SMTP_PASSWORD".to_string(), "x".to_string()),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("one place") && !err.contains("secret"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Screenshots
// ---------------------------------------------------------------------------------------

/// Walks the recovery and change pages in German and English at 1280 and 390 px in Chromium
/// (no horizontal scrolling; screenshots into `PFORTE_SHOTS`, default `/tmp/shots`, names
/// starting with `r`).
#[tokio::test]
async fn recovery_screenshots() {
    use crate::browser::{click, fill, shoot, ChromeDriver};
    let dir = PathBuf::from(std::env::var("PFORTE_SHOTS").unwrap_or_else(|_| "/tmp/shots".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let (server, out) = start_with_outbox(Backend::Sqlite).await;
    let driver = ChromeDriver::start().await;
    for (lang, accept, email) in [
        ("de", "de-DE,de;q=0.9", "erika.mustermann@example.de"),
        ("en", "en-GB,en;q=0.9", "john.doe@example.org"),
    ] {
        server.citizen(email, PASSWORD).await;
        let c = driver.browser(accept, false, 1280).await;
        c.goto(&server.url("/password/forgot")).await.unwrap();
        shoot(&c, &driver, &dir, lang, "r01-forgot").await;
        fill(&c, "#email", "not an address").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r02-forgot-error").await;
        fill(&c, "#email", email).await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r03-forgot-sent").await;
        // German: link, notice, confirmation, notice; then English.
        let n = if lang == "de" { 1 } else { 5 };
        let files = wait_for_mails(&outbox(&out), n).await;
        let reset = link(files.last().unwrap(), &server.url("/password/reset?token="));
        c.goto(&reset).await.unwrap();
        shoot(&c, &driver, &dir, lang, "r04-reset").await;
        fill(&c, "#password", &format!("{email} 2026")).await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r05-reset-personal").await;
        fill(&c, "#password", NEW_PASSWORD).await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r06-reset-done").await;
        c.goto(&reset).await.unwrap();
        shoot(&c, &driver, &dir, lang, "r07-reset-invalid").await;
        // Logged in: the security page's new section, password change, e-mail change.
        c.goto(&server.url("/login")).await.unwrap();
        fill(&c, "#email", email).await;
        fill(&c, "#password", NEW_PASSWORD).await;
        click(&c, "form button[type=submit]").await;
        c.goto(&server.url("/account/security")).await.unwrap();
        shoot(&c, &driver, &dir, lang, "r08-security").await;
        c.goto(&server.url("/account/security/password"))
            .await
            .unwrap();
        fill(&c, "#current_password", "falsch falsch").await;
        fill(&c, "#password", "passwort1234").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r09-password-errors").await;
        c.goto(&server.url("/account/security/email"))
            .await
            .unwrap();
        shoot(&c, &driver, &dir, lang, "r10-email").await;
        let new = format!("neu.{email}");
        fill(&c, "#email", &new).await;
        fill(&c, "#current_password", NEW_PASSWORD).await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r11-email-sent").await;
        let files = wait_for_mails(&outbox(&out), n + 2).await;
        let confirm = link(
            files.last().unwrap(),
            &server.url("/account/email/confirm?token="),
        );
        c.goto(&confirm).await.unwrap();
        shoot(&c, &driver, &dir, lang, "r12-email-confirm").await;
        click(&c, "form button[type=submit]").await;
        shoot(&c, &driver, &dir, lang, "r13-email-changed").await;
        c.goto(&confirm).await.unwrap();
        shoot(&c, &driver, &dir, lang, "r14-email-invalid").await;
        c.close().await.unwrap();
    }
}
