//! The relying-party crate against a real Pforte: tokens Pforte issues pass the guard, a
//! low-level token gets the exact RFC 9470 challenge, tampering is caught, and keys rotated in
//! Pforte are picked up by a running guard without a restart.

use std::time::SystemTime;

use crate::common::*;
use pforte_guard::{check_level, Guard, Level};

async fn guard_against_pforte(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("wunschkennzeichen", true).await;
    server.citizen("frida@example.de", PASSWORD).await;
    // The guard refetches the JWKS at most every 10 s by default (so a flood of unknown kids
    // cannot hammer Pforte); the test shortens that to see a rotation within seconds.
    let guard = Guard::builder(&server.issuer, "wunschkennzeichen")
        .allow_insecure_http(true)
        .min_refresh_interval(std::time::Duration::from_millis(100))
        .build()
        .expect("guard");

    // A citizen's token (password login: low) passes validation and carries its level.
    let browser = Browser::new(&server);
    let (code, verifier) =
        login_code(&server, &browser, "wunschkennzeichen", "frida@example.de").await;
    let (_, tokens) = exchange(&server, "wunschkennzeichen", &code, &verifier).await;
    let token = tokens["access_token"].as_str().unwrap();
    let claims = guard
        .validate(token)
        .await
        .expect("Pforte's token passes the guard");
    assert_eq!(claims.client_id, "wunschkennzeichen");
    assert_eq!(claims.level(), Some(Level::Low));
    assert!(check_level(&claims, Level::Low, None, SystemTime::now()).is_ok());

    // Paying needs substantial: the exact RFC 9470 challenge.
    let step_up = check_level(&claims, Level::Substantial, None, SystemTime::now()).unwrap_err();
    assert_eq!(
        step_up.www_authenticate(None),
        "Bearer error=\"insufficient_user_authentication\", error_description=\"A different authentication level is required\", acr_values=\"http://eidas.europa.eu/LoA/substantial\""
            .replace("A different authentication level is required", &step_up_description(&step_up))
    );

    // Tampering and the wrong audience are refused.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert!(guard.validate(&parts.join(".")).await.is_err());
    let other = Guard::builder(&server.issuer, "someone-else")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    assert!(other.validate(token).await.is_err());
    // An ID token is not an access token (typ).
    assert!(guard
        .validate(tokens["id_token"].as_str().unwrap())
        .await
        .is_err());

    // Rotate twice in Pforte: the second rotation signs with a key the guard has never seen
    // (the first promoted key was pre-published, so it was already cached). The running guard
    // fetches the JWKS again on the unknown kid.
    server
        .app
        .keys
        .rotate(server.app.max_token_lifetime())
        .await
        .unwrap();
    server
        .app
        .keys
        .rotate(server.app.max_token_lifetime())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, body) = token_request(
        &server,
        Some(("wunschkennzeichen", "wunschkennzeichen-secret-123")),
        &[("grant_type", "client_credentials"), ("scope", "payment")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let fresh = guard
        .validate(body["access_token"].as_str().unwrap())
        .await
        .expect("new key picked up");
    assert_eq!(fresh.sub, "wunschkennzeichen");
    // The pre-rotation token still validates (its key is retired but still published).
    assert!(guard.validate(token).await.is_ok());
}

/// The challenge's description as the guard words it (the exact header is asserted around it).
fn step_up_description(s: &pforte_guard::StepUp) -> String {
    let h = s.www_authenticate(None);
    let start = h.find("error_description=\"").unwrap() + "error_description=\"".len();
    h[start..start + h[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn guard_against_pforte_sqlite() {
    guard_against_pforte(Backend::Sqlite).await;
}

#[tokio::test]
async fn guard_against_pforte_postgres() {
    guard_against_pforte(Backend::Postgres).await;
}
