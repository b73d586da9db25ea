//! `private_key_jwt` toward an upstream (issue 8, item 1): Pforte authenticates at the eID
//! peer's token endpoint with a client assertion signed by its own RS256 key; the peer (panva's
//! oidc-provider, a separate process) requires `private_key_jwt` for Pforte's client and reads
//! the keys from Pforte's `jwks_uri`. A peer that trusts another key set refuses the assertion:
//! the citizen reads the failure page, nothing is created or linked.

use crate::common::{federation::*, *};
use reqwest::StatusCode;

/// The eID peer requiring `private_key_jwt` with the keys at `jwks_uri`, registered at
/// `server` as source `id` with `--auth-method private_key_jwt` and no client secret.
async fn key_peer(server: &TestServer, id: &str, jwks_uri: &str) -> EidOp {
    let redirect = server.url(&format!("/upstream/{id}/callback"));
    let op = EidOp::start(
        server,
        &[
            ("AUTH_METHOD", "private_key_jwt"),
            ("CLIENT_JWKS_URI", jwks_uri),
            ("REDIRECT_URI", &redirect),
        ],
    )
    .await;
    register_eid_as(server, &op, id, &["--auth-method", "private_key_jwt"]);
    op
}

#[tokio::test]
async fn private_key_jwt_with_pfortes_own_key() {
    let server = TestServer::start(Backend::Sqlite).await;
    // Another Pforte's keys: what a peer registered with the wrong key set would trust.
    let stranger = TestServer::start(Backend::Sqlite).await;
    let _good = key_peer(&server, "eid", &server.url("/jwks")).await;
    let _wrong = key_peer(&server, "eidx", &stranger.url("/jwks")).await;
    downstream_client(&server, None).await;
    let upstream = server.app.db.upstream_get("eid").await.unwrap().unwrap();
    assert_eq!(upstream.auth_method.as_deref(), Some("private_key_jwt"));

    // The peer with Pforte's keys accepts the assertion: a first eID login, acr high.
    let before = counts(&server).await;
    let w = Walker::new();
    let (out, verifier) = w.eid_login(&server, &[], "eid", "erika").await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/high", "{claims}");
    assert_eq!(counts(&server).await, (before.0 + 1, before.1 + 1));

    // The peer trusting another key set refuses it (invalid_client): the page, the audit
    // entry, and no account or link.
    let before = counts(&server).await;
    let w = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let out = w.start_at(&page, "eidx").await;
    let out = eid_pin(&w, &out, "max").await;
    assert!(out.is_page("/upstream/eidx/callback"), "{out:?}");
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(
        out.html().contains("Anmeldung konnte nicht geprüft werden"),
        "{}",
        out.html()
    );
    assert!(out.html().contains("<code>token</code>"), "{}", out.html());
    assert!(out.html().contains("href=\"/login?req="), "the way back");
    assert_eq!(counts(&server).await, before, "nothing half-created");
    let failed = audited(&server, "upstream.login_failed", 1).await;
    assert_eq!(failed[0].detail["reason"], "token");
    assert_eq!(failed[0].detail["upstream"], "eidx");
    assert!(w.get(&server.url("/account")).await.is_page("/login"));
}
