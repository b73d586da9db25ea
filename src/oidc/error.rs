//! OAuth 2.0 / OpenID Connect error values (RFC 6749 §4.1.2.1 and §5.2, OIDC Core §3.1.2.6,
//! RFC 6750 §3.1), independent of any web framework.

use serde::Serialize;

/// An error as the specifications name it, with a human-readable description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    pub error: &'static str,
    pub error_description: String,
    /// HTTP status for direct (non-redirect) responses.
    #[serde(skip)]
    pub status: u16,
    /// `WWW-Authenticate` header value, where the spec asks for one.
    #[serde(skip)]
    pub www_authenticate: Option<String>,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.error_description)
    }
}

macro_rules! kinds {
    ($($name:ident => ($code:literal, $status:literal)),* $(,)?) => {
        impl OAuthError {
            $(
                pub fn $name(description: impl Into<String>) -> OAuthError {
                    OAuthError { error: $code, error_description: description.into(), status: $status, www_authenticate: None }
                }
            )*
        }
    };
}

kinds! {
    invalid_request => ("invalid_request", 400),
    invalid_grant => ("invalid_grant", 400),
    unauthorized_client => ("unauthorized_client", 400),
    unsupported_grant_type => ("unsupported_grant_type", 400),
    unsupported_response_type => ("unsupported_response_type", 400),
    unsupported_token_type => ("unsupported_token_type", 400),
    invalid_scope => ("invalid_scope", 400),
    access_denied => ("access_denied", 403),
    server_error => ("server_error", 500),
    temporarily_unavailable => ("temporarily_unavailable", 503),
    login_required => ("login_required", 400),
    consent_required => ("consent_required", 400),
    interaction_required => ("interaction_required", 400),
    request_not_supported => ("request_not_supported", 400),
    request_uri_not_supported => ("request_uri_not_supported", 400),
    unmet_authentication_requirements => ("unmet_authentication_requirements", 400),
}

impl OAuthError {
    /// RFC 6749 §5.2: 401 with a challenge for the scheme the client tried (Basic by default).
    pub fn invalid_client(description: impl Into<String>, used_basic: bool) -> OAuthError {
        OAuthError {
            error: "invalid_client",
            error_description: description.into(),
            status: 401,
            www_authenticate: used_basic
                .then(|| "Basic realm=\"pforte\", charset=\"UTF-8\"".into()),
        }
    }

    /// RFC 6750 §3.1: a missing, malformed, expired or revoked bearer token.
    pub fn invalid_token(description: impl Into<String>) -> OAuthError {
        let description = description.into();
        OAuthError {
            error: "invalid_token",
            www_authenticate: Some(format!(
                "Bearer realm=\"pforte\", error=\"invalid_token\", error_description=\"{}\"",
                description.replace(['"', '\\'], "'")
            )),
            error_description: description,
            status: 401,
        }
    }

    /// RFC 6750 §3.1: the token lacks a scope the resource needs.
    pub fn insufficient_scope(description: impl Into<String>, scope: &str) -> OAuthError {
        OAuthError {
            error: "insufficient_scope",
            error_description: description.into(),
            status: 403,
            www_authenticate: Some(format!(
                "Bearer realm=\"pforte\", error=\"insufficient_scope\", scope=\"{scope}\""
            )),
        }
    }

    /// RFC 6750 §3: no credentials at all: a bare challenge and no error code.
    pub fn no_token() -> OAuthError {
        OAuthError {
            error: "invalid_request",
            error_description: "a bearer access token is required".into(),
            status: 401,
            www_authenticate: Some("Bearer realm=\"pforte\"".into()),
        }
    }

    /// An internal error: logged at error level with a random reference id, which the
    /// description names (never the internal message), so support can find the log line.
    pub fn internal(e: impl std::fmt::Display) -> OAuthError {
        let reference = crate::logging::error_reference();
        tracing::error!(reference = %reference, error = %e, "internal error");
        OAuthError::server_error(format!(
            "the server could not complete the request (reference {reference})"
        ))
    }
}

impl OAuthError {
    /// The database cannot be reached for now: `temporarily_unavailable` (503; the web layer
    /// adds `Retry-After`), logged at warn level with the request id as reference.
    pub fn unavailable(e: impl std::fmt::Display) -> OAuthError {
        let reference = crate::logging::error_reference();
        tracing::warn!(reference = %reference, error = %e, "database unavailable");
        OAuthError::temporarily_unavailable(format!(
            "the service is briefly unavailable; please retry (reference {reference})"
        ))
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            OAuthError::unavailable(e)
        } else {
            OAuthError::internal(e)
        }
    }
}

impl From<crate::tokens::KeyError> for OAuthError {
    fn from(e: crate::tokens::KeyError) -> Self {
        OAuthError::internal(e)
    }
}
