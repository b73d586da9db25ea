//! The texts of the mails Pforte sends, per language. `web::register::mails` builds the
//! messages from them; `mail` only composes and sends.
//!
//! Placeholders: `{issuer}` (Pforte's issuer URL), `{link}` (the verification link), `{hours}`
//! (its validity), `{account_url}`.

/// The mail texts of one language.
#[derive(Debug, serde::Serialize)]
pub struct MailTexts {
    pub verification_subject: &'static str,
    /// `{issuer}`, `{link}`, `{hours}`; from the greeting to the last paragraph.
    pub verification_body: &'static str,
    pub existing_account_subject: &'static str,
    /// `{issuer}`, `{account_url}`; from the greeting to the last paragraph.
    pub existing_account_body: &'static str,
    /// Closes every mail.
    pub signature: &'static str,
}

pub static DE_MAIL: MailTexts = MailTexts {
    verification_subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse",
    verification_body: "Guten Tag,\n\
             \n\
             mit dieser E-Mail-Adresse wurde bei Pforte, dem Servicekonto Ihrer Kommune ({issuer}), \
             ein Servicekonto erstellt. Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie diesen \
             Link öffnen; dort wählen Sie auch Ihr Passwort:\n\
             \n\
             {link}\n\
             \n\
             Der Link ist {hours} Stunden gültig und kann nur einmal verwendet werden.\n\
             \n\
             Falls Sie kein Servicekonto erstellt haben, können Sie diese E-Mail ignorieren.",
    existing_account_subject: "Registrierungsversuch mit Ihrer E-Mail-Adresse",
    existing_account_body: "Guten Tag,\n\
             \n\
             soeben wurde versucht, bei Pforte, dem Servicekonto Ihrer Kommune ({issuer}), mit \
             Ihrer E-Mail-Adresse ein Servicekonto zu erstellen. Für diese Adresse gibt es bereits \
             ein Servicekonto. Es wurde deshalb kein neues Konto angelegt, und Ihr bestehendes \
             Konto wurde nicht verändert.\n\
             \n\
             Waren Sie das? Dann melden Sie sich bitte mit Ihrem bestehenden Konto an:\n\
             \n\
             {account_url}\n\
             \n\
             Waren Sie das nicht, können Sie diese E-Mail ignorieren. Durch diesen Versuch hat \
             niemand Zugriff auf Ihr Konto erhalten.",
    signature: "Diese E-Mail wurde automatisch erstellt. Bitte antworten Sie nicht darauf.",
};

pub static EN_MAIL: MailTexts = MailTexts {
    verification_subject: "Please confirm your email address",
    verification_body: "             Hello,\n\
             \n\
             a citizen account has been created with this email address at Pforte, your \
             municipality's citizen account ({issuer}). Please confirm your email address by \
             opening this link; there you also choose your password:\n\
             \n\
             {link}\n\
             \n\
             The link is valid for {hours} hours and can be used only once.\n\
             \n\
             If you did not create a citizen account, you can ignore this email.",
    existing_account_subject: "Registration attempt with your email address",
    existing_account_body: "             Hello,\n\
             \n\
             someone just tried to create a citizen account with your email address at Pforte, \
             your municipality's citizen account ({issuer}). There already is a citizen account \
             for this address, so no new account was created and your existing account was not \
             changed.\n\
             \n\
             Was this you? Then please sign in with your existing account:\n\
             \n\
             {account_url}\n\
             \n\
             If this was not you, you can ignore this email. Nobody has gained access to your \
             account through this attempt.",
    signature: "This email was generated automatically. Please do not reply.",
};
