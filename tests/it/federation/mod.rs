//! Federation (issue 8): logging in to Pforte through upstream OpenID providers running as
//! separate processes on loopback, and carrying their level into Pforte's tokens. The
//! processes, the browser and the readers are in `common::federation`.
//!
//! - `servicekonto-nrw`: a second Pforte process (`pforte serve` with its own SQLite file,
//!   KEK, port and keys), its client registered with `pforte client add`, a citizen with
//!   `pforte account add` and `pforte account proof --level substantial`, who sets up TOTP
//!   there so its tokens can carry substantial.
//! - `eid`: panva's oidc-provider (tests/peers/eid-op, `npm ci` in .ci/run) as an eID service:
//!   the RestrictedID as `sub`, the chip's claims, acr eIDAS high; registered with the
//!   `pforte upstream add` CLI.
//! - [`hostile`]: every way an upstream answer can be wrong, from a hostile OP served by the
//!   test itself; after each failure the page is readable and no account or link was added.
//! - [`proofing`]: eID proofing carried into later password + TOTP logins, and the eID's
//!   attributes released as `verified_claims` after a real eID login.
//! - [`client_auth`]: `private_key_jwt` with Pforte's own key at the eID peer.
//! - [`unlink`]: parallel unlinks on PostgreSQL never take the last way to log in.

mod client_auth;
mod hostile;
mod proofing;
mod unlink;

use std::time::{Duration, Instant};

use crate::common::{federation::*, *};
use pforte::{
    admin::{self, NewUpstream},
    audit::Actor,
};
use reqwest::StatusCode;
use serde_json::json;

// --- Servicekonto.NRW: a second Pforte --------------------------------------------------------

#[tokio::test]
async fn servicekonto_first_login_creates_the_account_and_carries_substantial() {
    let server = TestServer::start(Backend::Sqlite).await;
    let sk = UpstreamPforte::start(&server).await;
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &Actor::Cli,
        NewUpstream {
            id: "sk".into(),
            profile: "servicekonto-nrw".into(),
            issuer: sk.issuer.clone(),
            client_id: SK_CLIENT.into(),
            client_secret: SK_SECRET.into(),
            name: Some("Servicekonto.NRW".into()),
            userinfo: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    downstream_client(&server, None).await;
    let w = Walker::new();

    // The citizen sets up TOTP at the Servicekonto (its tokens reach substantial with it).
    let login = w.get(&format!("{}/login", sk.issuer)).await;
    let acc = w.password(&login, SK_EMAIL).await;
    assert!(acc.is_page("/account"), "{acc:?}");
    let seed = enrol_totp(&w, &sk.issuer).await;
    // Log out there: the downstream login starts from nothing.
    let acc = w.get(&format!("{}/account", sk.issuer)).await;
    w.submit(&acc, "form[action=\"/account/logout\"]", &[])
        .await;

    let before = counts(&server).await;
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[
            ("scope", "openid profile email"),
            ("acr_values", "http://eidas.europa.eu/LoA/substantial"),
        ],
    );
    let page = w.get(&url).await;
    assert!(page.is_page("/login"), "{page:?}");
    assert!(
        page.html().contains("Mit Servicekonto.NRW anmelden"),
        "{}",
        page.html()
    );
    let out = w.start_at(&page, "sk").await;
    // At the Servicekonto: asked for substantial in its own spelling (eIDAS URIs here).
    assert_eq!(
        page_url(&out).port(),
        url::Url::parse(&sk.issuer).unwrap().port(),
        "{out:?}"
    );
    assert!(out.is_page("/login"), "{out:?}");
    let out = w.password(&out, SK_EMAIL).await;
    // Substantial needs the second factor there.
    assert!(out.is_page("/stepup"), "{out:?}");
    let out = w.totp(&out, &seed, 1).await;
    // Consent at the Servicekonto for the downstream Pforte.
    let out = w.consent_if_asked(out).await;
    // Back at the downstream Pforte: consent for the service, then the code.
    let out = w.consent_if_asked(out).await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(
        claims["acr"], "http://eidas.europa.eu/LoA/substantial",
        "{claims}"
    );
    assert_eq!(claims["amr"], json!(["fed"]));
    let after = counts(&server).await;
    assert_eq!(
        (after.0, after.1),
        (before.0 + 1, before.1 + 1),
        "one account, one link"
    );

    // The account: the verified e-mail of the Servicekonto, no password, attributes with
    // their provenance, proofed as far as the upstream asserted.
    let account = server
        .app
        .db
        .account_by_email(SK_EMAIL)
        .await
        .unwrap()
        .expect("account with the upstream's verified e-mail");
    assert!(account.email_verified && account.password_hash.is_none());
    assert_eq!(
        account.proofing_level,
        pforte::assurance::Level::Substantial
    );
    assert_eq!(claims["sub"], account.id);
    let attrs = server.app.db.account_attributes(&account.id).await.unwrap();
    let given = attrs
        .iter()
        .find(|a| a.name == "given_name")
        .expect("given_name");
    assert_eq!(
        (given.value.as_str(), given.source.as_str()),
        ("Jana", "upstream:sk")
    );
    assert_eq!(given.level, pforte::assurance::Level::Substantial);

    // A second login through the Servicekonto finds the same account (keyed by its subject).
    let w2 = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[("prompt", "login")]);
    let page = w2.get(&url).await;
    let out = w2.start_at(&page, "sk").await;
    let out = w2.password(&out, SK_EMAIL).await;
    // Consent at the Servicekonto for the downstream Pforte.
    let out = w2.consent_if_asked(out).await;
    let out = w2.consent_if_asked(out).await;
    assert!(out.param("code").is_some(), "{out:?}");
    assert_eq!(counts(&server).await, after, "no second account");
}

