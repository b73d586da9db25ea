//! `WWW-Authenticate: Bearer …` challenges: RFC 6750 §3 (missing or invalid token, scope) and
//! RFC 9470 §3 (step-up: `insufficient_user_authentication`).

use std::fmt;
use std::time::Duration;

use crate::level::{AcrVocabulary, Level};
use crate::validate::TokenError;

/// Why a token fell short of a level demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortBy {
    /// The token's `acr` names a lower level, or none this guard understands (`actual: None`).
    Level {
        /// The level the token has, if its `acr` was understood.
        actual: Option<Level>,
    },
    /// The authentication is older than the demanded maximum age.
    Age {
        /// Seconds since `auth_time`; `None` when the token has no `auth_time`.
        age_secs: Option<u64>,
    },
}

/// A token that is valid but not strong or fresh enough: the RFC 9470 §3 step-up challenge.
///
/// Sent as `401` with
/// `WWW-Authenticate: Bearer error="insufficient_user_authentication", error_description="…",
/// acr_values="…"[, max_age="…"]`. The client sends the citizen back to Pforte with those
/// `acr_values` (and `max_age`) and retries with the new token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUp {
    /// The level the resource demands; always sent as `acr_values`.
    pub required: Level,
    /// The maximum authentication age the resource demands; sent as `max_age` when set.
    pub max_age: Option<Duration>,
    /// What was missing.
    pub short_by: ShortBy,
    /// The vocabulary `acr_values` is written in (eIDAS unless configured otherwise).
    pub vocabulary: AcrVocabulary,
}

impl StepUp {
    /// A challenge in the eIDAS vocabulary.
    pub fn new(required: Level, max_age: Option<Duration>, short_by: ShortBy) -> Self {
        StepUp {
            required,
            max_age,
            short_by,
            vocabulary: AcrVocabulary::Eidas,
        }
    }

    /// The same challenge with `acr_values` written in `vocabulary`.
    #[must_use]
    pub fn with_vocabulary(mut self, vocabulary: AcrVocabulary) -> Self {
        self.vocabulary = vocabulary;
        self
    }

    /// The `acr_values` parameter: the one value naming the required level. Pforte treats it
    /// as a minimum, so a citizen with a stronger session still gets through.
    pub fn acr_values(&self) -> &'static str {
        self.required.acr(self.vocabulary)
    }

    /// The `WWW-Authenticate` header value, with `realm` first if given.
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let description = self.to_string();
        let max_age = self.max_age.map(|d| d.as_secs().to_string());
        let mut params = vec![
            ("error", "insufficient_user_authentication"),
            ("error_description", description.as_str()),
            ("acr_values", self.acr_values()),
        ];
        if let Some(max_age) = &max_age {
            params.push(("max_age", max_age.as_str()));
        }
        bearer(realm, &params)
    }
}

impl fmt::Display for StepUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.short_by {
            ShortBy::Level {
                actual: Some(actual),
            } => write!(
                f,
                "authentication level {} required, token has {actual}",
                self.required
            ),
            ShortBy::Level { actual: None } => write!(
                f,
                "authentication level {} required, token has no recognised acr",
                self.required
            ),
            ShortBy::Age { age_secs } => {
                let max = self.max_age.unwrap_or_default().as_secs();
                match age_secs {
                    Some(age) => write!(
                        f,
                        "authentication at most {max} s old required, this one is {age} s old"
                    ),
                    None => write!(
                        f,
                        "authentication at most {max} s old required, token has no auth_time"
                    ),
                }
            }
        }
    }
}

impl std::error::Error for StepUp {}

impl TokenError {
    /// The RFC 6750 §3.1 error code, or `None` when the challenge must carry no error: a request
    /// without any token (RFC 6750 §3.1: "SHOULD NOT include an error code") and the
    /// server-side [`TokenError::KeysUnavailable`].
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            TokenError::Missing | TokenError::KeysUnavailable(_) => None,
            TokenError::InvalidRequest => Some("invalid_request"),
            _ => Some("invalid_token"),
        }
    }

    /// The `WWW-Authenticate` header value for this refusal, with `realm` first if given.
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        match self.error_code() {
            None => bearer(realm, &[]),
            Some(code) => {
                let description = self.to_string();
                bearer(
                    realm,
                    &[("error", code), ("error_description", description.as_str())],
                )
            }
        }
    }
}

/// The RFC 6750 §3.1 `insufficient_scope` challenge (sent with `403`).
pub fn insufficient_scope(realm: Option<&str>, scope: &str) -> String {
    let description = format!("scope {scope} required");
    bearer(
        realm,
        &[
            ("error", "insufficient_scope"),
            ("error_description", description.as_str()),
            ("scope", scope),
        ],
    )
}

/// Renders `Bearer realm="…", k="v", …`. Values are reduced to the characters RFC 6750 §3
/// allows inside the quotes (`%x20-21 / %x23-5B / %x5D-7E`, i.e. printable ASCII without `"`
/// and `\`); anything else becomes `?`, so the result is always a valid header value.
pub(crate) fn bearer(realm: Option<&str>, params: &[(&str, &str)]) -> String {
    let mut out = String::from("Bearer");
    let realm = realm.map(|r| ("realm", r));
    for (i, (name, value)) in realm.iter().chain(params).enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(name);
        out.push_str("=\"");
        out.extend(value.chars().map(|c| {
            if matches!(c, ' '..='~') && c != '"' && c != '\\' {
                c
            } else {
                '?'
            }
        }));
        out.push('"');
    }
    out
}

/// Whether `value` may stand in a challenge unchanged (see [`bearer`]).
pub(crate) fn is_quotable(value: &str) -> bool {
    value
        .chars()
        .all(|c| matches!(c, ' '..='~') && c != '"' && c != '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_challenge() {
        assert_eq!(bearer(None, &[]), "Bearer");
        assert_eq!(bearer(Some("kfz"), &[]), r#"Bearer realm="kfz""#);
    }

    #[test]
    fn hostile_values_stay_inside_quotes() {
        let header = bearer(None, &[("error_description", "a\"b\\c\r\nd\u{e4}")]);
        assert_eq!(header, r#"Bearer error_description="a?b?c??d?""#);
    }

    #[test]
    fn rfc9470_level_challenge() {
        let step_up = StepUp::new(
            Level::Substantial,
            None,
            ShortBy::Level {
                actual: Some(Level::Low),
            },
        );
        assert_eq!(
            step_up.www_authenticate(None),
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"authentication level substantial required, token has low\", \
             acr_values=\"http://eidas.europa.eu/LoA/substantial\""
        );
    }

    #[test]
    fn rfc9470_age_challenge_in_bsi_vocabulary() {
        let step_up = StepUp::new(
            Level::High,
            Some(Duration::from_secs(300)),
            ShortBy::Age {
                age_secs: Some(301),
            },
        )
        .with_vocabulary(AcrVocabulary::Bsi);
        assert_eq!(
            step_up.www_authenticate(Some("kfz")),
            "Bearer realm=\"kfz\", error=\"insufficient_user_authentication\", \
             error_description=\"authentication at most 300 s old required, this one is 301 s old\", \
             acr_values=\"http://bsi.bund.de/eID/LoA/hoch\", max_age=\"300\""
        );
    }

    #[test]
    fn invalid_token_challenge() {
        assert_eq!(
            TokenError::Expired.www_authenticate(None),
            "Bearer error=\"invalid_token\", error_description=\"the token has expired\""
        );
        assert_eq!(
            TokenError::Missing.www_authenticate(Some("r")),
            "Bearer realm=\"r\""
        );
    }
}
