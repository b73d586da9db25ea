//! Resilience of a running Pforte: graceful shutdown (readiness first, requests in flight
//! finish), PostgreSQL unreachable (503 with Retry-After, never 500, recovery without a
//! restart), overload (bounded concurrency, the excess refused at once with Retry-After),
//! kill -9 (every token a client received stays valid), certificate reload on SIGHUP.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use crate::common::{
    child::Child,
    ops::{self, client_credentials, introspect},
    pgtemp, *,
};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

const CC_BODY: &str = "grant_type=client_credentials";

/// A `POST /token` (client_credentials for `rp`) whose body is sent only in part: the request
/// is in flight until [`finish`] sends the rest.
async fn slow_token_request(port: u16) -> TcpStream {
    use base64::Engine;
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("rp:rp-secret-123");
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{}",
        CC_BODY.len(),
        &CC_BODY[..5]
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
    s
}

/// Sends the rest of the body and returns the status line's code and the whole answer.
async fn finish(mut s: TcpStream) -> (u16, String) {
    s.write_all(&CC_BODY.as_bytes()[5..]).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut buf))
        .await
        .expect("answer in time")
        .expect("read the answer");
    let text = String::from_utf8_lossy(&buf).to_string();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    (code, text)
}

#[tokio::test]
async fn resilience_graceful_shutdown_readiness_first_then_requests_in_flight_finish() {
    let seed = TestServer::start(Backend::Sqlite).await;
    seed.confidential("rp", false).await;
    let mut child = Child::spawn(
        &seed,
        &[
            ("PFORTE_SHUTDOWN_DRAIN_SECS", "2"),
            ("PFORTE_SHUTDOWN_GRACE_SECS", "20"),
        ],
    )
    .await;
    let slow = slow_token_request(child.port).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    child.signal("TERM");
    // Readiness answers 503 at once, while requests are still served.
    let mut saw_503 = false;
    while started.elapsed() < Duration::from_millis(1500) {
        if let Ok(r) = reqwest::get(child.url("/readyz")).await {
            if r.status() == 503 {
                assert!(r.headers().contains_key("retry-after"));
                let body: Value = r.json().await.unwrap();
                assert!(
                    body["failed"].to_string().contains("not_shutting_down"),
                    "{body}"
                );
                saw_503 = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(saw_503, "readiness turned 503 during the drain");
    // After the drain the listener closes; the request in flight still gets its answer.
    tokio::time::sleep(Duration::from_millis(2500).saturating_sub(started.elapsed())).await;
    let (code, text) = finish(slow).await;
    assert_eq!(code, 200, "{text}");
    assert!(text.contains("access_token"), "{text}");
    // Then the process exits by itself, successfully.
    let mut exited = None;
    for _ in 0..100 {
        if let Some(s) = child.proc.try_wait().unwrap() {
            exited = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exited.unwrap_or_else(|| panic!("still running:\n{}", child.log_text()));
    assert!(status.success(), "{status}:\n{}", child.log_text());
    assert!(TcpStream::connect(("127.0.0.1", child.port)).await.is_err());
}

/// A TCP proxy the test controls: `cut` drops every connection and refuses new ones until
/// `restore`.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                conns2.lock().unwrap().push(task);
            }
        });
        Proxy { port, up, conns }
    }
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }
    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A Pforte on PostgreSQL at `db_url` with client `rp` and citizen anna, and a load run of
