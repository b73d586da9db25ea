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

/// All fixed page copy of one language.
///
/// Placeholders: `{client}` (a service's display name), `{email}`, `{scope}`, `{min}` (a
/// configured minimum length).
#[derive(Debug)]
pub struct Texts {
    // --- layout ---
    pub product: &'static str,
    pub subtitle: &'static str,
    pub skip_link: &'static str,
    pub lang_nav_label: &'static str,
    pub footer_nav_label: &'static str,
    pub footer_imprint: &'static str,
    pub footer_privacy: &'static str,
    pub footer_accessibility: &'static str,
    /// Prefix for the `<title>` of a page showing form errors, and for screen readers before
    /// each field error.
    pub error_prefix: &'static str,
    pub error_summary_title: &'static str,

    // --- login ---
    pub login_title: &'static str,
    pub login_intro: &'static str,
    /// `{client}`
    pub login_intro_client: &'static str,
    pub email_label: &'static str,
    pub password_label: &'static str,
    pub login_submit: &'static str,
    /// The one wording for unknown account, wrong password and disabled account alike.
    pub login_failed: &'static str,
    pub session_expired: &'static str,
    pub missing_email: &'static str,
    pub missing_password: &'static str,
    pub login_no_account: &'static str,
    pub login_register_link: &'static str,

    // --- consent ---
    pub consent_title: &'static str,
    /// `{client}`
    pub consent_lead: &'static str,
    pub consent_intro: &'static str,
    /// `{scope}`
    pub consent_unknown_scope: &'static str,
    pub consent_unknown_scope_description: &'static str,
    pub consent_allow: &'static str,
    pub consent_deny: &'static str,
    pub consent_deny_note: &'static str,
    pub consent_remember: &'static str,

    // --- error page ---
    pub error_what_now: &'static str,
    pub error_advice: &'static str,
    pub error_support_heading: &'static str,
    pub error_support_intro: &'static str,
    pub error_code_label: &'static str,
    pub error_status_label: &'static str,
    pub error_description_label: &'static str,

    // --- form_post ---
    pub formpost_title: &'static str,
    pub formpost_text: &'static str,
    pub formpost_noscript: &'static str,
    pub formpost_button: &'static str,

    // --- logout ---
    pub logout_title: &'static str,
    pub logout_heading: &'static str,
    /// `{client}`
    pub logout_client: &'static str,
    pub logout_text: &'static str,
    pub logout_stay: &'static str,
    pub logout_submit: &'static str,
    pub logged_out_title: &'static str,
    pub logged_out_text: &'static str,
    pub logged_out_hint: &'static str,
    pub logged_out_again: &'static str,

    // --- account ---
    pub account_title: &'static str,
    pub account_profile_heading: &'static str,
    pub account_name_label: &'static str,
    pub account_email_label: &'static str,
    pub account_level_label: &'static str,
    pub account_level_hint: &'static str,
    pub account_consents_heading: &'static str,
    pub account_consents_intro: &'static str,
    pub account_consents_none: &'static str,
    pub account_granted_at: &'static str,
    pub account_data_label: &'static str,
    pub account_revoke: &'static str,
    /// Visually hidden continuation of the revoke button for screen readers: `{client}`.
    pub account_revoke_for: &'static str,
    pub account_logout_heading: &'static str,
    pub account_logout: &'static str,

    // --- registration ---
    pub register_title: &'static str,
    /// Says which fields are required; the optional ones carry [`Texts::optional_marker`].
    pub register_intro: &'static str,
    /// Appended to the label of an optional form field.
    pub optional_marker: &'static str,
    pub register_email_hint: &'static str,
    pub given_name_label: &'static str,
    pub family_name_label: &'static str,
    pub new_password_label: &'static str,
    /// `{min}`: the configured minimum password length.
    pub password_hint: &'static str,
    pub register_submit: &'static str,
    pub register_have_account: &'static str,
    pub register_login_link: &'static str,
    pub register_done_title: &'static str,
    /// `{email}`
    pub register_done_text: &'static str,
    /// `{client}`: the login at a service that led to the registration can go on.
    pub register_continue_client: &'static str,
    /// The same without a known service name.
    pub register_continue_generic: &'static str,
    pub register_continue_link: &'static str,
    pub register_done_hint: &'static str,
    pub register_verified_title: &'static str,
    pub register_verified_text: &'static str,
    pub register_verified_link: &'static str,
    /// `{client}`
    pub register_verified_continue_client: &'static str,
    pub register_verified_continue_generic: &'static str,
    pub register_resend_title: &'static str,
    pub register_resend_intro: &'static str,
    pub register_resend_submit: &'static str,
    pub register_resent_title: &'static str,
    /// `{email}`; the same wording whether or not anything was sent.
    pub register_resent_text: &'static str,
    pub register_resent_hint: &'static str,

    // --- fallback ---
    pub fallback_title: &'static str,
    pub fallback_text: &'static str,
}

