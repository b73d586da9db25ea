//! The personal details a citizen (on the profile page) or an operator (`pforte account add`)
//! enters: validation and normalisation of given and family name, birth date, postal address
//! (the parts of the OIDC `address` claim, Core §5.1.1) and phone number (E.164), and the
//! attribute names they are stored under. Pure: no storage, no time source (today's date is
//! passed in).
//!
//! Every refusal is a [`DetailError`] naming the field and a key; the pages look the key up in
//! the citizen's language (`web::i18n`), the CLI prints its English [`Display`](std::fmt::Display).

/// Stored attribute names, as claims (`address.*` parts make up the `address` claim).
pub const GIVEN_NAME: &str = "given_name";
pub const FAMILY_NAME: &str = "family_name";
pub const BIRTHDATE: &str = "birthdate";
pub const STREET_ADDRESS: &str = "address.street_address";
pub const POSTAL_CODE: &str = "address.postal_code";
pub const LOCALITY: &str = "address.locality";
pub const COUNTRY: &str = "address.country";
pub const PHONE_NUMBER: &str = "phone_number";

/// Every attribute a citizen may enter, in the order the profile page shows them.
pub const FIELDS: [&str; 8] = [
    GIVEN_NAME,
    FAMILY_NAME,
    BIRTHDATE,
    STREET_ADDRESS,
    POSTAL_CODE,
    LOCALITY,
    COUNTRY,
    PHONE_NUMBER,
];

/// What a citizen typed, field by field (`None` or blank: not given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetailsInput {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthdate: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub locality: Option<String>,
    pub country: Option<String>,
    pub phone_number: Option<String>,
}

/// Why a value was refused: the field (an attribute name of [`FIELDS`]) and the reason's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {}", english(self.reason))]
pub struct DetailError {
    pub field: &'static str,
    pub reason: Reason,
}

/// The reasons a value is refused; each has a text per language (`web::i18n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Longer than the field allows, or with control characters.
    TooLong,
    Control,
    /// Not `YYYY-MM-DD` or `DD.MM.YYYY`, or no such day.
    DateFormat,
    DateFuture,
    /// Before 1900.
    DateTooOld,
    /// Street, postal code and town go together.
    AddressIncomplete,
    /// A German postal code has five digits.
    PostalCodeDe,
    PostalCodeFormat,
    /// Two letters, ISO 3166-1 (`DE`).
    Country,
    /// Not a phone number at all.
    PhoneFormat,
    /// A national number (leading 0) without the country code.
    PhoneNational,
    /// E.164: at most 15 digits, at least 8 here.
    PhoneLength,
}

impl Reason {
    /// The key the pages look up (`web::i18n::detail_error_text`).
    pub fn key(self) -> &'static str {
        match self {
            Reason::TooLong => "too_long",
            Reason::Control => "control",
            Reason::DateFormat => "date_format",
            Reason::DateFuture => "date_future",
            Reason::DateTooOld => "date_too_old",
            Reason::AddressIncomplete => "address_incomplete",
            Reason::PostalCodeDe => "postal_code_de",
            Reason::PostalCodeFormat => "postal_code_format",
            Reason::Country => "country",
            Reason::PhoneFormat => "phone_format",
            Reason::PhoneNational => "phone_national",
            Reason::PhoneLength => "phone_length",
        }
    }
}

fn english(r: Reason) -> &'static str {
    match r {
        Reason::TooLong => "too long",
        Reason::Control => "contains control characters",
        Reason::DateFormat => "expected a date as YYYY-MM-DD (for example 1980-04-23)",
        Reason::DateFuture => "the date lies in the future",
        Reason::DateTooOld => "the date lies before 1900",
        Reason::AddressIncomplete => {
            "street and house number, postal code and town are needed together"
        }
        Reason::PostalCodeDe => "a German postal code has five digits",
        Reason::PostalCodeFormat => "a postal code has 2 to 10 letters, digits, spaces or hyphens",
        Reason::Country => "expected a two-letter country code (ISO 3166-1, for example DE)",
        Reason::PhoneFormat => {
            "expected a phone number in international form (E.164), for example +49 2389 123456"
        }
        Reason::PhoneNational => {
            "the number starts with 0: write it with the country code, for example +49 2389 123456"
        }
        Reason::PhoneLength => "an international phone number has 8 to 15 digits",
    }
}

