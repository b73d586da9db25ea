//! Two Pforte PROCESSES on one PostgreSQL with one issuer (different ports), and
//! back-channel logout to a relying party's endpoint served by this test: log in on A, redeem
//! the code on B, refresh on A and on B, single sign-on (prompt=none) continues on B with the
//! same cookie; logout on B ends the session on A and the relying party receives a valid
//! logout token (signature checked against the JWKS); a key rotated by `pforte keys rotate`
//! is used and published by both within the key reload interval.

use std::time::Duration;

use crate::common::{
    child::Child,
    ops::{self, kid},
    *,
};
use axum::{extract::State, routing::post, Form, Router};
use jsonwebtoken::jwk::JwkSet;
use pforte::admin::NewClient;
use reqwest::header;
use serde_json::Value;
use tokio::sync::mpsc;

/// The relying party's back-channel logout endpoint: every posted `logout_token` goes to the
/// channel; answers 200 (§2.8).
async fn rp_endpoint() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    async fn receive(
        State(tx): State<mpsc::UnboundedSender<String>>,
        Form(f): Form<std::collections::HashMap<String, String>>,
    ) -> &'static str {
        if let Some(t) = f.get("logout_token") {
            let _ = tx.send(t.clone());
        }
        ""
    }
    let app = Router::new().route("/bc", post(receive)).with_state(tx);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/bc", l.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, rx)
}

async fn jwks(url: &str) -> JwkSet {
    reqwest::get(format!("{url}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies a JWS like a relying party (`iss` and `iat` required).
fn verify(set: &JwkSet, token: &str, issuer: &str, aud: Option<&str>) -> Result<Value, String> {
    ops::verify_jws(set, token, issuer, aud, &["iss", "iat"])
}

async fn refresh(at: &TestServer, rt: &str) -> (reqwest::StatusCode, Value) {
    token_request(
        at,
        Some(("rp", "rp-secret-123")),
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await
}

/// `/authorize` with prompt=none on `at` with the browser's cookie: the callback's parameters.
async fn prompt_none(at: &TestServer, browser: &Browser) -> (url::Url, String) {
    let (u, verifier) = authorize_url(at, "rp", &[("prompt", "none")]);
    let r = browser.http.get(&u).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let loc = r.headers()[header::LOCATION].to_str().unwrap();
    (url::Url::parse(loc).unwrap(), verifier)
}

fn param(u: &url::Url, name: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn multi_instance_two_processes_one_postgres_one_issuer() {
    let seed = TestServer::start(Backend::Postgres).await;
    let (bc_url, mut logout_tokens) = rp_endpoint().await;
    seed.add_client(NewClient {
        id: "rp".into(),
        secret: Some("rp-secret-123".into()),
        redirect_uris: vec![redirect("rp")],
        post_logout_redirect_uris: vec!["http://127.0.0.1:9999/rp/bye".into()],
        grant_types: vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "client_credentials".into(),
        ],
        scopes: ["openid", "profile", "email", "offline_access"]
            .map(String::from)
            .to_vec(),
        first_party: true,
        backchannel_logout_uri: Some(bc_url),
        backchannel_logout_session_required: true,
        ..Default::default()
    })
    .await;
    seed.citizen("anna@example.de", PASSWORD).await;

    let (pa, pb) = (child::free_port(), child::free_port());
    let issuer = format!("http://127.0.0.1:{pa}");
    let env = [("PFORTE_KEYS_RELOAD_SECS", "1")];
    let a = Child::spawn_at(&seed, &issuer, pa, &env).await;
    let b = Child::spawn_at(&seed, &issuer, pb, &env).await;
    let on_a = seed.as_child(&a);
    let mut on_b = seed.as_child(&b);
    // Requests built for B go to B's port; tokens still name the one issuer.
    on_b.issuer = format!("http://127.0.0.1:{pb}");

    // Log in on A, redeem the code on B.
    let browser = Browser::new(&on_a);
    let (code, verifier) = login_code(&on_a, &browser, "rp", "anna@example.de").await;
    let (status, t1) = exchange(&on_b, "rp", &code, &verifier).await;
    assert_eq!(status, 200, "B redeems A's code: {t1}");
    let id1 = t1["id_token"].as_str().unwrap();
    let claims1 = verify(&jwks(&on_b.issuer).await, id1, &issuer, Some("rp")).unwrap();
    let sid = claims1["sid"]
        .as_str()
        .expect("sid in the ID token")
        .to_string();

    // Refresh on A, then on B.
    let (status, t2) = refresh(&on_a, t1["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{t2}");
    let (status, t3) = refresh(&on_b, t2["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{t3}");

    // Single sign-on continues on B with the same cookie (cookies are per host, not port).
    let (cb, verifier) = prompt_none(&on_b, &browser).await;
    let code2 = param(&cb, "code").unwrap_or_else(|| panic!("SSO on B: {cb}"));
    let (status, t4) = exchange(&on_a, "rp", &code2, &verifier).await;
    assert_eq!(status, 200, "{t4}");
    assert_eq!(pforte_sid(&t4), sid, "the same session on both instances");

    // Logout on B ends the session everywhere.
    let mut u = url::Url::parse(&on_b.url("/logout")).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", id1)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9999/rp/bye")
        .append_pair("state", "bye-1");
    let r = browser.http.get(u).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let (cb, _) = prompt_none(&on_a, &browser).await;
    assert_eq!(
        param(&cb, "error").as_deref(),
        Some("login_required"),
        "A sees the session ended on B: {cb}"
    );
    // The relying party hears of it on its back channel.
    let token = tokio::time::timeout(Duration::from_secs(20), logout_tokens.recv())
        .await
        .expect("a logout token within 20 s")
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let lt =
        verify(&jwks(&on_a.issuer).await, &token, &issuer, Some("rp")).expect("valid signature");
    assert_eq!(lt["sid"], sid.as_str());
    assert_eq!(lt["sub"], claims1["sub"]);
    assert!(lt["jti"].is_string() && lt["iat"].is_i64() && lt["exp"].is_i64());
    assert!(lt["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(lt.get("nonce").is_none());
    // Delivered once: nothing more arrives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(logout_tokens.try_recv().is_err(), "delivered exactly once");
    // The session's refresh token (no offline_access) died with it.
    let (status, body) = refresh(&on_a, t3["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400, "{body}");

    // A key rotated with `pforte keys rotate` on A's database is used by A and B within the
    // reload interval, and each publishes it.
    let cc = |at: &TestServer| {
        let at = at.issuer.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{at}/token"))
                .basic_auth("rp", Some("rp-secret-123"))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let before = kid(&cc(&on_b).await);
    let out = ops::run_pforte(
        &[
            ("PFORTE_ISSUER", issuer.as_str()),
            ("PFORTE_DATABASE_URL", seed.db_url()),
            ("PFORTE_KEYS_ENCRYPTION_KEY", seed.kek()),
            ("PFORTE_LOG", "warn"),
        ],
        &["keys", "rotate"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let on_a_token = cc(&on_a).await;
    let on_b_token = cc(&on_b).await;
    assert_ne!(kid(&on_a_token), before, "A signs with the new key");
    assert_eq!(
        kid(&on_a_token),
        kid(&on_b_token),
        "B signs with the same new key"
    );
    verify(&jwks(&on_b.issuer).await, &on_a_token, &issuer, None)
        .expect("a token of A verifies with B's JWKS");
    let set_b = jwks(&on_b.issuer).await;
    assert!(set_b.find(&kid(&on_a_token)).is_some());
    drop((a, b));
}

fn pforte_sid(tokens: &Value) -> String {
    payload(tokens["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_string()
}
