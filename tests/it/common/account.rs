//! Shared helpers of the citizen-account tests (registration, recovery, the Datencockpit,
//! second factors, passkeys, SMTP and the whole journey): reading pages and posting their
//! forms, the development mail outbox and the messages in it, a real SMTP server process
//! (aiosmtpd, tests/peers/smtp_sink.py) with STARTTLS, implicit TLS and AUTH, a throwaway CA
//! for it, and a service with what it asks a citizen for.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use base64::{engine::general_purpose::STANDARD, Engine};
use pforte::{
    accounts::{details::DetailsInput, NewAccount},
    admin::{self, NewClient},
};
use reqwest::StatusCode;
use serde_json::Value;

use super::{
    child::free_port, exchange, hidden, redirect, tempdir, token_request, Browser, Outcome,
    TestServer, PASSWORD,
};

// ---------------------------------------------------------------------------------------
// Pages and forms
// ---------------------------------------------------------------------------------------

/// The status of a page; a redirect to the client counts as 303.
pub fn status(o: &Outcome) -> StatusCode {
    match o {
        Outcome::Page { status, .. } => *status,
        Outcome::Callback { .. } => StatusCode::SEE_OTHER,
    }
}

/// The trimmed text of every element matching `css`.
pub fn select_text(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// The attribute `attr` of the first element matching `css`.
pub fn select_attr(html: &str, css: &str, attr: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(attr).map(String::from))
}

/// Submits the form of `page` (its CSRF token) to `path` with `fields`.
pub async fn submit(
    server: &TestServer,
    browser: &Browser,
    page: &Outcome,
    path: &str,
    fields: &[(&str, &str)],
) -> Outcome {
    let csrf = hidden(page.html(), "csrf");
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    browser.post_form(&server.url(path), &form).await
}

/// Logs in at `/login` directly (no authorization request); the page after it.
pub async fn login(server: &TestServer, browser: &Browser, email: &str, password: &str) -> Outcome {
    let page = browser.get(&server.url("/login")).await;
    browser.login(&page, email, password).await
}

/// Logs in at `/login` with [`PASSWORD`]: lands on the account page.
pub async fn login_direct(server: &TestServer, browser: &Browser, email: &str) {
    let out = login(server, browser, email, PASSWORD).await;
    assert!(out.is_page("/account"), "{out:?}");
}

/// The CSRF token of the session (from the account page).
pub async fn csrf_of(server: &TestServer, browser: &Browser) -> String {
    hidden(browser.get(&server.url("/account")).await.html(), "csrf")
}

// ---------------------------------------------------------------------------------------
// The development outbox and the messages in it
// ---------------------------------------------------------------------------------------

/// A server whose development mailer writes into a folder that does not exist yet (the
/// mailer creates it): [`outbox`] of the returned folder.
pub async fn start_with_outbox(backend: super::Backend) -> (TestServer, tempdir::Dir) {
    let dir = scratch("pforte-outbox");
    let outbox = dir.path.join("outbox");
    let server = TestServer::start_with(backend, |c| c.mail.outbox = Some(outbox)).await;
    (server, dir)
}

/// A fresh temporary folder named `prefix-<pid>-<random>`.
pub fn scratch(prefix: &str) -> tempdir::Dir {
    tempdir::Dir::new(&format!(
        "{prefix}-{}-{}",
        std::process::id(),
        pforte::secrets::random_token(6).replace(['-', '_'], "x")
    ))
}

pub fn outbox(dir: &tempdir::Dir) -> PathBuf {
    dir.path.join("outbox")
}

/// The `.eml` files in a folder, oldest first (names start with a timestamp); a folder holding
/// anything else (but the SMTP sink's logs) fails the test.
pub fn mails(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_none_or(|e| e != "log"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    for f in &files {
        assert!(
            f.extension().is_some_and(|e| e == "eml"),
            "only .eml files in the outbox: {f:?}"
        );
    }
    files
}

/// Polls a mail folder until it holds `n` mails (links are sent after the answer, SMTP by
/// the worker); at most 20 s.
pub async fn wait_for_mails(dir: &Path, n: usize) -> Vec<PathBuf> {
    for _ in 0..400 {
        // A message being written is a hidden temporary file until it is renamed.
        let writing = std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with('.'))
        });
        if !writing {
            let files = mails(dir);
            if files.len() >= n {
                return files;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} mails, have {:?}", mails(dir));
}

/// The first link starting with `prefix` in the mail at `path`.
pub fn link(path: &Path, prefix: &str) -> String {
    let links = Eml::read(path).links(prefix);
    assert!(!links.is_empty(), "no {prefix} link in {path:?}");
    links[0].clone()
}