// --- eID: panva's oidc-provider -------------------------------------------------------------

#[tokio::test]
async fn eid_first_login_linking_and_step_up() {
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    downstream_client(&server, Some(vec!["eid".into()])).await;

    // 1. First login through the eID: a new account, acr high, the chip's data with provenance.
    let w = Walker::new();
    let before = counts(&server).await;
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[
            ("scope", "openid profile address"),
            ("acr_values", "http://eidas.europa.eu/LoA/high"),
        ],
    );
    let page = w.get(&url).await;
    assert!(
        page.html().contains("Mit Online-Ausweis anmelden"),
        "{}",
        page.html()
    );
    let out = w.start_at(&page, "eid").await;
    assert!(
        out.html().contains("http://eidas.europa.eu/LoA/high"),
        "acr_values forwarded: {}",
        out.html()
    );
    let out = eid_pin(&w, &out, "erika").await;
    let out = w.consent_if_asked(out).await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/high", "{claims}");
    let after = counts(&server).await;
    assert_eq!(after, (before.0 + 1, before.1 + 1));
    let erika = claims["sub"].as_str().unwrap().to_string();
    let account = server.app.db.account_get(&erika).await.unwrap().unwrap();
    assert!(!account.has_email(), "the eID gives no e-mail address");
    assert!(account.password_hash.is_none());
    let attrs = server.app.db.account_attributes(&erika).await.unwrap();
    for (name, value) in [
        ("family_name", "Mustermann"),
        ("place_of_birth.locality", "Berlin"),
        ("birthdate", "1964-08-12"),
        ("address.locality", "Köln"),
        ("document_type", "ID"),
        ("nationalities", "[\"DE\"]"),
    ] {
        let a = attrs
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{name} in {attrs:?}"));
        assert_eq!(a.value, value);
        assert_eq!(
            (a.source.as_str(), a.level),
            ("upstream:eid", pforte::assurance::Level::High)
        );
    }
    let identities = server.app.db.identities_of(&erika).await.unwrap();
    assert_eq!(
        identities[0].subject,
        "rid-6d3f1a9c0b7e4c2a9f1e8d7c6b5a4f3e"
    );

    // 2. The last way to log in is kept: no unlink button, and a forged POST is refused.
    let links = w.get(&server.url("/account/links")).await;
    assert!(
        links.html().contains("Das ist Ihr einziger Anmeldeweg"),
        "{}",
        links.html()
    );
    assert!(!links.html().contains("/unlink\""), "no unlink button");
    let csrf = hidden(w.get(&server.url("/account")).await.html(), "csrf");
    let refused = w
        .http
        .post(server.url("/account/links/eid/unlink"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("kann nicht gelöst werden"));
    assert_eq!(counts(&server).await, after);

    // 3. A password citizen (low) asked for high is led to the eID on the step-up page; the
    //    eID identity (Max) is linked to her account and the token carries high.
    let anna = server.citizen("anna@example.de", PASSWORD).await;
    let w = Walker::new();
    let (url, verifier) = authorize_url(
        &server,
        "rp",
        &[("acr_values", "http://eidas.europa.eu/LoA/high")],
    );
    let page = w.get(&url).await;
    let out = w.password(&page, "anna@example.de").await;
    assert!(out.is_page("/stepup"), "{out:?}");
    assert!(
        out.html().contains("Mit Online-Ausweis bestätigen"),
        "{}",
        out.html()
    );
    let out = w.start_at(&out, "eid").await;
    let out = eid_pin(&w, &out, "max").await;
    let out = w.consent_if_asked(out).await;
    let claims = id_token(&server, &out, &verifier).await;
    assert_eq!(claims["sub"], anna);
    assert_eq!(claims["acr"], "http://eidas.europa.eu/LoA/high");
    assert_eq!(server.app.db.identities_of(&anna).await.unwrap().len(), 1);

    // 4. Unlinking is allowed while the password remains.
    let links = w.get(&server.url("/account/links")).await;
    let out = w
        .submit(&links, "form[action=\"/account/links/eid/unlink\"]", &[])
        .await;
    assert!(out.html().contains("Die Verknüpfung ist gelöst"), "{out:?}");
    assert!(server.app.db.identities_of(&anna).await.unwrap().is_empty());

    // 5. Linking after confirming; Erika's eID (linked to her own account) is refused.
    let confirm = w.get(&server.url("/upstream/eid/link")).await;
    assert!(
        confirm.html().contains("Ja, jetzt verknüpfen"),
        "{confirm:?}"
    );
    let out = w.start_at(&confirm, "eid").await;
    let before = counts(&server).await;
    let out = eid_pin(&w, &out, "erika").await;
    assert_eq!(status(&out), StatusCode::CONFLICT, "{out:?}");
    assert!(
        out.html()
            .contains("Schon mit einem anderen Konto verknüpft"),
        "{}",
        out.html()
    );
    assert_eq!(counts(&server).await, before, "nothing linked");
    let refusal = !audited(&server, "identity.refused", 5).await.is_empty();
    assert!(refusal, "audited");
    // Max's card links after confirming.
    w.link_eid(&server, "eid", "max").await;
    assert_eq!(server.app.db.identities_of(&anna).await.unwrap().len(), 1);

    // 6. Cancelling at the eID (access_denied): a readable page, nothing created.
    let w = Walker::new();
    let before = counts(&server).await;
    let (url, _) = authorize_url(&server, "rp", &[("ui_locales", "en")]);
    let page = w.get(&url).await;
    assert!(
        page.html().contains("Log in with Online-Ausweis"),
        "{}",
        page.html()
    );
    let out = w.start_at(&page, "eid").await;
    let out = w.submit(&out, "form[action$=\"/abort\"]", &[]).await;
    assert_eq!(status(&out), StatusCode::BAD_REQUEST, "{out:?}");
    assert!(out.html().contains("Login cancelled"), "{}", out.html());
    assert!(out.html().contains("Back to the login"), "{}", out.html());
    assert_eq!(counts(&server).await, before);
}

