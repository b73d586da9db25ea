//! Helpers for the admin area's tests (admin API, console, browser): admin tokens, API calls,
//! staff accounts that can sign in to the console, and the console's sign-in and form posts
//! over plain HTTP.

use super::{hidden, token_request, Browser, Outcome, TestServer, PASSWORD};
use pforte::{
    accounts::totp,
    admin::{self, roles::Role, NewClient},
    assurance::Level,
    audit::Actor,
};
use reqwest::StatusCode;
use serde_json::Value;

/// Registers a client_credentials client `id` (secret `{id}-secret-123`) that may ask for
/// `scopes`.
pub async fn api_client(server: &TestServer, id: &str, scopes: &[&str]) {
    server
        .add_client(NewClient {
            id: id.into(),
            secret: Some(format!("{id}-secret-123")),
            grant_types: vec!["client_credentials".into()],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await;
}

/// An access token for the client_credentials client `id` (as [`api_client`]) with `scope`.
pub async fn admin_token(server: &TestServer, id: &str, scope: &str) -> String {
    let (status, body) = token_request(
        server,
        Some((id, &format!("{id}-secret-123"))),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// One admin API call; never a 5xx. Returns the status and the JSON body (`null` if none).
pub async fn api(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, server.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    assert!(status < 500, "{path}: {status}");
    (status, r.json().await.unwrap_or(Value::Null))
}

/// One admin API call that must answer `status`; returns the JSON body.
pub async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (got, body) = api(server, method.clone(), path, token, body).await;
    assert_eq!(got, status, "{method} {path}: {body}");
    body
}

/// A staff account for the console: a citizen proofed to substantial, an authenticator app
/// (its seed is returned), and `roles`.
pub async fn staff(server: &TestServer, email: &str, roles: &[Role]) -> Vec<u8> {
    let id = server.citizen(email, PASSWORD).await;
    let db = &server.app.db;
    admin::proof_account(
        db,
        &Actor::Cli,
        email,
        Level::Substantial,
        "ID card at the office",
    )
    .await
    .unwrap();
    let seed = totp::new_seed();
    let now = server.app.clock.now();
    totp::enrol(
        db,
        &server.app.kek,
        &id,
        "app",
        &seed,
        totp::step_of(now) - 5,
        now,
    )
    .await
    .unwrap();
    for r in roles {
        admin::grant_role(db, &Actor::Cli, email, *r).await.unwrap();
    }
    seed
}

pub fn status(o: &Outcome) -> StatusCode {
    match o {
        Outcome::Page { status, .. } => *status,
        Outcome::Callback { .. } => StatusCode::SEE_OTHER,
    }
}

/// Signs in to the console: password, then the TOTP step-up; returns where it ended.
pub async fn sign_in(server: &TestServer, browser: &Browser, email: &str, seed: &[u8]) -> Outcome {
    let page = browser.get(&server.url("/admin/")).await;
    let page = if page.is_page("/login") {
        browser.login(&page, email, PASSWORD).await
    } else {
        page
    };
    if !page.is_page("/stepup") {
        return page;
    }
    // Each sign-in uses a fresh time step (a step is accepted once).
    server.app.clock.advance(30);
    let code = totp::code_at(seed, totp::step_of(server.app.clock.now()));
    let html = page.html();
    browser
        .post_form(
            &server.url("/stepup/totp"),
            &[
                ("csrf", &hidden(html, "csrf")),
                ("req", &hidden(html, "req")),
                ("code", &code),
            ],
        )
        .await
}

pub async fn get(browser: &Browser, server: &TestServer, path: &str) -> Outcome {
    browser.get(&server.url(path)).await
}

/// Posts a console form, with the CSRF token of the console page at `form_page`.
pub async fn post(
    browser: &Browser,
    server: &TestServer,
    form_page: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Outcome {
    let page = get(browser, server, form_page).await;
    let csrf = match &page {
        Outcome::Page { html, .. } if html.contains("name=\"csrf\"") => hidden(html, "csrf"),
        _ => String::new(),
    };
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend_from_slice(fields);
    browser.post_form(&server.url(path), &form).await
}