pub static DE: Texts = Texts {
    product: "Pforte",
    subtitle: "Servicekonto Ihrer Kommune",
    skip_link: "Zum Inhalt springen",
    lang_nav_label: "Sprache wählen",
    footer_nav_label: "Rechtliche Hinweise",
    footer_imprint: "Impressum",
    footer_privacy: "Datenschutz",
    footer_accessibility: "Barrierefreiheit",
    error_prefix: "Fehler:",
    error_summary_title: "Bitte prüfen Sie Ihre Angaben",

    login_title: "Anmelden",
    login_intro: "Melden Sie sich mit Ihrem Servicekonto an.",
    login_intro_client: "Melden Sie sich mit Ihrem Servicekonto an, um „{client}“ zu nutzen.",
    email_label: "E-Mail-Adresse",
    password_label: "Passwort",
    login_submit: "Anmelden",
    login_failed: "E-Mail-Adresse oder Passwort ist falsch.",
    session_expired: "Die Sitzung ist abgelaufen, bitte erneut versuchen.",
    missing_email: "Bitte geben Sie Ihre E-Mail-Adresse ein.",
    missing_password: "Bitte geben Sie Ihr Passwort ein.",
    login_no_account: "Noch kein Konto?",
    login_register_link: "Registrieren",

    consent_title: "Zustimmung zur Datenweitergabe",
    consent_lead: "„{client}“ möchte Daten aus Ihrem Servicekonto erhalten.",
    consent_intro: "Wenn Sie zustimmen, erhält dieser Dienst folgende Angaben:",
    consent_unknown_scope: "Weitere Berechtigung „{scope}“",
    consent_unknown_scope_description: "Eine zusätzliche Berechtigung, die der Dienst festgelegt hat.",
    consent_allow: "Zulassen",
    consent_deny: "Ablehnen",
    consent_deny_note: "Wenn Sie ablehnen, erhält der Dienst keine Daten und Sie werden nicht angemeldet.",
    consent_remember: "Ihre Entscheidung wird gespeichert. Sie können eine Zustimmung jederzeit in Ihrem Konto widerrufen.",

    error_what_now: "Was können Sie tun?",
    error_advice: "Kehren Sie zur Seite des Online-Dienstes zurück, den Sie nutzen wollten, und starten Sie die Anmeldung dort erneut. Besteht das Problem weiterhin, wenden Sie sich bitte an die Stelle, die diesen Dienst anbietet.",
    error_support_heading: "Angaben für den Support",
    error_support_intro: "Wenn Sie Hilfe anfragen, nennen Sie bitte diese Angaben:",
    error_code_label: "Fehlercode",
    error_status_label: "HTTP-Status",
    error_description_label: "Beschreibung",

    formpost_title: "Weiterleitung",
    formpost_text: "Sie werden jetzt zum Online-Dienst zurückgeleitet …",
    formpost_noscript: "JavaScript ist in Ihrem Browser ausgeschaltet. Bitte wählen Sie „Weiter“, um zum Online-Dienst zurückzukehren.",
    formpost_button: "Weiter",

    logout_title: "Abmelden",
    logout_heading: "Möchten Sie sich abmelden?",
    logout_client: "Der Online-Dienst „{client}“ möchte Sie abmelden.",
    logout_text: "Sie werden von Ihrem Servicekonto abgemeldet.",
    logout_stay: "Wenn Sie angemeldet bleiben möchten, schließen Sie diese Seite einfach.",
    logout_submit: "Abmelden",
    logged_out_title: "Sie sind abgemeldet",
    logged_out_text: "Sie haben sich von Ihrem Servicekonto abgemeldet.",
    logged_out_hint: "Wenn Sie ein Gerät gemeinsam mit anderen nutzen, schließen Sie bitte alle Fenster Ihres Browsers.",
    logged_out_again: "Erneut anmelden",

    account_title: "Mein Servicekonto",
    account_profile_heading: "Ihre Angaben",
    account_name_label: "Name",
    account_email_label: "E-Mail-Adresse",
    account_level_label: "Vertrauensniveau",
    account_level_hint: "Das Vertrauensniveau gibt an, wie sicher festgestellt wurde, dass Sie es sind.",
    account_consents_heading: "Dienste mit Zugriff auf Ihre Daten",
    account_consents_intro: "Diesen Online-Diensten haben Sie erlaubt, Daten aus Ihrem Servicekonto zu erhalten.",
    account_consents_none: "Sie haben noch keinem Online-Dienst Zugriff auf Ihre Daten gegeben.",
    account_granted_at: "Zugestimmt am",
    account_data_label: "Daten",
    account_revoke: "Zugriff entziehen",
    account_revoke_for: "für „{client}“",
    account_logout_heading: "Abmelden",
    account_logout: "Abmelden",

    register_title: "Servicekonto erstellen",
    register_intro: "Mit einem Servicekonto nutzen Sie die Online-Dienste Ihrer Kommune. Nötig sind nur Ihre E-Mail-Adresse und ein Passwort; Ihren Namen können Sie freiwillig angeben.",
    optional_marker: "(optional)",
    register_email_hint: "Wir schicken Ihnen einen Link, um die Adresse zu bestätigen.",
    given_name_label: "Vorname",
    family_name_label: "Familienname",
    new_password_label: "Passwort",
    password_hint: "Mindestens {min} Zeichen. Ein Satz aus mehreren Wörtern ist leicht zu merken und sicher.",
    register_submit: "Konto erstellen",
    register_have_account: "Sie haben schon ein Konto?",
    register_login_link: "Anmelden",
    register_done_title: "E-Mail-Adresse bestätigen",
    register_done_text: "Wir haben Ihnen eine E-Mail an {email} geschickt. Bitte öffnen Sie den Link in dieser E-Mail, um Ihre Adresse zu bestätigen.",
    register_continue_client: "Sie können die Anmeldung bei „{client}“ jetzt fortsetzen. Bitte bestätigen Sie Ihre E-Mail-Adresse trotzdem über den Link in der E-Mail.",
    register_continue_generic: "Sie können die begonnene Anmeldung jetzt fortsetzen. Bitte bestätigen Sie Ihre E-Mail-Adresse trotzdem über den Link in der E-Mail.",
    register_continue_link: "Zurück zur Anmeldung",
    register_done_hint: "Keine E-Mail erhalten? Prüfen Sie bitte auch Ihren Spam-Ordner. Sie können sich auch einen neuen Link schicken lassen.",
    register_verified_title: "E-Mail-Adresse bestätigt",
    register_verified_text: "Vielen Dank. Ihre E-Mail-Adresse ist jetzt bestätigt und Ihr Servicekonto ist bereit.",
    register_verified_link: "Zu Ihrem Servicekonto",
    register_verified_continue_client: "Weiter zur Anmeldung bei „{client}“",
    register_verified_continue_generic: "Weiter zur Anmeldung",
    register_resend_title: "Neuen Bestätigungslink anfordern",
    register_resend_intro: "Geben Sie die E-Mail-Adresse Ihres Servicekontos ein. Ist sie noch nicht bestätigt, schicken wir Ihnen einen neuen Link.",
    register_resend_submit: "Neuen Link senden",
    register_resent_title: "Bitte prüfen Sie Ihr Postfach",
    register_resent_text: "Wenn es für {email} ein Servicekonto gibt, dessen Adresse noch nicht bestätigt ist, haben wir dorthin einen neuen Bestätigungslink geschickt. Er ist 24 Stunden gültig.",
    register_resent_hint: "Ist Ihre Adresse schon bestätigt, können Sie sich einfach anmelden. Einen weiteren Link können Sie nach 15 Minuten anfordern.",

    fallback_title: "Ein Fehler ist aufgetreten",
    fallback_text: "Die Seite konnte nicht angezeigt werden. Bitte versuchen Sie es später erneut.",
};

