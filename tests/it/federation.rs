//! Federation (issue 8): logging in to Pforte through upstream OpenID providers running as
//! separate processes on loopback, and carrying their level into Pforte's tokens.
//!
//! - `servicekonto-nrw`: a second Pforte process (`pforte serve` with its own SQLite file,
//!   KEK, port and keys), its client registered with `pforte client add`, a citizen with
//!   `pforte account add` and `pforte account proof --level substantial`, who sets up TOTP
//!   there so its tokens can carry substantial.
//! - `eid`: panva's oidc-provider (tests/peers/eid-op, `npm ci` in .ci/run) as an eID service:
//!   the RestrictedID as `sub`, the chip's claims, acr eIDAS high; registered with the
//!   `pforte upstream add` CLI.
//! - Tampering (bad signature, unknown key, wrong iss/aud, nonce mismatch, missing sub, low acr,
//!   slow answers, error answers, replayed and forged callbacks): a hostile OP served by the test
//!   itself; after each failure the page is readable and no account or link was added.

use std::{
    io::Write,
    net::TcpListener as StdListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::common::*;
use pforte::{
    admin::{self, NewClient, NewUpstream},
    audit::Actor,
};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

// --- processes --------------------------------------------------------------------------------

/// A child process killed on drop.
struct Proc {
    child: Child,
    name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(url: &str, proc: &mut Proc) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            panic!("{} exited early: {status}", proc.name);
        }
        assert!(
            Instant::now() < deadline,
            "{} did not come up at {url}",
            proc.name
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A second Pforte as the Servicekonto.NRW upstream.
struct UpstreamPforte {
    issuer: String,
    _env: Vec<(String, String)>,
    _proc: Proc,
    _dir: tempdir::Dir,
}

const SK_CLIENT: &str = "pforte-downstream";
const SK_SECRET: &str = "downstream-secret-at-the-servicekonto";
const SK_EMAIL: &str = "jana.beispiel@example.de";

fn pforte_cli(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pforte"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PFORTE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run pforte");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "pforte {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

impl UpstreamPforte {
    async fn start(downstream: &TestServer) -> UpstreamPforte {
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
        pforte_cli(
            &env,
            &[
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
                "--scope",
                "openid",
                "--scope",
                "profile",
                "--scope",
                "email",
                "--scope",
                "address",
                "--name",
                "Pforte der Stadt Werne",
            ],
            None,
        );
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
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pforte"));
        for (k, _) in std::env::vars() {
            if k.starts_with("PFORTE_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "warn")
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut proc = Proc {
            child: cmd.spawn().expect("pforte serve"),
            name: "upstream pforte",
        };
        wait_ready(&format!("{issuer}/healthz"), &mut proc).await;
        UpstreamPforte {
            issuer,
            _env: env,
            _proc: proc,
            _dir: dir,
        }
    }
}

/// panva's oidc-provider as the eID source.
struct EidOp {
    issuer: String,
    _proc: Proc,
}

const EID_CLIENT: &str = "pforte-werne";
const EID_SECRET: &str = "eid-client-secret-of-werne";

impl EidOp {
    async fn start(downstream: &TestServer, extra_env: &[(&str, &str)]) -> EidOp {
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
        let mut proc = Proc {
            child: cmd.spawn().expect("node eid-op.mjs (Node.js 20)"),
            name: "eid-op",
        };
        let issuer = format!("http://127.0.0.1:{port}");
        wait_ready(
            &format!("{issuer}/.well-known/openid-configuration"),
            &mut proc,
        )
        .await;
        EidOp {
            issuer,
            _proc: proc,
        }
    }
}

// --- a browser across origins -----------------------------------------------------------------

/// Keeps cookies, follows redirects across Pforte and the upstreams, stops at the client
/// (`127.0.0.1:9999`).
struct Walker {
    http: reqwest::Client,
}

impl Walker {
    fn new() -> Walker {
        Walker {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn follow(&self, mut resp: reqwest::Response) -> Outcome {
        for _ in 0..20 {
            let status = resp.status();
            let url = resp.url().to_string();
            if status.is_redirection() {
                let loc = resp.headers()[header::LOCATION]
                    .to_str()
                    .unwrap()
                    .to_string();
                let next = url::Url::parse(&url).unwrap().join(&loc).unwrap();
                if next.port() == Some(9999) {
                    return Outcome::Callback { url: next };
                }
                resp = self.http.get(next).send().await.unwrap();
                continue;
            }
            let html = resp.text().await.unwrap();
            return Outcome::Page { status, url, html };
        }
        panic!("redirect loop");
    }

    async fn get(&self, url: &str) -> Outcome {
        let r = self.http.get(url).send().await.unwrap();
        self.follow(r).await
    }

    /// Submits the form matched by `selector` in `page`, with its inputs' values and `extra`.
    async fn submit(&self, page: &Outcome, selector: &str, extra: &[(&str, &str)]) -> Outcome {
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
}

fn page_url(o: &Outcome) -> url::Url {
    match o {
        Outcome::Page { url, .. } => url::Url::parse(url).unwrap(),
        Outcome::Callback { url } => url.clone(),
    }
}

fn status(o: &Outcome) -> StatusCode {
    match o {
        Outcome::Page { status, .. } => *status,
        Outcome::Callback { .. } => StatusCode::SEE_OTHER,
    }
}

fn select_text(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

async fn counts(server: &TestServer) -> (usize, i64) {
    (
        server.app.db.account_list().await.unwrap().len(),
        server.app.db.identity_count().await.unwrap(),
    )
}

/// A confidential third-party client `rp` (consent needed) of the downstream Pforte.
async fn downstream_client(server: &TestServer, upstreams: Option<Vec<String>>) {
    server
        .add_client(NewClient {
            id: "rp".into(),
            secret: Some("rp-secret-123".into()),
            redirect_uris: vec![redirect("rp")],
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

/// The ID token of the code in `out`.
async fn id_token(server: &TestServer, out: &Outcome, verifier: &str) -> Value {
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (st, body) = token_request(
        server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("rp")),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    payload(body["id_token"].as_str().unwrap())
}

/// Consents at the downstream Pforte if asked.
async fn consent_if_asked(w: &Walker, out: Outcome) -> Outcome {
    if out.is_page("/consent") {
        w.submit(&out, "form[action=\"/consent\"]", &[("decision", "allow")])
            .await
    } else {
        out
    }
}

// --- Servicekonto.NRW: a second Pforte --------------------------------------------------------

/// The TOTP code of the current step (the upstream runs on the real clock).
fn totp_now(seed: &[u8], offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    pforte::accounts::totp::code_at(seed, pforte::accounts::totp::step_of(now) + offset)
}

#[tokio::test]
async fn servicekonto_first_login_creates_the_account_and_carries_substantial() {
    let server = TestServer::start(Backend::Sqlite).await;
    let sk = UpstreamPforte::start(&server).await;
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &Actor::Cli,
        NewUpstream {
            id: "sk".into(),
            profile: "servicekonto-nrw".into(),
            issuer: sk.issuer.clone(),
            client_id: SK_CLIENT.into(),
            client_secret: SK_SECRET.into(),
            name: Some("Servicekonto.NRW".into()),
            userinfo: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    downstream_client(&server, None).await;
    let w = Walker::new();

    // The citizen sets up TOTP at the Servicekonto (its tokens reach substantial with it).
    let login = w.get(&format!("{}/login", sk.issuer)).await;
    let acc = w
        .submit(
            &login,
            "form[action=\"/login\"]",
            &[("email", SK_EMAIL), ("password", PASSWORD)],
        )
        .await;
    assert!(acc.is_page("/account"), "{acc:?}");
    let setup = w.get(&format!("{}/account/security/totp", sk.issuer)).await;
    let secret = select_text(setup.html(), "#totp-secret").remove(0);
    let seed = base32_decode(&secret);
    let done = w
        .submit(
            &setup,
            "form[action=\"/account/security/totp\"]",
            &[("code", &totp_now(&seed, 0))],
        )
        .await;
    assert_eq!(status(&done), StatusCode::OK, "{done:?}");
    // Log out there: the downstream login starts from nothing.
    let acc = w.get(&format!("{}/account", sk.issuer)).await;
    w.submit(&acc, "form[action=\"/account/logout\"]", &[])
        .await;

    let before = counts(&server).await;
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[
            ("scope", "openid profile email"),
            ("acr_values", "http://eidas.europa.eu/LoA/substantial"),
        ],
    );
    let page = w.get(&url).await;
    assert!(page.is_page("/login"), "{page:?}");
    assert!(
        page.html().contains("Mit Servicekonto.NRW anmelden"),
        "{}",
        page.html()
    );
    let out = w
        .submit(&page, "form[action=\"/upstream/sk/start\"]", &[])
        .await;
    // At the Servicekonto: asked for substantial in its own spelling (eIDAS URIs here).
    assert_eq!(
        page_url(&out).port(),
        url::Url::parse(&sk.issuer).unwrap().port(),
        "{out:?}"
    );
    assert!(out.is_page("/login"), "{out:?}");
    let out = w
        .submit(
            &out,
            "form[action=\"/login\"]",
            &[("email", SK_EMAIL), ("password", PASSWORD)],
        )
        .await;
    // Substantial needs the second factor there.
    assert!(out.is_page("/stepup"), "{out:?}");
    let out = w
        .submit(
            &out,
            "form[action=\"/stepup/totp\"]",
            &[("code", &totp_now(&seed, 1))],
        )
        .await;
    let out = if out.is_page("/consent") {
        w.submit(&out, "form[action=\"/consent\"]", &[("decision", "allow")])
            .await
    } else {
        out
    };
    // Back at the downstream Pforte: consent for the service, then the code.
    let out = consent_if_asked(&w, out).await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(
        claims["acr"], "http://eidas.europa.eu/LoA/substantial",
        "{claims}"
    );
    assert_eq!(claims["amr"], json!(["fed"]));
    let after = counts(&server).await;
    assert_eq!(
        (after.0, after.1),
        (before.0 + 1, before.1 + 1),
        "one account, one link"
    );

    // The account: the verified e-mail of the Servicekonto, no password, attributes with
    // their provenance, proofed as far as the upstream asserted.
    let account = server
        .app
        .db
        .account_by_email(SK_EMAIL)
        .await
        .unwrap()
        .expect("account with the upstream's verified e-mail");
    assert!(account.email_verified && account.password_hash.is_none());
    assert_eq!(
        account.proofing_level,
        pforte::assurance::Level::Substantial
    );
    assert_eq!(claims["sub"], account.id);
    let attrs = server.app.db.account_attributes(&account.id).await.unwrap();
    let given = attrs
        .iter()
        .find(|a| a.name == "given_name")
        .expect("given_name");
    assert_eq!(
        (given.value.as_str(), given.source.as_str()),
        ("Jana", "upstream:sk")
    );
    assert_eq!(given.level, pforte::assurance::Level::Substantial);

    // A second login through the Servicekonto finds the same account (keyed by its subject).
    let w2 = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[("prompt", "login")]);
    let page = w2.get(&url).await;
    let out = w2
        .submit(&page, "form[action=\"/upstream/sk/start\"]", &[])
        .await;
    let out = w2
        .submit(
            &out,
            "form[action=\"/login\"]",
            &[("email", SK_EMAIL), ("password", PASSWORD)],
        )
        .await;
    let out = if out.is_page("/consent") {
        w2.submit(&out, "form[action=\"/consent\"]", &[("decision", "allow")])
            .await
    } else {
        out
    };
    let out = consent_if_asked(&w2, out).await;
    assert!(out.param("code").is_some(), "{out:?}");
    assert_eq!(counts(&server).await, after, "no second account");
}

// --- eID: panva's oidc-provider -------------------------------------------------------------

async fn register_eid(server: &TestServer, op: &EidOp) {
    // Through the CLI, as an operator would (contract.md).
    let env = vec![
        ("PFORTE_ISSUER".to_string(), server.issuer.clone()),
        (
            "PFORTE_DATABASE_URL".to_string(),
            server.db_url().to_string(),
        ),
        (
            "PFORTE_KEYS_ENCRYPTION_KEY".to_string(),
            server.kek().to_string(),
        ),
    ];
    let out = pforte_cli(
        &env,
        &[
            "upstream",
            "add",
            "--id",
            "eid",
            "--profile",
            "eid",
            "--issuer",
            &op.issuer,
            "--client-id",
            EID_CLIENT,
            "--client-secret",
            EID_SECRET,
            "--name",
            "Online-Ausweis",
            "--userinfo",
            "--end-session",
        ],
        None,
    );
    assert!(out.contains("/upstream/eid/callback"), "{out}");
}

/// At the eID peer: pick the test card and confirm the PIN.
async fn eid_pin(w: &Walker, page: &Outcome, card: &str) -> Outcome {
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

#[tokio::test]
async fn eid_first_login_linking_and_step_up() {
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    downstream_client(&server, Some(vec!["eid".into()])).await;

    // 1. First login through the eID: a new account, acr high, the chip's data with provenance.
    let w = Walker::new();
    let before = counts(&server).await;
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[
            ("scope", "openid profile address"),
            ("acr_values", "http://eidas.europa.eu/LoA/high"),
        ],
    );
    let page = w.get(&url).await;
    assert!(
        page.html().contains("Mit Online-Ausweis anmelden"),
        "{}",
        page.html()
    );
    let out = w
        .submit(&page, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    assert!(
        out.html().contains("http://eidas.europa.eu/LoA/high"),
        "acr_values forwarded: {}",
        out.html()
    );
    let out = eid_pin(&w, &out, "erika").await;
    let out = consent_if_asked(&w, out).await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/high", "{claims}");
    let after = counts(&server).await;
    assert_eq!(after, (before.0 + 1, before.1 + 1));
    let erika = claims["sub"].as_str().unwrap().to_string();
    let account = server.app.db.account_get(&erika).await.unwrap().unwrap();
    assert!(!account.has_email(), "the eID gives no e-mail address");
    assert!(account.password_hash.is_none());
    let attrs = server.app.db.account_attributes(&erika).await.unwrap();
    for (name, value) in [
        ("family_name", "Mustermann"),
        ("place_of_birth.locality", "Berlin"),
        ("birthdate", "1964-08-12"),
        ("address.locality", "Köln"),
        ("document_type", "ID"),
        ("nationalities", "[\"DE\"]"),
    ] {
        let a = attrs
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} in {attrs:?}"));
        assert_eq!(a.value, value);
        assert_eq!(
            (a.source.as_str(), a.level),
            ("upstream:eid", pforte::assurance::Level::High)
        );
    }
    let identities = server.app.db.identities_of(&erika).await.unwrap();
    assert_eq!(
        identities[0].subject,
        "rid-6d3f1a9c0b7e4c2a9f1e8d7c6b5a4f3e"
    );

    // 2. The last way to log in is kept: no unlink button, and a forged POST is refused.
    let links = w.get(&server.url("/account/links")).await;
    assert!(
        links.html().contains("Das ist Ihr einziger Anmeldeweg"),
        "{}",
        links.html()
    );
    assert!(!links.html().contains("/unlink\""), "no unlink button");
    let csrf = hidden(w.get(&server.url("/account")).await.html(), "csrf");
    let refused = w
        .http
        .post(server.url("/account/links/eid/unlink"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("kann nicht gelöst werden"));
    assert_eq!(counts(&server).await, after);

    // 3. A password citizen (low) asked for high is led to the eID on the step-up page; the
    //    eID identity (Max) is linked to her account and the token carries high.
    let anna = server.citizen("anna@example.de", PASSWORD).await;
    let w = Walker::new();
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[("acr_values", "http://eidas.europa.eu/LoA/high")],
    );
    let page = w.get(&url).await;
    let out = w
        .submit(
            &page,
            "form[action=\"/login\"]",
            &[("email", "anna@example.de"), ("password", PASSWORD)],
        )
        .await;
    assert!(out.is_page("/stepup"), "{out:?}");
    assert!(
        out.html().contains("Mit Online-Ausweis bestätigen"),
        "{}",
        out.html()
    );
    let out = w
        .submit(&out, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    let out = eid_pin(&w, &out, "max").await;
    let out = consent_if_asked(&w, out).await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(claims["sub"], anna);
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/high");
    assert_eq!(server.app.db.identities_of(&anna).await.unwrap().len(), 1);

    // 4. Unlinking is allowed while the password remains.
    let links = w.get(&server.url("/account/links")).await;
    let out = w
        .submit(&links, "form[action=\"/account/links/eid/unlink\"]", &[])
        .await;
    assert!(out.html().contains("Die Verknüpfung ist gelöst"), "{out:?}");
    assert!(server.app.db.identities_of(&anna).await.unwrap().is_empty());

    // 5. Linking after confirming; Erika's eID (linked to her own account) is refused.
    let confirm = w.get(&server.url("/upstream/eid/link")).await;
    assert!(
        confirm.html().contains("Ja, jetzt verknüpfen"),
        "{confirm:?}"
    );
    let out = w
        .submit(&confirm, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    let before = counts(&server).await;
    let out = eid_pin(&w, &out, "erika").await;
    assert_eq!(status(&out), StatusCode::CONFLICT, "{out:?}");
    assert!(
        out.html()
            .contains("Schon mit einem anderen Konto verknüpft"),
        "{}",
        out.html()
    );
    assert_eq!(counts(&server).await, before, "nothing linked");
    let refusal = !server
        .app
        .db
        .audit_list(Some("identity.refused"), 5)
        .await
        .unwrap()
        .is_empty();
    assert!(refusal, "audited");
    // Max's card links after confirming.
    let confirm = w.get(&server.url("/upstream/eid/link")).await;
    let out = w
        .submit(&confirm, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    let out = eid_pin(&w, &out, "max").await;
    assert!(
        out.html().contains("jetzt mit Ihrem Konto verknüpft"),
        "{out:?}"
    );
    assert_eq!(server.app.db.identities_of(&anna).await.unwrap().len(), 1);

    // 6. Cancelling at the eID (access_denied): a readable page, nothing created.
    let w = Walker::new();
    let before = counts(&server).await;
    let (url, _) = authorize_url(&server, "rp", &[("ui_locales", "en")]);
    let page = w.get(&url).await;
    assert!(
        page.html().contains("Log in with Online-Ausweis"),
        "{}",
        page.html()
    );
    let out = w
        .submit(&page, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    let out = w.submit(&out, "form[action$=\"/abort\"]", &[]).await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{out:?}");
    assert!(out.html().contains("Login cancelled"), "{}", out.html());
    assert!(out.html().contains("Back to the login"), "{}", out.html());
    assert_eq!(counts(&server).await, before);
}

// --- a hostile OP: every way an upstream answer can be wrong -----------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Ok,
    BadSignature,
    UnknownKid,
    WrongIssuer,
    WrongAudience,
    NonceMismatch,
    MissingSub,
    LowAcr,
    Slow,
    TokenError,
}

struct Hostile {
    mode: Mode,
    issuer: String,
    key: aws_lc_rs::signature::EcdsaKeyPair,
    other: aws_lc_rs::signature::EcdsaKeyPair,
    nonce: String,
    last_callback: String,
}

type Shared = Arc<Mutex<Hostile>>;

fn p256() -> aws_lc_rs::signature::EcdsaKeyPair {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap()
}

async fn hostile_op() -> (String, Shared) {
    use axum::{
        extract::{Query, State},
        response::{IntoResponse, Redirect},
        routing::{get, post},
        Json, Router,
    };
    use std::collections::HashMap;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let shared: Shared = Arc::new(Mutex::new(Hostile {
        mode: Mode::Ok,
        issuer: issuer.clone(),
        key: p256(),
        other: p256(),
        nonce: String::new(),
        last_callback: String::new(),
    }));
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(h): State<Shared>| async move {
                let iss = h.lock().unwrap().issuer.clone();
                Json(json!({
                    "issuer": iss,
                    "authorization_endpoint": format!("{iss}/auth"),
                    "token_endpoint": format!("{iss}/token"),
                    "jwks_uri": format!("{iss}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["ES256"],
                }))
            }),
        )
        .route(
            "/jwks",
            get(|State(h): State<Shared>| async move {
                let h = h.lock().unwrap();
                Json(json!({ "keys": [es256_jwk(&h.key, "k1")] }))
            }),
        )
        .route(
            "/auth",
            get(
                |State(h): State<Shared>, Query(q): Query<HashMap<String, String>>| async move {
                    let mut h = h.lock().unwrap();
                    h.nonce = q.get("nonce").cloned().unwrap_or_default();
                    let mut cb = url::Url::parse(&q["redirect_uri"]).unwrap();
                    cb.query_pairs_mut()
                        .append_pair("code", "hostile-code")
                        .append_pair("state", &q["state"]);
                    h.last_callback = cb.to_string();
                    Redirect::to(cb.as_str())
                },
            ),
        )
        .route(
            "/token",
            post(|State(h): State<Shared>| async move {
                let (mode, claims, token) = {
                    let h = h.lock().unwrap();
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let mut c = json!({
                        "iss": h.issuer, "sub": "hostile-subject-1", "aud": "pforte-at-hostile",
                        "exp": now + 300, "iat": now, "nonce": h.nonce,
                        "acr": "http://eidas.europa.eu/LoA/high",
                    });
                    match h.mode {
                        Mode::WrongIssuer => c["iss"] = json!("http://127.0.0.1:1/evil"),
                        Mode::WrongAudience => c["aud"] = json!("someone-else"),
                        Mode::NonceMismatch => c["nonce"] = json!("not-the-nonce"),
                        Mode::MissingSub => {
                            c.as_object_mut().unwrap().remove("sub");
                        }
                        Mode::LowAcr => c["acr"] = json!("http://eidas.europa.eu/LoA/low"),
                        _ => {}
                    }
                    let token = match h.mode {
                        Mode::BadSignature => es256_sign_kid(&h.other, "k1", &c),
                        Mode::UnknownKid => es256_sign_kid(&h.other, "k9", &c),
                        _ => es256_sign_kid(&h.key, "k1", &c),
                    };
                    (h.mode, c, token)
                };
                let _ = claims;
                if mode == Mode::Slow {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                if mode == Mode::TokenError {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "invalid_grant"})),
                    )
                        .into_response();
                }
                Json(json!({
                    "access_token": "hostile-at", "token_type": "Bearer", "expires_in": 300,
                    "id_token": token,
                }))
                .into_response()
            }),
        )
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (issuer, shared)
}

#[tokio::test]
async fn upstream_failures_leave_nothing_behind_sqlite() {
    upstream_failures_leave_nothing_behind(Backend::Sqlite).await
}

#[tokio::test]
async fn upstream_failures_leave_nothing_behind_postgres() {
    upstream_failures_leave_nothing_behind(Backend::Postgres).await
}

async fn upstream_failures_leave_nothing_behind(backend: Backend) {
    let server = TestServer::start_with(backend, |c| c.upstream.timeout_secs = 2).await;
    let (issuer, hostile) = hostile_op().await;
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &Actor::Cli,
        NewUpstream {
            id: "hostile".into(),
            profile: "oidc".into(),
            issuer,
            client_id: "pforte-at-hostile".into(),
            client_secret: "hostile-secret".into(),
            name: Some("Testanbieter".into()),
            max_level: Some(pforte::assurance::Level::High),
            auth_method: Some("client_secret_post".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    downstream_client(&server, None).await;
    let essential_high =
        r#"{"id_token":{"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/high"]}}}"#;

    let cases: &[(Mode, &str, &str, bool)] = &[
        (
            Mode::BadSignature,
            "bad_signature",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::UnknownKid,
            "unknown_key",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::WrongIssuer,
            "wrong_issuer",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::WrongAudience,
            "wrong_audience",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::NonceMismatch,
            "nonce_mismatch",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::MissingSub,
            "missing_claim",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::LowAcr,
            "acr_too_low",
            "Vertrauensniveau nicht erreicht",
            true,
        ),
        (
            Mode::Slow,
            "timeout",
            "Anmeldung zurzeit nicht möglich",
            false,
        ),
        (
            Mode::TokenError,
            "token",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
    ];
    let before = counts(&server).await;
    for (mode, code, title, essential) in cases {
        hostile.lock().unwrap().mode = *mode;
        let w = Walker::new();
        let mut extra = vec![];
        if *essential {
            extra.push(("claims", essential_high));
        }
        let (url, _) = authorize_url(&server, "rp", &extra);
        let page = w.get(&url).await;
        assert!(
            page.html().contains("Mit Testanbieter anmelden"),
            "{mode:?}"
        );
        let out = w
            .submit(&page, "form[action=\"/upstream/hostile/start\"]", &[])
            .await;
        assert!(
            out.is_page("/upstream/hostile/callback"),
            "{mode:?}: {out:?}"
        );
        assert!(
            status(&out).is_client_error() || status(&out).is_server_error(),
            "{mode:?}"
        );
        assert!(out.html().contains(title), "{mode:?}: {}", out.html());
        assert!(
            out.html().contains(&format!("<code>{code}</code>")),
            "{mode:?}: {}",
            out.html()
        );
        assert!(
            out.html().contains("href=\"/login?req="),
            "the way back: {mode:?}"
        );
        assert_eq!(
            counts(&server).await,
            before,
            "{mode:?} left an account or a link"
        );
        let audited = server
            .app
            .db
            .audit_list(Some("upstream.login_failed"), 1)
            .await
            .unwrap();
        assert_eq!(audited[0].detail["reason"], *code, "{mode:?}");
        // No login in the session either.
        let acc = w.get(&server.url("/account")).await;
        assert!(acc.is_page("/login"), "{mode:?}: {acc:?}");
    }

    // The citizen cancels (the upstream answers access_denied to the callback).
    hostile.lock().unwrap().mode = Mode::Ok;
    let w = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let start = w
        .http
        .post(server.url("/upstream/hostile/start"))
        .form(&[
            ("csrf", hidden(page.html(), "csrf")),
            ("req", hidden(page.html(), "req")),
            ("purpose", "login".into()),
        ])
        .send()
        .await
        .unwrap();
    let to_upstream = url::Url::parse(start.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let state = to_upstream
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    // Pforte asked with PKCE S256, a nonce and its registered redirect URI.
    let q: std::collections::HashMap<_, _> = to_upstream.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.contains_key("nonce") && q.contains_key("code_challenge"));
    assert_eq!(q["redirect_uri"], server.url("/upstream/hostile/callback"));
    let cancelled = w
        .get(&server.url(&format!(
            "/upstream/hostile/callback?error=access_denied&state={state}"
        )))
        .await;
    assert_eq!(status(&cancelled), StatusCode::BAD_REQUEST);
    assert!(
        cancelled.html().contains("Anmeldung abgebrochen"),
        "{cancelled:?}"
    );
    assert_eq!(counts(&server).await, before);

    // A forged callback (a state this browser never started) and a CSRF-less start.
    let forged = w
        .get(&server.url("/upstream/hostile/callback?code=x&state=forged"))
        .await;
    assert!(forged.html().contains("Anmeldung abgelaufen"), "{forged:?}");
    let no_csrf = w
        .http
        .post(server.url("/upstream/hostile/start"))
        .form(&[("purpose", "login")])
        .send()
        .await
        .unwrap();
    assert!(no_csrf.status().is_client_error());

    // A good login works once; the same callback replayed finds its state used up.
    let w = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let out = w
        .submit(&page, "form[action=\"/upstream/hostile/start\"]", &[])
        .await;
    let out = consent_if_asked(&w, out).await;
    assert!(out.param("code").is_some(), "{out:?}");
    let after = counts(&server).await;
    assert_eq!(after, (before.0 + 1, before.1 + 1));
    let replay_url = hostile.lock().unwrap().last_callback.clone();
    let replay = w.get(&replay_url).await;
    assert!(replay.html().contains("Anmeldung abgelaufen"), "{replay:?}");
    assert_eq!(counts(&server).await, after);
}

/// RP-initiated logout at Pforte also ends the eID session (item 8): Pforte → the upstream's
/// end_session_endpoint (`id_token_hint` = the upstream's ID token, back to Pforte) → the
/// client's post_logout_redirect_uri with its state.
#[tokio::test]
async fn logout_ends_the_upstream_session_too() {
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    downstream_client(&server, Some(vec!["eid".into()])).await;
    let w = Walker::new();
    let (url, verifier) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let out = w
        .submit(&page, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    let out = eid_pin(&w, &out, "erika").await;
    let out = consent_if_asked(&w, out).await;
    let code = out.param("code").expect("code");
    let (_, body) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("rp")),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let hint = body["id_token"].as_str().unwrap().to_string();

    let mut logout = url::Url::parse(&server.url("/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &hint)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9999/rp/bye")
        .append_pair("state", "bye-1");
    let at_upstream = w.get(logout.as_str()).await;
    let u = page_url(&at_upstream);
    assert_eq!(
        u.origin(),
        url::Url::parse(&op.issuer).unwrap().origin(),
        "sent to the eID's end_session: {at_upstream:?}"
    );
    let done = w
        .submit(
            &at_upstream,
            "form[action$=\"/session/end/confirm\"]",
            &[("logout", "yes")],
        )
        .await;
    let Outcome::Callback { url } = &done else {
        panic!("expected the client's post-logout URI: {done:?}")
    };
    assert_eq!(url.path(), "/rp/bye");
    assert_eq!(done.param("state").as_deref(), Some("bye-1"));
    // Logged out at Pforte …
    assert!(w.get(&server.url("/account")).await.is_page("/login"));
    // … and at the eID: a new login asks for the card again.
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let out = w
        .submit(&page, "form[action=\"/upstream/eid/start\"]", &[])
        .await;
    assert!(
        page_url(&out).path().starts_with("/interaction/"),
        "the eID session ended: {out:?}"
    );
}

// --- a real browser ---------------------------------------------------------------------------

/// The eID login in headless Chromium without JavaScript, in German and in English, with
/// screenshots of the pages (`PFORTE_SHOTS`, default `/tmp/shots`) for a person to look at.
#[tokio::test]
async fn browser_upstream_login_in_german_and_english() {
    use crate::browser::{click, ChromeDriver};
    use fantoccini::Locator;
    let shots = std::path::PathBuf::from(
        std::env::var("PFORTE_SHOTS").unwrap_or_else(|_| "/tmp/shots".into()),
    );
    std::fs::create_dir_all(&shots).unwrap();
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    let sk = "sk";
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &Actor::Cli,
        NewUpstream {
            id: sk.into(),
            profile: "servicekonto-nrw".into(),
            issuer: "http://127.0.0.1:9/unused".into(),
            client_id: "x".into(),
            client_secret: "y".into(),
            name: Some("Servicekonto.NRW".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    downstream_client(&server, None).await;
    let driver = ChromeDriver::start().await;
    for (lang, login_label, cancel_title) in [
        ("de", "Mit Online-Ausweis anmelden", "Anmeldung abgebrochen"),
        ("en", "Log in with Online-Ausweis", "Login cancelled"),
    ] {
        let c = driver.browser(lang, false, 1280).await;
        let (url, _) = authorize_url(&server, "rp", &[("ui_locales", lang)]);
        c.goto(&url).await.unwrap();
        let html = c.source().await.unwrap();
        assert!(html.contains(login_label), "{html}");
        std::fs::write(
            shots.join(format!("federation-login-{lang}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
        // Cancel at the eID: the failure page in the citizen's language, with the way back.
        click(&c, "form[action=\"/upstream/eid/start\"] button").await;
        click(&c, "#cancel").await;
        let html = c.source().await.unwrap();
        assert!(html.contains(cancel_title), "{html}");
        std::fs::write(
            shots.join(format!("federation-cancelled-{lang}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
        // The way back leads to the login page of the same request; now with the PIN.
        click(&c, "a.button").await;
        assert_eq!(c.current_url().await.unwrap().path(), "/login");
        click(&c, "form[action=\"/upstream/eid/start\"] button").await;
        click(&c, "#pin-ok").await;
        // The service's consent page (the first time), then its redirect URI with a code.
        if c.current_url().await.unwrap().path() == "/consent" {
            std::fs::write(
                shots.join(format!("federation-consent-{lang}.png")),
                c.screenshot().await.unwrap(),
            )
            .unwrap();
            c.find(Locator::Css("button[value=\"allow\"]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let u = c.current_url().await.unwrap();
            if u.port() == Some(9999) {
                assert!(u.query_pairs().any(|(k, _)| k == "code"), "{u}");
                break;
            }
            assert!(Instant::now() < deadline, "no redirect to the service: {u}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Linked ways to log in, as the citizen sees them.
        c.goto(&server.url(&format!("/account/links?ui_locales={lang}")))
            .await
            .unwrap();
        std::fs::write(
            shots.join(format!("federation-links-{lang}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
        c.close().await.unwrap();
    }
}