/// token (and with `introspect` introspection) requests started on it, after one token
/// received first.
async fn outage_setup(db_url: String, introspect: bool) -> (TestServer, ops::Load, String) {
    let server = TestServer::start_with(Backend::Postgres, |c| c.database.url = db_url).await;
    server.confidential("rp", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let r = client_credentials(&server.issuer).await;
    assert_eq!(r.status(), 200);
    let before: Value = r.json().await.unwrap();
    let load = ops::Load::start(&server.issuer, 3, introspect);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let token = before["access_token"].as_str().unwrap().to_string();
    (server, load, token)
}

/// While the database is away: token requests answer 503 `temporarily_unavailable` with
/// `Retry-After`, introspection of `token` (received before) too (never `active: false`: the
/// server cannot tell, RFC 7662 has no "don't know"), a citizen page the readable German "try
/// again shortly" page (503, `Retry-After`), readiness 503; all within the pool's acquire
/// timeout.
async fn assert_unavailable(server: &TestServer, token: &str) {
    let (auth_url, _) = authorize_url(server, "rp", &[]);
    let gap = Instant::now();
    for _ in 0..3 {
        let r = client_credentials(&server.issuer).await;
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").cloned();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 503, "{body}");
        assert!(retry.is_some(), "Retry-After on the 503");
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
        let r = ops::introspect_with(&reqwest::Client::new(), &server.issuer, token)
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(
            status, 503,
            "introspection while the database is away: {body}"
        );
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
        let r = reqwest::Client::new()
            .get(&auth_url)
            .header("Accept-Language", "de")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(r.headers().contains_key("retry-after"), "{status}");
        let html = r.text().await.unwrap();
        assert_eq!(status, 503, "{html}");
        assert!(html.contains("gleich noch einmal"), "{html}");
        let r = reqwest::get(server.url("/readyz")).await.unwrap();
        assert_eq!(r.status(), 503);
    }
    assert!(
        gap.elapsed() < Duration::from_secs(40),
        "503s come within the pool's acquire timeout"
    );
}

/// The database is back: token requests succeed again within 20 s, no 500 on the way, with
/// the same process. Then the load run stops: it saw only 200 and 503 (503 with
/// `Retry-After`), both, no connection error, and every token it received, and `token`
/// received before the outage, introspect active.
async fn assert_recovered(server: &TestServer, load: ops::Load, token: &str) {
    let mut recovered = false;
    for _ in 0..100 {
        let r = client_credentials(&server.issuer).await;
        assert_ne!(r.status(), 500);
        if r.status() == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "recovers without a restart");
    let during = load.seen();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = load.stop().await;
    eprintln!(
        "load run: {} answers, {} of them 503, {} tokens received",
        seen.statuses.len(),
        seen.count(503),
        seen.tokens.len()
    );
    assert!(
        seen.tokens.len() > during.tokens.len(),
        "the load run goes on"
    );
    assert!(
        seen.statuses.iter().all(|s| *s == 200 || *s == 503),
        "only 200 and 503 during the load run: {:?}",
        seen.statuses
    );
    assert!(seen.count(503) > 0 && seen.count(200) > 0);
    assert!(seen.faults.is_empty(), "{:?}", seen.faults);
    assert_eq!(seen.connection_errors, 0);
    for t in seen.tokens.iter().map(String::as_str).chain([token]) {
        assert_eq!(
            introspect(&server.issuer, t).await["active"],
            true,
            "no token lost"
        );
    }
    let r = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn resilience_postgres_unreachable_answers_503_never_500_and_recovers() {
    let (db_url, _) = fresh_db(Backend::Postgres).await;
    let real = url::Url::parse(&db_url).unwrap();
    let proxy = Proxy::start(format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    ))
    .await;
    let mut via = real.clone();
    via.set_port(Some(proxy.port)).unwrap();
    let (server, load, token) = outage_setup(via.to_string(), false).await;
    proxy.cut();
    assert_unavailable(&server, &token).await;
    proxy.restore();
    assert_recovered(&server, load, &token).await;
}

/// The case to the letter: the PostgreSQL server itself stopped (`pg_ctl stop -m
/// fast`, which ends every open connection) and started again on the same data directory and
/// port, during a load run of token and introspection requests, with the same Pforte.
#[tokio::test]
async fn resilience_postgres_stopped_and_started_during_load_503_no_500_no_token_lost() {
    let cluster = Arc::new(pgtemp::Cluster::new());
    let (server, load, token) = outage_setup(cluster.admin_url(), true).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop()).await.unwrap();
    assert_unavailable(&server, &token).await;
    assert!(load.seen().count(503) > 0, "the load run saw the gap");
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start())
        .await
        .unwrap();
    assert_recovered(&server, load, &token).await;
}

#[tokio::test]
async fn resilience_overload_is_refused_at_once_with_retry_after() {
    let server = TestServer::start_with(Backend::Sqlite, |c| {
        c.limits.protocol_concurrency = 4;
    })
    .await;
    server.confidential("rp", false).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(slow_token_request(server.port).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Many more at once: each refused quickly, 503 with Retry-After, never queued.
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let url = server.issuer.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client_credentials(&url).await;
            (
                r.status().as_u16(),
                r.headers().get("retry-after").cloned(),
                t.elapsed(),
            )
        }));
    }
    for t in tasks {
        let (status, retry, took) = t.await.unwrap();
        assert_eq!(status, 503);
        assert!(retry.is_some());
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
    // Probes are not bounded.
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200
    );
    assert_eq!(
        reqwest::get(server.url("/metrics")).await.unwrap().status(),
        200
    );
    // The admitted requests finish normally; then there is room again.
    for s in held {
        let (code, text) = finish(s).await;
        assert_eq!(code, 200, "{text}");
    }
    assert_eq!(client_credentials(&server.issuer).await.status(), 200);
    let metrics = ops::metrics_text(&server.issuer).await;
    assert!(metrics.contains("overloaded"), "{metrics}");
}

