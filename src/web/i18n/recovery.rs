//! Texts of account recovery and of changing the password and the e-mail address: the pages
//! (`web::recovery`) and their mails.
//!
//! Placeholders: `{email}`, `{old_email}`, `{new_email}`, `{minutes}`, `{hours}`, `{link}`,
//! `{issuer}`, `{security_url}`, `{reset_url}`.

/// The recovery texts of one language.
#[derive(Debug, serde::Serialize)]
pub struct RecoveryTexts {
    /// The link on the log-in page.
    pub forgot_link: &'static str,
    pub forgot_title: &'static str,
    pub forgot_intro: &'static str,
    pub forgot_submit: &'static str,
    pub back_to_login: &'static str,
    pub forgot_sent_title: &'static str,
    /// `{email}`, `{minutes}`
    pub forgot_sent_text: &'static str,
    pub forgot_sent_hint: &'static str,
    pub reset_title: &'static str,
    /// `{email}`
    pub reset_intro: &'static str,
    pub reset_submit: &'static str,
    pub reset_invalid_title: &'static str,
    pub reset_invalid_text: &'static str,
    pub reset_request_again: &'static str,
    pub reset_done_title: &'static str,
    pub reset_done_text: &'static str,
    pub login_link: &'static str,
    pub current_password_label: &'static str,
    pub current_password_wrong: &'static str,
    /// The security page's section with the two links below.
    pub security_section_title: &'static str,
    pub change_password_link: &'static str,
    pub change_password_title: &'static str,
    pub change_password_intro: &'static str,
    pub change_password_submit: &'static str,
    pub password_changed_title: &'static str,
    pub password_changed_text: &'static str,
    pub back_to_security: &'static str,
    pub change_email_link: &'static str,
    pub change_email_title: &'static str,
    /// `{email}`
    pub change_email_intro: &'static str,
    pub new_email_label: &'static str,
    pub change_email_submit: &'static str,
    pub email_same: &'static str,
    pub change_email_sent_title: &'static str,
    /// `{new_email}`, `{old_email}`, `{hours}`
    pub change_email_sent_text: &'static str,
    pub email_confirm_title: &'static str,
    /// `{new_email}`
    pub email_confirm_intro: &'static str,
    pub email_confirm_submit: &'static str,
    pub email_confirm_invalid_title: &'static str,
    pub email_confirm_invalid_text: &'static str,
    pub email_changed_title: &'static str,
    /// `{new_email}`
    pub email_changed_text: &'static str,
    pub email_taken_title: &'static str,
    pub email_taken_text: &'static str,
    /// Shown when a change needs a fresh login instead of the current password.
    pub fresh_login_needed: &'static str,
    pub too_many_title: &'static str,
    pub too_many_text: &'static str,
    // Mails
    pub reset_mail_subject: &'static str,
    /// `{issuer}`, `{link}`, `{minutes}`
    pub reset_mail_body: &'static str,
    pub password_changed_mail_subject: &'static str,
    /// `{issuer}`, `{reset_url}`
    pub password_changed_mail_body: &'static str,
    pub email_confirm_mail_subject: &'static str,
    /// `{issuer}`, `{link}`, `{hours}`
    pub email_confirm_mail_body: &'static str,
    pub email_changed_mail_subject: &'static str,
    /// `{issuer}`, `{new_email}` (masked), `{reset_url}`
    pub email_changed_mail_body: &'static str,
}

