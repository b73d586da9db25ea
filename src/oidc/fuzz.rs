//! Entry points for fuzzing the parsers that read attacker-controlled bytes: the authorization
//! request, the token request (form body and `Authorization` header), client-assertion JWTs,
//! and an upstream's ID token (`upstream::oidc`: its token response, signature and claims).
//! Each takes arbitrary bytes and must return without panicking, whatever they are.
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
    upstream::oidc::{Asserted, UpstreamError},
};

/// A registered confidential client for the authorization request target (and, varied, for
/// the unit tests of `oidc::authorize`).
pub(crate) fn client() -> Client {
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

/// The fixed upstream the `upstream_id_token` target validates against: its issuer, Pforte's
/// client id and secret there, the nonce Pforte sent, and "now".
mod upstream {
    pub const ISSUER: &str = "https://upstream.example";
    pub const CLIENT_ID: &str = "pforte";
    pub const SECRET: &str = "fuzz-client-secret-0123456789abcdef";
    pub const NONCE: &str = "n-0S6_WzA2Mj";
    pub const NOW: i64 = 1_700_000_000;
    /// A throwaway P-256 key of this harness only (not a secret): the corpus's ES256 tokens
    /// are signed with it, and its public half is the upstream's JWKS (`kid` "k1").
    pub const EC_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKbb+5A3SikYPBskO
1ioc/8fE4jKXJupHKaqH0gJWYzihRANCAATC1j2eR6K3rt/NbW7oV9ku8c2YP9aG
lyM8uBjSp4+jpbi4wY78rw4kaZoHVAaJ9CPpw0GLw5CkDvh0crkv5V14
-----END PRIVATE KEY-----
";
    pub const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",
        "x":"wtY9nkeit67fzW1u6FfZLvHNmD_WhpcjPLgY0qePo6U",
        "y":"uLjBjvyvDiRpmgdUBon0I-nDQYvDkKQO-HRyuS_lXXg"}]}"#;
    pub const METADATA: &str = r#"{"issuer":"https://upstream.example",
        "authorization_endpoint":"https://upstream.example/authorize",
        "token_endpoint":"https://upstream.example/token",
        "jwks_uri":"https://upstream.example/jwks",
        "response_types_supported":["code"],
        "subject_types_supported":["public"],
        "id_token_signing_alg_values_supported":["RS256","ES256","HS256"]}"#;
}

/// An upstream's ID token, as `upstream::oidc::finish` reads it, against a fixed upstream
/// ([`upstream`]). The first byte picks the form of the rest (low two bits) and the level
/// asked for (the next two): 0, a token response body (parse, then the ID token in it);
/// 1, a compact ID token; 2 and 3, `HEADER\nCLAIMS` (or only claims under a default header)
/// signed by the harness with the upstream's key (ES256) or Pforte's client secret (HS256),
/// so that the claim checks behind the signature are reached.
pub fn upstream_id_token(data: &[u8]) {
    let _ = upstream_outcome(data);
}

