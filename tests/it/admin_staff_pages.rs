//! The admin console's identity-source pages and role management over real HTTP (issue 12):
//! who may see and change sources and staff roles, CSRF and confirmation, the secret at the
//! upstream never shown again, audit with before and after.

use crate::common::{admin_kit::*, *};
use pforte::{
    admin::{self, roles::Role},
    assurance::Level,
};
use reqwest::StatusCode;
use serde_json::json;

/// Role management on a citizen's page: an admin grants and revokes staff roles (confirmed,
/// CSRF-checked, audited with before and after; the new role counts at the next request);
/// a helpdesk user sees the roles but no form, and its posts are refused.
async fn console_roles(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    let admin_seed = staff(&server, "admin@stadt.example", &[Role::Admin]).await;
    let help_seed = staff(&server, "help@stadt.example", &[Role::Helpdesk]).await;
    let clerk_seed = staff(&server, "clerk@stadt.example", &[]).await;
    let clerk = server
        .app
        .db
        .account_by_email("clerk@stadt.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    let detail = format!("/admin/citizens/{clerk}");
    let roles_of = || async { admin::roles_of(&server.app.db, &clerk).await.unwrap() };

    let a = Browser::new(&server);
    assert!(sign_in(&server, &a, "admin@stadt.example", &admin_seed)
        .await
        .is_page("/admin/"));
    let page = get(&a, &server, &detail).await;
    assert!(page.html().contains("Rolle vergeben"), "{}", page.html());
    let page = get(&a, &server, &format!("{detail}?lang=en")).await;
    assert!(page.html().contains("Grant role"), "{}", page.html());

    // Unconfirmed, a wrong CSRF token, an unknown role: nothing changes.
    post(
        &a,
        &server,
        &detail,
        &format!("{detail}/roles/grant"),
        &[("role", "policy")],
    )
    .await;
    assert!(roles_of().await.is_empty());
    let r = a
        .http
        .post(server.url(&format!("{detail}/roles/grant")))
        .form(&[("csrf", "forged"), ("role", "policy"), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(roles_of().await.is_empty());
    let out = post(
        &a,
        &server,
        &detail,
        &format!("{detail}/roles/grant"),
        &[("role", "root"), ("confirm", "yes")],
    )
    .await;
    assert!(status(&out).is_client_error(), "{out:?}");
    assert!(roles_of().await.is_empty());

    // Granted: the clerk is policy staff at once; audited with before and after.
    let out = post(
        &a,
        &server,
        &detail,
        &format!("{detail}/roles/grant"),
        &[("role", "policy"), ("confirm", "yes")],
    )
    .await;
    assert!(out.is_page(&detail), "{out:?}");
    assert_eq!(roles_of().await, vec![Role::Policy]);
    assert!(out.html().contains("<code>policy</code>"), "{}", out.html());
    let c = Browser::new(&server);
    assert!(sign_in(&server, &c, "clerk@stadt.example", &clerk_seed)
        .await
        .is_page("/admin/"));
    assert_eq!(
        status(&get(&c, &server, "/admin/policy").await),
        StatusCode::OK
    );
    let granted = server
        .app
        .db
        .audit_list(Some("staff.role_granted"), 10)
        .await
        .unwrap();
    let e = granted
        .iter()
        .find(|e| e.target.as_deref() == Some(&clerk))
        .unwrap();
    assert_eq!(e.detail["before"], json!([]));
    assert_eq!(e.detail["after"], json!(["policy"]));
    assert!(e.actor.starts_with("admin:account:"), "{}", e.actor);

    // A helpdesk user sees the roles but cannot change them.
    let h = Browser::new(&server);
    assert!(sign_in(&server, &h, "help@stadt.example", &help_seed)
        .await
        .is_page("/admin/"));
    let page = get(&h, &server, &detail).await;
    assert!(page.html().contains("<code>policy</code>"));
    assert!(!page.html().contains("/roles/"), "{}", page.html());
    for path in ["grant", "revoke"] {
        let out = post(
            &h,
            &server,
            &detail,
            &format!("{detail}/roles/{path}"),
            &[("role", "policy"), ("confirm", "yes")],
        )
        .await;
        assert_eq!(status(&out), StatusCode::FORBIDDEN, "{path}: {out:?}");
    }
    assert_eq!(roles_of().await, vec![Role::Policy]);

    // Revoked: the clerk's next console request is refused; audited.
    let out = post(
        &a,
        &server,
        &detail,
        &format!("{detail}/roles/revoke"),
        &[("role", "policy"), ("confirm", "yes")],
    )
    .await;
    assert!(out.is_page(&detail), "{out:?}");
    assert!(roles_of().await.is_empty());
    assert_eq!(
        status(&get(&c, &server, "/admin/policy").await),
        StatusCode::FORBIDDEN
    );
    let revoked = server
        .app
        .db
        .audit_list(Some("staff.role_revoked"), 10)
        .await
        .unwrap();
    assert!(revoked.iter().any(|e| e.target.as_deref() == Some(&clerk)
        && e.detail["before"] == json!(["policy"])
        && e.detail["after"] == json!([])));
}

#[tokio::test]
async fn console_roles_sqlite() {
    console_roles(Backend::Sqlite).await;
}

#[tokio::test]
async fn console_roles_postgres() {
    console_roles(Backend::Postgres).await;
}

/// Identity-source pages: a policy user creates a source (the secret is sealed, never shown
/// again), edits it without retyping the secret (kept) and with a bad mapping (400, nothing
/// changed), disables it; each change audited with before and after. An auditor reads but
/// cannot change; a helpdesk user cannot even see the sources.
async fn console_sources(backend: Backend) {
    let server = TestServer::start_manual_clock(backend, |_| {}).await;
    let policy_seed = staff(&server, "policy@stadt.example", &[Role::Policy]).await;
    let help_seed = staff(&server, "help@stadt.example", &[Role::Helpdesk]).await;
    let audit_seed = staff(&server, "audit@stadt.example", &[Role::Auditor]).await;
    let p = Browser::new(&server);
    assert!(sign_in(&server, &p, "policy@stadt.example", &policy_seed)
        .await
        .is_page("/admin/"));
    let secret = "upstream-secret-4711";
    let form = |name: &'static str, acr: &'static str, secret: &'static str| {
        vec![
            ("id", "skonto"),
            ("name", name),
            ("profile", "servicekonto-nrw"),
            ("issuer", "https://servicekonto.example.de"),
            ("client_id", "pforte-mg"),
            ("client_secret", secret),
            ("auth_method", "client_secret_basic"),
            ("scopes", "openid profile"),
            (
                "claim_map",
                "given_name=given_name\nfamily_name=family_name",
            ),
            ("acr_map", acr),
            ("max_level", "substantial"),
            ("end_session", "yes"),
            ("confirm", "yes"),
        ]
    };
    let out = post(
        &p,
        &server,
        "/admin/sources/new",
        "/admin/sources/new",
        &form("Servicekonto NRW", "STORK-QAA-Level-3=substantial", secret),
    )
    .await;
    assert!(out.is_page("/admin/sources/skonto"), "{out:?}");
    assert!(!out.html().contains(secret));
    let u = server.app.db.upstream_get("skonto").await.unwrap().unwrap();
    assert_eq!(u.max_level, Level::Substantial);
    assert!(u.end_session && !u.userinfo);
    assert_ne!(u.client_secret, secret, "sealed");
    let list = get(&p, &server, "/admin/sources").await;
    assert!(list.html().contains("Servicekonto NRW"), "{}", list.html());
    let en = get(&p, &server, "/admin/sources/skonto?lang=en").await;
    assert!(en.html().contains("Leave empty to keep the stored secret"));

    // Edit without the secret: it stays; a bad acr mapping: 400, nothing changed.
    let out = post(
        &p,
        &server,
        "/admin/sources/skonto",
        "/admin/sources/skonto",
        &form("Servicekonto", "STORK-QAA-Level-3=very-high", ""),
    )
    .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{out:?}");
    assert_eq!(
        server
            .app
            .db
            .upstream_get("skonto")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Servicekonto NRW"
    );
    let out = post(
        &p,
        &server,
        "/admin/sources/skonto",
        "/admin/sources/skonto",
        &form("Servicekonto", "STORK-QAA-Level-4=high", ""),
    )
    .await;
    assert!(out.is_page("/admin/sources/skonto"), "{out:?}");
    let v = server.app.db.upstream_get("skonto").await.unwrap().unwrap();
    assert_eq!(v.name, "Servicekonto");
    assert_eq!(
        v.client_secret, u.client_secret,
        "an empty field keeps the secret"
    );
    let ev = server
        .app
        .db
        .audit_list(Some("upstream.updated"), 5)
        .await
        .unwrap();
    assert_eq!(ev[0].detail["before"]["name"], "Servicekonto NRW");
    assert_eq!(ev[0].detail["after"]["name"], "Servicekonto");
    assert!(!ev[0].detail.to_string().contains(secret));

    // Disable: no login offers it any more.
    let out = post(
        &p,
        &server,
        "/admin/sources/skonto",
        "/admin/sources/skonto/disable",
        &[("confirm", "yes")],
    )
    .await;
    assert!(out.is_page("/admin/sources/skonto"), "{out:?}");
    assert!(server
        .app
        .db
        .upstream_get("skonto")
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_some());

    // An auditor reads but cannot change; a helpdesk user cannot see sources.
    let au = Browser::new(&server);
    assert!(sign_in(&server, &au, "audit@stadt.example", &audit_seed)
        .await
        .is_page("/admin/"));
    let page = get(&au, &server, "/admin/sources/skonto").await;
    assert_eq!(status(&page), StatusCode::OK);
    assert!(!page.html().contains("name=\"confirm\""), "{}", page.html());
    let out = post(
        &au,
        &server,
        "/admin/sources/skonto",
        "/admin/sources/skonto/enable",
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(status(&out), StatusCode::FORBIDDEN);
    let h = Browser::new(&server);
    assert!(sign_in(&server, &h, "help@stadt.example", &help_seed)
        .await
        .is_page("/admin/"));
    assert_eq!(
        status(&get(&h, &server, "/admin/sources").await),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn console_sources_sqlite() {
    console_sources(Backend::Sqlite).await;
}

#[tokio::test]
async fn console_sources_postgres() {
    console_sources(Backend::Postgres).await;
}
