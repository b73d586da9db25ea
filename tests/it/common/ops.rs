//! Helpers of the operations tests (resilience, several instances, back-channel logout, the
//! command line): plain client_credentials and introspection requests as client `rp`,
//! [`Load`], a load run of concurrent clients that keeps every answer and every token it
//! received, and [`run_pforte`], the `pforte` binary as an operator runs it.

use std::{
    ffi::OsStr,
    io::Write,
    process::{Command, Output, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

/// Verifies a JWS against a JWKS like a relying party with that (maybe cached) key set:
/// the key by `kid`, the signature, `iss`, `aud` when given, and the `required` claims.
pub fn verify_jws(
    set: &JwkSet,
    token: &str,
    issuer: &str,
    aud: Option<&str>,
    required: &[&str],
) -> Result<Value, String> {
    let h = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = h.kid.clone().ok_or("no kid")?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(h.alg);
    v.set_issuer(&[issuer]);
    match aud {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(required);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

/// The `kid` in a JWS header.
pub fn kid(token: &str) -> String {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    header.kid.expect("kid in the header")
}

/// The text of `/metrics` at `url` (the issuer or an instance's base URL).
pub async fn metrics_text(url: &str) -> String {
    let r = reqwest::get(format!("{url}/metrics")).await.unwrap();
    r.text().await.unwrap()
}

/// Runs the `pforte` binary with a clean `PFORTE_*` environment plus `env`, `args`, and
/// `stdin` as its standard input (none: `/dev/null`); waits for it to end.
pub fn run_pforte<K: AsRef<OsStr>, V: AsRef<OsStr>>(
    env: &[(K, V)],
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = pforte_command(env);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run pforte");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// The `pforte` binary with a clean `PFORTE_*` environment plus `env`.
pub fn pforte_command<K: AsRef<OsStr>, V: AsRef<OsStr>>(env: &[(K, V)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pforte"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PFORTE_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// The secret of the confidential client `rp` that [`super::TestServer::confidential`] makes.
pub const RP_SECRET: &str = "rp-secret-123";

/// `POST /token` with `grant_type=client_credentials` as `rp` on `client`.
pub async fn client_credentials_with(
    client: &reqwest::Client,
    url: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{url}/token"))
        .basic_auth("rp", Some(RP_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
}

/// `POST /token` with `grant_type=client_credentials` as `rp`.
pub async fn client_credentials(url: &str) -> reqwest::Response {
    client_credentials_with(&reqwest::Client::new(), url)
        .await
        .unwrap()
}

/// `POST /introspect` of `token` as `rp` on `client`.
pub async fn introspect_with(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{url}/introspect"))
        .basic_auth("rp", Some(RP_SECRET))
        .form(&[("token", token)])
        .send()
        .await
}

/// The introspection answer (asserted 200) for `token`.
pub async fn introspect(url: &str, token: &str) -> Value {
    let r = introspect_with(&reqwest::Client::new(), url, token)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// What a [`Load`] run saw.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The status of every answer (token and introspection requests).
    pub statuses: Vec<u16>,
    /// Every access token a client received.
    pub tokens: Vec<String>,
    /// Answers that break the rules: a 503 without `Retry-After` or without
    /// `temporarily_unavailable`, a 200 introspection of a received token that is not active.
    pub faults: Vec<String>,
    /// Requests that got no HTTP answer at all (connection refused or cut).
    pub connection_errors: usize,
}

impl Seen {
    pub fn count(&self, status: u16) -> usize {
        self.statuses.iter().filter(|s| **s == status).count()
    }
}

/// Concurrent clients, each in a loop: client_credentials, then (with `introspect`) the
/// introspection of the token just received; a short pause after an error.
pub struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    in_flight: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(url: &str, clients: usize, introspect: bool) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<Seen>> = Arc::default();
        let in_flight: Arc<AtomicUsize> = Arc::default();
        let tasks = (0..clients)
            .map(|_| {
                let (url, stop, seen) = (url.to_string(), stop.clone(), seen.clone());
                let in_flight = in_flight.clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    while !stop.load(Ordering::SeqCst) {
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        let answer = client_credentials_with(&client, &url).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        let token = record(&seen, answer)
                            .await
                            .and_then(|v| v["access_token"].as_str().map(str::to_string));
                        let Some(token) = token else {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        };
                        seen.lock().unwrap().tokens.push(token.clone());
                        if introspect {
                            let v = record(&seen, introspect_with(&client, &url, &token).await);
                            if let Some(v) = v.await {
                                if v["active"] != true {
                                    seen.lock().unwrap().faults.push(format!(
                                        "a received token introspected inactive: {v}"
                                    ));
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            seen,
            in_flight,
            tasks,
        }
    }

    /// Token requests sent and not yet answered, now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// What the clients saw so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// Stops the clients (each finishes its request) and returns what they saw.
    pub async fn stop(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            t.await.unwrap();
        }
        self.seen.lock().unwrap().clone()
    }
}

/// Records one answer; the JSON body of a 200.
async fn record(seen: &Mutex<Seen>, answer: reqwest::Result<reqwest::Response>) -> Option<Value> {
    let Ok(r) = answer else {
        seen.lock().unwrap().connection_errors += 1;
        return None;
    };
    let status = r.status().as_u16();
    let retry_after = r.headers().contains_key("retry-after");
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let mut seen = seen.lock().unwrap();
    seen.statuses.push(status);
    if status == 503 && (!retry_after || body["error"] != "temporarily_unavailable") {
        seen.faults
            .push(format!("503 (Retry-After: {retry_after}): {body}"));
    }
    (status == 200).then_some(body)
}
