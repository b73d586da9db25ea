//! Texts looked up by a runtime key: OAuth/OIDC error codes, scopes, validation keys,
//! assurance levels.

use super::{Lang, DE, EN};

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
