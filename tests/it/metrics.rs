//! Operations endpoints on a real server: `/metrics` parsed by a Prometheus text-format parser
//! after real traffic (families, bounded labels, counts), its optional bearer token, and
//! `/readyz` (ready when healthy; 503 with Retry-After naming the failed check when the
//! database is gone or the migrations differ), on SQLite and PostgreSQL.

use crate::common::*;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue, Sample};

type Scrape = MetricsExposition<PrometheusType, PrometheusValue>;

const FAMILIES: [&str; 10] = [
    "pforte_logins_total",
    "pforte_tokens_issued_total",
    "pforte_http_requests_total",
    "pforte_http_request_duration_seconds",
    "pforte_http_errors_total",
    "pforte_argon2_queue_depth",
    "pforte_argon2_wait_seconds",
    "pforte_db_pool_connections",
    "pforte_backchannel_deliveries_total",
    "pforte_backchannel_queue_depth",
];

async fn scrape(server: &TestServer, token: Option<&str>) -> (reqwest::StatusCode, String, String) {
    let mut req = reqwest::Client::new().get(server.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

fn parse(text: &str) -> Scrape {
    openmetrics_parser::prometheus::parse_prometheus(text)
        .unwrap_or_else(|e| panic!("not the Prometheus text format: {e:?}\n{text}"))
}

fn label(sample: &Sample<PrometheusValue>, name: &str) -> Option<String> {
    let set = sample.get_labelset().expect("a sample bound to its family");
    set.get_label_value(name).map(str::to_owned)
}

/// The value of the one sample of `family` whose labels include all of `labels` (for a
/// histogram: its observation count).
fn value(scrape: &Scrape, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<_> = scrape
        .families
        .get(family)?
        .iter_samples()
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| label(s, k).as_deref() == Some(*v))
        })
        .collect();
    assert!(
        matching.len() <= 1,
        "{family} {labels:?}: {} samples",
        matching.len()
    );
    matching.first().map(|s| match &s.value {
        PrometheusValue::Counter(c) => c.value.as_f64(),
        PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
        PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
        PrometheusValue::Summary(_) => panic!("{family}: unexpected summary"),
    })
}

