//! Assurance levels (Vertrauensniveau) and their identifiers.
//!
//! Owns: the level type, its three vocabularies (eIDAS, BSI TR-03130, STORK QAA) and the
//! translation between them. Pure: no I/O. The level of a login and the admin policy build
//! on these types.

use serde::{Deserialize, Serialize};

pub mod level;
pub mod policy;

/// low < substantial < high (eIDAS Art. 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Low,
    Substantial,
    High,
}

/// How a client wants `acr` spelled in its tokens. Every spelling is accepted on input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AcrVocabulary {
    /// `http://eidas.europa.eu/LoA/{low,substantial,high}` (default).
    #[default]
    Eidas,
    /// BSI TR-03130 §3.3.12: `http://bsi.bund.de/eID/LoA/{normal,substantiell,hoch}`.
    Bsi,
    /// `STORK-QAA-Level-{2,3,4}` (levels 1 and 2 both read as low; low is written as 2).
    Stork,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Low, Level::Substantial, Level::High];

    /// Pforte's own name: `low`, `substantial`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Substantial => "substantial",
            Level::High => "high",
        }
    }

    /// Parses Pforte's own name only (CLI, policy, database).
    pub fn parse_name(s: &str) -> Option<Level> {
        match s {
            "low" => Some(Level::Low),
            "substantial" => Some(Level::Substantial),
            "high" => Some(Level::High),
            _ => None,
        }
    }

    /// Parses an `acr` value in any supported vocabulary (or Pforte's own name).
    pub fn from_acr(acr: &str) -> Option<Level> {
        Some(match acr {
            "http://eidas.europa.eu/LoA/low" | "http://bsi.bund.de/eID/LoA/normal" => Level::Low,
            "STORK-QAA-Level-1" | "STORK-QAA-Level-2" => Level::Low,
            "http://eidas.europa.eu/LoA/substantial"
            | "http://bsi.bund.de/eID/LoA/substantiell" => Level::Substantial,
            "STORK-QAA-Level-3" => Level::Substantial,
            "http://eidas.europa.eu/LoA/high"
            | "http://bsi.bund.de/eID/LoA/hoch"
            | "STORK-QAA-Level-4" => Level::High,
            other => return Level::parse_name(other),
        })
    }

    /// The `acr` value for this level in `vocab`.
    pub fn acr(self, vocab: AcrVocabulary) -> &'static str {
        match (vocab, self) {
            (AcrVocabulary::Eidas, Level::Low) => "http://eidas.europa.eu/LoA/low",
            (AcrVocabulary::Eidas, Level::Substantial) => "http://eidas.europa.eu/LoA/substantial",
            (AcrVocabulary::Eidas, Level::High) => "http://eidas.europa.eu/LoA/high",
            (AcrVocabulary::Bsi, Level::Low) => "http://bsi.bund.de/eID/LoA/normal",
            (AcrVocabulary::Bsi, Level::Substantial) => "http://bsi.bund.de/eID/LoA/substantiell",
            (AcrVocabulary::Bsi, Level::High) => "http://bsi.bund.de/eID/LoA/hoch",
            (AcrVocabulary::Stork, Level::Low) => "STORK-QAA-Level-2",
            (AcrVocabulary::Stork, Level::Substantial) => "STORK-QAA-Level-3",
            (AcrVocabulary::Stork, Level::High) => "STORK-QAA-Level-4",
        }
    }

    /// Every `acr` value Pforte understands, for discovery's `acr_values_supported`.
    pub fn all_acr_values() -> Vec<&'static str> {
        let mut v = Vec::new();
        for vocab in [
            AcrVocabulary::Eidas,
            AcrVocabulary::Bsi,
            AcrVocabulary::Stork,
        ] {
            for l in Level::ALL {
                v.push(l.acr(vocab));
            }
        }
        v.insert(6, "STORK-QAA-Level-1");
        v
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Level::parse_name(s).ok_or_else(|| format!("expected low, substantial or high, got `{s}`"))
    }
}

impl AcrVocabulary {
    pub fn as_str(self) -> &'static str {
        match self {
            AcrVocabulary::Eidas => "eidas",
            AcrVocabulary::Bsi => "bsi",
            AcrVocabulary::Stork => "stork",
        }
    }
    pub fn parse(s: &str) -> Option<AcrVocabulary> {
        match s {
            "eidas" => Some(AcrVocabulary::Eidas),
            "bsi" => Some(AcrVocabulary::Bsi),
            "stork" => Some(AcrVocabulary::Stork),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips() {
        for vocab in [
            AcrVocabulary::Eidas,
            AcrVocabulary::Bsi,
            AcrVocabulary::Stork,
        ] {
            for l in Level::ALL {
                assert_eq!(Level::from_acr(l.acr(vocab)), Some(l));
            }
        }
        assert_eq!(Level::from_acr("STORK-QAA-Level-1"), Some(Level::Low));
        assert_eq!(Level::from_acr("urn:unknown"), None);
        assert!(Level::Low < Level::Substantial && Level::Substantial < Level::High);
        assert_eq!(Level::all_acr_values().len(), 10);
    }
}
