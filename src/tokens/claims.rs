//! Token contents, decided by plain functions over plain inputs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use super::Alg;

/// Who and how, for one token: everything a token says about the login behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// `None` for client_credentials (the client acts for itself).
    pub account_id: Option<&'a str>,
    pub scope: &'a str,
    pub auth_time: Option<i64>,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
}

/// RFC 9068 §2.2 JWT access token claims (plus acr/amr/auth_time per §2.2.1).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// RFC 9068 access token for `g`. `aud` is the client itself unless a resource is named.
pub fn access_claims(
    g: &Grant<'_>,
    aud: Option<&str>,
    now: i64,
    ttl: i64,
    jti: String,
) -> AccessClaims {
    AccessClaims {
        iss: g.issuer.to_string(),
        // RFC 9068 §2.2: for client_credentials the subject is the client.
        sub: g.account_id.unwrap_or(g.client_id).to_string(),
        aud: aud.unwrap_or(g.client_id).to_string(),
        client_id: g.client_id.to_string(),
        scope: g.scope.to_string(),
        exp: now + ttl,
        iat: now,
        jti,
        auth_time: g.auth_time,
        acr: g.acr.map(str::to_string),
        amr: g.amr.to_vec(),
        sid: g.sid.map(str::to_string),
    }
}

/// OIDC Core §2 ID token claims, plus requested profile claims flattened in.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    pub azp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

pub fn id_claims(
    g: &Grant<'_>,
    nonce: Option<&str>,
    access_token: Option<(&str, Alg)>,
    extra: serde_json::Map<String, serde_json::Value>,
    now: i64,
    ttl: i64,
) -> IdClaims {
    IdClaims {
        iss: g.issuer.to_string(),
        sub: g.account_id.unwrap_or(g.client_id).to_string(),
        aud: g.client_id.to_string(),
        exp: now + ttl,
        iat: now,
        auth_time: g.auth_time,
        nonce: nonce.map(str::to_string),
        acr: g.acr.map(str::to_string),
        amr: g.amr.to_vec(),
        azp: g.client_id.to_string(),
        sid: g.sid.map(str::to_string),
        at_hash: access_token.map(|(t, alg)| at_hash(t, alg)),
        extra,
    }
}

/// OIDC Core §3.1.3.6 `at_hash`: left half of the hash that matches the ID token's algorithm
/// (SHA-256 for RS256/ES256; SHA-512 for EdDSA with Ed25519, per the OIDC Core errata).
pub fn at_hash(token: &str, alg: Alg) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    match alg {
        Alg::RS256 | Alg::ES256 => {
            let h = Sha256::digest(token.as_bytes());
            URL_SAFE_NO_PAD.encode(&h[..16])
        }
        Alg::EdDSA => {
            let h = Sha512::digest(token.as_bytes());
            URL_SAFE_NO_PAD.encode(&h[..32])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant<'a>(account: Option<&'a str>, amr: &'a [String]) -> Grant<'a> {
        Grant {
            issuer: "https://login.example.de",
            client_id: "rp",
            account_id: account,
            scope: "openid profile",
            auth_time: account.map(|_| 100),
            acr: account.map(|_| "http://eidas.europa.eu/LoA/low"),
            amr,
            sid: None,
        }
    }

    #[test]
    fn client_credentials_subject_is_the_client() {
        let c = access_claims(&grant(None, &[]), None, 1000, 600, "j".into());
        assert_eq!((c.sub.as_str(), c.aud.as_str(), c.exp), ("rp", "rp", 1600));
        let json = serde_json::to_value(&c).unwrap();
        assert!(json.get("acr").is_none() && json.get("auth_time").is_none());
    }

    #[test]
    fn user_tokens_carry_the_login() {
        let amr = vec!["pwd".to_string()];
        let c = access_claims(
            &grant(Some("u1"), &amr),
            Some("https://api.example.de"),
            1000,
            600,
            "j".into(),
        );
        assert_eq!(c.sub, "u1");
        assert_eq!(c.aud, "https://api.example.de");
        assert_eq!(c.acr.as_deref(), Some("http://eidas.europa.eu/LoA/low"));
        let id = id_claims(
            &grant(Some("u1"), &amr),
            Some("n"),
            Some(("tok", Alg::RS256)),
            Default::default(),
            1000,
            60,
        );
        assert_eq!(
            (id.aud.as_str(), id.azp.as_str(), id.nonce.as_deref()),
            ("rp", "rp", Some("n"))
        );
        assert_eq!(id.auth_time, Some(100));
        assert_eq!(id.amr, amr);
    }

    #[test]
    fn at_hash_oidc_example() {
        // OIDC Core A.3: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", Alg::RS256),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
