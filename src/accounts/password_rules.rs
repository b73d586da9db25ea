//! The rules a citizen's new password must meet, after NIST SP 800-63B §5.1.1.2 (memorized
//! secrets) and §3.1.1.2 of SP 800-63B-4: length first (at least `login.min_password_length`,
//! 12 by default; at most [`MAX_CHARS`] so that a hash request stays bounded), no composition
//! rules, and a check against guessable values: a strength estimate with `zxcvbn` (Dropbox's
//! estimator: dictionaries of common passwords, names and words, keyboard patterns, dates,
//! repeats) that must reach [`MIN_SCORE`], given the citizen's own name, the parts of the e-mail
//! address and postal address, and the service's name as words an attacker would try first.
//!
//! One function, [`check`], used wherever a citizen chooses a password: registration
//! confirmation, password reset and password change.

use zxcvbn::{matching::patterns::MatchPattern, Score};

/// The most characters a password may have (SP 800-63B: at least 64 must be allowed).
pub const MAX_CHARS: usize = 256;
/// The least zxcvbn score accepted: 3 of 4, "safely unguessable: moderate protection from an
/// offline slow-hash scenario" (about 10^8 guesses and more), with argon2id behind it.
pub const MIN_SCORE: Score = Score::Three;
/// Only this many characters are given to the estimator (its work grows with the length; a
/// prefix this long that is guessable makes the whole guessable enough to refuse).
const ESTIMATE_CHARS: usize = 100;

/// Why a password is refused. The web layer shows each as a field error (`key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooShort(usize),
    TooLong,
    /// Guessable, and built from the citizen's own data or the service's name.
    Personal,
    /// Guessable (common, a pattern, a word).
    Weak,
}

impl Problem {
    /// The field error key (`web::i18n::field_error_text`).
    pub fn key(self) -> &'static str {
        match self {
            Problem::Required => "required",
            Problem::TooShort(_) => "password_too_short",
            Problem::TooLong => "password_too_long",
            Problem::Personal => "password_personal",
            Problem::Weak => "password_weak",
        }
    }
}

/// What the estimator is told about the citizen and the service.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The configured minimum length.
    pub min_chars: usize,
    /// Words an attacker who knows the citizen would try: names, e-mail address and its parts,
    /// postal address parts, the service's and the site's names.
    pub words: Vec<String>,
}

impl Context {
    /// A context with the service's own names (`Pforte`, the issuer's host and its labels) and
    /// the citizen's e-mail address and its parts.
    pub fn new(min_chars: usize, issuer: &str, email: &str) -> Context {
        let mut c = Context {
            min_chars,
            words: Vec::new(),
        };
        c.add("Pforte");
        c.add("Servicekonto");
        c.add("Bürgerkonto");
        if let Ok(u) = url::Url::parse(issuer) {
            if let Some(host) = u.host_str() {
                c.add(host);
            }
        }
        c.add(email);
        c
    }

    /// Adds a value and, split at anything that is not a letter or digit, its parts.
    pub fn add(&mut self, value: &str) -> &mut Context {
        let value = value.trim().to_lowercase();
        if value.is_empty() {
            return self;
        }
        for part in value.split(|c: char| !c.is_alphanumeric()) {
            if part.chars().count() >= 3 && !self.words.iter().any(|w| w == part) {
                self.words.push(part.to_string());
            }
        }
        if !self.words.contains(&value) {
            self.words.push(value);
        }
        self
    }
}

/// Checks a new password against the rules; `Ok` when it may be used.
pub fn check(password: &str, ctx: &Context) -> Result<(), Problem> {
    if password.is_empty() {
        return Err(Problem::Required);
    }
    let chars = password.chars().count();
    if chars < ctx.min_chars {
        return Err(Problem::TooShort(ctx.min_chars));
    }
    if chars > MAX_CHARS {
        return Err(Problem::TooLong);
    }
    let head: String = password.chars().take(ESTIMATE_CHARS).collect();
    if built_from_own_data(&head, ctx) {
        return Err(Problem::Personal);
    }
    let inputs: Vec<&str> = ctx.words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let personal = estimate.sequence().iter().any(|m| {
        matches!(&m.pattern, MatchPattern::Dictionary(d)
            if ctx.words.iter().any(|w| *w == d.matched_word.to_lowercase()))
    });
    Err(if personal {
        Problem::Personal
    } else {
        Problem::Weak
    })
}

/// Whether the password contains the citizen's or the service's words and what is left
/// without them is guessable on its own (`AnnaSchmidt2026`: "2026"). zxcvbn alone scores such
/// a password by its parts' ranks and can let it pass; an attacker who knows the citizen tries
/// exactly these first.
fn built_from_own_data(password: &str, ctx: &Context) -> bool {
    let mut rest = password.to_lowercase();
    let mut words: Vec<&String> = ctx
        .words
        .iter()
        .filter(|w| w.chars().count() >= 3)
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let before = rest.len();
    for w in words {
        rest = rest.replace(w.as_str(), "");
    }
    if rest.len() == before {
        return false;
    }
    rest.chars().filter(|c| c.is_alphanumeric()).count() < 8
        || zxcvbn::zxcvbn(&rest, &[]).score() < MIN_SCORE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> Context {
        let mut c = Context::new(
            12,
            "https://servicekonto.musterstadt.de",
            "anna.schmidt@example.de",
        );
        c.add("Anna")
            .add("Schmidt")
            .add("Lindenallee 12, 50667 Köln");
        c
    }

    #[test]
    fn length_first() {
        let c = anna();
        assert_eq!(check("", &c), Err(Problem::Required));
        assert_eq!(check("kurz", &c), Err(Problem::TooShort(12)));
        assert_eq!(check(&"x".repeat(257), &c), Err(Problem::TooLong));
    }

    #[test]
    fn passwords_from_the_citizens_own_data_are_refused() {
        let c = anna();
        for p in [
            "AnnaSchmidt2026",
            "anna.schmidt@example.de",
            "schmidtanna123",
            "Lindenallee12Köln",
            "Pforte-Pforte-1",
            "musterstadt2026!",
        ] {
            assert_eq!(check(p, &c), Err(Problem::Personal), "{p}");
        }
    }

    #[test]
    fn common_and_patterned_passwords_are_refused() {
        let c = anna();
        for p in [
            "passwort1234",
            "123456789012",
            "qwertzuiopasdf",
            "aaaaaaaaaaaaaaaa",
        ] {
            assert!(check(p, &c).is_err(), "{p}");
        }
    }

    #[test]
    fn long_unrelated_passphrases_pass() {
        let c = anna();
        for p in [
            "correct horse battery staple",
            "Rhabarber-Kuchen schmeckt im Mai",
            "vK9#qLm2!xTz7pWd",
        ] {
            assert_eq!(check(p, &c), Ok(()), "{p}");
        }
    }
}
