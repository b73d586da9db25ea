//! Helpers for the hot-path tests (tests/it/speed.rs): a second Pforte instance on a running
//! server's database, and the client_credentials / introspection calls they make.

use pforte::{config::Config, server, App};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{config, TestServer};

/// A second instance (its own process state: caches, pools, key ring) on `server`'s database,
/// with the same issuer and key-encryption key, serving on its own port: its base URL, and the
/// running server (it stops when that is dropped).
pub async fn second_instance(
    server: &TestServer,
    tweak: impl FnOnce(&mut Config),
) -> (String, server::Running) {
    let mut cfg = config(&server.issuer, server.db_url(), server.kek());
    tweak(&mut cfg);
    let app = App::open(cfg).await.expect("open the second instance");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (url, server::spawn(app, listener).unwrap())
}

/// A client_credentials grant for `rp` at `base`, from client address `addr` (sent as
/// `X-Forwarded-For`, believed when the instance trusts 127.0.0.1 as a proxy).
pub async fn client_credentials(base: &str, secret: &str, addr: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth("rp", Some(secret))
        .header("x-forwarded-for", addr)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Introspection (RFC 7662) of `token` by `rp` at `base`.
pub async fn introspect(base: &str, token: &str) -> Value {
    let r = as_rp(base, "/introspect", token).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Revocation (RFC 7009) of `token` by `rp` at `base`.
pub async fn revoke(base: &str, token: &str) -> StatusCode {
    as_rp(base, "/revoke", token).await.status()
}

/// POSTs `token=…` to `path` at `base` as client `rp` (client_secret_basic).
async fn as_rp(base: &str, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .basic_auth("rp", Some("rp-secret-123"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}
