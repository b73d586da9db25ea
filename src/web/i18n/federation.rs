//! The copy of the upstream login (federation): the buttons on the login and step-up pages,
//! the linked-sources page, and the failure pages.

use super::Lang;

/// Copy of the federation pages. Placeholders: `{name}` (the source's display name, such as
/// "Servicekonto.NRW"), `{level}` (a level in running text), `{date}`.
#[derive(Debug, serde::Serialize)]
pub struct FederationTexts {
    // --- login and step-up pages ---
    pub login_heading: &'static str,
    pub login_intro: &'static str,
    /// The button: `{name}`.
    pub login_with: &'static str,
    /// Under the button: `{level}`.
    pub reaches: &'static str,
    pub reaches_high_hint: &'static str,
    pub password_heading: &'static str,
    pub stepup_heading: &'static str,
    pub stepup_intro: &'static str,
    /// `{name}`
    pub stepup_with: &'static str,
    pub stepup_link_note: &'static str,
    // --- linked sources ---
    pub links_title: &'static str,
    pub links_intro: &'static str,
    pub links_none: &'static str,
    /// `{date}`
    pub linked_since: &'static str,
    pub unlink: &'static str,
    pub unlink_last_hint: &'static str,
    pub link_more_heading: &'static str,
    /// `{name}`
    pub link_with: &'static str,
    pub link_confirm_title: &'static str,
    /// `{name}`
    pub link_confirm_text: &'static str,
    pub link_confirm_button: &'static str,
    pub link_cancel: &'static str,
    pub notice_linked: &'static str,
    pub notice_unlinked: &'static str,
    pub account_links_text: &'static str,
    // --- failures ---
    pub back_to_login: &'static str,
    pub back_to_account: &'static str,
    pub error_unreachable_title: &'static str,
    /// `{name}`
    pub error_unreachable_body: &'static str,
    pub error_cancelled_title: &'static str,
    /// `{name}`
    pub error_cancelled_body: &'static str,
    pub error_invalid_title: &'static str,
    /// `{name}`
    pub error_invalid_body: &'static str,
    pub error_too_low_title: &'static str,
    /// `{name}`, `{level}`
    pub error_too_low_body: &'static str,
    pub error_state_title: &'static str,
    pub error_state_body: &'static str,
    pub error_linked_elsewhere_title: &'static str,
    /// `{name}`
    pub error_linked_elsewhere_body: &'static str,
    pub error_last_way_title: &'static str,
    pub error_last_way_body: &'static str,
    pub error_not_offered_title: &'static str,
    pub error_not_offered_body: &'static str,
    pub error_code_label: &'static str,
}

pub static DE_FEDERATION: FederationTexts = FederationTexts {
    login_heading: "Mit einem vorhandenen Konto anmelden",
    login_intro: "Sie haben schon ein Servicekonto oder einen Personalausweis mit Online-Ausweisfunktion? Dann brauchen Sie hier kein Passwort.",
    login_with: "Mit {name} anmelden",
    reaches: "Damit erreichen Sie das Vertrauensniveau „{level}“.",
    reaches_high_hint: "Sie brauchen Ihren Ausweis, die PIN und die AusweisApp.",
    password_heading: "Mit E-Mail-Adresse und Passwort anmelden",
    stepup_heading: "Mit einem anderen Anmeldeweg bestätigen",
    stepup_intro: "Diese Anmeldewege erreichen das nötige Vertrauensniveau:",
    stepup_with: "Mit {name} bestätigen",
    stepup_link_note: "Wenn dieser Anmeldeweg noch nicht mit Ihrem Konto verknüpft ist, wird er dabei verknüpft.",
    links_title: "Verknüpfte Anmeldewege",
    links_intro: "Mit diesen Konten können Sie sich bei Pforte anmelden.",
    links_none: "Sie haben noch keinen anderen Anmeldeweg verknüpft.",
    linked_since: "Verknüpft seit {date}",
    unlink: "Verknüpfung lösen",
    unlink_last_hint: "Das ist Ihr einziger Anmeldeweg. Sie können ihn erst lösen, wenn Sie ein Passwort oder einen anderen Anmeldeweg haben.",
    link_more_heading: "Weiteren Anmeldeweg verknüpfen",
    link_with: "Mit {name} verknüpfen",
    link_confirm_title: "Anmeldeweg verknüpfen",
    link_confirm_text: "Sie werden zu {name} weitergeleitet und melden sich dort an. Danach können Sie sich auch mit {name} bei Ihrem Konto anmelden. Die Angaben, die {name} über Sie bestätigt, werden in Ihrem Konto gespeichert.",
    link_confirm_button: "Ja, jetzt verknüpfen",
    link_cancel: "Abbrechen",
    notice_linked: "Der Anmeldeweg ist jetzt mit Ihrem Konto verknüpft.",
    notice_unlinked: "Die Verknüpfung ist gelöst.",
    account_links_text: "Verknüpfte Anmeldewege ansehen und ändern",
    back_to_login: "Zurück zur Anmeldung",
    back_to_account: "Zurück zu Ihrem Konto",
    error_unreachable_title: "Anmeldung zurzeit nicht möglich",
    error_unreachable_body: "{name} antwortet gerade nicht. Bitte versuchen Sie es später noch einmal oder wählen Sie einen anderen Anmeldeweg.",
    error_cancelled_title: "Anmeldung abgebrochen",
    error_cancelled_body: "Die Anmeldung bei {name} wurde abgebrochen. Sie sind nicht angemeldet. Sie können es noch einmal versuchen oder einen anderen Anmeldeweg wählen.",
    error_invalid_title: "Anmeldung konnte nicht geprüft werden",
    error_invalid_body: "Die Antwort von {name} war nicht gültig. Zu Ihrer Sicherheit haben wir Sie nicht angemeldet und nichts gespeichert.",
    error_too_low_title: "Vertrauensniveau nicht erreicht",
    error_too_low_body: "{name} hat Ihre Anmeldung nicht mit dem nötigen Vertrauensniveau „{level}“ bestätigt. Sie sind nicht angemeldet. Bitte wählen Sie einen Anmeldeweg, der dieses Niveau erreicht, zum Beispiel den Online-Ausweis.",
    error_state_title: "Anmeldung abgelaufen",
    error_state_body: "Diese Anmeldung ist abgelaufen oder wurde schon verwendet. Bitte starten Sie die Anmeldung noch einmal.",
    error_linked_elsewhere_title: "Schon mit einem anderen Konto verknüpft",
    error_linked_elsewhere_body: "Dieser Zugang bei {name} ist bereits mit einem anderen Konto bei Pforte verknüpft. Er kann nicht zugleich mit Ihrem Konto verknüpft werden. Melden Sie sich mit {name} an, um das andere Konto zu nutzen.",
    error_last_way_title: "Verknüpfung kann nicht gelöst werden",
    error_last_way_body: "Das ist Ihr einziger Weg, sich anzumelden. Legen Sie zuerst ein Passwort fest oder verknüpfen Sie einen anderen Anmeldeweg.",
    error_not_offered_title: "Anmeldeweg nicht verfügbar",
    error_not_offered_body: "Dieser Anmeldeweg ist für diesen Dienst nicht vorgesehen.",
    error_code_label: "Fehlercode für den Support",
};

