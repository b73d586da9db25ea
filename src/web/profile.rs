//! The profile page: the citizen's personal details with provenance.
//!
//! - `GET /account/profile` (`?saved=1` after saving) shows name, birth date, postal address
//!   and phone number, each with where it came from ("von Ihnen eingegeben", "aus dem
//!   Online-Ausweis", "von Servicekonto.NRW", "im Bürgerbüro geprüft") and when it was
//!   verified, and the linked upstream identities (read-only).
//! - `POST /account/profile` (CSRF) checks every field (`accounts::details::check`, each
//!   refusal shown at its field) and stores what changed as self-entered
//!   (`accounts::details::changes`, `Db::profile_save_self`); verified values are never
//!   overwritten: a different value is kept beside them as self-entered. Audited
//!   `account.profile_changed` with the names of the changed fields (no values).

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    account::{citizen, format_date},
    authorize::lang,
    csrf::{CsrfForm, HasCsrf},
    error::internal,
    i18n::{self, Lang},
    pages, session,
};
use crate::{
    accounts::details::{self, DetailError, DetailsInput},
    app::App,
    audit::{self, Actor, Entry, Event},
    store::accounts::{Account, Attribute},
};

#[derive(Deserialize, Default)]
pub struct ProfileQuery {
    pub saved: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    #[serde(default)]
    pub csrf: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthdate: Option<String>,
    pub street_address: Option<String>,
    pub postal_code: Option<String>,
    pub locality: Option<String>,
    pub country: Option<String>,
    pub phone_number: Option<String>,
}

impl HasCsrf for ProfileForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl ProfileForm {
    fn input(&self) -> DetailsInput {
        DetailsInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            birthdate: self.birthdate.clone(),
            street_address: self.street_address.clone(),
            postal_code: self.postal_code.clone(),
            locality: self.locality.clone(),
            country: self.country.clone(),
            phone_number: self.phone_number.clone(),
        }
    }

    /// What was typed into the field of attribute `name`.
    fn typed(&self, name: &str) -> String {
        let v = match name {
            details::GIVEN_NAME => &self.given_name,
            details::FAMILY_NAME => &self.family_name,
            details::BIRTHDATE => &self.birthdate,
            details::STREET_ADDRESS => &self.street_address,
            details::POSTAL_CODE => &self.postal_code,
            details::LOCALITY => &self.locality,
            details::COUNTRY => &self.country,
            _ => &self.phone_number,
        };
        v.clone().unwrap_or_default()
    }
}

/// A stored birth date (`YYYY-MM-DD`) as the form shows it (`23.04.1980`).
fn show_value(name: &str, v: &str) -> String {
    if name == details::BIRTHDATE {
        if let [y, m, d] = v.split('-').collect::<Vec<_>>()[..] {
            return format!("{d}.{m}.{y}");
        }
    }
    v.to_string()
}

/// "aus dem Online-Ausweis, am 3.3.2025" for a row.
async fn provenance(
    app: &App,
    lang: Lang,
    a: &Attribute,
) -> Result<String, crate::store::StoreError> {
    let t = i18n::account_texts(lang);
    let upstream = match a.source.strip_prefix("upstream:") {
        Some(id) => app.db.upstream_get(id).await?,
        None => None,
    };
    let source = match &upstream {
        // An eID service's data is "from the Online-Ausweis", whatever the service is called.
        Some(u) if u.profile == "eid" => i18n::source_label(lang, "eid", None),
        Some(u) => i18n::source_label(lang, &a.source, Some(&u.name)),
        None => i18n::source_label(lang, &a.source, None),
    };
    Ok(match a.verified_at {
        Some(at) => i18n::fill(
            &i18n::fill(t.provenance, "source", &source),
            "date",
            &format_date(lang, at),
        ),
        None => i18n::fill(t.provenance_undated, "source", &source),
    })
}

