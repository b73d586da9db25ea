//! The key cache: no network on the hot path, key rotation, rate-limited refresh, background
//! refresh after the maximum age.

use std::time::Duration;

use crate::common::{claims, Issuer, TestKey, AUDIENCE};
use pforte_guard::{Guard, TokenError};

const LOW: &str = "http://eidas.europa.eu/LoA/low";

#[tokio::test]
async fn cached_keys_need_no_network() {
    let key = TestKey::es256("k1");
    let issuer = Issuer::start(&[&key]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE).build().unwrap();
    let token = key.token_for(&claims(&issuer.url, LOW));
    for _ in 0..50 {
        guard.validate(&token).await.unwrap();
    }
    assert_eq!(issuer.jwks_hits(), 1);
    assert_eq!(
        issuer
            .discovery_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn rotated_key_is_picked_up_without_restart() {
    let old = TestKey::es256("2024-01");
    let issuer = Issuer::start(&[&old]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE)
        .min_refresh_interval(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(guard.prefetch().await.unwrap(), 1);
    guard
        .validate(&old.token_for(&claims(&issuer.url, LOW)))
        .await
        .unwrap();

    // The issuer rotates: a new key (another algorithm, even) joins the set.
    let new = TestKey::eddsa("2024-07");
    issuer.set_keys(&[&old, &new]);
    let c = guard
        .validate(&new.token_for(&claims(&issuer.url, LOW)))
        .await
        .unwrap();
    assert_eq!(c.sub, "citizen-4711");
    assert_eq!(issuer.jwks_hits(), 2);

    // The old key is retired; tokens it signed stop working after the next refresh.
    issuer.set_keys(&[&new]);
    let newer = TestKey::rs256("2025-01");
    issuer.set_keys(&[&new, &newer]);
    guard
        .validate(&newer.token_for(&claims(&issuer.url, LOW)))
        .await
        .unwrap();
    let err = guard
        .validate(&old.token_for(&claims(&issuer.url, LOW)))
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
}

#[tokio::test]
async fn unknown_kids_cannot_hammer_the_issuer() {
    let key = TestKey::es256("k1");
    let issuer = Issuer::start(&[&key]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE).build().unwrap(); // 10 s default
    guard.prefetch().await.unwrap();
    let fetches_before = issuer.jwks_hits();

    let mut tasks = Vec::new();
    for i in 0..100 {
        let guard = guard.clone();
        let token = TestKey::es256(&format!("made-up-{i}")).token_for(&claims(&issuer.url, LOW));
        tasks.push(tokio::spawn(async move { guard.validate(&token).await }));
    }
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
    }
    // The prefetch itself used up the interval: not one extra fetch.
    assert_eq!(issuer.jwks_hits(), fetches_before);

    // A legitimate token keeps working meanwhile.
    guard
        .validate(&key.token_for(&claims(&issuer.url, LOW)))
        .await
        .unwrap();
}

#[tokio::test]
async fn one_refresh_per_interval() {
    let key = TestKey::es256("k1");
    let issuer = Issuer::start(&[&key]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE)
        .min_refresh_interval(Duration::from_secs(1))
        .build()
        .unwrap();
    guard.prefetch().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let unknown = TestKey::es256("nope").token_for(&claims(&issuer.url, LOW));
    for _ in 0..20 {
        assert!(guard.validate(&unknown).await.is_err());
    }
    assert_eq!(issuer.jwks_hits(), 2);
}

/// Polls `condition` for up to five seconds (background work on a busy CI machine).
async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn old_cache_is_refreshed_in_the_background() {
    let old = TestKey::es256("old");
    let issuer = Issuer::start(&[&old]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE)
        .max_cache_age(Duration::from_millis(100))
        .min_refresh_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let token = old.token_for(&claims(&issuer.url, LOW));
    guard.validate(&token).await.unwrap();
    assert_eq!(issuer.jwks_hits(), 1);

    // The issuer briefly serves an empty set: refused as unusable, the cached key stays.
    issuer.set_keys(&[]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    guard.validate(&token).await.unwrap(); // served from cache, starts the refresh
    assert!(eventually(|| issuer.jwks_hits() == 2).await);
    guard.validate(&token).await.unwrap();

    // A set without the old key replaces the cache in the background.
    let new = TestKey::es256("new");
    issuer.set_keys(&[&new]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let hits = issuer.jwks_hits();
    guard.validate(&token).await.unwrap(); // still the old cache; starts the refresh
    assert!(eventually(|| issuer.jwks_hits() > hits).await);
    let mut refused = false;
    for _ in 0..500 {
        if let Err(err) = guard.validate(&token).await {
            assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the retired key was still accepted");
    let fresh = new.token_for(&claims(&issuer.url, LOW));
    guard.validate(&fresh).await.unwrap();
}

#[tokio::test]
async fn configured_jwks_uri_skips_discovery() {
    let key = TestKey::eddsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE)
        .jwks_uri(format!("{}/jwks", issuer.url))
        .build()
        .unwrap();
    guard
        .validate(&key.token_for(&claims(&issuer.url, LOW)))
        .await
        .unwrap();
    assert_eq!(
        issuer
            .discovery_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test]
async fn unreachable_issuer_is_a_server_problem() {
    let key = TestKey::es256("k1");
    // Bind and drop a listener to get a port nobody listens on.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let guard = Guard::builder(&url, AUDIENCE).build().unwrap();
    let err = guard
        .validate(&key.token_for(&claims(&url, LOW)))
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::KeysUnavailable(_)), "{err:?}");
}
