//! The assurance policy admins set, and the decisions made from it. Pure: the store loads a
//! [`Policy`], these functions decide.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Level;

/// Admin policy: how old a login may be per level, and the minimum level per scope.
/// (The minimum level per client is stored with the client.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Seconds after which a login no longer counts at that level.
    pub max_age: BTreeMap<Level, u64>,
    /// Minimum level a scope needs (e.g. `payment` → substantial).
    pub scope_min: BTreeMap<String, Level>,
}

impl Default for Policy {
    /// Defaults after a municipal portal product's session limits (docs/domain.md):
    /// high 30 min, substantial 2 h, low 12 h.
    fn default() -> Self {
        Policy {
            max_age: BTreeMap::from([
                (Level::Low, 12 * 3600),
                (Level::Substantial, 2 * 3600),
                (Level::High, 1800),
            ]),
            scope_min: BTreeMap::new(),
        }
    }
}

impl Policy {
    pub fn max_age_of(&self, level: Level) -> u64 {
        self.max_age
            .get(&level)
            .copied()
            .unwrap_or_else(|| Policy::default().max_age[&level])
    }

    /// The minimum level a request needs: the highest of the client's minimum and each
    /// requested scope's minimum.
    pub fn required_level<'a>(
        &self,
        client_min: Option<Level>,
        scopes: impl IntoIterator<Item = &'a str>,
    ) -> Level {
        scopes
            .into_iter()
            .filter_map(|s| self.scope_min.get(s).copied())
            .chain(client_min)
            .max()
            .unwrap_or(Level::Low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_level_is_the_highest_minimum() {
        let mut p = Policy::default();
        p.scope_min.insert("payment".into(), Level::Substantial);
        assert_eq!(p.required_level(None, ["openid", "profile"]), Level::Low);
        assert_eq!(
            p.required_level(None, ["openid", "payment"]),
            Level::Substantial
        );
        assert_eq!(
            p.required_level(Some(Level::High), ["payment"]),
            Level::High
        );
        assert_eq!(p.max_age_of(Level::High), 1800);
    }
}
