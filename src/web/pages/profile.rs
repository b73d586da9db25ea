//! The profile page: personal details, each with where it came from and when.
//!
//! Form field names (`POST /account/profile`, with `csrf`): `given_name`, `family_name`,
//! `birthdate`, `street_address`, `postal_code`, `locality`, `country`, `phone_number`.

use askama::Template;

use super::{
    account::{account_nav, NavLink},
    finish, i18n, Chrome, FieldView, Lang, SiteConfig, SummaryItem,
};
use crate::accounts::details;

/// One detail as the page shows it.
#[derive(Clone, Debug, Default)]
pub struct ProfileFieldRow {
    /// The attribute name (`address.postal_code`), one of [`details::FIELDS`].
    pub name: &'static str,
    /// What the input holds.
    pub value: String,
    /// Where the value came from and when, in words ("aus dem Online-Ausweis, am 3.3.2025").
    pub provenance: Option<String>,
    /// The error for this field, in words.
    pub error: Option<String>,
}

/// A linked upstream identity.
#[derive(Clone, Debug, Default)]
pub struct IdentityRow {
    pub provider: String,
    pub linked: String,
}

/// `GET /account/profile`.
#[derive(Clone, Debug, Default)]
pub struct ProfilePage {
    pub lang: Lang,
    pub csrf: String,
    pub action: String,
    pub fields: Vec<ProfileFieldRow>,
    pub identities: Vec<IdentityRow>,
    pub saved: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfileView<'a> {
    chrome: Chrome<'a>,
    a: &'static i18n::AccountTexts,
    p: &'a ProfilePage,
    nav: Vec<NavLink>,
    summary: Vec<SummaryItem>,
    person: Vec<FieldView>,
    address: Vec<FieldView>,
    contact: Vec<FieldView>,
    identities: Vec<(String, String)>,
}

/// The form's field for an attribute: (id and name, label, type, autocomplete, format hint).
fn meta(
    a: &'static i18n::AccountTexts,
    name: &str,
) -> (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
) {
    match name {
        details::GIVEN_NAME => ("given_name", a.field_given_name, "text", "given-name", None),
        details::FAMILY_NAME => (
            "family_name",
            a.field_family_name,
            "text",
            "family-name",
            None,
        ),
        details::BIRTHDATE => (
            "birthdate",
            a.field_birthdate,
            "text",
            "bday",
            Some(a.field_birthdate_hint),
        ),
        details::STREET_ADDRESS => (
            "street_address",
            a.field_street_address,
            "text",
            "street-address",
            None,
        ),
        details::POSTAL_CODE => (
            "postal_code",
            a.field_postal_code,
            "text",
            "postal-code",
            None,
        ),
        details::LOCALITY => ("locality", a.field_locality, "text", "address-level2", None),
        details::COUNTRY => (
            "country",
            a.field_country,
            "text",
            "country",
            Some(a.field_country_hint),
        ),
        _ => (
            "phone_number",
            a.field_phone_number,
            "tel",
            "tel",
            Some(a.field_phone_hint),
        ),
    }
}

impl ProfilePage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let a = i18n::account_texts(lang);
        let mut summary = Vec::new();
        let (mut person, mut address, mut contact) = (Vec::new(), Vec::new(), Vec::new());
        for row in &self.fields {
            let (id, label, input_type, autocomplete, format_hint) = meta(a, row.name);
            // The provenance stands as a sentence of its own: capitalised.
            let provenance = row.provenance.as_deref().map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            });
            let hint = [format_hint.map(str::to_string), provenance]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(". ");
            if let Some(e) = &row.error {
                summary.push(SummaryItem {
                    href: Some(format!("#{id}")),
                    message: format!("{label}: {e}"),
                });
            }
            let mut f = FieldView::new(id, label, input_type, autocomplete)
                .value(&row.value)
                .optional();
            if !hint.is_empty() {
                f = f.hint(hint);
            }
            f = f.error(row.error.clone()).done();
            f.maxlength = 200;
            if input_type == "tel" {
                f.plain = true;
                f.inputmode = Some("tel");
            }
            match row.name {
                details::GIVEN_NAME | details::FAMILY_NAME | details::BIRTHDATE => person.push(f),
                details::PHONE_NUMBER => contact.push(f),
                _ => address.push(f),
            }
        }
        let view = ProfileView {
            chrome: Chrome::new(site, lang, a.profile_title, !summary.is_empty()),
            a,
            p: self,
            nav: account_nav(lang, "/account/profile"),
            summary,
            person,
            address,
            contact,
            identities: self
                .identities
                .iter()
                .map(|i| {
                    (
                        i.provider.clone(),
                        i18n::fill(a.identity_linked, "date", &i.linked),
                    )
                })
                .collect(),
        };
        finish(&view, lang)
    }
}