/// RP-initiated logout at Pforte also ends the eID session (item 8): Pforte → the upstream's
/// end_session_endpoint (`id_token_hint` = the upstream's ID token, back to Pforte) → the
/// client's post_logout_redirect_uri with its state.
#[tokio::test]
async fn logout_ends_the_upstream_session_too() {
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    downstream_client(&server, Some(vec!["eid".into()])).await;
    let w = Walker::new();
    let (out, verifier) = w.eid_login(&server, &[], "eid", "erika").await;
    let code = out.param("code").expect("code");
    let (_, body) = token_request(
        &server,
        Some(("rp", "rp-secret-123")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect("rp")),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let hint = body["id_token"].as_str().unwrap().to_string();

    let mut logout = url::Url::parse(&server.url("/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &hint)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9999/rp/bye")
        .append_pair("state", "bye-1");
    let at_upstream = w.get(logout.as_str()).await;
    let u = page_url(&at_upstream);
    assert_eq!(
        u.origin(),
        url::Url::parse(&op.issuer).unwrap().origin(),
        "sent to the eID's end_session: {at_upstream:?}"
    );
    let done = w
        .submit(
            &at_upstream,
            "form[action$=\"/session/end/confirm\"]",
            &[("logout", "yes")],
        )
        .await;
    let Outcome::Callback { url } = &done else {
        panic!("expected the client's post-logout URI: {done:?}")
    };
    assert_eq!(url.path(), "/rp/bye");
    assert_eq!(done.param("state").as_deref(), Some("bye-1"));
    // Logged out at Pforte …
    assert!(w.get(&server.url("/account")).await.is_page("/login"));
    // … and at the eID: a new login asks for the card again.
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let out = w.start_at(&page, "eid").await;
    assert!(
        page_url(&out).path().starts_with("/interaction/"),
        "the eID session ended: {out:?}"
    );
}

// --- a real browser ---------------------------------------------------------------------------

/// The eID login in headless Chromium without JavaScript, in German and in English, with
/// screenshots of the pages (`PFORTE_SHOTS`, default `/tmp/shots`) for a person to look at.
#[tokio::test]
async fn browser_upstream_login_in_german_and_english() {
    use crate::browser::{click, ChromeDriver};
    use fantoccini::Locator;
    let shots = std::path::PathBuf::from(
        std::env::var("PFORTE_SHOTS").unwrap_or_else(|_| "/tmp/shots".into()),
    );
    std::fs::create_dir_all(&shots).unwrap();
    let server = TestServer::start(Backend::Sqlite).await;
    let op = EidOp::start(&server, &[]).await;
    register_eid(&server, &op).await;
    let sk = "sk";
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &Actor::Cli,
        NewUpstream {
            id: sk.into(),
            profile: "servicekonto-nrw".into(),
            issuer: "http://127.0.0.1:9/unused".into(),
            client_id: "x".into(),
            client_secret: "y".into(),
            name: Some("Servicekonto.NRW".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    downstream_client(&server, None).await;
    let driver = ChromeDriver::start().await;
    for (lang, login_label, cancel_title) in [
        ("de", "Mit Online-Ausweis anmelden", "Anmeldung abgebrochen"),
        ("en", "Log in with Online-Ausweis", "Login cancelled"),
    ] {
        let c = driver.browser(lang, false, 1280).await;
        let (url, _) = authorize_url(&server, "rp", &[("ui_locales", lang)]);
        c.goto(&url).await.unwrap();
        let html = c.source().await.unwrap();
        assert!(html.contains(login_label), "{html}");
        std::fs::write(
            shots.join(format!("federation-login-{lang}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
        // Cancel at the eID: the failure page in the citizen's language, with the way back.
        click(&c, "form[action=\"/upstream/eid/start\"] button").await;
        click(&c, "#cancel").await;
        let html = c.source().await.unwrap();
        assert!(html.contains(cancel_title), "{html}");
        std::fs::write(
            shots.join(format!("federation-cancelled-{lang}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
        // The way back leads to the login page of the same request; now with the PIN.
        click(&c, "a.button").await;
        assert_eq!(c.current_url().await.unwrap().path(), "/login");
        click(&c, "form[action=\"/upstream/eid/start\"] button").await;
        click(&c, "#pin-ok").await;
        // The service's consent page (the first time), then its redirect URI with a code.
        if c.current_url().await.unwrap().path() == "/consent" {
            std::fs::write(
                shots.join(format!("federation-consent-{lang}.png")),
                c.screenshot().await.unwrap(),
            )
            .unwrap();
            c.find(Locator::Css("button[value=\"allow\"]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let u = c.current_url().await.unwrap();
            if u.port() == Some(9999) {
                assert!(u.query_pairs().any(|(k, _)| k == "code"), "{u}");
                break;
            }
            assert!(Instant::now() < deadline, "no redirect to the service: {u}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Linked ways to log in, as the citizen sees them.
        c.goto(&server.url(&format!("/account/links?ui_locales={lang}")))
            .await
            .unwrap();
        std::fs::write(
            shots.join(format!("federation-links-{lang}.png")),
            c.screenshot().await.unwrap(),
        )
        .unwrap();
        c.close().await.unwrap();
    }
}
