//! The account's activity list, the page to download or delete the data, and the page after
//! the deletion.

use askama::Template;

use super::{
    account::{account_nav, claims_text, NavLink},
    finish, i18n, Chrome, FieldView, Lang, SiteConfig, SummaryItem,
};

/// One login or step-up.
#[derive(Clone, Debug, Default)]
pub struct LoginRow {
    /// Formatted date and time.
    pub when: (String, String),
    /// The methods used, in order (a step-up adds one).
    pub methods: Vec<crate::assurance::level::Method>,
    /// Pforte's level name reached.
    pub level: String,
    /// Browser and system in plain words, if known.
    pub device: Option<String>,
}

/// One kind of data passed to a service.
#[derive(Clone, Debug, Default)]
pub struct ReleaseRow {
    pub when: (String, String),
    pub client_name: String,
    pub claims: Vec<String>,
    pub level: String,
    pub count: i64,
}

/// `GET /account/activity`.
#[derive(Clone, Debug, Default)]
pub struct ActivityPage {
    pub lang: Lang,
    pub logins: Vec<LoginRow>,
    pub releases: Vec<ReleaseRow>,
}

struct LoginView {
    when: String,
    how: String,
    level: &'static str,
    device: String,
}

struct ReleaseView {
    when: String,
    client: String,
    data: String,
    level: &'static str,
    count: i64,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityView<'a> {
    chrome: Chrome<'a>,
    a: &'static i18n::AccountTexts,
    nav: Vec<NavLink>,
    logins: Vec<LoginView>,
    releases: Vec<ReleaseView>,
}

fn when(w: &(String, String)) -> String {
    format!("{}, {}", w.0, w.1)
}

impl ActivityPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let a = i18n::account_texts(lang);
        let logins = self
            .logins
            .iter()
            .map(|l| LoginView {
                when: when(&l.when),
                how: format!(
                    "{} {}",
                    a.event_login,
                    l.methods
                        .iter()
                        .map(|m| i18n::method_label(lang, *m))
                        .collect::<Vec<_>>()
                        .join(&format!(" {} ", a.and))
                ),
                level: i18n::level_name(lang, &l.level),
                device: l
                    .device
                    .clone()
                    .unwrap_or_else(|| a.device_unknown.to_string()),
            })
            .collect();
        let releases = self
            .releases
            .iter()
            .map(|r| ReleaseView {
                when: when(&r.when),
                client: r.client_name.clone(),
                data: claims_text(lang, &r.claims),
                level: i18n::level_name(lang, &r.level),
                count: r.count,
            })
            .collect();
        let view = ActivityView {
            chrome: Chrome::new(site, lang, a.activity_title, false),
            a,
            nav: account_nav(lang, "/account/activity"),
            logins,
            releases,
        };
        finish(&view, lang)
    }
}

/// What was wrong with a submitted export or deletion form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmError {
    PasswordMissing,
    PasswordWrong,
    /// The deletion's "yes, delete" box was not ticked.
    NotConfirmed,
}

/// Which form an error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataForm {
    Export,
    Delete,
}

/// `GET /account/data`: download the data, delete the account.
#[derive(Clone, Debug, Default)]
pub struct DataPage {
    pub lang: Lang,
    pub csrf: String,
    /// The login is fresh enough: no password needed.
    pub fresh: bool,
    pub export_action: String,
    pub delete_action: String,
    pub error: Option<(DataForm, ConfirmError)>,
}

#[derive(Template)]
#[template(path = "data.html")]
struct DataView<'a> {
    chrome: Chrome<'a>,
    a: &'static i18n::AccountTexts,
    p: &'a DataPage,
    nav: Vec<NavLink>,
    summary: Vec<SummaryItem>,
    export_password: Option<FieldView>,
    delete_password: Option<FieldView>,
    confirm_error: Option<&'static str>,
}

fn password_field(
    id: &'static str,
    a: &'static i18n::AccountTexts,
    error: Option<&'static str>,
) -> FieldView {
    let mut f = FieldView::new(id, a.confirm_password_label, "password", "current-password")
        .hint(a.confirm_password_hint)
        .error(error.map(str::to_string))
        .done();
    f.name = "password";
    f
}

impl DataPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let a = i18n::account_texts(lang);
        let mut summary = Vec::new();
        let password_error = |form: DataForm| match self.error {
            Some((f, ConfirmError::PasswordMissing)) if f == form => {
                Some(a.confirm_password_missing)
            }
            Some((f, ConfirmError::PasswordWrong)) if f == form => Some(a.confirm_password_wrong),
            _ => None,
        };
        for (form, id) in [
            (DataForm::Export, "export-password"),
            (DataForm::Delete, "delete-password"),
        ] {
            if let Some(m) = password_error(form) {
                summary.push(SummaryItem {
                    href: Some(format!("#{id}")),
                    message: m.to_string(),
                });
            }
        }
        let confirm_error = (self.error == Some((DataForm::Delete, ConfirmError::NotConfirmed)))
            .then_some(a.delete_confirm_missing);
        if let Some(m) = confirm_error {
            summary.push(SummaryItem {
                href: Some("#delete-confirm".into()),
                message: m.to_string(),
            });
        }
        let view = DataView {
            chrome: Chrome::new(site, lang, a.data_title, !summary.is_empty()),
            a,
            p: self,
            nav: account_nav(lang, "/account/data"),
            summary,
            export_password: (!self.fresh)
                .then(|| password_field("export-password", a, password_error(DataForm::Export))),
            delete_password: (!self.fresh)
                .then(|| password_field("delete-password", a, password_error(DataForm::Delete))),
            confirm_error,
        };
        finish(&view, lang)
    }
}

/// After the deletion.
#[derive(Clone, Debug, Default)]
pub struct DeletedPage {
    pub lang: Lang,
}

#[derive(Template)]
#[template(path = "deleted.html")]
struct DeletedView<'a> {
    chrome: Chrome<'a>,
    a: &'static i18n::AccountTexts,
}

impl DeletedPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let a = i18n::account_texts(self.lang);
        let view = DeletedView {
            chrome: Chrome::new(site, self.lang, a.deleted_title, false),
            a,
        };
        finish(&view, self.lang)
    }
}
