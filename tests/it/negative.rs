//! Negative paths: every rule asserts the exact error the specifications name (RFC 6749
//! §4.1.2.1 / §5.2, OIDC Core §3.1.2.6, RFC 7009, RFC 7662, RFC 6750), its HTTP status and,
//! where specified, its `WWW-Authenticate` challenge.
//!
//! Cross-cutting invariants, checked on every response by [`send`]: never a 5xx, never a
//! dropped connection (a server panic), and never a `Location` to an unregistered URI.
//!
//! All rules run one after another against one SQLite and one PostgreSQL server (one citizen
//! session shared through single sign-on, so only one password hash per server); a failing
//! rule is reported by name and does not stop the others.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use crate::common::{
    attack::{jwt_client, no_redirects},
    *,
};
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

const EMAIL: &str = "anna@example.de";
const EVIL: &str = "https://evil.example/cb";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// --- Harness -----------------------------------------------------------------------------

/// One server with its clients, a logged-in browser and the private_key_jwt client's key.
struct Ctx {
    s: TestServer,
    /// Logged in as [`EMAIL`]: first-party clients get codes by single sign-on.
    browser: Browser,
    /// No cookies, no redirects followed.
    http: reqwest::Client,
    /// The key registered (inline JWKS, kid `k1`) for client `jwt`.
    key: EcdsaKeyPair,
}

impl Ctx {
    async fn new(s: TestServer) -> Ctx {
        s.confidential("rp", true).await;
        s.public("pub").await;
        s.citizen(EMAIL, PASSWORD).await;
        let key = jwt_client(&s).await;
        let browser = Browser::new(&s);
        // One password login; every later code comes from single sign-on.
        login_code(&s, &browser, "rp", EMAIL).await;
        Ctx {
            s,
            browser,
            http: no_redirects(),
            key,
        }
    }
}

type RuleFut = Pin<Box<dyn Future<Output = ()> + Send>>;
type Rule = fn(Arc<Ctx>) -> RuleFut;

/// `(name, rule)` for each `async fn name(&Ctx)`.
macro_rules! rules {
    ($($name:ident),* $(,)?) => {
        vec![$((
            stringify!($name),
            (|c: Arc<Ctx>| -> RuleFut { Box::pin(async move { $name(&c).await }) }) as Rule,
        )),*]
    };
}

/// Runs `rules` one by one against `ctx`, each in its own task so a failure names its rule.
async fn run(ctx: Ctx, rules: Vec<(&'static str, Rule)>) {
    let backend = ctx.s.backend;
    let ctx = Arc::new(ctx);
    let mut failed = Vec::new();
    for (name, rule) in rules {
        let started = std::time::Instant::now();
        let task = tokio::spawn(rule(ctx.clone()));
        match tokio::time::timeout(Duration::from_secs(60), task).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => failed.push(name),
            Err(_) => failed.push(name),
        }
        eprintln!("{backend:?} {name}: {:?}", started.elapsed());
    }
    assert!(
        failed.is_empty(),
        "{backend:?}: {} rule(s) failed: {failed:?}",
        failed.len()
    );
}

fn all_rules() -> Vec<(&'static str, Rule)> {
    rules![
        // Authorization endpoint: errors that must never be redirected.
        authorize_wrong_redirect_uri_is_a_page,
        authorize_unknown_client_is_a_page,
        authorize_missing_client_id_is_a_page,
        authorize_oversized_parameter_is_a_page,
        authorize_repeated_parameter_is_a_page,
        // Authorization endpoint: errors sent back to the registered redirect URI.
        authorize_public_client_without_code_challenge,
        authorize_plain_code_challenge_method,
        authorize_unregistered_scope,
        authorize_unsupported_response_type,
        authorize_prompt_none_with_login,
        authorize_max_age_not_a_number,
        authorize_request_object,
        authorize_unknown_response_mode,
        // Code exchange.
        pkce_missing_verifier,
        pkce_wrong_verifier,
        pkce_verifier_without_challenge,
        code_redirect_uri_mismatch,
        code_issued_to_another_client,
        code_replay_revokes_the_grant,
        refresh_token_reuse_revokes_the_family,
        // Token endpoint: request and client authentication.
        unsupported_grant_type,
        client_credentials_with_openid,
        wrong_secret_basic,
        wrong_secret_post,
        two_authentication_methods,
        token_oversized_parameter,
        token_repeated_parameter,
        token_wrong_content_type,
        token_non_utf8_body,
        token_huge_body,
        // private_key_jwt.
        private_key_jwt_good_assertion,
        private_key_jwt_wrong_audience,
        private_key_jwt_expired,
        private_key_jwt_jti_replay,
        private_key_jwt_lifetime_too_long,
        private_key_jwt_signed_by_another_key,
        // UserInfo, introspection, revocation, logout.
        userinfo_without_token,
        userinfo_garbage_token,
        userinfo_revoked_token,
        userinfo_token_in_query,
        introspection_unauthenticated,
        introspection_of_garbage,
        revocation_of_unknown_token,
        revocation_unsupported_token_type_hint,
        logout_unregistered_post_logout_redirect_uri,
    ]
}

