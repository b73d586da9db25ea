//! The axum side: status codes and exact `WWW-Authenticate` challenges (RFC 6750 §3,
//! RFC 9470 §3) for requests through a router.

use std::time::Duration;

use crate::common::{claims, now, Issuer, TestKey, AUDIENCE};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, post};
use axum::{Extension, Router};
use pforte_guard::{AccessToken, Guard, Level, Rejection, RequireLevel};
use serde_json::{json, Value};
use tower::ServiceExt;

const LOW: &str = "http://eidas.europa.eu/LoA/low";
const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";

async fn whoami(token: AccessToken) -> String {
    token.sub.clone()
}

async fn maybe(token: Option<AccessToken>) -> String {
    token.map_or_else(|| "anonymous".into(), |t| t.sub.clone())
}

async fn inline_high(token: AccessToken) -> Result<&'static str, Rejection> {
    token.require(Level::High)?;
    Ok("high enough")
}

async fn needs_scope(token: AccessToken) -> Result<&'static str, Rejection> {
    token.require_scope("hund")?;
    Ok("woof")
}

fn app(guard: Guard) -> Router {
    Router::new()
        .route("/reservations", post(whoami))
        .route(
            "/payment",
            post(whoami).route_layer(RequireLevel::new(Level::Substantial)),
        )
        .route(
            "/fresh",
            post(whoami)
                .route_layer(RequireLevel::new(Level::Low).max_age(Duration::from_secs(60))),
        )
        .route("/maybe", get(maybe))
        .route("/high", post(inline_high))
        .route("/dog", post(needs_scope))
        .layer(Extension(guard))
}

struct Fixture {
    issuer: Issuer,
    key: TestKey,
}

impl Fixture {
    async fn new() -> Self {
        let key = TestKey::es256("k1");
        let issuer = Issuer::start(&[&key]).await;
        Fixture { issuer, key }
    }

    fn guard(&self) -> pforte_guard::GuardBuilder {
        Guard::builder(&self.issuer.url, AUDIENCE)
    }