/// The page for `account`; `form` and `errors` after a refused submission.
async fn render(
    app: &App,
    s: &Session,
    lang: Lang,
    account: &Account,
    form: Option<&ProfileForm>,
    errors: &[DetailError],
    saved: bool,
) -> Response {
    let built = async {
        let attrs = app.db.account_attributes(&account.id).await?;
        let t = i18n::account_texts(lang);
        // What services get (the one rule: `accounts::profile::effective`).
        let effective = crate::accounts::profile::effective(&attrs);
        let mut fields = Vec::new();
        for name in details::FIELDS {
            let shown = effective.get(name).copied();
            let own = attrs
                .iter()
                .find(|a| a.name == name && a.source == crate::accounts::profile::SELF);
            let value = match form {
                Some(f) => f.typed(name),
                None => own
                    .or(shown)
                    .map(|a| show_value(name, &a.value))
                    .unwrap_or_default(),
            };
            let mut words = Vec::new();
            if let Some(own) = own {
                words.push(provenance(app, lang, own).await?);
            }
            if let Some(v) = shown.filter(|v| v.source != "self") {
                let p = provenance(app, lang, v).await?;
                if own.is_some_and(|o| o.value != v.value) {
                    words.push(i18n::fill(t.provenance_also_verified, "source", &p));
                } else {
                    words = vec![p];
                }
            }
            fields.push(pages::ProfileFieldRow {
                name,
                value,
                provenance: (!words.is_empty()).then(|| words.join(". ")),
                error: errors
                    .iter()
                    .find(|e| e.field == name)
                    .map(|e| i18n::detail_error_text(lang, e.reason.key()).to_string()),
            });
        }
        let identities = app
            .db
            .linked_identities(&account.id)
            .await?
            .into_iter()
            .map(|i| pages::IdentityRow {
                provider: i.provider,
                linked: format_date(lang, i.linked_at),
            })
            .collect();
        Ok::<_, crate::store::StoreError>((fields, identities))
    };
    let (fields, identities) = match built.await {
        Ok(x) => x,
        Err(e) => return internal(lang, e),
    };
    let csrf = match session::csrf_token(s).await {
        Ok(t) => t,
        Err(e) => return internal(lang, e),
    };
    let page = pages::ProfilePage {
        lang,
        csrf,
        action: "/account/profile".into(),
        fields,
        identities,
        saved,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, Html(page.render(&app.config.site))).into_response()
}

/// `GET /account/profile`.
pub async fn profile_page(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    Query(q): Query<ProfileQuery>,
) -> Response {
    let lang = lang(&headers, None);
    match citizen(&app, &s, lang).await {
        Ok((_, account)) => render(&app, &s, lang, &account, None, &[], q.saved.is_some()).await,
        Err(r) => r,
    }
}

/// `POST /account/profile`.
pub async fn profile_submit(
    State(app): State<App>,
    s: Session,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<ProfileForm>,
) -> Response {
    let lang = lang(&headers, None);
    let (_, account) = match citizen(&app, &s, lang).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let today = time::OffsetDateTime::from_unix_timestamp(app.clock.now())
        .map(|t| t.date())
        .unwrap_or(time::Date::MAX);
    let checked = match details::check(&f.input(), today) {
        Ok(c) => c,
        Err(errors) => return render(&app, &s, lang, &account, Some(&f), &errors, false).await,
    };
    let attrs = match app.db.account_attributes(&account.id).await {
        Ok(a) => a,
        Err(e) => return internal(lang, e),
    };
    let changes = details::changes(&checked, &attrs);
    if !changes.is_empty() {
        if let Err(e) = app.db.profile_save_self(&account.id, &changes).await {
            return internal(lang, e);
        }
        let names: Vec<&str> = changes.iter().map(|(n, _)| *n).collect();
        audit::record_or_log(
            &app.db,
            Entry::new(Event::ProfileChanged, Actor::Account(account.id.clone()))
                .subject(&account.id)
                .with("fields", names),
        )
        .await;
    }
    Redirect::to("/account/profile?saved=1").into_response()
}