/// [`upstream_id_token`] with its outcome: `None` when the input is not even a token.
fn upstream_outcome(data: &[u8]) -> Option<Result<Asserted, UpstreamError>> {
    use crate::upstream::oidc::{assess, classify, unreadable, verify};
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    use openidconnect::{
        core::{CoreClient, CoreIdToken, CoreTokenResponse},
        ClientId, ClientSecret, JsonWebKeySet, Nonce, ProviderMetadataWithLogout, TokenResponse,
    };
    use std::sync::OnceLock;

    static METADATA: OnceLock<ProviderMetadataWithLogout> = OnceLock::new();
    let (&first, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let raw = match first & 3 {
        0 => match serde_json::from_str::<CoreTokenResponse>(text) {
            Ok(response) => response.id_token()?.to_string(),
            Err(_) => return Some(Err(unreadable(rest))),
        },
        1 => text.to_string(),
        mode => {
            let (header, claims) = text
                .split_once('\n')
                .unwrap_or((r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#, text));
            let (key, alg) = if mode == 2 {
                (
                    jsonwebtoken::EncodingKey::from_ec_pem(upstream::EC_KEY.as_bytes()).ok()?,
                    jsonwebtoken::Algorithm::ES256,
                )
            } else {
                (
                    jsonwebtoken::EncodingKey::from_secret(upstream::SECRET.as_bytes()),
                    jsonwebtoken::Algorithm::HS256,
                )
            };
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).ok()?;
            format!("{input}.{signature}")
        }
    };
    let id_token = raw.parse::<CoreIdToken>().ok()?;
    let metadata = METADATA.get_or_init(|| {
        serde_json::from_str::<ProviderMetadataWithLogout>(upstream::METADATA)
            .expect("the fixed metadata")
            .set_jwks(
                serde_json::from_str::<JsonWebKeySet<_>>(upstream::JWKS).expect("the fixed JWKS"),
            )
    });
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(upstream::CLIENT_ID.into()),
        Some(ClientSecret::new(upstream::SECRET.into())),
    );
    let nonce = Nonce::new(upstream::NONCE.into());
    let asked = [
        None,
        Some(Level::Low),
        Some(Level::Substantial),
        Some(Level::High),
    ][usize::from((first >> 2) & 3)];
    Some(
        verify(client.id_token_verifier(), &id_token, &nonce, upstream::NOW)
            .map_err(classify)
            .and_then(|verified| {
                assess(
                    &verified,
                    &id_token.to_string(),
                    &upstream_registration(),
                    asked,
                )
            }),
    )
}

/// The upstream's registration at Pforte for [`upstream_id_token`]: its own acr value for
/// "high", trusted up to "substantial".
fn upstream_registration() -> crate::store::upstreams::Upstream {
    crate::store::upstreams::Upstream {
        id: "up".into(),
        name: "Upstream".into(),
        profile: "oidc".into(),
        issuer: upstream::ISSUER.into(),
        client_id: upstream::CLIENT_ID.into(),
        client_secret: String::new(),
        max_level: Level::Substantial,
        acr_map: [("urn:upstream:hoch".to_string(), Level::High)].into(),
        created_at: 0,
        disabled_at: None,
        scopes: None,
        claim_map: None,
        auth_method: None,
        userinfo: false,
        end_session: false,
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

    #[test]
    fn fuzz_upstream_id_token_corpus_and_mutations() {
        run("upstream_id_token", super::upstream_id_token);
    }

    /// An upstream's corpus token by file name, through [`super::upstream_outcome`].
    fn upstream(name: &str) -> Result<super::Asserted, super::UpstreamError> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/upstream_id_token")
            .join(name);
        super::upstream_outcome(&std::fs::read(path).unwrap()).expect(name)
    }

    /// The harness reaches the checks behind the signature: the corpus holds tokens that pass
    /// every check, and tokens that fail each at its own step.
    #[test]
    fn upstream_id_token_corpus_reaches_every_check() {
        use super::UpstreamError as E;
        let ok = upstream("response").expect("the valid token");
        assert_eq!(ok.subject, "restricted-id-4711");
        assert_eq!(ok.level, Some(crate::assurance::Level::High));
        assert_eq!(ok.claims["given_name"], "Erika");
        for name in ["claims_es256", "compact_hs256"] {
            assert!(upstream(name).is_ok(), "{name}: {:?}", upstream(name).err());
        }
        type Expected = fn(&E) -> bool;
        let failures: [(&str, Expected); 7] = [
            ("compact_es256", |e| matches!(e, E::AcrTooLow)),
            ("header_claims_es256", |e| matches!(e, E::WrongAudience)),
            ("unknown_kid", |e| matches!(e, E::UnknownKey)),
            ("claims_hs256", |e| matches!(e, E::InvalidIdToken(_))),
            ("response_missing_sub", |e| {
                matches!(e, E::MissingClaim("sub"))
            }),
            ("alg_none", |e| matches!(e, E::InvalidIdToken(_))),
            ("hs256_short_mac", |e| matches!(e, E::BadSignature)),
        ];
        for (name, expected) in failures {
            match upstream(name) {
                Err(e) if expected(&e) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// Regression (found by the `upstream_id_token` fuzz target): an HS256 ID token whose
    /// signature is not 32 bytes long made openidconnect panic inside the verifier; it is a
    /// bad signature like any other.
    #[test]
    fn hmac_signature_of_another_length_is_a_bad_signature_not_a_panic() {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            r#"{"iss":"https://upstream.example","sub":"s","aud":"pforte","exp":1700000300,"iat":1700000000,"nonce":"n-0S6_WzA2Mj"}"#,
        );
        for len in [0, 1, 31, 33, 64, 780] {
            let token = format!(
                "{header}.{claims}.{}",
                URL_SAFE_NO_PAD.encode(vec![7u8; len])
            );
            let mut input = vec![1u8];
            input.extend_from_slice(token.as_bytes());
            let outcome = super::upstream_outcome(&input).expect("a token");
            assert!(
                matches!(outcome, Err(super::UpstreamError::BadSignature)),
                "{len}: {outcome:?}"
            );
        }
    }
}
