//! Test harness: a real Pforte on a random loopback port, on SQLite or on a fresh PostgreSQL
//! database, and a cookie-keeping "browser" that walks the real login pages.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use pforte::{
    accounts::NewAccount,
    admin::{self, NewClient},
    clock::Clock,
    config::Config,
    server::{self, Running},
    App,
};
use reqwest::{header, StatusCode};
use tokio::net::TcpListener;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

pub mod account;
#[path = "admin.rs"]
pub mod admin_kit;
pub mod attack;
pub mod child;
pub mod federation;
pub mod ops;
pub mod pgtemp;
pub mod speed;

/// PostgreSQL server for tests: `PFORTE_TEST_PG_URL` when set, else a throwaway server the
/// tests start themselves ([`pgtemp`]).
pub fn pg_admin_url() -> String {
    pgtemp::admin_url()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database URL for one test server.
pub async fn fresh_db(backend: Backend) -> (String, Option<tempdir::Dir>) {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let tag = format!(
        "{}_{}_{}",
        std::process::id(),
        n,
        pforte::secrets::random_token(4)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    match backend {
        Backend::Sqlite => {
            let dir = tempdir::Dir::new(&format!("pforte-test-{tag}"));
            (
                format!("sqlite://{}/pforte.db", dir.path.display()),
                Some(dir),
            )
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = pg_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("PostgreSQL for tests at PFORTE_TEST_PG_URL");
            let name = format!("pforte_test_{tag}");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&format!("/{name}"));
            (url.to_string(), None)
        }
    }
}

pub mod tempdir {
    /// A temporary folder removed on drop.
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A running Pforte for one test.
pub struct TestServer {
    pub backend: Backend,
    pub issuer: String,
    pub app: App,
    pub port: u16,
    db_url: String,
    kek: String,
    running: Option<Running>,
    _dir: Option<tempdir::Dir>,
}

pub fn config(issuer: &str, db_url: &str, kek: &str) -> Config {
    let env = vec![
        ("PFORTE_ISSUER".to_string(), issuer.to_string()),
        (
            "PFORTE_LISTEN".to_string(),
            issuer.trim_start_matches("http://").to_string(),
        ),
        ("PFORTE_DATABASE_URL".to_string(), db_url.to_string()),
        ("PFORTE_KEYS_ENCRYPTION_KEY".to_string(), kek.to_string()),
        (
            "PFORTE_DATABASE_MAX_CONNECTIONS".to_string(),
            "8".to_string(),
        ),
    ];
    Config::load_from(None, env).expect("test config")
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts with a config adjusted by `tweak`.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_with_clock(backend, Clock::system(), tweak).await
    }

    /// Starts on a manual clock set to the current time: the test moves time with
    /// `server.app.clock.advance(secs)` instead of sleeping.
    pub async fn start_manual_clock(
        backend: Backend,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        Self::start_with_clock(backend, Clock::manual_from_system(), tweak).await
    }

    /// Starts with a config adjusted by `tweak`, reading time from `clock`.
    pub async fn start_with_clock(
        backend: Backend,
        clock: Clock,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let (db_url, dir) = fresh_db(backend).await;
        let kek = pforte::tokens::keys::Kek::generate_base64();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut cfg = config(&issuer, &db_url, &kek);
        tweak(&mut cfg);
        let app = App::open_with_clock(cfg, clock).await.expect("open app");
        let running = server::spawn(app.clone(), listener).unwrap();
        TestServer {
            backend,
            issuer,
            app,
            port,
            db_url,
            kek,
            running: Some(running),
            _dir: dir,
        }
    }

    /// Stops the server and starts a new process-equivalent on the same database and port.
    pub async fn restart(mut self) -> TestServer {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.app.db.pool.close().await;
        let cfg = config(&self.issuer, &self.db_url, &self.kek);
        let app = App::open_with_clock(cfg, self.app.clock.clone())
            .await
            .expect("reopen app");
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind port");
        let running = server::spawn(app.clone(), listener).unwrap();
        TestServer {
            app,
            running: Some(running),
            ..self
        }
    }

    /// The database URL this server runs on (for a second instance or direct SQL).
    pub fn db_url(&self) -> &str {
        &self.db_url
    }

    /// The key-encryption key (base64) this server was started with.
    pub fn kek(&self) -> &str {
        &self.kek
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    pub async fn add_client(&self, c: NewClient) {
        admin::register_client(
            &self.app.db,
            &self.app.hasher,
            &pforte::audit::Actor::Cli,
            c,
        )
        .await
        .expect("register client");
    }

    /// A confidential client `id` with secret `{id}-secret-123` and redirect `http://127.0.0.1:9999/{id}/cb`.
    pub async fn confidential(&self, id: &str, first_party: bool) {
        self.add_client(NewClient {
            id: id.into(),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            post_logout_redirect_uris: vec![format!("http://127.0.0.1:9999/{id}/bye")],
            grant_types: vec![
                "authorization_code".into(),
                "refresh_token".into(),
                "client_credentials".into(),
            ],
            scopes: [
                "openid",
                "profile",
                "email",
                "address",
                "offline_access",
                "payment",
            ]
            .map(String::from)
            .to_vec(),
            first_party,
            ..Default::default()
        })
        .await;
    }

    /// A public client (PKCE, no secret).
    pub async fn public(&self, id: &str) {
        self.add_client(NewClient {
            id: id.into(),
            redirect_uris: vec![redirect(id)],
            scopes: ["openid", "profile", "email"].map(String::from).to_vec(),
            first_party: true,
            ..Default::default()
        })
        .await;
    }

    pub async fn citizen(&self, email: &str, password: &str) -> String {
        admin::add_account(
            &self.app.db,
            &self.app.hasher,
            &pforte::audit::Actor::Cli,
            NewAccount {
                email: email.into(),
                password: password.into(),
                given_name: Some("Anna".into()),
                family_name: Some("Schmidt".into()),
                email_verified: true,
            },
            12,
        )
        .await
        .expect("add account")
        .id
    }
}

pub fn redirect(client_id: &str) -> String {
    format!("http://127.0.0.1:9999/{client_id}/cb")
}

pub const PASSWORD: &str = "correct horse battery staple";

/// What a walk through the authorization endpoint ended in.
#[derive(Debug)]
pub enum Outcome {
    /// A page on Pforte (login, consent, error…).
    Page {
        status: StatusCode,
        url: String,
        html: String,
    },
    /// A redirect to the client with these query parameters.
    Callback { url: url::Url },
}

impl Outcome {
    pub fn param(&self, name: &str) -> Option<String> {
        match self {
            Outcome::Callback { url } => url
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned()),
            _ => None,
        }
    }
    pub fn html(&self) -> &str {
        match self {
            Outcome::Page { html, .. } => html,
            _ => panic!("expected a page, got {self:?}"),
        }
    }
    pub fn is_page(&self, path: &str) -> bool {
        matches!(self, Outcome::Page { url, .. } if url::Url::parse(url).is_ok_and(|u| u.path() == path))
    }
}

/// A browser: keeps cookies, follows redirects on Pforte, stops at the client.
pub struct Browser {
    pub http: reqwest::Client,
    issuer: String,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            issuer: server.issuer.clone(),
        }
    }

    async fn follow(&self, resp: reqwest::Response) -> Outcome {
        let off_pforte = |u: &url::Url| !u.as_str().starts_with(&self.issuer);
        follow_redirects(&self.http, resp, 10, off_pforte).await
    }

    pub async fn get(&self, url: &str) -> Outcome {
        let r = self.http.get(url).send().await.unwrap();
        self.follow(r).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Outcome {
        let r = self.http.post(url).form(form).send().await.unwrap();
        self.follow(r).await
    }

    /// Submits the login form shown in `page`.
    pub async fn login(&self, page: &Outcome, email: &str, password: &str) -> Outcome {
        let html = page.html();
        let csrf = hidden(html, "csrf");
        let req = hidden(html, "req");
        self.post_form(
            &format!("{}/login", self.issuer),
            &[
                ("csrf", &csrf),
                ("req", &req),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Answers the consent page.
    pub async fn consent(&self, page: &Outcome, allow: bool) -> Outcome {
        let html = page.html();
        let csrf = hidden(html, "csrf");
        let req = hidden(html, "req");
        let decision = if allow { "allow" } else { "deny" };
        self.post_form(
            &format!("{}/consent", self.issuer),
            &[("csrf", &csrf), ("req", &req), ("decision", decision)],
        )
        .await
    }
}

/// Follows the redirects from `resp` (at most `hops`) with `http`, up to a page or to the
/// first redirect that `at_client` says leads to the client.
pub async fn follow_redirects(
    http: &reqwest::Client,
    mut resp: reqwest::Response,
    hops: usize,
    at_client: impl Fn(&url::Url) -> bool,
) -> Outcome {
    for _ in 0..hops {
        let status = resp.status();
        let url = resp.url().to_string();
        if status.is_redirection() {
            let loc = resp
                .headers()
                .get(header::LOCATION)
                .expect("Location")
                .to_str()
                .unwrap()
                .to_string();
            let next = url::Url::parse(&url).unwrap().join(&loc).unwrap();
            if at_client(&next) {
                return Outcome::Callback { url: next };
            }
            resp = http.get(next).send().await.unwrap();
            continue;
        }
        let html = resp.text().await.unwrap();
        return Outcome::Page { status, url, html };
    }
    panic!("redirect loop");
}

/// The decoded payload of a JWT (no signature check: the tests look at what was issued).
pub fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let p = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_else(|| panic!("no input {name} in page:\n{html}"))
        .to_string()
}

/// PKCE pair (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = pforte::secrets::random_token(32);
    let challenge = pforte::secrets::pkce_s256(&verifier);
    (verifier, challenge)
}

/// An authorization URL for `client_id` with PKCE; returns (url, verifier).
pub fn authorize_url(
    server: &TestServer,
    client_id: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut u = url::Url::parse(&server.url("/authorize")).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("client_id", client_id)
            .append_pair("redirect_uri", &redirect(client_id))
            .append_pair("response_type", "code")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "st-123")
            .append_pair("nonce", "n-456");
        if !extra.iter().any(|(k, _)| *k == "scope") {
            q.append_pair("scope", "openid profile email");
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    (u.to_string(), verifier)
}

/// Exchanges a code with client_secret_basic; returns (status, JSON body).
pub async fn exchange(
    server: &TestServer,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, serde_json::Value) {
    token_request(
        server,
        Some((client_id, &format!("{client_id}-secret-123"))),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect(client_id)),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// A token endpoint request with optional Basic credentials.
pub async fn token_request(
    server: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let mut req = reqwest::Client::new().post(server.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Logs a citizen in through `client_id` (a first-party client) and returns the code and verifier.
pub async fn login_code(
    server: &TestServer,
    browser: &Browser,
    client_id: &str,
    email: &str,
) -> (String, String) {
    let (url, verifier) = authorize_url(server, client_id, &[]);
    let page = browser.get(&url).await;
    let out = match page {
        Outcome::Page { .. } if page.is_page("/login") => {
            browser.login(&page, email, PASSWORD).await
        }
        other => other,
    };
    let out = if out.is_page("/consent") {
        browser.consent(&out, true).await
    } else {
        out
    };
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    (code, verifier)
}

/// The public JWK of a P-256 key (uncompressed point 0x04 ‖ x ‖ y), for private_key_jwt clients.
pub fn es256_jwk(key: &aws_lc_rs::signature::EcdsaKeyPair, kid: &str) -> serde_json::Value {
    use aws_lc_rs::signature::KeyPair;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
    let point = key.public_key().as_ref();
    assert_eq!((point.len(), point[0]), (65, 4));
    serde_json::json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
        "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..]),
    })
}

/// A compact JWS, ES256, kid `k1`, signed by hand (so tests control every field).
pub fn es256_sign(key: &aws_lc_rs::signature::EcdsaKeyPair, claims: &serde_json::Value) -> String {
    es256_sign_kid(key, "k1", claims)
}

/// [`es256_sign`] with a chosen `kid`.
pub fn es256_sign_kid(
    key: &aws_lc_rs::signature::EcdsaKeyPair,
    kid: &str,
    claims: &serde_json::Value,
) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
    let header = serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": kid });
    let msg = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key
        .sign(&aws_lc_rs::rand::SystemRandom::new(), msg.as_bytes())
        .unwrap();
    format!("{msg}.{}", B64.encode(sig.as_ref()))
}

/// RFC 4648 base32 (a TOTP secret as the set-up page shows it, spaces allowed): the test's
/// own authenticator app, independent of the server's implementation.
pub fn base32_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u64, 0);
    for c in s.chars().filter(|c| c.is_ascii_alphanumeric()) {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            .find(c.to_ascii_uppercase())
            .expect("base32") as u64;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// RFC 4226 HOTP (six digits) for `counter`; with the RFC 6238 time step it is the TOTP code.
pub fn hotp(key: &[u8], counter: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0xf) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{n:06}")
}
