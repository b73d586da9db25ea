//! RFC 9068 §4 validation through the public `Guard::validate`, keys discovered from a local
//! issuer.

use crate::common::{b64, claims, now, Issuer, TestKey, AUDIENCE};
use aws_lc_rs::hmac;
use pforte_guard::{Guard, Level, TokenError};
use serde_json::json;

const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";

struct Setup {
    issuer: Issuer,
    key: TestKey,
    guard: Guard,
}

async fn setup(key: TestKey) -> Setup {
    let issuer = Issuer::start(&[&key]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE).build().unwrap();
    Setup { issuer, key, guard }
}

async fn es256() -> Setup {
    setup(TestKey::es256("k1")).await
}

#[tokio::test]
async fn good_tokens_pass_for_every_algorithm() {
    for key in [
        TestKey::es256("ec"),
        TestKey::eddsa("ed"),
        TestKey::rs256("rsa"),
    ] {
        let s = setup(key).await;
        let token = s.key.token_for(&claims(&s.issuer.url, SUBSTANTIAL));
        let c = s.guard.validate(&token).await.unwrap();
        assert_eq!(c.sub, "citizen-4711");
        assert_eq!(c.client_id, AUDIENCE);
        assert_eq!(c.aud, [AUDIENCE]);
        assert_eq!(c.level(), Some(Level::Substantial));
        assert!(c.has_scope("kfz"));
        assert_eq!(c.amr, ["pwd"]);
        assert_eq!(c.jti, "tok-1");
        assert!(c.auth_time.is_some());
    }
}

#[tokio::test]
async fn accepts_application_media_type_and_audience_arrays() {
    let s = es256().await;
    let mut c = claims(&s.issuer.url, SUBSTANTIAL);
    c["aud"] = json!(["https://other.example", AUDIENCE]);
    c["nbf"] = json!(now() - 5);
    c["ext"] = json!({"gemeinde": "05117000"});
    let header = json!({"typ": "application/at+jwt", "alg": "ES256", "kid": "k1"});
    let claims = s.guard.validate(&s.key.token(&header, &c)).await.unwrap();
    assert_eq!(claims.extra["ext"]["gemeinde"], "05117000");
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let s = es256().await;
    let token = s
        .key
        .token_for(&claims(&s.issuer.url, "http://eidas.europa.eu/LoA/low"));
    let parts: Vec<&str> = token.split('.').collect();
    // Same signature, upgraded acr.
    let forged = b64(claims(&s.issuer.url, "http://eidas.europa.eu/LoA/high").to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert!(matches!(
        s.guard.validate(&tampered).await,
        Err(TokenError::BadSignature)
    ));
    // A flipped bit in the signature.
    let mut sig = parts[2].to_owned().into_bytes();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    let bad_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(sig).unwrap()
    );
    assert!(matches!(
        s.guard.validate(&bad_sig).await,
        Err(TokenError::BadSignature)
    ));
}

#[tokio::test]
async fn expiry_respects_leeway() {
    let s = es256().await;
    let mut c = claims(&s.issuer.url, SUBSTANTIAL);
    c["exp"] = json!(now() - 10); // within the default 30 s leeway
    assert!(s.guard.validate(&s.key.token_for(&c)).await.is_ok());
    c["exp"] = json!(now() - 120);
    let err = s.guard.validate(&s.key.token_for(&c)).await.unwrap_err();
    assert!(matches!(err, TokenError::Expired), "{err:?}");
    c["exp"] = json!(now() + 300);
    c["nbf"] = json!(now() + 120);
    let err = s.guard.validate(&s.key.token_for(&c)).await.unwrap_err();
    assert!(matches!(err, TokenError::NotYetValid), "{err:?}");
}

#[tokio::test]
async fn wrong_audience_or_issuer_is_refused() {
    let s = es256().await;
    let mut c = claims(&s.issuer.url, SUBSTANTIAL);
    c["aud"] = json!("sperrmuell");
    let err = s.guard.validate(&s.key.token_for(&c)).await.unwrap_err();
    assert!(matches!(err, TokenError::WrongAudience), "{err:?}");

    for iss in [
        json!("https://evil.example"),
        json!(format!("{}/", s.issuer.url)),
    ] {
        let mut c = claims(&s.issuer.url, SUBSTANTIAL);
        c["iss"] = iss;
        let err = s.guard.validate(&s.key.token_for(&c)).await.unwrap_err();
        assert!(matches!(err, TokenError::WrongIssuer), "{err:?}");
    }
    // An array that contains the issuer is not "exactly the issuer".
    let mut c = claims(&s.issuer.url, SUBSTANTIAL);
    c["iss"] = json!([s.issuer.url]);
    assert!(s.guard.validate(&s.key.token_for(&c)).await.is_err());
}

