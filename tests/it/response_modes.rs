//! Form Post response mode, per-client ID token algorithms (RS256, ES256, EdDSA) verified
//! against the JWKS, and client_secret_post — on SQLite and PostgreSQL.

use crate::common::*;
use base64::Engine;
use pforte::admin::NewClient;

fn header(jwt: &str) -> serde_json::Value {
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

async fn modes(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    for (id, alg) in [("es", "ES256"), ("ed", "EdDSA")] {
        server
            .add_client(NewClient {
                id: id.into(),
                secret: Some(format!("{id}-secret-123")),
                redirect_uris: vec![redirect(id)],
                id_token_alg: Some(alg.into()),
                first_party: true,
                ..Default::default()
            })
            .await;
    }
    server.citizen("gert@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    login_code(&server, &browser, "rp", "gert@example.de").await;

    // response_mode=form_post: an HTML form posting code, state and iss to the registered
    // redirect URI, auto-submitted by a script allowed only by its CSP nonce, and usable
    // without JavaScript (a visible button in <noscript>).
    let (url, verifier) = authorize_url(&server, "rp", &[("response_mode", "form_post")]);
    let resp = browser.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = resp.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let form = doc
        .select(&scraper::Selector::parse("form").unwrap())
        .next()
        .expect("a form");
    assert_eq!(
        form.value()
            .attr("method")
            .map(str::to_lowercase)
            .as_deref(),
        Some("post")
    );
    assert_eq!(form.value().attr("action"), Some(redirect("rp").as_str()));
    assert_eq!(hidden(&html, "state"), "st-123");
    assert_eq!(hidden(&html, "iss"), server.issuer);
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("script nonce in CSP");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the inline script carries the nonce"
    );
    assert!(html.contains("<noscript>"));
    let (status, body) = exchange(&server, "rp", &hidden(&html, "code"), &verifier).await;
    assert_eq!(status, 200, "{body}");

    // ID tokens in each client's algorithm, verifiable with the published JWKS.
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(server.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (id, alg) in [("rp", "RS256"), ("es", "ES256"), ("ed", "EdDSA")] {
        let (url, verifier) = authorize_url(&server, id, &[]);
        let code = browser.get(&url).await.param("code").expect("SSO code");
        let (status, body) = exchange(&server, id, &code, &verifier).await;
        assert_eq!(status, 200, "{body}");
        let id_token = body["id_token"].as_str().unwrap();
        let h = header(id_token);
        assert_eq!(h["alg"], alg);
        let jwk = jwks
            .find(h["kid"].as_str().unwrap())
            .expect("kid published");
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::from_str(alg).unwrap());
        v.set_issuer(&[&server.issuer]);
        v.set_audience(&[id]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(id_token, &key, &v)
            .expect("verifies")
            .claims;
        assert_eq!(claims["nonce"], "n-456");
    }

    // client_secret_post is accepted for a client registered with a secret.
    let (url, verifier) = authorize_url(&server, "es", &[]);
    let code = browser.get(&url).await.param("code").unwrap();
    let (status, body) = token_request(
        &server,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("es")),
            ("code_verifier", &verifier),
            ("client_id", "es"),
            ("client_secret", "es-secret-123"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

use std::str::FromStr;

#[tokio::test]
async fn response_modes_sqlite() {
    modes(Backend::Sqlite).await;
}

#[tokio::test]
async fn response_modes_postgres() {
    modes(Backend::Postgres).await;
}