#[tokio::test]
async fn negative_sqlite() {
    run(
        Ctx::new(TestServer::start(Backend::Sqlite).await).await,
        all_rules(),
    )
    .await;
}

#[tokio::test]
async fn negative_postgres() {
    run(
        Ctx::new(TestServer::start(Backend::Postgres).await).await,
        all_rules(),
    )
    .await;
}

/// Codes live one second here; runs on its own servers, on a manual clock (the code expires
/// without waiting).
async fn expired_code_server(backend: Backend) {
    let s = TestServer::start_manual_clock(backend, |c| c.tokens.code_ttl = 1).await;
    run(Ctx::new(s).await, rules![code_expired]).await;
}

#[tokio::test]
async fn negative_expired_code_sqlite() {
    expired_code_server(Backend::Sqlite).await;
}

#[tokio::test]
async fn negative_expired_code_postgres() {
    expired_code_server(Backend::Postgres).await;
}

// --- Requests and responses ----------------------------------------------------------------

/// A response, read completely.
#[derive(Debug)]
struct Resp {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Resp {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
    fn location(&self) -> Option<url::Url> {
        self.header(header::LOCATION).map(|l| {
            url::Url::parse("http://pforte.invalid/")
                .unwrap()
                .join(l)
                .unwrap()
        })
    }
}

/// Every URI Pforte may ever send a browser to outside itself.
fn registered_uris() -> Vec<String> {
    let mut v: Vec<String> = ["rp", "pub"].iter().map(|id| redirect(id)).collect();
    v.extend(
        ["rp", "pub"]
            .iter()
            .map(|id| format!("http://127.0.0.1:9999/{id}/bye")),
    );
    v
}

/// Sends a request; asserts the invariants that hold for every response.
async fn send(c: &Ctx, req: reqwest::RequestBuilder) -> Resp {
    let r = req
        .send()
        .await
        .expect("the server answers (no panic, no dropped connection)");
    let resp = Resp {
        status: r.status(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap_or_default(),
    };
    assert!(
        !resp.status.is_server_error(),
        "server error: {} {}",
        resp.status,
        resp.body
    );
    if let Some(mut to) = resp.location() {
        let internal =
            to.host_str() == Some("pforte.invalid") || to.as_str().starts_with(&c.s.issuer);
        to.set_query(None);
        assert!(
            internal || registered_uris().contains(&to.to_string()),
            "redirect to an unregistered URI: {:?}",
            resp.header(header::LOCATION)
        );
    }
    resp
}

/// The standard authorization request for `client_id` (PKCE S256, state `st-1`), with
/// `overrides` replacing (or, with an empty value, removing) parameters or appending new ones.
fn authz_params(client_id: &str, overrides: &[(&str, &str)]) -> (Vec<(String, String)>, String) {
    let (verifier, challenge) = pkce();
    let mut p: Vec<(String, String)> = [
        ("client_id", client_id.to_string()),
        ("redirect_uri", redirect(client_id)),
        ("response_type", "code".into()),
        ("scope", "openid profile".into()),
        ("state", "st-1".into()),
        ("nonce", "n-1".into()),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in overrides {
        match p.iter().position(|(pk, _)| pk == k) {
            Some(i) if v.is_empty() => {
                p.remove(i);
            }
            Some(i) => p[i].1 = v.to_string(),
            None => p.push((k.to_string(), v.to_string())),
        }
    }
    (p, verifier)
}

fn authz_url(c: &Ctx, pairs: &[(String, String)]) -> String {
    let mut u = url::Url::parse(&c.s.url("/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs(pairs);
    u.to_string()
}

/// GET /authorize without a session.
async fn authorize(c: &Ctx, pairs: &[(String, String)]) -> Resp {
    send(c, c.http.get(authz_url(c, pairs))).await
}

/// A readable error page: 400, HTML, naming `error`, and no redirect.
fn assert_page(r: &Resp, error: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.header(header::LOCATION).is_none(), "no redirect: {r:?}");
    assert!(
        r.header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("text/html")),
        "an HTML page: {r:?}"
    );
    assert!(
        r.body.contains(&format!("<code>{error}</code>")),
        "the page names {error}: {}",
        r.body
    );
}

/// An error redirected to `client_id`'s registered URI with `state` and `iss` (RFC 9207).
fn assert_redirect_error(c: &Ctx, r: &Resp, client_id: &str, error: &str) {
    assert!(r.status.is_redirection(), "a redirect: {r:?}");
    let to = r.location().unwrap();
    assert!(
        to.as_str()
            .starts_with(&format!("{}?", redirect(client_id))),
        "to the registered URI: {to}"
    );
    let q = |name: &str| {
        to.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(q("error").as_deref(), Some(error), "{to}");
    assert!(q("error_description").is_some(), "{to}");
    assert_eq!(q("state").as_deref(), Some("st-1"), "{to}");
    assert_eq!(q("iss").as_deref(), Some(c.s.issuer.as_str()), "{to}");
    assert!(q("code").is_none(), "{to}");
}

/// A JSON error (RFC 6749 §5.2) with this status; not cacheable.
fn assert_json_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status.as_u16(), status, "{r:?}");
    let v = r.json();
    assert_eq!(v["error"], error, "{v}");
    assert!(v["error_description"].is_string(), "{v}");
    assert!(
        r.header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/json")),
        "{r:?}"
    );
    assert_eq!(r.header(header::CACHE_CONTROL), Some("no-store"), "{r:?}");
}

fn rp_secret() -> &'static str {
    "rp-secret-123"
}

/// POST a form to `path` with optional Basic credentials.
async fn post_form(
    c: &Ctx,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> Resp {
    let mut req = c.http.post(c.s.url(path)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    send(c, req).await
}

async fn token(c: &Ctx, form: &[(&str, &str)]) -> Resp {
    post_form(c, "/token", Some(("rp", rp_secret())), form).await
}

/// A code for `client_id` through the logged-in browser (single sign-on); returns the code and
/// the PKCE verifier.
async fn sso_code(c: &Ctx, client_id: &str, overrides: &[(&str, &str)]) -> (String, String) {
    let (p, verifier) = authz_params(client_id, overrides);
    let out = c.browser.get(&authz_url(c, &p)).await;
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    (code, verifier)
}

/// Exchanges a code for `rp` (client_secret_basic).
async fn exchange_rp(c: &Ctx, code: &str, verifier: Option<&str>) -> Resp {
    let redirect_uri = redirect("rp");
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect_uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token(c, &form).await
}

/// A fresh token response for `rp` (access, refresh and ID token).
async fn rp_tokens(c: &Ctx) -> Value {
    let (code, verifier) = sso_code(c, "rp", &[]).await;
    let r = exchange_rp(c, &code, Some(&verifier)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.json()
}

async fn refresh(c: &Ctx, refresh_token: &str) -> Resp {
    token(
        c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Whether introspection (as `rp`) calls the token active.
async fn active(c: &Ctx, token: &str) -> bool {
    let r = post_form(
        c,
        "/introspect",
        Some(("rp", rp_secret())),
        &[("token", token)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.json()["active"].as_bool().expect("active is a boolean")
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

// --- private_key_jwt helpers ----------------------------------------------------------------

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Good assertion claims for client `jwt`, with `overrides` merged in.
fn assertion_claims(c: &Ctx, overrides: Value) -> Value {
    let t = now();
    let mut v = json!({
        "iss": "jwt", "sub": "jwt", "aud": c.s.issuer,
        "iat": t, "exp": t + 60, "jti": pforte::secrets::random_token(16),
    });
    for (k, val) in overrides.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

async fn client_credentials_with(c: &Ctx, assertion: &str) -> Resp {
    post_form(
        c,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "payment"),
            ("client_id", "jwt"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
    )
    .await
}

// --- Authorization endpoint: pages ---------------------------------------------------------

async fn authorize_wrong_redirect_uri_is_a_page(c: &Ctx) {
    for uri in [
        EVIL.to_string(),
        format!("{}/", redirect("rp")),
        format!("{}?x=1", redirect("rp")),
        redirect("pub"),
    ] {
        let (p, _) = authz_params("rp", &[("redirect_uri", &uri)]);
        assert_page(&authorize(c, &p).await, "invalid_request");
    }
    // Missing redirect_uri (OIDC Core §3.1.2.1: REQUIRED).
    let (p, _) = authz_params("rp", &[("redirect_uri", "")]);
    assert_page(&authorize(c, &p).await, "invalid_request");
    // Even when every other parameter is also wrong, the page wins over the redirect.
    let (p, _) = authz_params(
        "rp",
        &[
            ("redirect_uri", EVIL),
            ("response_type", "token"),
            ("prompt", "none login"),
        ],
    );
    assert_page(&authorize(c, &p).await, "invalid_request");
}

async fn authorize_unknown_client_is_a_page(c: &Ctx) {
    let (mut p, _) = authz_params("nobody", &[("redirect_uri", EVIL)]);
    assert_page(&authorize(c, &p).await, "invalid_request");
    // A known client's registered URI does not make an unknown client acceptable.
    p[1].1 = redirect("rp");
    assert_page(&authorize(c, &p).await, "invalid_request");
}

async fn authorize_missing_client_id_is_a_page(c: &Ctx) {
    let (p, _) = authz_params("rp", &[("client_id", "")]);
    assert_page(&authorize(c, &p).await, "invalid_request");
    let (p, _) = authz_params("rp", &[("client_id", ""), ("redirect_uri", EVIL)]);
    assert_page(&authorize(c, &p).await, "invalid_request");
}

async fn authorize_oversized_parameter_is_a_page(c: &Ctx) {
    let big = "x".repeat(8 * 1024 + 1);
    let (p, _) = authz_params("rp", &[("login_hint", &big)]);
    let r = authorize(c, &p).await;
    assert_page(&r, "invalid_request");
    assert!(r.body.contains("too long"), "{}", r.body);
}

async fn authorize_repeated_parameter_is_a_page(c: &Ctx) {
    for name in ["state", "redirect_uri", "client_id"] {
        let (mut p, _) = authz_params("rp", &[]);
        let dup = p.iter().find(|(k, _)| k == name).unwrap().clone();
        p.push(dup);
        let r = authorize(c, &p).await;
        assert_page(&r, "invalid_request");
        assert!(r.body.contains("repeated"), "{}", r.body);
        // The same as a form POST (OIDC Core §3.1.2.1 allows POST).
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&p)
            .finish();
        let r = send(
            c,
            c.http
                .post(c.s.url("/authorize"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
        assert_page(&r, "invalid_request");
    }
    // A POSTed authorization request that is not form-encoded.
    let (p, _) = authz_params("rp", &[]);
    let r = send(
        c,
        c.http
            .post(c.s.url("/authorize"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_string(&p).unwrap()),
    )
    .await;
    assert_page(&r, "invalid_request");
}

// --- Authorization endpoint: redirected errors ---------------------------------------------

async fn authorize_public_client_without_code_challenge(c: &Ctx) {
    let (p, _) = authz_params(
        "pub",
        &[("code_challenge", ""), ("code_challenge_method", "")],
    );
    assert_redirect_error(c, &authorize(c, &p).await, "pub", "invalid_request");
}

async fn authorize_plain_code_challenge_method(c: &Ctx) {
    let verifier = pforte::secrets::random_token(32);
    for client in ["pub", "rp"] {
        let (p, _) = authz_params(
            client,
            &[
                ("code_challenge", &verifier),
                ("code_challenge_method", "plain"),
            ],
        );
        assert_redirect_error(c, &authorize(c, &p).await, client, "invalid_request");
    }
    // RFC 7636 §4.3: an absent method means plain, which is not allowed either.
    let (p, _) = authz_params("pub", &[("code_challenge_method", "")]);
    assert_redirect_error(c, &authorize(c, &p).await, "pub", "invalid_request");
}

async fn authorize_unregistered_scope(c: &Ctx) {
    // `payment` is registered for rp, not for pub.
    let (p, _) = authz_params("pub", &[("scope", "openid payment")]);
    assert_redirect_error(c, &authorize(c, &p).await, "pub", "invalid_scope");
    let (p, _) = authz_params("rp", &[("scope", "openid admin")]);
    assert_redirect_error(c, &authorize(c, &p).await, "rp", "invalid_scope");
}

async fn authorize_unsupported_response_type(c: &Ctx) {
    for rt in ["token", "id_token", "code id_token", "code token", "none"] {
        let (p, _) = authz_params("rp", &[("response_type", rt)]);
        assert_redirect_error(
            c,
            &authorize(c, &p).await,
            "rp",
            "unsupported_response_type",
        );
    }
    // A missing response_type is a malformed request instead.
    let (p, _) = authz_params("rp", &[("response_type", "")]);
    assert_redirect_error(c, &authorize(c, &p).await, "rp", "invalid_request");
}

async fn authorize_prompt_none_with_login(c: &Ctx) {
    for prompt in ["none login", "login none", "none consent"] {
        let (p, _) = authz_params("rp", &[("prompt", prompt)]);
        assert_redirect_error(c, &authorize(c, &p).await, "rp", "invalid_request");
    }
    // Also for a logged-in citizen: no code is issued.
    let (p, _) = authz_params("rp", &[("prompt", "none login")]);
    let out = c.browser.get(&authz_url(c, &p)).await;
    assert_eq!(
        out.param("error").as_deref(),
        Some("invalid_request"),
        "{out:?}"
    );
}

async fn authorize_max_age_not_a_number(c: &Ctx) {
    for max_age in ["abc", "-1", "1.5"] {
        let (p, _) = authz_params("rp", &[("max_age", max_age)]);
        assert_redirect_error(c, &authorize(c, &p).await, "rp", "invalid_request");
    }
}

async fn authorize_request_object(c: &Ctx) {
    let (p, _) = authz_params("rp", &[("request", "eyJhbGciOiJub25lIn0.e30.")]);
    assert_redirect_error(c, &authorize(c, &p).await, "rp", "request_not_supported");
    let (p, _) = authz_params("rp", &[("request_uri", "https://rp.example/req/1")]);
    assert_redirect_error(
        c,
        &authorize(c, &p).await,
        "rp",
        "request_uri_not_supported",
    );
}

async fn authorize_unknown_response_mode(c: &Ctx) {
    let (p, _) = authz_params("rp", &[("response_mode", "fragment")]);
    assert_redirect_error(c, &authorize(c, &p).await, "rp", "invalid_request");
}

// --- Code exchange -------------------------------------------------------------------------

async fn pkce_missing_verifier(c: &Ctx) {
    let (code, _) = sso_code(c, "rp", &[]).await;
    assert_json_error(&exchange_rp(c, &code, None).await, 400, "invalid_grant");
}

async fn pkce_wrong_verifier(c: &Ctx) {
    let (code, _) = sso_code(c, "rp", &[]).await;
    let (other, _) = pkce();
    assert_json_error(
        &exchange_rp(c, &code, Some(&other)).await,
        400,
        "invalid_grant",
    );
    // A malformed verifier (too short) as well.
    let (code, _) = sso_code(c, "rp", &[]).await;
    assert_json_error(
        &exchange_rp(c, &code, Some("short")).await,
        400,
        "invalid_grant",
    );
    // Public client, no secret: the same rule.
    let (code, _) = sso_code(c, "pub", &[]).await;
    let r = post_form(
        c,
        "/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "pub"),
            ("code", &code),
            ("redirect_uri", &redirect("pub")),
            ("code_verifier", &other),
        ],
    )
    .await;
    assert_json_error(&r, 400, "invalid_grant");
}

async fn pkce_verifier_without_challenge(c: &Ctx) {
    // PKCE is required of confidential clients too (RFC 9700 §2.1.1): the request without a
    // challenge is refused, so no code exists to downgrade. The legacy opt-out and its
    // downgrade case are in `rfc9700::rfc9700_4_8_pkce_downgrade`.
    let (p, _) = authz_params(
        "rp",
        &[("code_challenge", ""), ("code_challenge_method", "")],
    );
    assert_redirect_error(c, &authorize(c, &p).await, "rp", "invalid_request");
}

async fn code_redirect_uri_mismatch(c: &Ctx) {
    let (code, verifier) = sso_code(c, "rp", &[]).await;
    let other = format!("{}/", redirect("rp"));
    let r = token(
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &other),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_json_error(&r, 400, "invalid_grant");
}

async fn code_issued_to_another_client(c: &Ctx) {
    let (code, verifier) = sso_code(c, "pub", &[]).await;
    let r = token(
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("pub")),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_json_error(&r, 400, "invalid_grant");
}

async fn code_replay_revokes_the_grant(c: &Ctx) {
    let (code, verifier) = sso_code(c, "rp", &[]).await;
    let first = exchange_rp(c, &code, Some(&verifier)).await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let t = first.json();
    let (at, rt) = (s(&t["access_token"]), s(&t["refresh_token"]));
    assert!(active(c, at).await, "control: active before the replay");

    let second = exchange_rp(c, &code, Some(&verifier)).await;
    assert_json_error(&second, 400, "invalid_grant");

    assert!(
        !active(c, at).await,
        "access token revoked after code replay"
    );
    assert!(
        !active(c, rt).await,
        "refresh token revoked after code replay"
    );
    assert_json_error(&refresh(c, rt).await, 400, "invalid_grant");
    let r = send(c, c.http.get(c.s.url("/userinfo")).bearer_auth(at)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
}

async fn refresh_token_reuse_revokes_the_family(c: &Ctx) {
    let t1 = rp_tokens(c).await;
    let (at1, rt1) = (s(&t1["access_token"]), s(&t1["refresh_token"]));
    let r = refresh(c, rt1).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let t2 = r.json();
    let (at2, rt2) = (s(&t2["access_token"]), s(&t2["refresh_token"]));
    assert_ne!(rt1, rt2, "rotated");
    assert!(active(c, at2).await && active(c, rt2).await, "control");

    // The rotated token again: reuse detected.
    assert_json_error(&refresh(c, rt1).await, 400, "invalid_grant");
    // The whole family is gone, the newest refresh token too.
    assert_json_error(&refresh(c, rt2).await, 400, "invalid_grant");
    for at in [at1, at2] {
        assert!(!active(c, at).await, "access token of the family revoked");
    }
    assert!(!active(c, rt2).await);
}

async fn code_expired(c: &Ctx) {
    let (code, verifier) = sso_code(c, "rp", &[]).await;
    c.s.app.clock.advance(2);
    assert_json_error(
        &exchange_rp(c, &code, Some(&verifier)).await,
        400,
        "invalid_grant",
    );
}

// --- Token endpoint: request and client authentication -------------------------------------

async fn unsupported_grant_type(c: &Ctx) {
    for g in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        let r = token(
            c,
            &[("grant_type", g), ("username", "a"), ("password", "b")],
        )
        .await;
        assert_json_error(&r, 400, "unsupported_grant_type");
    }
    // No grant_type at all is malformed.
    assert_json_error(
        &token(c, &[("scope", "payment")]).await,
        400,
        "invalid_request",
    );
}

async fn client_credentials_with_openid(c: &Ctx) {
    for scope in ["openid", "payment openid", "offline_access", "unknown"] {
        let r = token(c, &[("grant_type", "client_credentials"), ("scope", scope)]).await;
        assert_json_error(&r, 400, "invalid_scope");
    }
    // Control.
    let r = token(
        c,
        &[("grant_type", "client_credentials"), ("scope", "payment")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

async fn wrong_secret_basic(c: &Ctx) {
    for (id, secret) in [("rp", "wrong-secret-123"), ("nobody", "whatever-123")] {
        let r = post_form(
            c,
            "/token",
            Some((id, secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_json_error(&r, 401, "invalid_client");
        let ch = r.header(header::WWW_AUTHENTICATE).unwrap_or_default();
        assert!(ch.starts_with("Basic "), "RFC 6749 §5.2 challenge: {r:?}");
        assert!(ch.contains("realm="), "{ch}");
    }
    // A malformed Authorization header is a failed Basic authentication as well.
    let r = send(
        c,
        c.http
            .post(c.s.url("/token"))
            .header(header::AUTHORIZATION, "Basic !!!")
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_json_error(&r, 401, "invalid_client");
    assert!(r
        .header(header::WWW_AUTHENTICATE)
        .is_some_and(|h| h.starts_with("Basic ")));
}

async fn wrong_secret_post(c: &Ctx) {
    // Clients registered with a secret are registered for client_secret_basic; a wrong secret
    // sent in the body is invalid_client whether or not the method itself is accepted
    // (docs/integration-guide.md, "Client authentication").
    let r = post_form(
        c,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "rp"),
            ("client_secret", "wrong-secret-123"),
        ],
    )
    .await;
    assert_json_error(&r, 401, "invalid_client");
    assert!(r
        .header(header::WWW_AUTHENTICATE)
        .is_none_or(|h| h.starts_with("Basic ")));
    // A confidential client without any secret.
    let r = post_form(
        c,
        "/token",
        None,
        &[("grant_type", "client_credentials"), ("client_id", "rp")],
    )
    .await;
    assert_json_error(&r, 401, "invalid_client");
}

async fn two_authentication_methods(c: &Ctx) {
    let r = post_form(
        c,
        "/token",
        Some(("rp", rp_secret())),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "rp"),
            ("client_secret", rp_secret()),
        ],
    )
    .await;
    assert_json_error(&r, 400, "invalid_request");
    let assertion = es256_sign(&c.key, &assertion_claims(c, json!({})));
    let r = post_form(
        c,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "jwt"),
            ("client_secret", "jwt-secret-123"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
    )
    .await;
    assert_json_error(&r, 400, "invalid_request");
}

async fn token_oversized_parameter(c: &Ctx) {
    let big = "x".repeat(8 * 1024 + 1);
    let r = token(c, &[("grant_type", "client_credentials"), ("scope", &big)]).await;
    assert_json_error(&r, 400, "invalid_request");
}

async fn token_repeated_parameter(c: &Ctx) {
    let r = send(
        c,
        c.http
            .post(c.s.url("/token"))
            .basic_auth("rp", Some(rp_secret()))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=payment&grant_type=client_credentials"),
    )
    .await;
    assert_json_error(&r, 400, "invalid_request");
}

async fn token_wrong_content_type(c: &Ctx) {
    for ct in [Some("application/json"), Some("text/plain"), None] {
        let mut req = c
            .http
            .post(c.s.url("/token"))
            .basic_auth("rp", Some(rp_secret()))
            .body(r#"{"grant_type":"client_credentials"}"#);
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        assert_json_error(&send(c, req).await, 400, "invalid_request");
    }
}

async fn token_non_utf8_body(c: &Ctx) {
    let r = send(
        c,
        c.http
            .post(c.s.url("/token"))
            .basic_auth("rp", Some(rp_secret()))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(b"grant_type=client_credentials&scope=\xff\xfe".to_vec()),
    )
    .await;
    assert_json_error(&r, 400, "invalid_request");
}

async fn token_huge_body(c: &Ctx) {
    let body = format!(
        "grant_type=client_credentials&pad={}",
        "x".repeat(100 * 1024)
    );
    for path in ["/token", "/introspect", "/revoke"] {
        let r = send(
            c,
            c.http
                .post(c.s.url(path))
                .basic_auth("rp", Some(rp_secret()))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone()),
        )
        .await;
        assert!(
            r.status == StatusCode::PAYLOAD_TOO_LARGE || r.status == StatusCode::BAD_REQUEST,
            "{path}: {r:?}"
        );
    }
}

// --- private_key_jwt -----------------------------------------------------------------------

async fn private_key_jwt_good_assertion(c: &Ctx) {
    let r = client_credentials_with(c, &es256_sign(&c.key, &assertion_claims(c, json!({})))).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.json()["token_type"], "Bearer");
}

async fn private_key_jwt_wrong_audience(c: &Ctx) {
    // Only the issuer identifier, as a single string (OpenID Foundation advisory on
    // private_key_jwt audience injection, 2025): not an endpoint of this server, not an array.
    for aud in [
        json!("https://other.example/token"),
        json!(c.s.url("/userinfo")),
        json!(c.s.url("/token")),
        json!(c.s.url("/introspect")),
        json!([c.s.issuer, "https://other.example"]),
    ] {
        let claims = assertion_claims(c, json!({ "aud": aud }));
        let r = client_credentials_with(c, &es256_sign(&c.key, &claims)).await;
        assert_json_error(&r, 401, "invalid_client");
    }
}

async fn private_key_jwt_expired(c: &Ctx) {
    let t = now();
    let claims = assertion_claims(c, json!({ "iat": t - 120, "exp": t - 60 }));
    let r = client_credentials_with(c, &es256_sign(&c.key, &claims)).await;
    assert_json_error(&r, 401, "invalid_client");
}

async fn private_key_jwt_jti_replay(c: &Ctx) {
    let jwt = es256_sign(&c.key, &assertion_claims(c, json!({})));
    let r = client_credentials_with(c, &jwt).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = client_credentials_with(c, &jwt).await;
    assert_json_error(&r, 401, "invalid_client");
    // The same jti in a freshly signed assertion as well.
    let jti = pforte::secrets::random_token(16);
    let claims = assertion_claims(c, json!({ "jti": jti }));
    assert_eq!(
        client_credentials_with(c, &es256_sign(&c.key, &claims))
            .await
            .status,
        200
    );
    let claims = assertion_claims(c, json!({ "jti": jti, "exp": now() + 120 }));
    let r = client_credentials_with(c, &es256_sign(&c.key, &claims)).await;
    assert_json_error(&r, 401, "invalid_client");
}

async fn private_key_jwt_lifetime_too_long(c: &Ctx) {
    let claims = assertion_claims(c, json!({ "exp": now() + 3600 }));
    let r = client_credentials_with(c, &es256_sign(&c.key, &claims)).await;
    assert_json_error(&r, 401, "invalid_client");
    // Issued in the future.
    let claims = assertion_claims(c, json!({ "iat": now() + 120 }));
    let r = client_credentials_with(c, &es256_sign(&c.key, &claims)).await;
    assert_json_error(&r, 401, "invalid_client");
}

async fn private_key_jwt_signed_by_another_key(c: &Ctx) {
    let other = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let r = client_credentials_with(c, &es256_sign(&other, &assertion_claims(c, json!({})))).await;
    assert_json_error(&r, 401, "invalid_client");
    // alg=none and a garbage assertion.
    let claims = assertion_claims(c, json!({}));
    let unsigned = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none"}"#),
        B64.encode(claims.to_string())
    );
    for jwt in [unsigned.as_str(), "not-a-jwt"] {
        let r = client_credentials_with(c, jwt).await;
        assert_json_error(&r, 401, "invalid_client");
    }
    // iss/sub naming another client.
    let claims = assertion_claims(c, json!({ "iss": "rp", "sub": "rp" }));
    let r = post_form(
        c,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &es256_sign(&c.key, &claims)),
        ],
    )
    .await;
    assert_json_error(&r, 401, "invalid_client");
}

// --- UserInfo, introspection, revocation, logout -------------------------------------------

async fn userinfo_without_token(c: &Ctx) {
    for req in [
        c.http.get(c.s.url("/userinfo")),
        c.http.post(c.s.url("/userinfo")),
    ] {
        let r = send(c, req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
        // RFC 6750 §3.1: no credentials, no error code in the challenge.
        assert_eq!(
            r.header(header::WWW_AUTHENTICATE),
            Some(r#"Bearer realm="pforte""#)
        );
    }
}

async fn userinfo_garbage_token(c: &Ctx) {
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let r = send(c, c.http.get(c.s.url("/userinfo")).bearer_auth(token)).await;
        assert_json_error(&r, 401, "invalid_token");
        let ch = r.header(header::WWW_AUTHENTICATE).unwrap_or_default();
        assert!(
            ch.starts_with(r#"Bearer realm="pforte", error="invalid_token""#),
            "{ch}"
        );
    }
    // An ID token is not an access token.
    let t = rp_tokens(c).await;
    let r = send(
        c,
        c.http
            .get(c.s.url("/userinfo"))
            .bearer_auth(s(&t["id_token"])),
    )
    .await;
    assert_json_error(&r, 401, "invalid_token");
}

async fn userinfo_revoked_token(c: &Ctx) {
    let t = rp_tokens(c).await;
    let at = s(&t["access_token"]);
    let ok = send(c, c.http.get(c.s.url("/userinfo")).bearer_auth(at)).await;
    assert_eq!(ok.status, StatusCode::OK, "control: {ok:?}");
    let r = post_form(
        c,
        "/revoke",
        Some(("rp", rp_secret())),
        &[("token", at), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = send(c, c.http.get(c.s.url("/userinfo")).bearer_auth(at)).await;
    assert_json_error(&r, 401, "invalid_token");
    assert!(r
        .header(header::WWW_AUTHENTICATE)
        .is_some_and(|h| h.contains(r#"error="invalid_token""#)));
    assert!(!active(c, at).await);
}

async fn userinfo_token_in_query(c: &Ctx) {
    let t = rp_tokens(c).await;
    let url = format!(
        "{}?access_token={}",
        c.s.url("/userinfo"),
        s(&t["access_token"])
    );
    assert_json_error(&send(c, c.http.get(url)).await, 400, "invalid_request");
}

async fn introspection_unauthenticated(c: &Ctx) {
    let t = rp_tokens(c).await;
    let at = s(&t["access_token"]);
    let r = post_form(c, "/introspect", None, &[("token", at)]).await;
    assert_json_error(&r, 401, "invalid_client");
    assert!(
        r.body.find("\"active\"").is_none(),
        "nothing about the token: {r:?}"
    );
    // A public client cannot introspect either (no authentication at all).
    let r = post_form(
        c,
        "/introspect",
        None,
        &[("client_id", "pub"), ("token", at)],
    )
    .await;
    assert_eq!(r.status.as_u16(), 401, "{r:?}");
    assert_eq!(r.json()["error"], "invalid_client");
    // Wrong secret.
    let r = post_form(
        c,
        "/introspect",
        Some(("rp", "nope-nope-nope")),
        &[("token", at)],
    )
    .await;
    assert_json_error(&r, 401, "invalid_client");
    assert!(r
        .header(header::WWW_AUTHENTICATE)
        .is_some_and(|h| h.starts_with("Basic ")));
}

async fn introspection_of_garbage(c: &Ctx) {
    for (token, hint) in [
        ("garbage", None),
        ("a.b.c", Some("access_token")),
        ("garbage", Some("refresh_token")),
    ] {
        let mut form = vec![("token", token)];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        let r = post_form(c, "/introspect", Some(("rp", rp_secret())), &form).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.json(), json!({ "active": false }));
    }
    // A token parameter is required.
    let r = post_form(c, "/introspect", Some(("rp", rp_secret())), &[]).await;
    assert_json_error(&r, 400, "invalid_request");
}

async fn revocation_of_unknown_token(c: &Ctx) {
    for hint in [None, Some("access_token"), Some("refresh_token")] {
        let mut form = vec![("token", "unknown-token")];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        let r = post_form(c, "/revoke", Some(("rp", rp_secret())), &form).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    // Unauthenticated revocation is refused.
    let r = post_form(
        c,
        "/revoke",
        Some(("nobody", "nope-nope-nope")),
        &[("token", "x")],
    )
    .await;
    assert_json_error(&r, 401, "invalid_client");
}

async fn revocation_unsupported_token_type_hint(c: &Ctx) {
    let r = post_form(
        c,
        "/revoke",
        Some(("rp", rp_secret())),
        &[("token", "whatever"), ("token_type_hint", "id_token")],
    )
    .await;
    assert_json_error(&r, 400, "unsupported_token_type");
}

async fn logout_unregistered_post_logout_redirect_uri(c: &Ctx) {
    let t = rp_tokens(c).await;
    let bye = format!("{}/", registered_uris()[2]);
    for q in [
        vec![("client_id", "rp"), ("post_logout_redirect_uri", EVIL)],
        vec![
            ("client_id", "rp"),
            ("post_logout_redirect_uri", bye.as_str()),
        ],
        vec![
            ("id_token_hint", s(&t["id_token"])),
            ("post_logout_redirect_uri", EVIL),
        ],
        vec![("client_id", "nobody"), ("post_logout_redirect_uri", EVIL)],
        vec![("post_logout_redirect_uri", EVIL)],
    ] {
        let mut u = url::Url::parse(&c.s.url("/logout")).unwrap();
        u.query_pairs_mut()
            .extend_pairs(q.iter())
            .append_pair("state", "st-1");
        let r = send(c, c.http.get(u.as_str())).await;
        assert_page(&r, "invalid_request");
        // Also through the logged-in browser (which would otherwise see a confirmation page).
        let out = c.browser.get(u.as_str()).await;
        assert!(
            matches!(&out, Outcome::Page { status, .. } if *status == StatusCode::BAD_REQUEST),
            "{out:?}"
        );
    }
}
