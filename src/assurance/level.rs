//! The level of a login: a pure function over typed facts (docs/assurance.md, docs/domain.md).
//!
//! level = min(identity proofing, authentication strength, [upstream's asserted level capped by
//! the trust the admin gives that upstream]). A level also ages: past its maximum login age a
//! login no longer counts at that level (see [`effective_level`]).

use serde::{Deserialize, Serialize};

use super::Level;

/// One means of authentication used in a login, with its RFC 8176 `amr` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Something you know: a password (`pwd`).
    Password,
    /// A time-based one-time password (`otp`).
    Totp,
    /// A single-use recovery code (`otp`: it stands in for the second factor).
    RecoveryCode,
    /// A WebAuthn passkey: possession plus user verification (`hwk`, `user`).
    Passkey,
    /// The German eID with PIN (`hwk` + `pin`: card and PIN).
    EidPin,
    /// Login at an upstream identity source; its own methods are unknown here (`fed`).
    Upstream,
}

impl Method {
    /// RFC 8176 §2 values for this method.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Method::Password => &["pwd"],
            Method::Totp | Method::RecoveryCode => &["otp"],
            Method::Passkey => &["hwk", "user"],
            Method::EidPin => &["hwk", "pin"],
            Method::Upstream => &["fed"],
        }
    }

    /// The name admins use in client policy (`password`, `totp`, `passkey`, `eid`, `upstream`).
    pub fn policy_name(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Totp | Method::RecoveryCode => "totp",
            Method::Passkey => "passkey",
            Method::EidPin => "eid",
            Method::Upstream => "upstream",
        }
    }

    /// A method that identifies the citizen on its own: a password or an upstream login.
    fn is_first_factor(self) -> bool {
        matches!(self, Method::Password | Method::Upstream)
    }
    fn is_second_factor(self) -> bool {
        matches!(self, Method::Totp | Method::RecoveryCode)
    }
}

/// What an upstream asserted about a login and how far the admin trusts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpstreamAssertion {
    /// The upstream's asserted level after mapping its acr; `None` if it asserted nothing
    /// that maps (then the login counts as low at most).
    pub asserted: Option<Level>,
    /// The admin's cap for this upstream (`upstream add --max-level`).
    pub trust_cap: Level,
}

/// Everything the level of one login depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginFacts {
    /// How well the account's identity was proofed.
    pub proofing: Level,
    /// The methods used in this session, in order.
    pub methods: Vec<Method>,
    /// Set for a login through an upstream identity source.
    pub upstream: Option<UpstreamAssertion>,
}

/// Strength of the authentication alone: password → low; a first factor (password, or a login
/// at an upstream source) plus TOTP or a recovery code, or a passkey → substantial; eID with
/// PIN → high. What an upstream asserted is applied in [`login_level`].
pub fn authentication_strength(methods: &[Method]) -> Option<Level> {
    if methods.contains(&Method::EidPin) {
        return Some(Level::High);
    }
    let first = methods.iter().any(|m| m.is_first_factor());
    let second = methods.iter().any(|m| m.is_second_factor());
    if methods.contains(&Method::Passkey) || (first && second) {
        return Some(Level::Substantial);
    }
    if first {
        return Some(Level::Low);
    }
    None
}

/// The level a login reaches, or `None` if the methods do not authenticate at all (a second
/// factor alone).
///
/// For a login through an upstream source the strength is what the upstream asserted, capped
/// by the admin's trust in it (never reset to the lowest level: Keycloak #25335); a second
/// factor added here later may raise it as it would raise a password login, but never above
/// that trust cap, and a step-up never lowers the upstream's part.
pub fn login_level(facts: &LoginFacts) -> Option<Level> {
    let local = authentication_strength(&facts.methods);
    let strength = match facts.upstream {
        Some(up) => {
            let asserted = up.asserted.unwrap_or(Level::Low).min(up.trust_cap);
            local
                .map_or(asserted, |l| l.max(asserted))
                .min(up.trust_cap)
        }
        None => local?,
    };
    Some(strength.min(facts.proofing))
}

/// The level a login still counts at `age` seconds after it happened, given the maximum age
/// of each level: the highest level not above `reached` whose maximum age has not passed.
/// `None`: even low has aged out, so the citizen must log in again.
pub fn effective_level(reached: Level, age: u64, max_age: impl Fn(Level) -> u64) -> Option<Level> {
    Level::ALL
        .into_iter()
        .rev()
        .filter(|l| *l <= reached)
        .find(|l| age <= max_age(*l))
}

