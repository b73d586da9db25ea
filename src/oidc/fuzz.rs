//! Entry points for fuzzing the parsers that read attacker-controlled bytes: the authorization
//! request, the token request (form body and `Authorization` header), and client-assertion
//! JWTs. Each takes arbitrary bytes and must return without panicking, whatever they are.
//!
//! Two drivers call them: the cargo-fuzz targets in `fuzz/` (libFuzzer, coverage-guided, a
//! nightly compiler; `fuzz/run.sh`), and [`tests`] here, which run every committed corpus file
//! and a few thousand seeded mutations of it on the stable toolchain in CI
//! (docs/security.md, "Fuzzing").

use super::{
    authorize,
    client_auth::{self, Presented},
    params::Params,
};
use crate::{
    assurance::{AcrVocabulary, Level},
    store::{
        clients::Client,
        types::{Alg, AuthMethod, GrantType},
    },
};

/// A registered confidential client for the authorization request target.
fn client() -> Client {
    Client {
        id: "rp".into(),
        name: "RP".into(),
        secret_hash: Some("x".into()),
        redirect_uris: vec!["https://rp.example/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: ["openid", "profile", "email", "address", "offline_access"]
            .map(String::from)
            .to_vec(),
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: Alg::RS256,
        acr_vocabulary: AcrVocabulary::Eidas,
        first_party: false,
        min_level: Some(Level::Low),
        created_at: 0,
        disabled_at: None,
        login_methods: None,
        upstreams: None,
        may_introspect: false,
        pkce_optional: false,
        verified_claims: false,
        subject_type: crate::store::types::SubjectType::Public,
        sector_identifier: None,
    }
}

/// `GET /authorize?{data}`: parameter parsing and the whole validation of `oidc::authorize`.
pub fn authorization_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = Params::parse(text) else {
        return;
    };
    let client = client();
    let redirect = p
        .get("redirect_uri")
        .unwrap_or("https://rp.example/cb")
        .to_string();
    if let Ok(req) = authorize::validate(&p, &client, redirect, Ok(None)) {
        let _ = req.consent_scopes();
        let _ = authorize::json_depth(req.claims.as_deref().unwrap_or(""));
    }
}

/// `POST /token`: the first line is the `Authorization` header (may be empty), the rest the
/// form body; parsed into the presented client credentials (RFC 6749 §2.3, RFC 7523).
pub fn token_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (header, body) = text.split_once('\n').unwrap_or(("", text));
    let Ok(p) = Params::parse(body) else {
        return;
    };
    let authorization = (!header.is_empty()).then_some(header);
    if let Ok(Presented::Assertion { jwt, .. }) = client_auth::presented(authorization, &p) {
        client_assertion(jwt.as_bytes());
    }
}

/// A `client_assertion`: the unverified reads Pforte does before it knows the key (the
/// subject, the header) and the claims' shape.
pub fn client_assertion(data: &[u8]) {
    let Ok(jwt) = std::str::from_utf8(data) else {
        return;
    };
    let _ = client_auth::assertion_subject(jwt);
    let _ = jsonwebtoken::decode_header(jwt);
    if let Some(payload) = jwt.split('.').nth(1) {
        use base64::Engine;
        if let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) {
            let _ = serde_json::from_slice::<client_auth::AssertionClaims>(&bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// Every committed corpus file of `target`, then seeded mutations of each (byte flips,
    /// insertions, deletions, splices with another file): no panic.
    fn run(target: &str, f: fn(&[u8])) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        assert!(!seeds.is_empty(), "corpus of {target}");
        seeds.sort();
        let mut rng = StdRng::seed_from_u64(0x5046_4f52_5445);
        for s in &seeds {
            f(s);
        }
        for _ in 0..3000 {
            let mut input = seeds[rng.gen_range(0..seeds.len())].clone();
            for _ in 0..rng.gen_range(1..8) {
                let len = input.len();
                match rng.gen_range(0..5) {
                    0 if len > 0 => {
                        let i = rng.gen_range(0..len);
                        input[i] ^= 1 << rng.gen_range(0..8);
                    }
                    1 => {
                        let i = rng.gen_range(0..=len);
                        let b = *b"=&%{}[]\"\\.\n:+0aZ\xff"
                            .get(rng.gen_range(0..17))
                            .unwrap_or(&b'x');
                        input.insert(i, b);
                    }
                    2 if len > 0 => {
                        let i = rng.gen_range(0..len);
                        input.remove(i);
                    }
                    3 => {
                        let other = &seeds[rng.gen_range(0..seeds.len())];
                        let cut = rng.gen_range(0..=input.len());
                        let from = rng.gen_range(0..=other.len());
                        input.truncate(cut);
                        input.extend_from_slice(&other[from..]);
                    }
                    _ => {
                        // Deep nesting and long runs, the shapes that break parsers.
                        let i = rng.gen_range(0..=len);
                        let run = [b'[', b'{', b'%', b'a'][rng.gen_range(0..4)];
                        let n = rng.gen_range(1..2000);
                        input.splice(i..i, std::iter::repeat_n(run, n));
                    }
                }
            }
            f(&input);
        }
    }

    #[test]
    fn fuzz_authorization_request_corpus_and_mutations() {
        run("authorization_request", super::authorization_request);
    }

    #[test]
    fn fuzz_token_request_corpus_and_mutations() {
        run("token_request", super::token_request);
    }

    #[test]
    fn fuzz_client_assertion_corpus_and_mutations() {
        run("client_assertion", super::client_assertion);
    }
}
