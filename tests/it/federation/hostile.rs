//! A hostile OP served by the test itself: every way an upstream answer can be wrong (bad
//! signature, unknown key, wrong iss/aud, nonce mismatch, missing sub, low acr, slow answers,
//! error answers, replayed and forged callbacks). After each failure the page is readable,
//! audited, and no account or link was added.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::common::{federation::*, *};
use pforte::{
    admin::{self, NewUpstream},
    audit::Actor,
};
use reqwest::{header, StatusCode};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Ok,
    BadSignature,
    UnknownKid,
    WrongIssuer,
    WrongAudience,
    NonceMismatch,
    MissingSub,
    LowAcr,
    Slow,
    TokenError,
}

struct Hostile {
    mode: Mode,
    issuer: String,
    key: aws_lc_rs::signature::EcdsaKeyPair,
    other: aws_lc_rs::signature::EcdsaKeyPair,
    nonce: String,
    last_callback: String,
}

type Shared = Arc<Mutex<Hostile>>;

fn p256() -> aws_lc_rs::signature::EcdsaKeyPair {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap()
}

async fn hostile_op() -> (String, Shared) {
    use axum::{
        extract::{Query, State},
        response::{IntoResponse, Redirect},
        routing::{get, post},
        Json, Router,
    };
    use std::collections::HashMap;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let shared: Shared = Arc::new(Mutex::new(Hostile {
        mode: Mode::Ok,
        issuer: issuer.clone(),
        key: p256(),
        other: p256(),
        nonce: String::new(),
        last_callback: String::new(),
    }));
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|State(h): State<Shared>| async move {
                let iss = h.lock().unwrap().issuer.clone();
                Json(json!({
                    "issuer": iss,
                    "authorization_endpoint": format!("{iss}/auth"),
                    "token_endpoint": format!("{iss}/token"),
                    "jwks_uri": format!("{iss}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["ES256"],
                }))
            }),
        )
        .route(
            "/jwks",
            get(|State(h): State<Shared>| async move {
                let h = h.lock().unwrap();
                Json(json!({ "keys": [es256_jwk(&h.key, "k1")] }))
            }),
        )
        .route(
            "/auth",
            get(
                |State(h): State<Shared>, Query(q): Query<HashMap<String, String>>| async move {
                    let mut h = h.lock().unwrap();
                    h.nonce = q.get("nonce").cloned().unwrap_or_default();
                    let mut cb = url::Url::parse(&q["redirect_uri"]).unwrap();
                    cb.query_pairs_mut()
                        .append_pair("code", "hostile-code")
                        .append_pair("state", &q["state"]);
                    h.last_callback = cb.to_string();
                    Redirect::to(cb.as_str())
                },
            ),
        )
        .route(
            "/token",
            post(|State(h): State<Shared>| async move {
                let (mode, claims, token) = {
                    let h = h.lock().unwrap();
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let mut c = json!({
                        "iss": h.issuer, "sub": "hostile-subject-1", "aud": "pforte-at-hostile",
                        "exp": now + 300, "iat": now, "nonce": h.nonce,
                        "acr": "http://eidas.europa.eu/LoA/high",
                    });
                    match h.mode {
                        Mode::WrongIssuer => c["iss"] = json!("http://127.0.0.1:1/evil"),
                        Mode::WrongAudience => c["aud"] = json!("someone-else"),
                        Mode::NonceMismatch => c["nonce"] = json!("not-the-nonce"),
                        Mode::MissingSub => {
                            c.as_object_mut().unwrap().remove("sub");
                        }
                        Mode::LowAcr => c["acr"] = json!("http://eidas.europa.eu/LoA/low"),
                        _ => {}
                    }
                    let token = match h.mode {
                        Mode::BadSignature => es256_sign_kid(&h.other, "k1", &c),
                        Mode::UnknownKid => es256_sign_kid(&h.other, "k9", &c),
                        _ => es256_sign_kid(&h.key, "k1", &c),
                    };
                    (h.mode, c, token)
                };
                let _ = claims;
                if mode == Mode::Slow {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                if mode == Mode::TokenError {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "invalid_grant"})),
                    )
                        .into_response();
                }
                Json(json!({
                    "access_token": "hostile-at", "token_type": "Bearer", "expires_in": 300,
                    "id_token": token,
                }))
                .into_response()
            }),
        )
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (issuer, shared)
}

#[tokio::test]
async fn upstream_failures_leave_nothing_behind_sqlite() {
    upstream_failures_leave_nothing_behind(Backend::Sqlite).await
}

#[tokio::test]
async fn upstream_failures_leave_nothing_behind_postgres() {
    upstream_failures_leave_nothing_behind(Backend::Postgres).await
}

