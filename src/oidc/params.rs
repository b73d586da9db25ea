//! Request parameters: parsed from a query string or form body with the checks every endpoint
//! shares: no repeated parameters (RFC 6749 §3.1, §3.2), bounded sizes, no empty values.

use super::error::OAuthError;

/// Longest accepted value of one parameter (a `claims` JSON or an assertion may be long).
pub const MAX_VALUE: usize = 8 * 1024;
/// Most parameters in one request.
pub const MAX_PARAMS: usize = 64;

/// Parameters of one request, each name at most once; empty values count as absent
/// (RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted").
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text.
    pub fn parse(raw: &str) -> Result<Params, OAuthError> {
        if raw.len() > 64 * 1024 {
            return Err(OAuthError::invalid_request("request too large"));
        }
        let pairs: Vec<(String, String)> = form_urlencoded_pairs(raw);
        Params::from_pairs(pairs)
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Params, OAuthError> {
        if pairs.len() > MAX_PARAMS {
            return Err(OAuthError::invalid_request("too many parameters"));
        }
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            if v.len() > MAX_VALUE || k.len() > 128 {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{}` is too long",
                    truncate(&k)
                )));
            }
            if out.iter().any(|(o, _)| *o == k) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{}` is repeated",
                    truncate(&k)
                )));
            }
            if v.is_empty() {
                continue;
            }
            out.push((k, v));
        }
        Ok(Params(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that must be present.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("`{name}` is required")))
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Re-encodes the parameters (to resume an authorization request after login).
    pub fn to_query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter())
            .finish()
    }
}

fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Space-delimited list (scope, prompt, acr_values, ui_locales), deduplicated in order.
pub fn space_list(v: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in v.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_oversized_parameters_are_refused() {
        assert_eq!(
            Params::parse("a=1&a=2").unwrap_err().error,
            "invalid_request"
        );
        let long = format!("a={}", "x".repeat(MAX_VALUE + 1));
        assert!(Params::parse(&long)
            .unwrap_err()
            .error_description
            .contains("too long"));
        let p = Params::parse("a=1&b=&c=%20x").unwrap();
        assert_eq!(
            (p.get("a"), p.get("b"), p.get("c")),
            (Some("1"), None, Some(" x"))
        );
        assert_eq!(
            space_list(Some("openid  profile openid")),
            vec!["openid", "profile"]
        );
    }
}
