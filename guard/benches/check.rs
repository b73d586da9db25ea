//! The full access-token check against bare signature verification, same key, same token.
//!
//! - `full_check`: `Guard::validate` (split, header checks, cached key lookup by `kid`,
//!   signature, claims parse, `exp`/`nbf`/`iss`/`aud`) plus `check_level` (substantial,
//!   30 min max age). Keys come from the guard's in-memory cache (no network).
//! - `bare_jsonwebtoken`: `jsonwebtoken::crypto::verify` over the same signing input with the
//!   same pre-built `DecodingKey` (what the full check calls underneath).
//! - `bare_aws_lc`: `aws_lc_rs` `UnparsedPublicKey::verify` with the signature already
//!   decoded: the floor.
//! - `paired`: full check and `bare_jsonwebtoken` timed in alternating batches and compared
//!   per round (median ratio), which holds up on a shared, busy machine where the sequential
//!   criterion groups drift.
//!
//! Run: `cargo bench -p pforte-guard --bench check -- --quick` (see BENCH.md).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, Criterion};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use pforte_guard::{check_level, Guard, Level};
use serde_json::{json, Value};
use std::hint::black_box;

const ISSUER: &str = "https://pforte.example.de";
const AUDIENCE: &str = "wunschkennzeichen";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// One benchmark subject: a token, the JWK that verifies it, and a raw verifier.
struct Subject {
    name: &'static str,
    alg: Algorithm,
    jwk: Value,
    token: String,
    raw_public_key: Vec<u8>,
    raw_algorithm: &'static dyn signature::VerificationAlgorithm,
}

fn payload() -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // What Pforte puts into an access token.
    json!({
        "iss": ISSUER, "sub": "c3a1b2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "aud": AUDIENCE,
        "client_id": AUDIENCE, "scope": "openid kfz", "exp": now + 3600, "iat": now,
        "jti": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "auth_time": now - 60,
        "acr": "http://eidas.europa.eu/LoA/substantial", "amr": ["pwd", "otp"],
    })
}

fn signed(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = json!({"typ": "at+jwt", "alg": alg, "kid": kid});
    let input = format!("{}.{}", b64(header.to_string()), b64(payload().to_string()));
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(sig))
}

fn es256() -> Subject {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = key.public_key().as_ref().to_vec();
    let rng = SystemRandom::new();
    let token = signed("ES256", "ec-1", |m| {
        key.sign(&rng, m).unwrap().as_ref().to_vec()
    });
    Subject {
        name: "es256",
        alg: Algorithm::ES256,
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": "ec-1", "use": "sig", "alg": "ES256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..])}),
        token,
        raw_public_key: point,
        raw_algorithm: &ECDSA_P256_SHA256_FIXED,
    }
}

fn rs256() -> Subject {
    let key = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
    let components = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
    let rng = SystemRandom::new();
    let token = signed("RS256", "rsa-1", |m| {
        let mut sig = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &rng, m, &mut sig).unwrap();
        sig
    });
    Subject {
        name: "rs256",
        alg: Algorithm::RS256,
        jwk: json!({"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
                    "n": b64(&components.n), "e": b64(&components.e)}),
        token,
        // PKCS#1 RSAPublicKey DER, as `UnparsedPublicKey` expects for RSA.
        raw_public_key: key.public_key().as_ref().to_vec(),
        raw_algorithm: &signature::RSA_PKCS1_2048_8192_SHA256,
    }
}

/// A subject wired up: the guard with the key cached, the token, and the bare verifiers.
struct Prepared {
    name: &'static str,
    guard: Guard,
    token: String,
    alg: Algorithm,
    key: DecodingKey,
    raw: UnparsedPublicKey<Vec<u8>>,
}