pub static EN: Texts = Texts {
    product: "Pforte",
    subtitle: "Your municipality’s citizen account",
    skip_link: "Skip to main content",
    lang_nav_label: "Choose language",
    footer_nav_label: "Legal information",
    footer_imprint: "Legal notice",
    footer_privacy: "Privacy",
    footer_accessibility: "Accessibility",
    error_prefix: "Error:",
    error_summary_title: "Please check your entries",

    login_title: "Sign in",
    login_intro: "Sign in with your citizen account.",
    login_intro_client: "Sign in with your citizen account to use “{client}”.",
    email_label: "Email address",
    password_label: "Password",
    login_submit: "Sign in",
    login_failed: "The email address or password is incorrect.",
    session_expired: "Your session has expired, please try again.",
    missing_email: "Enter your email address.",
    missing_password: "Enter your password.",
    login_no_account: "No account yet?",
    login_register_link: "Register",

    consent_title: "Consent to share data",
    consent_lead: "“{client}” would like to receive data from your citizen account.",
    consent_intro: "If you agree, this service will receive the following information:",
    consent_unknown_scope: "Additional permission “{scope}”",
    consent_unknown_scope_description: "An additional permission defined by the service.",
    consent_allow: "Allow",
    consent_deny: "Deny",
    consent_deny_note: "If you deny, the service receives no data and you will not be signed in.",
    consent_remember: "Your choice will be remembered. You can withdraw your consent at any time in your account.",

    error_what_now: "What can you do?",
    error_advice: "Go back to the page of the online service you wanted to use and start signing in again from there. If the problem persists, please contact the office that provides this service.",
    error_support_heading: "Details for support",
    error_support_intro: "If you ask for help, please quote these details:",
    error_code_label: "Error code",
    error_status_label: "HTTP status",
    error_description_label: "Description",

    formpost_title: "Redirecting",
    formpost_text: "You are now being returned to the online service …",
    formpost_noscript: "JavaScript is turned off in your browser. Please select “Continue” to return to the online service.",
    formpost_button: "Continue",

    logout_title: "Sign out",
    logout_heading: "Do you want to sign out?",
    logout_client: "The online service “{client}” has asked to sign you out.",
    logout_text: "You will be signed out of your citizen account.",
    logout_stay: "If you want to stay signed in, simply close this page.",
    logout_submit: "Sign out",
    logged_out_title: "You are signed out",
    logged_out_text: "You have signed out of your citizen account.",
    logged_out_hint: "If you share this device with others, please close all windows of your browser.",
    logged_out_again: "Sign in again",

    account_title: "My citizen account",
    account_profile_heading: "Your details",
    account_name_label: "Name",
    account_email_label: "Email address",
    account_level_label: "Level of assurance",
    account_level_hint: "The level of assurance shows how reliably it has been confirmed that you are who you say you are.",
    account_consents_heading: "Services with access to your data",
    account_consents_intro: "You have allowed these online services to receive data from your citizen account.",
    account_consents_none: "You have not given any online service access to your data yet.",
    account_granted_at: "Granted on",
    account_data_label: "Data",
    account_revoke: "Revoke access",
    account_revoke_for: "for “{client}”",
    account_logout_heading: "Sign out",
    account_logout: "Sign out",

    register_title: "Create a citizen account",
    register_intro: "With a citizen account you can use your municipality’s online services. You only need your email address and a password; giving your name is optional.",
    optional_marker: "(optional)",
    register_email_hint: "We will send you a link to confirm this address.",
    given_name_label: "Given name",
    family_name_label: "Family name",
    new_password_label: "Password",
    password_hint: "At least {min} characters. A phrase of several words is easy to remember and secure.",
    register_submit: "Create account",
    register_have_account: "Already have an account?",
    register_login_link: "Sign in",
    register_done_title: "Confirm your email address",
    register_done_text: "We have sent an email to {email}. Please open the link in that email to confirm your address.",
    register_continue_client: "You can now continue signing in to “{client}”. Please still confirm your email address with the link in the email.",
    register_continue_generic: "You can now continue signing in. Please still confirm your email address with the link in the email.",
    register_continue_link: "Back to sign-in",
    register_done_hint: "No email received? Please also check your spam folder. You can also have a new link sent to you.",
    register_verified_title: "Email address confirmed",
    register_verified_text: "Thank you. Your email address is now confirmed and your citizen account is ready.",
    register_verified_link: "Go to your citizen account",
    register_verified_continue_client: "Continue signing in to “{client}”",
    register_verified_continue_generic: "Continue signing in",
    register_resend_title: "Request a new confirmation link",
    register_resend_intro: "Enter the email address of your citizen account. If it has not been confirmed yet, we will send you a new link.",
    register_resend_submit: "Send a new link",
    register_resent_title: "Please check your inbox",
    register_resent_text: "If there is a citizen account for {email} whose address has not been confirmed yet, we have sent a new confirmation link there. It is valid for 24 hours.",
    register_resent_hint: "If your address is already confirmed, you can simply sign in. You can request another link after 15 minutes.",

    fallback_title: "An error has occurred",
    fallback_text: "The page could not be displayed. Please try again later.",
};

/// Citizen-readable title and explanation of an error page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorText {
    pub title: &'static str,
    pub body: &'static str,
}

