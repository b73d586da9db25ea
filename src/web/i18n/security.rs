//! The copy of the account security pages and the step-up page.

use super::Lang;

/// Copy of the account security pages (second factors, recovery codes) and the step-up page.
/// A struct of its own so that these pages can grow without touching [`Texts`](super::Texts).
///
/// Placeholders: `{client}`, `{level}`, `{count}`, `{email}`, `{label}`.
#[derive(Debug, serde::Serialize)]
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
    lang.catalog().security
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