    fn token(&self, acr: &str) -> String {
        self.key.token_for(&claims(&self.issuer.url, acr))
    }
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

async fn call(app: &Router, method: &str, path: &str, authorization: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    Answer {
        status,
        challenge,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn no_token_gets_a_bare_challenge() {
    let f = Fixture::new().await;
    let plain = app(f.guard().build().unwrap());
    let a = call(&plain, "POST", "/reservations", None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.challenge.as_deref(), Some("Bearer"));

    let with_realm = app(f.guard().realm("wunschkennzeichen").build().unwrap());
    let a = call(&with_realm, "POST", "/reservations", None).await;
    assert_eq!(
        a.challenge.as_deref(),
        Some(r#"Bearer realm="wunschkennzeichen""#)
    );
    // Another scheme is no bearer token either.
    let a = call(
        &with_realm,
        "POST",
        "/reservations",
        Some("Basic dXNlcjpwdw=="),
    )
    .await;
    assert_eq!(
        a.challenge.as_deref(),
        Some(r#"Bearer realm="wunschkennzeichen""#)
    );
    // Optional extraction: no token is fine, a bad one is not.
    let a = call(&with_realm, "GET", "/maybe", None).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "anonymous"));
    let a = call(&with_realm, "GET", "/maybe", Some("Bearer a.b.c")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invalid_tokens_get_invalid_token() {
    let f = Fixture::new().await;
    let app = app(f.guard().realm("wunschkennzeichen").build().unwrap());
    let mut c = claims(&f.issuer.url, LOW);
    c["exp"] = json!(now() - 3600);
    let a = call(
        &app,
        "POST",
        "/reservations",
        Some(&bearer(&f.key.token_for(&c))),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            r#"Bearer realm="wunschkennzeichen", error="invalid_token", error_description="the token has expired""#
        )
    );
    let body: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body["error"], "invalid_token");

    // Even on a route that demands a level, a bad token is invalid_token, not a step-up.
    let a = call(&app, "POST", "/payment", Some("bearer x.y.z")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.challenge.unwrap().contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn malformed_authorization_is_invalid_request() {
    let f = Fixture::new().await;
    let app = app(f.guard().build().unwrap());
    for value in ["Bearer", "Bearer ", "Bearer a b", "Bearer ä"] {
        let a = call(&app, "POST", "/reservations", Some(value)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{value}");
        assert!(a
            .challenge
            .unwrap()
            .starts_with(r#"Bearer error="invalid_request""#));
    }
}

#[tokio::test]
async fn good_token_reaches_the_handler() {
    let f = Fixture::new().await;
    let app = app(f.guard().build().unwrap());
    let a = call(&app, "POST", "/reservations", Some(&bearer(&f.token(LOW)))).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "citizen-4711")
    );
    let a = call(
        &app,
        "POST",
        "/payment",
        Some(&bearer(&f.token(SUBSTANTIAL))),
    )
    .await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, "citizen-4711")
    );
}

#[tokio::test]
async fn low_token_against_substantial_demand_gets_rfc9470_challenge() {
    let f = Fixture::new().await;
    let app = app(f.guard().build().unwrap());
    let a = call(&app, "POST", "/payment", Some(&bearer(&f.token(LOW)))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"authentication level substantial required, token has low\", \
             acr_values=\"http://eidas.europa.eu/LoA/substantial\""
        )
    );
    let body: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");

    // The inline check answers the same way.
    let a = call(&app, "POST", "/high", Some(&bearer(&f.token(SUBSTANTIAL)))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a
        .challenge
        .unwrap()
        .ends_with(r#"acr_values="http://eidas.europa.eu/LoA/high""#));
}

#[tokio::test]
async fn exceeded_max_age_gets_max_age_challenge() {
    let f = Fixture::new().await;
    let app = app(f.guard().build().unwrap());
    let mut c = claims(&f.issuer.url, SUBSTANTIAL);
    c["auth_time"] = json!(now() - 30);
    let a = call(&app, "POST", "/fresh", Some(&bearer(&f.key.token_for(&c)))).await;
    assert_eq!(a.status, StatusCode::OK);

    c["auth_time"] = json!(now() - 600);
    let a = call(&app, "POST", "/fresh", Some(&bearer(&f.key.token_for(&c)))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let challenge = a.challenge.unwrap();
    assert!(
        challenge.starts_with(
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"authentication at most 60 s old required, this one is 60"
        ),
        "{challenge}"
    );
    assert!(
        challenge.ends_with(r#"acr_values="http://eidas.europa.eu/LoA/low", max_age="60""#),
        "{challenge}"
    );

    c.as_object_mut().unwrap().remove("auth_time");
    let a = call(&app, "POST", "/fresh", Some(&bearer(&f.key.token_for(&c)))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.challenge.unwrap().contains("token has no auth_time"));
}

#[tokio::test]
async fn challenge_vocabulary_is_configurable() {
    let f = Fixture::new().await;
    for (vocabulary, expected) in [
        (
            pforte_guard::AcrVocabulary::Bsi,
            "http://bsi.bund.de/eID/LoA/substantiell",
        ),
        (pforte_guard::AcrVocabulary::Stork, "STORK-QAA-Level-3"),
    ] {
        let app = app(f.guard().challenge_vocabulary(vocabulary).build().unwrap());
        let a = call(&app, "POST", "/payment", Some(&bearer(&f.token(LOW)))).await;
        let challenge = a.challenge.unwrap();
        assert!(
            challenge.ends_with(&format!("acr_values=\"{expected}\"")),
            "{challenge}"
        );
    }
}

#[tokio::test]
async fn missing_scope_is_forbidden() {
    let f = Fixture::new().await;
    let app = app(f.guard().build().unwrap());
    let a = call(&app, "POST", "/dog", Some(&bearer(&f.token(LOW)))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.challenge.as_deref(),
        Some(
            r#"Bearer error="insufficient_scope", error_description="scope hund required", scope="hund""#
        )
    );
}

#[tokio::test]
async fn forgetting_the_guard_is_a_server_error() {
    let app = Router::new().route("/reservations", post(whoami));
    let a = call(&app, "POST", "/reservations", Some("Bearer a.b.c")).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
}
