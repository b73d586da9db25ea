//! Issue 10, item 4: the findings of the code read, each sent as an attack against a running
//! Pforte: refresh tokens keep their grant's absolute lifetime and today's rules; anonymous
//! authorization requests are short-lived and bounded; a cross-site POST cannot replace a
//! citizen's session; TOTP enrolment needs a fresh login; introspection answers only a
//! token's own client and named resource servers; PKCE is required of confidential clients.

use std::time::Duration;

use pforte::{admin, assurance::Level, audit::Actor};
use reqwest::{header, StatusCode};

use crate::common::{attack::*, *};

/// Logs in through the first-party client `rp` with offline_access; returns the token response.
async fn tokens_with_refresh(server: &TestServer, browser: &Browser) -> serde_json::Value {
    let (url, verifier) = authorize_url(
        server,
        "rp",
        &[("scope", "openid profile email offline_access")],
    );
    let mut out = browser.get(&url).await;
    if out.is_page("/login") {
        out = browser.login(&out, "anna@example.de", PASSWORD).await;
    }
    let code = out.param("code").unwrap_or_else(|| panic!("{out:?}"));
    let (status, body) = exchange(server, "rp", &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    body
}

async fn refresh(server: &TestServer, token: &str) -> (StatusCode, serde_json::Value) {
    token_request(
        server,
        Some(("rp", "rp-secret-123")),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// Rotation renews the token, never the grant: after `tokens.refresh_absolute_ttl` from the
/// login every refresh is `invalid_grant`.
async fn refresh_tokens_have_an_absolute_lifetime(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |c| {
        c.tokens.refresh_absolute_ttl = 1000;
    })
    .await;
    server.confidential("rp", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let mut rt = tokens_with_refresh(&server, &browser).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        server.app.clock.advance(300);
        let (status, body) = refresh(&server, &rt).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        rt = body["refresh_token"].as_str().unwrap().to_string();
    }
    server.app.clock.advance(101);
    assert_oauth_error(&refresh(&server, &rt).await, "invalid_grant");
}

/// Every refresh applies today's rules: a scope minimum raised above the login's level, a
/// client minimum raised, a disabled account: each `invalid_grant`.
async fn refresh_rechecks_minimums_and_the_account(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let rt = |b: &serde_json::Value| b["refresh_token"].as_str().unwrap().to_string();
    let t1 = rt(&tokens_with_refresh(&server, &browser).await);
    let t2 = rt(&tokens_with_refresh(&server, &browser).await);
    let t3 = rt(&tokens_with_refresh(&server, &browser).await);
    let t4 = rt(&tokens_with_refresh(&server, &browser).await);
    // Still fine today.
    let (status, body) = refresh(&server, &t1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t1 = rt(&body);

    // A scope minimum above the login's level (low).
    admin::set_scope_min_level(
        &server.app.db,
        &Actor::Cli,
        "email",
        Some(Level::Substantial),
    )
    .await
    .unwrap();
    assert_oauth_error(&refresh(&server, &t1).await, "invalid_grant");
    // A narrower scope without it is fine (RFC 6749 §6).
    let (status, body) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t2),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    admin::set_scope_min_level(&server.app.db, &Actor::Cli, "email", None)
        .await
        .unwrap();

    // The client's minimum raised (the client cache refreshes within 5 s).
    admin::set_client_min_level(&server.app.db, &Actor::Cli, "rp", Some(Level::Substantial))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5100)).await;
    assert_oauth_error(&refresh(&server, &t3).await, "invalid_grant");
    admin::set_client_min_level(&server.app.db, &Actor::Cli, "rp", None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5100)).await;

    // The account disabled.
    admin::disable_account(&server.app.db, &Actor::Cli, "anna@example.de")
        .await
        .unwrap();
    assert_oauth_error(&refresh(&server, &t4).await, "invalid_grant");
}

/// A flood of anonymous authorization requests stores sessions that expire with the pending
/// request (30 minutes, not the 8 hours of a login), and one address can start only so many.
async fn anonymous_authorize_requests_are_short_lived_and_bounded(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    let http = no_redirects();
    let (url, _) = authorize_url(&server, "rp", &[]);
    for i in 0..100 {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "request {i}");
        if i == 0 {
            let cookie = r.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .to_string();
            let max_age: i64 = cookie
                .split(';')
                .find_map(|p| p.trim().strip_prefix("Max-Age="))
                .unwrap_or_else(|| panic!("{cookie}"))
                .parse()
                .unwrap();
            assert!(max_age <= 30 * 60, "{cookie}");
        }
    }
    // Stored rows expire within half an hour.
    let (table, later_than) = match backend {
        Backend::Sqlite => (
            "tower_sessions",
            "julianday(expiry_date) > julianday('now', '+31 minutes')",
        ),
        Backend::Postgres => (
            "tower_sessions.session",
            "expiry_date > now() + interval '31 minutes'",
        ),
    };
    let count = |filter: String| {
        let pool = server.app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table} WHERE {filter}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(count("1 = 1".into()).await >= 100);
    let later = count(later_than.into()).await;
    assert_eq!(later, 0, "anonymous sessions live at most 30 minutes");
    // The 101st from this address is refused; nothing stored.
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get(header::SET_COOKIE).is_none());
}

