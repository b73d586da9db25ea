//! OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414).

use serde_json::{json, Value};

use crate::{assurance::Level, tokens::Alg};

pub fn metadata(issuer: &str) -> Value {
    let algs: Vec<&str> = Alg::ALL.iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "scopes_supported": super::claims::SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": super::claims::supported_claims(),
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "acr_values_supported": Level::all_acr_values(),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ["de", "en"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        // OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens carry `sid` always.
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        // OpenID Connect for Identity Assurance 1.0, OP metadata (§8 "OP Metadata").
        "verified_claims_supported": true,
        "trust_frameworks_supported": super::verified_claims::TRUST_FRAMEWORKS,
        "evidence_supported": super::verified_claims::EVIDENCE,
        "documents_supported": super::verified_claims::DOCUMENTS,
        "documents_check_methods_supported": super::verified_claims::DOCUMENT_CHECK_METHODS,
        "electronic_records_supported": super::verified_claims::ELECTRONIC_RECORDS,
        "claims_in_verified_claims_supported": super::verified_claims::CLAIMS,
        "attachments_supported": [],
    })
}
