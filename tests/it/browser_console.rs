//! The admin console's identity-source pages and staff-role management in Chromium (issue 12),
//! without JavaScript, in German and English: an admin registers a source (the secret is
//! never shown again), edits it keeping the secret, disables it, grants a staff role to a
//! clerk and revokes it. With `PFORTE_SHOTS` set, the pages are saved at 1280 px and 390 px
//! (and fail if they scroll sideways).

use crate::{
    browser::{
        assert_inputs_labelled, click, console_sign_in, fill, page_lang, page_text, path, shoot,
        url, ChromeDriver,
    },
    common::{admin_kit::staff, *},
};
use fantoccini::{Client, Locator};
use pforte::admin::roles::Role;

async fn check(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn console_sources_and_roles_in_chromium() {
    let server = TestServer::start_manual_clock(Backend::Sqlite, |_| {}).await;
    let admin_seed = staff(&server, "admin@stadt.example", &[Role::Admin]).await;
    staff(&server, "clerk@stadt.example", &[]).await;
    let clerk = server
        .app
        .db
        .account_by_email("clerk@stadt.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    let driver = ChromeDriver::start().await;
    let shots = std::env::var("PFORTE_SHOTS")
        .ok()
        .map(std::path::PathBuf::from);
    let secret = "upstream-secret-4711";

    // German: register a source.
    let c = driver.browser("de-DE,de;q=0.9", false, 1280).await;
    console_sign_in(&c, &server, "admin@stadt.example", &admin_seed).await;
    assert_eq!(path(&c).await, "/admin/", "{}", url(&c).await);
    c.goto(&server.url("/admin/sources")).await.unwrap();
    assert!(page_text(&c).await.contains("Identitätsquellen"));
    click(&c, "a[href=\"/admin/sources/new\"]").await;
    assert_eq!(page_lang(&c).await, "de");
    assert_inputs_labelled(&c).await;
    fill(&c, "#id", "skonto").await;
    fill(&c, "#name", "Servicekonto NRW").await;
    check(&c, "#profile option[value=servicekonto-nrw]").await;
    fill(&c, "#issuer", "https://servicekonto.example.de").await;
    fill(&c, "#client_id", "pforte-mg").await;
    fill(&c, "#client_secret", secret).await;
    fill(&c, "#acr_map", "STORK-QAA-Level-3=substantial").await;
    check(&c, "#max_level option[value=substantial]").await;
    check(&c, "#end_session").await;
    check(&c, "#confirm").await;
    click(&c, "form.admin-form button[type=submit]").await;
    assert_eq!(
        path(&c).await,
        "/admin/sources/skonto",
        "{}",
        page_text(&c).await
    );
    let stored = server.app.db.upstream_get("skonto").await.unwrap().unwrap();
    assert!(stored.end_session);
    assert!(
        !c.source().await.unwrap().contains(secret),
        "never shown again"
    );
    let field = c.find(Locator::Css("#client_secret")).await.unwrap();
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(""));

    // English: edit without retyping the secret; it stays.
    c.goto(&server.url("/admin/sources/skonto?lang=en"))
        .await
        .unwrap();
    assert_eq!(page_lang(&c).await, "en");
    assert!(page_text(&c)
        .await
        .contains("Leave empty to keep the stored secret"));
    fill(&c, "#name", "Servicekonto").await;
    check(&c, "#confirm").await;
    click(&c, "form.admin-form button[type=submit]").await;
    let edited = server.app.db.upstream_get("skonto").await.unwrap().unwrap();
    assert_eq!(edited.name, "Servicekonto");
    assert_eq!(edited.client_secret, stored.client_secret);

    // Grant the clerk the policy role (German), then revoke it (English).
    let detail = format!("/admin/citizens/{clerk}");
    c.goto(&server.url(&format!("{detail}?lang=de")))
        .await
        .unwrap();
    assert_inputs_labelled(&c).await;
    check(&c, "#role option[value=policy]").await;
    check(&c, "#confirm-grant").await;
    click(&c, "form[action$=\"/roles/grant\"] button[type=submit]").await;
    assert_eq!(path(&c).await, detail);
    assert!(page_text(&c)
        .await
        .contains("Dienste und Vertrauensniveaus"));
    let roles = pforte::admin::roles_of(&server.app.db, &clerk)
        .await
        .unwrap();
    assert_eq!(roles, vec![Role::Policy]);

    if let Some(dir) = &shots {
        std::fs::create_dir_all(dir).unwrap();
        for lang in ["de", "en"] {
            for (name, p) in [
                ("admin-11-sources", "/admin/sources".to_string()),
                ("admin-12-source-new", "/admin/sources/new".to_string()),
                ("admin-13-source-edit", "/admin/sources/skonto".to_string()),
                ("admin-14-citizen-roles", detail.clone()),
            ] {
                c.goto(&server.url(&format!("{p}?lang={lang}")))
                    .await
                    .unwrap();
                assert_eq!(page_lang(&c).await, lang, "{p}");
                shoot(&c, &driver, dir, lang, name).await;
            }
        }
    }

    c.goto(&server.url(&format!("{detail}?lang=en")))
        .await
        .unwrap();
    check(&c, "#confirm-revoke-policy").await;
    click(&c, "form[action$=\"/roles/revoke\"] button[type=submit]").await;
    assert!(page_text(&c)
        .await
        .contains("This account has no staff role."));
    assert!(pforte::admin::roles_of(&server.app.db, &clerk)
        .await
        .unwrap()
        .is_empty());

    // Disable the source.
    c.goto(&server.url("/admin/sources/skonto?lang=en"))
        .await
        .unwrap();
    check(&c, "#confirm-state").await;
    click(&c, "form[action$=\"/disable\"] button[type=submit]").await;
    assert!(
        page_text(&c).await.contains("The source is disabled"),
        "{}",
        page_text(&c).await
    );
    assert!(server
        .app
        .db
        .upstream_get("skonto")
        .await
        .unwrap()
        .unwrap()
        .disabled_at
        .is_some());
    c.close().await.unwrap();
}
