//! Attacks from issue 10 ("Hardening"), each sent against a running Pforte and checked to fail
//! safely: the `claims` parameter cannot widen what a client gets past its registered scopes,
//! the citizen's consent and the scopes' minimum levels; a leaked code cannot be burnt by
//! another client — on SQLite and PostgreSQL.

use crate::common::{attack::userinfo, *};
use pforte::{admin, assurance::Level};

const CLAIMS_ALL: &str = r#"{"userinfo":{"email":null,"address":null,"given_name":null},"id_token":{"email":null,"address":null,"given_name":null}}"#;
const CLAIMS_EMAIL: &str = r#"{"userinfo":{"email":null}}"#;

/// A confidential, third-party client (consent asked) registered for `scopes` only.
async fn client_for(server: &TestServer, id: &str, scopes: &[&str]) {
    server
        .add_client(admin::NewClient {
            id: id.into(),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await;
}

/// The scopes listed on a consent page.
fn listed_scopes(page: &Outcome) -> Vec<String> {
    let doc = scraper::Html::parse_document(page.html());
    let sel = scraper::Selector::parse("li[data-scope]").unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr("data-scope").map(String::from))
        .collect()
}

/// Tokens and userinfo for a callback carrying a code.
async fn redeem(
    server: &TestServer,
    client: &str,
    out: &Outcome,
    verifier: &str,
) -> (serde_json::Value, serde_json::Value) {
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (status, body) = exchange(server, client, &code, verifier).await;
    assert!(status.is_success(), "{body}");
    let id = payload(body["id_token"].as_str().unwrap());
    let info = userinfo(server, body["access_token"].as_str().unwrap()).await;
    (id, info)
}

async fn claims_of_unregistered_scopes_are_not_released(backend: Backend) {
    let server = TestServer::start(backend).await;
    client_for(&server, "narrow", &["openid"]).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let (url, verifier) = authorize_url(
        &server,
        "narrow",
        &[("scope", "openid"), ("claims", CLAIMS_ALL)],
    );
    let page = browser.get(&url).await;
    let page = browser.login(&page, "anna@example.de", PASSWORD).await;
    assert!(page.is_page("/consent"), "{page:?}");
    assert_eq!(listed_scopes(&page), vec!["openid"]);
    let out = browser.consent(&page, true).await;
    let (id, info) = redeem(&server, "narrow", &out, &verifier).await;
    for claim in ["email", "address", "given_name", "name", "email_verified"] {
        assert!(id.get(claim).is_none(), "ID token released {claim}: {id}");
        assert!(
            info.get(claim).is_none(),
            "userinfo released {claim}: {info}"
        );
    }
    assert!(info["sub"].is_string());
}

async fn a_claim_is_released_only_after_consent_to_its_scope(backend: Backend) {
    let server = TestServer::start(backend).await;
    client_for(&server, "mail", &["openid", "email"]).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);

    // Consent to `openid` alone first: it does not cover a claim of the email scope.
    let (url, verifier) = authorize_url(&server, "mail", &[("scope", "openid")]);
    let page = browser.get(&url).await;
    let page = browser.login(&page, "anna@example.de", PASSWORD).await;
    assert_eq!(listed_scopes(&page), vec!["openid"]);
    let out = browser.consent(&page, true).await;
    let (_, info) = redeem(&server, "mail", &out, &verifier).await;
    assert!(info.get("email").is_none(), "{info}");

    // Asking for `email` through `claims` (no `email` scope) needs consent that lists it.
    let (url, verifier) = authorize_url(
        &server,
        "mail",
        &[("scope", "openid"), ("claims", CLAIMS_EMAIL)],
    );
    let page = browser.get(&url).await;
    assert!(page.is_page("/consent"), "consent asked again: {page:?}");
    assert_eq!(listed_scopes(&page), vec!["openid", "email"]);
    // Refused: no code, nothing released.
    let out = browser.consent(&page, false).await;
    assert_eq!(out.param("error").as_deref(), Some("access_denied"));

    let page = browser.get(&url).await;
    assert!(page.is_page("/consent"), "{page:?}");
    let out = browser.consent(&page, true).await;
    let (_, info) = redeem(&server, "mail", &out, &verifier).await;
    assert_eq!(info["email"], "anna@example.de");
    // The ID token carries only what was asked for there.
    let (url, verifier) = authorize_url(
        &server,
        "mail",
        &[("scope", "openid"), ("claims", CLAIMS_EMAIL)],
    );
    let out = browser.get(&url).await;
    let (id, _) = redeem(&server, "mail", &out, &verifier).await;
    assert!(id.get("email").is_none(), "{id}");
}

async fn a_scope_minimum_applies_to_its_claims(backend: Backend) {
    let server = TestServer::start(backend).await;
    client_for(&server, "mail", &["openid", "email"]).await;
    server.citizen("anna@example.de", PASSWORD).await;
    admin::set_scope_min_level(
        &server.app.db,
        &pforte::audit::Actor::Admin("test".into()),
        "email",
        Some(Level::Substantial),
    )
    .await
    .unwrap();
    let browser = Browser::new(&server);
    // A password login (low) is enough without the e-mail claim...
    let (url, _) = authorize_url(&server, "mail", &[("scope", "openid")]);
    let page = browser.get(&url).await;
    let page = browser.login(&page, "anna@example.de", PASSWORD).await;
    let out = browser.consent(&page, true).await;
    assert!(out.param("code").is_some(), "{out:?}");
    // ...but not with it: the email scope's minimum applies to its claim.
    let (url, _) = authorize_url(
        &server,
        "mail",
        &[("scope", "openid"), ("claims", CLAIMS_EMAIL)],
    );
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
}

async fn another_clients_code_is_refused_and_stays_usable(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp-a", true).await;
    server.confidential("rp-b", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let (code, verifier) = login_code(&server, &browser, "rp-a", "anna@example.de").await;
    // B presents A's code (with its own redirect URI and A's verifier, as a thief would).
    let (status, body) = token_request(
        &server,
        Some(("rp-b", "rp-b-secret-123")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("rp-b")),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    // The code was not used up: A redeems it.
    let (status, body) = exchange(&server, "rp-a", &code, &verifier).await;
    assert!(status.is_success(), "{body}");
    assert!(body["id_token"].is_string());
    // Replay by A itself is still detected.
    let (status, body) = exchange(&server, "rp-a", &code, &verifier).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{body}"
    );
}

#[tokio::test]
async fn hardening_claims_of_unregistered_scopes_are_not_released() {
    for backend in BOTH {
        claims_of_unregistered_scopes_are_not_released(backend).await;
    }
}

#[tokio::test]
async fn hardening_a_claim_is_released_only_after_consent_to_its_scope() {
    for backend in BOTH {
        a_claim_is_released_only_after_consent_to_its_scope(backend).await;
    }
}

#[tokio::test]
async fn hardening_a_scope_minimum_applies_to_its_claims() {
    for backend in BOTH {
        a_scope_minimum_applies_to_its_claims(backend).await;
    }
}

#[tokio::test]
async fn hardening_another_clients_code_is_refused_and_stays_usable() {
    for backend in BOTH {
        another_clients_code_is_refused_and_stays_usable(backend).await;
    }
}
