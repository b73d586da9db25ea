//! JWT access-token validation (RFC 9068 §4) against an already-resolved key.
//!
//! The order is: shape and size, JOSE header (`typ`, `alg`, `crit`), key lookup by `kid`
//! (in [`crate::jwks`]), signature and registered claims (`jsonwebtoken`), then the checks
//! `jsonwebtoken` does not make exactly as RFC 9068 wants (`iss` as one string, `iat` present).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::de::{self, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::jwks::{CachedKey, JwksError};
use crate::level::Level;

/// Tokens longer than this are refused before any decoding.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The claims of a validated access token (RFC 9068 §2.2, plus the OpenID Connect
/// authentication claims `acr`, `amr`, `auth_time`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claims {
    /// Issuer; equal to the configured issuer.
    pub iss: String,
    /// Subject: the citizen's pairwise or public identifier (or the client for a
    /// client-credentials token).
    pub sub: String,
    /// Audiences; contains the configured audience. A single string in the token is read as a
    /// one-element list.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// The OAuth client the token was issued to (RFC 9068 §2.2: REQUIRED).
    pub client_id: String,
    /// Granted scopes, space separated (RFC 9068 §2.2.3); see [`Claims::has_scope`].
    #[serde(default)]
    pub scope: Option<String>,
    /// Authentication context class reference: the assurance level reached; see
    /// [`Claims::level`].
    #[serde(default)]
    pub acr: Option<String>,
    /// Authentication methods references (RFC 8176), e.g. `["pwd", "otp"]`.
    #[serde(default)]
    pub amr: Vec<String>,
    /// When the citizen last actively authenticated (seconds since the epoch).
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub auth_time: Option<i64>,
    /// Expiry (seconds since the epoch).
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    /// Issue time (seconds since the epoch); RFC 9068 §2.2: REQUIRED.
    #[serde(deserialize_with = "numeric_date")]
    pub iat: i64,
    /// Not-before (seconds since the epoch), if the token has one.
    #[serde(default, deserialize_with = "optional_numeric_date")]
    pub nbf: Option<i64>,
    /// Unique token identifier (RFC 9068 §2.2: REQUIRED).
    pub jti: String,
    /// Every other claim, as found in the token.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Whether `scope` is one of the granted scopes (exact, case-sensitive match of one
    /// space-separated item).
    pub fn has_scope(&self, scope: &str) -> bool {
        !scope.is_empty() && self.scopes().any(|s| s == scope)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
    }

    /// The assurance level named by `acr`, in any understood vocabulary; `None` when `acr` is
    /// missing or unknown.
    pub fn level(&self) -> Option<Level> {
        self.acr.as_deref().and_then(Level::from_acr)
    }

    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Claims {
            iss: "https://pforte.example".into(),
            sub: "citizen".into(),
            aud: vec!["rp".into()],
            client_id: "rp".into(),
            scope: None,
            acr: None,
            amr: Vec::new(),
            auth_time: None,
            exp: 0,
            iat: 0,
            nbf: None,
            jti: "j".into(),
            extra: Map::new(),
        }
    }
}

/// Why a request's access token was refused.
///
/// The messages are safe to send to the client as `error_description`: none of them repeats
/// any part of the token.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The request carries no `Authorization: Bearer` header (RFC 6750 §3.1: the challenge then
    /// has no error code).
    #[error("no bearer token")]
    Missing,
    /// The `Authorization` header is repeated or its Bearer credentials are malformed
    /// (RFC 6750 §2.1; answered `400 invalid_request`).
    #[error("malformed Authorization header")]
    InvalidRequest,
    /// Not a JWS compact serialisation, too long, or the header or payload is not JSON.
    #[error("the token is not a well-formed signed JWT")]
    Malformed,
    /// The header `typ` is not `at+jwt` (RFC 9068 §4).
    #[error("the token type must be at+jwt")]
    WrongType,
    /// The header `alg` is not one of RS256, ES256, EdDSA (`none` and HMAC are never accepted).
    #[error("the signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The header has `crit`; this guard understands no JWS extensions (RFC 7515 §4.1.11).
    #[error("the token requires a JWS extension this resource does not understand")]
    CriticalHeader,
    /// No key of the issuer matches the token's `kid` and `alg`, even after a refresh.
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("the token is not meant for this resource")]
    WrongAudience,
    /// A claim RFC 9068 §2.2 requires is missing or has the wrong type.
    #[error("a required claim is missing or malformed")]
    BadClaims,
    /// The issuer's keys could not be loaded at all (a server-side problem; answered `503`).
    #[error("the issuer's signing keys are unavailable")]
    KeysUnavailable(#[source] Arc<JwksError>),
}

/// What the JOSE header says, after the checks that need no key.
#[derive(Debug)]
pub(crate) struct CheckedHeader {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
    crit: Option<IgnoredAny>,
}

/// Checks shape, `typ`, `alg` and `crit` (RFC 9068 §4 steps 1–2).
pub(crate) fn check_header(token: &str) -> Result<CheckedHeader, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if [header, payload, signature].iter().any(|p| p.is_empty()) {
        return Err(TokenError::Malformed);
    }
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    let raw: RawHeader = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;

    // RFC 9068 §4: "verify that the typ header value is at+jwt or application/at+jwt".
    // Media types compare case-insensitively (RFC 7515 §4.1.9).
    let typ_ok = raw.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(TokenError::WrongType);
    }
    let alg = match raw.alg.as_deref() {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        Some("EdDSA") => Algorithm::EdDSA,
        // Includes "none" and every HS*: a public key must never be used as an HMAC secret.
        _ => return Err(TokenError::UnsupportedAlgorithm),
    };
    // RFC 7515 §4.1.11: a recipient that does not understand every listed extension MUST
    // reject the JWS. We understand none.
    if raw.crit.is_some() {
        return Err(TokenError::CriticalHeader);
    }
    Ok(CheckedHeader { alg, kid: raw.kid })
}