async fn kill9(backend: Backend) {
    let seed = TestServer::start(backend).await;
    seed.confidential("rp", true).await;
    seed.citizen("anna@example.de", PASSWORD).await;
    let mut child = Child::spawn(&seed, &[]).await;
    let server = seed.as_child(&child);
    // A code received but not yet redeemed, and a refresh token.
    let browser = Browser::new(&server);
    let (code1, verifier1) = login_code(&server, &browser, "rp", "anna@example.de").await;
    let (code2, verifier2) = login_code(&server, &browser, "rp", "anna@example.de").await;
    let (status, tokens) = exchange(&server, "rp", &code1, &verifier1).await;
    assert_eq!(status, 200);
    // Load: every access token a client receives is kept. The kill lands while it runs:
    // requests in flight at that moment, tokens received just before it.
    let load = ops::Load::start(&child.url(""), 4, false);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let earlier = load.seen().tokens.len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (in_flight, received) = (load.in_flight(), load.seen().tokens.len());
    child.kill9_and_restart().await;
    assert!(in_flight > 0, "token requests in flight at the kill");
    assert!(
        received > earlier,
        "tokens received in the 200 ms before the kill"
    );
    // The clients carry on against the restarted process.
    let restarted = load.seen().tokens.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = load.stop().await;
    assert!(seen.tokens.len() > restarted, "the load run goes on");
    assert!(seen.connection_errors > 0, "the kill cut the load run");
    eprintln!(
        "kill -9 {backend:?}: {in_flight} requests in flight at the kill, {received} tokens \
         before it, {} in all, {} requests without an answer",
        seen.tokens.len(),
        seen.connection_errors
    );
    for t in &seen.tokens {
        assert_eq!(
            introspect(&child.url(""), t).await["active"],
            true,
            "a token received before or after kill -9"
        );
    }
    assert_eq!(
        introspect(&child.url(""), tokens["access_token"].as_str().unwrap()).await["active"],
        true
    );
    let (status, body) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "refresh token survives kill -9: {body}");
    let (status, body) = exchange(&server, "rp", &code2, &verifier2).await;
    assert_eq!(status, 200, "code survives kill -9: {body}");
}

#[tokio::test]
async fn resilience_kill_9_loses_no_issued_token_sqlite() {
    kill9(Backend::Sqlite).await;
}

#[tokio::test]
async fn resilience_kill_9_loses_no_issued_token_postgres() {
    kill9(Backend::Postgres).await;
}

fn self_signed(
    dir: &std::path::Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    (cert, key, ck.cert.der().to_vec())
}

/// The certificate the server presented on the connection that carried `r`.
fn peer_cert(r: &reqwest::Response) -> Vec<u8> {
    r.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("TLS info")
        .to_vec()
}

#[tokio::test]
async fn resilience_sighup_reloads_the_certificate_without_dropping_connections() {
    let seed = TestServer::start(Backend::Sqlite).await;
    let dir = tempdir::Dir::new(&format!("pforte-hup-{}", pforte::secrets::random_token(4)));
    let (a_cert, a_key, a_der) = self_signed(&dir.path, "a");
    let (b_cert, b_key, b_der) = self_signed(&dir.path, "b");
    let live_cert = dir.path.join("live.pem");
    let live_key = dir.path.join("live-key.pem");
    std::fs::copy(&a_cert, &live_cert).unwrap();
    std::fs::copy(&a_key, &live_key).unwrap();
    let port = child::free_port();
    let issuer = format!("https://localhost:{port}");
    let child = Child::spawn_at(
        &seed,
        &issuer,
        port,
        &[
            ("PFORTE_TLS_CERT", live_cert.to_str().unwrap()),
            ("PFORTE_TLS_KEY", live_key.to_str().unwrap()),
        ],
    )
    .await;
    let client = || {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_der(&a_der).unwrap())
            .add_root_certificate(reqwest::Certificate::from_der(&b_der).unwrap())
            .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
            .tls_info(true)
            .build()
            .unwrap()
    };
    let url = format!("{issuer}/jwks");
    let kept = client();
    let r = kept.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(peer_cert(&r), a_der);
    r.bytes().await.unwrap();

    std::fs::copy(&b_cert, &live_cert).unwrap();
    std::fs::copy(&b_key, &live_key).unwrap();
    child.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The open connection keeps working (and keeps its handshake's certificate).
    let r = kept.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        peer_cert(&r),
        a_der,
        "the kept-alive connection was not dropped"
    );
    // A new connection gets the new certificate.
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(peer_cert(&r), b_der);
    assert!(child.proc.id() > 0);
    assert!(
        child.log_text().contains("TLS certificate reloaded"),
        "{}",
        child.log_text()
    );
}
