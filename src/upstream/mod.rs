//! Upstream identity sources: Servicekonto.NRW and eID services over OpenID Connect, any other
//! OpenID provider, later BundID (SAML 2.0) and the EU Digital Identity Wallet.
//!
//! Owns: what an upstream is (profile, trust, acr mapping), validating its registration, and
//! turning what it asserts into a Pforte level (a pure function). The login flow through an
//! upstream (start/finish per protocol) plugs in here with the federation work.

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
}

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
}