/// `amr` for a list of methods, deduplicated in order (RFC 8176).
pub fn amr(methods: &[Method]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in methods {
        for v in m.amr() {
            if !out.iter().any(|o| o == v) {
                out.push((*v).to_string());
            }
        }
    }
    if methods
        .iter()
        .filter(|m| !matches!(m, Method::Upstream))
        .count()
        > 1
        && !out.iter().any(|o| o == "mfa")
    {
        out.push("mfa".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Level::*, Method::*, *};

    fn facts(
        proofing: Level,
        methods: &[Method],
        upstream: Option<(Option<Level>, Level)>,
    ) -> LoginFacts {
        LoginFacts {
            proofing,
            methods: methods.to_vec(),
            upstream: upstream.map(|(asserted, trust_cap)| UpstreamAssertion {
                asserted,
                trust_cap,
            }),
        }
    }

    /// proofing, methods, upstream (asserted, trust), expected level.
    type Case = (
        Level,
        &'static [Method],
        Option<(Option<Level>, Level)>,
        Option<Level>,
    );

    /// proofing × authenticator × upstream × trust → level.
    #[test]
    fn level_table() {
        let cases: &[Case] = &[
            // Local logins: strength capped by proofing.
            (Low, &[Password], None, Some(Low)),
            (Low, &[Password, Totp], None, Some(Low)), // self-registered: the proofing ceiling holds
            (Low, &[Passkey], None, Some(Low)),
            (Substantial, &[Password], None, Some(Low)),
            (Substantial, &[Password, Totp], None, Some(Substantial)),
            (
                Substantial,
                &[Password, RecoveryCode],
                None,
                Some(Substantial),
            ),
            (Substantial, &[Passkey], None, Some(Substantial)),
            (High, &[Password, Totp], None, Some(Substantial)),
            (High, &[EidPin], None, Some(High)),
            (Substantial, &[EidPin], None, Some(Substantial)),
            (High, &[Totp], None, None), // a second factor alone authenticates nobody
            (High, &[], None, None),
            // Upstream logins: the asserted level, capped by trust and proofing.
            (High, &[Upstream], Some((Some(High), High)), Some(High)),
            (
                High,
                &[Upstream],
                Some((Some(High), Substantial)),
                Some(Substantial),
            ),
            (
                High,
                &[Upstream],
                Some((Some(Substantial), High)),
                Some(Substantial),
            ),
            (High, &[Upstream], Some((None, High)), Some(Low)),
            (
                Substantial,
                &[Upstream],
                Some((Some(High), High)),
                Some(Substantial),
            ),
            (Low, &[Upstream], Some((Some(High), High)), Some(Low)),
        ];
        for (proofing, methods, upstream, want) in cases {
            let got = login_level(&facts(*proofing, methods, *upstream));
            assert_eq!(
                got, *want,
                "proofing={proofing:?} methods={methods:?} upstream={upstream:?}"
            );
        }
    }

    /// A level ages: past its maximum age the login counts at the next level down that is still fresh.
    #[test]
    fn ageing_table() {
        let max_age = |l: Level| match l {
            High => 1800,
            Substantial => 7200,
            Low => 43200,
        };
        let cases = [
            (High, 60, Some(High)),
            (High, 1801, Some(Substantial)),
            (High, 7201, Some(Low)),
            (High, 43201, None),
            (Substantial, 7200, Some(Substantial)),
            (Substantial, 7201, Some(Low)),
            (Low, 43200, Some(Low)),
            (Low, 43201, None),
        ];
        for (reached, age, want) in cases {
            assert_eq!(
                effective_level(reached, age, max_age),
                want,
                "{reached:?} after {age}s"
            );
        }
    }

    #[test]
    fn amr_values() {
        assert_eq!(amr(&[Password]), vec!["pwd"]);
        assert_eq!(amr(&[Password, Totp]), vec!["pwd", "otp", "mfa"]);
        assert_eq!(amr(&[Passkey]), vec!["hwk", "user"]);
        assert_eq!(amr(&[Upstream]), vec!["fed"]);
    }
}
