//! Test fixtures: keys generated per test run, hand-built tokens, and a tiny issuer that serves
//! a discovery document and a JWKS on 127.0.0.1.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A signing key of one of the three accepted kinds.
pub enum Signer {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Rs256(aws_lc_rs::rsa::KeyPair),
}

/// A signing key with its `kid`.
pub struct TestKey {
    pub kid: String,
    pub signer: Signer,
}

impl TestKey {
    pub fn es256(kid: &str) -> Self {
        // Round-trip through PKCS#8 as a real issuer would store the key.
        let generated = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let pkcs8 = generated.to_pkcs8v1().unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        TestKey {
            kid: kid.into(),
            signer: Signer::Es256(key),
        }
    }

    pub fn eddsa(kid: &str) -> Self {
        TestKey {
            kid: kid.into(),
            signer: Signer::EdDsa(Ed25519KeyPair::generate().unwrap()),
        }
    }

    pub fn rs256(kid: &str) -> Self {
        TestKey {
            kid: kid.into(),
            signer: Signer::Rs256(aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap()),
        }
    }

    pub fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Es256(_) => "ES256",
            Signer::EdDsa(_) => "EdDSA",
            Signer::Rs256(_) => "RS256",
        }
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        match &self.signer {
            Signer::Es256(k) => {
                let point = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                       "kid": self.kid, "use": "sig", "alg": "ES256"})
            }
            Signer::EdDsa(k) => json!({"kty": "OKP", "crv": "Ed25519",
                "x": b64(k.public_key().as_ref()), "kid": self.kid, "use": "sig", "alg": "EdDSA"}),
            Signer::Rs256(k) => {
                let c = PublicKeyComponents::<Vec<u8>>::from(k.public_key());
                json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e), "kid": self.kid,
                       "use": "sig", "alg": "RS256"})
            }
        }
    }

    /// The raw public key bytes (what a confused verifier might use as an HMAC secret).
    pub fn public_bytes(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Es256(k) => k.public_key().as_ref().to_vec(),
            Signer::EdDsa(k) => k.public_key().as_ref().to_vec(),
            Signer::Rs256(k) => k.public_key().as_ref().to_vec(),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Es256(k) => k.sign(&rng, message).unwrap().as_ref().to_vec(),
            Signer::EdDsa(k) => k.sign(message).as_ref().to_vec(),
            Signer::Rs256(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig).unwrap();
                sig
            }
        }
    }

    /// The standard header for this key.
    pub fn header(&self) -> Value {
        json!({"typ": "at+jwt", "alg": self.alg(), "kid": self.kid})
    }

    /// `base64url(header).base64url(payload).base64url(signature)`.
    pub fn token(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", b64(signature))
    }

    /// A token with the standard header.
    pub fn token_for(&self, claims: &Value) -> String {
        self.token(&self.header(), claims)
    }
}

pub const AUDIENCE: &str = "wunschkennzeichen";

/// Claims as Pforte puts them into an access token.
pub fn claims(issuer: &str, acr: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "sub": "citizen-4711",
        "aud": AUDIENCE,
        "client_id": AUDIENCE,
        "scope": "openid kfz",
        "exp": now + 300,
        "iat": now,
        "jti": "tok-1",
        "auth_time": now - 10,
        "acr": acr,
        "amr": ["pwd"],
    })
}

/// A tiny issuer on 127.0.0.1 serving discovery and a JWKS that the test can change.
#[derive(Clone)]
pub struct Issuer {
    pub url: String,
    jwks: Arc<Mutex<Value>>,
    pub jwks_hits: Arc<AtomicUsize>,
    pub discovery_hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct IssuerState {
    url: String,
    jwks: Arc<Mutex<Value>>,
    jwks_hits: Arc<AtomicUsize>,
    discovery_hits: Arc<AtomicUsize>,
    claimed_issuer: Option<String>,
}

impl Issuer {
    pub async fn start(keys: &[&TestKey]) -> Issuer {
        Self::start_claiming(keys, None).await
    }

    /// Like `start`, but the discovery document names `claimed_issuer` as its issuer.
    pub async fn start_claiming(keys: &[&TestKey], claimed_issuer: Option<&str>) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = IssuerState {
            url: url.clone(),
            jwks: Arc::new(Mutex::new(jwks(keys))),
            jwks_hits: Arc::default(),
            discovery_hits: Arc::default(),
            claimed_issuer: claimed_issuer.map(str::to_owned),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(serve_jwks))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer {
            url,
            jwks: state.jwks,
            jwks_hits: state.jwks_hits,
            discovery_hits: state.discovery_hits,
        }
    }

    pub fn set_keys(&self, keys: &[&TestKey]) {
        *self.jwks.lock().unwrap() = jwks(keys);
    }

    pub fn jwks_hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }
}

pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()})
}

async fn discovery(State(s): State<IssuerState>) -> Json<Value> {
    s.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = s.claimed_issuer.clone().unwrap_or_else(|| s.url.clone());
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/jwks", s.url),
        "authorization_endpoint": format!("{}/authorize", s.url),
    }))
}

async fn serve_jwks(State(s): State<IssuerState>) -> Json<Value> {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    Json(s.jwks.lock().unwrap().clone())
}
