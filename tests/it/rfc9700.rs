//! RFC 9700 (OAuth 2.0 Security Best Current Practice) and OpenID negative cases, each named
//! after the section it attacks, sent against a running Pforte. Cases already covered
//! elsewhere are not repeated (docs/security.md maps them): refresh token replay §4.14.2
//! (`negative::refresh_token_reuse_revokes_the_family`), code replay §4.5
//! (`negative::code_replay_revokes_the_grant`, `hardening::…another_clients_code…`), PKCE
//! missing or mismatched (`negative::pkce_*`), open redirect through post_logout_redirect_uri
//! (`negative::logout_unregistered_post_logout_redirect_uri`), client assertion audience,
//! expiry, replay and alg none (`negative::private_key_jwt_*`), PKCE required of confidential
//! clients §2.1.1 (`hardening_findings::…pkce_is_required…`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use reqwest::{header, StatusCode};
use serde_json::json;

use crate::common::{attack::*, *};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn server() -> TestServer {
    let s = TestServer::start(Backend::Sqlite).await;
    s.confidential("rp", true).await;
    s.citizen("anna@example.de", PASSWORD).await;
    s
}

/// §4.4 (mix-up, RFC 9207): every authorization response names the issuer in `iss`, the
/// successful one and errors alike, and discovery says so.
#[tokio::test]
async fn rfc9700_4_4_mix_up_iss_in_every_authorization_response() {
    let s = server().await;
    let b = Browser::new(&s);
    let (url, _) = authorize_url(&s, "rp", &[]);
    let page = b.get(&url).await;
    let out = b.login(&page, "anna@example.de", PASSWORD).await;
    assert!(out.param("code").is_some(), "{out:?}");
    assert_eq!(out.param("iss").as_deref(), Some(s.issuer.as_str()));
    let (url, _) = authorize_url(&s, "rp", &[("prompt", "none"), ("max_age", "x")]);
    let out = b.get(&url).await;
    assert!(out.param("error").is_some(), "{out:?}");
    assert_eq!(out.param("iss").as_deref(), Some(s.issuer.as_str()));
    let d: serde_json::Value = reqwest::get(s.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
}

/// §4.5 (code injection): a code stolen from the citizen's callback and replayed with the
/// attacker's own PKCE verifier is refused (the code is bound to the victim's challenge).
#[tokio::test]
async fn rfc9700_4_5_code_injection_with_another_verifier() {
    let s = server().await;
    let b = Browser::new(&s);
    let (code, _victim_verifier) = login_code(&s, &b, "rp", "anna@example.de").await;
    let (attacker_verifier, _) = pkce();
    let (status, body) = exchange(&s, "rp", &code, &attacker_verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

/// §4.8 (PKCE downgrade): a token request cannot drop PKCE that the authorization request
/// used, nor invent it for a code issued without it (legacy client).
#[tokio::test]
async fn rfc9700_4_8_pkce_downgrade() {
    let s = server().await;
    s.add_client(pforte::admin::NewClient {
        id: "legacy".into(),
        secret: Some("legacy-secret-123".into()),
        redirect_uris: vec![redirect("legacy")],
        scopes: vec!["openid".into()],
        first_party: true,
        pkce_optional: true,
        ..Default::default()
    })
    .await;
    let b = Browser::new(&s);
    // With a challenge, without a verifier.
    let (code, _) = login_code(&s, &b, "rp", "anna@example.de").await;
    let answer = token_request(
        &s,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("rp")),
        ],
    )
    .await;
    assert_oauth_error(&answer, "invalid_grant");
    // Without a challenge (legacy), with a made-up verifier.
    let mut u = url::Url::parse(&s.url("/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", "legacy")
        .append_pair("redirect_uri", &redirect("legacy"))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid");
    let out = b.get(u.as_str()).await;
    let code = out.param("code").unwrap_or_else(|| panic!("{out:?}"));
    let answer = token_request(
        &s,
        Some(("legacy", "legacy-secret-123")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("legacy")),
            ("code_verifier", &pkce().0),
        ],
    )
    .await;
    assert_oauth_error(&answer, "invalid_grant");
}

/// §4.1 (open redirection via redirect_uri): near-misses of the registered URI are an error
/// page at Pforte, never a redirect anywhere (exact string comparison, §2.1).
#[tokio::test]
async fn rfc9700_4_1_open_redirect_through_redirect_uri() {
    let s = server().await;
    let registered = redirect("rp");
    let variants = [
        format!("{registered}/x"),
        format!("{registered}?next=https://evil.example"),
        format!("{registered}#frag"),
        registered.replace("127.0.0.1:9999", "127.0.0.1:9998"),
        registered.replace("http://", "http://evil.example@"),
        registered.to_uppercase(),
        "https://evil.example/cb".into(),
    ];
    let http = no_redirects();
    for v in variants {
        let mut u = url::Url::parse(&s.url("/authorize")).unwrap();
        u.query_pairs_mut()
            .append_pair("client_id", "rp")
            .append_pair("redirect_uri", &v)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid")
            .append_pair("code_challenge", &pkce().1)
            .append_pair("code_challenge_method", "S256");
        let r = http.get(u).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{v}");
        assert!(r.headers().get(header::LOCATION).is_none(), "{v}");
    }
}

/// §4.16 (clickjacking): no page may be framed.
#[tokio::test]
async fn rfc9700_4_16_clickjacking() {
    let s = server().await;
    for path in ["/login", "/register", "/account"] {
        let r = no_redirects().get(s.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

/// §4.2 (leakage via Referer): the login page and the redirect carrying the code both tell the
/// browser to send no Referer.
#[tokio::test]
async fn rfc9700_4_2_no_referer_leakage() {
    let s = server().await;
    let b = Browser::new(&s);
    let (url, _) = authorize_url(&s, "rp", &[]);
    let r = b.http.get(&url).send().await.unwrap();
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let page = b.get(&url).await;
    let csrf = hidden(page.html(), "csrf");
    let req = hidden(page.html(), "req");
    let r = b
        .http
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("req", req.as_str()),
            ("email", "anna@example.de"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let loc = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    let r = b.http.get(s.url(&loc)).send().await.unwrap();
    assert!(r.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("code="));
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
}

/// §4.15 (client impersonation): a confidential client's code cannot be redeemed by presenting
/// only its client_id (as a public client would), nor with a guessed secret.
#[tokio::test]
async fn rfc9700_4_15_client_impersonation() {
    let s = server().await;
    let b = Browser::new(&s);
    let (code, verifier) = login_code(&s, &b, "rp", "anna@example.de").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", &redirect("rp")),
        ("code_verifier", verifier.as_str()),
        ("client_id", "rp"),
    ];
    let (status, body) = token_request(&s, None, &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "{body}"
    );
    let (status, _) = token_request(&s, Some(("rp", "rp-secret-124")), &form[..4]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The code survives the failed attempts (it was never bound to the impostor).
    let (status, body) = exchange(&s, "rp", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn claims(s: &TestServer) -> serde_json::Value {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({ "iss": "jwt", "sub": "jwt", "aud": s.issuer, "iat": t, "exp": t + 60,
            "jti": pforte::secrets::random_token(16) })
}

fn hs256(secret: &[u8], header: &serde_json::Value, claims: &serde_json::Value) -> String {
    use hmac::{Hmac, Mac};
    let msg = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).unwrap();
    m.update(msg.as_bytes());
    format!("{msg}.{}", B64.encode(m.finalize().into_bytes()))
}

async fn with_assertion(s: &TestServer, jwt: &str) -> (StatusCode, serde_json::Value) {
    token_request(
        s,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", jwt),
        ],
    )
    .await
}

/// JWT attacks on client assertions (RFC 7523, RFC 8725 §2.1, §3.1): HS256 with the client's
/// public key as the HMAC secret (RS/HS confusion), `kid` injection, and `jku` / `x5u`
/// pointing at the attacker's keys (never fetched, never trusted).
#[tokio::test]
async fn rfc8725_jwt_attacks_on_client_assertions() {
    let s = server().await;
    let key = jwt_client(&s).await;
    // The good one works (so the refusals below are about the attack).
    let (status, body) = with_assertion(&s, &es256_sign(&key, &claims(&s))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // RS/HS confusion: HMAC keyed with the public JWK (as text and as the raw point).
    let jwk = es256_jwk(&key, "k1");
    for secret in [
        jwk.to_string().into_bytes(),
        B64.decode(jwk["x"].as_str().unwrap()).unwrap(),
    ] {
        let jwt = hs256(
            &secret,
            &json!({ "alg": "HS256", "kid": "k1" }),
            &claims(&s),
        );
        let (status, body) = with_assertion(&s, &jwt).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{body}"
        );
    }
    // kid injection: path traversal, SQL, a huge kid.
    let long = "k".repeat(10_000);
    for kid in ["../../../../dev/null", "k1' OR '1'='1", long.as_str()] {
        let (status, _) = with_assertion(&s, &es256_sign_kid(&key, kid, &claims(&s))).await;
        // 401, or 400 for an assertion over the parameter size limit.
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
            "{}",
            &kid[..kid.len().min(30)]
        );
    }
    // jku / x5u naming the attacker's server: signed by the attacker's key, refused, and the
    // server is never contacted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let evil = format!("http://{}/jwks", listener.local_addr().unwrap());
    let attacker = {
        use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()
    };
    for field in ["jku", "x5u"] {
        let header = json!({ "alg": "ES256", "kid": "k1", field: evil });
        let msg = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims(&s).to_string())
        );
        let sig = attacker
            .sign(&aws_lc_rs::rand::SystemRandom::new(), msg.as_bytes())
            .unwrap();
        let jwt = format!("{msg}.{}", B64.encode(sig.as_ref()));
        let (status, _) = with_assertion(&s, &jwt).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{field}");
    }
    assert!(listener.accept().is_err(), "the jku/x5u URL was fetched");
}

/// JWT attacks on `id_token_hint` (OIDC Core §3.1.2.1): unsigned, HS256 keyed with Pforte's
/// public key, or naming a key Pforte does not have: `invalid_request`, never a login hint.
#[tokio::test]
async fn rfc8725_jwt_attacks_on_id_token_hint() {
    let s = server().await;
    let jwks: serde_json::Value = reqwest::get(s.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pub_jwk = jwks["keys"][0].clone();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let c =
        json!({ "iss": s.issuer, "aud": "rp", "sub": "someone-else", "iat": t, "exp": t + 600 });
    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none"}"#),
        B64.encode(c.to_string())
    );
    let hs = hs256(
        pub_jwk.to_string().as_bytes(),
        &json!({ "alg": "HS256", "kid": pub_jwk["kid"] }),
        &c,
    );
    let unknown_kid = es256_sign_kid(
        &{
            use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()
        },
        "../../k",
        &c,
    );
    let b = Browser::new(&s);
    for hint in [none, hs, unknown_kid] {
        let (url, _) = authorize_url(&s, "rp", &[("id_token_hint", &hint)]);
        let out = b.get(&url).await;
        assert_eq!(
            out.param("error").as_deref(),
            Some("invalid_request"),
            "{out:?}"
        );
    }
}

/// Oversized and deeply nested input: a `claims` parameter nested a thousand levels is refused
/// before it is parsed; an over-long `claims`; a huge login form: precise 4xx, never a 500.
#[tokio::test]
async fn oversized_and_deeply_nested_input() {
    let s = server().await;
    let b = Browser::new(&s);
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let nested = format!(r#"{{"id_token":{{"acr":{deep}}}}}"#);
    let long = format!(
        r#"{{"userinfo":{{"email":{{"essential":true,"x":"{}"}}}}}}"#,
        "a".repeat(5000)
    );
    for claims in [nested, long] {
        let (url, _) = authorize_url(&s, "rp", &[("claims", &claims)]);
        let out = b.get(&url).await;
        assert_eq!(
            out.param("error").as_deref(),
            Some("invalid_request"),
            "{out:?}"
        );
    }
    let huge = "x".repeat(200 * 1024);
    let r = no_redirects()
        .post(s.url("/login"))
        .form(&[("email", "a@b.de"), ("password", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = no_redirects()
        .post(s.url("/token"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&x={}",
            "[".repeat(60_000)
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}

/// CSRF on every form (RFC 9700 §4.7 for the OAuth flow, and every citizen form): a logged-in
/// citizen's browser posting without the CSRF token changes nothing.
#[tokio::test]
async fn csrf_on_every_form() {
    let s = server().await;
    let b = Browser::new(&s);
    let page = b.get(&s.url("/login")).await;
    assert!(b
        .login(&page, "anna@example.de", PASSWORD)
        .await
        .is_page("/account"));
    let forms: &[(&str, &[(&str, &str)])] = &[
        (
            "/login",
            &[("email", "anna@example.de"), ("password", PASSWORD)],
        ),
        ("/consent", &[("req", "x"), ("decision", "allow")]),
        (
            "/register",
            &[
                ("email", "new@example.de"),
                ("given_name", "N"),
                ("family_name", "N"),
            ],
        ),
        ("/register/resend", &[("email", "anna@example.de")]),
        (
            "/register/verify",
            &[
                ("token", "x"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        ),
        ("/account/consents/rp/revoke", &[]),
        ("/account/security/totp", &[("code", "123456")]),
        ("/account/security/recovery-codes", &[]),
        ("/account/security/credentials/x/remove", &[]),
        ("/stepup/totp", &[("code", "123456")]),
        ("/stepup/recovery", &[("code", "aaaaa-bbbbb")]),
        ("/stepup/decline", &[("req", "x")]),
        ("/account/logout", &[]),
    ];
    for (path, fields) in forms {
        for csrf in [None, Some("forged-token")] {
            let mut form: Vec<(&str, &str)> = fields.to_vec();
            if let Some(t) = csrf {
                form.push(("csrf", t));
            }
            let r = b.http.post(s.url(path)).form(&form).send().await.unwrap();
            let status = r.status();
            let loc = r
                .headers()
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_string());
            let body = r.text().await.unwrap();
            let refused = status.is_client_error()
                || body.contains("abgelaufen")
                || loc
                    .as_deref()
                    .is_some_and(|l| l.starts_with("/stepup") || l.starts_with("/login"));
            assert!(refused, "{path} {csrf:?}: {status} {loc:?}");
        }
    }
    // Still logged in (the logout form without its token did nothing), nothing registered.
    assert!(b.get(&s.url("/account")).await.is_page("/account"));
    assert!(s
        .app
        .db
        .account_by_email("new@example.de")
        .await
        .unwrap()
        .is_none());
}
