//! Registration, second part: registering from a service's login and continuing that login
//! after the link, asking for a new link (the same answer for every address, at most one link
//! per window), and the per-address rate limit of both forms.

use crate::common::{account::userinfo, *};
use crate::register::{
    assert_field_error, audit_actions, confirm, href, link_in, mails, outbox, register,
    required_inputs, start, status, wait_for_mails,
};
use reqwest::StatusCode;

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

/// Exchanges the code at `rp` and returns what its access token gets at userinfo.
async fn userinfo_for(server: &TestServer, code: &str, verifier: &str) -> serde_json::Value {
    let (st, tokens) = exchange(server, "rp", code, verifier).await;
    assert_eq!(st, StatusCode::OK, "{tokens}");
    userinfo(server, tokens["access_token"].as_str().unwrap())
        .await
        .1
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
    let info = userinfo_for(&server, &code, &verifier).await;
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
    let info = userinfo_for(&server, &code, &verifier).await;
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