#[tokio::test]
async fn metrics_after_real_traffic() {
    for backend in BOTH {
        let server = TestServer::start(backend).await;
        server.confidential("rp", true).await;
        server.citizen("anna@example.de", PASSWORD).await;

        // A full login (pages, a password check on the argon2 pool) and its code exchange.
        let browser = Browser::new(&server);
        let (code, verifier) = login_code(&server, &browser, "rp", "anna@example.de").await;
        let (status, body) = exchange(&server, "rp", &code, &verifier).await;
        assert_eq!(status, 200, "{body}");
        // client_credentials, and a replayed code (invalid_grant).
        let secret = "rp-secret-123";
        let (status, body) = token_request(
            &server,
            Some(("rp", secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = exchange(&server, "rp", &code, &verifier).await;
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert_eq!(status, 400);
        // A route with a path parameter and a path that matches no route.
        let client = reqwest::Client::new();
        let r = client
            .post(server.url("/account/consents/secret-client-xyz/revoke"))
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500);
        let r = client
            .get(server.url("/no/such/page-xyz?q=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        let (status, ct, text) = scrape(&server, None).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        let m = parse(&text);
        for family in FAMILIES {
            assert!(
                m.families.contains_key(family),
                "{backend:?}: no HELP for {family}\n{text}"
            );
        }
        let at_least = |metric: &str, labels: &[(&str, &str)], n: f64| {
            let v = value(&m, metric, labels)
                .unwrap_or_else(|| panic!("{backend:?}: no sample {metric} {labels:?}\n{text}"));
            assert!(
                v >= n,
                "{backend:?}: {metric} {labels:?} = {v}, expected >= {n}"
            );
        };
        at_least(
            "pforte_tokens_issued_total",
            &[("grant", "authorization_code")],
            1.0,
        );
        at_least(
            "pforte_tokens_issued_total",
            &[("grant", "client_credentials")],
            1.0,
        );
        assert_eq!(
            value(
                &m,
                "pforte_tokens_issued_total",
                &[("grant", "refresh_token")]
            ),
            Some(0.0)
        );
        at_least(
            "pforte_http_requests_total",
            &[("endpoint", "/token"), ("status_class", "2xx")],
            2.0,
        );
        at_least(
            "pforte_http_requests_total",
            &[("endpoint", "/authorize"), ("status_class", "3xx")],
            1.0,
        );
        at_least(
            "pforte_http_requests_total",
            &[("endpoint", "/login"), ("status_class", "2xx")],
            1.0,
        );
        at_least(
            "pforte_http_errors_total",
            &[("endpoint", "/token"), ("kind", "invalid_grant")],
            1.0,
        );
        at_least(
            "pforte_http_errors_total",
            &[("endpoint", "unmatched"), ("kind", "not_found")],
            1.0,
        );
        at_least(
            "pforte_http_requests_total",
            &[("endpoint", "/account/consents/{client_id}/revoke")],
            1.0,
        );
        at_least(
            "pforte_http_request_duration_seconds",
            &[("endpoint", "/token")],
            3.0,
        );
        // The login's password check and the client's first secret check waited for argon2.
        at_least("pforte_argon2_wait_seconds", &[], 1.0);
        assert_eq!(value(&m, "pforte_argon2_queue_depth", &[]), Some(0.0));
        assert_eq!(
            value(&m, "pforte_db_pool_connections", &[("state", "max")]),
            Some(8.0)
        );
        let idle = value(&m, "pforte_db_pool_connections", &[("state", "idle")]).unwrap();
        let in_use = value(&m, "pforte_db_pool_connections", &[("state", "in_use")]).unwrap();
        assert!(
            idle + in_use <= 8.0 && idle + in_use >= 1.0,
            "{idle} + {in_use}"
        );
        assert_eq!(
            value(
                &m,
                "pforte_backchannel_deliveries_total",
                &[("outcome", "delivered")]
            ),
            Some(0.0)
        );
        // Label values are route templates: nothing of the raw paths or queries leaks in.
        for s in m.families.values().flat_map(|f| f.iter_samples()) {
            if let Some(e) = label(s, "endpoint") {
                assert!(
                    !e.contains("xyz") && !e.contains('?'),
                    "raw path as label: {e}"
                );
            }
        }
    }
}

#[tokio::test]
async fn openmetrics_when_asked_and_bearer_token_when_configured() {
    let token = "0123456789abcdef".repeat(4);
    let t = token.clone();
    let server = TestServer::start_with(Backend::Sqlite, move |c| {
        c.metrics.bearer_token = Some(t);
    })
    .await;
    let (status, _, _) = scrape(&server, None).await;
    assert_eq!(status, 401);
    let (status, _, _) = scrape(&server, Some("wrong-token")).await;
    assert_eq!(status, 401);
    let (status, _, text) = scrape(&server, Some(&token)).await;
    assert_eq!(status, 200);
    assert!(parse(&text).families.contains_key("pforte_logins_total"));

    let r = reqwest::Client::new()
        .get(server.url("/metrics"))
        .bearer_auth(&token)
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = r.text().await.unwrap();
    let om = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{text}"));
    // OpenMetrics names a counter family without `_total`.
    assert!(om.families.contains_key("pforte_tokens_issued"), "{text}");
}

async fn readyz(server: &TestServer) -> (u16, Option<String>, serde_json::Value) {
    let r = reqwest::get(server.url("/readyz")).await.unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.json().await.unwrap())
}

#[tokio::test]
async fn readyz_follows_database_and_migrations() {
    for backend in BOTH {
        let server = TestServer::start(backend).await;
        let (status, retry, body) = readyz(&server).await;
        assert_eq!(status, 200, "{backend:?}: {body}");
        assert_eq!(retry, None);
        assert_eq!(body["ready"], true);

        // A migration this binary does not know (a newer release ran): not ready, named.
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'from the future', TRUE, '00', 0)",
        )
        .execute(&server.app.db.pool)
        .await
        .unwrap();
        let (status, retry, body) = readyz(&server).await;
        assert_eq!(status, 503, "{backend:?}: {body}");
        assert_eq!(retry.as_deref(), Some("5"));
        assert_eq!(body["failed"], serde_json::json!(["migrations"]), "{body}");
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 99990101000000")
            .execute(&server.app.db.pool)
            .await
            .unwrap();
        assert_eq!(
            readyz(&server).await.0,
            200,
            "{backend:?}: ready again without restart"
        );

        // The database goes away.
        match backend {
            Backend::Sqlite => server.app.db.pool.close().await,
            Backend::Postgres => {
                use sqlx::Connection;
                let name = url::Url::parse(server.db_url()).unwrap().path()[1..].to_string();
                let mut admin = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
                sqlx::Executor::execute(
                    &mut admin,
                    format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
                )
                .await
                .unwrap();
            }
        }
        let (status, retry, body) = readyz(&server).await;
        assert_eq!(status, 503, "{backend:?}: {body}");
        assert_eq!(retry.as_deref(), Some("5"));
        let failed = body["failed"].as_array().unwrap();
        assert!(failed.contains(&"database".into()), "{body}");
        assert!(!failed.contains(&"signing_keys".into()), "{body}");
        // Alive all the same.
        let r = reqwest::get(server.url("/healthz")).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "ok");
    }
}
