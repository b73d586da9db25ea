//! # pforte-levels
//!
//! Assurance levels (*Vertrauensniveau*) and the `acr` values that name them: the one table
//! that the Pforte server and the relying-party library `pforte-guard` both read, so that what
//! one writes the other understands. Pure data and lookups; no I/O, no dependencies (serde only
//! with the `serde` feature).
//!
//! ## The levels
//!
//! [`Level`] is `Low < Substantial < High`, the three levels of eIDAS (Regulation (EU)
//! 910/2014, Art. 8). Pforte's own names for them (`low`, `substantial`, `high`;
//! [`Level::as_str`], [`Level::parse_name`]) are what configuration, the command line, the admin
//! API and the database use. They are **not** `acr` values: [`Level::from_acr`] does not read
//! them (see "Bare names" below).
//!
//! ## The table
//!
//! [`SPELLINGS`] lists every `acr` value Pforte understands, one row each: the level, the
//! vocabulary ([`AcrVocabulary`]: eIDAS, BSI TR-03130 §3.3.12, STORK QAA), the value, and
//! whether Pforte *writes* it or only *reads* it. Everything else is derived from it:
//!
//! - [`Level::from_acr`]: every value of every vocabulary, compared exactly (OpenID Connect
//!   compares `acr` values as strings);
//! - [`Level::acr`]: the one *written* value of a level in a vocabulary. Pforte writes it into
//!   tokens, `pforte-guard` into its RFC 9470 step-up challenges: the same spelling both ways;
//! - [`Level::all_acr_values`]: discovery's `acr_values_supported`, exactly the values
//!   `from_acr` reads.
//!
//! A compile-time check makes sure every level has exactly one written value per vocabulary and
//! no value appears twice, so [`Level::acr`] cannot fail.
//!
//! ## STORK: QAA 1 and 2 are both low, low is written as QAA 2
//!
//! STORK (deliverable D2.3, *Quality Authenticator Scheme*, 2009) has four levels where eIDAS
//! has three. QAA 2, 3 and 4 line up with eIDAS low, substantial and high; QAA 1 ("no or
//! minimal assurance") lies below eIDAS low. BundID asks for `STORK-QAA-Level-1` … `-4` as a
//! minimum, and its attribute trust levels `NORMAL`, `SUBSTANTIELL`, `HOCH` correspond to
//! QAA 2, 3, 4 (`UNTERGEORDNET` to QAA 1). Pforte has no level below low, so it **reads**
//! QAA 1 and QAA 2 as low, QAA 3 as substantial, QAA 4 as high.
//!
//! It **writes** low as `STORK-QAA-Level-2`, in tokens and in challenges alike, by one rule:
//! *the written value of a level is the one that corresponds to the same eIDAS level*, so a
//! login says the same thing in every vocabulary (eIDAS low = BSI normal = QAA 2). The rule is
//! also the only safe one for round trips: Pforte counts a request for QAA 1 or QAA 2 as met by
//! a low login; a token saying QAA 2 satisfies a relying party that asked for either, a token
//! saying QAA 1 would not satisfy one that asked for QAA 2. A step-up challenge asking for
//! QAA 2 means the same to Pforte as one asking for QAA 1 (both read as low), so the guard
//! uses the written value too. Caveat for relying parties: Pforte's low includes
//! self-registered accounts whose identity nobody checked; a service that needs a checked
//! identity must ask for substantial. The reasoning with its sources is in `docs/assurance.md`.
//!
//! ## Bare names are not acr values
//!
//! `low`, `substantial` and `high` are refused by [`Level::from_acr`]: an `acr` is an identifier
//! from a published vocabulary, discovery lists only those, and an upstream identity provider
//! that sends a bare `high` of its own meaning must be mapped explicitly by the operator rather
//! than trusted by accident. Server and guard therefore read exactly the same set of values.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

/// An assurance level, ordered `Low < Substantial < High` (eIDAS Art. 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Level {
    /// eIDAS *low* / BSI *normal* / STORK QAA 1 or 2: e.g. user name and password.
    Low,
    /// eIDAS *substantial* / BSI *substantiell* / STORK QAA 3: e.g. two factors on a proofed
    /// identity, an ELSTER certificate.
    Substantial,
    /// eIDAS *high* / BSI *hoch* / STORK QAA 4: e.g. the eID function of the identity card.
    High,
}

