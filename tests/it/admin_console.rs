//! The admin console (issue 12) over real HTTP: staff sign in through Pforte itself at
//! substantial (password + TOTP, proofed account), what each role may and may not do (403s,
//! pages and API), a revoked role and a stale login, a service created in the console holding
//! the next citizen login to its minimum; and the API's bulk import of 1,000 services in one
//! call, idempotent, with every bad row named.

use crate::common::{admin_kit::*, *};
use pforte::{
    admin::{self, roles::Role},
    assurance::Level,
    audit::Actor,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A staff member's access token for the console's client, through a real authorization
/// request in the browser `b` (signed in already) and the token endpoint (public client, PKCE).
async fn console_token(server: &TestServer, b: &Browser) -> String {
    let (verifier, challenge) = pkce();
    let redirect_uri = server.url("/admin/callback");
    let mut u = url::Url::parse(&server.url("/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("client_id", "pforte-admin-console")
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "s");
    let mut next = u.to_string();
    let code = loop {
        let r = b.http.get(&next).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "{}: {}",
            r.status(),
            r.text().await.unwrap()
        );
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let to = url::Url::parse(&next).unwrap().join(&loc).unwrap();
        if to.as_str().starts_with(&redirect_uri) {
            break to
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned();
        }
        next = to.to_string();
    };
    let (st, body) = token_request(
        server,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "pforte-admin-console"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn api_status(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> u16 {
    let mut r = reqwest::Client::new()
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn console(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    let admin_seed = staff(&server, "admin@stadt.example", &[Role::Admin]).await;
    let help_seed = staff(&server, "help@stadt.example", &[Role::Helpdesk]).await;
    let audit_seed = staff(&server, "audit@stadt.example", &[Role::Auditor]).await;
    let citizen_seed = staff(&server, "citizen@example.de", &[]).await;

    // --- A citizen without a role: 403 after a valid substantial login, and nothing kept.
    let b = Browser::new(&server);
    let out = sign_in(&server, &b, "citizen@example.de", &citizen_seed).await;
    assert_eq!(status(&out), StatusCode::FORBIDDEN, "{out:?}");
    assert!(out.html().contains("Kein Zugriff"), "{}", out.html());
    let again = get(&b, &server, "/admin/services").await;
    assert!(
        !again.is_page("/admin/services"),
        "no console session: {again:?}"
    );

    // --- The admin signs in and creates a service held to substantial.
    let a = Browser::new(&server);
    let home = sign_in(&server, &a, "admin@stadt.example", &admin_seed).await;
    assert!(home.is_page("/admin/"), "{home:?}");
    assert_eq!(status(&home), StatusCode::OK);
    for path in [
        "/admin/services",
        "/admin/policy",
        "/admin/keys",
        "/admin/citizens",
        "/admin/audit",
        "/admin/services/new",
        "/admin/services/import",
    ] {
        let p = get(&a, &server, path).await;
        assert_eq!(status(&p), StatusCode::OK, "{path}: {p:?}");
    }
    // Without the confirmation checkbox nothing happens.
    let fields = [
        ("id", "hundesteuer"),
        ("name", "Hundesteuer"),
        ("redirect_uris", "http://127.0.0.1:9999/hundesteuer/cb"),
        ("auth", "secret"),
        ("grant_types", "authorization_code"),
        ("scopes", "openid email"),
        ("min_level", "substantial"),
        ("methods", ""),
        ("upstreams", ""),
    ];
    let out = post(
        &a,
        &server,
        "/admin/services/new",
        "/admin/services/new",
        &fields,
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{out:?}");
    assert!(server
        .app
        .db
        .client_get("hundesteuer")
        .await
        .unwrap()
        .is_none());
    // A forged form (no CSRF token) is refused.
    let forged = a
        .post_form(
            &server.url("/admin/services/new"),
            &[("id", "x"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status(&forged), StatusCode::BAD_REQUEST, "{forged:?}");
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm", "yes"));
    let out = post(
        &a,
        &server,
        "/admin/services/new",
        "/admin/services/new",
        &confirmed,
    )
    .await;
    assert_eq!(status(&out), StatusCode::OK, "{out:?}");
    let secret = scraper_text(out.html(), "#secret");
    assert!(
        secret.len() >= 32,
        "the new secret is shown once: {}",
        out.html()
    );
    let c = server
        .app
        .db
        .client_get("hundesteuer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.min_level, Some(Level::Substantial));
    // The secret works at the token endpoint (client_secret_basic; the grant is unsupported,
    // but the client authenticated: not invalid_client).
    let (st, body) = token_request(
        &server,
        Some(("hundesteuer", &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "http://127.0.0.1:9999/hundesteuer/cb"),
        ],
    )
    .await;
    assert_ne!(body["error"], "invalid_client", "{st} {body}");

    // A citizen's login through that service is held to substantial: password is not enough.
    let citizen = Browser::new(&server);
    let (url, _verifier) = authorize_url(&server, "hundesteuer", &[("scope", "openid email")]);
    let page = citizen.get(&url).await;
    let out = citizen.login(&page, "citizen@example.de", PASSWORD).await;
    assert!(out.is_page("/stepup"), "substantial demanded: {out:?}");

    // Edit: lower the minimum; audited with before and after, effective at once.
    let mut edit: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| *k != "id" && *k != "auth")
        .copied()
        .collect();
    edit.retain(|(k, _)| *k != "min_level");
    edit.push(("min_level", "low"));
    edit.push(("confirm", "yes"));
    let out = post(
        &a,
        &server,
        "/admin/services/hundesteuer",
        "/admin/services/hundesteuer",
        &edit,
    )
    .await;
    assert!(out.is_page("/admin/services/hundesteuer"), "{out:?}");
    assert!(out.html().contains("Gespeichert"), "{}", out.html());
    let c = server
        .app
        .db
        .client_get("hundesteuer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.min_level, None);
    let events = server
        .app
        .db
        .audit_list(Some("client.updated"), 10)
        .await
        .unwrap();
    assert_eq!(events[0].detail["before"]["min_level"], "substantial");
    assert_eq!(events[0].detail["after"]["min_level"], Value::Null);
    assert!(
        events[0].actor.starts_with("admin:account:"),
        "{}",
        events[0].actor
    );

    // Rotation: a new secret, shown once; the old one stops working.
    let out = post(
        &a,
        &server,
        "/admin/services/hundesteuer",
        "/admin/services/hundesteuer/secret",
        &[("confirm", "yes")],
    )
    .await;
    let rotated = scraper_text(out.html(), "#secret");
    assert_ne!(rotated, secret);
    let (_, body) = token_request(
        &server,
        Some(("hundesteuer", &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "http://127.0.0.1:9999/hundesteuer/cb"),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_client", "old secret refused");
    // The edit page never shows a secret or its hash.
    let p = get(&a, &server, "/admin/services/hundesteuer").await;
    assert!(!p.html().contains(&rotated) && !p.html().contains("argon2"));

    // --- Help desk: citizens yes; services, policy, keys, audit no (pages, forms).
    let h = Browser::new(&server);
    let home = sign_in(&server, &h, "help@stadt.example", &help_seed).await;
    assert!(home.is_page("/admin/"), "{home:?}");
    for path in [
        "/admin/services",
        "/admin/services/hundesteuer",
        "/admin/services/export?format=json",
        "/admin/policy",
        "/admin/keys",
        "/admin/audit",
        "/admin/services/new",
    ] {
        let p = get(&h, &server, path).await;
        assert_eq!(status(&p), StatusCode::FORBIDDEN, "{path}: {p:?}");
    }
    let out = post(
        &h,
        &server,
        "/admin/",
        "/admin/policy/levels",
        &[
            ("low", "1"),
            ("substantial", "1"),
            ("high", "1"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status(&out), StatusCode::FORBIDDEN, "{out:?}");
    let out = post(
        &h,
        &server,
        "/admin/",
        "/admin/services/hundesteuer/secret",
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status(&out), StatusCode::FORBIDDEN, "{out:?}");
    let found = get(&h, &server, "/admin/citizens?q=citizen@").await;
    assert!(
        found.html().contains("citizen@example.de"),
        "{}",
        found.html()
    );
    let cid = server
        .app
        .db
        .account_by_email("citizen@example.de")
        .await
        .unwrap()
        .unwrap()
        .id;
    let detail = format!("/admin/citizens/{cid}");
    let p = get(&h, &server, &detail).await;
    assert_eq!(status(&p), StatusCode::OK);
    assert!(
        !p.html().contains("/proof\""),
        "no proofing form for the help desk"
    );
    // The citizen has a live session (the login above); the help desk ends it.
    assert!(!server
        .app
        .db
        .sso_sessions_of(&cid, 3600)
        .await
        .unwrap()
        .is_empty());
    let out = post(
        &h,
        &server,
        &detail,
        &format!("{detail}/end-sessions"),
        &[("confirm", "yes")],
    )
    .await;
    assert!(out.is_page(&detail), "{out:?}");
    assert!(server
        .app
        .db
        .sso_sessions_of(&cid, 3600)
        .await
        .unwrap()
        .is_empty());
    let out = post(
        &h,
        &server,
        &detail,
        &format!("{detail}/lock"),
        &[("confirm", "yes")],
    )
    .await;
    assert!(out.is_page(&detail), "{out:?}");
    assert!(server
        .app
        .db
        .account_get(&cid)
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_some());
    let out = post(
        &h,
        &server,
        &detail,
        &format!("{detail}/unlock"),
        &[("confirm", "yes")],
    )
    .await;
    assert!(out.is_page(&detail), "{out:?}");
    assert!(server
        .app
        .db
        .account_get(&cid)
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_none());
    let out = post(
        &h,
        &server,
        &detail,
        &format!("{detail}/proof"),
        &[("level", "high"), ("evidence", "x"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(status(&out), StatusCode::FORBIDDEN, "{out:?}");
    // The admin API with the help desk's console token: the same roles.
    let token = console_token(&server, &h).await;
    use reqwest::Method;
    assert_eq!(
        api_status(&server, Method::GET, "/admin/api/clients", &token, None).await,
        403
    );
    assert_eq!(
        api_status(&server, Method::GET, "/admin/api/policy", &token, None).await,
        403
    );
    assert_eq!(
        api_status(
            &server,
            Method::PUT,
            "/admin/api/policy/levels/low",
            &token,
            Some(json!({"max_age": 60}))
        )
        .await,
        403
    );

    // --- Auditor: reads everything, the audit trail included; changes nothing.
    let au = Browser::new(&server);
    sign_in(&server, &au, "audit@stadt.example", &audit_seed).await;
    for path in [
        "/admin/services",
        "/admin/policy",
        "/admin/keys",
        "/admin/citizens",
        "/admin/audit?event=client.",
    ] {
        let p = get(&au, &server, path).await;
        assert_eq!(status(&p), StatusCode::OK, "{path}: {p:?}");
    }
    let csv = au
        .http
        .get(server.url("/admin/audit?event=client.&format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("id,time_utc,unix_time,actor,event,subject,detail"),
        "{csv}"
    );
    assert!(csv.contains("client.secret_rotated"), "{csv}");
    for (form, path, fields) in [
        (
            "/admin/policy",
            "/admin/policy/levels",
            vec![
                ("low", "1"),
                ("substantial", "1"),
                ("high", "1"),
                ("confirm", "yes"),
            ],
        ),
        (
            "/admin/keys",
            "/admin/keys/rotate",
            vec![("confirm", "yes")],
        ),
        (
            "/admin/services/hundesteuer",
            "/admin/services/hundesteuer/disable",
            vec![("confirm", "yes")],
        ),
        (
            "/admin/services",
            "/admin/services/import",
            vec![("file", "[]"), ("confirm", "yes")],
        ),
        (&detail, &format!("{detail}/lock"), vec![("confirm", "yes")]),
    ] {
        let out = post(&au, &server, form, path, &fields).await;
        assert_eq!(status(&out), StatusCode::FORBIDDEN, "{path}: {out:?}");
    }
    assert!(server
        .app
        .db
        .client_get("hundesteuer")
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_none());
    let token = console_token(&server, &au).await;
    assert_eq!(
        api_status(&server, Method::GET, "/admin/api/audit", &token, None).await,
        200
    );
    assert_eq!(
        api_status(&server, Method::GET, "/admin/api/clients", &token, None).await,
        200
    );
    assert_eq!(
        api_status(
            &server,
            Method::PUT,
            "/admin/api/policy/levels/low",
            &token,
            Some(json!({"max_age": 60}))
        )
        .await,
        403
    );
    assert_eq!(
        api_status(
            &server,
            Method::DELETE,
            "/admin/api/clients/hundesteuer",
            &token,
            None
        )
        .await,
        403
    );

    // --- A revoked role counts at the next request.
    admin::revoke_role(
        &server.app.db,
        &Actor::Cli,
        "help@stadt.example",
        Role::Helpdesk,
    )
    .await
    .unwrap();
    let p = get(&h, &server, "/admin/citizens").await;
    assert_eq!(status(&p), StatusCode::FORBIDDEN, "{p:?}");

    // --- A stale login may read but must log in again for a change.
    server
        .app
        .clock
        .advance(server.app.config.admin.max_age_secs as i64 + 60);
    let p = get(&a, &server, "/admin/services").await;
    assert_eq!(status(&p), StatusCode::OK);
    let page = get(&a, &server, "/admin/services/hundesteuer").await;
    let csrf = hidden(page.html(), "csrf");
    let r = a
        .http
        .post(server.url("/admin/services/hundesteuer/disable"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/admin/login?fresh=1"), "{loc}");
    assert!(server
        .app
        .db
        .client_get("hundesteuer")
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_none());
    let r = a.http.get(server.url(&loc)).send().await.unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.contains("prompt=login") && to.contains("max_age="),
        "{to}"
    );
}

fn scraper_text(html: &str, css: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn console_sqlite() {
    console(Backend::Sqlite).await;
}

#[tokio::test]
async fn console_postgres() {
    console(Backend::Postgres).await;
}

// --- Bulk import through the API ---------------------------------------------------------

async fn ops_token(server: &TestServer) -> String {
    crate::common::admin_kit::api_client(server, "ops", &["pforte:admin"]).await;
    crate::common::admin_kit::admin_token(server, "ops", "pforte:admin").await
}

async fn import(server: &TestServer, token: &str, body: String, ct: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.url("/admin/api/clients/import"))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn bulk(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = ops_token(&server).await;
    let services: Vec<Value> = (0..1000)
        .map(|i| {
            json!({
                "id": format!("dienst-{i:04}"),
                "name": format!("Online-Dienst {i}"),
                "redirect_uris": [format!("https://dienst-{i}.stadt.example/cb")],
                "scopes": ["openid", "email"],
                "min_level": if i % 10 == 0 { "substantial" } else { "low" },
            })
        })
        .collect();
    let body = serde_json::to_string(&services).unwrap();
    assert!(body.len() > 64 * 1024, "bigger than the default body limit");
    let (st, report) = import(&server, &token, body.clone(), "application/json").await;
    assert_eq!(st, 200, "{report}");
    assert_eq!(report["created"].as_array().unwrap().len(), 1000);
    let (st, report) = import(&server, &token, body, "application/json").await;
    assert_eq!(st, 200, "{report}");
    assert_eq!(
        report["unchanged"].as_array().unwrap().len(),
        1000,
        "idempotent"
    );
    assert!(report["created"].as_array().unwrap().is_empty());
    assert!(report["updated"].as_array().unwrap().is_empty());
    assert_eq!(
        server
            .app
            .db
            .client_get("dienst-0010")
            .await
            .unwrap()
            .unwrap()
            .min_level,
        Some(Level::Substantial)
    );

    // The export round-trips: importing it changes nothing.
    let export = reqwest::Client::new()
        .get(server.url("/admin/api/clients/export?format=csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (st, report) = import(&server, &token, export, "text/csv").await;
    assert_eq!(st, 200, "{report}");
    assert_eq!(
        report["unchanged"].as_array().unwrap().len(),
        1001,
        "1,000 and the ops client"
    );

    // Bad rows: each named, nothing applied.
    let bad = json!([
        {"id": "neu-1", "redirect_uris": ["https://neu.example/cb"]},
        {"id": "neu-2", "redirect_uris": ["http://not-loopback.example/cb"]},
        {"id": "neu-3", "redirect_uris": ["https://neu.example/cb"], "min_level": "maximal"},
        {"id": "neu-4", "redirect_uris": ["https://neu.example/cb"], "colour": "blue"},
    ]);
    let (st, err) = import(&server, &token, bad.to_string(), "application/json").await;
    assert_eq!(st, 400, "{err}");
    let rows = err["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "unreadable rows are reported first: {err}");
    assert_eq!(rows[0]["row"], 4);
    let bad = json!([
        {"id": "neu-1", "redirect_uris": ["https://neu.example/cb"]},
        {"id": "neu-2", "redirect_uris": ["http://not-loopback.example/cb"]},
        {"id": "neu-3", "redirect_uris": ["https://neu.example/cb"], "min_level": "maximal"},
    ]);
    let (st, err) = import(&server, &token, bad.to_string(), "application/json").await;
    assert_eq!(st, 400, "{err}");
    let rows = err["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{err}");
    assert_eq!(
        (rows[0]["row"].clone(), rows[0]["id"].clone()),
        (json!(2), json!("neu-2"))
    );
    assert_eq!(
        (rows[1]["row"].clone(), rows[1]["id"].clone()),
        (json!(3), json!("neu-3"))
    );
    assert!(
        server.app.db.client_get("neu-1").await.unwrap().is_none(),
        "nothing applied"
    );
    let csv = "id,redirect_uris\nok,https://ok.example/cb\nbad,ftp://x\n";
    let (st, err) = import(&server, &token, csv.into(), "text/csv").await;
    assert_eq!(st, 400, "{err}");
    assert_eq!(err["rows"][0]["line"], 3, "{err}");
}

#[tokio::test]
async fn bulk_import_sqlite() {
    bulk(Backend::Sqlite).await;
}

#[tokio::test]
async fn bulk_import_postgres() {
    bulk(Backend::Postgres).await;
}
