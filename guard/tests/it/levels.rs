//! Every `acr` vocabulary maps to the right level, end to end: signed token → validation →
//! `check_level`.

use std::time::SystemTime;

use crate::common::{claims, Issuer, TestKey, AUDIENCE};
use pforte_guard::{check_level, Guard, Level, ShortBy};

/// `(acr, level)`; `None` = not understood, below low.
const TABLE: &[(&str, Option<Level>)] = &[
    ("http://eidas.europa.eu/LoA/low", Some(Level::Low)),
    (
        "http://eidas.europa.eu/LoA/substantial",
        Some(Level::Substantial),
    ),
    ("http://eidas.europa.eu/LoA/high", Some(Level::High)),
    ("http://bsi.bund.de/eID/LoA/normal", Some(Level::Low)),
    (
        "http://bsi.bund.de/eID/LoA/substantiell",
        Some(Level::Substantial),
    ),
    ("http://bsi.bund.de/eID/LoA/hoch", Some(Level::High)),
    ("STORK-QAA-Level-1", Some(Level::Low)),
    ("STORK-QAA-Level-2", Some(Level::Low)),
    ("STORK-QAA-Level-3", Some(Level::Substantial)),
    ("STORK-QAA-Level-4", Some(Level::High)),
    ("urn:mace:incommon:iap:silver", None),
    ("http://eidas.europa.eu/LoA/NotNotified/high", None),
    ("1", None),
    // Pforte's own names are configuration values, not acr values (pforte-levels).
    ("low", None),
    ("high", None),
];

#[tokio::test]
async fn each_vocabulary_maps_to_its_level() {
    let key = TestKey::es256("k1");
    let issuer = Issuer::start(&[&key]).await;
    let guard = Guard::builder(&issuer.url, AUDIENCE).build().unwrap();
    for &(acr, level) in TABLE {
        let c = guard
            .validate(&key.token_for(&claims(&issuer.url, acr)))
            .await
            .unwrap();
        assert_eq!(c.level(), level, "{acr}");
        for required in Level::ALL {
            let verdict = check_level(&c, required, None, SystemTime::now());
            if level.is_some_and(|l| l >= required) {
                assert_eq!(verdict, Ok(()), "{acr} vs {required}");
            } else {
                let step_up = verdict.unwrap_err();
                assert_eq!(step_up.short_by, ShortBy::Level { actual: level });
                assert_eq!(step_up.required, required);
            }
        }
    }
}