/// A vocabulary of `acr` values. Every vocabulary is understood when reading; a relying party
/// chooses the one written into its tokens (Pforte) or challenges (`pforte-guard`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum AcrVocabulary {
    /// `http://eidas.europa.eu/LoA/{low,substantial,high}` (the default).
    #[default]
    Eidas,
    /// BSI TR-03130 §3.3.12: `http://bsi.bund.de/eID/LoA/{normal,substantiell,hoch}`.
    Bsi,
    /// STORK QAA, as BundID uses it: `STORK-QAA-Level-{1,2,3,4}`; 1 and 2 are both low, low
    /// is written as 2.
    Stork,
}

/// Whether Pforte writes a value or only reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Usage {
    /// Written (into tokens, challenges) and read. Exactly one per level and vocabulary.
    Written,
    /// Read only: another value of the same vocabulary names the same level.
    ReadOnly,
}

/// One row of [`SPELLINGS`]: an `acr` value and the level it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Spelling {
    /// The level the value names.
    pub level: Level,
    /// The vocabulary the value belongs to.
    pub vocabulary: AcrVocabulary,
    /// The value itself, compared exactly.
    pub acr: &'static str,
    /// Whether Pforte writes it.
    pub usage: Usage,
}

const fn row(level: Level, vocabulary: AcrVocabulary, acr: &'static str, usage: Usage) -> Spelling {
    Spelling {
        level,
        vocabulary,
        acr,
        usage,
    }
}

use AcrVocabulary::{Bsi, Eidas, Stork};
use Level::{High, Low, Substantial};
use Usage::{ReadOnly, Written};

/// Every `acr` value Pforte understands, in the order discovery lists them.
#[rustfmt::skip] // a table: one row per line
pub const SPELLINGS: [Spelling; 10] = [
    row(Low,         Eidas, "http://eidas.europa.eu/LoA/low",          Written),
    row(Substantial, Eidas, "http://eidas.europa.eu/LoA/substantial",  Written),
    row(High,        Eidas, "http://eidas.europa.eu/LoA/high",         Written),
    row(Low,         Bsi,   "http://bsi.bund.de/eID/LoA/normal",       Written),
    row(Substantial, Bsi,   "http://bsi.bund.de/eID/LoA/substantiell", Written),
    row(High,        Bsi,   "http://bsi.bund.de/eID/LoA/hoch",         Written),
    // QAA 1 lies below eIDAS low; Pforte has nothing lower than low, so it reads it as low.
    row(Low,         Stork, "STORK-QAA-Level-1",                       ReadOnly),
    row(Low,         Stork, "STORK-QAA-Level-2",                       Written),
    row(Substantial, Stork, "STORK-QAA-Level-3",                       Written),
    row(High,        Stork, "STORK-QAA-Level-4",                       Written),
];

/// The written value per `[vocabulary][level]`, derived from [`SPELLINGS`] at compile time.
const WRITTEN: [[&str; Level::ALL.len()]; AcrVocabulary::ALL.len()] = written();

/// All values of [`SPELLINGS`], for discovery.
const ACR_VALUES: [&str; SPELLINGS.len()] = acr_values();

