//! What an eID login leaves behind for later logins (issue 8, item 5), shown end to end with
//! the eID peer (panva's oidc-provider, a separate process):
//!
//! - the eID proofing lets a later password + TOTP login reach substantial, and without it the
//!   same login is held at low;
//! - the eID's attributes are released as `verified_claims` (trust framework `eidas`, evidence
//!   `electronic_record`) after a real eID login, to allowed clients only.

use crate::common::{federation::*, *};
use pforte::assurance::Level;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
const LOW: &str = "http://eidas.europa.eu/LoA/low";

/// A citizen with a password logs in at Pforte directly and sets up an authenticator app;
/// returns the browser (logged in) and the app's seed.
async fn citizen_with_totp(server: &TestServer, email: &str) -> (Walker, Vec<u8>) {
    server.citizen(email, PASSWORD).await;
    let w = Walker::new();
    let login = w.get(&server.url("/login")).await;
    let acc = w.password(&login, email).await;
    assert!(acc.is_page("/account"), "{acc:?}");
    let seed = enrol_totp(&w, &server.issuer).await;
    (w, seed)
}

/// A fresh browser: `rp` asks for substantial (voluntary `acr_values`), the citizen logs in
/// with the password and is led to the step-up page.
async fn password_asked_for_substantial(
    server: &TestServer,
    email: &str,
) -> (Walker, Outcome, String) {
    let w = Walker::new();
    let (url, verifier) = authorize_url(server, "rp", &[("acr_values", SUBSTANTIAL)]);
    let page = w.get(&url).await;
    assert!(page.is_page("/login"), "{page:?}");
    let out = w.password(&page, email).await;
    assert!(out.is_page("/stepup"), "{out:?}");
    (w, out, verifier)
}

