//! The citizen's account pages (issue 9, items 3 to 7) against a real Pforte over HTTP, on
//! SQLite and PostgreSQL: what each service received and withdrawing it (its refresh token
//! refused with `invalid_grant`, its access token refused at userinfo and introspection), the
//! profile with provenance and its claims, "log out everywhere else", the export and the
//! deletion (login fails afterwards, the audit trail stays under a pseudonym), the step-up page
//! that sets up an authenticator app and continues the service's request, the back-channel
//! logout a deletion sends, and the footer pages. The whole journey in Chromium, from the
//! registration to the deletion, is tests/it/journey.rs.
//! Attacker tests first: another citizen's session, missing CSRF tokens, a stale login without
//! the password.

use crate::common::{account::*, *};
use pforte::{admin, assurance::Level};
use reqwest::StatusCode;
use serde_json::Value;

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

/// Item 6 with OpenID Connect Back-Channel Logout 1.0: deleting the account tells the service
/// its session reached that registered an endpoint (a real HTTP server here) with a logout
/// token a relying party accepts: signed by a key from the JWKS, `typ` `logout+jwt`, for that
/// service, with the back-channel event and the `sub` and `sid` of its ID token, no nonce
/// (§2.4, §2.6). A service without an endpoint gets nothing; nothing is sent twice.
async fn deletion_tells_backchannel_services(backend: Backend) {
    use crate::backchannel::{rp_endpoint, Rp};
    use crate::keys_and_restart::{fetch_jwks, verify_with};
    let server = TestServer::start(backend).await;
    let rp = Rp::default();
    let uri = rp_endpoint(rp.clone()).await;
    server
        .add_client(pforte::admin::NewClient {
            backchannel_logout_uri: Some(uri),
            ..service_client("waste", "Sperrmüll-Termin")
        })
        .await;
    service(&server, "library", "Stadtbücherei").await;
    let anna = "anna@example.de";
    citizen_with_details(&server, anna).await;
    let a = Browser::new(&server);
    let t = tokens_for(&server, &a, "waste", anna).await;
    let id_token = payload(t["id_token"].as_str().unwrap());
    tokens_for(&server, &a, "library", anna).await;
    let round = || pforte::backchannel::deliver_due(&server.app.core, "i1");
    assert_eq!(round().await.unwrap(), 0, "nothing before the deletion");

    let csrf = csrf_of(&server, &a).await;
    let out = a
        .post_form(
            &server.url("/account/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status(&out), StatusCode::OK, "{out:?}");
    assert_eq!(
        round().await.unwrap(),
        1,
        "one delivery: the service with an endpoint"
    );
    let got = rp.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let header = jsonwebtoken::decode_header(&got[0]).unwrap();
    assert_eq!(header.typ.as_deref(), Some(pforte::backchannel::TYP));
    let claims = verify_with(
        &fetch_jwks(&server).await,
        &got[0],
        &server.issuer,
        Some("waste"),
    )
    .expect("a logout token signed by a published key");
    assert_eq!(
        claims["events"],
        serde_json::json!({ pforte::backchannel::EVENT: {} })
    );
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["sid"], id_token["sid"]);
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert!(claims["iat"].as_i64().unwrap() <= claims["exp"].as_i64().unwrap());
    assert_eq!(round().await.unwrap(), 0, "not sent again");
    assert_eq!(server.app.db.backchannel_backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn deletion_tells_backchannel_services_sqlite() {
    deletion_tells_backchannel_services(Backend::Sqlite).await;
}

#[tokio::test]
async fn deletion_tells_backchannel_services_postgres() {
    deletion_tells_backchannel_services(Backend::Postgres).await;
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
