//! End to end, as a relying party built with the `openidconnect` crate: code + PKCE login through
//! the real login form, ID token validated against JWKS, userinfo, refresh, introspection,
//! revocation and logout — on SQLite and on PostgreSQL. Plus single sign-on and prompt=none.

use crate::common::*;
use openidconnect::{
    core::{
        CoreClient, CoreProviderMetadata, CoreResponseType, CoreTokenIntrospectionResponse,
        CoreUserInfoClaims,
    },
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IntrospectionUrl, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenIntrospectionResponse, TokenResponse,
};

async fn full_flow(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("rp", false).await;
    server.citizen("anna@example.de", PASSWORD).await;

    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("rp".into()),
        Some(ClientSecret::new("rp-secret-123".into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect("rp")).unwrap())
    .set_introspection_url(IntrospectionUrl::new(server.url("/introspect")).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The citizen: login page, then consent page (third-party client), then back to the client.
    let browser = Browser::new(&server);
    let page = browser.get(auth_url.as_str()).await;
    assert!(page.is_page("/login"), "{page:?}");
    assert!(page.html().contains("lang=\"de\""), "German by default");
    let wrong = browser
        .login(&page, "anna@example.de", "wrong password!!")
        .await;
    assert!(
        wrong.is_page("/login"),
        "a failed login shows the form again: {wrong:?}"
    );
    let consent = browser.login(&wrong, "anna@example.de", PASSWORD).await;
    assert!(consent.is_page("/consent"), "{consent:?}");
    let back = browser.consent(&consent, true).await;
    assert_eq!(
        back.param("state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        back.param("iss").as_deref(),
        Some(server.issuer.as_str()),
        "RFC 9207 iss"
    );
    let code = back.param("code").expect("code");

    // Code exchange with PKCE; the ID token is validated against the JWKS by openidconnect.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("id token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("valid ID token");
    assert_eq!(claims.issuer().as_str(), server.issuer);
    assert!(claims.auth_time().is_some());
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("http://eidas.europa.eu/LoA/low")
    );
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));

    // The access token is an RFC 9068 JWT.
    let header: serde_json::Value = {
        use base64::Engine;
        let h = tokens
            .access_token()
            .secret()
            .split('.')
            .next()
            .unwrap()
            .to_string();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], "at+jwt");

    // Userinfo.
    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("anna@example.de"));
    assert_eq!(
        info.given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Anna")
    );
    assert_eq!(info.subject(), claims.subject());

    // Refresh: a new pair; the old refresh token is spent.
    let refresh = tokens.refresh_token().expect("refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        refresh.secret(),
        "rotated"
    );

    // Introspection: active with the login's acr.
    let intro: CoreTokenIntrospectionResponse = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .expect("introspect");
    assert!(intro.active());
    assert_eq!(intro.sub(), Some(claims.subject().as_str()));

    // Revocation: the refresh token (and its grant's access tokens) stop working.
    // (openidconnect refuses RFC 7009 revocation over plain http, so this one request is made
    // directly; the loopback issuer is http in tests.)
    let r = reqwest::Client::new()
        .post(server.url("/revoke"))
        .basic_auth("rp", Some("rp-secret-123"))
        .form(&[
            (
                "token",
                refreshed.refresh_token().unwrap().secret().as_str(),
            ),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let intro: CoreTokenIntrospectionResponse = client
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .expect("introspect");
    assert!(
        !intro.active(),
        "revoking the refresh token revokes the grant's access tokens"
    );
    assert!(client
        .exchange_refresh_token(refreshed.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .is_err());

    // RP-initiated logout with id_token_hint: straight back to the registered URI with state.
    let logout = format!(
        "{}/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye-1",
        server.issuer,
        id_token,
        urlencode("http://127.0.0.1:9999/rp/bye")
    );
    let out = browser.get(&logout).await;
    assert_eq!(out.param("state").as_deref(), Some("bye-1"), "{out:?}");
    // The session is gone: prompt=none now answers login_required.
    let (url, _) = authorize_url(&server, "rp", &[("prompt", "none")]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("login_required")
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn full_flow_sqlite() {
    full_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn full_flow_postgres() {
    full_flow(Backend::Postgres).await;
}

async fn sso_and_prompt_none(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.confidential("one", true).await;
    server.confidential("two", true).await;
    server.citizen("ben@example.de", PASSWORD).await;
    let browser = Browser::new(&server);

    // Before login: prompt=none → login_required, sent to the client with state.
    let (url, _) = authorize_url(&server, "one", &[("prompt", "none")]);
    let out = browser.get(&url).await;
    assert_eq!(out.param("error").as_deref(), Some("login_required"));
    assert_eq!(out.param("state").as_deref(), Some("st-123"));

    // Log in at client one.
    let (code, verifier) = login_code(&server, &browser, "one", "ben@example.de").await;
    let (status, body) = exchange(&server, "one", &code, &verifier).await;
    assert_eq!(status, 200, "{body}");

    // Client two gets its code without a password prompt (single sign-on)…
    let (url, verifier2) = authorize_url(&server, "two", &[]);
    let out = browser.get(&url).await;
    let code2 = out
        .param("code")
        .unwrap_or_else(|| panic!("SSO code expected: {out:?}"));
    let (status, body) = exchange(&server, "two", &code2, &verifier2).await;
    assert_eq!(status, 200, "{body}");
    // …and with prompt=none as well.
    let (url, _) = authorize_url(&server, "two", &[("prompt", "none")]);
    assert!(browser.get(&url).await.param("code").is_some());
    // prompt=login forces the login page even with a session.
    let (url, _) = authorize_url(&server, "two", &[("prompt", "login")]);
    assert!(browser.get(&url).await.is_page("/login"));
    // A third-party client without consent and prompt=none → consent_required.
    server.confidential("three", false).await;
    let (url, _) = authorize_url(&server, "three", &[("prompt", "none")]);
    assert_eq!(
        browser.get(&url).await.param("error").as_deref(),
        Some("consent_required")
    );
}

#[tokio::test]
async fn sso_and_prompt_none_sqlite() {
    sso_and_prompt_none(Backend::Sqlite).await;
}

#[tokio::test]
async fn sso_and_prompt_none_postgres() {
    sso_and_prompt_none(Backend::Postgres).await;
}
