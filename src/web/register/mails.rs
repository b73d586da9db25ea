//! The registration mails (verification link, "someone tried to register").

use super::VERIFICATION_TTL;
use crate::{
    mail::Mail,
    web::i18n::{fill, Lang, MailTexts},
};

/// A bilingual message: every language of [`Lang::ALL`] in turn (German first), subjects
/// joined with " / ", each body section closed by its signature and introduced by the
/// language's name. `texts` picks a language's text table (the mail texts here, the
/// recovery texts in `web::recovery`).
pub fn bilingual<T: 'static>(
    to: &str,
    texts: impl Fn(Lang) -> &'static T,
    subject: impl Fn(&T) -> &'static str,
    body: impl Fn(&T) -> String,
) -> Mail {
    let mut subjects = Vec::new();
    let mut text = String::new();
    for (i, lang) in Lang::ALL.into_iter().enumerate() {
        let t = texts(lang);
        subjects.push(subject(t));
        if i > 0 {
            text.push_str(&format!(
                "\n---------- {} ----------\n\n",
                lang.native_name()
            ));
        }
        text.push_str(&body(t));
        text.push_str("\n\n");
        text.push_str(lang.catalog().mail.signature);
        text.push('\n');
    }
    Mail {
        to: to.into(),
        subject: subjects.join(" / "),
        body: text,
    }
}

fn mail_texts(lang: Lang) -> &'static MailTexts {
    lang.catalog().mail
}

/// The verification mail for a new account.
pub fn verification_mail(issuer: &str, to: &str, link: &str) -> Mail {
    let hours = (VERIFICATION_TTL / 3600).to_string();
    bilingual(
        to,
        mail_texts,
        |t: &MailTexts| t.verification_subject,
        |t| {
            let body = fill(t.verification_body, "issuer", issuer);
            fill(&fill(&body, "link", link), "hours", &hours)
        },
    )
}

/// The mail to an address that already has an account, instead of a second account.
pub fn existing_account_mail(issuer: &str, to: &str, account_url: &str) -> Mail {
    bilingual(
        to,
        mail_texts,
        |t: &MailTexts| t.existing_account_subject,
        |t| {
            let body = fill(t.existing_account_body, "issuer", issuer);
            fill(&body, "account_url", account_url)
        },
    )
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
