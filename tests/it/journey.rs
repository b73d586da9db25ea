//! The citizen's whole journey in Chromium with JavaScript off, in German and in English, as
//! issue 9 asks for it: register → the verification mail arrives at a real SMTP server process
//! on loopback (aiosmtpd) → open the link from that mail and choose the password → log in
//! through a service with consent → the account page shows the service and what it received →
//! withdraw it → the service's refresh token is refused and its access token inactive →
//! export (JSON with the data) → delete (confirmed) → the login fails. Every page on the way
//! is photographed at 1280 and 390 px into `PFORTE_SHOTS` (default `/tmp/shots`, names
//! starting with `j`), and none may scroll sideways.

use std::path::PathBuf;

use crate::browser::{click, fill, param, path, shoot, text, url, ChromeDriver};
use crate::common::{account::*, *};
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::Value;

/// What the pages say in one language (the test's own words, not the server's tables).
struct Words {
    lang: &'static str,
    accept_language: &'static str,
    subject: &'static str,
    received: [&'static str; 2],
    withdrawn: &'static str,
    deleted: &'static str,
    login_failed: &'static str,
}

const DE: Words = Words {
    lang: "de",
    accept_language: "de-DE,de;q=0.9",
    subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse",
    received: ["Name", "E-Mail-Adresse"],
    withdrawn: "Sie haben den Zugriff entzogen",
    deleted: "Ihr Konto wurde gelöscht",
    login_failed: "E-Mail-Adresse oder Passwort ist falsch",
};

const EN: Words = Words {
    lang: "en",
    accept_language: "en-GB,en;q=0.9",
    subject: "Please confirm your email address",
    received: ["Name", "Email address"],
    withdrawn: "you revoked its access",
    deleted: "Your account has been deleted",
    login_failed: "The email address or password is incorrect",
};

/// The `Cookie` header of the browser's session (for the download, which WebDriver cannot
/// read).
async fn cookie_header(c: &Client) -> String {
    c.get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|k| format!("{}={}", k.name(), k.value()))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn journey(w: &Words) {
    let shots =
        PathBuf::from(std::env::var("PFORTE_SHOTS").unwrap_or_else(|_| "/tmp/shots".into()));
    std::fs::create_dir_all(&shots).unwrap();
    let mut sink = SmtpSink::new();
    sink.start().await;
    let smtp = sink.url();
    let server =
        TestServer::start_with(Backend::Sqlite, move |c| c.mail.smtp_url = Some(smtp)).await;
    // Test servers run no background duties: the outbox worker, as `serve` starts it.
    server.app.outbox.spawn_worker();
    service(&server, "waste", "Sperrmüll-Termin").await;
    let email = format!("jonas.becker.{}@example.de", w.lang);
    let driver = ChromeDriver::start().await;
    let c = driver.browser(w.accept_language, false, 1280).await;
    let shot = |name: &'static str| shoot(&c, &driver, &shots, w.lang, name);

    // --- Register.
    c.goto(&server.url("/register")).await.unwrap();
    shot("j01-register").await;
    fill(&c, "#email", &email).await;
    fill(&c, "#given_name", "Jonas").await;
    fill(&c, "#family_name", "Becker").await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/register/done", "{}", url(&c).await);
    shot("j02-register-done").await;

    // --- The verification mail arrives at the SMTP server.
    let files = sink.wait_for(1).await;
    let mail = Eml::read(&files[0]);
    assert_eq!(mail.header("X-Sink-Rcpt-To"), email);
    assert!(mail.subject().contains(w.subject), "{}", mail.subject());
    let verify = link(&files[0], &server.url("/register/verify?token="));

    // --- Open the link from the mail and choose the password.
    c.goto(&verify).await.unwrap();
    assert_eq!(path(&c).await, "/register/verify");
    shot("j03-confirm").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert!(c.find(Locator::Css(".notice--success")).await.is_ok());
    shot("j04-confirmed").await;
    let account = server
        .app
        .db
        .account_by_email(&email)
        .await
        .unwrap()
        .expect("account");
    assert!(account.email_verified);

    // --- Log in through the service, with consent.
    let (auth_url, verifier) = authorize_url(&server, "waste", &[("scope", ALL_SCOPES)]);
    c.goto(&auth_url).await.unwrap();
    assert_eq!(path(&c).await, "/login", "{}", url(&c).await);
    shot("j05-login").await;
    fill(&c, "#email", &email).await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/consent", "{}", url(&c).await);
    shot("j06-consent").await;
    click(&c, "button[value=allow]").await;
    let code = param(&url(&c).await, "code").expect("a code at the service");
    let (st, tokens) = exchange(&server, "waste", &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let (st, info) = userinfo(&server, &access).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(info["email"], email.as_str());
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["given_name"], "Jonas");

    // --- The account page shows the service and what it received.
    c.goto(&server.url("/account")).await.unwrap();
    assert_eq!(path(&c).await, "/account");
    shot("j07-account").await;
    let card = text(&c, ".consent-card").await;
    assert!(card.contains("Sperrmüll-Termin"), "{card}");
    for data in w.received {
        assert!(card.contains(data), "{data} in {card}");
    }

    // --- Withdraw it: the refresh token is refused, the access token inactive, at once.
    click(&c, ".consent-card form button[type=submit]").await;
    assert_eq!(path(&c).await, "/account");
    assert!(text(&c, ".status-message")
        .await
        .contains("Sperrmüll-Termin"));
    // Still listed for what it received, but as withdrawn, with nothing left to withdraw.
    let card = text(&c, ".consent-card").await;
    assert!(card.contains(w.withdrawn), "{card}");
    assert!(c.find(Locator::Css(".consent-card form")).await.is_err());
    shot("j08-withdrawn").await;
    let (st, body) = refresh(&server, "waste", &refresh_token).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(introspect(&server, "waste", &access).await["active"], false);
    assert_eq!(userinfo(&server, &access).await.0, StatusCode::UNAUTHORIZED);

    // --- Export: the download, fetched with the browser's session (a fresh login needs no
    // password).
    c.goto(&server.url("/account/data")).await.unwrap();
    shot("j09-data").await;
    let csrf = c
        .find(Locator::Css("input[name=csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let r = reqwest::Client::new()
        .post(server.url("/account/export"))
        .header("cookie", cookie_header(&c).await)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["account"]["email"], email.as_str());
    assert!(doc["profile"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "given_name" && p["value"] == "Jonas"));
    assert!(doc["releases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["client_id"] == "waste"));

    // --- Delete, confirmed by ticking the box.
    let tick = c.find(Locator::Css("#delete-confirm")).await.unwrap();
    tick.click().await.unwrap();
    assert_eq!(tick.prop("checked").await.unwrap().as_deref(), Some("true"));
    click(&c, "button.button--danger").await;
    assert_eq!(text(&c, "h1").await, w.deleted);
    shot("j10-deleted").await;
    assert!(server
        .app
        .db
        .account_get(&account.id)
        .await
        .unwrap()
        .is_none());

    // --- The login fails.
    c.goto(&server.url("/login")).await.unwrap();
    fill(&c, "#email", &email).await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/login");
    assert!(text(&c, ".error-summary").await.contains(w.login_failed));
    shot("j11-login-fails").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn register_to_deletion_in_chromium_de() {
    journey(&DE).await;
}

#[tokio::test]
async fn register_to_deletion_in_chromium_en() {
    journey(&EN).await;
}
