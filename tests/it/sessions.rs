//! The session registry: a login is visible outside its browser, and ending it there logs that
//! browser out on every instance (`pforte::sessions`). What an attacker with a stolen cookie,
//! or a forgotten browser at the library, can still do after the citizen or an admin ended it:
//! nothing.

use pforte::sessions::{self, Reason, Scope};

use crate::common::*;

async fn prompt_none(server: &TestServer, browser: &Browser, client: &str) -> Outcome {
    let (url, _) = authorize_url(server, client, &[("prompt", "none")]);
    browser.get(&url).await
}

#[tokio::test]
async fn sessions_ending_every_session_of_an_account_logs_each_browser_out() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let server = TestServer::start(backend).await;
        server.confidential("rp", true).await;
        server.confidential("other-rp", true).await;
        let sub = server.citizen("anna@example.de", PASSWORD).await;
        let (a, b) = (Browser::new(&server), Browser::new(&server));
        login_code(&server, &a, "rp", "anna@example.de").await;
        login_code(&server, &b, "other-rp", "anna@example.de").await;
        assert!(prompt_none(&server, &a, "rp").await.param("code").is_some());

        let live = server.app.db.sso_sessions_of(&sub, 3600).await.unwrap();
        assert_eq!(live.len(), 2, "{live:?}");

        // Ending all but A's session (A reached rp only) leaves A logged in and B out.
        let mut a_sid = None;
        for s in &live {
            if server.app.db.sso_session_clients(&s.sid).await.unwrap() == ["rp"] {
                a_sid = Some(s.sid.clone());
            }
        }
        let a_sid = a_sid.expect("A's session reached rp");
        let ended = sessions::end(
            &server.app.db,
            Scope::Account {
                account_id: &sub,
                except: Some(&a_sid),
            },
            Reason::LoggedOutElsewhere,
        )
        .await
        .unwrap();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].clients, ["other-rp"], "the services it reached");
        assert_eq!(
            prompt_none(&server, &b, "other-rp")
                .await
                .param("error")
                .as_deref(),
            Some("login_required")
        );
        assert!(prompt_none(&server, &a, "rp").await.param("code").is_some());

        // Ending again is idempotent: nothing is reported twice (no second logout token).
        let again = sessions::end(
            &server.app.db,
            Scope::Account {
                account_id: &sub,
                except: Some(&a_sid),
            },
            Reason::LoggedOutElsewhere,
        )
        .await
        .unwrap();
        assert!(again.is_empty());

        // An admin disabling the account ends the last one too.
        pforte::admin::disable_account(
            &server.app.db,
            &pforte::audit::Actor::Cli,
            "anna@example.de",
        )
        .await
        .unwrap();
        assert_eq!(
            prompt_none(&server, &a, "rp")
                .await
                .param("error")
                .as_deref(),
            Some("login_required")
        );
        assert!(no_live_session(&server, &sub).await);
    }
}

#[tokio::test]
async fn sessions_logout_ends_the_registered_session() {
    let server = server_with_rp().await;
    let sub = server.citizen("bert@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    login_code(&server, &browser, "rp", "bert@example.de").await;
    let sid = server.app.db.sso_sessions_of(&sub, 3600).await.unwrap()[0]
        .sid
        .clone();
    let page = browser.get(&server.url("/account")).await;
    let csrf = hidden(page.html(), "csrf");
    browser
        .post_form(&server.url("/account/logout"), &[("csrf", &csrf)])
        .await;
    let row = server.app.db.sso_session_get(&sid).await.unwrap().unwrap();
    assert!(row.ended_at.is_some());
    assert_eq!(row.end_reason.as_deref(), Some("logout"));
    assert!(no_live_session(&server, &sub).await);
}

#[tokio::test]
async fn sessions_a_login_as_another_account_ends_the_previous_login() {
    let server = server_with_rp().await;
    let anna = server.citizen("anna@example.de", PASSWORD).await;
    server.citizen("bert@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    login_code(&server, &browser, "rp", "anna@example.de").await;
    let (url, _) = authorize_url(&server, "rp", &[("prompt", "login")]);
    let page = browser.get(&url).await;
    assert!(page.is_page("/login"), "{page:?}");
    let out = browser.login(&page, "bert@example.de", PASSWORD).await;
    assert!(out.param("code").is_some(), "{out:?}");
    assert!(no_live_session(&server, &anna).await);
    let all = sqlx_rows(&server, &anna).await;
    assert_eq!(all, vec![Some("replaced".to_string())]);
}

/// Whether `account` has no live single sign-on session.
async fn no_live_session(server: &TestServer, account: &str) -> bool {
    let live = server.app.db.sso_sessions_of(account, 3600).await.unwrap();
    live.is_empty()
}

/// A server on SQLite with the confidential client `rp`.
async fn server_with_rp() -> TestServer {
    let server = TestServer::start(Backend::Sqlite).await;
    server.confidential("rp", true).await;
    server
}

async fn sqlx_rows(server: &TestServer, account: &str) -> Vec<Option<String>> {
    assert!(no_live_session(server, account).await);
    // The ended row is still there (for the account's activity view) with its reason.
    let rows: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT end_reason FROM sso_sessions WHERE account_id = $1")
            .bind(account)
            .fetch_all(&server.app.db.pool)
            .await
            .unwrap();
    rows.into_iter().map(|(r,)| r).collect()
}
