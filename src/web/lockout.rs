//! What citizens see of brute-force throttling (`crate::throttle`): the time the next attempt
//! is possible, in German local time, and the notice mail to an account whose logins were
//! locked.

use crate::{
    app::App,
    mail::Mail,
    web::i18n::{fill, Lang},
};

/// `HH:MM` of Unix time `t` in Europe/Berlin (CET, or CEST from the last Sunday of March to
/// the last Sunday of October, switching at 01:00 UTC: Directive 2000/84/EC). Rounded up to
/// the next minute, so "try again at" is never too early.
pub fn berlin_hhmm(t: i64) -> String {
    let t = t + 59;
    let utc =
        time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let year = utc.year();
    let summer = last_sunday_0100_utc(year, time::Month::March)
        ..last_sunday_0100_utc(year, time::Month::October);
    let offset = if summer.contains(&t) { 2 * 3600 } else { 3600 };
    let local = time::OffsetDateTime::from_unix_timestamp(t + offset)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:02}:{:02}", local.hour(), local.minute())
}

fn last_sunday_0100_utc(year: i32, month: time::Month) -> i64 {
    let last =
        time::Date::from_calendar_date(year, month, 31).expect("March and October have 31 days");
    let back = i64::from(last.weekday().number_days_from_sunday());
    let day = last - time::Duration::days(back);
    day.with_hms(1, 0, 0)
        .expect("valid time")
        .assume_utc()
        .unix_timestamp()
}

/// The notice mail: German first, then English.
pub fn lockout_mail(issuer: &str, to: &str) -> Mail {
    let security_url = format!("{issuer}/account/security");
    let mut subjects = Vec::new();
    let mut body = String::new();
    for (i, lang) in Lang::ALL.into_iter().enumerate() {
        let t = lang.catalog().throttle;
        subjects.push(t.lockout_mail_subject);
        if i > 0 {
            body.push_str(&format!(
                "\n---------- {} ----------\n\n",
                lang.native_name()
            ));
        }
        let text = fill(t.lockout_mail_body, "issuer", issuer);
        body.push_str(&fill(&text, "security_url", &security_url));
        body.push_str("\n\n");
        body.push_str(lang.catalog().mail.signature);
        body.push('\n');
    }
    Mail {
        to: to.into(),
        subject: subjects.join(" / "),
        body,
    }
}

/// Sends the notice to the account of `email`, if there is one with a confirmed address, in
/// the background: the answer to the login must not wait for it, or an unknown address would
/// answer faster than a known one.
pub fn notify_in_background(app: &App, email: &str) {
    let app = app.clone();
    let email = email.to_string();
    tokio::spawn(async move {
        let Ok(normalised) = crate::accounts::normalise_email(&email) else {
            return;
        };
        let account = match app.db.account_by_email(&normalised).await {
            Ok(Some(a)) if a.email_verified && a.disabled_at.is_none() => a,
            Ok(_) => return,
            Err(e) => {
                tracing::error!(error = %e, "lockout notice: reading the account failed");
                return;
            }
        };
        // The one place that hands the notice to the mailer (its public API).
        let mail = lockout_mail(&app.config.issuer, &account.email);
        if let Err(e) = app.outbox.send(&mail).await {
            tracing::error!(error = %e, "queueing the lockout notice failed");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_time_with_summer_time() {
        // 2026-01-15 12:00:00 UTC → 13:00 CET.
        assert_eq!(berlin_hhmm(1_768_478_400), "13:00");
        // 2026-07-01 12:00:00 UTC → 14:00 CEST.
        assert_eq!(berlin_hhmm(1_782_907_200), "14:00");
        // Rounded up: 12:00:01 UTC in winter → 13:01.
        assert_eq!(berlin_hhmm(1_768_478_401), "13:01");
        // 2026-03-29 is the last Sunday of March: 00:59:00 UTC is still CET, 01:00 UTC CEST.
        assert_eq!(berlin_hhmm(1_774_745_940), "01:59");
        assert_eq!(berlin_hhmm(1_774_746_000), "03:00");
    }

    #[test]
    fn notice_mail_is_german_first_and_links_the_security_page() {
        let m = lockout_mail("https://p.example.de", "anna@example.de");
        assert!(m.body.find("Guten Tag").unwrap() < m.body.find("Hello").unwrap());
        assert!(m.body.contains("https://p.example.de/account/security"));
        assert!(m.subject.contains(" / "));
    }
}
