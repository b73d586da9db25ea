//! The texts of brute-force throttling: the login form's lockout message and the notice mail
//! to the account (see `crate::throttle`).
//!
//! Placeholders: `{time}` (local time `HH:MM`, Europe/Berlin), `{issuer}`, `{security_url}`.

/// Lockout texts of one language.
#[derive(Debug, serde::Serialize)]
pub struct ThrottleTexts {
    /// `{time}`: shown on the login form instead of checking the password.
    pub login_locked: &'static str,
    /// `{time}`: the error page of other throttled forms.
    pub try_again_at: &'static str,
    pub lockout_mail_subject: &'static str,
    /// `{issuer}`, `{security_url}`; from the greeting to the last paragraph.
    pub lockout_mail_body: &'static str,
}

pub static DE_THROTTLE: ThrottleTexts = ThrottleTexts {
    login_locked: "Zu viele fehlgeschlagene Anmeldeversuche. Zu Ihrem Schutz ist die nächste \
                   Anmeldung ab {time} Uhr möglich.",
    try_again_at: "Zu viele Versuche. Bitte versuchen Sie es ab {time} Uhr erneut.",
    lockout_mail_subject: "Mehrere fehlgeschlagene Anmeldeversuche bei Ihrem Servicekonto",
    lockout_mail_body: "Guten Tag,\n\
             \n\
             bei Pforte, dem Servicekonto Ihrer Kommune ({issuer}), wurde mehrmals hintereinander \
             versucht, sich mit Ihrer E-Mail-Adresse und einem falschen Passwort anzumelden. Zu \
             Ihrem Schutz sind weitere Anmeldeversuche für einige Minuten gesperrt; danach \
             verlängert sich die Wartezeit mit jedem weiteren Fehlversuch.\n\
             \n\
             Waren Sie das? Dann warten Sie bitte einige Minuten und versuchen Sie es erneut.\n\
             \n\
             Waren Sie das nicht? Angemeldet hat sich dabei niemand. Wenn Sie Ihr Passwort auch \
             anderswo verwenden, ändern Sie es bitte, und richten Sie einen zweiten Faktor ein:\n\
             \n\
             {security_url}",
};

pub static EN_THROTTLE: ThrottleTexts = ThrottleTexts {
    login_locked: "Too many failed login attempts. For your protection, you can log in again \
                   at {time}.",
    try_again_at: "Too many attempts. Please try again at {time}.",
    lockout_mail_subject: "Several failed login attempts for your citizen account",
    lockout_mail_body: "Hello,\n\
             \n\
             someone tried several times in a row to log in to Pforte, your municipality's \
             citizen account ({issuer}), with your email address and a wrong password. For your \
             protection, further attempts are blocked for a few minutes; the wait grows with \
             every further failure.\n\
             \n\
             Was that you? Then please wait a few minutes and try again.\n\
             \n\
             Was it not you? Nobody logged in. If you use your password elsewhere too, please \
             change it, and set up a second factor:\n\
             \n\
             {security_url}",
};