/// The error page wording for an OAuth 2.0 / OIDC error code (RFC 6749 §4.1.2.1, §5.2,
/// OIDC Core §3.1.2.6, RFC 9101, RFC 9126, …) or Pforte's own codes (`not_found`,
/// `session_expired`, `invalid_redirect_uri`, `invalid_client_id`, `too_many_requests`,
/// `invalid_verification_link`),
/// falling back to a wording chosen by HTTP `status`.
pub fn error_text(lang: Lang, code: &str, status: u16) -> ErrorText {
    let de = lang == Lang::De;
    let t = |title_de, body_de, title_en, body_en| {
        if de {
            ErrorText {
                title: title_de,
                body: body_de,
            }
        } else {
            ErrorText {
                title: title_en,
                body: body_en,
            }
        }
    };
    match code {
        "invalid_request" | "invalid_request_uri" | "invalid_request_object"
        | "request_not_supported" | "request_uri_not_supported" | "registration_not_supported"
        | "unsupported_response_type" | "unsupported_response_mode" | "invalid_scope"
        | "invalid_redirect_uri" | "invalid_client" | "invalid_client_id"
        | "unauthorized_client" => t(
            "Die Anmeldung konnte nicht gestartet werden",
            "Der Online-Dienst, von dem Sie kommen, hat die Anmeldung nicht korrekt angefragt. Sie haben nichts falsch gemacht. Ihre Daten wurden nicht weitergegeben.",
            "Signing in could not be started",
            "The online service you came from did not request the sign-in correctly. You have done nothing wrong. None of your data has been shared.",
        ),
        "access_denied" => t(
            "Die Anmeldung wurde abgebrochen",
            "Die Anmeldung wurde nicht abgeschlossen. Ihre Daten wurden nicht weitergegeben.",
            "Signing in was cancelled",
            "Signing in was not completed. None of your data has been shared.",
        ),
        "unmet_authentication_requirements" => t(
            "Das nötige Vertrauensniveau wurde nicht erreicht",
            "Dieser Online-Dienst verlangt einen sichereren Nachweis Ihrer Identität, zum Beispiel mit der Online-Ausweisfunktion Ihres Personalausweises. Ihre Daten wurden nicht weitergegeben.",
            "The required level of assurance was not reached",
            "This online service requires stronger proof of your identity, for example the online ID function of your identity card. None of your data has been shared.",
        ),
        "login_required" | "interaction_required" | "consent_required"
        | "account_selection_required" => t(
            "Bitte melden Sie sich an",
            "Für diesen Online-Dienst müssen Sie sich anmelden oder eine Zustimmung erteilen. Starten Sie die Anmeldung bitte erneut beim Online-Dienst.",
            "Please sign in",
            "This online service needs you to sign in or give your consent. Please start signing in again at the online service.",
        ),
        "session_expired" | "csrf" | "invalid_csrf" | "expired" => t(
            "Die Sitzung ist abgelaufen",
            "Aus Sicherheitsgründen ist eine Anmeldung nur eine begrenzte Zeit lang gültig. Ihre Daten wurden nicht weitergegeben.",
            "Your session has expired",
            "For your security, a sign-in is only valid for a limited time. None of your data has been shared.",
        ),
        "invalid_verification_link" => t(
            "Dieser Bestätigungslink ist ungültig",
            "Der Link ist abgelaufen, wurde bereits verwendet oder ist unvollständig. Wenn Sie Ihre E-Mail-Adresse schon bestätigt haben, können Sie sich einfach anmelden.",
            "This confirmation link is not valid",
            "The link has expired, has already been used or is incomplete. If you have already confirmed your email address, you can simply sign in.",
        ),
        "not_found" => t(
            "Seite nicht gefunden",
            "Diese Seite gibt es nicht. Bitte prüfen Sie die Adresse.",
            "Page not found",
            "This page does not exist. Please check the address.",
        ),
        "too_many_requests" | "slow_down" => t(
            "Zu viele Versuche",
            "Aus Sicherheitsgründen sind gerade keine weiteren Versuche möglich. Bitte warten Sie einige Minuten.",
            "Too many attempts",
            "For your security, no further attempts are possible right now. Please wait a few minutes.",
        ),
        "temporarily_unavailable" => t(
            "Der Dienst ist vorübergehend nicht erreichbar",
            "Bitte versuchen Sie es in einigen Minuten erneut.",
            "The service is temporarily unavailable",
            "Please try again in a few minutes.",
        ),
        "server_error" => t(
            "Ein technischer Fehler ist aufgetreten",
            "Bei uns ist ein Fehler aufgetreten. Sie haben nichts falsch gemacht. Bitte versuchen Sie es später erneut.",
            "A technical error has occurred",
            "Something went wrong on our side. You have done nothing wrong. Please try again later.",
        ),
        _ => match status {
            404 => error_text(lang, "not_found", status),
            429 => error_text(lang, "too_many_requests", status),
            503 => error_text(lang, "temporarily_unavailable", status),
            500..=599 => error_text(lang, "server_error", status),
            _ => t(
                "Die Anfrage konnte nicht bearbeitet werden",
                "Bei der Anmeldung ist ein Problem aufgetreten. Ihre Daten wurden nicht weitergegeben.",
                "The request could not be processed",
                "There was a problem with signing in. None of your data has been shared.",
            ),
        },
    }
}

/// Consent wording for an OAuth scope: `(label, plain-language description)`.
/// `None` for scopes Pforte does not know (the consent page then shows the raw scope).
pub fn scope_text(lang: Lang, scope: &str) -> Option<(&'static str, &'static str)> {
    let de = lang == Lang::De;
    let pick = |d: (&'static str, &'static str), e: (&'static str, &'static str)| {
        Some(if de { d } else { e })
    };
    match scope {
        "openid" => pick(
            ("Anmeldung", "Eine Kennung, an der der Dienst Sie wiedererkennt, und wie sicher Sie sich angemeldet haben."),
            ("Sign-in", "An identifier by which the service recognises you, and how securely you signed in."),
        ),
        "profile" => pick(
            ("Name und Profil", "Ihr Vor- und Familienname sowie, falls hinterlegt, Geburtsdatum und Sprache."),
            ("Name and profile", "Your given and family name and, if stored, your date of birth and language."),
        ),
        "email" => pick(
            ("E-Mail-Adresse", "Ihre E-Mail-Adresse und ob sie bestätigt ist."),
            ("Email address", "Your email address and whether it has been confirmed."),
        ),
        "address" => pick(
            ("Anschrift", "Ihre Anschrift: Straße, Hausnummer, Postleitzahl, Ort und Land."),
            ("Postal address", "Your address: street, house number, postcode, town and country."),
        ),
        "phone" => pick(
            ("Telefonnummer", "Ihre Telefonnummer und ob sie bestätigt ist."),
            ("Phone number", "Your phone number and whether it has been confirmed."),
        ),
        "offline_access" => pick(
            ("Dauerhafter Zugriff", "Der Dienst darf diese Daten auch abrufen, wenn Sie gerade nicht angemeldet sind – bis Sie den Zugriff entziehen."),
            ("Ongoing access", "The service may fetch this data even when you are not signed in – until you revoke access."),
        ),
        _ => None,
    }
}

