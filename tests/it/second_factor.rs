//! Second factors and step-up end to end, on SQLite and PostgreSQL: TOTP set up through the real
//! pages (the test reads the secret from the page and computes codes itself, RFC 6238), step-up
//! of a password session to substantial for a proofed account (acr/amr in the ID token), replay
//! refused, recovery codes single use, the proofing ceiling of a self-registered account,
//! declining the step-up, the attempt limit, the level's maximum age, and the rule that a
//! password alone cannot change an account's second factors.

use crate::common::{
    account::{login_direct, select_attr, select_text, status},
    *,
};
use pforte::{admin, assurance::Level, clock::Clock};
use reqwest::StatusCode;

const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
const LOW: &str = "http://eidas.europa.eu/LoA/low";
const ESSENTIAL: &str = r#"{"id_token":{"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/substantial"]}}}"#;

// --- An authenticator app, written from RFC 4648 / RFC 4226 / RFC 6238 ----------------------

/// An authenticator app holding one secret, reading the test server's (manual) clock. Each
/// code it hands out is for a later time step than the one before (the server accepts a step
/// once), within the server's ±1 window; when the window is used up it moves the clock to the
/// next step, as a person would wait for the app's next code.
struct Authenticator {
    key: Vec<u8>,
    clock: Clock,
    last: i64,
}

impl Authenticator {
    fn new(secret: &str, clock: &Clock) -> Authenticator {
        Authenticator {
            key: base32_decode(secret),
            clock: clock.clone(),
            last: i64::MIN,
        }
    }

    /// The server's current time step.
    fn current_step(&self) -> i64 {
        self.clock.now().div_euclid(30)
    }

    /// A fresh code: the next unused step in the window [now-1, now+1].
    fn next_code(&mut self) -> String {
        loop {
            let cur = self.current_step();
            let step = (self.last + 1).max(cur - 1);
            if step <= cur + 1 {
                self.last = step;
                return hotp(&self.key, step as u64);
            }
            let now = self.clock.now();
            self.clock.advance(30 - now.rem_euclid(30));
        }
    }

    /// The code handed out last (to try it again).
    fn last_code(&self) -> String {
        hotp(&self.key, self.last as u64)
    }
}

// --- Page helpers ---------------------------------------------------------------------------

/// Sets up an authenticator app through the security pages; returns the app and, when the
/// account had none, the recovery codes shown once.
async fn enrol_totp(server: &TestServer, browser: &Browser) -> (Authenticator, Vec<String>) {
    let security = browser.get(&server.url("/account/security")).await;
    assert_eq!(status(&security), StatusCode::OK, "{security:?}");
    let href = select_attr(
        security.html(),
        "a[href=\"/account/security/totp\"]",
        "href",
    );
    assert!(href.is_some(), "set-up link: {}", security.html());
    let setup = browser.get(&server.url("/account/security/totp")).await;
    let html = setup.html().to_string();
    assert!(html.contains("<svg class=\"qr\""), "QR code");
    let secret = select_text(&html, "#totp-secret").remove(0);
    assert_eq!(
        secret.replace(' ', "").len(),
        32,
        "160-bit secret in base32"
    );
    // Reloading shows the same secret (it waits in the session until confirmed).
    let again = browser.get(&server.url("/account/security/totp")).await;
    assert_eq!(select_text(again.html(), "#totp-secret")[0], secret);
    let csrf = hidden(&html, "csrf");
    let mut app = Authenticator::new(&secret, &server.app.clock);

    // A wrong first code: the form again, the error tied to the field.
    let wrong = browser
        .post_form(
            &server.url("/account/security/totp"),
            &[("csrf", &csrf), ("code", "000000x")],
        )
        .await;
    assert_eq!(status(&wrong), StatusCode::BAD_REQUEST);
    let input = select_attr(wrong.html(), "#totp-code", "aria-invalid");
    assert_eq!(input.as_deref(), Some("true"));

    let code = app.next_code();
    let done = browser
        .post_form(
            &server.url("/account/security/totp"),
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(status(&done), StatusCode::OK, "{done:?}");
    let codes = if done.is_page("/account/security/totp") {
        // First second factor: the recovery codes are shown once.
        let codes = select_text(done.html(), "#recovery-codes code");
        assert_eq!(codes.len(), 10, "{}", done.html());
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
        }
        codes
    } else {
        assert!(done.is_page("/account/security"), "{done:?}");
        vec![]
    };
    (app, codes)
}

