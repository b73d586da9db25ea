//! Assurance levels (Vertrauensniveau): the level of a login and the admin policy.
//!
//! Owns: nothing of the level type itself. [`Level`], [`AcrVocabulary`] and the one table of
//! `acr` spellings live in the `pforte-levels` crate (levels/), shared with `pforte-guard` so
//! tokens and step-up challenges spell levels alike; they are re-exported here so
//! `crate::assurance::Level` stays the path inside the server. The vocabularies and the STORK
//! rule are described in docs/assurance.md.

pub use pforte_levels::{AcrVocabulary, Level};

pub mod level;
pub mod policy;
