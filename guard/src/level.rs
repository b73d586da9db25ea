//! Assurance levels and [`check_level`], the pure decision behind every level demand.
//!
//! [`Level`] and [`AcrVocabulary`] come from the `pforte-levels` crate, the one table of `acr`
//! spellings the Pforte server writes its tokens from: the guard reads every value the server
//! can write, and its challenges name a level exactly as the server's tokens do (STORK low is
//! `STORK-QAA-Level-2`; `STORK-QAA-Level-1` is read as low too). Pforte's bare names (`low`,
//! ...) are not `acr` values and count as no level.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use pforte_levels::{AcrVocabulary, Level};

use crate::challenge::{ShortBy, StepUp};
use crate::validate::Claims;

/// Decides whether a validated token satisfies a level demand.
///
/// - The token's `acr` must name `required` or a higher level. A missing or unknown `acr`
///   counts as no level at all, so it never satisfies a demand.
/// - With `max_age`, the token's `auth_time` must be present and at most `max_age` before `now`
///   (OpenID Connect Core §3.1.2.1 `max_age` semantics; whole seconds, no leeway). An
///   `auth_time` in the future (clock skew) counts as age zero.
///
/// The returned [`StepUp`] is the RFC 9470 §3 challenge to send; it always names the required
/// level (so the client can meet the whole demand in one round trip) and, if `max_age` was
/// given, the maximum age. Its vocabulary is eIDAS; see [`StepUp::with_vocabulary`].
pub fn check_level(
    claims: &Claims,
    required: Level,
    max_age: Option<Duration>,
    now: SystemTime,
) -> Result<(), StepUp> {
    let short_by = shortfall(claims, required, max_age, now);
    match short_by {
        None => Ok(()),
        Some(short_by) => Err(StepUp::new(required, max_age, short_by)),
    }
}

fn shortfall(
    claims: &Claims,
    required: Level,
    max_age: Option<Duration>,
    now: SystemTime,
) -> Option<ShortBy> {
    let level = claims.level();
    if level.is_none_or(|l| l < required) {
        return Some(ShortBy::Level { actual: level });
    }
    let max_age = max_age?;
    let Some(auth_time) = claims.auth_time else {
        return Some(ShortBy::Age { age_secs: None });
    };
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let age = u64::try_from(now_secs.saturating_sub(auth_time)).unwrap_or(0);
    (age > max_age.as_secs()).then_some(ShortBy::Age {
        age_secs: Some(age),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(acr: Option<&str>, auth_time: Option<i64>) -> Claims {
        let mut c = Claims::for_tests();
        c.acr = acr.map(str::to_owned);
        c.auth_time = auth_time;
        c
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_guard_reads_what_the_server_writes() {
        // The table itself is tested in pforte-levels; here: the guard reads through it.
        for vocabulary in AcrVocabulary::ALL {
            for level in Level::ALL {
                let c = claims(Some(level.acr(vocabulary)), Some(1_000));
                assert_eq!(c.level(), Some(level));
            }
        }
        assert_eq!(claims(Some("low"), None).level(), None);
    }

    #[test]
    fn enough_level_passes() {
        let c = claims(Some("http://eidas.europa.eu/LoA/high"), Some(1_000));
        for required in Level::ALL {
            assert_eq!(check_level(&c, required, None, at(2_000)), Ok(()));
        }
    }

    #[test]
    fn low_against_substantial_steps_up() {
        let c = claims(Some("http://bsi.bund.de/eID/LoA/normal"), Some(1_000));
        let step_up = check_level(&c, Level::Substantial, None, at(1_001)).unwrap_err();
        assert_eq!(step_up.required, Level::Substantial);
        assert_eq!(
            step_up.short_by,
            ShortBy::Level {
                actual: Some(Level::Low)
            }
        );
        assert_eq!(step_up.max_age, None);
    }

    #[test]
    fn unknown_or_missing_acr_is_below_low() {
        for acr in [None, Some("urn:example:gold"), Some("0")] {
            let c = claims(acr, Some(1_000));
            let step_up = check_level(&c, Level::Low, None, at(1_001)).unwrap_err();
            assert_eq!(step_up.short_by, ShortBy::Level { actual: None });
        }
    }

    #[test]
    fn max_age_is_inclusive_and_needs_auth_time() {
        let c = claims(Some("STORK-QAA-Level-3"), Some(1_000));
        let five_min = Some(Duration::from_secs(300));
        assert_eq!(check_level(&c, Level::Low, five_min, at(1_300)), Ok(()));
        let step_up = check_level(&c, Level::Low, five_min, at(1_301)).unwrap_err();
        assert_eq!(
            step_up.short_by,
            ShortBy::Age {
                age_secs: Some(301)
            }
        );
        assert_eq!(step_up.max_age, five_min);

        let no_auth_time = claims(Some("STORK-QAA-Level-3"), None);
        let step_up = check_level(&no_auth_time, Level::Low, five_min, at(1_000)).unwrap_err();
        assert_eq!(step_up.short_by, ShortBy::Age { age_secs: None });
        assert_eq!(
            check_level(&no_auth_time, Level::Low, None, at(1_000)),
            Ok(())
        );
    }

    #[test]
    fn auth_time_in_the_future_counts_as_fresh() {
        let c = claims(Some("http://eidas.europa.eu/LoA/substantial"), Some(5_000));
        let zero = Some(Duration::ZERO);
        assert_eq!(check_level(&c, Level::Substantial, zero, at(4_000)), Ok(()));
    }

    #[test]
    fn level_shortfall_wins_over_age() {
        let c = claims(Some("http://eidas.europa.eu/LoA/low"), Some(0));
        let step_up =
            check_level(&c, Level::High, Some(Duration::from_secs(1)), at(10_000)).unwrap_err();
        assert!(matches!(step_up.short_by, ShortBy::Level { .. }));
        assert_eq!(step_up.max_age, Some(Duration::from_secs(1)));
    }

    #[test]
    fn clock_before_epoch_does_not_panic() {
        let c = claims(Some("http://eidas.europa.eu/LoA/low"), Some(i64::MIN));
        let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
        let _ = check_level(&c, Level::Low, Some(Duration::from_secs(1)), before_epoch);
        let c = claims(Some("http://eidas.europa.eu/LoA/low"), Some(i64::MAX));
        let _ = check_level(
            &c,
            Level::Low,
            Some(Duration::from_secs(1)),
            SystemTime::now(),
        );
    }
}
