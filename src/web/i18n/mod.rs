//! Languages and every user-visible string of Pforte's pages.
//!
//! German is the default and the reference wording; English is the second language.
//! All page copy lives in [`Texts`] (one `static` per language, so a string missing in
//! one language is a compile error). Strings that are looked up by a runtime key — OAuth /
//! OIDC error codes, scopes, registration validation keys, assurance levels — have
//! lookup functions: [`error_text`], [`scope_text`], [`field_error_text`], [`level_label`].
//!
//! Placeholders such as `{client}` or `{email}` are replaced with [`fill`]; the result is
//! still plain text and is HTML-escaped by the templates.

mod lookups;
mod pages;
mod security;

pub use lookups::*;
pub use pages::*;
pub use security::*;

/// A language Pforte's pages are available in.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Default, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    /// Every supported language, German first.
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// Picks the page language.
    ///
    /// OIDC `ui_locales` (space-separated BCP 47 tags in preference order, OIDC Core
    /// §3.1.2.1) wins with its first supported tag; otherwise the `Accept-Language` header
    /// (RFC 9110 §12.5.4: comma-separated ranges with optional `q` weights, `*` wildcard,
    /// `q=0` meaning "not acceptable") decides; otherwise German.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = ui_locales.and_then(|v| v.split_whitespace().find_map(Lang::parse)) {
            return lang;
        }
        accept_language
            .and_then(negotiate_accept_language)
            .unwrap_or_default()
    }

    /// The BCP 47 primary language subtag: `"de"` or `"en"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Parses a language tag such as `de`, `de-DE`, `EN-gb`, `en_US` (case-insensitive;
    /// only the primary subtag counts). Returns `None` for unsupported or malformed tags.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim();
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        let rest_ok = tag[primary.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !rest_ok {
            return None;
        }
        if primary.eq_ignore_ascii_case("de") {
            Some(Lang::De)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The name of this language, written in this language ("Deutsch", "English"), for a
    /// language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    /// The other supported language (for a two-language switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }

    /// All page copy in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// RFC 9110 §12.5.4 `Accept-Language`: the supported language with the highest weight;
/// ties go to the range listed first. `None` if nothing supported is acceptable.
fn negotiate_accept_language(header: &str) -> Option<Lang> {
    // q in thousandths; position of the range that gave it.
    let mut best: [Option<(u16, usize)>; 2] = [None, None];
    let mut wildcard: Option<(u16, usize)> = None;
    for (pos, item) in header.split(',').enumerate() {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        let mut q = 1000u16;
        for param in parts {
            let param = param.trim();
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    match parse_qvalue(v.trim()) {
                        Some(v) => q = v,
                        None => q = 0, // malformed weight: ignore the range
                    }
                }
            }
        }
        if range == "*" {
            if wildcard.is_none() {
                wildcard = Some((q, pos));
            }
            continue;
        }
        if let Some(lang) = Lang::parse(range) {
            let slot = &mut best[lang as usize];
            match slot {
                Some((old_q, _)) if *old_q >= q => {}
                _ => *slot = Some((q, pos)),
            }
        }
    }
    let mut winner: Option<(Lang, u16, usize)> = None;
    for lang in Lang::ALL {
        let Some((q, pos)) = best[lang as usize].or(wildcard) else {
            continue;
        };
        if q == 0 {
            continue;
        }
        match winner {
            Some((_, wq, wpos)) if wq > q || (wq == q && wpos <= pos) => {}
            _ => winner = Some((lang, q, pos)),
        }
    }
    winner.map(|(lang, _, _)| lang)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_qvalue(v: &str) -> Option<u16> {
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, f),
        None => (v, ""),
    };
    if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, c) in frac.chars().enumerate() {
        thousandths += (c as u16 - b'0' as u16) * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Replaces `{name}` in a text with `value` (plain text; templates escape the result).
pub fn fill(text: &str, name: &str, value: &str) -> String {
    text.replace(&format!("{{{name}}}"), value)
}

#[cfg(test)]
mod tests;