#[tokio::test]
async fn eid_proofing_lets_password_and_totp_reach_substantial() {
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    downstream_client(&server, Some(vec!["eid".into()])).await;
    let anna = "anna@example.de";
    let bernd = "bernd@example.de";

    // Both have a password and an authenticator app; Anna links her identity card once.
    let (w, anna_seed) = citizen_with_totp(&server, anna).await;
    let (_, bernd_seed) = citizen_with_totp(&server, bernd).await;
    w.link_eid(&server, "eid", "max").await;
    let db = &server.app.db;
    let anna_account = db.account_by_email(anna).await.unwrap().unwrap();
    assert_eq!(
        anna_account.proofing_level,
        Level::High,
        "the eID proofed her"
    );
    let bernd_account = db.account_by_email(bernd).await.unwrap().unwrap();
    assert_eq!(bernd_account.proofing_level, Level::Low);

    // Later, in another browser, without the eID: password, then the authenticator app.
    let identities = db.identity_count().await.unwrap();
    let (w, stepup, verifier) = password_asked_for_substantial(&server, anna).await;
    let out = w.totp(&stepup, &anna_seed, 1).await;
    let out = w.consent_if_asked(out).await;
    assert!(out.param("code").is_some(), "Anna: {out:?}");
    let body = token_body(&server, "rp", &out, &verifier).await;
    for token in ["id_token", "access_token"] {
        let claims = payload(body[token].as_str().unwrap());
        assert_eq!(claims["acr"], SUBSTANTIAL, "{token}: {claims}");
        assert_eq!(claims["sub"], anna_account.id.as_str(), "{token}");
        let amr: Vec<&str> = claims["amr"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(!amr.contains(&"fed"), "no eID in this login: {amr:?}");
    }
    assert_eq!(db.identity_count().await.unwrap(), identities);

    // Bernd, never proofed, does the same: the authenticator app does not lift him above low.
    // The step-up page leads him to the eID instead.
    let (w, stepup, verifier) = password_asked_for_substantial(&server, bernd).await;
    assert!(
        stepup.html().contains("Mit Online-Ausweis bestätigen"),
        "{}",
        stepup.html()
    );
    let out = w.totp(&stepup, &bernd_seed, 1).await;
    // The code was right, but his login stays at low: asked again, not let through.
    assert!(out.is_page("/stepup"), "{out:?}");
    assert!(
        !out.html().contains("aria-invalid=\"true\""),
        "the code counted"
    );
    assert!(out.html().contains("„niedrig“"), "{}", out.html());
    let out = w
        .submit(&out, "form[action=\"/stepup/decline\"]", &[])
        .await;
    let out = w.consent_if_asked(out).await;
    let body = token_body(&server, "rp", &out, &verifier).await;
    for token in ["id_token", "access_token"] {
        let claims = payload(body[token].as_str().unwrap());
        assert_eq!(claims["acr"], LOW, "{token}: {claims}");
    }
    // Asked for substantial as essential, his password + TOTP login is not enough.
    let essential = json!({"id_token": {"acr": {"essential": true, "values": [SUBSTANTIAL]}}});
    let (url, _) = authorize_url(&server, "rp", &[("claims", &essential.to_string())]);
    let again = w.get(&url).await;
    assert!(again.is_page("/stepup"), "{again:?}");
    assert_eq!(
        db.account_by_email(bernd)
            .await
            .unwrap()
            .unwrap()
            .proofing_level,
        Level::Low
    );
}

/// Asks for verified names, birth date and address in the ID token and at userinfo.
fn verified_claims_request() -> String {
    let vc = json!({"verified_claims": {
        "verification": {"trust_framework": null, "evidence": [{"type": {"value": "electronic_record"}}]},
        "claims": {"family_name": null, "birthdate": null, "address": null}
    }});
    json!({"id_token": vc, "userinfo": vc}).to_string()
}

/// Logs in through `client_id` in `w` (through the eID when Pforte asks), asking for
/// `verified_claims`; returns the ID token's payload and the userinfo answer.
async fn released(server: &TestServer, w: &Walker, client_id: &str) -> (Value, Value) {
    let (url, verifier) = authorize_url(
        server,
        client_id,
        &[
            ("scope", "openid profile address"),
            ("claims", &verified_claims_request()),
        ],
    );
    let mut out = w.get(&url).await;
    if out.is_page("/login") {
        let at_eid = w.start_at(&out, "eid").await;
        out = eid_pin(w, &at_eid, "erika").await;
    }
    let body = token_body(server, client_id, &out, &verifier).await;
    let id = payload(body["id_token"].as_str().unwrap());
    let info = userinfo(server, body["access_token"].as_str().unwrap()).await;
    (id, info)
}

#[tokio::test]
async fn verified_claims_after_a_real_eid_login() {
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    let scopes = ["openid", "profile", "address"];
    crate::verified_claims::client(&server, "vc", &scopes, true).await;
    crate::verified_claims::client(&server, "plain", &scopes, false).await;

    // The first login through the eID creates the account; the allowed client receives what
    // the card delivered, as verified claims under eIDAS with an electronic record.
    let w = Walker::new();
    let (id, info) = released(&server, &w, "vc").await;
    assert_eq!(id["acr"], "http://eidas.europa.eu/LoA/high", "{id}");
    for (what, doc) in [("ID token", &id), ("userinfo", &info)] {
        let vc = &doc["verified_claims"];
        assert_eq!(
            vc["verification"]["trust_framework"], "eidas",
            "{what}: {doc}"
        );
        let evidence = &vc["verification"]["evidence"][0];
        assert_eq!(evidence["type"], "electronic_record", "{what}: {doc}");
        assert_eq!(evidence["record"]["type"], "idcard", "{what}: {doc}");
        assert_eq!(vc["claims"]["family_name"], "Mustermann", "{what}: {doc}");
        assert_eq!(vc["claims"]["birthdate"], "1964-08-12", "{what}: {doc}");
        assert_eq!(vc["claims"]["address"]["locality"], "Köln", "{what}: {doc}");
        assert_eq!(
            vc["claims"]["address"]["street_address"], "Heidestraße 17",
            "{what}: {doc}"
        );
        // Only what was asked for.
        assert!(vc["claims"].get("given_name").is_none(), "{what}: {doc}");
    }
    let account = server
        .app
        .db
        .account_get(id["sub"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.proofing_level, Level::High);
    let raised = audited(&server, "account.proofing_raised", 10).await;
    assert_eq!(raised.len(), 1, "the raise is in the audit trail");

    // A client the admin has not allowed, same citizen (single sign-on), same request: none.
    let (id, info) = released(&server, &w, "plain").await;
    assert_eq!(id["sub"], account.id.as_str(), "the same citizen");
    assert!(id.get("verified_claims").is_none(), "{id}");
    assert!(info.get("verified_claims").is_none(), "{info}");
    assert_eq!(
        status(&w.get(&server.url("/account")).await),
        StatusCode::OK
    );
}
