//! Structured logs of a real `pforte serve` process (`logging.format = json`): every line is
//! one JSON object, every line of a request names its request id, the id is the
//! `X-Request-Id` answer header (an incoming one from an untrusted peer is replaced), and no
//! password, code, token, secret or key used in a whole flow appears anywhere in the log.

use crate::common::{attack::introspect, child::Child, *};
use serde_json::Value;

#[tokio::test]
async fn logs_json_lines_with_request_ids_and_no_secrets() {
    let seed = TestServer::start(Backend::Sqlite).await;
    seed.confidential("rp", true).await;
    seed.citizen("anna@example.de", PASSWORD).await;
    let child = Child::spawn(
        &seed,
        &[
            ("PFORTE_LOGGING_FORMAT", "json"),
            // As talkative as an operator would ever run it.
            (
                "PFORTE_LOG",
                "debug,sqlx=debug,hyper=info,hyper_util=info,h2=info,rustls=info,reqwest=info",
            ),
        ],
    )
    .await;
    let server = seed.as_child(&child);
    let browser = Browser::new(&server);
    let mut secrets: Vec<String> = vec![PASSWORD.into(), "rp-secret-123".into(), seed.kek().into()];

    // A failed login (its password must not appear either).
    let wrong = "Wrong-Password-4711-xyz";
    secrets.push(wrong.into());
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = browser.get(&url).await;
    browser.login(&page, "anna@example.de", wrong).await;

    // The whole code flow, refresh, introspection, userinfo, client credentials.
    let (code, verifier) = login_code(&server, &browser, "rp", "anna@example.de").await;
    let (status, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    secrets.extend([code.clone(), verifier.clone()]);
    for k in ["access_token", "refresh_token", "id_token"] {
        secrets.push(tokens[k].as_str().unwrap().to_string());
    }
    let (status, refreshed) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    secrets.push(refreshed["refresh_token"].as_str().unwrap().to_string());
    secrets.push(refreshed["access_token"].as_str().unwrap().to_string());
    assert_eq!(
        introspect(&server, "rp", refreshed["access_token"].as_str().unwrap()).await["active"],
        true
    );
    // The reused (rotated) refresh token: an error path.
    let (status, _) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    let r = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status() == 401);
    let (status, cc) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{cc}");
    secrets.push(cc["access_token"].as_str().unwrap().to_string());
    // A wrong client secret.
    let (status, _) = token_request(
        &server,
        Some(("rp", "not-the-rp-secret-999")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 401);
    secrets.push("not-the-rp-secret-999".into());

    // An incoming X-Request-Id from an untrusted peer is replaced; the answer names the id.
    let r = reqwest::Client::new()
        .get(server.url("/jwks"))
        .header("X-Request-Id", "forged-request-id-1")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id, "forged-request-id-1");
    assert!(id.len() >= 16, "{id}");

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = child.log_text();
    let mut lines_of_id = 0;
    let mut request_lines = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        if let Some(rid) = v["span"]["request_id"].as_str() {
            request_lines += 1;
            assert!(!rid.is_empty(), "{line}");
            if rid == id {
                lines_of_id += 1;
            }
        }
        assert!(!line.contains("forged-request-id-1"), "{line}");
    }
    assert!(request_lines > 10, "request lines carry their id:\n{log}");
    assert!(
        lines_of_id >= 1,
        "the answered id {id} is in the log:\n{log}"
    );
    for s in &secrets {
        assert!(
            !log.contains(s.as_str()),
            "the log contains a secret ({}…):\n{log}",
            &s[..s.len().min(8)]
        );
    }
    // Every answer carries an id.
    let r = reqwest::get(server.url("/healthz")).await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
}
