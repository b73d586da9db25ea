//! The pages of account recovery and of changing the password and the e-mail address
//! (`web::recovery`): one form layout and one notice layout, filled with the texts of
//! `i18n::RecoveryTexts` by the handler.

use askama::Template;

use super::{
    finish,
    register::{error_summary, field_message},
    Chrome, FieldView, Lang, SiteConfig, SummaryItem,
};

/// One input of a [`FormPage`].
#[derive(Clone, Debug)]
pub struct FormField {
    /// `id` and `name`.
    pub id: &'static str,
    pub label: &'static str,
    /// `email` or `password`.
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub value: String,
    pub hint: Option<String>,
    pub minlength: Option<u32>,
}

impl FormField {
    pub fn new(
        id: &'static str,
        label: &'static str,
        kind: &'static str,
        autocomplete: &'static str,
    ) -> FormField {
        FormField {
            id,
            label,
            kind,
            autocomplete,
            value: String::new(),
            hint: None,
            minlength: None,
        }
    }
}

/// A form: heading, lead text, fields, the submit button and secondary links.
#[derive(Clone, Debug, Default)]
pub struct FormPage {
    pub lang: Lang,
    pub title: String,
    pub intro: String,
    pub action: String,
    pub csrf: String,
    /// Hidden fields besides `csrf` (`token`).
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<FormField>,
    pub submit: String,
    /// `(field id, key or text)`: a key of `i18n::field_error_text` or a text shown as-is;
    /// a field id not among `fields` is a form-level error.
    pub errors: Vec<(String, String)>,
    /// `(href, label)` shown as secondary buttons.
    pub links: Vec<(String, String)>,
    /// Fills `{min}` in the password messages.
    pub min_password_len: u32,
}

/// A result page: heading (with a mail or success icon), text, hint, links.
#[derive(Clone, Debug, Default)]
pub struct NoticePage {
    pub lang: Lang,
    pub title: String,
    pub text: String,
    pub hint: Option<String>,
    /// `(href, label)`; the first is the main button.
    pub links: Vec<(String, String)>,
    pub success: bool,
    /// "Check your mail" (envelope icon).
    pub mail: bool,
}

#[derive(Template)]
#[template(path = "recovery_form.html")]
struct FormView<'a> {
    chrome: Chrome<'a>,
    p: &'a FormPage,
    summary: Vec<SummaryItem>,
    fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "recovery_notice.html")]
struct NoticeView<'a> {
    chrome: Chrome<'a>,
    p: &'a NoticePage,
}

impl FormPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let min = self.min_password_len.max(1);
        let message = |f: &str, m: &str| field_message(lang, min, f, m);
        let ids: Vec<&str> = self.fields.iter().map(|f| f.id).collect();
        let summary = error_summary(&self.errors, &ids, message);
        let fields = self
            .fields
            .iter()
            .map(|f| {
                let error = self
                    .errors
                    .iter()
                    .find(|(id, _)| id == f.id)
                    .map(|(id, m)| message(id, m));
                let mut v = FieldView::new(f.id, f.label, f.kind, f.autocomplete).value(&f.value);
                if let Some(h) = &f.hint {
                    v = v.hint(h.clone());
                }
                if let Some(n) = f.minlength {
                    v = v.minlength(n);
                }
                v.error(error).done()
            })
            .collect();
        let view = FormView {
            chrome: Chrome::new(site, lang, &self.title, !summary.is_empty()),
            p: self,
            summary,
            fields,
        };
        finish(&view, lang)
    }
}

impl NoticePage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let view = NoticeView {
            chrome: Chrome::new(site, self.lang, &self.title, false),
            p: self,
        };
        finish(&view, self.lang)
    }
}