/// Checked details: (attribute name, normalised value) for every field given, in [`FIELDS`]
/// order. An address is complete (street, postal code, town; the country defaults to `DE`).
pub type Details = Vec<(&'static str, String)>;

/// Checks everything; returns every error (one per field at most) so that a form can show them
/// all at once.
pub fn check(input: &DetailsInput, today: time::Date) -> Result<Details, Vec<DetailError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut put = |field: &'static str, r: Result<Option<String>, Reason>| match r {
        Ok(Some(v)) => out.push((field, v)),
        Ok(None) => {}
        Err(reason) => errors.push(DetailError { field, reason }),
    };
    put(GIVEN_NAME, text(&input.given_name, 200));
    put(FAMILY_NAME, text(&input.family_name, 200));
    put(
        BIRTHDATE,
        given(&input.birthdate)
            .map(|d| birthdate(d, today))
            .transpose(),
    );
    let street = text(&input.street_address, 200);
    let locality = text(&input.locality, 100);
    let country = match given(&input.country) {
        None => Ok("DE".to_string()),
        Some(c) => country_code(c),
    };
    let postal = match (given(&input.postal_code), &country) {
        (None, _) => Ok(None),
        (Some(p), Ok(c)) => postal_code(p, c).map(Some),
        (Some(p), Err(_)) => postal_code(p, "").map(Some),
    };
    let any_address = [&street, &postal, &locality]
        .iter()
        .any(|r| !matches!(r, Ok(None)));
    if any_address {
        let missing = |r: &Result<Option<String>, Reason>| matches!(r, Ok(None));
        let street = if missing(&street) {
            Err(Reason::AddressIncomplete)
        } else {
            street
        };
        let postal = if missing(&postal) {
            Err(Reason::AddressIncomplete)
        } else {
            postal
        };
        let locality = if missing(&locality) {
            Err(Reason::AddressIncomplete)
        } else {
            locality
        };
        put(STREET_ADDRESS, street);
        put(POSTAL_CODE, postal);
        put(LOCALITY, locality);
        put(COUNTRY, country.map(Some));
    } else if given(&input.country).is_some() {
        // A country alone is no address; refused only if it is malformed.
        if let Err(reason) = country {
            put(COUNTRY, Err(reason));
        }
    }
    put(
        PHONE_NUMBER,
        given(&input.phone_number).map(phone_number).transpose(),
    );
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// What saving the profile form changes: for every field of [`FIELDS`], `(name, Some(value))`
/// to store `value` as self-entered, `(name, None)` to remove the self-entered value; fields
/// whose self-entered value stays as it is are left out. `stored` is every attribute row the
/// account has, of every source. A value equal to a verified one (another source) is not
/// stored again as self-entered: the verified value stands. Verified values are never
/// changed here, whatever was typed.
pub fn changes(
    checked: &Details,
    stored: &[crate::store::accounts::Attribute],
) -> Vec<(&'static str, Option<String>)> {
    FIELDS
        .iter()
        .filter_map(|name| {
            let new = checked
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone());
            let own = stored
                .iter()
                .find(|a| a.name == *name && a.source == "self")
                .map(|a| a.value.clone());
            let verified_same = new.as_ref().is_some_and(|v| {
                stored
                    .iter()
                    .any(|a| a.name == *name && a.source != "self" && &a.value == v)
            });
            let want = if verified_same { None } else { new };
            (want != own).then_some((*name, want))
        })
        .collect()
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Free text: trimmed, at most `max` characters, no control characters.
fn text(v: &Option<String>, max: usize) -> Result<Option<String>, Reason> {
    let Some(s) = given(v) else {
        return Ok(None);
    };
    if s.chars().any(char::is_control) {
        return Err(Reason::Control);
    }
    if s.chars().count() > max {
        return Err(Reason::TooLong);
    }
    Ok(Some(s.to_string()))
}

