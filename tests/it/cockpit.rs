//! The citizen's account pages (issue 9, items 3 to 7) against a real Pforte over HTTP, on
//! SQLite and PostgreSQL: what each service received and withdrawing it (its refresh token
//! refused with `invalid_grant`, its access token refused at userinfo and introspection), the
//! profile with provenance and its claims, "log out everywhere else", the export and the
//! deletion (login fails afterwards, the audit trail stays under a pseudonym), the step-up page
//! that sets up an authenticator app and continues the service's request, and the footer pages.
//! Attacker tests first: another citizen's session, missing CSRF tokens, a stale login without
//! the password.

use crate::common::{attack::introspect, *};
use pforte::{
    accounts::{details::DetailsInput, NewAccount},
    admin::{self, NewClient},
    assurance::Level,
};
use reqwest::StatusCode;
use serde_json::Value;

fn status(o: &Outcome) -> StatusCode {
    match o {
        Outcome::Page { status, .. } => *status,
        Outcome::Callback { .. } => StatusCode::SEE_OTHER,
    }
}

fn select_text(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// A third-party service (consent asked) with refresh tokens and the profile, email,
/// address and phone scopes.
async fn service(server: &TestServer, id: &str, name: &str) {
    server
        .add_client(NewClient {
            id: id.into(),
            name: Some(name.into()),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ]
            .map(String::from)
            .to_vec(),
            first_party: false,
            ..Default::default()
        })
        .await;
}

/// A citizen with every profile detail, as `pforte account add` creates one.
async fn citizen_with_details(server: &TestServer, email: &str) -> String {
    admin::add_account_with_details(
        &server.app.db,
        &server.app.hasher,
        &pforte::audit::Actor::Cli,
        NewAccount {
            email: email.into(),
            password: PASSWORD.into(),
            given_name: Some("Anna".into()),
            family_name: Some("Schmidt".into()),
            email_verified: true,
        },
        DetailsInput {
            birthdate: Some("23.04.1980".into()),
            street_address: Some("Markt 1".into()),
            postal_code: Some("59368".into()),
            locality: Some("Werne".into()),
            phone_number: Some("+49 2389 123456".into()),
            ..Default::default()
        },
        12,
    )
    .await
    .expect("add account")
    .id
}

