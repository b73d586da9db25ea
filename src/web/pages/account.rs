//! The citizen's account overview (the data cockpit): who they are, which services have
//! which data, the signed-in devices, and the way to the other account pages.

use askama::Template;

use super::{fill, finish, i18n, Chrome, Lang, SiteConfig};

/// One service that uses the account: what the citizen allowed and what it received.
#[derive(Clone, Debug, Default)]
pub struct ServiceRow {
    pub client_name: String,
    /// Scopes consented to; `None` for a first-party service (no consent asked) or a
    /// withdrawn one.
    pub scopes: Option<Vec<String>>,
    /// The citizen withdrew this service's consent (it is listed for what it received); there
    /// is nothing left to withdraw.
    pub withdrawn: bool,
    /// Claim names received, each once.
    pub received: Vec<String>,
    /// When last and at which level (Pforte's level name), already formatted date.
    pub last: Option<(String, String)>,
    /// POST URL withdrawing this service (form posts `csrf`).
    pub revoke_action: String,
}

/// One signed-in device (an SSO session).
#[derive(Clone, Debug, Default)]
pub struct SessionRow {
    /// Browser and system in plain words.
    pub device: String,
    /// Formatted date and time of the login.
    pub since: (String, String),
    pub last_seen: (String, String),
    /// The session of this browser.
    pub current: bool,
}

/// What the overview confirms at the top after an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountNotice {
    Revoked(String),
    SessionsEnded(usize),
}

/// The citizen's account overview.
#[derive(Clone, Debug, Default)]
pub struct AccountPage {
    pub lang: Lang,
    pub display_name: String,
    pub email: String,
    /// The assurance level in words (see [`i18n::level_label`]).
    pub level_label: String,
    pub csrf: String,
    pub logout_action: String,
    pub services: Vec<ServiceRow>,
    /// Signed-in devices; `None` while the session registry is not available.
    pub sessions: Option<Vec<SessionRow>>,
    pub sessions_end_action: String,
    pub notice: Option<AccountNotice>,
}

struct ServiceView<'a> {
    row: &'a ServiceRow,
    allowed: String,
    received: String,
    last: Option<String>,
    revoke_for: String,
}

struct SessionView<'a> {
    row: &'a SessionRow,
    since: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountView<'a> {
    chrome: Chrome<'a>,
    s: &'static i18n::SecurityTexts,
    a: &'static i18n::AccountTexts,
    p: &'a AccountPage,
    nav: Vec<NavLink>,
    services: Vec<ServiceView<'a>>,
    /// Some service can still be withdrawn (the hint its buttons point to is shown).
    revocable: bool,
    sessions: Option<Vec<SessionView<'a>>>,
    others: usize,
    notice: Option<String>,
    f: &'static i18n::FederationTexts,
}

/// A link of the account pages' navigation; `current` marks the page shown.
pub(super) struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The account pages' navigation with `current` (a path) marked.
pub(super) fn account_nav(lang: Lang, current: &str) -> Vec<NavLink> {
    let a = i18n::account_texts(lang);
    [
        ("/account", a.nav_overview),
        ("/account/profile", a.nav_profile),
        ("/account/security", a.nav_security),
        ("/account/activity", a.nav_activity),
        ("/account/data", a.nav_data),
    ]
    .into_iter()
    .map(|(href, label)| NavLink {
        href,
        label,
        current: href == current,
    })
    .collect()
}

/// Claim names in plain words, joined.
pub(super) fn claims_text(lang: Lang, claims: &[String]) -> String {
    claims
        .iter()
        .map(|c| i18n::claim_label(lang, c))
        .collect::<Vec<_>>()
        .join(", ")
}

impl AccountPage {
    pub fn render(&self, site: &SiteConfig) -> String {
        let lang = self.lang;
        let t = lang.texts();
        let a = i18n::account_texts(lang);
        let services = self
            .services
            .iter()
            .map(|row| ServiceView {
                row,
                allowed: match &row.scopes {
                    None if row.withdrawn => a.service_withdrawn.to_string(),
                    Some(scopes) => scopes
                        .iter()
                        .flat_map(|s| s.split_whitespace())
                        .map(|s| i18n::scope_label(lang, s))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => a.service_consent_none.to_string(),
                },
                received: if row.received.is_empty() {
                    a.service_received_none.to_string()
                } else {
                    claims_text(lang, &row.received)
                },
                last: row.last.as_ref().map(|(date, level)| {
                    fill(
                        &fill(a.service_last_value, "date", date),
                        "level",
                        i18n::level_name(lang, level),
                    )
                }),
                revoke_for: fill(a.service_revoke_for, "client", &row.client_name),
            })
            .collect();
        let sessions = self.sessions.as_ref().map(|rows| {
            rows.iter()
                .map(|row| SessionView {
                    row,
                    since: fill(
                        &fill(a.session_since, "date", &row.since.0),
                        "time",
                        &row.since.1,
                    ),
                    last_seen: fill(
                        &fill(a.session_last_seen, "date", &row.last_seen.0),
                        "time",
                        &row.last_seen.1,
                    ),
                })
                .collect()
        });
        let others = self
            .sessions
            .as_ref()
            .map_or(0, |s| s.iter().filter(|r| !r.current).count());
        let notice = self.notice.as_ref().map(|n| match n {
            AccountNotice::Revoked(client) => fill(a.notice_revoked, "client", client),
            AccountNotice::SessionsEnded(n) => {
                fill(a.notice_sessions_ended, "count", &n.to_string())
            }
        });
        let view = AccountView {
            chrome: Chrome::new(site, lang, t.account_title, false),
            s: i18n::security_texts(lang),
            a,
            p: self,
            nav: account_nav(lang, "/account"),
            revocable: self.services.iter().any(|s| !s.withdrawn),
            services,
            sessions,
            others,
            notice,
            f: i18n::federation_texts(lang),
        };
        finish(&view, lang)
    }
}