pub static DE_RECOVERY: RecoveryTexts = RecoveryTexts {
    forgot_link: "Passwort vergessen?",
    forgot_title: "Passwort vergessen?",
    forgot_intro: "Geben Sie die E-Mail-Adresse Ihres Servicekontos ein. Wir schicken Ihnen einen Link, mit dem Sie ein neues Passwort festlegen können.",
    forgot_submit: "Link anfordern",
    back_to_login: "Zurück zur Anmeldung",
    forgot_sent_title: "Bitte prüfen Sie Ihr Postfach",
    forgot_sent_text: "Wenn es für {email} ein Servicekonto gibt, haben wir soeben einen Link dorthin geschickt. Der Link ist {minutes} Minuten gültig und kann nur einmal verwendet werden.",
    forgot_sent_hint: "Keine E-Mail erhalten? Sehen Sie bitte auch im Spam-Ordner nach und prüfen Sie die Schreibweise der Adresse. Einen neuen Link können Sie nach einigen Minuten anfordern.",
    reset_title: "Neues Passwort festlegen",
    reset_intro: "Wählen Sie ein neues Passwort für das Servicekonto {email}. Danach werden Sie auf allen anderen Geräten abgemeldet.",
    reset_submit: "Passwort speichern",
    reset_invalid_title: "Dieser Link ist ungültig",
    reset_invalid_text: "Der Link ist abgelaufen, wurde bereits verwendet oder ist unvollständig. Fordern Sie bitte einen neuen Link an.",
    reset_request_again: "Neuen Link anfordern",
    reset_done_title: "Ihr Passwort wurde geändert",
    reset_done_text: "Sie können sich jetzt mit dem neuen Passwort anmelden. Alle anderen Anmeldungen Ihres Servicekontos wurden beendet.",
    login_link: "Zur Anmeldung",
    current_password_label: "Aktuelles Passwort",
    current_password_wrong: "Das aktuelle Passwort ist nicht richtig.",
    security_section_title: "Passwort und E-Mail-Adresse",
    change_password_link: "Passwort ändern",
    change_password_title: "Passwort ändern",
    change_password_intro: "Zur Sicherheit geben Sie bitte zuerst Ihr aktuelles Passwort ein. Nach der Änderung werden Sie auf allen anderen Geräten abgemeldet.",
    change_password_submit: "Passwort ändern",
    password_changed_title: "Ihr Passwort wurde geändert",
    password_changed_text: "Ab sofort gilt das neue Passwort. Alle anderen Anmeldungen Ihres Servicekontos wurden beendet, und wir haben Ihnen eine Bestätigung per E-Mail geschickt.",
    back_to_security: "Zurück zu Anmeldung und Sicherheit",
    change_email_link: "E-Mail-Adresse ändern",
    change_email_title: "E-Mail-Adresse ändern",
    change_email_intro: "Ihre E-Mail-Adresse ist {email}. Wir schicken einen Bestätigungslink an die neue Adresse. Erst wenn Sie ihn öffnen, wird die Adresse geändert.",
    new_email_label: "Neue E-Mail-Adresse",
    change_email_submit: "Bestätigungslink senden",
    email_same: "Das ist bereits Ihre E-Mail-Adresse.",
    change_email_sent_title: "Bitte bestätigen Sie die neue Adresse",
    change_email_sent_text: "Wir haben einen Link an {new_email} geschickt. Bis Sie ihn öffnen, bleibt {old_email} Ihre Adresse. Der Link ist {hours} Stunden gültig.",
    email_confirm_title: "Neue E-Mail-Adresse bestätigen",
    email_confirm_intro: "Ihr Servicekonto soll künftig die Adresse {new_email} verwenden.",
    email_confirm_submit: "Adresse bestätigen",
    email_confirm_invalid_title: "Dieser Bestätigungslink ist ungültig",
    email_confirm_invalid_text: "Der Link ist abgelaufen, wurde bereits verwendet oder ist unvollständig. Sie können die Änderung in Ihrem Servicekonto erneut anfordern.",
    email_changed_title: "Ihre E-Mail-Adresse wurde geändert",
    email_changed_text: "Ihr Servicekonto verwendet jetzt die Adresse {new_email}. Melden Sie sich künftig mit dieser Adresse an.",
    email_taken_title: "Die Adresse wurde nicht geändert",
    email_taken_text: "Für diese E-Mail-Adresse gibt es inzwischen ein anderes Servicekonto. Ihre bisherige Adresse gilt weiter.",
    fresh_login_needed: "Bitte melden Sie sich zuerst erneut an; danach können Sie die Änderung vornehmen.",
    too_many_title: "Zu viele Anfragen",
    too_many_text: "Von Ihrem Netz kamen in kurzer Zeit zu viele Anfragen. Bitte warten Sie einige Minuten.",
    reset_mail_subject: "Neues Passwort für Ihr Servicekonto",
    reset_mail_body: "Guten Tag,\n\
             \n\
             für Ihr Servicekonto bei Pforte ({issuer}) wurde ein neues Passwort angefordert. \
             Mit diesem Link legen Sie es fest:\n\
             \n\
             {link}\n\
             \n\
             Der Link ist {minutes} Minuten gültig und kann nur einmal verwendet werden. Danach \
             werden Sie auf allen anderen Geräten abgemeldet.\n\
             \n\
             Falls Sie kein neues Passwort angefordert haben, können Sie diese E-Mail ignorieren; \
             Ihr Passwort bleibt unverändert.",
    password_changed_mail_subject: "Ihr Passwort wurde geändert",
    password_changed_mail_body: "Guten Tag,\n\
             \n\
             das Passwort Ihres Servicekontos bei Pforte ({issuer}) wurde soeben geändert. Alle \
             anderen Anmeldungen wurden beendet.\n\
             \n\
             Waren Sie das nicht? Dann legen Sie bitte sofort ein neues Passwort fest:\n\
             \n\
             {reset_url}",
    email_confirm_mail_subject: "Bitte bestätigen Sie Ihre neue E-Mail-Adresse",
    email_confirm_mail_body: "Guten Tag,\n\
             \n\
             Ihr Servicekonto bei Pforte ({issuer}) soll künftig diese E-Mail-Adresse verwenden. \
             Bitte bestätigen Sie das mit diesem Link:\n\
             \n\
             {link}\n\
             \n\
             Der Link ist {hours} Stunden gültig und kann nur einmal verwendet werden. Falls Sie \
             das nicht veranlasst haben, können Sie diese E-Mail ignorieren.",
    email_changed_mail_subject: "Die E-Mail-Adresse Ihres Servicekontos wurde geändert",
    email_changed_mail_body: "Guten Tag,\n\
             \n\
             Ihr Servicekonto bei Pforte ({issuer}) verwendet ab sofort die E-Mail-Adresse \
             {new_email} statt dieser Adresse.\n\
             \n\
             Waren Sie das nicht? Dann wenden Sie sich bitte umgehend an Ihre Kommune, und legen \
             Sie, solange Sie noch angemeldet sind, ein neues Passwort fest:\n\
             \n\
             {reset_url}",
};