/// Starts an authorization request and logs in with the password if asked.
async fn authorize(
    server: &TestServer,
    browser: &Browser,
    email: &str,
    extra: &[(&str, &str)],
) -> (Outcome, String) {
    let (url, verifier) = authorize_url(server, "rp", extra);
    let mut out = browser.get(&url).await;
    if out.is_page("/login") {
        out = browser.login(&out, email, PASSWORD).await;
    }
    (out, verifier)
}

async fn stepup_submit(
    server: &TestServer,
    browser: &Browser,
    page: &Outcome,
    kind: &str,
    code: &str,
) -> Outcome {
    let html = page.html();
    browser
        .post_form(
            &server.url(&format!("/stepup/{kind}")),
            &[
                ("csrf", &hidden(html, "csrf")),
                ("req", &hidden(html, "req")),
                ("code", code),
            ],
        )
        .await
}

async fn tokens(server: &TestServer, out: &Outcome, verifier: &str) -> serde_json::Value {
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (st, body) = exchange(server, "rp", &code, verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    payload(body["id_token"].as_str().unwrap())
}

fn amr(id: &serde_json::Value) -> Vec<String> {
    id["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn second_factor(backend: Backend) {
    // A manual clock: TOTP time steps and the level's maximum age move without waiting.
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    server.confidential("rp", true).await;
    let erika = "erika@example.de";
    let erika_id = server.citizen(erika, PASSWORD).await;
    admin::proof_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        erika,
        Level::Substantial,
        "Bürgerbüro, Personalausweis vorgelegt",
    )
    .await
    .unwrap();

    // --- Set up TOTP through the pages (password session, no second factor yet).
    let b1 = Browser::new(&server);
    login_direct(&server, &b1, erika).await;
    let account = b1.get(&server.url("/account")).await;
    assert!(account.html().contains("href=\"/account/security\""));
    let security = b1.get(&server.url("/account/security")).await;
    let html = security.html();
    assert!(html.contains("Authenticator-App einrichten"));
    assert!(html.contains("id=\"passkey-register\""));
    assert!(html.contains("<script src=\"/static/passkey.js\" defer></script>"));
    let (mut app, recovery) = enrol_totp(&server, &b1).await;
    assert_eq!(recovery.len(), 10);
    let security = b1.get(&server.url("/account/security?done=totp")).await;
    assert!(security
        .html()
        .contains("Die Authenticator-App ist eingerichtet."));
    assert!(security.html().contains("Sie haben noch 10 von 10 Codes."));
    assert_eq!(
        select_text(security.html(), "li[data-kind=\"totp\"] h3"),
        vec!["Authenticator-App"]
    );

    // --- A password-only session asked for essential substantial: step-up page, then TOTP.
    let (page, verifier) = authorize(&server, &b1, erika, &[("claims", ESSENTIAL)]).await;
    assert!(page.is_page("/stepup"), "{page:?}");
    let Outcome::Page { url, html, .. } = &page else {
        unreachable!()
    };
    assert!(url.contains("level=substantial"), "{url}");
    assert!(
        html.contains("Vertrauensniveau „substanziell“ nötig."),
        "{html}"
    );
    assert!(html.contains("Ohne höhere Stufe fortfahren"));
    assert!(html.contains("id=\"totp-code\""));
    assert!(html.contains("id=\"recovery-code\""));
    // A wrong code: 401, the error tied to the field, attempts left shown.
    let wrong = stepup_submit(&server, &b1, &page, "totp", "123456").await;
    assert_eq!(status(&wrong), StatusCode::UNAUTHORIZED);
    assert_eq!(
        select_attr(wrong.html(), "#totp-code", "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(
        select_attr(wrong.html(), "#totp-code", "aria-describedby").as_deref(),
        Some("totp-code-hint totp-code-error")
    );
    assert!(wrong.html().contains("Sie haben noch 4 Versuche."));
    let code = app.next_code();
    let out = stepup_submit(&server, &b1, &wrong, "totp", &code).await;
    let id = tokens(&server, &out, &verifier).await;
    assert_eq!(id["acr"], SUBSTANTIAL, "{id}");
    let methods = amr(&id);
    for m in ["pwd", "otp", "mfa"] {
        assert!(methods.iter().any(|x| x == m), "{m} in {methods:?}");
    }

    // --- The same code again, from another session, is refused (replay).
    let b2 = Browser::new(&server);
    let (page, _) = authorize(&server, &b2, erika, &[("claims", ESSENTIAL)]).await;
    assert!(page.is_page("/stepup"), "{page:?}");
    let replay = stepup_submit(&server, &b2, &page, "totp", &app.last_code()).await;
    assert_eq!(status(&replay), StatusCode::UNAUTHORIZED, "{replay:?}");
    assert!(
        replay.html().contains("Dieser Code wurde schon verwendet."),
        "{}",
        replay.html()
    );
    // A recovery code works (any spelling), once.
    let rc = recovery[0].to_uppercase().replace('-', " ");
    let (page, verifier) = authorize(&server, &b2, erika, &[("claims", ESSENTIAL)]).await;
    let out = stepup_submit(&server, &b2, &page, "recovery", &rc).await;
    let id = tokens(&server, &out, &verifier).await;
    assert_eq!(id["acr"], SUBSTANTIAL);
    assert_eq!(amr(&id), vec!["pwd", "otp", "mfa"]);
    let b3 = Browser::new(&server);
    let (page, _) = authorize(&server, &b3, erika, &[("claims", ESSENTIAL)]).await;
    let used = stepup_submit(&server, &b3, &page, "recovery", &recovery[0]).await;
    assert_eq!(status(&used), StatusCode::UNAUTHORIZED);
    assert!(used
        .html()
        .contains("Dieser Wiederherstellungscode ist nicht gültig oder wurde schon verwendet."));
    assert!(used.html().contains("<details class=\"more\" open>"));

    // --- Declining: a voluntary request continues at the real level (low), a hard minimum fails.
    let (page, verifier) = authorize(&server, &b3, erika, &[("acr_values", SUBSTANTIAL)]).await;
    assert!(
        page.is_page("/stepup"),
        "voluntary substantial is offered: {page:?}"
    );
    let decline = |page: &Outcome| {
        let html = page.html().to_string();
        let b = &b3;
        let url = server.url("/stepup/decline");
        async move {
            b.post_form(
                &url,
                &[
                    ("csrf", &hidden(&html, "csrf")),
                    ("req", &hidden(&html, "req")),
                ],
            )
            .await
        }
    };
    let out = decline(&page).await;
    let id = tokens(&server, &out, &verifier).await;
    assert_eq!(id["acr"], LOW);
    assert_eq!(amr(&id), vec!["pwd"]);
    let (page, _) = authorize(&server, &b3, erika, &[("claims", ESSENTIAL)]).await;
    assert!(page.is_page("/stepup"));
    let out = decline(&page).await;
    assert_eq!(
        out.param("error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{out:?}"
    );
    assert_eq!(out.param("state").as_deref(), Some("st-123"));

    // --- At most 5 wrong codes per request; then the request ends with a readable page.
    let (mut page, _) = authorize(&server, &b3, erika, &[("claims", ESSENTIAL)]).await;
    let req = hidden(page.html(), "req");
    for i in 1..=5 {
        page = stepup_submit(&server, &b3, &page, "totp", "999999").await;
        if i < 5 {
            assert_eq!(status(&page), StatusCode::UNAUTHORIZED, "attempt {i}");
        }
    }
    assert_eq!(status(&page), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.html().contains("Zu viele Versuche"), "{}", page.html());
    let gone = b3
        .get(&server.url(&format!("/authorize/continue?req={req}")))
        .await;
    assert_eq!(status(&gone), StatusCode::BAD_REQUEST);

    // --- Same session, later requests: substantial without a new prompt (SSO) …
    let (url, verifier) = authorize_url(&server, "rp", &[("claims", ESSENTIAL)]);
    let out = b1.get(&url).await;
    let id = tokens(&server, &out, &verifier).await;
    assert_eq!(id["acr"], SUBSTANTIAL);
    // … until the level's maximum age passes: then the step-up is asked again (not a silent
    // downgrade), while a request without a minimum gets the level the session still has.
    admin::set_level_max_age(
        &server.app.db,
        &pforte::audit::Actor::Admin("test".into()),
        Level::Substantial,
        1,
    )
    .await
    .unwrap();
    server.app.clock.advance(2);
    let (url, verifier) = authorize_url(&server, "rp", &[]);
    let id = tokens(&server, &b1.get(&url).await, &verifier).await;
    assert_eq!(id["acr"], LOW);
    let (url, verifier) = authorize_url(&server, "rp", &[("claims", ESSENTIAL)]);
    let page = b1.get(&url).await;
    assert!(page.is_page("/stepup"), "aged out: step-up again: {page:?}");
    assert!(page
        .html()
        .contains("zurzeit das Vertrauensniveau „niedrig“"));
    admin::set_level_max_age(
        &server.app.db,
        &pforte::audit::Actor::Admin("test".into()),
        Level::Substantial,
        7200,
    )
    .await
    .unwrap();
    let code = app.next_code();
    let out = stepup_submit(&server, &b1, &page, "totp", &code).await;
    assert_eq!(tokens(&server, &out, &verifier).await["acr"], SUBSTANTIAL);

    // --- A self-registered account (proofing low) with TOTP: the proofing ceiling is explicit.
    let lena = "lena@example.de";
    server.citizen(lena, PASSWORD).await;
    let b4 = Browser::new(&server);
    login_direct(&server, &b4, lena).await;
    let (_lena_app, lena_codes) = enrol_totp(&server, &b4).await;
    assert_eq!(lena_codes.len(), 10);
    let (out, _) = authorize(&server, &b4, lena, &[("claims", ESSENTIAL)]).await;
    assert_eq!(
        out.param("error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{out:?}"
    );
    let (out, verifier) = authorize(&server, &b4, lena, &[("acr_values", SUBSTANTIAL)]).await;
    assert_eq!(tokens(&server, &out, &verifier).await["acr"], LOW);

    // --- A password alone cannot change an account's second factors: confirm first.
    let security = b4.get(&server.url("/account/security")).await;
    let html = security.html();
    assert!(
        html.contains("href=\"/stepup?level=substantial\""),
        "{html}"
    );
    assert!(
        !html.contains("/remove\""),
        "no remove buttons before confirming"
    );
    assert!(!html.contains("id=\"passkey-register\""));
    // (the session's CSRF token, from the account page's logout form)
    let csrf = hidden(b4.get(&server.url("/account")).await.html(), "csrf");
    let lena_creds = server
        .app
        .db
        .credentials_of(
            &server
                .app
                .db
                .account_by_email(lena)
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    let r = b4
        .http
        .post(server.url(&format!(
            "/account/security/credentials/{}/remove",
            lena_creds[0].id
        )))
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/stepup?level=substantial");
    let r = b4
        .http
        .get(server.url("/account/security/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/stepup?level=substantial");
    // Confirming with a recovery code on the step-up page (no request) opens the changes.
    let confirm = b4.get(&server.url("/stepup?level=substantial")).await;
    assert!(!confirm.html().contains("Ohne höhere Stufe fortfahren"));
    let out = stepup_submit(&server, &b4, &confirm, "recovery", &lena_codes[3]).await;
    assert!(out.is_page("/account/security"), "{out:?}");
    let html = out.html().to_string();
    assert!(html.contains("Sie haben noch 9 von 10 Codes."));
    // Regenerate: new codes shown once; the old ones stop working.
    let regen = b4
        .post_form(
            &server.url("/account/security/recovery-codes"),
            &[("csrf", &hidden(&html, "csrf"))],
        )
        .await;
    let new_codes = select_text(regen.html(), "#recovery-codes code");
    assert_eq!(new_codes.len(), 10);
    let lena_id = &lena_creds[0].account_id;
    assert!(!pforte::accounts::totp::use_recovery_code(
        &server.app.db,
        &server.app.kek,
        lena_id,
        &lena_codes[4],
        0
    )
    .await
    .unwrap());
    // Remove the app: audited, and the recovery codes go with the last second factor.
    let security = b4.get(&server.url("/account/security")).await;
    let html = security.html().to_string();
    let action = select_attr(&html, "li[data-kind=\"totp\"] form", "action").unwrap();
    let out = b4
        .post_form(&server.url(&action), &[("csrf", &hidden(&html, "csrf"))])
        .await;
    assert!(out.html().contains("Das Anmeldeverfahren wurde entfernt."));
    assert!(out
        .html()
        .contains("Sie haben keine Wiederherstellungscodes."));
    assert!(server
        .app
        .db
        .credentials_of(lena_id)
        .await
        .unwrap()
        .is_empty());

    // --- The audit log has the events, with levels, and never a secret or a code.
    let audit = server.app.db.audit_list(None, 500).await.unwrap();
    let count = |action: &str| audit.iter().filter(|e| e.action == action).count();
    assert_eq!(count("credential.added"), 2);
    assert_eq!(count("credential.removed"), 1);
    assert_eq!(count("recovery_codes.regenerated"), 3);
    assert!(count("login.step_up") >= 4);
    assert!(count("login.step_up_failed") >= 7);
    let step_up = audit
        .iter()
        .find(|e| e.action == "login.step_up" && e.target.as_deref() == Some(&erika_id))
        .unwrap();
    assert_eq!(step_up.detail["after"], "substantial");
    let all = serde_json::to_string(&audit).unwrap();
    for c in recovery.iter().chain(&lena_codes).chain(&new_codes) {
        assert!(!all.contains(c.as_str()) && !all.contains(&c.replace('-', "")));
    }
    assert!(!all.contains(&pforte::accounts::totp::base32(&app.key)));
}

#[tokio::test]
async fn second_factor_sqlite() {
    second_factor(Backend::Sqlite).await;
}

#[tokio::test]
async fn second_factor_postgres() {
    second_factor(Backend::Postgres).await;
}

/// Parallel wrong codes cannot race past the attempt limit: each attempt is reserved in the
/// database before the code is checked (issue 10, item 4), so of twelve sent at once at most
/// five are checked, however the session writes interleave.
async fn parallel_stepup_guesses_each_count(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    server.confidential("rp", true).await;
    let erika = "erika@example.de";
    server.citizen(erika, PASSWORD).await;
    admin::proof_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        erika,
        Level::Substantial,
        "Bürgerbüro",
    )
    .await
    .unwrap();
    let b = Browser::new(&server);
    login_direct(&server, &b, erika).await;
    enrol_totp(&server, &b).await;
    let (page, _) = authorize(&server, &b, erika, &[("claims", ESSENTIAL)]).await;
    assert!(page.is_page("/stepup"), "{page:?}");
    let (csrf, req) = (hidden(page.html(), "csrf"), hidden(page.html(), "req"));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let http = b.http.clone();
        let url = server.url("/stepup/totp");
        let (csrf, req) = (csrf.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("req", req.as_str()),
                    ("code", format!("{:06}", 100_000 + i).as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    // 401: a wrong code checked; 429: the limit gave the request up; 400: the request was
    // already given up by a parallel post when this one read it ("Anmeldung abgelaufen").
    let mut wrong = 0;
    for t in tasks {
        let s = t.await.unwrap();
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::BAD_REQUEST
            ]
            .contains(&s),
            "{s}"
        );
        wrong += usize::from(s == StatusCode::UNAUTHORIZED);
    }
    assert!(wrong <= 5, "{wrong} wrong codes were answered as checked");
    let checked = server
        .app
        .db
        .audit_list(Some("login.step_up_failed"), 100)
        .await
        .unwrap()
        .len();
    assert!(checked <= 5, "{checked} codes were checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn second_factor_parallel_stepup_guesses_each_count_sqlite() {
    parallel_stepup_guesses_each_count(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn second_factor_parallel_stepup_guesses_each_count_postgres() {
    parallel_stepup_guesses_each_count(Backend::Postgres).await;
}