/// A short label for a scope (consent list on the account page); unknown scopes as-is.
pub fn scope_label(lang: Lang, scope: &str) -> String {
    match scope_text(lang, scope) {
        Some((label, _)) => label.to_string(),
        None => scope.to_string(),
    }
}

/// The message for a registration/login validation key on a field, or `None` if `key` is
/// not a known key (the caller then shows `key` itself as the message).
///
/// Known keys: `required`, `email_invalid`, `password_too_short` (with a `{min}` placeholder
/// for the configured minimum, which the caller fills), `password_too_long`,
/// `password_common`, `too_long`, `invalid_characters`, `session_expired`.
/// Fields: `email`, `given_name`, `family_name`, `password`.
pub fn field_error_text(lang: Lang, field: &str, key: &str) -> Option<&'static str> {
    let de = lang == Lang::De;
    let t = |d: &'static str, e: &'static str| Some(if de { d } else { e });
    match (key, field) {
        ("required", "email") => t(DE.missing_email, EN.missing_email),
        ("required", "password") => t("Bitte geben Sie ein Passwort ein.", "Enter a password."),
        ("required", "given_name") => t(
            "Bitte geben Sie Ihren Vornamen ein.",
            "Enter your given name.",
        ),
        ("required", "family_name") => t(
            "Bitte geben Sie Ihren Familiennamen ein.",
            "Enter your family name.",
        ),
        ("required", _) => t(
            "Bitte füllen Sie dieses Feld aus.",
            "Please fill in this field.",
        ),
        ("email_invalid", _) => t(
            "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de.",
            "Enter a valid email address, for example name@example.com.",
        ),
        ("password_too_short", _) => t(
            "Das Passwort muss mindestens {min} Zeichen lang sein.",
            "The password must be at least {min} characters long.",
        ),
        ("password_too_long", _) => t("Das Passwort ist zu lang.", "The password is too long."),
        ("password_common", _) => t(
            "Dieses Passwort ist zu leicht zu erraten. Bitte wählen Sie ein anderes.",
            "This password is too easy to guess. Please choose another one.",
        ),
        ("too_long", _) => t("Die Eingabe ist zu lang.", "This entry is too long."),
        ("invalid_characters", _) => t(
            "Die Eingabe enthält unzulässige Zeichen, zum Beispiel Zeilenumbrüche.",
            "This entry contains characters that are not allowed, such as line breaks.",
        ),
        ("session_expired", _) => t(DE.session_expired, EN.session_expired),
        _ => None,
    }
}

/// The citizen-facing name of an assurance level (`low` / `substantial` / `high`, or the
/// eIDAS URIs). `None` for anything else.
pub fn level_label(lang: Lang, level: &str) -> Option<&'static str> {
    let de = lang == Lang::De;
    let t = |d: &'static str, e: &'static str| Some(if de { d } else { e });
    match level {
        "low" | "http://eidas.europa.eu/LoA/low" => t(
            "Basisregistrierung (E-Mail-Adresse und Passwort)",
            "Basic registration (email address and password)",
        ),
        "substantial" | "http://eidas.europa.eu/LoA/substantial" => t(
            "Substanziell (zum Beispiel mit zweitem Faktor oder ELSTER-Zertifikat)",
            "Substantial (for example with a second factor or an ELSTER certificate)",
        ),
        "high" | "http://eidas.europa.eu/LoA/high" => {
            t("Hoch (Online-Ausweisfunktion)", "High (online ID function)")
        }
        _ => None,
    }
}

/// Copy of the account security pages (second factors, recovery codes) and the step-up page.
/// A struct of its own so that these pages can grow without touching [`Texts`].
///
/// Placeholders: `{client}`, `{level}`, `{count}`, `{email}`, `{label}`.
#[derive(Debug)]
pub struct SecurityTexts {
    // --- security page ---
    pub security_title: &'static str,
    pub security_intro: &'static str,
    pub security_link_text: &'static str,
    pub notice_totp_added: &'static str,
    pub notice_removed: &'static str,
    pub confirm_needed: &'static str,
    pub confirm_link: &'static str,
    pub credentials_heading: &'static str,
    pub credentials_none: &'static str,
    pub kind_totp: &'static str,
    pub kind_passkey: &'static str,
    pub cred_label: &'static str,
    pub cred_created: &'static str,
    pub cred_last_used: &'static str,
    pub cred_never: &'static str,
    pub remove: &'static str,
    /// Visually hidden continuation of the remove button: `{label}`.
    pub remove_for: &'static str,
    pub totp_heading: &'static str,
    pub totp_text: &'static str,
    pub totp_setup_link: &'static str,
    pub recovery_heading: &'static str,
    pub recovery_text: &'static str,
    /// `{count}`
    pub recovery_left: &'static str,
    pub recovery_none: &'static str,
    pub recovery_regenerate: &'static str,
    pub recovery_regenerate_hint: &'static str,
    pub passkey_heading: &'static str,
    pub passkey_text: &'static str,
    pub passkey_register: &'static str,
    pub passkey_nojs: &'static str,
    pub back_to_account: &'static str,

    // --- TOTP set-up ---
    pub totp_setup_title: &'static str,
    pub totp_step_scan: &'static str,
    pub qr_title: &'static str,
    pub totp_manual: &'static str,
    /// `{email}`
    pub totp_manual_details: &'static str,
    pub totp_step_code: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub totp_confirm: &'static str,
    pub cancel: &'static str,

