//! Issue 10, the second hole: "whoever registers an address first owns it". Reproduced as an
//! attack through the real pages: an attacker registers the victim's address; nothing logs in
//! before the address is confirmed; the victim's link lets *her* choose the password, and the
//! attacker's password never counts. Registration answers the same for new, confirmed and
//! unconfirmed addresses, and the link is single-use and expires. docs/registration.md.

use std::time::{Duration, Instant};

use crate::common::*;
use crate::register::{confirm, link_in, mails, outbox, register, status, wait_for_mails, Eml};
use reqwest::StatusCode;

const VICTIM: &str = "vera@example.de";
const ATTACKER_PASSWORD: &str = "mallory's own long password";
const VICTIM_PASSWORD: &str = "vera's very own passphrase";

/// A password login at `rp` in a fresh browser: the callback on success, else the login page.
async fn try_login(server: &TestServer, email: &str, password: &str) -> Outcome {
    let browser = Browser::new(server);
    let (url, _) = authorize_url(server, "rp", &[]);
    let login = browser.get(&url).await;
    assert!(login.is_page("/login"), "{login:?}");
    let out = browser.login(&login, email, password).await;
    if out.is_page("/consent") {
        browser.consent(&out, true).await
    } else {
        out
    }
}

async fn authenticates(server: &TestServer, email: &str, password: &str) -> bool {
    pforte::accounts::authenticate(&server.app.db, &server.app.hasher, email, password)
        .await
        .unwrap()
        .is_some()
}

/// Refused with the same generic answer as a wrong password for a confirmed account.
async fn assert_refused_like_wrong_password(server: &TestServer, email: &str, password: &str) {
    let out = try_login(server, email, password).await;
    assert!(out.is_page("/login"), "refused: {out:?}");
    let wrong = try_login(server, "known@example.de", "not the password at all").await;
    assert_eq!(status(&out), status(&wrong));
    let failed = "E-Mail-Adresse oder Passwort ist falsch.";
    assert!(out.html().contains(failed), "{}", out.html());
    assert!(wrong.html().contains(failed));
    assert!(
        !out.html().contains("bestätig"),
        "no hint that the address is unconfirmed"
    );
}

