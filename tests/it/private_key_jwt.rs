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

/// Serves `keys` as the client's key server (`GET /jwks`) and starts Pforte on a manual clock
/// with the client `svc`: `private_key_jwt` with keys from that `jwks_uri`,
/// `client_credentials` for the scope `payment`.
async fn with_key_server(backend: Backend, keys: axum::routing::MethodRouter) -> TestServer {
    let app = axum::Router::new().route("/jwks", keys);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
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
    server
}

async fn jwks_uri(backend: Backend) {
    // The client's key server.
    let k1 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let k2 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let published = Arc::new(Mutex::new(json!({ "keys": [es256_jwk(&k1, "k1")] })));
    let served = published.clone();
    // A manual clock: the minimum refresh interval passes without waiting.
    let server = with_key_server(
        backend,
        axum::routing::get(move || {
            let set = served.lock().unwrap().clone();
            async move { axum::Json(set) }
        }),
    )
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

/// A client's `jwks_uri` that fails is not hammered: concurrent assertions share one fetch
/// (single flight), a failure is remembered for 30 s (negative caching), and a body larger
/// than the cap is refused while it streams (issue 10, item 4).
async fn jwks_uri_failures_and_floods(backend: Backend) {
    let k1 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mode = Arc::new(Mutex::new("down"));
    let jwk = es256_jwk(&k1, "k1");
    let (h, m) = (hits.clone(), mode.clone());
    let server = with_key_server(
        backend,
        axum::routing::get(move || {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mode = *m.lock().unwrap();
            let jwk = jwk.clone();
            async move {
                // Slow enough that concurrent assertions overlap with the fetch.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                match mode {
                    "down" => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                    // 2 MiB of whitespace before the set: valid JSON, too large.
                    "huge" => (
                        axum::http::StatusCode::OK,
                        format!("{}{}", " ".repeat(2 << 20), json!({ "keys": [jwk] })),
                    ),
                    _ => (
                        axum::http::StatusCode::OK,
                        json!({ "keys": [jwk] }).to_string(),
                    ),
                }
            }
        }),
    )
    .await;
    let hits_now = || hits.load(std::sync::atomic::Ordering::SeqCst);

    // Ten assertions at once while the key server is down: one fetch.
    let jwts: Vec<String> = (0..10).map(|_| assertion(&server, &k1, "k1")).collect();
    let results = futures_join_all(&server, &jwts).await;
    assert!(results.iter().all(|s| *s == 401), "{results:?}");
    assert_eq!(hits_now(), 1, "single flight");
    // Within the back-off no new fetch, even after the server is back.
    *mode.lock().unwrap() = "up";
    let (status, _) = grant(&server, &assertion(&server, &k1, "k1")).await;
    assert_eq!(status, 401);
    assert_eq!(hits_now(), 1, "negative caching");
    server.app.clock.advance(31);
    let (status, body) = grant(&server, &assertion(&server, &k1, "k1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hits_now(), 2);

    // A body over the cap is refused.
    *mode.lock().unwrap() = "huge";
    server.app.clock.advance(301);
    let (status, body) = grant(&server, &assertion(&server, &k1, "k2")).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{body}"
    );
}

async fn futures_join_all(server: &TestServer, jwts: &[String]) -> Vec<u16> {
    let mut tasks = Vec::new();
    for jwt in jwts {
        let (url, jwt) = (server.url("/token"), jwt.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "svc"),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", jwt.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_key_jwt_jwks_uri_failures_and_floods_sqlite() {
    jwks_uri_failures_and_floods(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn private_key_jwt_jwks_uri_failures_and_floods_postgres() {
    jwks_uri_failures_and_floods(Backend::Postgres).await;
}