    // --- code errors ---
    pub code_missing: &'static str,
    pub code_malformed: &'static str,
    pub code_wrong: &'static str,
    pub code_replayed: &'static str,
    pub recovery_missing: &'static str,
    pub recovery_wrong: &'static str,
    /// `{count}`
    pub attempts_left: &'static str,

    // --- recovery codes page ---
    pub recovery_title: &'static str,
    pub recovery_new_intro: &'static str,
    pub recovery_keep: &'static str,
    pub recovery_done: &'static str,

    // --- step-up ---
    pub stepup_title: &'static str,
    /// `{level}`
    pub stepup_needed: &'static str,
    /// `{client}`, `{level}`
    pub stepup_needed_client: &'static str,
    /// `{level}`
    pub stepup_current: &'static str,
    pub stepup_account: &'static str,
    pub stepup_totp_heading: &'static str,
    pub stepup_submit: &'static str,
    pub stepup_recovery_summary: &'static str,
    pub recovery_label: &'static str,
    pub recovery_hint: &'static str,
    pub stepup_recovery_submit: &'static str,
    pub stepup_passkey_heading: &'static str,
    pub stepup_passkey_button: &'static str,
    pub stepup_none: &'static str,
    pub stepup_decline_heading: &'static str,
    /// `{level}`
    pub stepup_decline_text: &'static str,
    pub stepup_decline: &'static str,
    pub stepup_cancel: &'static str,

    // --- level names in running text ---
    pub level_low: &'static str,
    pub level_substantial: &'static str,
    pub level_high: &'static str,
}

pub static DE_SECURITY: SecurityTexts = SecurityTexts {
    security_title: "Sicherheit und Anmeldung",
    security_intro: "Hier legen Sie fest, womit Sie sich anmelden. Mit einem zweiten Faktor zusätzlich zum Passwort erreichen Sie das Vertrauensniveau „substanziell“, wenn Ihre Identität entsprechend geprüft wurde.",
    security_link_text: "Sicherheit und Anmeldung verwalten",
    notice_totp_added: "Die Authenticator-App ist eingerichtet.",
    notice_removed: "Das Anmeldeverfahren wurde entfernt.",
    confirm_needed: "Um Ihre Anmeldeverfahren zu ändern, bestätigen Sie bitte zuerst Ihre Anmeldung mit Ihrem zweiten Faktor.",
    confirm_link: "Anmeldung bestätigen",
    credentials_heading: "Ihre zweiten Faktoren",
    credentials_none: "Sie haben noch keinen zweiten Faktor eingerichtet.",
    kind_totp: "Authenticator-App",
    kind_passkey: "Passkey",
    cred_label: "Bezeichnung",
    cred_created: "Eingerichtet am",
    cred_last_used: "Zuletzt verwendet",
    cred_never: "noch nie",
    remove: "Entfernen",
    remove_for: "„{label}“",
    totp_heading: "Authenticator-App",
    totp_text: "Eine App auf Ihrem Smartphone, zum Beispiel FreeOTP, Aegis oder Google Authenticator, zeigt alle 30 Sekunden einen neuen sechsstelligen Code.",
    totp_setup_link: "Authenticator-App einrichten",
    recovery_heading: "Wiederherstellungscodes",
    recovery_text: "Mit einem Wiederherstellungscode bestätigen Sie Ihre Anmeldung, wenn Sie Ihre App nicht zur Hand haben. Jeder Code gilt nur einmal.",
    recovery_left: "Sie haben noch {count} von 10 Codes.",
    recovery_none: "Sie haben keine Wiederherstellungscodes.",
    recovery_regenerate: "Neue Codes erzeugen",
    recovery_regenerate_hint: "Ihre bisherigen Codes werden dabei ungültig.",
    passkey_heading: "Passkey",
    passkey_text: "Ein Passkey meldet Sie mit Ihrem Gerät an, etwa per Fingerabdruck, Gesichtserkennung oder Geräte-PIN.",
    passkey_register: "Passkey hinzufügen",
    passkey_nojs: "Zum Einrichten eines Passkeys muss JavaScript in Ihrem Browser eingeschaltet sein.",
    back_to_account: "Zurück zu Ihrem Servicekonto",

    totp_setup_title: "Authenticator-App einrichten",
    totp_step_scan: "Schritt 1: Öffnen Sie Ihre Authenticator-App und scannen Sie diesen QR-Code.",
    qr_title: "QR-Code für Ihre Authenticator-App",
    totp_manual: "Sie können nicht scannen? Geben Sie diesen Schlüssel in der App von Hand ein:",
    totp_manual_details: "Konto: {email} · Art: zeitbasiert · 6 Ziffern · alle 30 Sekunden",
    totp_step_code: "Schritt 2: Geben Sie den Code ein, den die App jetzt anzeigt.",
    code_label: "Sechsstelliger Code",
    code_hint: "Nur Ziffern, zum Beispiel 123456.",
    totp_confirm: "Einrichtung abschließen",
    cancel: "Abbrechen",

    code_missing: "Bitte geben Sie den Code aus Ihrer App ein.",
    code_malformed: "Der Code besteht aus 6 Ziffern.",
    code_wrong: "Der Code ist nicht richtig. Bitte geben Sie den Code ein, den Ihre App gerade anzeigt.",
    code_replayed: "Dieser Code wurde schon verwendet. Bitte warten Sie, bis Ihre App einen neuen Code anzeigt.",
    recovery_missing: "Bitte geben Sie einen Wiederherstellungscode ein.",
    recovery_wrong: "Dieser Wiederherstellungscode ist nicht gültig oder wurde schon verwendet.",
    attempts_left: "Sie haben noch {count} Versuche.",

    recovery_title: "Ihre Wiederherstellungscodes",
    recovery_new_intro: "Das sind Ihre neuen Wiederherstellungscodes. Ältere Codes gelten nicht mehr.",
    recovery_keep: "Bewahren Sie diese Codes sicher auf, zum Beispiel ausgedruckt an einem sicheren Ort. Sie werden nur jetzt angezeigt. Jeder Code kann einmal statt des Codes aus Ihrer App verwendet werden.",
    recovery_done: "Ich habe die Codes gesichert",

    stepup_title: "Anmeldung bestätigen",
    stepup_needed: "Für diesen Dienst ist das Vertrauensniveau „{level}“ nötig.",
    stepup_needed_client: "Für „{client}“ ist das Vertrauensniveau „{level}“ nötig.",
    stepup_current: "Ihre Anmeldung hat zurzeit das Vertrauensniveau „{level}“. Bestätigen Sie sie mit Ihrem zweiten Faktor. Danach gilt in dieser Sitzung das höhere Niveau.",
    stepup_account: "Bitte bestätigen Sie Ihre Anmeldung mit Ihrem zweiten Faktor.",
    stepup_totp_heading: "Code aus der Authenticator-App",
    stepup_submit: "Bestätigen",
    stepup_recovery_summary: "Keinen Zugriff auf Ihre App? Wiederherstellungscode verwenden",
    recovery_label: "Wiederherstellungscode",
    recovery_hint: "10 Zeichen, zum Beispiel abcde-fghjk.",
    stepup_recovery_submit: "Mit Wiederherstellungscode bestätigen",
    stepup_passkey_heading: "Passkey",
    stepup_passkey_button: "Mit Passkey bestätigen",
    stepup_none: "Ihr Konto hat noch kein Verfahren, mit dem Sie dieses Vertrauensniveau erreichen. Einen zweiten Faktor richten Sie unter „Sicherheit und Anmeldung“ in Ihrem Servicekonto ein.",
    stepup_decline_heading: "Ohne höhere Stufe fortfahren",
    stepup_decline_text: "Der Dienst erfährt dann, dass Ihre Anmeldung das Vertrauensniveau „{level}“ hat. Verlangt er das höhere Niveau zwingend, wird die Anmeldung abgebrochen.",
    stepup_decline: "Ohne höhere Stufe fortfahren",
    stepup_cancel: "Abbrechen",

    level_low: "niedrig",
    level_substantial: "substanziell",
    level_high: "hoch",
};

