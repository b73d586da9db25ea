//! The registration mails (verification link, "someone tried to register").

use super::VERIFICATION_TTL;
use crate::mail::Mail;

const SIGNATURE_DE: &str =
    "Diese E-Mail wurde automatisch erstellt. Bitte antworten Sie nicht darauf.";
const SIGNATURE_EN: &str = "This email was generated automatically. Please do not reply.";

/// The verification mail for a new account.
pub fn verification_mail(issuer: &str, to: &str, link: &str) -> Mail {
    let hours = VERIFICATION_TTL / 3600;
    Mail {
        to: to.into(),
        subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse / Please confirm your email address"
            .into(),
        body: format!(
            "Guten Tag,\n\
             \n\
             mit dieser E-Mail-Adresse wurde bei Pforte, dem Servicekonto Ihrer Kommune ({issuer}), \
             ein Servicekonto erstellt. Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie diesen \
             Link öffnen:\n\
             \n\
             {link}\n\
             \n\
             Der Link ist {hours} Stunden gültig und kann nur einmal verwendet werden.\n\
             \n\
             Falls Sie kein Servicekonto erstellt haben, können Sie diese E-Mail ignorieren.\n\
             \n\
             {SIGNATURE_DE}\n\
             \n\
             ---------- English ----------\n\
             \n\
             Hello,\n\
             \n\
             a citizen account has been created with this email address at Pforte, your \
             municipality's citizen account ({issuer}). Please confirm your email address by \
             opening this link:\n\
             \n\
             {link}\n\
             \n\
             The link is valid for {hours} hours and can be used only once.\n\
             \n\
             If you did not create a citizen account, you can ignore this email.\n\
             \n\
             {SIGNATURE_EN}\n"
        ),
    }
}

/// The mail to an address that already has an account, instead of a second account.
pub fn existing_account_mail(issuer: &str, to: &str, account_url: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: "Registrierungsversuch mit Ihrer E-Mail-Adresse / Registration attempt with your email address"
            .into(),
        body: format!(
            "Guten Tag,\n\
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
             niemand Zugriff auf Ihr Konto erhalten.\n\
             \n\
             {SIGNATURE_DE}\n\
             \n\
             ---------- English ----------\n\
             \n\
             Hello,\n\
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
             account through this attempt.\n\
             \n\
             {SIGNATURE_EN}\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_are_german_first_and_carry_the_link() {
        let m = verification_mail(
            "https://p.example.de",
            "anna@example.de",
            "https://p.example.de/register/verify?token=T",
        );
        let de = m.body.find("Guten Tag").unwrap();
        let en = m.body.find("Hello").unwrap();
        assert!(de < en);
        assert_eq!(
            m.body
                .matches("https://p.example.de/register/verify?token=T\n")
                .count(),
            2
        );
        let n = existing_account_mail(
            "https://p.example.de",
            "anna@example.de",
            "https://p.example.de/account",
        );
        assert!(n.body.contains("https://p.example.de/account\n"));
        assert!(!n.body.contains("token"));
    }
}
