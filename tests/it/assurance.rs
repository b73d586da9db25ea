//! Assurance levels end to end: acr/amr/auth_time in every token, each client's acr
//! vocabulary, acr_values preference, essential acr, max_age, and the admin policy (per client,
//! per scope) — on SQLite and PostgreSQL.

use crate::common::*;
use pforte::{admin, assurance::Level};

async fn levels(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    server
        .add_client(admin::NewClient {
            id: "bsi-rp".into(),
            secret: Some("bsi-rp-secret-123".into()),
            redirect_uris: vec![redirect("bsi-rp")],
            acr_vocabulary: Some("bsi".into()),
            first_party: true,
            ..Default::default()
        })
        .await;
    server.citizen("carla@example.de", PASSWORD).await;
    let browser = Browser::new(&server);

    // Discovery names every acr spelling and the claims, including acr/amr/auth_time.
    let meta: serde_json::Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for acr in [
        "http://eidas.europa.eu/LoA/substantial",
        "http://bsi.bund.de/eID/LoA/hoch",
        "STORK-QAA-Level-3",
    ] {
        assert!(
            meta["acr_values_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == acr),
            "{acr}"
        );
    }
    for claim in ["acr", "amr", "auth_time"] {
        assert!(
            meta["claims_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == claim),
            "{claim}"
        );
    }
    assert_eq!(meta["claims_parameter_supported"], true);

    // acr, amr and auth_time in the ID token, the access token and introspection.
    let (code, verifier) = login_code(&server, &browser, "rp", "carla@example.de").await;
    let (_, body) = exchange(&server, "rp", &code, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    let at = payload(body["access_token"].as_str().unwrap());
    for t in [&id, &at] {
        assert_eq!(t["acr"], "http://eidas.europa.eu/LoA/low", "{t}");
        assert_eq!(t["amr"], serde_json::json!(["pwd"]), "{t}");
        assert!(t["auth_time"].as_i64().unwrap() > 0);
    }
    let intro: serde_json::Value = reqwest::Client::new()
        .post(server.url("/introspect"))
        .basic_auth("rp", Some("rp-secret-123"))
        .form(&[("token", body["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["acr"], "http://eidas.europa.eu/LoA/low");
    assert_eq!(intro["amr"], serde_json::json!(["pwd"]));

    // A client configured for the BSI TR-03130 vocabulary gets its spelling (SSO, no prompt).
    let (url, verifier) = authorize_url(&server, "bsi-rp", &[]);
    let code = browser.get(&url).await.param("code").expect("SSO code");
    let (_, body) = exchange(&server, "bsi-rp", &code, &verifier).await;
    assert_eq!(
        payload(body["id_token"].as_str().unwrap())["acr"],
        "http://bsi.bund.de/eID/LoA/normal"
    );

    // Voluntary acr_values in preference order: substantial is out of reach for a password-only,
    // self-registered citizen, so the next value (low) is used; the token says low, never more.
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[(
            "acr_values",
            "http://eidas.europa.eu/LoA/substantial http://eidas.europa.eu/LoA/low",
        )],
    );
    let code = browser
        .get(&url)
        .await
        .param("code")
        .expect("fallback to low");
    let (_, body) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(
        payload(body["id_token"].as_str().unwrap())["acr"],
        "http://eidas.europa.eu/LoA/low"
    );

    // Essential acr (claims parameter) unmet: prompt=none → unmet_authentication_requirements;
    // also without prompt=none when the citizen cannot reach it (proofing ceiling, any spelling).
    let essential = r#"{"id_token":{"acr":{"essential":true,"values":["STORK-QAA-Level-3"]}}}"#;
    for extra in [
        vec![("claims", essential), ("prompt", "none")],
        vec![("claims", essential)],
    ] {
        let (url, _) = authorize_url(&server, "rp", &extra);
        let out = browser.get(&url).await;
        assert_eq!(
            out.param("error").as_deref(),
            Some("unmet_authentication_requirements"),
            "{out:?}"
        );
        assert_eq!(out.param("state").as_deref(), Some("st-123"));
    }
    // Proofing at the citizen office raises the ceiling, but a password alone stays low
    // (the authentication strength caps the level too): the step-up page now offers to set up
    // an authenticator app right there (issue 9), instead of refusing the request.
    admin::proof_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        "carla@example.de",
        Level::High,
        "Bürgerbüro, Personalausweis",
    )
    .await
    .unwrap();
    let (url, _) = authorize_url(&server, "rp", &[("claims", essential)]);
    let out = browser.get(&url).await;
    assert!(out.is_page("/stepup"), "{out:?}");
    assert!(out.html().contains("action=\"/stepup/enrol-totp\""));
    // Back to low for the policy checks below: a password-only citizen at low cannot reach
    // substantial, with or without a set-up.
    admin::proof_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        "carla@example.de",
        Level::Low,
        "Korrektur",
    )
    .await
    .unwrap();

    // Policy: a scope minimum applies to the very next request, and is audited.
    admin::set_scope_min_level(
        &server.app.db,
        &pforte::audit::Actor::Admin("test".into()),
        "payment",
        Some(Level::Substantial),
    )
    .await
    .unwrap();
    let (url, _) = authorize_url(&server, "rp", &[("scope", "openid payment")]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    let (url, _) = authorize_url(&server, "rp", &[("scope", "openid profile")]);
    assert!(
        browser.get(&url).await.param("code").is_some(),
        "other scopes are unaffected"
    );
    // A client minimum applies to every request of that client.
    admin::set_client_min_level(
        &server.app.db,
        &pforte::audit::Actor::Admin("test".into()),
        "rp",
        Some(Level::Substantial),
    )
    .await
    .unwrap();
    let (url, _) = authorize_url(&server, "rp", &[]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    let audit = server.app.db.audit_list(Some("policy."), 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].action, "policy.client_min_level");
    assert_eq!(audit[0].actor, "admin:test");
    assert_eq!(audit[0].detail["after"], "substantial");
    assert!(audit[0].detail["before"].is_null());
}

#[tokio::test]
async fn levels_sqlite() {
    levels(Backend::Sqlite).await;
}

#[tokio::test]
async fn levels_postgres() {
    levels(Backend::Postgres).await;
}

/// A login older than max_age, or older than its level's maximum age, asks for the password again.
async fn ageing(backend: Backend) {
    // A manual clock: the login ages without waiting.
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    server.confidential("rp", true).await;
    server.citizen("dora@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    login_code(&server, &browser, "rp", "dora@example.de").await;
    server.app.clock.advance(2);
    // max_age=1: the 2-second-old login must be repeated; with prompt=none that is login_required.
    let (url, _) = authorize_url(&server, "rp", &[("max_age", "1")]);
    let page = browser.get(&url).await;
    assert!(page.is_page("/login"), "{page:?}");
    let (url, _) = authorize_url(&server, "rp", &[("max_age", "1"), ("prompt", "none")]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("login_required")
    );
    // After logging in again the same request goes through, with a fresh auth_time.
    let out = browser.login(&page, "dora@example.de", PASSWORD).await;
    assert!(out.param("code").is_some(), "{out:?}");
    // The level's own maximum age (policy) also expires a session: set low to 1 s.
    admin::set_level_max_age(
        &server.app.db,
        &pforte::audit::Actor::Admin("test".into()),
        Level::Low,
        1,
    )
    .await
    .unwrap();
    server.app.clock.advance(2);
    let (url, _) = authorize_url(&server, "rp", &[("prompt", "none")]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("login_required")
    );
    let (url, _) = authorize_url(&server, "rp", &[]);
    assert!(browser.get(&url).await.is_page("/login"));
}

#[tokio::test]
async fn ageing_sqlite() {
    ageing(Backend::Sqlite).await;
}

#[tokio::test]
async fn ageing_postgres() {
    ageing(Backend::Postgres).await;
}

/// A proofing level the server does not know (a hand-edited row) is a server error page,
/// never a login counted at low (issue 7: parse once, at the store boundary).
#[tokio::test]
async fn corrupt_stored_level_is_refused_not_read_as_low() {
    let server = TestServer::start(Backend::Sqlite).await;
    server.confidential("rp", true).await;
    let id = server.citizen("dora@example.de", PASSWORD).await;
    sqlx::query("UPDATE accounts SET proofing_level = 'superhigh' WHERE id = $1")
        .bind(&id)
        .execute(&server.app.db.pool)
        .await
        .unwrap();
    let browser = Browser::new(&server);
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = browser.get(&url).await;
    assert!(page.is_page("/login"), "{page:?}");
    let out = browser.login(&page, "dora@example.de", PASSWORD).await;
    match &out {
        Outcome::Page { status, html, .. } => {
            assert_eq!(status.as_u16(), 500, "{html}");
            assert!(html.contains("server_error"), "{html}");
        }
        Outcome::Callback { url } => panic!("a login went through: {url}"),
    }
    // Nothing was issued for the account.
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM authorization_codes")
        .fetch_one(&server.app.db.pool)
        .await
        .unwrap();
    assert_eq!(codes, 0);
}
