//! Pairwise subject identifiers (OIDC Core §8.1, issue 10 point 5): clients of different
//! sectors see different `sub`s for one citizen, clients of one sector the same, a public client
//! the account id; the ID token, userinfo, introspection, refresh and `id_token_hint` agree —
//! on SQLite and PostgreSQL.

use std::process::{Command, Stdio};

use crate::common::{
    attack::{introspect, userinfo},
    *,
};
use pforte::{admin, store::types::SubjectType};
use serde_json::Value;

const EMAIL: &str = "anna@example.de";

async fn client(server: &TestServer, id: &str, subject: &str, sector_uri: Option<String>) {
    server
        .add_client(admin::NewClient {
            id: id.into(),
            secret: Some(format!("{id}-secret-123")),
            redirect_uris: vec![redirect(id)],
            post_logout_redirect_uris: vec![format!("http://127.0.0.1:9999/{id}/bye")],
            scopes: ["openid", "profile", "offline_access"]
                .map(String::from)
                .to_vec(),
            first_party: true,
            subject_type: Some(subject.into()),
            sector_identifier_uri: sector_uri,
            ..Default::default()
        })
        .await;
}

/// Serves `body` as JSON at `http://localhost:PORT/sector.json` (a relying party's sector
/// identifier document, OIDC Core §8.1).
async fn serve_sector_document(body: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/sector.json",
        axum::routing::get(move || async move { axum::Json(body) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://localhost:{port}/sector.json")
}

struct Seen {
    id_token: String,
    id_sub: String,
    userinfo_sub: String,
    introspected_sub: String,
    refreshed_sub: String,
    refresh_introspected_sub: String,
}

/// Logs the citizen in through `client_id` and collects every `sub` the client is shown.
async fn subs(server: &TestServer, browser: &Browser, client_id: &str) -> Seen {
    let (url, verifier) = authorize_url(
        server,
        client_id,
        &[("scope", "openid profile offline_access")],
    );
    let page = browser.get(&url).await;
    let out = if page.is_page("/login") {
        browser.login(&page, EMAIL, PASSWORD).await
    } else {
        page
    };
    let code = out
        .param("code")
        .unwrap_or_else(|| panic!("no code: {out:?}"));
    let (status, body) = exchange(server, client_id, &code, &verifier).await;
    assert!(status.is_success(), "{body}");
    let id_token = body["id_token"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let info = userinfo(server, access).await;
    let intro = introspect(server, client_id, access).await;
    let access_sub = payload(access)["sub"].as_str().unwrap().to_string();
    assert_eq!(intro["sub"].as_str(), Some(access_sub.as_str()), "{intro}");
    let refresh_intro = introspect(server, client_id, &refresh).await;
    let (status, refreshed) = token_request(
        server,
        Some((client_id, &format!("{client_id}-secret-123"))),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert!(status.is_success(), "{refreshed}");
    Seen {
        id_sub: payload(&id_token)["sub"].as_str().unwrap().to_string(),
        id_token,
        userinfo_sub: info["sub"].as_str().unwrap().to_string(),
        introspected_sub: access_sub,
        refreshed_sub: payload(refreshed["id_token"].as_str().unwrap())["sub"]
            .as_str()
            .unwrap()
            .to_string(),
        refresh_introspected_sub: refresh_intro["sub"].as_str().unwrap().to_string(),
    }
}

fn agree(s: &Seen) -> &str {
    for other in [
        &s.userinfo_sub,
        &s.introspected_sub,
        &s.refreshed_sub,
        &s.refresh_introspected_sub,
    ] {
        assert_eq!(other, &s.id_sub, "every place shows the same sub");
    }
    &s.id_sub
}

async fn sectors(backend: Backend) {
    let server = TestServer::start(backend).await;
    let account = server.citizen(EMAIL, PASSWORD).await;
    client(&server, "pw1", "pairwise", None).await;
    client(&server, "pw2", "pairwise", None).await;
    let doc = serve_sector_document(serde_json::json!([redirect("pw3")])).await;
    client(&server, "pw3", "pairwise", Some(doc)).await;
    client(&server, "pub", "public", None).await;
    let stored = server.app.db.client_get("pw3").await.unwrap().unwrap();
    assert_eq!(stored.subject_type, SubjectType::Pairwise);
    assert_eq!(stored.sector_identifier.as_deref(), Some("localhost"));

    let browser = Browser::new(&server);
    let pw1 = subs(&server, &browser, "pw1").await;
    let pw2 = subs(&server, &browser, "pw2").await;
    let pw3 = subs(&server, &browser, "pw3").await;
    let public = subs(&server, &browser, "pub").await;
    assert_eq!(
        agree(&public),
        account,
        "a public client sees the account id"
    );
    assert_eq!(agree(&pw1), agree(&pw2), "one sector (127.0.0.1): one sub");
    assert_ne!(agree(&pw1), agree(&pw3), "another sector: another sub");
    for s in [&pw1, &pw3] {
        assert_ne!(agree(s), account);
        assert_eq!(agree(s).len(), 43);
    }
    // Stable: a later login shows the same.
    let again = subs(&server, &Browser::new(&server), "pw1").await;
    assert_eq!(agree(&again), agree(&pw1));

    // The client's own ID token as id_token_hint names the logged-in citizen.
    let (url, _) = authorize_url(
        &server,
        "pw1",
        &[
            ("scope", "openid profile"),
            ("prompt", "none"),
            ("id_token_hint", &pw1.id_token),
        ],
    );
    let out = browser.get(&url).await;
    assert!(out.param("code").is_some(), "{out:?}");
    // Another client's token as hint names nobody this client knows: login_required.
    let (url, _) = authorize_url(
        &server,
        "pw3",
        &[
            ("scope", "openid profile"),
            ("prompt", "none"),
            ("id_token_hint", &pw1.id_token),
        ],
    );
    let out = browser.get(&url).await;
    assert!(out.param("code").is_none(), "{out:?}");

    // RP-initiated logout with the pairwise ID token as hint logs out at once (no confirmation
    // page): the hint names the logged-in citizen as pw1 sees them.
    let bye: String =
        url::form_urlencoded::byte_serialize(b"http://127.0.0.1:9999/pw1/bye").collect();
    let out = browser
        .get(&format!(
            "{}/logout?id_token_hint={}&post_logout_redirect_uri={bye}&state=bye-1",
            server.issuer, pw1.id_token
        ))
        .await;
    assert_eq!(out.param("state").as_deref(), Some("bye-1"), "{out:?}");
}

#[tokio::test]
async fn pairwise_sectors_sqlite() {
    sectors(Backend::Sqlite).await;
}

#[tokio::test]
async fn pairwise_sectors_postgres() {
    sectors(Backend::Postgres).await;
}

#[tokio::test]
async fn pairwise_needs_one_sector() {
    let server = TestServer::start(Backend::Sqlite).await;
    let try_add = |redirects: Vec<String>, sector: Option<String>| {
        let db = server.app.db.clone();
        let hasher = server.app.hasher.clone();
        async move {
            admin::register_client(
                &db,
                &hasher,
                &pforte::audit::Actor::Cli,
                admin::NewClient {
                    id: "multi".into(),
                    secret: Some("multi-secret-123".into()),
                    redirect_uris: redirects,
                    subject_type: Some("pairwise".into()),
                    sector_identifier_uri: sector,
                    ..Default::default()
                },
            )
            .await
        }
    };
    let two_hosts = vec![
        "https://a.example.de/cb".to_string(),
        "https://b.example.de/cb".to_string(),
    ];
    let e = try_add(two_hosts.clone(), None).await.unwrap_err();
    assert!(e.to_string().contains("more than one host"), "{e}");
    let doc = serve_sector_document(serde_json::json!(["https://a.example.de/cb"])).await;
    let e = try_add(two_hosts.clone(), Some(doc)).await.unwrap_err();
    assert!(e.to_string().contains("does not list"), "{e}");
    let e = try_add(two_hosts.clone(), Some("ftp://x.example.de/s".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("https"), "{e}");
    let doc = serve_sector_document(serde_json::json!(two_hosts)).await;
    let c = try_add(two_hosts, Some(doc)).await.unwrap();
    assert_eq!(c.sector_identifier.as_deref(), Some("localhost"));
    assert!(server.app.db.client_get("multi").await.unwrap().is_some());
}

/// `pforte client add` takes the configured default subject type unless told otherwise.
#[tokio::test]
async fn pairwise_default_from_configuration() {
    let server = TestServer::start(Backend::Sqlite).await;
    let add = |id: &str, extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pforte"));
        for (k, _) in std::env::vars() {
            if k.starts_with("PFORTE_") {
                cmd.env_remove(k);
            }
        }
        let redirect = redirect(id);
        let mut args = vec!["client", "add", "--id", id, "--redirect-uri", &redirect];
        args.extend_from_slice(extra);
        let out = cmd
            .env("PFORTE_ISSUER", &server.issuer)
            .env("PFORTE_DATABASE_URL", server.db_url())
            .env("PFORTE_KEYS_ENCRYPTION_KEY", server.kek())
            .env("PFORTE_TOKENS_DEFAULT_SUBJECT_TYPE", "pairwise")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    add("by-default", &[]);
    add("told-public", &["--subject-type", "public"]);
    let db = &server.app.db;
    let c = db.client_get("by-default").await.unwrap().unwrap();
    assert_eq!(c.subject_type, SubjectType::Pairwise);
    assert_eq!(c.sector_identifier.as_deref(), Some("127.0.0.1"));
    let c = db.client_get("told-public").await.unwrap().unwrap();
    assert_eq!(c.subject_type, SubjectType::Public);
    assert_eq!(c.sector_identifier, None);

    let d: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        d["subject_types_supported"],
        serde_json::json!(["public", "pairwise"])
    );
}
