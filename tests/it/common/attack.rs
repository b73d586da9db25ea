//! Helpers of the attack tests (`bruteforce`, `hardening`, `hardening_findings`, `rfc9700`,
//! `negative`, `pairwise`, `private_key_jwt`, `verified_claims`): a client that shows
//! redirects instead of following them, the check of an OAuth error answer, userinfo and introspection, and the
//! SQLite/PostgreSQL pair of every test.

use reqwest::StatusCode;
use serde_json::{json, Value};

/// An HTTP client that follows no redirect (the attack is in the `Location`).
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Asserts that an endpoint's answer `(status, body)` is 400 with `error` = `code`.
#[track_caller]
pub fn assert_oauth_error(answer: &(StatusCode, Value), code: &str) {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some(code)),
        "{body}"
    );
}

/// `GET /userinfo` with `access_token` (RFC 6750 §2.1): the JSON answer.
pub async fn userinfo(server: &super::TestServer, access_token: &str) -> Value {
    json_of(
        reqwest::Client::new()
            .get(server.url("/userinfo"))
            .bearer_auth(access_token),
    )
    .await
}

/// `POST /introspect` of `token` by `client`, authenticated with its test secret
/// `{client}-secret-123` (RFC 7662): the JSON answer.
pub async fn introspect(server: &super::TestServer, client: &str, token: &str) -> Value {
    json_of(
        reqwest::Client::new()
            .post(server.url("/introspect"))
            .basic_auth(client, Some(format!("{client}-secret-123")))
            .form(&[("token", token)]),
    )
    .await
}

/// Sends `request` and reads its JSON answer (whatever the status).
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Registers `jwt`, a `private_key_jwt` client (`client_credentials`, scope `payment`) whose
/// registered JWKS holds the returned key as `k1`.
pub async fn jwt_client(s: &super::TestServer) -> aws_lc_rs::signature::EcdsaKeyPair {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    s.add_client(pforte::admin::NewClient {
        id: "jwt".into(),
        jwks: Some(json!({ "keys": [super::es256_jwk(&key, "k1")] }).to_string()),
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["payment".into()],
        ..Default::default()
    })
    .await;
    key
}

/// Runs every `async fn NAME(backend: Backend)` listed, of the calling module, as the tests
/// `sqlite::NAME` and `postgres::NAME` on a multi-threaded runtime with `workers` threads.
macro_rules! both {
    (workers = $workers:literal; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
            async fn $name() { super::$name(super::Backend::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
            async fn $name() { super::$name(super::Backend::Postgres).await; })*
        }
    };
}
pub(crate) use both;