#[tokio::test]
async fn alg_none_is_refused() {
    let s = es256().await;
    let c = claims(&s.issuer.url, SUBSTANTIAL);
    for header in [
        json!({"typ": "at+jwt", "alg": "none", "kid": "k1"}),
        json!({"typ": "at+jwt", "alg": "none"}),
    ] {
        for sig in ["", "AAAA"] {
            let token = format!("{}.{}.{sig}", b64(header.to_string()), b64(c.to_string()));
            let err = s.guard.validate(&token).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    TokenError::UnsupportedAlgorithm | TokenError::Malformed
                ),
                "{err:?}"
            );
        }
    }
}

#[tokio::test]
async fn hs256_with_the_public_key_as_secret_is_refused() {
    for key in [TestKey::es256("k1"), TestKey::rs256("k1")] {
        let s = setup(key).await;
        let c = claims(&s.issuer.url, SUBSTANTIAL);
        let header = json!({"typ": "at+jwt", "alg": "HS256", "kid": "k1"});
        let input = format!("{}.{}", b64(header.to_string()), b64(c.to_string()));
        for secret in [s.key.public_bytes(), s.key.jwk().to_string().into_bytes()] {
            let mac = hmac::sign(
                &hmac::Key::new(hmac::HMAC_SHA256, &secret),
                input.as_bytes(),
            );
            let token = format!("{input}.{}", b64(mac.as_ref()));
            let err = s.guard.validate(&token).await.unwrap_err();
            assert!(matches!(err, TokenError::UnsupportedAlgorithm), "{err:?}");
        }
    }
}

#[tokio::test]
async fn wrong_typ_is_refused() {
    let s = es256().await;
    let c = claims(&s.issuer.url, SUBSTANTIAL);
    for header in [
        json!({"typ": "JWT", "alg": "ES256", "kid": "k1"}),
        json!({"alg": "ES256", "kid": "k1"}),
        json!({"typ": "id_token+jwt", "alg": "ES256", "kid": "k1"}),
    ] {
        let err = s
            .guard
            .validate(&s.key.token(&header, &c))
            .await
            .unwrap_err();
        assert!(matches!(err, TokenError::WrongType), "{err:?}");
    }
}

#[tokio::test]
async fn key_of_another_algorithm_under_the_same_kid_is_refused() {
    // The JWKS has an ES256 key "k1"; a token claims RS256 with kid "k1", signed by an RSA key.
    let s = es256().await;
    let rsa = TestKey::rs256("k1");
    let token = rsa.token_for(&claims(&s.issuer.url, SUBSTANTIAL));
    let err = s.guard.validate(&token).await.unwrap_err();
    assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
}

#[tokio::test]
async fn missing_required_claims_are_refused() {
    let s = es256().await;
    for claim in ["sub", "client_id", "iat", "jti", "exp", "aud", "iss"] {
        let mut c = claims(&s.issuer.url, SUBSTANTIAL);
        c.as_object_mut().unwrap().remove(claim);
        let err = s.guard.validate(&s.key.token_for(&c)).await.unwrap_err();
        assert!(
            matches!(err, TokenError::BadClaims | TokenError::WrongAudience),
            "{claim}: {err:?}"
        );
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    let s = es256().await;
    let header = b64(s.key.header().to_string());
    let inputs = [
        String::new(),
        "....".into(),
        format!("{header}.."),
        format!("{header}.e30.AAAA"),
        format!("{header}.bm90IGpzb24.AAAA"),
        format!("{header}.{}.AAAA", b64("[1,2,3]")),
        format!(
            "{}.e30.AAAA",
            b64("{\"typ\":\"at+jwt\",\"alg\":\"ES256\",\"kid\":7}")
        ),
        format!("{header}.e30.{}", "A".repeat(20_000)),
        "\u{0}\u{7f}.\u{ff}.x".into(),
    ];
    for input in inputs {
        assert!(s.guard.validate(&input).await.is_err());
    }
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    let key = TestKey::es256("k1");
    let issuer = Issuer::start_claiming(&[&key], Some("https://someone-else.example")).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE).build().unwrap();
    let token = key.token_for(&claims(&issuer.url, SUBSTANTIAL));
    let err = guard.validate(&token).await.unwrap_err();
    assert!(matches!(err, TokenError::KeysUnavailable(_)), "{err:?}");
    assert!(matches!(
        guard.prefetch().await,
        Err(pforte_guard::JwksError::RateLimited)
    ));
    assert_eq!(issuer.jwks_hits(), 0);
}

#[test]
fn configuration_is_checked() {
    assert!(Guard::builder("http://pforte.example", AUDIENCE)
        .build()
        .is_err());
    assert!(Guard::builder("https://pforte.example?x=1", AUDIENCE)
        .build()
        .is_err());
    assert!(Guard::builder("https://pforte.example", "")
        .build()
        .is_err());
    assert!(Guard::builder("https://pforte.example", AUDIENCE)
        .realm("a\"b")
        .build()
        .is_err());
    assert!(Guard::builder("https://pforte.example", AUDIENCE)
        .jwks_json(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)
        .build()
        .is_err());
    assert!(Guard::builder("http://pforte.example", AUDIENCE)
        .allow_insecure_http(true)
        .build()
        .is_ok());
    assert!(Guard::builder("https://pforte.example", AUDIENCE)
        .build()
        .is_ok());
}
