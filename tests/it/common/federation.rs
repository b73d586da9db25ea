//! Helpers of the federation tests (issue 8, `tests/it/federation/`): the upstream OpenID
//! providers as separate processes on loopback (a second `pforte serve` as Servicekonto.NRW,
//! panva's oidc-provider as the eID service in tests/peers/eid-op), the `pforte` binary as an
//! operator runs it, a cookie-keeping browser that walks across Pforte and the upstreams, and
//! the small page and token readers those tests share.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub use super::account::{select_text, status};
use super::{child::free_port, exchange, payload, tempdir, Outcome, TestServer, PASSWORD};
use pforte::{
    admin::{self, NewClient},
    audit::Actor,
};
use reqwest::StatusCode;
use serde_json::Value;

// --- processes --------------------------------------------------------------------------------

/// A child process killed on drop.
pub struct Proc {
    child: Child,
    name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `cmd` (named `name` in failures) and waits until `ready_url` answers 2xx.
    pub async fn start(mut cmd: Command, name: &'static str, ready_url: &str) -> Proc {
        let mut proc = Proc {
            child: cmd.spawn().unwrap_or_else(|e| panic!("start {name}: {e}")),
            name,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(ready_url).send().await {
                if r.status().is_success() {
                    return proc;
                }
            }
            if let Ok(Some(status)) = proc.child.try_wait() {
                panic!("{} exited early: {status}", proc.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not come up at {ready_url}",
                proc.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// [`super::ops::run_pforte`] that must succeed; its standard output.
pub fn pforte_cli<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
    env: &[(K, V)],
    args: &[&str],
    stdin: Option<&str>,
) -> String {
    let o = super::ops::run_pforte(env, args, stdin);
    assert!(
        o.status.success(),
        "pforte {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The environment an operator's CLI needs to act on `server`'s database.
pub fn cli_env(server: &TestServer) -> Vec<(String, String)> {
    vec![
        ("PFORTE_ISSUER".into(), server.issuer.clone()),
        ("PFORTE_DATABASE_URL".into(), server.db_url().to_string()),
        (
            "PFORTE_KEYS_ENCRYPTION_KEY".into(),
            server.kek().to_string(),
        ),
    ]
}

// --- Servicekonto.NRW: a second Pforte --------------------------------------------------------

/// A second Pforte as the Servicekonto.NRW upstream.
pub struct UpstreamPforte {
    pub issuer: String,
    _proc: Proc,
    _dir: tempdir::Dir,
}

pub const SK_CLIENT: &str = "pforte-downstream";
pub const SK_SECRET: &str = "downstream-secret-at-the-servicekonto";
pub const SK_EMAIL: &str = "jana.beispiel@example.de";

impl UpstreamPforte {
    /// Its own SQLite file, KEK, port and keys; the downstream registered as client
    /// `SK_CLIENT`, a citizen `SK_EMAIL` proofed substantial there.
    pub async fn start(downstream: &TestServer) -> UpstreamPforte {
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        let dir = tempdir::Dir::new(&format!(
            "pforte-upstream-{}-{}",
            std::process::id(),
            pforte::secrets::random_token(4).replace(['-', '_'], "x")
        ));
        let env: Vec<(String, String)> = vec![
            ("PFORTE_ISSUER".into(), issuer.clone()),
            ("PFORTE_LISTEN".into(), format!("127.0.0.1:{port}")),
            (
                "PFORTE_DATABASE_URL".into(),
                format!("sqlite://{}/upstream.db", dir.path.display()),
            ),
            (
                "PFORTE_KEYS_ENCRYPTION_KEY".into(),
                pforte::tokens::keys::Kek::generate_base64(),
            ),
            // Both Pfortes live on 127.0.0.1: cookies do not tell ports apart.
            (
                "PFORTE_SESSION_COOKIE_NAME".into(),
                "servicekonto_session".into(),
            ),
        ];
        let redirect = format!("{}/upstream/sk/callback", downstream.issuer);
        let bye = format!("{}/logout/upstream-done", downstream.issuer);
        let mut args = vec![
            "client",
            "add",
            "--id",
            SK_CLIENT,
            "--secret",
            SK_SECRET,
            "--redirect-uri",
            &redirect,
            "--post-logout-redirect-uri",
            &bye,
            "--name",
            "Pforte der Stadt Werne",
        ];
        for s in ["openid", "profile", "email", "address"] {
            args.extend(["--scope", s]);
        }
        pforte_cli(&env, &args, None);
        pforte_cli(
            &env,
            &[
                "account",
                "add",
                "--email",
                SK_EMAIL,
                "--password-stdin",
                "--given-name",
                "Jana",
                "--family-name",
                "Beispiel",
            ],
            Some(PASSWORD),
        );
        pforte_cli(
            &env,
            &[
                "account",
                "proof",
                "--email",
                SK_EMAIL,
                "--level",
                "substantial",
                "--evidence",
                "Personalausweis im Bürgerbüro geprüft",
            ],
            None,
        );
        let mut cmd = super::ops::pforte_command(&env);
        cmd.env("RUST_LOG", "warn")
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let proc = Proc::start(cmd, "upstream pforte", &format!("{issuer}/healthz")).await;
        UpstreamPforte {
            issuer,
            _proc: proc,
            _dir: dir,
        }
    }
}

// --- eID: panva's oidc-provider ---------------------------------------------------------------

/// panva's oidc-provider as the eID source.
pub struct EidOp {
    pub issuer: String,
    _proc: Proc,
}

pub const EID_CLIENT: &str = "pforte-werne";
pub const EID_SECRET: &str = "eid-client-secret-of-werne";

impl EidOp {
    /// The peer with Pforte's client `EID_CLIENT` (redirect URI of source `eid`), `extra_env`
    /// on top (tests/peers/eid-op/eid-op.mjs names the variables).
    pub async fn start(downstream: &TestServer, extra_env: &[(&str, &str)]) -> EidOp {
        let port = free_port();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/eid-op");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "run `npm ci` in tests/peers/eid-op first (.ci/run does)"
        );
        let mut cmd = Command::new(std::env::var("PFORTE_TEST_NODE").unwrap_or("node".into()));
        cmd.current_dir(dir)
            .arg("eid-op.mjs")
            .env("PORT", port.to_string())
            .env("CLIENT_ID", EID_CLIENT)
            .env("CLIENT_SECRET", EID_SECRET)
            .env(
                "REDIRECT_URI",
                format!("{}/upstream/eid/callback", downstream.issuer),
            )
            .env(
                "POST_LOGOUT_REDIRECT_URI",
                format!("{}/logout/upstream-done", downstream.issuer),
            )
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let issuer = format!("http://127.0.0.1:{port}");
        let ready = format!("{issuer}/.well-known/openid-configuration");
        let proc = Proc::start(cmd, "eid-op (node eid-op.mjs, Node.js 20)", &ready).await;
        EidOp {
            issuer,
            _proc: proc,
        }
    }
}

/// Registers the peer as source `id` (profile `eid`) through the CLI, as an operator would
/// (contract.md); `extra`: the client authentication and further flags.
pub fn register_eid_as(server: &TestServer, op: &EidOp, id: &str, extra: &[&str]) {
    let mut args = vec![
        "upstream",
        "add",
        "--id",
        id,
        "--profile",
        "eid",
        "--issuer",
        &op.issuer,
        "--client-id",
        EID_CLIENT,
        "--name",
        "Online-Ausweis",
        "--userinfo",
    ];
    args.extend(extra);
    let out = pforte_cli(&cli_env(server), &args, None);
    assert!(out.contains(&format!("/upstream/{id}/callback")), "{out}");
}

/// The peer as source `eid` with its client secret and upstream logout.
pub async fn register_eid(server: &TestServer, op: &EidOp) {
    register_eid_as(
        server,
        op,
        "eid",
        &["--client-secret", EID_SECRET, "--end-session"],
    );
}

/// At the eID peer: pick the test card and confirm the PIN.
pub async fn eid_pin(w: &Walker, page: &Outcome, card: &str) -> Outcome {
    assert!(
        page_url(page).path().starts_with("/interaction/"),
        "expected the eID page: {page:?}"
    );
    let mut out = w
        .submit(page, "form[action$=\"/login\"]", &[("card", card)])
        .await;
    // Another card than the one of the peer's session: oidc-provider ends that session first
    // with a self-submitting form (a browser without JavaScript presses its button).
    while matches!(&out, Outcome::Page { html, .. } if html.contains("/session/end/confirm")) {
        out = w
            .submit(&out, "form[action$=\"/session/end/confirm\"]", &[])
            .await;
    }
    out
}

// --- a browser across origins -----------------------------------------------------------------

/// Keeps cookies, follows redirects across Pforte and the upstreams, stops at the client
/// (`127.0.0.1:9999`).
pub struct Walker {
    pub http: reqwest::Client,
}

impl Default for Walker {
    fn default() -> Self {
        Self::new()
    }
}

impl Walker {
    pub fn new() -> Walker {
        Walker {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Follows redirects across origins; stops at the client (port 9999).
    pub async fn follow(&self, resp: reqwest::Response) -> Outcome {
        super::follow_redirects(&self.http, resp, 20, |u| u.port() == Some(9999)).await
    }

    pub async fn get(&self, url: &str) -> Outcome {
        let r = self.http.get(url).send().await.unwrap();
        self.follow(r).await
    }

    /// Submits the form matched by `selector` in `page`, with its inputs' values and `extra`.
    pub async fn submit(&self, page: &Outcome, selector: &str, extra: &[(&str, &str)]) -> Outcome {
        let Outcome::Page { url, html, .. } = page else {
            panic!("expected a page, got {page:?}")
        };
        let doc = scraper::Html::parse_document(html);
        let sel = scraper::Selector::parse(selector).unwrap();
        let form = doc
            .select(&sel)
            .next()
            .unwrap_or_else(|| panic!("no form {selector} in {url}:\n{html}"));
        let action = form.value().attr("action").unwrap_or("");
        let target = url::Url::parse(url).unwrap().join(action).unwrap();
        let inputs = scraper::Selector::parse("input[name]").unwrap();
        let mut fields: Vec<(String, String)> = form
            .select(&inputs)
            .map(|i| {
                (
                    i.value().attr("name").unwrap().to_string(),
                    i.value().attr("value").unwrap_or("").to_string(),
                )
            })
            .collect();
        for (k, v) in extra {
            fields.retain(|(n, _)| n != k);
            fields.push((k.to_string(), v.to_string()));
        }
        let r = self.http.post(target).form(&fields).send().await.unwrap();
        self.follow(r).await
    }

    /// Consents at the downstream Pforte if asked.
    pub async fn consent_if_asked(&self, out: Outcome) -> Outcome {
        if out.is_page("/consent") {
            self.submit(&out, "form[action=\"/consent\"]", &[("decision", "allow")])
                .await
        } else {
            out
        }
    }

    /// Presses "Mit … anmelden/bestätigen/verknüpfen" of `source` on `page`: to the upstream.
    pub async fn start_at(&self, page: &Outcome, source: &str) -> Outcome {
        let form = format!("form[action=\"/upstream/{source}/start\"]");
        self.submit(page, &form, &[]).await
    }

    /// Starts an authorization request of `client_id` and chooses `source` on the login page;
    /// returns where that led and the PKCE verifier.
    pub async fn login_at(
        &self,
        server: &TestServer,
        client_id: &str,
        extra: &[(&str, &str)],
        source: &str,
    ) -> (Outcome, String) {
        let (url, verifier) = super::authorize_url(server, client_id, extra);
        let page = self.get(&url).await;
        (self.start_at(&page, source).await, verifier)
    }

    /// An eID login of `card` through `source` for `rp`: back at the client with a code.
    pub async fn eid_login(
        &self,
        server: &TestServer,
        extra: &[(&str, &str)],
        source: &str,
        card: &str,
    ) -> (Outcome, String) {
        let (at_eid, verifier) = self.login_at(server, "rp", extra, source).await;
        let out = eid_pin(self, &at_eid, card).await;
        (self.consent_if_asked(out).await, verifier)
    }

    /// The logged-in citizen confirms linking `source` and shows `card` there: linked.
    pub async fn link_eid(&self, server: &TestServer, source: &str, card: &str) {
        let confirm = self
            .get(&server.url(&format!("/upstream/{source}/link")))
            .await;
        let at_eid = self.start_at(&confirm, source).await;
        let out = eid_pin(self, &at_eid, card).await;
        assert!(
            out.html().contains("jetzt mit Ihrem Konto verknüpft"),
            "{out:?}"
        );
    }

    /// Answers the step-up page `page` with the authenticator app's code (step + `offset`).
    pub async fn totp(&self, page: &Outcome, seed: &[u8], offset: i64) -> Outcome {
        let code = totp_now(seed, offset);
        self.submit(page, "form[action=\"/stepup/totp\"]", &[("code", &code)])
            .await
    }

    /// Logs in with e-mail and password on the login page `page` (of the server the page is on).
    pub async fn password(&self, page: &Outcome, email: &str) -> Outcome {
        self.submit(
            page,
            "form[action=\"/login\"]",
            &[("email", email), ("password", PASSWORD)],
        )
        .await
    }
}

// --- readers ----------------------------------------------------------------------------------

pub fn page_url(o: &Outcome) -> url::Url {
    match o {
        Outcome::Page { url, .. } => url::Url::parse(url).unwrap(),
        Outcome::Callback { url } => url.clone(),
    }
}

/// (accounts, linked identities) on `server`: a failure must leave both as they were.
pub async fn counts(server: &TestServer) -> (usize, i64) {
    (
        server.app.db.account_list().await.unwrap().len(),
        server.app.db.identity_count().await.unwrap(),
    )
}

/// The newest `n` audit entries of `event` on `server`, newest first.
pub async fn audited(
    server: &TestServer,
    event: &str,
    n: i64,
) -> Vec<pforte::store::audit::AuditEvent> {
    server.app.db.audit_list(Some(event), n).await.unwrap()
}

/// A confidential third-party client `rp` (consent needed, secret `rp-secret-123`) of the
/// downstream Pforte, offering the `upstreams` given (all when `None`).
pub async fn downstream_client(server: &TestServer, upstreams: Option<Vec<String>>) {
    server
        .add_client(NewClient {
            id: "rp".into(),
            secret: Some("rp-secret-123".into()),
            redirect_uris: vec![super::redirect("rp")],
            post_logout_redirect_uris: vec!["http://127.0.0.1:9999/rp/bye".into()],
            scopes: ["openid", "profile", "email", "address"]
                .map(String::from)
                .to_vec(),
            name: Some("Wunschkennzeichen".into()),
            ..Default::default()
        })
        .await;
    if upstreams.is_some() {
        admin::set_client_methods(&server.app.db, &Actor::Cli, "rp", None, upstreams)
            .await
            .unwrap();
    }
}

/// The token response for the code in `out` (client `client_id`, secret `{id}-secret-123`).
pub async fn token_body(
    server: &TestServer,
    client_id: &str,
    out: &Outcome,
    verifier: &str,
) -> Value {
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (st, body) = exchange(server, client_id, &code, verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

/// The ID token of the code in `out` (client `rp`).
pub async fn id_token(server: &TestServer, out: &Outcome, verifier: &str) -> Value {
    payload(
        token_body(server, "rp", out, verifier).await["id_token"]
            .as_str()
            .unwrap(),
    )
}

pub use super::attack::userinfo;

/// The TOTP code of the current step plus `offset` (the upstream runs on the real clock).
pub fn totp_now(seed: &[u8], offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    pforte::accounts::totp::code_at(seed, pforte::accounts::totp::step_of(now) + offset)
}

/// Sets up an authenticator app for the citizen logged in in `w` at `base` (a Pforte);
/// returns its seed.
pub async fn enrol_totp(w: &Walker, base: &str) -> Vec<u8> {
    let setup = w.get(&format!("{base}/account/security/totp")).await;
    let secret = select_text(setup.html(), "#totp-secret").remove(0);
    let seed = super::base32_decode(&secret);
    let done = w
        .submit(
            &setup,
            "form[action=\"/account/security/totp\"]",
            &[("code", &totp_now(&seed, 0))],
        )
        .await;
    assert_eq!(status(&done), StatusCode::OK, "{done:?}");
    seed
}