/// Builds [`WRITTEN`]; a table without exactly one written value per level and vocabulary, or
/// with a value twice or not fit for a `WWW-Authenticate` parameter, fails to compile.
const fn written() -> [[&'static str; Level::ALL.len()]; AcrVocabulary::ALL.len()] {
    let mut out = [[""; Level::ALL.len()]; AcrVocabulary::ALL.len()];
    let mut i = 0;
    while i < SPELLINGS.len() {
        let s = SPELLINGS[i];
        assert!(
            is_token(s.acr),
            "acr values are printable ASCII without space, \" or \\"
        );
        let mut j = i + 1;
        while j < SPELLINGS.len() {
            assert!(!same(s.acr, SPELLINGS[j].acr), "an acr value appears twice");
            j += 1;
        }
        if matches!(s.usage, Usage::Written) {
            let slot = &mut out[s.vocabulary as usize][s.level as usize];
            assert!(
                slot.is_empty(),
                "two written values for one level and vocabulary"
            );
            *slot = s.acr;
        }
        i += 1;
    }
    let mut v = 0;
    while v < out.len() {
        let mut l = 0;
        while l < out[v].len() {
            assert!(!out[v][l].is_empty(), "a level has no written value");
            l += 1;
        }
        v += 1;
    }
    out
}

const fn acr_values() -> [&'static str; SPELLINGS.len()] {
    let mut out = [""; SPELLINGS.len()];
    let mut i = 0;
    while i < SPELLINGS.len() {
        out[i] = SPELLINGS[i].acr;
        i += 1;
    }
    out
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Non-empty, printable ASCII, no space (`acr_values` is space-separated), no `"` or `\`
/// (RFC 6750 §3 quoted parameter values).
const fn is_token(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] <= b' ' || b[i] > b'~' || b[i] == b'"' || b[i] == b'\\' {
            return false;
        }
        i += 1;
    }
    !b.is_empty()
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 3] = [Level::Low, Level::Substantial, Level::High];

    /// Pforte's own name: `low`, `substantial`, `high` (configuration, CLI, admin API,
    /// database). Not an `acr` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Substantial => "substantial",
            Level::High => "high",
        }
    }

    /// Parses Pforte's own name only (the inverse of [`Level::as_str`]; exact, lower case).
    pub fn parse_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// Reads an `acr` value of any vocabulary in [`SPELLINGS`]. The comparison is exact; any
    /// other string, Pforte's bare names included, is `None`.
    pub fn from_acr(acr: &str) -> Option<Level> {
        SPELLINGS.iter().find(|s| s.acr == acr).map(|s| s.level)
    }

    /// Every `acr` value Pforte understands (discovery's `acr_values_supported`): exactly the
    /// values [`Level::from_acr`] reads, each once, in the order of [`SPELLINGS`].
    pub fn all_acr_values() -> &'static [&'static str] {
        &ACR_VALUES
    }

    /// The `acr` value written for this level in `vocabulary`.
    pub const fn acr(self, vocabulary: AcrVocabulary) -> &'static str {
        WRITTEN[vocabulary as usize][self as usize]
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses Pforte's own name (as [`Level::parse_name`]), with an error naming the choices.
impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Level::parse_name(s).ok_or_else(|| format!("expected low, substantial or high, got `{s}`"))
    }
}

impl AcrVocabulary {
    /// All vocabularies, the default first.
    pub const ALL: [AcrVocabulary; 3] = [Eidas, Bsi, Stork];

    /// The vocabulary's name in configuration and the database: `eidas`, `bsi`, `stork`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Eidas => "eidas",
            Bsi => "bsi",
            Stork => "stork",
        }
    }

    /// Parses a name written by [`AcrVocabulary::as_str`] (exact, lower case).
    pub fn parse(name: &str) -> Option<AcrVocabulary> {
        AcrVocabulary::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

impl fmt::Display for AcrVocabulary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The table written out by hand, from the sources (docs/assurance.md), independently of
    /// [`SPELLINGS`]: a slip in the table shows up as a difference here.
    const EXPECTED: [(&str, Level); 10] = [
        ("http://eidas.europa.eu/LoA/low", Low),
        ("http://eidas.europa.eu/LoA/substantial", Substantial),
        ("http://eidas.europa.eu/LoA/high", High),
        ("http://bsi.bund.de/eID/LoA/normal", Low),
        ("http://bsi.bund.de/eID/LoA/substantiell", Substantial),
        ("http://bsi.bund.de/eID/LoA/hoch", High),
        ("STORK-QAA-Level-1", Low),
        ("STORK-QAA-Level-2", Low),
        ("STORK-QAA-Level-3", Substantial),
        ("STORK-QAA-Level-4", High),
    ];

    #[test]
    fn levels_are_ordered() {
        assert!(Low < Substantial && Substantial < High);
        assert!(Level::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_spelling_reads_as_its_level() {
        for (acr, level) in EXPECTED {
            assert_eq!(Level::from_acr(acr), Some(level), "{acr}");
        }
        assert_eq!(SPELLINGS.len(), EXPECTED.len());
    }

    #[test]
    fn every_vocabulary_round_trips() {
        for vocabulary in AcrVocabulary::ALL {
            for level in Level::ALL {
                let acr = level.acr(vocabulary);
                assert_eq!(Level::from_acr(acr), Some(level), "{acr}");
                let row = SPELLINGS.iter().find(|s| s.acr == acr).unwrap();
                assert_eq!((row.vocabulary, row.usage), (vocabulary, Written), "{acr}");
            }
        }
    }

    #[test]
    fn written_values_per_vocabulary() {
        let written = |v| Level::ALL.map(|l| l.acr(v));
        assert_eq!(
            written(Eidas),
            [
                "http://eidas.europa.eu/LoA/low",
                "http://eidas.europa.eu/LoA/substantial",
                "http://eidas.europa.eu/LoA/high"
            ]
        );
        assert_eq!(
            written(Bsi),
            [
                "http://bsi.bund.de/eID/LoA/normal",
                "http://bsi.bund.de/eID/LoA/substantiell",
                "http://bsi.bund.de/eID/LoA/hoch"
            ]
        );
        assert_eq!(
            written(Stork),
            [
                "STORK-QAA-Level-2",
                "STORK-QAA-Level-3",
                "STORK-QAA-Level-4"
            ]
        );
    }

    #[test]
    fn stork_one_and_two_are_low_and_low_is_written_as_two() {
        assert_eq!(Level::from_acr("STORK-QAA-Level-1"), Some(Low));
        assert_eq!(Level::from_acr("STORK-QAA-Level-2"), Some(Low));
        assert_eq!(Level::from_acr("STORK-QAA-Level-3"), Some(Substantial));
        assert_eq!(Level::from_acr("STORK-QAA-Level-4"), Some(High));
        assert_eq!(Low.acr(Stork), "STORK-QAA-Level-2");
        // The only read-only value in the table.
        let read_only: Vec<_> = SPELLINGS.iter().filter(|s| s.usage == ReadOnly).collect();
        assert_eq!(read_only.len(), 1);
        assert_eq!(read_only[0].acr, "STORK-QAA-Level-1");
    }

    #[test]
    fn unknown_values_are_refused() {
        for acr in [
            "",
            "low",
            "substantial",
            "high",
            "Low",
            "STORK-QAA-Level-0",
            "STORK-QAA-Level-5",
            "stork-qaa-level-2",
            "HTTP://EIDAS.EUROPA.EU/LoA/high",
            "http://eidas.europa.eu/LoA/high ",
            " http://eidas.europa.eu/LoA/high",
            "http://eidas.europa.eu/LoA/NotNotified/high",
            "http://bsi.bund.de/eID/LoA/hoch/",
            "urn:mace:incommon:iap:silver",
            "1",
        ] {
            assert_eq!(Level::from_acr(acr), None, "{acr:?}");
        }
    }

    #[test]
    fn discovery_list_is_complete_and_unique() {
        let listed = Level::all_acr_values();
        let unique: HashSet<_> = listed.iter().collect();
        assert_eq!(unique.len(), listed.len(), "no value twice");
        let expected: HashSet<_> = EXPECTED.iter().map(|(acr, _)| acr).collect();
        assert_eq!(unique, expected);
        for vocabulary in AcrVocabulary::ALL {
            for level in Level::ALL {
                assert!(listed.contains(&level.acr(vocabulary)));
            }
        }
        assert!(listed.iter().all(|acr| Level::from_acr(acr).is_some()));
    }

    #[test]
    fn names_are_not_acr_values_and_round_trip() {
        for level in Level::ALL {
            assert_eq!(Level::parse_name(level.as_str()), Some(level));
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
            assert_eq!(level.to_string(), level.as_str());
            assert_eq!(Level::from_acr(level.as_str()), None);
            for vocabulary in AcrVocabulary::ALL {
                assert_eq!(Level::parse_name(level.acr(vocabulary)), None);
            }
        }
        assert_eq!(Level::parse_name("High"), None);
        assert_eq!(Level::parse_name(""), None);
        let err = "medium".parse::<Level>().unwrap_err();
        assert!(err.contains("medium"), "{err}");
    }

    #[test]
    fn vocabulary_names_round_trip() {
        assert_eq!(AcrVocabulary::default(), Eidas);
        for vocabulary in AcrVocabulary::ALL {
            assert_eq!(AcrVocabulary::parse(vocabulary.as_str()), Some(vocabulary));
            assert_eq!(vocabulary.to_string(), vocabulary.as_str());
        }
        for name in ["", "EIDAS", "Bsi", "qaa", "eidas "] {
            assert_eq!(AcrVocabulary::parse(name), None, "{name:?}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_uses_the_names() {
        for level in Level::ALL {
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<Level>(&json).unwrap(), level);
        }
        for vocabulary in AcrVocabulary::ALL {
            let json = serde_json::to_string(&vocabulary).unwrap();
            assert_eq!(json, format!("\"{}\"", vocabulary.as_str()));
            assert_eq!(
                serde_json::from_str::<AcrVocabulary>(&json).unwrap(),
                vocabulary
            );
        }
        assert!(serde_json::from_str::<Level>("\"http://eidas.europa.eu/LoA/low\"").is_err());
    }
}