/// A parsed message: unfolded headers and the decoded body.
pub struct Eml {
    pub raw: String,
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Eml {
    pub fn read(path: &Path) -> Eml {
        let raw = std::fs::read_to_string(path).unwrap();
        assert!(raw.is_ascii(), "7-bit clean message");
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .expect("header/body separator (CRLF)");
        for line in raw.split("\r\n") {
            assert!(line.len() <= 78, "line too long: {line:?}");
            assert!(!line.contains('\n'), "bare LF in {line:?}");
        }
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let headers = unfolded
            .split("\r\n")
            .map(|l| {
                let (k, v) = l.split_once(": ").expect("header line");
                (k.to_string(), v.to_string())
            })
            .collect::<Vec<_>>();
        let eml = Eml {
            body: String::new(),
            headers,
            raw: raw.clone(),
        };
        let body = if eml
            .header("Content-Transfer-Encoding")
            .eq_ignore_ascii_case("quoted-printable")
        {
            decode_qp(body)
        } else {
            body.to_string()
        };
        Eml { body, ..eml }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no header {name} in {:?}", self.headers))
    }

    /// The subject with RFC 2047 encoded-words decoded.
    pub fn subject(&self) -> String {
        decode_words(self.header("Subject"))
    }

    /// Links in the body starting with `prefix`.
    pub fn links(&self, prefix: &str) -> Vec<String> {
        self.body
            .split_whitespace()
            .filter(|w| w.starts_with(prefix))
            .map(String::from)
            .collect()
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("QP escape"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .expect("UTF-8 body")
        .replace("\r\n", "\n")
}

fn decode_words(v: &str) -> String {
    if !v.contains("=?") {
        return v.to_string();
    }
    // RFC 2047 §6.2: plain words stay as they are; white space between two adjacent
    // encoded-words is not part of the text.
    let mut out = String::new();
    let mut prev_encoded = false;
    for (i, w) in v.split_whitespace().enumerate() {
        let inner = w
            .strip_prefix("=?utf-8?B?")
            .or_else(|| w.strip_prefix("=?utf-8?b?"))
            .and_then(|w| w.strip_suffix("?="));
        if i > 0 && !(prev_encoded && inner.is_some()) {
            out.push(' ');
        }
        match inner {
            Some(b64) => out.push_str(&String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()),
            None => out.push_str(w),
        }
        prev_encoded = inner.is_some();
    }
    out
}

// ---------------------------------------------------------------------------------------
// A real SMTP server process
// ---------------------------------------------------------------------------------------

/// aiosmtpd on 127.0.0.1:`port` (tests/peers/smtp_sink.py), writing what it receives into
/// [`SmtpSink::maildir`]; killed when dropped.
pub struct SmtpSink {
    pub port: u16,
    dir: tempdir::Dir,
    args: Vec<String>,
    child: Option<Child>,
}

impl SmtpSink {
    /// A plain sink (no TLS, no AUTH) on a free port, not started yet.
    pub fn new() -> SmtpSink {
        SmtpSink::on_port(free_port())
    }

    /// A plain sink on `port` (to replace one that was stopped), not started yet.
    pub fn on_port(port: u16) -> SmtpSink {
        SmtpSink {
            port,
            dir: scratch("pforte-smtp"),
            args: Vec::new(),
            child: None,
        }
    }

    /// Offers STARTTLS with `ca`'s server certificate and requires it (RFC 3207).
    pub fn starttls(mut self, ca: &TestCa) -> SmtpSink {
        self.args.push("--starttls".into());
        self.args.extend(ca.server_files());
        self
    }

    /// Speaks TLS from the first byte (RFC 8314) with `ca`'s server certificate.
    pub fn smtps(mut self, ca: &TestCa) -> SmtpSink {
        self.args.push("--smtps".into());
        self.args.extend(ca.server_files());
        self
    }

    /// Requires AUTH with these credentials (offered over TLS only).
    pub fn auth(mut self, user: &str, password: &str) -> SmtpSink {
        self.args.push("--auth".into());
        self.args.push(format!("{user}:{password}"));
        self
    }

    /// A careless server: offers AUTH on an unencrypted connection too.
    pub fn auth_in_plain_text(mut self) -> SmtpSink {
        self.args.push("--auth-in-plain-text".into());
        self
    }

    /// `smtp://127.0.0.1:PORT?tls=none`: the loopback development URL (no TLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path.join("received")
    }

    /// The lines of one of the sink's logs (`auth.log`, `mail-from.log`); empty when none.
    pub fn log(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.maildir().join(name))
            .map(|t| t.lines().map(String::from).collect())
            .unwrap_or_default()
    }

    pub async fn start(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.args)
            .arg(self.maildir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd; .ci/run does)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start on port {}", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits until `n` messages arrived; returns them, oldest first.
    pub async fn wait_for(&self, n: usize) -> Vec<PathBuf> {
        wait_for_mails(&self.maildir(), n).await
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<PathBuf> {
        mails(&self.maildir())
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A throwaway certificate authority and a server certificate it issued for `localhost` and
/// 127.0.0.1, as PEM files in a temporary folder.
pub struct TestCa {
    dir: tempdir::Dir,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
        let dir = scratch("pforte-ca");
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "Pforte test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        leaf.subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
        std::fs::write(dir.path.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.path.join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path.join("server-key.pem"), key.serialize_pem()).unwrap();
        TestCa { dir }
    }

    /// The CA certificate to trust (`mail.smtp_ca_file`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path.join("ca.pem")
    }

    fn server_files(&self) -> [String; 2] {
        ["server.pem", "server-key.pem"].map(|f| self.dir.path.join(f).display().to_string())
    }
}

// ---------------------------------------------------------------------------------------
// A service and a citizen with every detail
// ---------------------------------------------------------------------------------------

/// A third-party service (consent asked) with refresh tokens and the profile, email,
/// address and phone scopes; secret `{id}-secret-123`.
pub fn service_client(id: &str, name: &str) -> NewClient {
    NewClient {
        id: id.into(),
        name: Some(name.into()),
        secret: Some(format!("{id}-secret-123")),
        redirect_uris: vec![redirect(id)],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: [
            "openid",
            "profile",
            "email",
            "address",
            "phone",
            "offline_access",
        ]
        .map(String::from)
        .to_vec(),
        first_party: false,
        ..Default::default()
    }
}

/// Registers [`service_client`].
pub async fn service(server: &TestServer, id: &str, name: &str) {
    server.add_client(service_client(id, name)).await;
}

/// What the services here ask for.
pub const ALL_SCOPES: &str = "openid profile email address phone offline_access";

/// A citizen with every profile detail, as `pforte account add` creates one.
pub async fn citizen_with_details(server: &TestServer, email: &str) -> String {
    admin::add_account_with_details(
        &server.app.db,
        &server.app.hasher,
        &pforte::audit::Actor::Cli,
        NewAccount {
            email: email.into(),
            password: PASSWORD.into(),
            given_name: Some("Anna".into()),
            family_name: Some("Schmidt".into()),
            email_verified: true,
        },
        DetailsInput {
            birthdate: Some("23.04.1980".into()),
            street_address: Some("Markt 1".into()),
            postal_code: Some("59368".into()),
            locality: Some("Werne".into()),
            phone_number: Some("+49 2389 123456".into()),
            ..Default::default()
        },
        12,
    )
    .await
    .expect("add account")
    .id
}

/// Logs in through `client` with consent and returns its token response.
pub async fn tokens_for(server: &TestServer, b: &Browser, client: &str, email: &str) -> Value {
    let (url, verifier) = super::authorize_url(
        server,
        client,
        &[("scope", ALL_SCOPES), ("prompt", "consent")],
    );
    let mut out = b.get(&url).await;
    if out.is_page("/login") {
        out = b.login(&out, email, PASSWORD).await;
    }
    if out.is_page("/consent") {
        out = b.consent(&out, true).await;
    }
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (st, body) = exchange(server, client, &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

pub async fn userinfo(server: &TestServer, access_token: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// `(pending, highest attempt count among them, failed)` rows of the mail outbox.
pub async fn outbox_state(server: &TestServer) -> (i64, i64, i64) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT \
           COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0) AS n, \
           COALESCE(MAX(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN attempts ELSE 0 END), 0) AS attempts, \
           COALESCE(SUM(CASE WHEN failed_at IS NULL THEN 0 ELSE 1 END), 0) AS failed \
         FROM mail_outbox",
    )
    .fetch_one(&server.app.db.pool)
    .await
    .unwrap();
    (r.get("n"), r.get("attempts"), r.get("failed"))
}

/// Waits (at most 20 s) until one mail waits in the outbox after at least `attempts` failed
/// attempts, and none was given up.
pub async fn wait_until_retried(server: &TestServer, attempts: i64) {
    let mut last = (0, 0, 0);
    for _ in 0..200 {
        last = outbox_state(server).await;
        if last.0 == 1 && last.1 >= attempts {
            assert_eq!(last.2, 0, "no mail given up");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected one mail waiting after {attempts} attempts: (pending, attempts, failed) = {last:?}");
}

pub use super::attack::introspect;

/// A refresh token grant by `client`.
pub async fn refresh(server: &TestServer, client: &str, token: &str) -> (StatusCode, Value) {
    token_request(
        server,
        Some((client, &format!("{client}-secret-123"))),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}
