//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0), on SQLite and
//! PostgreSQL, driven round by round (`backchannel::deliver_due`) on a manual clock: an admin
//! disabling the account notifies the services the session reached; a relying party that
//! fails is retried after the backoff, not before, by whichever instance comes next; the
//! queue survives a restart; a delivered token is not sent again; clients without an endpoint
//! get nothing; discovery says so; a bad endpoint is refused at registration.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc, Mutex,
};

use crate::common::{ops, *};
use axum::{extract::State, http::StatusCode, routing::post, Form, Router};
use pforte::admin::NewClient;

#[derive(Clone, Default)]
pub(crate) struct Rp {
    /// Answers 500 to this many attempts first.
    pub(crate) fail_first: Arc<AtomicU32>,
    pub(crate) received: Arc<Mutex<Vec<String>>>,
}

pub(crate) async fn rp_endpoint(rp: Rp) -> String {
    async fn receive(
        State(rp): State<Rp>,
        Form(f): Form<std::collections::HashMap<String, String>>,
    ) -> StatusCode {
        if rp
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        rp.received
            .lock()
            .unwrap()
            .push(f.get("logout_token").cloned().unwrap_or_default());
        StatusCode::OK
    }
    let app = Router::new().route("/bc", post(receive)).with_state(rp);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/bc", l.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(l, app).await });
    url
}

async fn client_with_backchannel(server: &TestServer, id: &str, uri: Option<String>) {
    server
        .add_client(NewClient {
            id: id.into(),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            scopes: ["openid", "profile", "email"].map(String::from).to_vec(),
            first_party: true,
            backchannel_logout_uri: uri,
            ..Default::default()
        })
        .await;
}

async fn round(server: &TestServer, instance: &str) -> usize {
    pforte::backchannel::deliver_due(&server.app.core, instance)
        .await
        .expect("a delivery round")
}

async fn scenario(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    let rp = Rp::default();
    rp.fail_first.store(1, Ordering::SeqCst);
    let uri = rp_endpoint(rp.clone()).await;
    client_with_backchannel(&server, "rp", Some(uri)).await;
    client_with_backchannel(&server, "quiet", None).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let (code, verifier) = login_code(&server, &browser, "rp", "anna@example.de").await;
    let (status, tokens) = exchange(&server, "rp", &code, &verifier).await;
    assert_eq!(status, 200);
    let sid = payload(tokens["id_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_string();
    // The session also reached a client without a back-channel endpoint.
    login_code(&server, &browser, "quiet", "anna@example.de").await;
    assert_eq!(
        round(&server, "i1").await,
        0,
        "nothing queued before the end"
    );

    // An admin disables the account: its sessions end, the services are told.
    pforte::admin::disable_account(
        &server.app.db,
        &pforte::audit::Actor::Cli,
        "anna@example.de",
    )
    .await
    .unwrap();
    assert_eq!(round(&server, "i1").await, 1, "one delivery: rp only");
    assert!(
        rp.received.lock().unwrap().is_empty(),
        "first attempt failed"
    );
    // Another instance does not take it before the backoff is over.
    assert_eq!(round(&server, "i2").await, 0, "not due before the backoff");
    server.app.clock.advance(3);
    assert_eq!(round(&server, "i2").await, 0, "still not due");

    // The queue survives a restart.
    let server = server.restart().await;
    server.app.clock.advance(10);
    assert_eq!(round(&server, "i2").await, 1);
    let got = rp.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "delivered once");
    let claims = payload(&got[0]);
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["aud"], "rp");
    assert_eq!(claims["iss"], server.issuer.as_str());
    server.app.clock.advance(3600);
    assert_eq!(
        round(&server, "i1").await,
        0,
        "a delivered token is not sent again"
    );
    assert_eq!(server.app.db.backchannel_backlog().await.unwrap(), 0);
    let metrics = ops::metrics_text(&server.issuer).await;
    assert!(
        metrics.contains("pforte_backchannel_deliveries_total{outcome=\"delivered\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("pforte_backchannel_deliveries_total{outcome=\"retry\"} 0")
            || metrics.contains("pforte_backchannel_queue_depth 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn backchannel_admin_disable_retry_restart_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test]
async fn backchannel_admin_disable_retry_restart_postgres() {
    scenario(Backend::Postgres).await;
}

#[tokio::test]
async fn backchannel_discovery_and_registration_rules() {
    let server = TestServer::start(Backend::Sqlite).await;
    let d: serde_json::Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
    for bad in [
        "http://rp.example.de/bc",
        "https://rp.example.de/bc#frag",
        "not a url",
    ] {
        let r = pforte::admin::register_client(
            &server.app.db,
            &server.app.hasher,
            &pforte::audit::Actor::Cli,
            NewClient {
                id: "x".into(),
                secret: Some("x-secret-123".into()),
                redirect_uris: vec![redirect("x")],
                backchannel_logout_uri: Some(bad.into()),
                ..Default::default()
            },
        )
        .await;
        assert!(r.is_err(), "{bad} refused");
    }
    assert!(server.app.db.client_get("x").await.unwrap().is_none());
}
