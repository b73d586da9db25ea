//! Passkeys (WebAuthn) end to end, on SQLite and PostgreSQL: a software authenticator
//! (webauthn-authenticator-rs `SoftPasskey`) drives the real JSON endpoints with the test
//! browser's session cookie and CSRF token.
//!
//! WebAuthn refuses an IP address as relying-party id, so these servers use the issuer
//! `http://localhost:PORT` while the browser talks to 127.0.0.1 (the same listener).

use crate::common::*;
use pforte::{
    accounts::passkey::{
        CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
        RequestChallengeResponse,
    },
    admin,
    assurance::Level,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use webauthn_authenticator_rs::{softpasskey::SoftPasskey, WebauthnAuthenticator};

const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
const ESSENTIAL: &str = r#"{"id_token":{"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/substantial"]}}}"#;

async fn start(backend: Backend) -> TestServer {
    let server = TestServer::start_with(backend, |cfg| {
        cfg.issuer = cfg.issuer.replace("127.0.0.1", "localhost");
    })
    .await;
    server.confidential("rp", true).await;
    server
}

/// One citizen at one browser with one authenticator.
struct Citizen {
    browser: Browser,
    csrf: String,
    key: WebauthnAuthenticator<SoftPasskey>,
    origin: url::Url,
}

impl Citizen {
    /// Logs `email` in with the password (through the relying party) and fetches the session's
    /// CSRF token (the same one every page of the session carries).
    async fn login(server: &TestServer, email: &str) -> Citizen {
        let browser = Browser::new(server);
        login_code(server, &browser, "rp", email).await;
        let csrf = csrf_of(server, &browser).await;
        Citizen {
            browser,
            csrf,
            key: WebauthnAuthenticator::new(SoftPasskey::new(true)),
            origin: url::Url::parse(&server.app.config.issuer).unwrap(),
        }
    }

    async fn post(&self, server: &TestServer, path: &str, body: &Value) -> (StatusCode, Value) {
        post_json(server, &self.browser, path, &self.csrf, body).await
    }

    /// Registers this citizen's authenticator; returns the credential as sent.
    async fn register(&mut self, server: &TestServer, label: &str) -> RegisterPublicKeyCredential {
        let (status, options) = self
            .post(server, "/account/security/passkey/start", &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{options}");
        let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let cred = self
            .key
            .do_registration(self.origin.clone(), ccr)
            .expect("software authenticator registers");
        let (status, body) = self
            .post(
                server,
                "/account/security/passkey/finish",
                &json!({ "credential": cred, "label": label }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["label"], label);
        cred
    }

    async fn stepup_start(&self, server: &TestServer, req: &str) -> RequestChallengeResponse {
        let (status, options) = self
            .post(server, "/stepup/passkey/start", &json!({ "req": req }))
            .await;
        assert_eq!(status, StatusCode::OK, "{options}");
        serde_json::from_value(options).unwrap()
    }

    fn sign(&mut self, rcr: RequestChallengeResponse) -> PublicKeyCredential {
        self.key
            .do_authentication(self.origin.clone(), rcr)
            .expect("software authenticator signs")
    }

    async fn stepup_finish(
        &self,
        server: &TestServer,
        req: &str,
        cred: &PublicKeyCredential,
    ) -> (StatusCode, Value) {
        self.post(
            server,
            "/stepup/passkey/finish",
            &json!({ "req": req, "credential": cred }),
        )
        .await
    }
}

async fn csrf_of(server: &TestServer, browser: &Browser) -> String {
    hidden(browser.get(&server.url("/login")).await.html(), "csrf")
}

async fn post_json(
    server: &TestServer,
    browser: &Browser,
    path: &str,
    csrf: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let r = browser
        .http
        .post(server.url(path))
        .header("X-CSRF-Token", csrf)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{path} answered {status} without JSON: {text}"));
    (status, v)
}

/// Asserts a refusal: a 4xx with a JSON error (never a 500, never a panic).
fn refused(answer: &(StatusCode, Value), status: StatusCode, error: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], error, "{}", answer.1);
    assert!(
        answer.1["error_description"].as_str().is_some(),
        "{}",
        answer.1
    );
}

/// The pending request id from the page an authorization request stopped at.
fn req_of(out: &Outcome, path: &str) -> String {
    let Outcome::Page { url, .. } = out else {
        panic!("expected {path}, got {out:?}");
    };
    let url = url::Url::parse(url).unwrap();
    assert_eq!(url.path(), path, "{out:?}");
    url.query_pairs()
        .find(|(k, _)| k == "req")
        .map(|(_, v)| v.into_owned())
        .expect("req")
}

async fn passkeys(backend: Backend) {
    let server = start(backend).await;
    let anna = server.citizen("anna@example.de", PASSWORD).await;
    let bernd = server.citizen("bernd@example.de", PASSWORD).await;
    for email in ["anna@example.de", "bernd@example.de"] {
        admin::proof_account(
            &server.app.db,
            &pforte::audit::Actor::Cli,
            email,
            Level::Substantial,
            "Bürgerbüro, Personalausweis",
        )
        .await
        .unwrap();
    }

    // The script is served, and pages allow it and its calls (CSP).
    let r = reqwest::get(server.url("/static/passkey.js"))
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(r.text().await.unwrap().contains("passkey-stepup"));

    // Without a login: refused (CSRF first, then the login).
    let stranger = Browser::new(&server);
    let csrf = csrf_of(&server, &stranger).await;
    refused(
        &post_json(
            &server,
            &stranger,
            "/account/security/passkey/start",
            &csrf,
            &json!({}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "login_required",
    );

    let mut a = Citizen::login(&server, "anna@example.de").await;
    // A bad or missing CSRF header is refused.
    for bad in ["wrong", ""] {
        refused(
            &post_json(
                &server,
                &a.browser,
                "/account/security/passkey/start",
                bad,
                &json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "invalid_csrf_token",
        );
    }

    // Registration: stored encrypted, audited; the ceremony cannot be finished twice.
    let a_cred = a.register(&server, "Laptop").await;
    let stored = server.app.db.credentials_of(&anna).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind.as_str(), "passkey");
    assert_eq!(stored[0].label, "Laptop");
    assert_eq!(stored[0].id, a_cred.id);
    assert!(
        !stored[0].secret.contains("cred") && !stored[0].secret.contains('{'),
        "the passkey is stored encrypted"
    );
    refused(
        &a.post(
            &server,
            "/account/security/passkey/finish",
            &json!({ "credential": a_cred }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "no_ceremony",
    );
    let audit = server
        .app
        .db
        .audit_list(Some("credential.added"), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, format!("account:{anna}"));
    assert_eq!(audit[0].detail["kind"], "passkey");
    // With a passkey enrolled, adding another needs that second factor used first: the
    // password login alone is refused.
    let (status, body) = a
        .post(&server, "/account/security/passkey/start", &json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "second_factor_required");

    // An authorization request needing substantial (essential acr) goes to the step-up page.
    let (url, verifier) = authorize_url(&server, "rp", &[("claims", ESSENTIAL)]);
    let out = a.browser.get(&url).await;
    let req = req_of(&out, "/stepup");
    let rcr = a.stepup_start(&server, &req).await;
    let assertion = a.sign(rcr);
    let (status, body) = a.stepup_finish(&server, &req, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let redirect = body["redirect"].as_str().unwrap();
    assert_eq!(redirect, format!("/authorize/continue?req={req}"));
    let code = a
        .browser
        .get(&server.url(redirect))
        .await
        .param("code")
        .expect("code after step-up");
    let (status, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], SUBSTANTIAL, "{id}");
    let amr: Vec<&str> = id["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(amr.contains(&"hwk") && amr.contains(&"user"), "amr {amr:?}");

    // After the passkey step-up a second registration is allowed and excludes the passkey
    // already enrolled.
    let (status, options) = a
        .post(&server, "/account/security/passkey/start", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    let excluded: Vec<Vec<u8>> = ccr
        .public_key
        .exclude_credentials
        .unwrap_or_default()
        .iter()
        .map(|c| c.id.as_ref().to_vec())
        .collect();
    assert_eq!(excluded, vec![a_cred.raw_id.as_ref().to_vec()]);

    let audit = server
        .app
        .db
        .audit_list(Some("login.step_up"), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].detail["method"], "passkey");
    assert_eq!(audit[0].detail["after"], "substantial");
    assert!(server.app.db.credentials_of(&anna).await.unwrap()[0]
        .last_used_at
        .is_some());

    // A replayed assertion is refused: the challenge was used up …
    refused(
        &a.stepup_finish(&server, &req, &assertion).await,
        StatusCode::BAD_REQUEST,
        "no_ceremony",
    );
    // … and a new challenge does not accept the old answer either.
    let out = a
        .browser
        .get(&authorize_url(&server, "rp", &[("prompt", "login")]).0)
        .await;
    let req2 = req_of(&out, "/login");
    let _fresh = a.stepup_start(&server, &req2).await;
    refused(
        &a.stepup_finish(&server, &req2, &assertion).await,
        StatusCode::BAD_REQUEST,
        "passkey_rejected",
    );

    // An assertion by Anna's passkey over Bernd's challenge is refused in Bernd's session.
    let mut b = Citizen::login(&server, "bernd@example.de").await;
    b.register(&server, "Telefon").await;
    let out = b
        .browser
        .get(&authorize_url(&server, "rp", &[("claims", ESSENTIAL)]).0)
        .await;
    let b_req = req_of(&out, "/stepup");
    let b_rcr = b.stepup_start(&server, &b_req).await;
    let mut for_anna = serde_json::to_value(&b_rcr).unwrap();
    for_anna["publicKey"]["allowCredentials"] =
        json!([{ "type": "public-key", "id": a_cred.raw_id }]);
    let forged = a.sign(serde_json::from_value(for_anna).unwrap());
    refused(
        &b.stepup_finish(&server, &b_req, &forged).await,
        StatusCode::BAD_REQUEST,
        "passkey_rejected",
    );
    // Anna's own (replayed) assertion in Bernd's session: refused as well.
    let _ = b.stepup_start(&server, &b_req).await;
    refused(
        &b.stepup_finish(&server, &b_req, &assertion).await,
        StatusCode::BAD_REQUEST,
        "passkey_rejected",
    );
    // Bernd's own passkey still works afterwards.
    let b_rcr = b.stepup_start(&server, &b_req).await;
    let own = b.sign(b_rcr);
    let (status, body) = b.stepup_finish(&server, &b_req, &own).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let failed = server
        .app
        .db
        .audit_list(Some("login.failed"), 10)
        .await
        .unwrap();
    assert!(failed.iter().any(|e| e.actor == format!("account:{bernd}")));

    // A step-up for a request of another session, or without one, is refused.
    refused(
        &b.post(&server, "/stepup/passkey/start", &json!({ "req": req2 }))
            .await,
        StatusCode::BAD_REQUEST,
        "request_expired",
    );
    refused(
        &b.post(&server, "/stepup/passkey/start", &json!({ "req": 5 }))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn passkeys_sqlite() {
    passkeys(Backend::Sqlite).await;
}

#[tokio::test]
async fn passkeys_postgres() {
    passkeys(Backend::Postgres).await;
}

/// A self-registered citizen (identity proofed at low) may enrol a passkey, but it does not
/// lift the login above the proofing: essential substantial stays unmet. An authenticator
/// without user verification is not accepted as a passkey.
async fn low_proofing(backend: Backend) {
    let server = start(backend).await;
    let carl = server.citizen("carl@example.de", PASSWORD).await;
    let mut c = Citizen::login(&server, "carl@example.de").await;

    // No user verification: refused. (The browser is told UV is discouraged here, as a
    // manipulated page could; the server's ceremony state still requires it.)
    let mut no_uv = WebauthnAuthenticator::new(SoftPasskey::new(false));
    let (status, mut options) = c
        .post(&server, "/account/security/passkey/start", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    options["publicKey"]["authenticatorSelection"]["userVerification"] = json!("discouraged");
    let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
    let cred = no_uv
        .do_registration(c.origin.clone(), ccr)
        .expect("registers without user verification");
    refused(
        &c.post(
            &server,
            "/account/security/passkey/finish",
            &json!({ "credential": cred }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "passkey_rejected",
    );
    assert!(server
        .app
        .db
        .credentials_of(&carl)
        .await
        .unwrap()
        .is_empty());

    c.register(&server, "Passkey").await;
    // Step-up without a pending request is refused; the citizen cannot reach substantial.
    refused(
        &c.post(&server, "/stepup/passkey/start", &json!({ "req": "nope" }))
            .await,
        StatusCode::BAD_REQUEST,
        "request_expired",
    );
    let out = c
        .browser
        .get(&authorize_url(&server, "rp", &[("claims", ESSENTIAL)]).0)
        .await;
    assert_eq!(
        out.param("error").as_deref(),
        Some("unmet_authentication_requirements"),
        "{out:?}"
    );
    // Voluntary substantial: served at the level the session really has.
    let (url, verifier) = authorize_url(&server, "rp", &[("acr_values", SUBSTANTIAL)]);
    let code = c.browser.get(&url).await.param("code").expect("code");
    let (_, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(
        payload(tokens["id_token"].as_str().unwrap())["acr"],
        "http://eidas.europa.eu/LoA/low"
    );
    // Even a passkey step-up forced on a pending request stays at low.
    let out = c
        .browser
        .get(&authorize_url(&server, "rp", &[("prompt", "login")]).0)
        .await;
    let req = req_of(&out, "/login");
    let rcr = c.stepup_start(&server, &req).await;
    let assertion = c.sign(rcr);
    let (status, body) = c.stepup_finish(&server, &req, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let audit = server
        .app
        .db
        .audit_list(Some("login.step_up"), 10)
        .await
        .unwrap();
    assert_eq!(audit[0].detail["after"], "low");
}

#[tokio::test]
async fn low_proofing_sqlite() {
    low_proofing(Backend::Sqlite).await;
}

#[tokio::test]
async fn low_proofing_postgres() {
    low_proofing(Backend::Postgres).await;
}
