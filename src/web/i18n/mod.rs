//! Languages and every user-visible string of Pforte: pages and mails.
//!
//! German is the default and the reference wording; English is the second language. Each
//! language has one [`Catalog`] of text tables, chosen by [`Lang::catalog`] (the only place
//! that matches a language to its texts):
//! - [`Texts`] (`pages.rs`): the page copy;
//! - [`SecurityTexts`] (`security.rs`): account security and step-up pages;
//! - [`LookupTexts`] (`lookups.rs`): texts looked up by a runtime key — OAuth / OIDC error
//!   codes, scopes, validation keys, assurance levels — through [`error_text`],
//!   [`scope_text`], [`field_error_text`], [`level_label`], which map keys to table fields
//!   once for all languages;
//! - [`MailTexts`] (`mail.rs`): the mails' subjects and bodies;
//! - [`AccountTexts`] (`account.rs`): the citizen's account pages (data cockpit, profile,
//!   activity, export and deletion);
//! - [`InfoTexts`] (`info.rs`): the accessibility statement and the Leichte Sprache page.
//!
//! Every table is a struct with one `&'static str` field per text, and every language fills
//! the whole struct, so a text missing in one language does not compile; a unit test checks
//! that no text is empty and that every language uses the same placeholders. Adding a
//! language (for example Leichte Sprache) is a new [`Lang`] variant with its tag and a
//! catalog; docs/i18n.md describes the steps and why Pforte uses tables rather than Fluent.
//!
//! Placeholders such as `{client}` or `{email}` are replaced with [`fill`]; the result is
//! still plain text and is HTML-escaped by the templates.

mod account;
mod federation;
mod info;
mod lookups;
mod mail;
mod pages;
mod recovery;
mod security;
mod throttle;

pub use account::*;
pub use federation::*;
pub use info::*;
pub use lookups::*;
pub use mail::*;
pub use pages::*;
pub use recovery::*;
pub use security::*;
pub use throttle::*;

/// Every text table of one language.
#[derive(Debug)]
pub struct Catalog {
    pub pages: &'static Texts,
    pub security: &'static SecurityTexts,
    pub lookups: &'static LookupTexts,
    pub mail: &'static MailTexts,
    pub recovery: &'static RecoveryTexts,
    pub throttle: &'static ThrottleTexts,
    pub account: &'static AccountTexts,
    pub info: &'static InfoTexts,
    pub federation: &'static FederationTexts,
}

static DE_CATALOG: Catalog = Catalog {
    pages: &DE,
    security: &DE_SECURITY,
    lookups: &DE_LOOKUPS,
    mail: &DE_MAIL,
    recovery: &DE_RECOVERY,
    throttle: &DE_THROTTLE,
    account: &DE_ACCOUNT,
    info: &DE_INFO,
    federation: &DE_FEDERATION,
};

static EN_CATALOG: Catalog = Catalog {
    pages: &EN,
    security: &EN_SECURITY,
    lookups: &EN_LOOKUPS,
    mail: &EN_MAIL,
    recovery: &EN_RECOVERY,
    throttle: &EN_THROTTLE,
    account: &EN_ACCOUNT,
    info: &EN_INFO,
    federation: &EN_FEDERATION,
};

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

    /// This language's texts.
    pub fn catalog(self) -> &'static Catalog {
        match self {
            Lang::De => &DE_CATALOG,
            Lang::En => &EN_CATALOG,
        }
    }

    /// The BCP 47 tag: `"de"` or `"en"` (a variant would be, say, `"de-x-ls"`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// Parses a language tag such as `de`, `de-DE`, `EN-gb`, `en_US` (case-insensitive).
    /// A language whose [`code`](Lang::code) is the whole tag matches first (a variant such
    /// as `de-x-ls`); otherwise the primary subtag counts, for languages whose code is a
    /// bare primary subtag. Returns `None` for unsupported or malformed tags.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim();
        if !tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return None;
        }
        let tag = tag.replace('_', "-");
        let primary = tag.split('-').next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(&tag))
            .or_else(|| {
                Lang::ALL
                    .into_iter()
                    .find(|l| !l.code().contains('-') && l.code().eq_ignore_ascii_case(primary))
            })
    }

    /// The name of this language, written in this language ("Deutsch", "English"), for the
    /// language switch.
    pub fn native_name(self) -> &'static str {
        self.catalog().pages.language_name
    }

    /// All page copy in this language.
    pub fn texts(self) -> &'static Texts {
        self.catalog().pages
    }
}

impl Lang {
    /// The position in [`Lang::ALL`].
    fn index(self) -> usize {
        Lang::ALL.iter().position(|l| *l == self).unwrap_or(0)
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
    let mut best: [Option<(u16, usize)>; Lang::ALL.len()] = [None; Lang::ALL.len()];
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
            let slot = &mut best[lang.index()];
            match slot {
                Some((old_q, _)) if *old_q >= q => {}
                _ => *slot = Some((q, pos)),
            }
        }
    }
    let mut winner: Option<(Lang, u16, usize)> = None;
    for lang in Lang::ALL {
        let Some((q, pos)) = best[lang.index()].or(wildcard) else {
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
