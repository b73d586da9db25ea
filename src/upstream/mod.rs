//! Upstream identity sources: Servicekonto.NRW and eID services over OpenID Connect, any other
//! OpenID provider, later BundID (SAML 2.0) and the EU Digital Identity Wallet.
//!
//! Owns: what an upstream is (profile with its default scopes, claim mapping and trust; acr
//! mapping both ways), validating its registration, and turning what it asserts into a Pforte
//! level (pure functions here); the OpenID Connect login at an upstream ([`oidc`], through the
//! `openidconnect` crate and Pforte's capped HTTP client [`http`]); and what a validated
//! upstream login does to accounts: create, link, log in, refuse ([`link`]).

pub mod http;
pub mod link;
pub mod oidc;

use std::collections::BTreeMap;

use crate::assurance::Level;

/// The kind of source; it sets defaults for trust and acr mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Servicekonto.NRW (Governikus Autent IDConnect). Its acr values are not published:
    /// the admin maps them (`--acr-map VALUE=LEVEL`).
    ServicekontoNrw,
    /// An eID service fronting the German identity card (nPA): high by default.
    Eid,
    /// Any OpenID provider: low by default until the admin says otherwise.
    Oidc,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "servicekonto-nrw" => Some(Profile::ServicekontoNrw),
            "eid" => Some(Profile::Eid),
            "oidc" => Some(Profile::Oidc),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::ServicekontoNrw => "servicekonto-nrw",
            Profile::Eid => "eid",
            Profile::Oidc => "oidc",
        }
    }
    /// Default trust cap when the admin gives none.
    pub fn default_max_level(self) -> Level {
        match self {
            Profile::Eid => Level::High,
            Profile::ServicekontoNrw => Level::Substantial,
            Profile::Oidc => Level::Low,
        }
    }

    /// Scopes asked for when the admin gives none.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Profile::ServicekontoNrw => &["openid", "profile", "email", "address"],
            Profile::Eid => &["openid", "profile", "address"],
            Profile::Oidc => &["openid", "profile", "email"],
        }
    }

    /// Upstream claim → Pforte attribute, when the admin gives no `--claim` mapping. The
    /// eID's attributes (DocumentType, PlaceOfBirth, Nationality, …) arrive under the names an
    /// eID service fronting an eID-Server uses in OpenID Connect; an eID service with other
    /// names is mapped with `--claim`. The stable subject is always `sub` (for the eID the
    /// RestrictedID pseudonym); e-mail is handled apart from the profile attributes.
    pub fn default_claim_map(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Profile::Eid => &[
                ("given_name", "given_name"),
                ("family_name", "family_name"),
                ("birth_family_name", "birth_family_name"),
                ("birthdate", "birthdate"),
                ("place_of_birth", "place_of_birth"),
                ("address", "address"),
                ("nationalities", "nationalities"),
                ("document_type", "document_type"),
            ],
            Profile::ServicekontoNrw | Profile::Oidc => &[
                ("given_name", "given_name"),
                ("family_name", "family_name"),
                ("birthdate", "birthdate"),
                ("address", "address"),
                ("phone_number", "phone_number"),
            ],
        }
    }
}

/// The `acr_values` to send an upstream when a request needs `level`, in the upstream's own
/// spelling: the admin's mapped values for that level (their order), then those for higher
/// levels (any of them satisfies); without a mapping for any of these, the eIDAS URIs. Keycloak
/// does not forward them at all (#42625).
pub fn acr_values_for(level: Level, map: &BTreeMap<String, Level>) -> Vec<String> {
    let mut out = Vec::new();
    for l in Level::ALL.into_iter().filter(|l| *l >= level) {
        let mapped: Vec<String> = map
            .iter()
            .filter(|(_, v)| **v == l)
            .map(|(k, _)| k.clone())
            .collect();
        if mapped.is_empty() {
            out.push(l.acr(crate::assurance::AcrVocabulary::Eidas).to_string());
        } else {
            out.extend(mapped);
        }
    }
    out
}

/// Parses `UPSTREAM=PFORTE` pairs (CLI `--claim`) into a claim mapping.
pub fn parse_claim_map(pairs: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for p in pairs {
        let (from, to) = p
            .split_once('=')
            .ok_or_else(|| format!("claim mapping `{p}`: expected UPSTREAM=PFORTE"))?;
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
        };
        if !ok(from) || !ok(to) {
            return Err(format!(
                "claim mapping `{p}`: claim names are 1–128 letters, digits, `_`, `-`, `.` or `:`"
            ));
        }
        if matches!(to, "sub" | "email" | "email_verified") {
            return Err(format!(
                "claim mapping `{p}`: `{to}` is not a profile attribute (the subject and the e-mail are taken as the upstream states them)"
            ));
        }
        map.insert(from.to_string(), to.to_string());
    }
    Ok(map)
}

