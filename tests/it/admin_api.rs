//! The admin HTTP API: admin-scoped client_credentials tokens only; policy changes show in the
//! next login and in the audit log read back through the API; OpenAPI describes every route.

use crate::common::{admin_kit::*, *};
use serde_json::json;

async fn admin_api(backend: Backend) {
    let server = TestServer::start(backend).await;
    api_client(&server, "console", &["pforte:admin"]).await;
    api_client(&server, "service", &["payment"]).await;
    server.confidential("rp", true).await;
    server.citizen("emil@example.de", PASSWORD).await;
    let admin = admin_token(&server, "console", "pforte:admin").await;
    let other = admin_token(&server, "service", "payment").await;
    use reqwest::Method;

    // The OpenAPI document is public and lists every route.
    let (status, doc) = api(&server, Method::GET, "/admin/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/admin/api/upstreams",
        "/admin/api/upstreams/{id}/trust",
        "/admin/api/policy/clients/{id}/methods",
        "/admin/api/policy",
        "/admin/api/policy/levels/{level}",
        "/admin/api/policy/scopes/{scope}",
        "/admin/api/policy/clients/{id}",
        "/admin/api/clients",
        "/admin/api/clients/{id}",
        "/admin/api/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }

    // No token → 401; a non-admin token → 403 insufficient_scope; a citizen's token → 403.
    call(&server, Method::GET, "/admin/api/policy", None, None, 401).await;
    let (status, body) = api(
        &server,
        Method::GET,
        "/admin/api/policy",
        Some(&other),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let browser = Browser::new(&server);
    let (code, verifier) = login_code(&server, &browser, "rp", "emil@example.de").await;
    let (_, tokens) = exchange(&server, "rp", &code, &verifier).await;
    call(
        &server,
        Method::GET,
        "/admin/api/policy",
        tokens["access_token"].as_str(),
        None,
        403,
    )
    .await;
    call(
        &server,
        Method::GET,
        "/admin/api/policy",
        Some("garbage"),
        None,
        401,
    )
    .await;

    // Bad input: a clear 400, nothing changed.
    let (status, body) = api(
        &server,
        Method::PUT,
        "/admin/api/policy/scopes/payment",
        Some(&admin),
        Some(json!({"min_level": "very-high"})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/levels/medium",
        Some(&admin),
        Some(json!({"max_age": 60})),
        400,
    )
    .await;
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/levels/low",
        Some(&admin),
        Some(json!({"max_age": "soon"})),
        400,
    )
    .await;
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/clients/nope",
        Some(&admin),
        Some(json!({"min_level": "high"})),
        404,
    )
    .await;
    call(
        &server,
        Method::POST,
        "/admin/api/clients",
        Some(&admin),
        Some(json!({"id": "x", "redirect_uris": ["http://evil.example/cb"]})),
        400,
    )
    .await;
    call(
        &server,
        Method::GET,
        "/admin/api/audit?limit=0",
        Some(&admin),
        None,
        400,
    )
    .await;
    let (_, policy) = api(
        &server,
        Method::GET,
        "/admin/api/policy",
        Some(&admin),
        None,
    )
    .await;
    assert!(policy["scopes"].as_object().unwrap().is_empty());

    // Register a client through the API, then require substantial for it: the next login at it
    // fails with unmet_authentication_requirements (a password-only citizen cannot reach it).
    let (status, c) = api(&server, Method::POST, "/admin/api/clients", Some(&admin), Some(json!({
        "id": "parking", "name": "Knöllchen online", "secret": "parking-secret-123",
        "redirect_uris": [redirect("parking")], "scopes": ["openid", "profile"], "first_party": true
    }))).await;
    assert_eq!(status, 201, "{c}");
    let (url, verifier) = authorize_url(&server, "parking", &[("scope", "openid profile")]);
    let code = browser
        .get(&url)
        .await
        .param("code")
        .expect("SSO code before the policy change");
    assert_eq!(exchange(&server, "parking", &code, &verifier).await.0, 200);
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/clients/parking",
        Some(&admin),
        Some(json!({"min_level": "substantial"})),
        204,
    )
    .await;
    let (url, _) = authorize_url(&server, "parking", &[("scope", "openid profile")]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/levels/high",
        Some(&admin),
        Some(json!({"max_age": 900})),
        204,
    )
    .await;
    let (_, policy) = api(
        &server,
        Method::GET,
        "/admin/api/policy",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(policy["clients"]["parking"]["min_level"], "substantial");
    assert_eq!(policy["levels"]["high"]["max_age"], 900);

    // The audit log, read back through the API: who, when, before and after.
    let (status, log) = api(
        &server,
        Method::GET,
        "/admin/api/audit?action=policy.",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["action"], "policy.client_min_level");
    assert_eq!(log[1]["actor"], "admin:console");
    assert_eq!(log[1]["target"], "parking");
    assert!(log[1]["detail"]["before"].is_null());
    assert_eq!(log[1]["detail"]["after"], "substantial");
    assert!(log[1]["at"].as_i64().unwrap() > 0);
    assert_eq!(log[0]["detail"]["before"], 1800);
    assert_eq!(log[0]["detail"]["after"], 900);
    let (_, denied) = api(
        &server,
        Method::GET,
        "/admin/api/audit?action=admin.denied",
        Some(&admin),
        None,
    )
    .await;
    assert!(
        !denied.as_array().unwrap().is_empty(),
        "refused admin calls are audited"
    );

    // Upstreams: register with a custom acr mapping (Servicekonto.NRW's values are not
    // standard), change the trust, restrict a client to it; bad input refused.
    let (status, u) = api(&server, Method::POST, "/admin/api/upstreams", Some(&admin), Some(json!({
        "id": "sk-nrw", "profile": "servicekonto-nrw", "issuer": "https://sk.example.nrw/AutentIDConnect/sk",
        "client_id": "pforte", "client_secret": "upstream-secret", "acr_map": {"urn:sk:loa:3": "substantial"}
    }))).await;
    assert_eq!(status, 201, "{u}");
    assert_eq!(u["max_level"], "substantial", "profile default");
    assert!(
        u.get("client_secret").is_none(),
        "the secret is never returned"
    );
    call(&server, Method::POST, "/admin/api/upstreams", Some(&admin), Some(json!({ "id": "bad id!", "profile": "oidc", "issuer": "https://x.example", "client_id": "a", "client_secret": "b" })), 400).await;
    call(
        &server,
        Method::PUT,
        "/admin/api/upstreams/sk-nrw/trust",
        Some(&admin),
        Some(json!({"acr_map": {"urn:sk:loa:3": "extreme"}})),
        400,
    )
    .await;
    call(
        &server,
        Method::PUT,
        "/admin/api/upstreams/sk-nrw/trust",
        Some(&admin),
        Some(json!({"max_level": "low"})),
        204,
    )
    .await;
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/clients/parking/methods",
        Some(&admin),
        Some(json!({"login_methods": ["password", "fax"]})),
        400,
    )
    .await;
    call(
        &server,
        Method::PUT,
        "/admin/api/policy/clients/parking/methods",
        Some(&admin),
        Some(json!({"login_methods": ["password", "passkey"], "upstreams": ["sk-nrw"]})),
        204,
    )
    .await;
    let (_, policy) = api(
        &server,
        Method::GET,
        "/admin/api/policy",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(policy["upstreams"]["sk-nrw"]["max_level"], "low");
    assert_eq!(
        policy["upstreams"]["sk-nrw"]["acr_map"]["urn:sk:loa:3"],
        "substantial"
    );
    assert_eq!(
        policy["clients"]["parking"]["login_methods"],
        json!(["password", "passkey"])
    );
    assert_eq!(policy["clients"]["parking"]["upstreams"], json!(["sk-nrw"]));
    let (_, log) = api(
        &server,
        Method::GET,
        "/admin/api/audit?action=policy.upstream_trust",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(log[0]["detail"]["before"]["max_level"], "substantial");
    assert_eq!(log[0]["detail"]["after"]["max_level"], "low");

    call(
        &server,
        Method::DELETE,
        "/admin/api/clients/parking",
        Some(&admin),
        None,
        204,
    )
    .await;
    call(
        &server,
        Method::GET,
        "/admin/api/clients/parking",
        Some(&admin),
        None,
        404,
    )
    .await;
}

#[tokio::test]
async fn admin_api_sqlite() {
    admin_api(Backend::Sqlite).await;
}

#[tokio::test]
async fn admin_api_postgres() {
    admin_api(Backend::Postgres).await;
}