pub static EN_SECURITY: SecurityTexts = SecurityTexts {
    security_title: "Security and sign-in",
    security_intro: "Choose how you sign in. With a second factor in addition to your password you reach the level of assurance “substantial”, if your identity has been verified accordingly.",
    security_link_text: "Manage security and sign-in",
    notice_totp_added: "Your authenticator app is set up.",
    notice_removed: "The sign-in method has been removed.",
    confirm_needed: "To change your sign-in methods, please first confirm your sign-in with your second factor.",
    confirm_link: "Confirm sign-in",
    credentials_heading: "Your second factors",
    credentials_none: "You have not set up a second factor yet.",
    kind_totp: "Authenticator app",
    kind_passkey: "Passkey",
    cred_label: "Name",
    cred_created: "Set up on",
    cred_last_used: "Last used",
    cred_never: "never",
    remove: "Remove",
    remove_for: "“{label}”",
    totp_heading: "Authenticator app",
    totp_text: "An app on your smartphone, for example FreeOTP, Aegis or Google Authenticator, shows a new six-digit code every 30 seconds.",
    totp_setup_link: "Set up an authenticator app",
    recovery_heading: "Recovery codes",
    recovery_text: "A recovery code confirms your sign-in when you do not have your app at hand. Each code works only once.",
    recovery_left: "You have {count} of 10 codes left.",
    recovery_none: "You have no recovery codes.",
    recovery_regenerate: "Create new codes",
    recovery_regenerate_hint: "Your previous codes will stop working.",
    passkey_heading: "Passkey",
    passkey_text: "A passkey signs you in with your device, for example by fingerprint, face recognition or the device PIN.",
    passkey_register: "Add a passkey",
    passkey_nojs: "To set up a passkey, JavaScript must be turned on in your browser.",
    back_to_account: "Back to your citizen account",

    totp_setup_title: "Set up an authenticator app",
    totp_step_scan: "Step 1: Open your authenticator app and scan this QR code.",
    qr_title: "QR code for your authenticator app",
    totp_manual: "Cannot scan? Enter this key in the app by hand:",
    totp_manual_details: "Account: {email} · Type: time-based · 6 digits · every 30 seconds",
    totp_step_code: "Step 2: Enter the code the app shows now.",
    code_label: "Six-digit code",
    code_hint: "Digits only, for example 123456.",
    totp_confirm: "Finish setting up",
    cancel: "Cancel",

    code_missing: "Enter the code from your app.",
    code_malformed: "The code has 6 digits.",
    code_wrong: "The code is not correct. Enter the code your app shows right now.",
    code_replayed: "This code has already been used. Please wait until your app shows a new code.",
    recovery_missing: "Enter a recovery code.",
    recovery_wrong: "This recovery code is not valid or has already been used.",
    attempts_left: "You have {count} attempts left.",

    recovery_title: "Your recovery codes",
    recovery_new_intro: "These are your new recovery codes. Older codes no longer work.",
    recovery_keep: "Keep these codes safe, for example printed and stored in a secure place. They are shown only now. Each code can be used once instead of the code from your app.",
    recovery_done: "I have saved the codes",

    stepup_title: "Confirm your sign-in",
    stepup_needed: "This service needs the level of assurance “{level}”.",
    stepup_needed_client: "“{client}” needs the level of assurance “{level}”.",
    stepup_current: "Your sign-in currently has the level of assurance “{level}”. Confirm it with your second factor. The higher level then applies for this session.",
    stepup_account: "Please confirm your sign-in with your second factor.",
    stepup_totp_heading: "Code from your authenticator app",
    stepup_submit: "Confirm",
    stepup_recovery_summary: "No access to your app? Use a recovery code",
    recovery_label: "Recovery code",
    recovery_hint: "10 characters, for example abcde-fghjk.",
    stepup_recovery_submit: "Confirm with recovery code",
    stepup_passkey_heading: "Passkey",
    stepup_passkey_button: "Confirm with passkey",
    stepup_none: "Your account has no method yet to reach this level of assurance. You can set up a second factor under “Security and sign-in” in your citizen account.",
    stepup_decline_heading: "Continue without the higher level",
    stepup_decline_text: "The service will then learn that your sign-in has the level of assurance “{level}”. If it strictly requires the higher level, signing in will be cancelled.",
    stepup_decline: "Continue without the higher level",
    stepup_cancel: "Cancel",

    level_low: "low",
    level_substantial: "substantial",
    level_high: "high",
};