/// A cookieless cross-site `POST /authorize` (an auto-submitting form on another site; the
/// SameSite=Lax cookie stays home) must not start a session that replaces the citizen's: it is
/// sent on as a top-level GET, which carries the cookie.
async fn cross_site_post_authorize_keeps_the_citizens_session(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    login_code(&server, &browser, "rp", "anna@example.de").await;
    let (url, _) = authorize_url(&server, "rp", &[]);
    let query = url::Url::parse(&url).unwrap().query().unwrap().to_string();
    let r = no_redirects()
        .post(server.url("/authorize"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://evil.example")
        .body(query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers().get(header::SET_COOKIE).is_none(),
        "no new session"
    );
    let loc = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    assert!(loc.starts_with("/authorize?"), "{loc}");
    // The citizen's browser follows with its cookie: single sign-on, straight to the client.
    let out = browser.get(&server.url(&loc)).await;
    assert!(out.param("code").is_some(), "{out:?}");
    let account = browser.get(&server.url("/account")).await;
    assert!(account.is_page("/account"), "still logged in: {account:?}");
}

/// Setting up TOTP (like a passkey) needs a login no older than 15 minutes: a session left
/// open cannot enrol the finder's authenticator.
async fn totp_enrolment_needs_a_fresh_login(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    server.citizen("anna@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    let page = browser.get(&server.url("/login")).await;
    let out = browser.login(&page, "anna@example.de", PASSWORD).await;
    assert!(out.is_page("/account"), "{out:?}");
    let http = &browser.http;
    let r = http
        .get(server.url("/account/security/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    server.app.clock.advance(16 * 60);
    let r = http
        .get(server.url("/account/security/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/login");
    // Logging in again allows it.
    let page = browser.get(&server.url("/login")).await;
    browser.login(&page, "anna@example.de", PASSWORD).await;
    let r = http
        .get(server.url("/account/security/totp"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// RFC 7662 §2.2: another client learns nothing about a token (`active: false`); the token's
/// own client and a resource server the admin named (`--introspect`) do.
async fn introspection_answers_own_client_and_named_resource_servers(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", false).await;
    server.confidential("other", false).await;
    server
        .add_client(admin::NewClient {
            id: "rs".into(),
            secret: Some("rs-secret-123".into()),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["openid".into()],
            may_introspect: true,
            ..Default::default()
        })
        .await;
    let (status, body) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let at = body["access_token"].as_str().unwrap();
    let introspect = |id: &'static str| {
        let http = reqwest::Client::new();
        let url = server.url("/introspect");
        let at = at.to_string();
        async move {
            http.post(url)
                .basic_auth(id, Some(format!("{id}-secret-123")))
                .form(&[("token", at.as_str())])
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        introspect("other").await,
        serde_json::json!({ "active": false })
    );
    assert_eq!(introspect("rp").await["active"], true);
    let rs = introspect("rs").await;
    assert_eq!(rs["active"], true);
    assert_eq!(rs["client_id"], "rp");
}

/// RFC 9700 §2.1.1: a confidential client must use PKCE too; only a legacy client the admin
/// marked `--pkce-optional` may leave it out (and a public client cannot be marked).
async fn rfc9700_2_1_1_pkce_is_required_of_confidential_clients(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", true).await;
    let legacy = |id: &str, public: bool| admin::NewClient {
        id: id.into(),
        secret: (!public).then(|| format!("{id}-secret-123")),
        redirect_uris: vec![redirect(id)],
        scopes: vec!["openid".into()],
        first_party: true,
        pkce_optional: true,
        ..Default::default()
    };
    server.add_client(legacy("legacy", false)).await;
    let refused = admin::register_client(
        &server.app.db,
        &server.app.hasher,
        &Actor::Cli,
        legacy("spa", true),
    )
    .await;
    assert!(refused.is_err());
    let without_pkce = |id: &str| {
        let mut u = url::Url::parse(&server.url("/authorize")).unwrap();
        u.query_pairs_mut()
            .append_pair("client_id", id)
            .append_pair("redirect_uri", &redirect(id))
            .append_pair("response_type", "code")
            .append_pair("scope", "openid")
            .append_pair("state", "s1");
        u.to_string()
    };
    let browser = Browser::new(&server);
    let out = browser.get(&without_pkce("rp")).await;
    assert_eq!(
        out.param("error").as_deref(),
        Some("invalid_request"),
        "{out:?}"
    );
    assert_eq!(out.param("state").as_deref(), Some("s1"));
    let out = browser.get(&without_pkce("legacy")).await;
    assert!(out.is_page("/login"), "{out:?}");

    // The upgrade path of a confidential client registered before the rule
    // (docs/operations.md, "Upgrading"): its exported row with `pkce_optional`, imported.
    let exported = admin::bulk::export_all(&server.app.db, admin::bulk::Format::Json)
        .await
        .unwrap();
    let mut rows: Vec<admin::bulk::Row> = serde_json::from_str(&exported).unwrap();
    rows.retain(|r| r.id == "rp");
    assert_eq!(rows[0].pkce_optional, None);
    rows[0].pkce_optional = Some(true);
    let parsed = admin::bulk::parse(
        &serde_json::to_string(&rows).unwrap(),
        admin::bulk::Format::Json,
    )
    .unwrap();
    let report = admin::bulk::import(
        &server.app.db,
        &server.app.hasher,
        &Actor::Cli,
        "public",
        parsed,
    )
    .await
    .unwrap();
    assert_eq!(report.updated, ["rp"]);
    let out = browser.get(&without_pkce("rp")).await;
    assert!(out.is_page("/login"), "{out:?}");
}

both!(
    workers = 2;
    refresh_tokens_have_an_absolute_lifetime,
    refresh_rechecks_minimums_and_the_account,
    anonymous_authorize_requests_are_short_lived_and_bounded,
    cross_site_post_authorize_keeps_the_citizens_session,
    totp_enrolment_needs_a_fresh_login,
    introspection_answers_own_client_and_named_resource_servers,
    rfc9700_2_1_1_pkce_is_required_of_confidential_clients,
);