pub static EN_FEDERATION: FederationTexts = FederationTexts {
    login_heading: "Log in with an existing account",
    login_intro: "Already have a service account or an identity card with the online ID function? Then you need no password here.",
    login_with: "Log in with {name}",
    reaches: "This reaches the assurance level “{level}”.",
    reaches_high_hint: "You need your identity card, its PIN and the AusweisApp.",
    password_heading: "Log in with e-mail address and password",
    stepup_heading: "Confirm with another way to log in",
    stepup_intro: "These ways to log in reach the level needed:",
    stepup_with: "Confirm with {name}",
    stepup_link_note: "If this way to log in is not yet linked to your account, it will be linked.",
    links_title: "Linked ways to log in",
    links_intro: "You can log in to Pforte with these accounts.",
    links_none: "You have not linked another way to log in yet.",
    linked_since: "Linked since {date}",
    unlink: "Unlink",
    unlink_last_hint: "This is your only way to log in. You can unlink it once you have a password or another way to log in.",
    link_more_heading: "Link another way to log in",
    link_with: "Link {name}",
    link_confirm_title: "Link a way to log in",
    link_confirm_text: "You will be taken to {name} to log in there. Afterwards you can also log in to your account with {name}. What {name} confirms about you is stored in your account.",
    link_confirm_button: "Yes, link it now",
    link_cancel: "Cancel",
    notice_linked: "This way to log in is now linked to your account.",
    notice_unlinked: "The link has been removed.",
    account_links_text: "View and change linked ways to log in",
    back_to_login: "Back to the login",
    back_to_account: "Back to your account",
    error_unreachable_title: "Logging in is not possible right now",
    error_unreachable_body: "{name} is not answering at the moment. Please try again later or choose another way to log in.",
    error_cancelled_title: "Login cancelled",
    error_cancelled_body: "The login at {name} was cancelled. You are not logged in. You can try again or choose another way to log in.",
    error_invalid_title: "The login could not be verified",
    error_invalid_body: "The answer from {name} was not valid. For your safety you were not logged in and nothing was stored.",
    error_too_low_title: "Assurance level not reached",
    error_too_low_body: "{name} did not confirm your login at the required assurance level “{level}”. You are not logged in. Please choose a way to log in that reaches this level, for example the online ID card.",
    error_state_title: "Login expired",
    error_state_body: "This login has expired or was already used. Please start the login again.",
    error_linked_elsewhere_title: "Already linked to another account",
    error_linked_elsewhere_body: "This account at {name} is already linked to another Pforte account. It cannot be linked to your account as well. Log in with {name} to use the other account.",
    error_last_way_title: "The link cannot be removed",
    error_last_way_body: "This is your only way to log in. First set a password or link another way to log in.",
    error_not_offered_title: "Way to log in not available",
    error_not_offered_body: "This way to log in is not offered for this service.",
    error_code_label: "Error code for support",
};

/// The federation copy in `lang`.
pub fn federation_texts(lang: Lang) -> &'static FederationTexts {
    lang.catalog().federation
}
