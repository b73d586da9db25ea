//! OpenID Connect for Identity Assurance 1.0 (issue 8, point 5): attributes proofed in person
//! (`pforte account proof`, run as the real binary) or by the eID are released as
//! `verified_claims` only to clients the admin allows, only when requested through the
//! `claims` parameter, only the requested names, and only within the client's scopes; a
//! malformed request is `invalid_request` — on SQLite and PostgreSQL.

use std::process::{Command, Stdio};

use crate::common::{attack::userinfo, *};
use pforte::{accounts::profile, admin, assurance::Level};
use serde_json::{json, Value};

const EMAIL: &str = "anna@example.de";

/// verified given and family name in the ID token, with time and evidence; verified family name
/// at userinfo, without verification details.
fn claims_param() -> String {
    json!({
        "id_token": {"verified_claims": {
            "verification": {"trust_framework": null, "time": null, "evidence": [{"type": {"value": "document"}}]},
            "claims": {"given_name": null, "family_name": null}
        }},
        "userinfo": {"verified_claims": {
            "verification": {"trust_framework": null},
            "claims": {"family_name": null}
        }}
    })
    .to_string()
}

async fn client(server: &TestServer, id: &str, scopes: &[&str], verified_claims: bool) {
    server
        .add_client(admin::NewClient {
            id: id.into(),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            first_party: true,
            verified_claims,
            ..Default::default()
        })
        .await;
}