impl Prepared {
    fn new(subject: Subject, runtime: &tokio::runtime::Runtime) -> Self {
        let jwks = json!({"keys": [subject.jwk]}).to_string();
        let guard = Guard::builder(ISSUER, AUDIENCE)
            .jwks_json(jwks)
            .build()
            .unwrap();
        // Sanity: every variant accepts the token before we time it.
        let claims = runtime.block_on(guard.validate(&subject.token)).unwrap();
        check_level(&claims, Level::Substantial, None, SystemTime::now()).unwrap();
        let jwk: Jwk = serde_json::from_value(subject.jwk).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        let raw = UnparsedPublicKey::new(subject.raw_algorithm, subject.raw_public_key);
        let prepared = Prepared {
            name: subject.name,
            guard,
            token: subject.token,
            alg: subject.alg,
            key,
            raw,
        };
        assert!(prepared.bare_jsonwebtoken());
        let (input, sig) = prepared.split();
        prepared
            .raw
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        prepared
    }

    fn split(&self) -> (&str, &str) {
        self.token.rsplit_once('.').unwrap()
    }

    async fn full_check(&self) -> pforte_guard::Claims {
        let claims = self.guard.validate(black_box(&self.token)).await.unwrap();
        let max_age = Some(Duration::from_secs(30 * 60));
        check_level(&claims, Level::Substantial, max_age, SystemTime::now()).unwrap();
        claims
    }

    fn bare_jsonwebtoken(&self) -> bool {
        let (input, sig) = self.split();
        jsonwebtoken::crypto::verify(
            black_box(sig),
            black_box(input.as_bytes()),
            &self.key,
            self.alg,
        )
        .unwrap()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = runtime();
    for subject in [es256(), rs256()] {
        let p = Prepared::new(subject, &runtime);
        let (input, sig_b64) = p.split();
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
        let mut group = c.benchmark_group(p.name);
        group.bench_function("full_check", |b| {
            b.to_async(&runtime).iter(|| p.full_check())
        });
        group.bench_function("bare_jsonwebtoken", |b| b.iter(|| p.bare_jsonwebtoken()));
        group.bench_function("bare_aws_lc", |b| {
            b.iter(|| {
                p.raw
                    .verify(black_box(input.as_bytes()), black_box(&sig))
                    .unwrap()
            })
        });
        group.finish();
    }
}

/// Full check and bare verification measured in alternating batches, so that load from
/// other processes on a shared machine hits both alike; prints the median ratio.
fn paired_ratio() {
    const ROUNDS: usize = 40;
    const BATCH: u32 = 200;
    let runtime = runtime();
    for subject in [es256(), rs256()] {
        let p = Prepared::new(subject, &runtime);
        let time_full = || {
            let start = Instant::now();
            runtime.block_on(async {
                for _ in 0..BATCH {
                    black_box(p.full_check().await);
                }
            });
            start.elapsed()
        };
        let time_bare = || {
            let start = Instant::now();
            for _ in 0..BATCH {
                black_box(p.bare_jsonwebtoken());
            }
            start.elapsed()
        };
        let (mut full, mut bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (f, b) = if round % 2 == 0 {
                let f = time_full();
                (f, time_bare())
            } else {
                let b = time_bare();
                (time_full(), b)
            };
            full.push(f / BATCH);
            bare.push(b / BATCH);
            ratios.push(f.as_secs_f64() / b.as_secs_f64());
        }
        full.sort_unstable();
        bare.sort_unstable();
        ratios.sort_unstable_by(f64::total_cmp);
        println!(
            "{}/paired: full_check {:.1?} bare_jsonwebtoken {:.1?} ratio {:.2} (median of {ROUNDS} \
             alternating batches of {BATCH}; min ratio {:.2}, max {:.2})",
            p.name,
            full[ROUNDS / 2],
            bare[ROUNDS / 2],
            ratios[ROUNDS / 2],
            ratios[0],
            ratios[ROUNDS - 1],
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let listing_or_testing = std::env::args().any(|a| a == "--list" || a == "--test");
    if !listing_or_testing {
        paired_ratio();
    }
}