/// The `jsonwebtoken` validation for one algorithm.
pub(crate) fn validation(alg: Algorithm, issuer: &str, audience: &str, leeway: u64) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = leeway;
    v.validate_exp = true;
    v.validate_nbf = true; // checked only when present
    v.validate_aud = true;
    v
}

/// Verifies signature and claims with `key`, whose algorithm already equals the header's.
pub(crate) fn verify(
    token: &str,
    key: &CachedKey,
    validation: &Validation,
    issuer: &str,
    audience: &str,
) -> Result<Claims, TokenError> {
    let data = jsonwebtoken::decode::<Claims>(token, &key.key, validation).map_err(|e| {
        match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => {
                TokenError::BadClaims
            }
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                TokenError::UnsupportedAlgorithm
            }
            // Claims JSON that does not fit `Claims` (e.g. no client_id) is a claims problem;
            // the header was already parsed, so a JSON error here is about the payload.
            ErrorKind::Json(_) => TokenError::BadClaims,
            _ => TokenError::Malformed,
        }
    })?;
    let claims = data.claims;
    // `jsonwebtoken` also accepts an array `iss` that contains the issuer; `Claims::iss` being a
    // `String` already refuses that. RFC 9068 §4 step 3: exact match.
    if claims.iss != issuer {
        return Err(TokenError::WrongIssuer);
    }
    if !claims.aud.iter().any(|a| a == audience) {
        return Err(TokenError::WrongAudience);
    }
    Ok(claims)
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// RFC 7519 §2 NumericDate: a JSON number of seconds, possibly non-integer (truncated here).
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct Visitor;
    impl de::Visitor<'_> for Visitor {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a NumericDate")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("NumericDate out of range"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.is_finite() && v.abs() < 9.0e15 {
                // Truncation toward zero is the intent; the range check above keeps it exact.
                #[allow(clippy::cast_possible_truncation)]
                Ok(v.trunc() as i64)
            } else {
                Err(E::custom("NumericDate out of range"))
            }
        }
    }
    d.deserialize_any(Visitor)
}

fn optional_numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    numeric_date(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64("{}"))
    }

    #[test]
    fn header_checks() {
        let ok = check_header(&token(r#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#)).unwrap();
        assert_eq!(ok.alg, Algorithm::ES256);
        assert_eq!(ok.kid.as_deref(), Some("k1"));
        assert!(check_header(&token(r#"{"alg":"EdDSA","typ":"Application/AT+JWT"}"#)).is_ok());

        let refused = |h: &str| check_header(&token(h)).unwrap_err();
        assert!(matches!(
            refused(r#"{"alg":"ES256","typ":"JWT"}"#),
            TokenError::WrongType
        ));
        assert!(matches!(
            refused(r#"{"alg":"ES256"}"#),
            TokenError::WrongType
        ));
        for alg in ["none", "HS256", "PS256", "ES384", "es256", ""] {
            let h = format!(r#"{{"alg":"{alg}","typ":"at+jwt"}}"#);
            assert!(matches!(refused(&h), TokenError::UnsupportedAlgorithm));
        }
        assert!(matches!(
            refused(r#"{"alg":"ES256","typ":"at+jwt","crit":["b64"],"b64":false}"#),
            TokenError::CriticalHeader
        ));
        assert!(matches!(
            refused(r#"{"alg":"ES256","alg":"none","typ":"at+jwt"}"#),
            TokenError::Malformed
        ));
    }

    #[test]
    fn shape_checks() {
        for t in [
            "", "a", "a.b", "a.b.c.d", "..", "a..c", "!!.b.c", "e30.e30.",
        ] {
            assert!(matches!(check_header(t), Err(TokenError::Malformed)), "{t}");
        }
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(check_header(&long), Err(TokenError::Malformed)));
    }

    #[test]
    fn claims_parse_dates_and_audiences() {
        let c: Claims = serde_json::from_str(
            r#"{"iss":"i","sub":"s","aud":"a","client_id":"c","exp":1.5e9,"iat":1500000000,
                "jti":"j","scope":"openid  kfz","custom":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(c.aud, vec!["a".to_string()]);
        assert_eq!(c.exp, 1_500_000_000);
        assert!(c.has_scope("kfz") && c.has_scope("openid"));
        assert!(!c.has_scope("") && !c.has_scope("kf"));
        assert_eq!(c.extra["custom"]["x"], 1);
        assert!(!c.extra.contains_key("iss"));
        for bad in [
            r#"{"iss":"i","sub":"s","aud":"a","client_id":"c","exp":1e300,"iat":1,"jti":"j"}"#,
            r#"{"iss":"i","sub":"s","aud":"a","client_id":"c","exp":"1","iat":1,"jti":"j"}"#,
            r#"{"iss":"i","sub":"s","aud":"a","client_id":"c","exp":1,"jti":"j"}"#,
            r#"{"iss":["i"],"sub":"s","aud":"a","client_id":"c","exp":1,"iat":1,"jti":"j"}"#,
        ] {
            assert!(serde_json::from_str::<Claims>(bad).is_err(), "{bad}");
        }
    }
}