/// `pforte account proof` as the operator runs it, against the server's database.
fn proof_at_the_office(server: &TestServer, level: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pforte"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PFORTE_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("PFORTE_ISSUER", &server.issuer)
        .env("PFORTE_DATABASE_URL", server.db_url())
        .env("PFORTE_KEYS_ENCRYPTION_KEY", server.kek())
        .args([
            "account",
            "proof",
            "--email",
            EMAIL,
            "--level",
            level,
            "--evidence",
            "Personalausweis geprüft, Bürgerbüro Mitte",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Logs in through `client_id` with `scope` and the `claims` parameter; returns the ID token's
/// payload and the userinfo response.
async fn tokens(server: &TestServer, client_id: &str, scope: &str, claims: &str) -> (Value, Value) {
    let browser = Browser::new(server);
    let (url, verifier) = authorize_url(server, client_id, &[("scope", scope), ("claims", claims)]);
    let page = browser.get(&url).await;
    let out = browser.login(&page, EMAIL, PASSWORD).await;
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (status, body) = exchange(server, client_id, &code, &verifier).await;
    assert!(status.is_success(), "{body}");
    let id = payload(body["id_token"].as_str().unwrap());
    let info = userinfo(server, body["access_token"].as_str().unwrap()).await;
    (id, info)
}

async fn released_to_allowed_clients_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.citizen(EMAIL, PASSWORD).await;
    client(&server, "vc", &["openid", "profile"], true).await;
    client(&server, "plain", &["openid", "profile"], false).await;
    client(&server, "noprofile", &["openid"], true).await;

    // Self-entered names are not verified: nothing to release yet.
    let (id, info) = tokens(&server, "vc", "openid profile", &claims_param()).await;
    assert!(id.get("verified_claims").is_none(), "{id}");
    assert!(info.get("verified_claims").is_none(), "{info}");

    proof_at_the_office(&server, "high");

    // The allowed client: exactly the requested claims and verification members.
    let (id, info) = tokens(&server, "vc", "openid profile", &claims_param()).await;
    let vc = &id["verified_claims"];
    assert_eq!(vc["verification"]["trust_framework"], "de_aml", "{id}");
    assert!(vc["verification"]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(vc["verification"]["evidence"][0]["type"], "document");
    assert_eq!(
        vc["verification"]["evidence"][0]["check_details"][0]["check_method"],
        "vpip"
    );
    assert_eq!(
        vc["claims"],
        json!({"given_name": "Anna", "family_name": "Schmidt"})
    );
    assert!(
        id.get("given_name").is_none(),
        "plain claims only when asked: {id}"
    );
    assert_eq!(
        info["verified_claims"],
        json!({"verification": {"trust_framework": "de_aml"}, "claims": {"family_name": "Schmidt"}})
    );

    // A client the admin has not allowed gets none, but its normal claims as before.
    let (id, info) = tokens(&server, "plain", "openid profile", &claims_param()).await;
    assert!(id.get("verified_claims").is_none(), "{id}");
    assert!(info.get("verified_claims").is_none(), "{info}");
    assert_eq!(info["family_name"], "Schmidt");

    // Allowed, but not registered for the profile scope: none of those claims.
    let (id, info) = tokens(&server, "noprofile", "openid", &claims_param()).await;
    assert!(id.get("verified_claims").is_none(), "{id}");
    assert!(info.get("verified_claims").is_none(), "{info}");

    // Withdrawn by the admin: no longer released, not even from a grant made before.
    admin::set_client_verified_claims(&server.app.db, &pforte::audit::Actor::Cli, "vc", false)
        .await
        .unwrap();
    let (id, _) = tokens(&server, "vc", "openid profile", &claims_param()).await;
    assert!(id.get("verified_claims").is_none(), "{id}");

    // A request for a trust framework Pforte does not have gets no element, and no error.
    admin::set_client_verified_claims(&server.app.db, &pforte::audit::Actor::Cli, "vc", true)
        .await
        .unwrap();
    let gold = json!({"id_token": {"verified_claims": {"verification": {"trust_framework": {"value": "gold"}}, "claims": {"given_name": null}}}});
    let (id, _) = tokens(&server, "vc", "openid profile", &gold.to_string()).await;
    assert!(id.get("verified_claims").is_none(), "{id}");
}

#[tokio::test]
async fn verified_claims_released_to_allowed_clients_only_sqlite() {
    released_to_allowed_clients_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn verified_claims_released_to_allowed_clients_only_postgres() {
    released_to_allowed_clients_only(Backend::Postgres).await;
}

/// What an eID login records (the federation flow calls `record_upstream`) is released under
/// the eIDAS trust framework with electronic_record evidence, and raised the proofing level.
#[tokio::test]
async fn verified_claims_from_the_eid_are_eidas_electronic_records() {
    let server = TestServer::start(Backend::Sqlite).await;
    let account = server.citizen(EMAIL, PASSWORD).await;
    client(&server, "vc", &["openid", "profile", "address"], true).await;
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &pforte::audit::Actor::Cli,
        admin::NewUpstream {
            id: "eid".into(),
            profile: "eid".into(),
            issuer: "https://eid.example.de".into(),
            client_id: "pforte".into(),
            client_secret: "upstream-secret".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let delivered = serde_json::from_value(json!({
        "given_name": "Anna",
        "family_name": "Schmidt",
        "birthdate": "1980-02-03",
        "address": {"street_address": "Markt 1", "postal_code": "59368", "locality": "Werne", "country": "DE"},
        "document_type": "ID",
    }))
    .unwrap();
    let r = profile::record_upstream(
        &server.app.db,
        &account,
        "eid",
        Level::High,
        server.app.now(),
        &delivered,
    )
    .await
    .unwrap();
    assert_eq!(r.proofing_raised, Some((Level::Low, Level::High)));

    let req = json!({"userinfo": {"verified_claims": {
        "verification": {"trust_framework": {"value": "eidas"}, "evidence": [{"type": {"value": "electronic_record"}}]},
        "claims": {"family_name": null, "birthdate": null, "address": null}
    }}});
    let (_, info) = tokens(&server, "vc", "openid profile address", &req.to_string()).await;
    let vc = &info["verified_claims"];
    assert_eq!(vc["verification"]["trust_framework"], "eidas", "{info}");
    assert_eq!(
        vc["verification"]["evidence"][0]["type"],
        "electronic_record"
    );
    assert_eq!(
        vc["verification"]["evidence"][0]["record"]["type"],
        "idcard"
    );
    assert_eq!(vc["claims"]["birthdate"], "1980-02-03");
    assert_eq!(vc["claims"]["address"]["locality"], "Werne");
    assert_eq!(vc["claims"]["family_name"], "Schmidt");

    // The raise is in the audit trail.
    let raised = server
        .app
        .db
        .audit_list(Some("account.proofing_raised"), 10)
        .await
        .unwrap();
    assert_eq!(raised.len(), 1);
}

#[tokio::test]
async fn verified_claims_malformed_requests_are_invalid_request() {
    let server = TestServer::start(Backend::Sqlite).await;
    server.citizen(EMAIL, PASSWORD).await;
    client(&server, "vc", &["openid", "profile"], true).await;
    client(&server, "plain", &["openid", "profile"], false).await;
    for bad in [
        json!({"id_token": {"verified_claims": {"claims": {"given_name": null}}}}),
        json!({"id_token": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {}}}}),
        json!({"userinfo": {"verified_claims": []}}),
        json!({"userinfo": {"verified_claims": "given_name"}}),
    ] {
        for c in ["vc", "plain"] {
            let browser = Browser::new(&server);
            let (url, _) = authorize_url(
                &server,
                c,
                &[("scope", "openid profile"), ("claims", &bad.to_string())],
            );
            let out = browser.get(&url).await;
            assert_eq!(
                out.param("error").as_deref(),
                Some("invalid_request"),
                "{c} {bad}: {out:?}"
            );
            assert_eq!(out.param("state").as_deref(), Some("st-123"));
        }
    }
}

#[tokio::test]
async fn verified_claims_metadata_in_discovery() {
    let server = TestServer::start(Backend::Sqlite).await;
    let d: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["verified_claims_supported"], true);
    assert_eq!(d["claims_parameter_supported"], true);
    assert_eq!(d["trust_frameworks_supported"], json!(["eidas", "de_aml"]));
    assert_eq!(
        d["evidence_supported"],
        json!(["document", "electronic_record"])
    );
    assert_eq!(d["documents_supported"], json!(["idcard"]));
    assert!(d["electronic_records_supported"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
    let claims = d["claims_in_verified_claims_supported"].as_array().unwrap();
    for c in [
        "given_name",
        "family_name",
        "birthdate",
        "address",
        "place_of_birth",
        "nationalities",
    ] {
        assert!(claims.contains(&json!(c)), "{c}");
    }
}