async fn upstream_failures_leave_nothing_behind(backend: Backend) {
    let server = TestServer::start_with(backend, |c| c.upstream.timeout_secs = 2).await;
    let (issuer, hostile) = hostile_op().await;
    admin::add_upstream(
        &server.app.db,
        &server.app.kek,
        &Actor::Cli,
        NewUpstream {
            id: "hostile".into(),
            profile: "oidc".into(),
            issuer,
            client_id: "pforte-at-hostile".into(),
            client_secret: "hostile-secret".into(),
            name: Some("Testanbieter".into()),
            max_level: Some(pforte::assurance::Level::High),
            auth_method: Some("client_secret_post".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    downstream_client(&server, None).await;
    let essential_high =
        r#"{"id_token":{"acr":{"essential":true,"values":["http://eidas.europa.eu/LoA/high"]}}}"#;

    let cases: &[(Mode, &str, &str, bool)] = &[
        (
            Mode::BadSignature,
            "bad_signature",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::UnknownKid,
            "unknown_key",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::WrongIssuer,
            "wrong_issuer",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::WrongAudience,
            "wrong_audience",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::NonceMismatch,
            "nonce_mismatch",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::MissingSub,
            "missing_claim",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
        (
            Mode::LowAcr,
            "acr_too_low",
            "Vertrauensniveau nicht erreicht",
            true,
        ),
        (
            Mode::Slow,
            "timeout",
            "Anmeldung zurzeit nicht möglich",
            false,
        ),
        (
            Mode::TokenError,
            "token",
            "Anmeldung konnte nicht geprüft werden",
            false,
        ),
    ];
    let before = counts(&server).await;
    for (mode, code, title, essential) in cases {
        hostile.lock().unwrap().mode = *mode;
        let w = Walker::new();
        let mut extra = vec![];
        if *essential {
            extra.push(("claims", essential_high));
        }
        let (url, _) = authorize_url(&server, "rp", &extra);
        let page = w.get(&url).await;
        assert!(
            page.html().contains("Mit Testanbieter anmelden"),
            "{mode:?}"
        );
        let out = w.start_at(&page, "hostile").await;
        assert!(
            out.is_page("/upstream/hostile/callback"),
            "{mode:?}: {out:?}"
        );
        assert!(
            status(&out).is_client_error() || status(&out).is_server_error(),
            "{mode:?}"
        );
        assert!(out.html().contains(title), "{mode:?}: {}", out.html());
        assert!(
            out.html().contains(&format!("<code>{code}</code>")),
            "{mode:?}: {}",
            out.html()
        );
        assert!(
            out.html().contains("href=\"/login?req="),
            "the way back: {mode:?}"
        );
        assert_eq!(
            counts(&server).await,
            before,
            "{mode:?} left an account or a link"
        );
        let failed = audited(&server, "upstream.login_failed", 1).await;
        assert_eq!(failed[0].detail["reason"], *code, "{mode:?}");
        // No login in the session either.
        let acc = w.get(&server.url("/account")).await;
        assert!(acc.is_page("/login"), "{mode:?}: {acc:?}");
    }

    // The citizen cancels (the upstream answers access_denied to the callback).
    hostile.lock().unwrap().mode = Mode::Ok;
    let w = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let start = w
        .http
        .post(server.url("/upstream/hostile/start"))
        .form(&[
            ("csrf", hidden(page.html(), "csrf")),
            ("req", hidden(page.html(), "req")),
            ("purpose", "login".into()),
        ])
        .send()
        .await
        .unwrap();
    let to_upstream = url::Url::parse(start.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let state = to_upstream
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    // Pforte asked with PKCE S256, a nonce and its registered redirect URI.
    let q: std::collections::HashMap<_, _> = to_upstream.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.contains_key("nonce") && q.contains_key("code_challenge"));
    assert_eq!(q["redirect_uri"], server.url("/upstream/hostile/callback"));
    let cancelled = w
        .get(&server.url(&format!(
            "/upstream/hostile/callback?error=access_denied&state={state}"
        )))
        .await;
    assert_eq!(status(&cancelled), StatusCode::BAD_REQUEST);
    assert!(
        cancelled.html().contains("Anmeldung abgebrochen"),
        "{cancelled:?}"
    );
    assert_eq!(counts(&server).await, before);

    // A forged callback (a state this browser never started) and a CSRF-less start.
    let forged = w
        .get(&server.url("/upstream/hostile/callback?code=x&state=forged"))
        .await;
    assert!(forged.html().contains("Anmeldung abgelaufen"), "{forged:?}");
    let no_csrf = w
        .http
        .post(server.url("/upstream/hostile/start"))
        .form(&[("purpose", "login")])
        .send()
        .await
        .unwrap();
    assert!(no_csrf.status().is_client_error());

    // A good login works once; the same callback replayed finds its state used up.
    let w = Walker::new();
    let (url, _) = authorize_url(&server, "rp", &[]);
    let page = w.get(&url).await;
    let out = w.start_at(&page, "hostile").await;
    let out = w.consent_if_asked(out).await;
    assert!(out.param("code").is_some(), "{out:?}");
    let after = counts(&server).await;
    assert_eq!(after, (before.0 + 1, before.1 + 1));
    let replay_url = hostile.lock().unwrap().last_callback.clone();
    let replay = w.get(&replay_url).await;
    assert!(replay.html().contains("Anmeldung abgelaufen"), "{replay:?}");
    assert_eq!(counts(&server).await, after);
}
