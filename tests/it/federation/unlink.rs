//! Parallel unlinks, on PostgreSQL and SQLite (issue 8, item 4): a citizen without a password who logs in
//! through two sources sends "Verknüpfung lösen" for both at once. Exactly one is removed,
//! the other refused as the last way to log in; never both (the account row is locked while
//! the store checks and deletes, `store::identities::identity_unlink`).

use crate::common::{federation::*, *};
use reqwest::{header, StatusCode};

/// Rounds of two parallel unlinks (each round relinks what was removed).
const ROUNDS: usize = 12;

#[tokio::test]
async fn parallel_unlinks_keep_the_last_way_to_log_in_postgres() {
    parallel_unlinks_keep_the_last_way_to_log_in(Backend::Postgres).await
}

#[tokio::test]
async fn parallel_unlinks_keep_the_last_way_to_log_in_sqlite() {
    parallel_unlinks_keep_the_last_way_to_log_in(Backend::Sqlite).await
}

async fn parallel_unlinks_keep_the_last_way_to_log_in(backend: Backend) {
    let server = TestServer::start(backend).await;
    // One eID peer behind two sources (two redirect URIs at one client).
    let callbacks = format!(
        "{} {}",
        server.url("/upstream/eid/callback"),
        server.url("/upstream/eid2/callback")
    );
    let op = EidOp::start(&server, &[("REDIRECT_URI", &callbacks)]).await;
    register_eid_as(&server, &op, "eid", &["--client-secret", EID_SECRET]);
    register_eid_as(&server, &op, "eid2", &["--client-secret", EID_SECRET]);
    downstream_client(&server, None).await;

    // A first eID login creates the account (no password); the second source is linked.
    let w = Walker::new();
    let (out, _) = w.eid_login(&server, &[], "eid", "erika").await;
    assert!(out.param("code").is_some(), "{out:?}");
    w.link_eid(&server, "eid2", "erika").await;
    let db = &server.app.db;
    let account = db.account_list().await.unwrap().remove(0);
    assert!(account.password_hash.is_none());
    let links = db.identities_of(&account.id).await.unwrap();
    assert_eq!(links.len(), 2);

    let csrf = hidden(w.get(&server.url("/account/links")).await.html(), "csrf");
    let unlink = |source: &'static str| {
        let req = w
            .http
            .post(server.url(&format!("/account/links/{source}/unlink")))
            .form(&[("csrf", csrf.as_str())]);
        async move { req.send().await.unwrap() }
    };
    for round in 0..ROUNDS {
        let (a, b) = tokio::join!(unlink("eid"), unlink("eid2"));
        let mut results: Vec<StatusCode> = vec![a.status(), b.status()];
        results.sort();
        assert_eq!(
            results,
            [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
            "round {round}: one removed, one refused"
        );
        let removed = if a.status() == StatusCode::SEE_OTHER {
            &a
        } else {
            &b
        };
        assert_eq!(
            removed.headers()[header::LOCATION],
            "/account/links?unlinked=1"
        );
        let left = db.identities_of(&account.id).await.unwrap();
        assert_eq!(left.len(), 1, "round {round}: the last way is kept");
        // Relink what was removed for the next round.
        let gone = links
            .iter()
            .find(|l| l.provider != left[0].provider)
            .unwrap();
        db.identity_link(&gone.provider, &gone.subject, &account.id, db.now())
            .await
            .unwrap();
    }
    let refused = audited(&server, "identity.refused", 100).await.len();
    assert_eq!(refused, ROUNDS);
}
