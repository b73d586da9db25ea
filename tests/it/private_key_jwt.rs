//! private_key_jwt with keys fetched from the client's jwks_uri (over real HTTP): the first
//! assertion fetches the set, a rotated client key is fetched again on its unknown kid.

use std::sync::{Arc, Mutex};

use crate::common::*;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use pforte::{admin::NewClient, oidc::client_auth::ASSERTION_TYPE};
use serde_json::json;

fn assertion(server: &TestServer, key: &EcdsaKeyPair, kid: &str) -> String {
    let t = server.app.clock.now();
    let claims = json!({
        "iss": "svc", "sub": "svc", "aud": server.issuer,
        "iat": t, "exp": t + 60, "jti": pforte::secrets::random_token(16),
    });
    es256_sign_kid(key, kid, &claims)
}

async fn grant(server: &TestServer, jwt: &str) -> (reqwest::StatusCode, serde_json::Value) {
    token_request(
        server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", jwt),
        ],
    )
    .await
}

async fn jwks_uri(backend: Backend) {
    // The client's key server.
    let k1 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let k2 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let published = Arc::new(Mutex::new(json!({ "keys": [es256_jwk(&k1, "k1")] })));
    let served = published.clone();
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let set = served.lock().unwrap().clone();
            async move { axum::Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A manual clock: the minimum refresh interval passes without waiting.
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    server
        .add_client(NewClient {
            id: "svc".into(),
            jwks_uri: Some(format!("http://{addr}/jwks")),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["payment".into()],
            ..Default::default()
        })
        .await;

    let (status, body) = grant(&server, &assertion(&server, &k1, "k1")).await;
    assert_eq!(status, 200, "{body}");
    // The client rotates to k2 and publishes it; Pforte refetches on the unknown kid (once the
    // minimum refresh interval has passed, so a flood of bogus kids cannot hammer the client).
    published.lock().unwrap()["keys"]
        .as_array_mut()
        .unwrap()
        .push(es256_jwk(&k2, "k2"));
    let (status, body) = grant(&server, &assertion(&server, &k2, "k2")).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_client")),
        "an unknown kid within the minimum refresh interval does not refetch"
    );
    server.app.clock.advance(11);
    let (status, body) = grant(&server, &assertion(&server, &k2, "k2")).await;
    assert_eq!(status, 200, "{body}");
    // A key the client never published stays refused.
    let k3 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let (status, body) = grant(&server, &assertion(&server, &k3, "k3")).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn private_key_jwt_jwks_uri_sqlite() {
    jwks_uri(Backend::Sqlite).await;
}

#[tokio::test]
async fn private_key_jwt_jwks_uri_postgres() {
    jwks_uri(Backend::Postgres).await;
}
