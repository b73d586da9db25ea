//! The hot-path caches never loosen a rule (docs/performance.md): an access token whose
//! signature was verified before is still checked against the ledger on every introspection,
//! so a revocation on one instance ends it at once on another; a verified signature does not
//! carry over to another payload; and a client-authentication lockout counted on one instance
//! applies on another within the stated second.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{speed::*, *};

async fn revocation_reaches_the_other_instance_at_once(backend: Backend) {
    let a = TestServer::start(backend).await;
    a.confidential("rp", false).await;
    let (b, _running) = second_instance(&a, |_| {}).await;
    let (status, t) = client_credentials(&a.issuer, "rp-secret-123", "127.0.0.1").await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let at = t["access_token"].as_str().unwrap();
    // Twice on B: the second answer comes from B's verified-token cache.
    for _ in 0..2 {
        let v = introspect(&b, at).await;
        assert_eq!(v["active"], true, "{v}");
        assert_eq!(v["client_id"], "rp");
    }
    assert_eq!(revoke(&a.issuer, at).await, StatusCode::OK);
    // No wait: the ledger is read on every introspection.
    assert_eq!(
        introspect(&b, at).await,
        serde_json::json!({ "active": false })
    );
    assert_eq!(
        introspect(&a.issuer, at).await,
        serde_json::json!({ "active": false })
    );
}

async fn a_verified_signature_does_not_vouch_for_another_payload(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", false).await;
    let (status, t) = client_credentials(&server.issuer, "rp-secret-123", "127.0.0.1").await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server.issuer, at).await["active"], true);
    // The same header and signature over a payload with a longer life and more scope.
    let parts: Vec<&str> = at.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    claims["exp"] = Value::from(claims["exp"].as_i64().unwrap() + 86_400);
    claims["scope"] = Value::from("payment");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(
        introspect(&server.issuer, &forged).await,
        serde_json::json!({ "active": false })
    );
    // The genuine token is still active (the forged one did not evict or replace it).
    assert_eq!(introspect(&server.issuer, at).await["active"], true);
}

async fn a_lockout_counted_on_one_instance_applies_on_the_other(backend: Backend) {
    let trust = |c: &mut pforte::config::Config| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    };
    let a = TestServer::start_with(backend, trust).await;
    a.confidential("rp", false).await;
    let (b, _running) = second_instance(&a, trust).await;
    let addr = "198.51.100.7";
    // B finds the address not locked and remembers that for a second.
    let (status, _) = client_credentials(&b, "rp-secret-123", addr).await;
    assert_eq!(status, StatusCode::OK);
    // 100 failures on A (unknown client ids: counted like wrong secrets, no hash).
    let http = reqwest::Client::new();
    for i in 0..100 {
        let r = http
            .post(a.url("/token"))
            .basic_auth(format!("nobody{i}"), Some("x"))
            .header("x-forwarded-for", addr)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // A, where the failures were counted, refuses at once.
    let (status, body) = client_credentials(&a.issuer, "rp-secret-123", addr).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // B within the stated second (UNLOCKED_TTL), then every time.
    tokio::time::sleep(pforte::core::caches::UNLOCKED_TTL + Duration::from_millis(100)).await;
    for _ in 0..2 {
        let (status, body) = client_credentials(&b, "rp-secret-123", addr).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    // Another address is not affected on either instance.
    for base in [&a.issuer, &b] {
        let (status, _) = client_credentials(base, "rp-secret-123", "198.51.100.8").await;
        assert_eq!(status, StatusCode::OK);
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await; })*
        }
    };
}

both!(
    revocation_reaches_the_other_instance_at_once,
    a_verified_signature_does_not_vouch_for_another_payload,
    a_lockout_counted_on_one_instance_applies_on_the_other,
);
