//! Signing keys and restarts, on SQLite and on PostgreSQL: rotation keeps tokens signed before
//! it verifiable (the retired key stays published, the new one was published in advance), a
//! second instance on the same database follows a rotation after `reload()`, concurrent
//! rotations do not corrupt the ring, private keys are encrypted at rest, and refresh tokens,
//! authorization codes and the single sign-on session survive a restart.

use std::collections::BTreeSet;

use crate::common::{account::userinfo, ops::kid, *};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine,
};
use jsonwebtoken::jwk::JwkSet;
use pforte::tokens::Alg;
use serde_json::Value;
use sqlx::Row;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

pub(crate) async fn fetch_jwks(server: &TestServer) -> JwkSet {
    let r = reqwest::get(server.url("/jwks")).await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.expect("JWKS is a JSON Web Key Set")
}

fn kids(set: &JwkSet) -> BTreeSet<String> {
    set.keys
        .iter()
        .map(|k| {
            k.common
                .key_id
                .clone()
                .expect("every published key has a kid")
        })
        .collect()
}

/// The published kids whose JWK says `alg`.
fn kids_of(set: &JwkSet, alg: &str) -> BTreeSet<String> {
    set.keys
        .iter()
        .filter(|k| {
            k.common
                .key_algorithm
                .as_ref()
                .is_some_and(|a| format!("{a:?}") == alg)
        })
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

fn header(token: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(token).expect("a JWS header")
}

/// Verifies `token` like a relying party with a cached JWKS would: find the key by `kid`,
/// check signature, `iss`, `exp` and (when given) `aud`.
pub(crate) fn verify_with(
    jwks: &JwkSet,
    token: &str,
    issuer: &str,
    aud: Option<&str>,
) -> Result<Value, String> {
    crate::common::ops::verify_jws(jwks, token, issuer, aud, &["exp"])
}

async fn client_credentials(server: &TestServer, client: &str) -> String {
    let (status, body) = token_request(
        server,
        Some((client, &format!("{client}-secret-123"))),
        &[("grant_type", "client_credentials"), ("scope", "payment")],
    )
    .await;
    assert_eq!(status, 200, "client_credentials: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn introspect(server: &TestServer, client: &str, token: &str) -> Value {
    let r = reqwest::Client::new()
        .post(server.url("/introspect"))
        .basic_auth(client, Some(format!("{client}-secret-123")))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn refresh(server: &TestServer, client: &str, refresh_token: &str) -> (u16, Value) {
    let (status, body) = token_request(
        server,
        Some((client, &format!("{client}-secret-123"))),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    (status.as_u16(), body)
}

/// Signing-key rows as stored: (kid, alg, state, private_key, public_jwk).
async fn key_rows(db: &pforte::store::Db) -> Vec<(String, String, String, String, String)> {
    sqlx::query("SELECT kid, alg, state, private_key, public_jwk FROM signing_keys ORDER BY kid")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("kid"),
                r.get::<String, _>("alg"),
                r.get::<String, _>("state"),
                r.get::<String, _>("private_key"),
                r.get::<String, _>("public_jwk"),
            )
        })
        .collect()
}

/// Per algorithm exactly one `current` and one `next` key in the database.
async fn assert_ring_well_formed(db: &pforte::store::Db) {
    let rows = key_rows(db).await;
    for alg in Alg::ALL {
        for state in ["current", "next"] {
            let n = rows
                .iter()
                .filter(|r| r.1 == alg.as_str() && r.2 == state)
                .count();
            assert_eq!(
                n,
                1,
                "{} {state} keys: {n}; rows: {:?}",
                alg.as_str(),
                rows.iter().map(|r| (&r.0, &r.2)).collect::<Vec<_>>()
            );
        }
    }
}

/// A DER SEQUENCE whose first element is the PKCS#8 version INTEGER (0 or 1).
fn looks_like_pkcs8(der: &[u8]) -> bool {
    if der.len() < 8 || der[0] != 0x30 {
        return false;
    }
    let start = if der[1] < 0x80 {
        2
    } else {
        2 + (der[1] & 0x7f) as usize
    };
    der.get(start..start + 3)
        .is_some_and(|v| v == [0x02, 0x01, 0x00] || v == [0x02, 0x01, 0x01])
}

async fn second_instance(server: &TestServer, kek: &str) -> Result<pforte::App, String> {
    pforte::App::open(config(&server.issuer, server.db_url(), kek))
        .await
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------------------------

async fn rotation(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let iss = server.issuer.clone();

    // Tokens signed before the rotation: an ID token (RS256) and access tokens (ES256, at+jwt).
    let browser = Browser::new(&server);
    let (code, verifier) = login_code(&server, &browser, "rp", "anna@example.de").await;
    let (status, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap().to_string();
    let user_at = tokens["access_token"].as_str().unwrap().to_string();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(header(&id_token).alg, jsonwebtoken::Algorithm::RS256);
    let cc_at = client_credentials(&server, "rp").await;
    let h = header(&cc_at);
    assert_eq!(h.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(h.typ.as_deref(), Some("at+jwt"));

    // JWKS before: per algorithm the current key and the pre-published next key.
    let before = fetch_jwks(&server).await;
    assert_eq!(before.keys.len(), 6, "3 algorithms × (current, next)");
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert_eq!(kids_of(&before, alg).len(), 2, "{alg}: current + next");
    }
    let old_rs = kid(&id_token);
    let old_es = kid(&cc_at);
    assert!(kids(&before).contains(&old_rs) && kids(&before).contains(&old_es));
    assert_eq!(kid(&user_at), old_es);
    verify_with(&before, &id_token, &iss, Some("rp")).expect("ID token verifies");
    verify_with(&before, &cc_at, &iss, None).expect("access token verifies");

    // A second instance on the same database, opened before the rotation.
    let other = second_instance(&server, server.kek())
        .await
        .expect("second instance opens");
    assert_eq!(
        other.keys.snapshot().await.signer(Alg::ES256).unwrap().kid,
        old_es
    );

    // Rotate.
    let promoted = server
        .app
        .keys
        .rotate(server.app.max_token_lifetime())
        .await
        .expect("rotation");
    assert_eq!(
        promoted.len(),
        3,
        "one new signing key per algorithm: {promoted:?}"
    );
    assert_ring_well_formed(&server.app.db).await;

    let after = fetch_jwks(&server).await;
    let (kb, ka) = (kids(&before), kids(&after));
    assert_eq!(
        after.keys.len(),
        9,
        "retired + current + next per algorithm"
    );
    assert!(
        kb.is_subset(&ka),
        "every key published before is still published"
    );
    let fresh: BTreeSet<_> = ka.difference(&kb).cloned().collect();
    assert_eq!(fresh.len(), 3, "a fresh next key per algorithm");
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert_eq!(
            kids_of(&after, alg).len(),
            3,
            "{alg}: retired + current + next"
        );
    }
    for p in &promoted {
        assert!(
            kb.contains(p),
            "the new signing key {p} was published before the rotation"
        );
        assert!(!fresh.contains(p));
        assert_ne!(p, &old_rs);
        assert_ne!(p, &old_es);
    }
    let ring = server.app.keys.snapshot().await;
    let new_rs = ring.signer(Alg::RS256).unwrap().kid.clone();
    let new_es = ring.signer(Alg::ES256).unwrap().kid.clone();
    assert!(promoted.contains(&new_rs) && promoted.contains(&new_es));
    assert!(kids_of(&before, "RS256").contains(&new_rs));
    assert!(kids_of(&before, "ES256").contains(&new_es));

    // Tokens signed before the rotation still verify against the new JWKS…
    let claims = verify_with(&after, &id_token, &iss, Some("rp")).expect("old ID token verifies");
    assert_eq!(claims["aud"], "rp");
    verify_with(&after, &cc_at, &iss, None).expect("old access token verifies");
    // …and Pforte itself still accepts them.
    let intro = introspect(&server, "rp", &cc_at).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(introspect(&server, "rp", &user_at).await["active"], true);
    let (status, info) = userinfo(&server, &user_at).await;
    assert_eq!(status, 200, "{info}");

    // New tokens are signed with the promoted keys, which a verifier that cached the JWKS
    // before the rotation already knows.
    let cc_new = client_credentials(&server, "rp").await;
    assert_eq!(kid(&cc_new), new_es);
    verify_with(&before, &cc_new, &iss, None).expect("cached JWKS knows the new key");
    verify_with(&after, &cc_new, &iss, None).unwrap();
    assert_eq!(introspect(&server, "rp", &cc_new).await["active"], true);
    let (status, refreshed) = refresh(&server, "rp", &refresh_token).await;
    assert_eq!(status, 200, "{refreshed}");
    let id_new = refreshed["id_token"].as_str().unwrap();
    assert_eq!(kid(id_new), new_rs);
    verify_with(&before, id_new, &iss, Some("rp")).unwrap();
    assert_eq!(kid(refreshed["access_token"].as_str().unwrap()), new_es);

    // The second instance still signs with the old key until it reloads (old key is still
    // published, so its tokens stay valid everywhere), then follows the rotation.
    assert_eq!(
        other.keys.snapshot().await.signer(Alg::ES256).unwrap().kid,
        old_es
    );
    let stale_jwks: JwkSet = serde_json::from_str(&other.keys.snapshot().await.jwks_json).unwrap();
    assert_eq!(kids(&stale_jwks), kb);
    other.keys.reload().await.expect("reload");
    let snap = other.keys.snapshot().await;
    assert_eq!(snap.signer(Alg::ES256).unwrap().kid, new_es);
    assert_eq!(snap.signer(Alg::RS256).unwrap().kid, new_rs);
    let reloaded: JwkSet = serde_json::from_str(&snap.jwks_json).unwrap();
    assert_eq!(kids(&reloaded), ka, "same JWKS on both instances");
    assert!(
        snap.verifier(&old_es).is_some(),
        "the retired key still verifies there"
    );
    // A token the second instance signs now verifies with the first instance's JWKS.
    let t = pforte::tokens::sign(
        &other.keys,
        Alg::EdDSA,
        "JWT",
        &serde_json::json!({"iss": iss, "sub": "x", "iat": 1, "exp": 4_000_000_000u64}),
    )
    .await
    .unwrap();
    verify_with(&after, &t, &iss, None).expect("instances agree on the EdDSA key");

    // Two instances rotating at the same moment leave a well-formed ring: one current and
    // one next key per algorithm, and the previous current key retired but published.
    let keep = server.app.max_token_lifetime();
    let (a, b) = tokio::join!(server.app.keys.rotate(keep), other.keys.rotate(keep));
    a.expect("rotation on instance 1");
    b.expect("rotation on instance 2");
    assert_ring_well_formed(&server.app.db).await;
    server.app.keys.reload().await.unwrap();
    other.keys.reload().await.unwrap();
    let s1 = server.app.keys.snapshot().await;
    let s2 = other.keys.snapshot().await;
    for alg in Alg::ALL {
        assert_eq!(s1.signer(alg).unwrap().kid, s2.signer(alg).unwrap().kid);
    }
    let last = fetch_jwks(&server).await;
    assert!(
        ka.is_subset(&kids(&last)),
        "nothing that may have signed a live token disappears"
    );
    verify_with(&last, &id_token, &iss, Some("rp")).unwrap();
    verify_with(&last, &cc_at, &iss, None).unwrap();
    assert_eq!(introspect(&server, "rp", &cc_at).await["active"], true);
    other.db.pool.close().await;
}

#[tokio::test]
async fn rotation_sqlite() {
    rotation(Backend::Sqlite).await;
}

#[tokio::test]
async fn rotation_postgres() {
    rotation(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// Keys at rest
// ---------------------------------------------------------------------------------------------

async fn keys_encrypted_at_rest(backend: Backend) {
    let server = TestServer::start(backend).await;
    let rows = key_rows(&server.app.db).await;
    assert_eq!(rows.len(), 6);
    for (kid, alg, _state, private_key, public_jwk) in &rows {
        // Clear PKCS#8 DER in base64 starts `MIGHAgEA` (P-256), `MIIE` (RSA 2048) or
        // `MC4CAQAw` (Ed25519); a PEM would say BEGIN.
        for prefix in ["MIGHAgEA", "MIIE", "MC4CAQAw", "MFMCAQEw", "-----BEGIN"] {
            assert!(
                !private_key.starts_with(prefix),
                "{kid}: private key looks like clear PKCS#8 ({prefix}…)"
            );
        }
        let raw = STANDARD
            .decode(private_key)
            .expect("stored as base64(nonce || ciphertext || tag)");
        assert!(raw.len() > 12 + 16, "{kid}: too short to be sealed");
        for skip in [0, 12] {
            let der = &raw[skip..];
            assert!(
                !looks_like_pkcs8(der),
                "{kid}: a PKCS#8 structure in the clear"
            );
            assert!(
                aws_lc_rs::rsa::KeyPair::from_pkcs8(der).is_err()
                    && aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        der
                    )
                    .is_err()
                    && aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(der).is_err(),
                "{kid}: the stored bytes parse as a private key"
            );
        }
        // The clear PKCS#8 of an RSA or EC key contains the public key; the sealed form must not.
        let jwk: Value = serde_json::from_str(public_jwk).unwrap();
        for field in ["n", "x"] {
            if let Some(p) = jwk[field].as_str() {
                let public = URL_SAFE_NO_PAD.decode(p).unwrap();
                if alg != "EdDSA" {
                    assert!(
                        !raw.windows(public.len()).any(|w| w == public.as_slice()),
                        "{kid}: public key material appears in the stored private key"
                    );
                }
            }
        }
        assert!(!private_key.contains(&jwk["kid"].as_str().unwrap().to_string()));
    }

    // The right KEK opens the ring (a second instance); a different one fails clearly.
    let ok = second_instance(&server, server.kek())
        .await
        .expect("same KEK");
    ok.db.pool.close().await;
    let wrong = pforte::tokens::keys::Kek::generate_base64();
    let err = second_instance(&server, &wrong)
        .await
        .err()
        .expect("a different key-encryption key must not open the ring");
    assert!(
        err.contains("cannot decrypt") && err.contains("key-encryption key"),
        "{err}"
    );
    assert!(!err.contains('\n'), "one line: {err}");
    // A malformed KEK names the setting.
    let err = second_instance(&server, "c2hvcnQ=")
        .await
        .err()
        .expect("short KEK");
    assert!(err.contains("keys.encryption_key"), "{err}");
    // Nothing was written by the failed attempts: still the same six keys.
    let again = key_rows(&server.app.db).await;
    assert_eq!(
        again.iter().map(|r| &r.0).collect::<Vec<_>>(),
        rows.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
    // And the server still serves with its keys.
    assert_eq!(fetch_jwks(&server).await.keys.len(), 6);
}

#[tokio::test]
async fn keys_encrypted_at_rest_sqlite() {
    keys_encrypted_at_rest(Backend::Sqlite).await;
}

#[tokio::test]
async fn keys_encrypted_at_rest_postgres() {
    keys_encrypted_at_rest(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// Restart
// ---------------------------------------------------------------------------------------------

/// The kid of the RS256 key that signs now.
async fn rs256_signer(server: &TestServer) -> String {
    let keys = server.app.keys.snapshot().await;
    keys.signer(Alg::RS256).unwrap().kid.clone()
}

/// Restarts `server`; the key ring comes back as it was (the same JWKS, the same RS256
/// signing key: nothing regenerated).
async fn restart_keeps_keys(server: TestServer) -> TestServer {
    let (jwks, signing) = (
        kids(&fetch_jwks(&server).await),
        rs256_signer(&server).await,
    );
    let server = server.restart().await;
    assert_eq!(kids(&fetch_jwks(&server).await), jwks);
    assert_eq!(rs256_signer(&server).await, signing);
    server
}

async fn restart(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    server.confidential("other", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let iss = server.issuer.clone();
    let browser = Browser::new(&server);

    let (code, verifier) = login_code(&server, &browser, "rp", "anna@example.de").await;
    let (status, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let access_token = tokens["access_token"].as_str().unwrap().to_string();
    let id_token = tokens["id_token"].as_str().unwrap().to_string();
    let sub = verify_with(&fetch_jwks(&server).await, &id_token, &iss, Some("rp")).unwrap()["sub"]
        .clone();
    // A code issued (via single sign-on, no password) before the restart, exchanged after it.
    let (url, pending_verifier) = authorize_url(&server, "other", &[]);
    let out = browser.get(&url).await;
    let pending_code = out
        .param("code")
        .unwrap_or_else(|| panic!("SSO code: {out:?}"));

    // Same keys after the restart (nothing regenerated).
    let server = restart_keeps_keys(server).await;

    // The authorization code.
    let (status, body) = exchange(&server, "other", &pending_code, &pending_verifier).await;
    assert_eq!(status, 200, "code from before the restart: {body}");
    let id2 = body["id_token"].as_str().unwrap();
    assert_eq!(
        verify_with(&fetch_jwks(&server).await, id2, &iss, Some("other")).unwrap()["sub"],
        sub
    );
    // …and only once.
    let (status, _) = exchange(&server, "other", &pending_code, &pending_verifier).await;
    assert_eq!(status, 400, "a code is single-use across restarts too");

    // The access token issued before the restart.
    assert_eq!(
        introspect(&server, "rp", &access_token).await["active"],
        true
    );
    let (status, info) = userinfo(&server, &access_token).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], sub);

    // The refresh token.
    let (status, refreshed) = refresh(&server, "rp", &refresh_token).await;
    assert_eq!(
        status, 200,
        "refresh token from before the restart: {refreshed}"
    );
    let id3 = refreshed["id_token"].as_str().unwrap();
    assert_eq!(
        verify_with(&fetch_jwks(&server).await, id3, &iss, Some("rp")).unwrap()["sub"],
        sub
    );

    // The single sign-on session: prompt=none still yields a code.
    let (url, v) = authorize_url(&server, "rp", &[("prompt", "none")]);
    let out = browser.get(&url).await;
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("SSO session lost on restart: {out:?}"));
    let (status, body) = exchange(&server, "rp", &code, &v).await;
    assert_eq!(status, 200, "{body}");

    // A second restart after a rotation: the rotated ring is what comes back.
    server
        .app
        .keys
        .rotate(server.app.max_token_lifetime())
        .await
        .unwrap();
    let server = restart_keeps_keys(server).await;
    let new_signing = rs256_signer(&server).await;
    verify_with(&fetch_jwks(&server).await, &id_token, &iss, Some("rp"))
        .expect("a pre-rotation token verifies after rotation and restart");
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    let (status, body) = refresh(&server, "rp", new_refresh).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(kid(body["id_token"].as_str().unwrap()), new_signing);
}

#[tokio::test]
async fn restart_sqlite() {
    restart(Backend::Sqlite).await;
}

#[tokio::test]
async fn restart_postgres() {
    restart(Backend::Postgres).await;
}

// ---------------------------------------------------------------------------------------------
// Instances starting together on an empty database
// ---------------------------------------------------------------------------------------------

async fn concurrent_first_start(backend: Backend) {
    let (db_url, _dir) = fresh_db(backend).await;
    let kek = pforte::tokens::keys::Kek::generate_base64();
    let issuer = "http://127.0.0.1:1";
    // Create the schema first so the race is about the keys, not the migrations.
    let first = pforte::App::open(config(issuer, &db_url, &kek))
        .await
        .unwrap();
    sqlx::query("DELETE FROM signing_keys")
        .execute(&first.db.pool)
        .await
        .unwrap();
    let (a, b, c) = tokio::join!(
        pforte::App::open(config(issuer, &db_url, &kek)),
        pforte::App::open(config(issuer, &db_url, &kek)),
        pforte::App::open(config(issuer, &db_url, &kek)),
    );
    let apps = [
        a.map_err(|e| e.to_string()).unwrap(),
        b.map_err(|e| e.to_string()).unwrap(),
        c.map_err(|e| e.to_string()).unwrap(),
    ];
    assert_ring_well_formed(&first.db).await;
    for app in &apps {
        app.keys.reload().await.unwrap();
    }
    first.keys.reload().await.unwrap();
    let s0 = first.keys.snapshot().await;
    for app in &apps {
        let s = app.keys.snapshot().await;
        for alg in Alg::ALL {
            assert_eq!(s.signer(alg).unwrap().kid, s0.signer(alg).unwrap().kid);
        }
        assert_eq!(s.jwks_json, s0.jwks_json);
    }
    for app in apps.iter().chain([&first]) {
        app.db.pool.close().await;
    }
}

#[tokio::test]
async fn concurrent_first_start_sqlite() {
    concurrent_first_start(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_first_start_postgres() {
    concurrent_first_start(Backend::Postgres).await;
}

/// A ring with several current or next keys per algorithm (left by instances that started
/// together on an older version) is repaired by the next rotation.
async fn rotation_repairs_duplicates(backend: Backend) {
    let server = TestServer::start(backend).await;
    let keep = server.app.max_token_lifetime();
    let db = &server.app.db;
    // Two current keys and no next key per algorithm.
    sqlx::query("UPDATE signing_keys SET state = 'current' WHERE state = 'next'")
        .execute(&db.pool)
        .await
        .unwrap();
    server.app.keys.reload().await.unwrap();
    let before = fetch_jwks(&server).await;
    let promoted = server.app.keys.rotate(keep).await.unwrap();
    assert_ring_well_formed(db).await;
    let snap = server.app.keys.snapshot().await;
    for alg in Alg::ALL {
        assert!(promoted.contains(&snap.signer(alg).unwrap().kid));
    }
    let after = fetch_jwks(&server).await;
    assert!(
        kids(&before).is_subset(&kids(&after)),
        "both former current keys stay published"
    );

    // Several next keys per algorithm.
    sqlx::query(
        "UPDATE signing_keys SET state = 'next', retired_at = NULL, remove_after = NULL WHERE state = 'retired'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let current: Vec<String> = Alg::ALL
        .iter()
        .map(|a| snap.signer(*a).unwrap().kid.clone())
        .collect();
    let promoted = server.app.keys.rotate(keep).await.unwrap();
    assert_eq!(promoted.len(), 3, "{promoted:?}");
    assert_ring_well_formed(db).await;
    let snap = server.app.keys.snapshot().await;
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let k = &snap.signer(alg).unwrap().kid;
        assert!(promoted.contains(k));
        assert_ne!(k, &current[i]);
        assert!(
            snap.verifier(&current[i]).is_some(),
            "the retired key stays published"
        );
    }
}

#[tokio::test]
async fn rotation_repairs_duplicates_sqlite() {
    rotation_repairs_duplicates(Backend::Sqlite).await;
}

#[tokio::test]
async fn rotation_repairs_duplicates_postgres() {
    rotation_repairs_duplicates(Backend::Postgres).await;
}