pub static EN_RECOVERY: RecoveryTexts = RecoveryTexts {
    forgot_link: "Forgot your password?",
    forgot_title: "Forgot your password?",
    forgot_intro: "Enter the email address of your citizen account. We will send you a link to choose a new password.",
    forgot_submit: "Send link",
    back_to_login: "Back to sign-in",
    forgot_sent_title: "Please check your inbox",
    forgot_sent_text: "If there is a citizen account for {email}, we have just sent a link there. The link is valid for {minutes} minutes and can be used only once.",
    forgot_sent_hint: "No email? Please also look in your spam folder and check the spelling of the address. You can request a new link after a few minutes.",
    reset_title: "Choose a new password",
    reset_intro: "Choose a new password for the citizen account {email}. Afterwards you will be signed out on all other devices.",
    reset_submit: "Save password",
    reset_invalid_title: "This link is not valid",
    reset_invalid_text: "The link has expired, has already been used or is incomplete. Please request a new link.",
    reset_request_again: "Request a new link",
    reset_done_title: "Your password has been changed",
    reset_done_text: "You can now sign in with the new password. All other sessions of your citizen account have been ended.",
    login_link: "Go to sign-in",
    current_password_label: "Current password",
    current_password_wrong: "The current password is not correct.",
    security_section_title: "Password and email address",
    change_password_link: "Change password",
    change_password_title: "Change password",
    change_password_intro: "For your security, please enter your current password first. After the change you will be signed out on all other devices.",
    change_password_submit: "Change password",
    password_changed_title: "Your password has been changed",
    password_changed_text: "The new password applies from now on. All other sessions of your citizen account have been ended, and we have sent you a confirmation by email.",
    back_to_security: "Back to sign-in and security",
    change_email_link: "Change email address",
    change_email_title: "Change email address",
    change_email_intro: "Your email address is {email}. We will send a confirmation link to the new address. The address changes only when you open it.",
    new_email_label: "New email address",
    change_email_submit: "Send confirmation link",
    email_same: "This already is your email address.",
    change_email_sent_title: "Please confirm the new address",
    change_email_sent_text: "We have sent a link to {new_email}. Until you open it, {old_email} remains your address. The link is valid for {hours} hours.",
    email_confirm_title: "Confirm your new email address",
    email_confirm_intro: "Your citizen account is to use the address {new_email} from now on.",
    email_confirm_submit: "Confirm address",
    email_confirm_invalid_title: "This confirmation link is not valid",
    email_confirm_invalid_text: "The link has expired, has already been used or is incomplete. You can request the change again in your citizen account.",
    email_changed_title: "Your email address has been changed",
    email_changed_text: "Your citizen account now uses the address {new_email}. Please sign in with this address from now on.",
    email_taken_title: "The address was not changed",
    email_taken_text: "Another citizen account uses this email address by now. Your previous address remains valid.",
    fresh_login_needed: "Please sign in again first; then you can make the change.",
    too_many_title: "Too many requests",
    too_many_text: "Too many requests came from your network in a short time. Please wait a few minutes.",
    reset_mail_subject: "New password for your citizen account",
    reset_mail_body: "Hello,\n\
             \n\
             a new password has been requested for your citizen account at Pforte ({issuer}). \
             Choose it with this link:\n\
             \n\
             {link}\n\
             \n\
             The link is valid for {minutes} minutes and can be used only once. Afterwards you \
             will be signed out on all other devices.\n\
             \n\
             If you did not request a new password, you can ignore this email; your password \
             stays the same.",
    password_changed_mail_subject: "Your password has been changed",
    password_changed_mail_body: "Hello,\n\
             \n\
             the password of your citizen account at Pforte ({issuer}) has just been changed. All \
             other sessions have been ended.\n\
             \n\
             Was this not you? Then please choose a new password right away:\n\
             \n\
             {reset_url}",
    email_confirm_mail_subject: "Please confirm your new email address",
    email_confirm_mail_body: "Hello,\n\
             \n\
             your citizen account at Pforte ({issuer}) is to use this email address from now on. \
             Please confirm with this link:\n\
             \n\
             {link}\n\
             \n\
             The link is valid for {hours} hours and can be used only once. If you did not ask \
             for this, you can ignore this email.",
    email_changed_mail_subject: "The email address of your citizen account has been changed",
    email_changed_mail_body: "Hello,\n\
             \n\
             your citizen account at Pforte ({issuer}) now uses the email address {new_email} \
             instead of this address.\n\
             \n\
             Was this not you? Then please contact your municipality right away and, while you \
             are still signed in, choose a new password:\n\
             \n\
             {reset_url}",
};
