//! The step-up page: why a higher level is needed and the means to reach it.

use askama::Template;

use super::{
    fill, finish, i18n,
    security::{code_error_text, code_field, CodeError},
    Chrome, FieldView, Lang, SiteConfig, SummaryItem,
};

/// Which step-up form an error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepUpError {
    Totp(CodeError),
    Recovery(CodeError),
}

/// `GET /stepup`: why a higher level is needed and the means the account has to reach it.
#[derive(Clone, Debug, Default)]
pub struct StepUpPage {
    pub lang: Lang,
    pub client_name: Option<String>,
    /// Pforte's name of the level needed (`substantial`) and of the session's level.
    pub level: String,
    pub current_level: String,
    /// Pending authorization request; empty when confirming for the account pages.
    pub req: String,
    pub csrf: String,
    pub totp: bool,
    pub recovery_left: i64,
    pub passkey: bool,
    pub error: Option<StepUpError>,
    /// Wrong attempts left for this request, shown with an error.
    pub attempts_left: Option<u32>,
    /// Where "cancel" leads when there is no request (account pages).
    pub cancel_url: String,
    /// Setting up an authenticator app right here: offered when the account has no second
    /// factor yet and its proofing allows the level asked for.
    pub enrol: Option<EnrolTotp>,
}

/// The step-up page's authenticator-app set-up (`POST /stepup/enrol-totp`, posts `req`,
/// `csrf`, `code`).
#[derive(Clone, Debug, Default)]
pub struct EnrolTotp {
    /// The login is recent enough to add a credential; otherwise `relogin_url` is offered.
    pub fresh: bool,
    pub relogin_url: String,
    pub email: String,
    pub secret: String,
    pub qr: Option<(String, usize)>,
    pub error: Option<CodeError>,
}

struct EnrolView<'a> {
    e: &'a EnrolTotp,
    manual_details: String,
    qr_box: String,
}

#[derive(Template)]
#[template(path = "stepup.html")]
struct StepUpView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    p: &'a StepUpPage,
    needed: String,
    current: String,
    decline_text: String,
    summary: Vec<SummaryItem>,
    totp_field: Option<FieldView>,
    recovery_field: Option<FieldView>,
    recovery_open: bool,
    a: &'static i18n::AccountTexts,
    enrol: Option<EnrolView<'a>>,
    enrol_field: Option<FieldView>,
}

impl StepUpPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let s = i18n::security_texts(lang);
        let level = i18n::level_name(lang, &self.level);
        let needed = match &self.client_name {
            _ if self.req.is_empty() => s.stepup_account.to_string(),
            Some(c) if !c.trim().is_empty() => {
                fill(&fill(s.stepup_needed_client, "client", c), "level", level)
            }
            _ => fill(s.stepup_needed, "level", level),
        };
        let current_name = i18n::level_name(lang, &self.current_level);
        let mut summary = Vec::new();
        let (mut totp_error, mut recovery_error) = (None, None);
        let attempts = self
            .attempts_left
            .map(|n| fill(s.attempts_left, "count", &n.to_string()));
        let with_attempts = |m: &str| match &attempts {
            Some(a) => format!("{m} {a}"),
            None => m.to_string(),
        };
        match self.error {
            Some(StepUpError::Totp(e)) => {
                let m = with_attempts(code_error_text(lang, e, false));
                summary.push(SummaryItem {
                    href: Some("#totp-code".into()),
                    message: m.clone(),
                });
                totp_error = Some(m);
            }
            Some(StepUpError::Recovery(e)) => {
                let m = with_attempts(code_error_text(lang, e, true));
                summary.push(SummaryItem {
                    href: Some("#recovery-code".into()),
                    message: m.clone(),
                });
                recovery_error = Some(m);
            }
            None => {}
        }
        let recovery_open = recovery_error.is_some();
        let mut enrol_field = None;
        let enrol = self.enrol.as_ref().map(|e| {
            let error = e
                .error
                .map(|err| code_error_text(lang, err, false).to_string());
            if let Some(m) = &error {
                summary.push(SummaryItem {
                    href: Some("#enrol-code".into()),
                    message: m.clone(),
                });
            }
            enrol_field = Some(code_field(
                "enrol-code",
                s.code_label,
                s.code_hint,
                true,
                error,
            ));
            EnrolView {
                e,
                manual_details: fill(s.totp_manual_details, "email", &e.email),
                qr_box: e
                    .qr
                    .as_ref()
                    .map(|(_, w)| format!("-4 -4 {} {}", w + 8, w + 8))
                    .unwrap_or_default(),
            }
        });
        let view = StepUpView {
            chrome: Chrome::new(site, lang, s.stepup_title, !summary.is_empty()),
            s,
            p: self,
            needed,
            current: fill(s.stepup_current, "level", current_name),
            decline_text: fill(s.stepup_decline_text, "level", current_name),
            summary,
            totp_field: self
                .totp
                .then(|| code_field("totp-code", s.code_label, s.code_hint, true, totp_error)),
            recovery_field: (self.recovery_left > 0).then(|| {
                code_field(
                    "recovery-code",
                    s.recovery_label,
                    s.recovery_hint,
                    false,
                    recovery_error,
                )
            }),
            recovery_open,
            a: i18n::account_texts(lang),
            enrol,
            enrol_field,
        };
        finish(&view, lang)
    }
}