/// A birth date as `YYYY-MM-DD` (the claim's format, OIDC Core §5.1) or as Germans write it,
/// `DD.MM.YYYY`; normalised to `YYYY-MM-DD`.
pub fn birthdate(s: &str, today: time::Date) -> Result<String, Reason> {
    let s = s.trim();
    let parts: Vec<&str> = if s.contains('-') {
        s.split('-').collect()
    } else {
        let mut p: Vec<&str> = s.split('.').collect();
        p.reverse();
        p
    };
    let [y, m, d] = parts[..] else {
        return Err(Reason::DateFormat);
    };
    let digits = |p: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit())
    };
    if !(digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2)) {
        return Err(Reason::DateFormat);
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
        return Err(Reason::DateFormat);
    };
    let month = time::Month::try_from(m).map_err(|_| Reason::DateFormat)?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| Reason::DateFormat)?;
    if date > today {
        return Err(Reason::DateFuture);
    }
    if y < 1900 {
        return Err(Reason::DateTooOld);
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// ISO 3166-1 alpha-2, upper-cased.
fn country_code(s: &str) -> Result<String, Reason> {
    let s = s.trim();
    if s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(Reason::Country)
    }
}

fn postal_code(s: &str, country: &str) -> Result<String, Reason> {
    let s = s.trim();
    if country == "DE" {
        return if s.len() == 5 && s.chars().all(|c| c.is_ascii_digit()) {
            Ok(s.to_string())
        } else {
            Err(Reason::PostalCodeDe)
        };
    }
    let ok = (2..=10).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    if ok {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(Reason::PostalCodeFormat)
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits, the first not 0), accepting the
/// spaces, hyphens, slashes, dots and brackets people write, and `00` for `+`. A national
/// number (`0…`) is refused with its own reason: Pforte cannot know the country.
pub fn phone_number(s: &str) -> Result<String, Reason> {
    let s = s.trim();
    if s.chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '/' | '.' | '(' | ')')))
        || s.chars().skip(1).any(|c| c == '+')
    {
        return Err(Reason::PhoneFormat);
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let international = if s.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if digits.starts_with('0') {
        return Err(Reason::PhoneNational);
    } else {
        return Err(Reason::PhoneFormat);
    };
    if international.starts_with('0') || international.is_empty() {
        return Err(Reason::PhoneFormat);
    }
    if !(8..=15).contains(&international.len()) {
        return Err(Reason::PhoneLength);
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::December, 7).unwrap()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.into())
    }

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(phone_number("+49 2389 123456").unwrap(), "+492389123456");
        assert_eq!(
            phone_number("0049 (2389) 12-34/56").unwrap(),
            "+492389123456"
        );
        assert_eq!(phone_number("+1 202.555.0143").unwrap(), "+12025550143");
        assert_eq!(phone_number("02389 123456"), Err(Reason::PhoneNational));
        assert_eq!(phone_number("2389 123456"), Err(Reason::PhoneFormat));
        assert_eq!(phone_number("+49 2389 ABC"), Err(Reason::PhoneFormat));
        assert_eq!(phone_number("+49+2389"), Err(Reason::PhoneFormat));
        assert_eq!(phone_number("+0 2389 123456"), Err(Reason::PhoneFormat));
        assert_eq!(phone_number("+49 123"), Err(Reason::PhoneLength));
        assert_eq!(
            phone_number("+49 1234 5678 9012 345"),
            Err(Reason::PhoneLength)
        );
    }

    #[test]
    fn birth_dates() {
        assert_eq!(birthdate("1980-04-23", today()).unwrap(), "1980-04-23");
        assert_eq!(birthdate("23.4.1980", today()).unwrap(), "1980-04-23");
        assert_eq!(birthdate("1980-02-30", today()), Err(Reason::DateFormat));
        assert_eq!(birthdate("80-04-23", today()), Err(Reason::DateFormat));
        assert_eq!(birthdate("gestern", today()), Err(Reason::DateFormat));
        assert_eq!(birthdate("2026-12-08", today()), Err(Reason::DateFuture));
        assert_eq!(birthdate("1899-12-31", today()), Err(Reason::DateTooOld));
        assert_eq!(birthdate("2026-12-07", today()).unwrap(), "2026-12-07");
    }

    #[test]
    fn an_address_is_complete_or_refused_per_missing_part() {
        let input = DetailsInput {
            street_address: some("Markt 1"),
            postal_code: some("59368"),
            locality: some("Werne"),
            ..Default::default()
        };
        let d = check(&input, today()).unwrap();
        assert_eq!(
            d,
            vec![
                (STREET_ADDRESS, "Markt 1".to_string()),
                (POSTAL_CODE, "59368".to_string()),
                (LOCALITY, "Werne".to_string()),
                (COUNTRY, "DE".to_string()),
            ]
        );
        let input = DetailsInput {
            street_address: some("Markt 1"),
            postal_code: some("5936"),
            ..Default::default()
        };
        let e = check(&input, today()).unwrap_err();
        assert_eq!(
            e,
            vec![
                DetailError {
                    field: POSTAL_CODE,
                    reason: Reason::PostalCodeDe
                },
                DetailError {
                    field: LOCALITY,
                    reason: Reason::AddressIncomplete
                },
            ]
        );
        let input = DetailsInput {
            street_address: some("1 Main St"),
            postal_code: some("sw1a 1aa"),
            locality: some("London"),
            country: some("gb"),
            ..Default::default()
        };
        let d = check(&input, today()).unwrap();
        assert!(d.contains(&(POSTAL_CODE, "SW1A 1AA".to_string())));
        assert!(d.contains(&(COUNTRY, "GB".to_string())));
        let input = DetailsInput {
            country: some("Deutschland"),
            ..Default::default()
        };
        assert_eq!(
            check(&input, today()).unwrap_err()[0].reason,
            Reason::Country
        );
    }

    #[test]
    fn a_verified_value_is_never_overwritten_and_a_different_one_counts_as_self_entered() {
        use crate::{assurance::Level, store::accounts::Attribute};
        let attr = |name: &str, value: &str, source: &str| Attribute {
            name: name.into(),
            value: value.into(),
            source: source.into(),
            level: if source == "self" {
                Level::Low
            } else {
                Level::Substantial
            },
            verified_at: (source != "self").then_some(1),
        };
        let stored = vec![
            attr(FAMILY_NAME, "Schmidt", "office"),
            attr(GIVEN_NAME, "Anna", "self"),
            attr(PHONE_NUMBER, "+492389111111", "self"),
        ];
        // Same family name as verified: nothing stored; a different given name replaces the
        // self-entered one; the phone number left blank removes the self-entered one.
        let checked = vec![
            (GIVEN_NAME, "Anne".to_string()),
            (FAMILY_NAME, "Schmidt".to_string()),
        ];
        assert_eq!(
            changes(&checked, &stored),
            vec![(GIVEN_NAME, Some("Anne".to_string())), (PHONE_NUMBER, None)]
        );
        // A different family name is stored as self-entered beside the verified one.
        let checked = vec![(FAMILY_NAME, "Schmidt-Meier".to_string())];
        assert!(changes(&checked, &stored).contains(&(FAMILY_NAME, Some("Schmidt-Meier".into()))));
        // Re-entering the verified value drops the self-entered alternative.
        let mut stored2 = stored.clone();
        stored2.push(attr(FAMILY_NAME, "Schmidt-Meier", "self"));
        let checked = vec![(FAMILY_NAME, "Schmidt".to_string())];
        assert!(changes(&checked, &stored2).contains(&(FAMILY_NAME, None)));
    }

    #[test]
    fn names_and_nothing() {
        assert_eq!(check(&DetailsInput::default(), today()).unwrap(), vec![]);
        let input = DetailsInput {
            given_name: some("  Anna "),
            family_name: some("x\u{7}"),
            phone_number: some("+49 2389 123456"),
            ..Default::default()
        };
        let e = check(&input, today()).unwrap_err();
        assert_eq!(
            e,
            vec![DetailError {
                field: FAMILY_NAME,
                reason: Reason::Control
            }]
        );
        assert_eq!(e[0].to_string(), "family_name: contains control characters");
    }
}