/// The security and step-up copy of a language.
pub fn security_texts(lang: Lang) -> &'static SecurityTexts {
    match lang {
        Lang::De => &DE_SECURITY,
        Lang::En => &EN_SECURITY,
    }
}

/// A level's name in running text („substanziell“); `level` is Pforte's own name.
pub fn level_name(lang: Lang, level: &str) -> &'static str {
    let s = security_texts(lang);
    match level {
        "substantial" => s.level_substantial,
        "high" => s.level_high,
        _ => s.level_low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tags() {
        let cases: &[(&str, Option<Lang>)] = &[
            ("de", Some(Lang::De)),
            ("DE", Some(Lang::De)),
            ("de-DE", Some(Lang::De)),
            ("de-at", Some(Lang::De)),
            ("de-CH-1996", Some(Lang::De)),
            ("de_DE", Some(Lang::De)),
            (" en ", Some(Lang::En)),
            ("en-GB", Some(Lang::En)),
            ("EN-us", Some(Lang::En)),
            ("fr", None),
            ("deu", None),
            ("english", None),
            ("", None),
            ("*", None),
            ("de;q=1", None),
            ("e", None),
        ];
        for (tag, want) in cases {
            assert_eq!(Lang::parse(tag), *want, "tag {tag:?}");
        }
    }

    #[test]
    fn codes_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
            assert_eq!(lang.other().other(), lang);
        }
        assert_eq!(Lang::default(), Lang::De);
    }

    #[test]
    fn negotiate_table() {
        let cases: &[(Option<&str>, Option<&str>, Lang)] = &[
            (None, None, Lang::De),
            (Some(""), Some(""), Lang::De),
            // ui_locales wins over Accept-Language, first supported tag in order.
            (Some("en"), Some("de-DE,de;q=0.9"), Lang::En),
            (Some("de"), Some("en"), Lang::De),
            (Some("fr-CA en-GB de"), Some("de"), Lang::En),
            (Some("  de-DE   en "), None, Lang::De),
            // ui_locales with nothing supported falls back to Accept-Language.
            (Some("fr it"), Some("en-US,en;q=0.9"), Lang::En),
            (Some("fr"), None, Lang::De),
            // Accept-Language weights.
            (None, Some("en"), Lang::En),
            (None, Some("en-GB,en;q=0.9,de;q=0.8"), Lang::En),
            (None, Some("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"), Lang::De),
            (None, Some("de;q=0.5, en;q=0.8"), Lang::En),
            (None, Some("de;q=0.8, en;q=0.8"), Lang::De),
            (None, Some("en;q=0.8, de;q=0.8"), Lang::En),
            (None, Some("fr-FR, fr;q=0.9, en;q=0.1"), Lang::En),
            (None, Some("fr"), Lang::De),
            (None, Some("en;q=0"), Lang::De),
            (None, Some("en;Q=0.900 , de;q=0.3"), Lang::En),
            (None, Some("en;q=1.0,de;q=0.999"), Lang::En),
            (None, Some("de;q=0,en;q=0.1"), Lang::En),
            (None, Some("de;q=0,*;q=0.5"), Lang::En),
            (None, Some("*"), Lang::De),
            (None, Some("en;q=0.3,*;q=0.5"), Lang::De),
            // malformed weights are ignored, not trusted
            (None, Some("en;q=2,de;q=0.1"), Lang::De),
            (None, Some("en;q=abc"), Lang::De),
            (None, Some("en;q=0.1234,de;q=0.1"), Lang::De),
            (None, Some(",,;q=1, en"), Lang::En),
            (None, Some("x-klingon, en-x-pirate"), Lang::En),
        ];
        for (ui, al, want) in cases {
            assert_eq!(
                Lang::negotiate(*ui, *al),
                *want,
                "ui_locales={ui:?} accept-language={al:?}"
            );
        }
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.000"), Some(1000));
        assert_eq!(parse_qvalue("1.001"), None);
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0.5"), Some(500));
        assert_eq!(parse_qvalue("0.05"), Some(50));
        assert_eq!(parse_qvalue("0.123"), Some(123));
        assert_eq!(parse_qvalue("0.1234"), None);
        assert_eq!(parse_qvalue(".5"), None);
        assert_eq!(parse_qvalue("-0"), None);
        assert_eq!(parse_qvalue(""), None);
    }

    #[test]
    fn generic_login_failure_is_one_wording() {
        assert_eq!(
            Lang::De.texts().login_failed,
            "E-Mail-Adresse oder Passwort ist falsch."
        );
        assert_eq!(
            Lang::En.texts().login_failed,
            "The email address or password is incorrect."
        );
    }

    #[test]
    fn lookups() {
        assert!(error_text(Lang::De, "invalid_request", 400)
            .title
            .contains("nicht gestartet"));
        assert_eq!(
            error_text(Lang::En, "whatever", 404).title,
            "Page not found"
        );
        assert_eq!(
            error_text(Lang::De, "whatever", 502),
            error_text(Lang::De, "server_error", 500)
        );
        assert!(scope_text(Lang::De, "email").is_some());
        assert!(scope_text(Lang::De, "urn:x").is_none());
        assert_eq!(scope_label(Lang::En, "urn:x"), "urn:x");
        assert!(field_error_text(Lang::De, "password", "password_too_short")
            .unwrap()
            .contains("mindestens {min} Zeichen"));
        assert!(field_error_text(Lang::De, "email", "nonsense").is_none());
        assert!(level_label(Lang::De, "high").is_some());
        assert_eq!(fill("a {client} b", "client", "X"), "a X b");
    }
}