/// Logs in through `client` with consent and returns its token response.
async fn tokens_for(server: &TestServer, b: &Browser, client: &str, email: &str) -> Value {
    let (url, verifier) = authorize_url(
        server,
        client,
        &[
            ("scope", "openid profile email address phone offline_access"),
            ("prompt", "consent"),
        ],
    );
    let mut out = b.get(&url).await;
    if out.is_page("/login") {
        out = b.login(&out, email, PASSWORD).await;
    }
    if out.is_page("/consent") {
        out = b.consent(&out, true).await;
    }
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (st, body) = exchange(server, client, &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

async fn userinfo(server: &TestServer, access_token: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn refresh(server: &TestServer, client: &str, token: &str) -> (StatusCode, Value) {
    token_request(
        server,
        Some((client, &format!("{client}-secret-123"))),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn login_direct(server: &TestServer, b: &Browser, email: &str) {
    let page = b.get(&server.url("/login")).await;
    let out = b.login(&page, email, PASSWORD).await;
    assert!(out.is_page("/account"), "{out:?}");
}

async fn csrf_of(server: &TestServer, b: &Browser) -> String {
    hidden(b.get(&server.url("/account")).await.html(), "csrf")
}

async fn cockpit(backend: Backend) {
    let server = TestServer::start(backend).await;
    service(&server, "waste", "Sperrmüll-Termin").await;
    let anna = "anna@example.de";
    let anna_id = citizen_with_details(&server, anna).await;
    let bob = "bob@example.de";
    server.citizen(bob, PASSWORD).await;

    // --- Item 3: the address, phone and birth date reach the service per scope.
    let a = Browser::new(&server);
    let t = tokens_for(&server, &a, "waste", anna).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh_token = t["refresh_token"].as_str().unwrap().to_string();
    let (st, info) = userinfo(&server, &access).await;
    assert_eq!(st, StatusCode::OK, "{info}");
    assert_eq!(info["address"]["street_address"], "Markt 1");
    assert_eq!(info["address"]["postal_code"], "59368");
    assert_eq!(info["address"]["locality"], "Werne");
    assert_eq!(info["address"]["country"], "DE");
    assert_eq!(info["phone_number"], "+492389123456");
    assert_eq!(info["birthdate"], "1980-04-23");

    // --- Item 4: the account lists the service, what it received and at which level.
    let page = a.get(&server.url("/account")).await;
    let html = page.html().to_string();
    let cards = select_text(&html, ".consent-card");
    let card = cards
        .iter()
        .find(|c| c.contains("Sperrmüll-Termin"))
        .unwrap_or_else(|| panic!("service listed: {html}"));
    for received in [
        "Anschrift",
        "Telefonnummer",
        "Geburtsdatum",
        "E-Mail-Adresse",
    ] {
        assert!(card.contains(received), "{received} in {card}");
    }
    assert!(card.contains("niedrig"), "level in {card}");
    let releases = server.app.db.releases_of(&anna_id).await.unwrap();
    assert!(releases
        .iter()
        .any(|r| r.claims.contains(&"address".to_string())));

    // --- Attacker: Bob, logged in with his own session, cannot see or withdraw Anna's
    // service; his forms without the right CSRF token do nothing either.
    let b = Browser::new(&server);
    login_direct(&server, &b, bob).await;
    let bob_page = b.get(&server.url("/account")).await;
    assert!(!bob_page.html().contains("Sperrmüll-Termin"));
    let bob_csrf = hidden(bob_page.html(), "csrf");
    let out = b
        .post_form(
            &server.url("/account/consents/waste/revoke"),
            &[("csrf", &bob_csrf)],
        )
        .await;
    assert!(out.is_page("/account"), "{out:?}");
    let anna_csrf = csrf_of(&server, &a).await;
    // Anna's token in Bob's session is not Bob's token: refused.
    let out = b
        .post_form(
            &server.url("/account/consents/waste/revoke"),
            &[("csrf", &anna_csrf)],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{out:?}");
    // Anna's own session without a token: refused.
    let out = a
        .post_form(&server.url("/account/consents/waste/revoke"), &[])
        .await;
    assert!(status(&out).is_client_error(), "{out:?}");
    let out = a
        .post_form(
            &server.url("/account/consents/waste/revoke"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert_eq!(userinfo(&server, &access).await.0, StatusCode::OK);
    let (st, body) = refresh(&server, "waste", &refresh_token).await;
    assert_eq!(st, StatusCode::OK, "still live: {body}");
    let refresh_token = body["refresh_token"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap().to_string();
    // Not logged in at all: the login page.
    let anon = Browser::new(&server);
    for path in [
        "/account",
        "/account/profile",
        "/account/activity",
        "/account/data",
    ] {
        assert!(
            anon.get(&server.url(path)).await.is_page("/login"),
            "{path}"
        );
    }

    // --- Withdrawing: consent gone, refresh token invalid_grant, access token refused at
    // userinfo and inactive at introspection, at once.
    let out = a
        .post_form(
            &server.url("/account/consents/waste/revoke"),
            &[("csrf", &anna_csrf)],
        )
        .await;
    assert!(out.is_page("/account"), "{out:?}");
    assert!(out
        .html()
        .contains("„Sperrmüll-Termin“ hat keinen Zugriff mehr"));
    let (st, body) = refresh(&server, "waste", &refresh_token).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (st, _) = userinfo(&server, &access).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(introspect(&server, "waste", &access).await["active"], false);
    assert!(server
        .app
        .db
        .consent_get(&anna_id, "waste")
        .await
        .unwrap()
        .is_none());

    // --- The activity list shows the login with its device, and the releases.
    let act = a.get(&server.url("/account/activity")).await;
    assert_eq!(status(&act), StatusCode::OK);
    assert!(act.html().contains("mit Passwort"), "{}", act.html());
    assert!(act.html().contains("Sperrmüll-Termin"));

    // --- Item 4: log out everywhere else. Anna in a second browser; the first ends it.
    let a2 = Browser::new(&server);
    login_direct(&server, &a2, anna).await;
    let overview = a.get(&server.url("/account")).await;
    assert!(overview
        .html()
        .contains("Auf allen anderen Geräten abmelden"));
    let out = a
        .post_form(
            &server.url("/account/sessions/end-others"),
            &[("csrf", &anna_csrf)],
        )
        .await;
    assert!(
        out.html().contains("auf 1 anderen Geräten abgemeldet"),
        "{out:?}"
    );
    assert!(a2.get(&server.url("/account")).await.is_page("/login"));
    assert!(a.get(&server.url("/account")).await.is_page("/account"));
}

#[tokio::test]
async fn cockpit_sqlite() {
    cockpit(Backend::Sqlite).await;
}

#[tokio::test]
async fn cockpit_postgres() {
    cockpit(Backend::Postgres).await;
}

/// Item 3: the profile page shows each detail with its source, refuses bad input with the
/// field's message, stores a different value beside a verified one as self-entered.
#[tokio::test]
async fn profile_with_provenance() {
    let server = TestServer::start(Backend::Sqlite).await;
    let anna = "anna@example.de";
    let id = citizen_with_details(&server, anna).await;
    let a = Browser::new(&server);
    login_direct(&server, &a, anna).await;
    let page = a.get(&server.url("/account/profile")).await;
    let html = page.html().to_string();
    assert!(html.contains("value=\"23.04.1980\""), "{html}");
    assert!(html.contains("Von Ihnen eingegeben"));
    let csrf = hidden(&html, "csrf");
    let form = |phone: &'static str, family: &'static str| {
        vec![
            ("given_name", "Anna"),
            ("family_name", family),
            ("birthdate", "23.04.1980"),
            ("street_address", "Markt 1"),
            ("postal_code", "59368"),
            ("locality", "Werne"),
            ("country", "DE"),
            ("phone_number", phone),
        ]
    };
    // Bad input: a precise message at the field, nothing stored.
    let mut f = form("02389 123456", "Schmidt");
    f.push(("csrf", &csrf));
    let out = a.post_form(&server.url("/account/profile"), &f).await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(
        out.html().contains("Die Nummer beginnt mit 0"),
        "{}",
        out.html()
    );
    assert!(out.html().contains("href=\"#phone_number\""));
    // CSRF.
    let out = a
        .post_form(&server.url("/account/profile"), &form("+4923891", "X"))
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    let attrs = server.app.db.account_attributes(&id).await.unwrap();
    assert!(attrs
        .iter()
        .any(|a| a.name == "family_name" && a.value == "Schmidt"));

    // A verified family name (checked at the citizens' office) is never overwritten: a
    // different one is kept beside it as self-entered.
    sqlx::query("DELETE FROM account_attributes WHERE account_id = $1 AND name = 'family_name'")
        .bind(&id)
        .execute(&server.app.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO account_attributes (account_id, name, value, source, level, verified_at) \
         VALUES ($1, 'family_name', 'Schmidt', 'office', 'substantial', $2)",
    )
    .bind(&id)
    .bind(server.app.clock.now())
    .execute(&server.app.db.pool)
    .await
    .unwrap();
    let page = a.get(&server.url("/account/profile")).await;
    assert!(
        page.html().contains("Im Bürgerbüro geprüft"),
        "{}",
        page.html()
    );
    let mut f = form("+49 2389 654321", "Schmidt");
    f.push(("csrf", &csrf));
    let out = a.post_form(&server.url("/account/profile"), &f).await;
    assert!(
        out.html().contains("Ihre Angaben wurden gespeichert"),
        "{out:?}"
    );
    let attrs = server.app.db.account_attributes(&id).await.unwrap();
    let family: Vec<_> = attrs.iter().filter(|a| a.name == "family_name").collect();
    assert_eq!(
        family.len(),
        1,
        "the verified value stands alone: {family:?}"
    );
    assert_eq!(family[0].source, "office");
    assert!(attrs
        .iter()
        .any(|a| a.name == "phone_number" && a.value == "+492389654321" && a.source == "self"));
}

/// Item 6: export and deletion need a fresh login or the password; the export holds the data
/// (never secrets); after the deletion the login fails, the tokens are dead and the audit
/// trail names a pseudonym instead of the account.
async fn export_and_delete(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    service(&server, "waste", "Sperrmüll-Termin").await;
    let anna = "anna@example.de";
    let id = citizen_with_details(&server, anna).await;
    let a = Browser::new(&server);
    let t = tokens_for(&server, &a, "waste", anna).await;
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh_token = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&server, &access).await.0, StatusCode::OK);
    let csrf = csrf_of(&server, &a).await;

    // A login 20 minutes old: the password is needed, a wrong one refused.
    server.app.clock.advance(20 * 60);
    let page = a.get(&server.url("/account/data")).await;
    assert!(page.html().contains("type=\"password\""));
    let out = a
        .post_form(&server.url("/account/export"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(out.html().contains("Geben Sie Ihr Passwort ein"));
    let out = a
        .post_form(
            &server.url("/account/export"),
            &[("csrf", &csrf), ("password", "wrong password!!")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::UNAUTHORIZED);
    let out = a
        .post_form(
            &server.url("/account/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    // Without the CSRF token nothing happens, even with the password.
    let out = a
        .post_form(
            &server.url("/account/delete"),
            &[("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(server.app.db.account_get(&id).await.unwrap().is_some());

    // The export with the password: a JSON download with everything, no secrets.
    let r = a
        .http
        .post(server.url("/account/export"))
        .form(&[("csrf", csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["format"], "pforte-account-export/1");
    assert_eq!(doc["account"]["email"], anna);
    assert!(doc["profile"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "address.locality"
            && p["value"] == "Werne"
            && p["source"] == "self"));
    assert_eq!(doc["consents"][0]["client_id"], "waste");
    assert!(doc["releases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["client_id"] == "waste"));
    assert!(!doc["activity"].as_array().unwrap().is_empty());
    assert!(!doc["sessions"].as_array().unwrap().is_empty());
    let text = doc.to_string();
    assert!(!text.contains("argon2"), "no password hash in the export");

    // Deletion needs the box ticked, then goes.
    let out = a
        .post_form(
            &server.url("/account/delete"),
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(out.html().contains("Bestätigen Sie"));
    let out = a
        .post_form(
            &server.url("/account/delete"),
            &[("csrf", &csrf), ("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::OK, "{out:?}");
    assert!(out.html().contains("Ihr Konto wurde gelöscht"));
    assert!(server.app.db.account_get(&id).await.unwrap().is_none());
    assert!(server
        .app
        .db
        .account_attributes(&id)
        .await
        .unwrap()
        .is_empty());
    // Every token is dead, the session is gone, and the login fails.
    assert_eq!(userinfo(&server, &access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&server, "waste", &refresh_token).await.1["error"],
        "invalid_grant"
    );
    assert!(a.get(&server.url("/account")).await.is_page("/login"));
    let fresh = Browser::new(&server);
    let page = fresh.get(&server.url("/login")).await;
    let out = fresh.login(&page, anna, PASSWORD).await;
    assert!(out.is_page("/login"), "{out:?}");
    // The audit trail stays, under a pseudonym: neither the id nor the address remain.
    let all = server.app.db.audit_list(None, 1000).await.unwrap();
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains(&id), "account id in the audit trail");
    assert!(!text.contains(anna), "address in the audit trail");
    let deleted = all
        .iter()
        .find(|e| e.action == "account.deleted")
        .expect("deletion audited");
    assert!(deleted.target.as_deref().unwrap().starts_with("erased-"));
    assert!(all
        .iter()
        .filter(|e| e.action == "login.succeeded")
        .all(|e| e.target == deleted.target));
}

#[tokio::test]
async fn export_and_delete_sqlite() {
    export_and_delete(Backend::Sqlite).await;
}

#[tokio::test]
async fn export_and_delete_postgres() {
    export_and_delete(Backend::Postgres).await;
}

/// Item 5: a citizen proofed at substantial without a second factor, asked for substantial by
/// a service, sets up an authenticator app on the step-up page, and the service's token says
/// substantial (no JavaScript: plain forms).
#[tokio::test]
async fn step_up_sets_up_an_authenticator_app_and_continues() {
    let server = TestServer::start_manual_clock(Backend::Sqlite, |_| {}).await;
    server.confidential("rp", true).await;
    let erika = "erika@example.de";
    server.citizen(erika, PASSWORD).await;
    admin::proof_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        erika,
        Level::Substantial,
        "Personalausweis im Bürgerbüro geprüft",
    )
    .await
    .unwrap();
    admin::set_client_min_level(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        "rp",
        Some(Level::Substantial),
    )
    .await
    .unwrap();
    let b = Browser::new(&server);
    let (url, verifier) = authorize_url(&server, "rp", &[]);
    let page = b.get(&url).await;
    let page = b.login(&page, erika, PASSWORD).await;
    assert!(page.is_page("/stepup"), "{page:?}");
    let html = page.html().to_string();
    assert!(
        html.contains("Authenticator-App jetzt einrichten"),
        "{html}"
    );
    let secret = select_text(&html, "#totp-secret").remove(0);
    let key = base32_decode(&secret);
    let csrf = hidden(&html, "csrf");
    let req = hidden(&html, "req");
    // A wrong code: the page again with the error at the field.
    let out = b
        .post_form(
            &server.url("/stepup/enrol-totp"),
            &[
                ("csrf", &csrf),
                ("req", &req),
                ("level", "substantial"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(out.html().contains("href=\"#enrol-code\""));
    // Without the CSRF token: refused, nothing enrolled.
    let code = hotp(&key, (server.app.clock.now() / 30) as u64);
    let out = b
        .post_form(
            &server.url("/stepup/enrol-totp"),
            &[("req", &req), ("level", "substantial"), ("code", &code)],
        )
        .await;
    assert!(status(&out).is_client_error());
    let out = b
        .post_form(
            &server.url("/stepup/enrol-totp"),
            &[
                ("csrf", &csrf),
                ("req", &req),
                ("level", "substantial"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(status(&out), StatusCode::OK, "{out:?}");
    let codes = select_text(out.html(), ".code-list li");
    assert_eq!(codes.len(), 10, "recovery codes shown once: {}", out.html());
    let next = {
        let doc = scraper::Html::parse_document(out.html());
        let sel = scraper::Selector::parse("a.button").unwrap();
        doc.select(&sel)
            .next()
            .and_then(|e| e.value().attr("href"))
            .unwrap()
            .to_string()
    };
    assert!(next.starts_with("/authorize/continue?req="), "{next}");
    let out = b.get(&server.url(&next)).await;
    let code = out.param("code").unwrap_or_else(|| panic!("{out:?}"));
    let (st, body) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let id = payload(body["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], "http://eidas.europa.eu/LoA/substantial", "{id}");

    // A login older than 15 minutes may not add a second factor here: a fresh citizen
    // (no second factor) is sent to log in again instead.
    let lena = "lena@example.de";
    server.citizen(lena, PASSWORD).await;
    admin::proof_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        lena,
        Level::Substantial,
        "Personalausweis",
    )
    .await
    .unwrap();
    let b2 = Browser::new(&server);
    login_direct(&server, &b2, lena).await;
    server.app.clock.advance(16 * 60);
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = b2.get(&url).await;
    assert!(page.is_page("/stepup"), "{page:?}");
    assert!(!page.html().contains("totp-secret"));
    assert!(page.html().contains("Erneut anmelden"));
}

/// Item 7: the footer links both pages on every page; the statement names the configured
/// contact; both exist in German and English.
#[tokio::test]
async fn footer_pages() {
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.site.accessibility_contact = Some("barrierefrei@werne.example".into());
    })
    .await;
    let b = Browser::new(&server);
    let login = b.get(&server.url("/login")).await;
    assert!(login
        .html()
        .contains("href=\"/barrierefreiheit?ui_locales=de\""));
    assert!(login
        .html()
        .contains("href=\"/leichte-sprache?ui_locales=de\""));
    let page = b.get(&server.url("/barrierefreiheit")).await;
    assert_eq!(status(&page), StatusCode::OK);
    assert!(page.html().contains("mailto:barrierefrei@werne.example"));
    assert!(page.html().contains("Erklärung zur Barrierefreiheit"));
    let page = b.get(&server.url("/barrierefreiheit?ui_locales=en")).await;
    assert!(page.html().contains("Accessibility statement"));
    let page = b.get(&server.url("/leichte-sprache")).await;
    assert!(page.html().contains("Was ist Pforte?"));
    let page = b.get(&server.url("/leichte-sprache?ui_locales=en")).await;
    assert!(page.html().contains("What is Pforte?"));
}

/// The browser flow in Chromium with JavaScript off: log in through a service with
/// consent → the account shows the service and what it received → withdraw it → the service's
/// refresh token is refused (`invalid_grant`) and its access token fails at userinfo and
/// introspection → the export holds the data → delete → the login fails. (The full
/// test starts with registration and a real SMTP server; the citizen here comes from the
/// operator's `account add`.)
#[tokio::test]
async fn browser_flow_in_chromium() {
    use crate::browser::{click, fill, param, path, text, url, ChromeDriver};
    use fantoccini::Locator;

    let server = TestServer::start(Backend::Sqlite).await;
    service(&server, "waste", "Sperrmüll-Termin").await;
    let anna = "anna@example.de";
    citizen_with_details(&server, anna).await;
    let driver = ChromeDriver::start().await;
    let c = driver.browser("de-DE,de", false, 1280).await;

    // --- Log in through the service and consent.
    let (auth_url, verifier) = authorize_url(
        &server,
        "waste",
        &[("scope", "openid profile email address phone offline_access")],
    );
    c.goto(&auth_url).await.unwrap();
    assert_eq!(path(&c).await, "/login", "{}", url(&c).await);
    fill(&c, "#email", anna).await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/consent", "{}", url(&c).await);
    click(&c, "button[value=allow]").await;
    let code = param(&url(&c).await, "code").expect("code at the service");
    let (st, t) = exchange(&server, "waste", &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh_token = t["refresh_token"].as_str().unwrap().to_string();
    let (st, info) = userinfo(&server, &access).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(info["address"]["locality"], "Werne");

    // --- The account shows the service and what it received.
    c.goto(&server.url("/account")).await.unwrap();
    assert_eq!(path(&c).await, "/account");
    let card = text(&c, ".consent-card").await;
    assert!(card.contains("Sperrmüll-Termin"), "{card}");
    for data in ["Anschrift", "Telefonnummer", "Geburtsdatum"] {
        assert!(card.contains(data), "{data} in {card}");
    }

    // --- Withdraw it: refresh token and access token are dead at once.
    click(&c, ".consent-card form button[type=submit]").await;
    assert_eq!(path(&c).await, "/account");
    assert!(text(&c, ".status-message")
        .await
        .contains("Sperrmüll-Termin"));
    let (st, body) = refresh(&server, "waste", &refresh_token).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&server, &access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(introspect(&server, "waste", &access).await["active"], false);

    // --- The export (a download: fetched with the browser's session cookie).
    c.goto(&server.url("/account/data")).await.unwrap();
    let csrf = c
        .find(Locator::Css("input[name=csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let cookies = c.get_all_cookies().await.unwrap();
    let cookie = cookies
        .iter()
        .map(|k| format!("{}={}", k.name(), k.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let r = reqwest::Client::new()
        .post(server.url("/account/export"))
        .header("cookie", cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["account"]["email"], anna);
    assert!(doc["releases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["client_id"] == "waste"));

    // --- Delete (fresh login: the box is enough), then the login fails.
    let tick = c.find(Locator::Css("#delete-confirm")).await.unwrap();
    tick.click().await.unwrap();
    assert_eq!(tick.prop("checked").await.unwrap().as_deref(), Some("true"));
    click(&c, "button.button--danger").await;
    assert_eq!(text(&c, "h1").await, "Ihr Konto wurde gelöscht");
    c.goto(&server.url("/login")).await.unwrap();
    fill(&c, "#email", anna).await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    assert_eq!(path(&c).await, "/login");
    assert!(text(&c, ".error-summary")
        .await
        .contains("E-Mail-Adresse oder Passwort ist falsch"));
}