async fn attack(backend: Backend) {
    let (server, dir) = crate::register::start(backend).await;
    server.confidential("rp", true).await;
    server.citizen("known@example.de", PASSWORD).await;

    // The attacker registers the victim's address (a password field, if sent, is ignored).
    let attacker = Browser::new(&server);
    let done = register(
        &server,
        &attacker,
        &[
            ("email", VICTIM),
            ("given_name", "Mallory"),
            ("password", ATTACKER_PASSWORD),
        ],
        None,
    )
    .await;
    assert!(done.is_page("/register/done"), "{done:?}");
    let account = server
        .app
        .db
        .account_by_email(VICTIM)
        .await
        .unwrap()
        .expect("unconfirmed account");
    assert!(!account.email_verified);
    assert!(
        account.password_hash.is_none(),
        "no credential before the link"
    );

    // Before confirmation: refused, exactly like a wrong password.
    assert_refused_like_wrong_password(&server, VICTIM, ATTACKER_PASSWORD).await;
    // Even a credential that got onto the unconfirmed account (as the old registration stored
    // it) does not count before confirmation.
    let hash = server
        .app
        .hasher
        .hash(ATTACKER_PASSWORD.to_string())
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
        .bind(&hash)
        .bind(&account.id)
        .execute(&server.app.db.pool)
        .await
        .unwrap();
    assert!(!authenticates(&server, VICTIM, ATTACKER_PASSWORD).await);
    assert_refused_like_wrong_password(&server, VICTIM, ATTACKER_PASSWORD).await;

    // The victim registers too: the same answer; a new link goes to her address, nobody is
    // let in.
    let victim = Browser::new(&server);
    let hers = register(&server, &victim, &[("email", VICTIM)], None).await;
    assert!(hers.is_page("/register/done"), "{hers:?}");
    assert_eq!(status(&hers), status(&done));
    let files = wait_for_mails(&outbox(&dir), 2).await;
    let to_victim: Vec<_> = files
        .iter()
        .filter(|f| Eml::read(f).header("To") == VICTIM)
        .collect();
    assert_eq!(
        to_victim.len(),
        2,
        "both links went to the victim's mailbox"
    );
    assert!(!authenticates(&server, VICTIM, ATTACKER_PASSWORD).await);

    // The victim opens the link the attacker's registration sent: it asks her for a password;
    // the attacker's is not offered, not prefilled, and does not count.
    let first = link_in(&server, to_victim[0]);
    let page = victim.get(&first).await;
    assert_eq!(status(&page), StatusCode::OK);
    assert!(page.html().contains("type=\"password\""));
    assert!(!page.html().contains(ATTACKER_PASSWORD));
    let verified = confirm(&victim, &first, VICTIM_PASSWORD).await;
    assert!(
        verified.html().contains("E-Mail-Adresse bestätigt"),
        "{verified:?}"
    );

    // The attacker's password is dead; hers works.
    assert!(!authenticates(&server, VICTIM, ATTACKER_PASSWORD).await);
    assert_refused_like_wrong_password(&server, VICTIM, ATTACKER_PASSWORD).await;
    assert!(authenticates(&server, VICTIM, VICTIM_PASSWORD).await);
    let out = try_login(&server, VICTIM, VICTIM_PASSWORD).await;
    assert!(out.param("code").is_some(), "{out:?}");

    // The other link is void now; the used one cannot be used again (by anyone).
    let second = link_in(&server, to_victim[1]);
    for link in [&second, &first] {
        let again = attacker.get(link).await;
        assert_eq!(status(&again), StatusCode::BAD_REQUEST, "{link}");
    }
    // A POST with the used token (say, the attacker got hold of it later) changes nothing.
    let token = first.rsplit_once("token=").unwrap().1;
    let form = attacker.get(&server.url("/register")).await;
    let out = attacker
        .post_form(
            &server.url("/register/verify"),
            &[
                ("csrf", &hidden(form.html(), "csrf")),
                ("token", token),
                ("password", ATTACKER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(authenticates(&server, VICTIM, VICTIM_PASSWORD).await);
    assert!(!authenticates(&server, VICTIM, ATTACKER_PASSWORD).await);

    // A registration attempt now (confirmed address) gets the notice mail, not a link.
    let before = mails(&outbox(&dir)).len();
    let late = register(&server, &attacker, &[("email", VICTIM)], None).await;
    assert!(late.is_page("/register/done"));
    let files = wait_for_mails(&outbox(&dir), before + 1).await;
    let notice = Eml::read(files.last().unwrap());
    assert!(notice.subject().contains("Registrierungsversuch"));
    assert!(!notice.raw.contains("verify"));
}

#[tokio::test]
async fn attack_sqlite() {
    attack(Backend::Sqlite).await;
}

#[tokio::test]
async fn attack_postgres() {
    attack(Backend::Postgres).await;
}

/// The page without what legitimately differs (the address, the CSRF token).
fn neutral(o: &Outcome, email: &str) -> String {
    o.html()
        .replace(email, "X")
        .replace(&hidden(o.html(), "csrf"), "CSRF")
}

/// New, unconfirmed and confirmed addresses: the same status and page, and the same work
/// (none of them hashes a password), so roughly the same time.
#[tokio::test]
async fn same_answer_for_new_unconfirmed_and_confirmed() {
    let (server, _dir) = crate::register::start(Backend::Sqlite).await;
    server.citizen("known@example.de", PASSWORD).await;
    let browser = Browser::new(&server);
    register(&server, &browser, &[("email", "pending@example.de")], None).await;

    let mut answers = Vec::new();
    for (i, email) in ["new@example.de", "pending@example.de", "known@example.de"]
        .iter()
        .enumerate()
    {
        let b = Browser::new(&server);
        // Warm up the connection and the session first, then time the submission only.
        let page = b.get(&server.url("/register")).await;
        let csrf = hidden(page.html(), "csrf");
        let start = Instant::now();
        let out = b
            .post_form(
                &server.url("/register"),
                &[("csrf", csrf.as_str()), ("email", email)],
            )
            .await;
        let took = start.elapsed();
        assert!(out.is_page("/register/done"), "{i}: {out:?}");
        answers.push((status(&out), neutral(&out, email), took));
    }
    for (st, html, took) in &answers[1..] {
        assert_eq!(*st, answers[0].0);
        assert_eq!(*html, answers[0].1);
        // No argon2 run on any branch: all well below one hashing (~50-100 ms here).
        assert!(*took < Duration::from_secs(2), "{took:?}");
    }
    // No second account for either existing address.
    assert_eq!(server.app.db.account_list().await.unwrap().len(), 3);
}

/// The link expires after 24 hours, also on the page it opens: choosing a password then
/// confirms nothing.
#[tokio::test]
async fn link_expires() {
    let dir = tempdir::Dir::new(&format!("pforte-outbox-exp-{}", std::process::id()));
    let server = TestServer::start_manual_clock(Backend::Sqlite, |c| {
        c.mail.outbox = Some(dir.path.join("outbox"));
    })
    .await;
    let browser = Browser::new(&server);
    register(&server, &browser, &[("email", VICTIM)], None).await;
    let link = link_in(
        &server,
        &wait_for_mails(&dir.path.join("outbox"), 1).await[0],
    );
    let page = browser.get(&link).await;
    assert_eq!(status(&page), StatusCode::OK);
    server.app.clock.advance(24 * 3600 + 1);
    let out = browser
        .post_form(
            &server.url("/register/verify"),
            &[
                ("csrf", &hidden(page.html(), "csrf")),
                ("token", &hidden(page.html(), "token")),
                ("password", VICTIM_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST);
    assert!(out.html().contains("Bestätigungslink ist ungültig"));
    assert_eq!(status(&browser.get(&link).await), StatusCode::BAD_REQUEST);
    assert!(!authenticates(&server, VICTIM, VICTIM_PASSWORD).await);
}