/// The client authentication methods Pforte can use at an upstream's token endpoint.
pub const AUTH_METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

/// The level an upstream's `acr` stands for: the admin's mapping first (custom values,
/// Keycloak #24556), then the standard vocabularies (eIDAS, BSI, STORK). `None` if unknown.
/// The caller caps it with the upstream's trust (`assurance::level::UpstreamAssertion`).
pub fn map_acr(acr: Option<&str>, map: &BTreeMap<String, Level>) -> Option<Level> {
    let acr = acr?;
    match map.get(acr) {
        Some(level) => Some(*level),
        None => Level::from_acr(acr),
    }
}

/// Parses `VALUE=LEVEL` pairs (CLI `--acr-map`) into a mapping, with precise errors.
pub fn parse_acr_map(pairs: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for p in pairs {
        let (value, level) = p
            .rsplit_once('=')
            .ok_or_else(|| format!("acr mapping `{p}`: expected VALUE=LEVEL"))?;
        if value.is_empty() || value.len() > 512 {
            return Err(format!(
                "acr mapping `{p}`: the acr value must be 1–512 characters"
            ));
        }
        let level = Level::parse_name(level)
            .ok_or_else(|| format!("acr mapping `{p}`: LEVEL must be low, substantial or high"))?;
        map.insert(value.to_string(), level.as_str().to_string());
    }
    Ok(map)
}

/// Checks a mapping read from the API or the CLI (every acr value 1–512 characters, every
/// level a valid name) and returns it typed.
pub fn check_acr_map(map: &BTreeMap<String, String>) -> Result<BTreeMap<String, Level>, String> {
    map.iter()
        .map(|(value, level)| {
            if value.is_empty() || value.len() > 512 {
                return Err("acr mapping: acr values must be 1–512 characters".into());
            }
            let level = Level::parse_name(level).ok_or_else(|| {
                format!(
                    "acr mapping for `{value}`: expected low, substantial or high, got `{level}`"
                )
            })?;
            Ok((value.clone(), level))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_mapping_prefers_the_admins_map() {
        let map = check_acr_map(
            &parse_acr_map(&[
                "urn:sk-nrw:loa:2=substantial".into(),
                "http://eidas.europa.eu/LoA/high=substantial".into(),
            ])
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            map_acr(Some("urn:sk-nrw:loa:2"), &map),
            Some(Level::Substantial)
        );
        // The admin may map a standard value down (trust in that upstream's high is limited).
        assert_eq!(
            map_acr(Some("http://eidas.europa.eu/LoA/high"), &map),
            Some(Level::Substantial)
        );
        assert_eq!(
            map_acr(Some("http://bsi.bund.de/eID/LoA/hoch"), &map),
            Some(Level::High)
        );
        assert_eq!(map_acr(Some("urn:unknown"), &map), None);
        assert_eq!(map_acr(None, &map), None);
        assert!(parse_acr_map(&["novalue".into()]).is_err());
        assert!(parse_acr_map(&["x=medium".into()]).is_err());
        assert_eq!(
            Profile::parse("eid").unwrap().default_max_level(),
            Level::High
        );
    }

    #[test]
    fn acr_values_in_the_upstreams_spelling() {
        let map = check_acr_map(
            &parse_acr_map(&["urn:sk:2=substantial".into(), "urn:sk:3=high".into()]).unwrap(),
        )
        .unwrap();
        assert_eq!(
            acr_values_for(Level::Substantial, &map),
            vec!["urn:sk:2", "urn:sk:3"]
        );
        assert_eq!(acr_values_for(Level::High, &map), vec!["urn:sk:3"]);
        // No mapping: the eIDAS URIs of the level and above.
        assert_eq!(
            acr_values_for(Level::Substantial, &BTreeMap::new()),
            vec![
                "http://eidas.europa.eu/LoA/substantial",
                "http://eidas.europa.eu/LoA/high"
            ]
        );
        assert!(parse_claim_map(&["a=b".into()]).is_ok());
        assert!(parse_claim_map(&["a".into()]).is_err());
        assert!(parse_claim_map(&["mail=email".into()]).is_err());
        assert!(parse_claim_map(&["x y=b".into()]).is_err());
    }
}
