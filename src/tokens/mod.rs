//! Tokens: what goes into ID tokens and JWT access tokens, signing them with the key ring, and
//! verifying Pforte's own tokens (introspection, userinfo, `id_token_hint`).
//!
//! Token *contents* are decided by the plain builder functions in [`claims`]; this module only
//! serializes and signs (JWS Compact Serialization, RFC 7515 §7.1) with keys parsed once, and
//! verifies with `jsonwebtoken`.

pub mod claims;
pub mod keys;
mod verified;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{de::DeserializeOwned, Serialize};

pub use keys::{Alg, KeyError, KeyRing};
pub use verified::{verify_access, VerifiedTokens, ACCESS_TYPES};

/// Signs `claims` as a compact JWS with the current key for `alg`; `typ` goes in the header
/// (`JWT` for ID tokens, `at+jwt` for access tokens per RFC 9068 §2.1).
pub async fn sign<T: Serialize>(
    ring: &KeyRing,
    alg: Alg,
    typ: &str,
    claims: &T,
) -> Result<String, KeyError> {
    let snapshot = ring.snapshot().await;
    let key = snapshot.signer(alg)?;
    let mut out = key.header(typ);
    out.push('.');
    let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Crypto)?;
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let sig = key.signer.sign(out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    Ok(out)
}

/// Why one of our own tokens did not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown key")]
    UnknownKey,
    #[error("wrong token type")]
    WrongType,
    #[error("{0}")]
    Invalid(String),
}

/// What to check when verifying one of Pforte's own tokens.
pub struct Expect<'a> {
    pub issuer: &'a str,
    /// Accepted `typ` header values.
    pub typ: &'a [&'a str],
    /// Check `exp` (false for `id_token_hint`, which may be expired: OIDC RP-Initiated Logout §2).
    pub check_exp: bool,
}

/// Verifies a token Pforte signed: known `kid`, that key's algorithm only (never `none`),
/// signature, `iss`, `typ` and (optionally) `exp`.
pub async fn verify<T: DeserializeOwned>(
    ring: &KeyRing,
    token: &str,
    expect: &Expect<'_>,
) -> Result<T, VerifyError> {
    verify_with_kid(ring, token, expect).await.map(|(_, c)| c)
}

/// [`verify`], also returning the `kid` of the key that verified the token.
async fn verify_with_kid<T: DeserializeOwned>(
    ring: &KeyRing,
    token: &str,
    expect: &Expect<'_>,
) -> Result<(String, T), VerifyError> {
    if token.len() > 16 * 1024 {
        return Err(VerifyError::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
    let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
    let typ = header.typ.unwrap_or_default();
    if !expect.typ.iter().any(|t| t.eq_ignore_ascii_case(&typ)) {
        return Err(VerifyError::WrongType);
    }
    let snapshot = ring.snapshot().await;
    let (alg, key) = snapshot.verifier(&kid).ok_or(VerifyError::UnknownKey)?;
    if header.alg != *alg {
        return Err(VerifyError::Invalid(
            "algorithm does not match the key".into(),
        ));
    }
    let mut v = jsonwebtoken::Validation::new(*alg);
    v.set_issuer(&[expect.issuer]);
    v.validate_aud = false;
    v.validate_exp = expect.check_exp;
    v.leeway = 0;
    v.required_spec_claims = ["iss", "sub", "iat"]
        .into_iter()
        .map(String::from)
        .collect();
    if expect.check_exp {
        v.required_spec_claims.insert("exp".into());
    }
    let claims = jsonwebtoken::decode::<T>(token, key, &v)
        .map(|d| d.claims)
        .map_err(|e| VerifyError::Invalid(e.to_string()))?;
    Ok((kid, claims))
}
