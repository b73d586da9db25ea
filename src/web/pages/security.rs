//! The account security pages: second factors, TOTP set-up, new recovery codes.

use askama::Template;

use super::{fill, finish, i18n, Chrome, FieldView, Lang, SiteConfig, SummaryItem};

// ---------------------------------------------------------------------------------------
// Account security (second factors, recovery codes) and step-up
//
// Form fields: every form posts `csrf`; the step-up forms also `req` (empty when confirming
// for the account pages); the TOTP set-up and both step-up code forms post `code`.
// ---------------------------------------------------------------------------------------

/// Why a code was not accepted (TOTP or recovery code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeError {
    Missing,
    /// Not six digits (TOTP) / not ten characters of the alphabet (recovery code).
    Malformed,
    Wrong,
    /// A right TOTP code that was already used.
    Replayed,
}

/// One second factor on the security page.
#[derive(Clone, Debug, Default)]
pub struct CredentialRow {
    /// `totp`, `passkey` (anything else is shown as-is).
    pub kind: String,
    pub label: String,
    /// Already formatted dates.
    pub created: String,
    pub last_used: Option<String>,
    /// POST URL removing this credential (form posts `csrf`).
    pub remove_action: String,
}

/// A confirmation shown at the top of the security page after a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityNotice {
    TotpAdded,
    Removed,
}

/// `GET /account/security`.
#[derive(Clone, Debug, Default)]
pub struct SecurityPage {
    pub lang: Lang,
    pub csrf: String,
    pub credentials: Vec<CredentialRow>,
    pub recovery_left: i64,
    /// Set when changes need a confirmation with the second factor first: the link to it.
    /// Management forms are then not shown.
    pub confirm_url: Option<String>,
    pub notice: Option<SecurityNotice>,
    pub totp_url: String,
    /// POST URL creating a new set of recovery codes.
    pub recovery_action: String,
    pub account_url: String,
}

/// `GET /account/security/totp`: a fresh secret as QR code and text, and the first code.
#[derive(Clone, Debug, Default)]
pub struct TotpSetupPage {
    pub lang: Lang,
    pub csrf: String,
    pub action: String,
    pub email: String,
    /// The secret for manual entry (base32 in groups).
    pub secret: String,
    /// QR code as SVG path data and its width in modules ([`crate::accounts::totp::qr_path`]).
    pub qr: Option<(String, usize)>,
    pub error: Option<CodeError>,
    pub cancel_url: String,
}

/// New recovery codes, shown once.
#[derive(Clone, Debug, Default)]
pub struct RecoveryCodesPage {
    pub lang: Lang,
    pub codes: Vec<String>,
    /// The codes come with a just-confirmed authenticator app.
    pub totp_added: bool,
    pub continue_url: String,
}

struct CredentialRowView<'a> {
    row: &'a CredentialRow,
    kind: String,
    remove_for: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a SecurityPage,
    notice: Option<&'static str>,
    credentials: Vec<CredentialRowView<'a>>,
    recovery_line: String,
    /// Password and e-mail change links (`web::recovery`).
    r: &'static i18n::RecoveryTexts,
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct TotpSetupView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a TotpSetupPage,
    summary: Vec<SummaryItem>,
    field: Option<FieldView>,
    manual_details: String,
    /// viewBox with a quiet zone of four modules.
    qr_box: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a RecoveryCodesPage,
}

pub(super) fn code_error_text(lang: Lang, e: CodeError, recovery: bool) -> &'static str {
    let s = i18n::security_texts(lang);
    match (e, recovery) {
        (CodeError::Missing, false) => s.code_missing,
        (CodeError::Malformed, false) => s.code_malformed,
        (CodeError::Wrong, false) => s.code_wrong,
        (CodeError::Replayed, false) => s.code_replayed,
        (CodeError::Missing, true) => s.recovery_missing,
        (_, true) => s.recovery_wrong,
    }
}

/// A one-time code input: `id` unique on the page, posted as `code`.
pub(super) fn code_field(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    numeric: bool,
    error: Option<String>,
) -> FieldView {
    let mut f = FieldView::new(id, label, "text", "one-time-code")
        .hint(hint)
        .error(error);
    f.name = "code";
    f.plain = true;
    f.maxlength = 32;
    if numeric {
        f.inputmode = Some("numeric");
    }
    f.done()
}

impl SecurityPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let s = i18n::security_texts(lang);
        let credentials = self
            .credentials
            .iter()
            .map(|row| {
                let kind = match row.kind.as_str() {
                    "totp" => s.kind_totp.to_string(),
                    "passkey" => s.kind_passkey.to_string(),
                    other => other.to_string(),
                };
                let label = if row.label.trim().is_empty() {
                    format!("{kind}, {}", row.created)
                } else {
                    row.label.clone()
                };
                CredentialRowView {
                    row,
                    kind,
                    remove_for: fill(s.remove_for, "label", &label),
                }
            })
            .collect();
        let recovery_line = if self.recovery_left > 0 {
            fill(s.recovery_left, "count", &self.recovery_left.to_string())
        } else {
            s.recovery_none.to_string()
        };
        let view = SecurityView {
            chrome: Chrome::new(site, lang, s.security_title, false),
            s,
            p: self,
            notice: self.notice.map(|n| match n {
                SecurityNotice::TotpAdded => s.notice_totp_added,
                SecurityNotice::Removed => s.notice_removed,
            }),
            credentials,
            recovery_line,
            r: self.lang.catalog().recovery,
        };
        finish(&view, lang)
    }
}

impl TotpSetupPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let s = i18n::security_texts(lang);
        let error = self
            .error
            .map(|e| code_error_text(lang, e, false).to_string());
        let summary = error
            .iter()
            .map(|m| SummaryItem {
                href: Some("#totp-code".into()),
                message: m.clone(),
            })
            .collect::<Vec<_>>();
        let field = code_field("totp-code", s.code_label, s.code_hint, true, error);
        let qr_box = self
            .qr
            .as_ref()
            .map(|(_, w)| format!("-4 -4 {} {}", w + 8, w + 8))
            .unwrap_or_default();
        let view = TotpSetupView {
            chrome: Chrome::new(site, lang, s.totp_setup_title, !summary.is_empty()),
            s,
            p: self,
            summary,
            field: Some(field),
            manual_details: fill(s.totp_manual_details, "email", &self.email),
            qr_box,
        };
        finish(&view, lang)
    }
}

impl RecoveryCodesPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let s = i18n::security_texts(self.lang);
        let view = RecoveryCodesView {
            chrome: Chrome::new(site, self.lang, s.recovery_title, false),
            s,
            p: self,
        };
        finish(&view, self.lang)
    }
}
