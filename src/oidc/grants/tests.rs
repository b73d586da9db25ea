//! Each grant type on an in-memory core: no HTTP server, no wall clock.

use crate::{
    accounts::{self, login, NewAccount},
    admin::{self, NewClient},
    assurance::Level,
    core::{testing::memory_core, Core},
    oidc::{
        authorize::{flow, Interaction},
        params::Params,
    },
    store::clients::Client,
};

use super::{authorization_code, client_credentials, refresh_token};

const ISSUER: &str = "https://pforte.example";
const REDIRECT: &str = "https://svc.example/cb";

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap()
}

async fn client(core: &Core, id: &str, grants: &[&str], scopes: &[&str]) -> Client {
    admin::register_client(
        &core.db,
        &core.hasher,
        &crate::audit::Actor::Cli,
        NewClient {
            id: id.into(),
            secret: Some("a-long-client-secret".into()),
            redirect_uris: vec![REDIRECT.into()],
            grant_types: grants.iter().map(|g| g.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            first_party: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    core.db.client_get(id).await.unwrap().unwrap()
}

/// A code for `client` through the authorization flow, for a citizen who just logged in.
async fn code(core: &Core, client: &Client) -> String {
    let account = accounts::create(
        &core.db,
        &core.hasher,
        NewAccount {
            email: format!(
                "{}@example.de",
                crate::secrets::random_token(6).to_lowercase()
            ),
            password: "a long password!".into(),
            email_verified: true,
            ..Default::default()
        },
        12,
    )
    .await
    .unwrap();
    let scope = if client.allows_grant(crate::store::types::GrantType::RefreshToken) {
        "openid offline_access"
    } else {
        "openid"
    };
    let req = flow::accept(
        core,
        &params(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]),
    )
    .await
    .unwrap();
    let (login, _) = login::apply(
        None,
        &account.id,
        Level::Low,
        &login::Authenticated::Password,
        core.now(),
        || "sid".into(),
    )
    .unwrap();
    let interaction = Interaction {
        logged_in: true,
        ..Default::default()
    };
    match flow::advance(core, &req, interaction, Some(&login)).await {
        Ok(flow::Step::Respond(r)) => r
            .fields
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.clone())
            .expect("a code"),
        other => panic!("expected a code, got {other:?}"),
    }
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn exchange_params(code: &str) -> Params {
    params(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ])
}

/// A client that may use codes and refresh tokens.
async fn refreshing_client(core: &Core, id: &str) -> Client {
    client(
        core,
        id,
        &["authorization_code", "refresh_token"],
        &["openid", "offline_access"],
    )
    .await
}

/// A refresh token for `client`, through a code.
async fn refresh_token_for(core: &Core, client: &Client) -> String {
    let code = code(core, client).await;
    authorization_code::exchange(core, client, &exchange_params(&code))
        .await
        .unwrap()
        .refresh_token
        .unwrap()
}

fn refresh_params(token: &str) -> Params {
    params(&[("grant_type", "refresh_token"), ("refresh_token", token)])
}

#[tokio::test]
async fn client_credentials_issues_an_access_token_for_registered_scopes_only() {
    let core = memory_core(ISSUER).await;
    let c = client(&core, "svc", &["client_credentials"], &["api"]).await;
    let t = client_credentials::issue(&core, &c, &params(&[("scope", "api")]))
        .await
        .unwrap();
    assert_eq!(t.scope, "api");
    assert!(t.id_token.is_none() && t.refresh_token.is_none());
    let e = client_credentials::issue(&core, &c, &params(&[("scope", "other")]))
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_scope");
}

#[tokio::test]
async fn authorization_code_works_once_and_a_replay_revokes_its_tokens() {
    let core = memory_core(ISSUER).await;
    let c = refreshing_client(&core, "rp").await;
    let code = code(&core, &c).await;
    let t = authorization_code::exchange(&core, &c, &exchange_params(&code))
        .await
        .unwrap();
    assert!(t.id_token.is_some() && t.refresh_token.is_some());
    let e = authorization_code::exchange(&core, &c, &exchange_params(&code))
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_grant");
    // The refresh token issued from the replayed code is dead too (RFC 6749 §4.1.2).
    let refresh = t.refresh_token.unwrap();
    let e = refresh_token::refresh(&core, &c, &refresh_params(&refresh))
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_grant");
}

#[tokio::test]
async fn an_expired_code_is_refused_without_waiting() {
    let core = memory_core(ISSUER).await;
    let c = client(&core, "rp", &["authorization_code"], &["openid"]).await;
    let code = code(&core, &c).await;
    core.clock.advance(core.config.tokens.code_ttl as i64 + 1);
    let e = authorization_code::exchange(&core, &c, &exchange_params(&code))
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_grant");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused() {
    let core = memory_core(ISSUER).await;
    let c = client(&core, "rp", &["authorization_code"], &["openid"]).await;
    let code = code(&core, &c).await;
    let p = params(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", "x".repeat(43).as_str()),
    ]);
    let e = authorization_code::exchange(&core, &c, &p)
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_grant");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let core = memory_core(ISSUER).await;
    let c = refreshing_client(&core, "rp").await;
    let first = refresh_token_for(&core, &c).await;
    let second = refresh_token::refresh(&core, &c, &refresh_params(&first))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    assert_ne!(first, second, "rotated");
    // Reusing the first one is theft (RFC 9700 §4.14.2): the whole family dies.
    for token in [&first, &second] {
        let e = refresh_token::refresh(&core, &c, &refresh_params(token))
            .await
            .unwrap_err();
        assert_eq!(e.error, "invalid_grant");
    }
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_refused() {
    let core = memory_core(ISSUER).await;
    let a = refreshing_client(&core, "a").await;
    let b = refreshing_client(&core, "b").await;
    let r = refresh_token_for(&core, &a).await;
    let e = refresh_token::refresh(&core, &b, &refresh_params(&r))
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_grant");
}
