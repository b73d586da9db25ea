//! Texts looked up by a runtime key: OAuth/OIDC error codes, scopes, validation keys,
//! assurance levels. The key-to-text mapping is written once, here; the wording of each
//! language is a [`LookupTexts`] table (complete by construction: a missing entry does not
//! compile).

use super::Lang;

/// Citizen-readable title and explanation of an error page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ErrorText {
    pub title: &'static str,
    pub body: &'static str,
}

/// The runtime-key texts of one language.
#[derive(Debug, serde::Serialize)]
pub struct LookupTexts {
    pub errors: ErrorTexts,
    pub scopes: ScopeTexts,
    pub fields: FieldTexts,
    pub levels: LevelTexts,
}

/// Error page wording by error code (see [`error_text`] for which codes share one).
#[derive(Debug, serde::Serialize)]
pub struct ErrorTexts {
    /// The client's request was wrong (`invalid_request`, `invalid_scope`, …).
    pub request_invalid: ErrorText,
    pub access_denied: ErrorText,
    pub unmet_authentication_requirements: ErrorText,
    /// `login_required`, `interaction_required`, `consent_required`, …
    pub login_required: ErrorText,
    /// `session_expired`, `csrf`, `expired`
    pub session_expired: ErrorText,
    pub invalid_verification_link: ErrorText,
    pub not_found: ErrorText,
    /// `too_many_requests`, `slow_down`
    pub too_many_requests: ErrorText,
    pub temporarily_unavailable: ErrorText,
    pub server_error: ErrorText,
    /// Any other code with a status below 500.
    pub other: ErrorText,
}

/// Consent wording per scope: `(label, plain-language description)`.
#[derive(Debug, serde::Serialize)]
pub struct ScopeTexts {
    pub openid: (&'static str, &'static str),
    pub profile: (&'static str, &'static str),
    pub email: (&'static str, &'static str),
    pub address: (&'static str, &'static str),
    pub phone: (&'static str, &'static str),
    pub offline_access: (&'static str, &'static str),
}

/// Field validation messages (see [`field_error_text`]). `required` of `email` and the
/// form-level `session_expired` use the login page's wording ([`super::Texts`]).
#[derive(Debug, serde::Serialize)]
pub struct FieldTexts {
    pub required_password: &'static str,
    pub required_given_name: &'static str,
    pub required_family_name: &'static str,
    /// `required` on any other field.
    pub required: &'static str,
    pub email_invalid: &'static str,
    /// `{min}`
    pub password_too_short: &'static str,
    pub password_too_long: &'static str,
    pub password_common: &'static str,
    pub too_long: &'static str,
    pub invalid_characters: &'static str,
}

/// The citizen-facing names of the assurance levels.
#[derive(Debug, serde::Serialize)]
pub struct LevelTexts {
    pub low: &'static str,
    pub substantial: &'static str,
    pub high: &'static str,
}

/// The error page wording for an OAuth 2.0 / OIDC error code (RFC 6749 §4.1.2.1, §5.2,
/// OIDC Core §3.1.2.6, RFC 9101, RFC 9126, …) or Pforte's own codes (`not_found`,
/// `session_expired`, `invalid_redirect_uri`, `invalid_client_id`, `too_many_requests`,
/// `invalid_verification_link`),
/// falling back to a wording chosen by HTTP `status`.
pub fn error_text(lang: Lang, code: &str, status: u16) -> ErrorText {
    let e = &lang.catalog().lookups.errors;
    match code {
        "invalid_request"
        | "invalid_request_uri"
        | "invalid_request_object"
        | "request_not_supported"
        | "request_uri_not_supported"
        | "registration_not_supported"
        | "unsupported_response_type"
        | "unsupported_response_mode"
        | "invalid_scope"
        | "invalid_redirect_uri"
        | "invalid_client"
        | "invalid_client_id"
        | "unauthorized_client" => e.request_invalid,
        "access_denied" => e.access_denied,
        "unmet_authentication_requirements" => e.unmet_authentication_requirements,
        "login_required"
        | "interaction_required"
        | "consent_required"
        | "account_selection_required" => e.login_required,
        "session_expired" | "csrf" | "invalid_csrf" | "expired" => e.session_expired,
        "invalid_verification_link" => e.invalid_verification_link,
        "not_found" => e.not_found,
        "too_many_requests" | "slow_down" => e.too_many_requests,
        "temporarily_unavailable" => e.temporarily_unavailable,
        "server_error" => e.server_error,
        _ => match status {
            404 => e.not_found,
            429 => e.too_many_requests,
            503 => e.temporarily_unavailable,
            500..=599 => e.server_error,
            _ => e.other,
        },
    }
}

/// Consent wording for an OAuth scope: `(label, plain-language description)`.
/// `None` for scopes Pforte does not know (the consent page then shows the raw scope).
pub fn scope_text(lang: Lang, scope: &str) -> Option<(&'static str, &'static str)> {
    let s = &lang.catalog().lookups.scopes;
    Some(match scope {
        "openid" => s.openid,
        "profile" => s.profile,
        "email" => s.email,
        "address" => s.address,
        "phone" => s.phone,
        "offline_access" => s.offline_access,
        _ => return None,
    })
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
    let c = lang.catalog();
    let f = &c.lookups.fields;
    Some(match (key, field) {
        ("required", "email") => c.pages.missing_email,
        ("required", "password") => f.required_password,
        ("required", "given_name") => f.required_given_name,
        ("required", "family_name") => f.required_family_name,
        ("required", _) => f.required,
        ("email_invalid", _) => f.email_invalid,
        ("password_too_short", _) => f.password_too_short,
        ("password_too_long", _) => f.password_too_long,
        ("password_common", _) => f.password_common,
        ("too_long", _) => f.too_long,
        ("invalid_characters", _) => f.invalid_characters,
        ("session_expired", _) => c.pages.session_expired,
        _ => return None,
    })
}

/// The citizen-facing name of an assurance level (`low` / `substantial` / `high`, or the
/// eIDAS URIs). `None` for anything else.
pub fn level_label(lang: Lang, level: &str) -> Option<&'static str> {
    let l = &lang.catalog().lookups.levels;
    Some(match level {
        "low" | "http://eidas.europa.eu/LoA/low" => l.low,
        "substantial" | "http://eidas.europa.eu/LoA/substantial" => l.substantial,
        "high" | "http://eidas.europa.eu/LoA/high" => l.high,
        _ => return None,
    })
}

pub static DE_LOOKUPS: LookupTexts = LookupTexts {
    errors: ErrorTexts {
        request_invalid: ErrorText {
            title: "Die Anmeldung konnte nicht gestartet werden",
            body: "Der Online-Dienst, von dem Sie kommen, hat die Anmeldung nicht korrekt angefragt. Sie haben nichts falsch gemacht. Ihre Daten wurden nicht weitergegeben.",
        },
        access_denied: ErrorText {
            title: "Die Anmeldung wurde abgebrochen",
            body: "Die Anmeldung wurde nicht abgeschlossen. Ihre Daten wurden nicht weitergegeben.",
        },
        unmet_authentication_requirements: ErrorText {
            title: "Das nötige Vertrauensniveau wurde nicht erreicht",
            body: "Dieser Online-Dienst verlangt einen sichereren Nachweis Ihrer Identität, zum Beispiel mit der Online-Ausweisfunktion Ihres Personalausweises. Ihre Daten wurden nicht weitergegeben.",
        },
        login_required: ErrorText {
            title: "Bitte melden Sie sich an",
            body: "Für diesen Online-Dienst müssen Sie sich anmelden oder eine Zustimmung erteilen. Starten Sie die Anmeldung bitte erneut beim Online-Dienst.",
        },
        session_expired: ErrorText {
            title: "Die Sitzung ist abgelaufen",
            body: "Aus Sicherheitsgründen ist eine Anmeldung nur eine begrenzte Zeit lang gültig. Ihre Daten wurden nicht weitergegeben.",
        },
        invalid_verification_link: ErrorText {
            title: "Dieser Bestätigungslink ist ungültig",
            body: "Der Link ist abgelaufen, wurde bereits verwendet oder ist unvollständig. Wenn Sie Ihre E-Mail-Adresse schon bestätigt haben, können Sie sich einfach anmelden.",
        },
        not_found: ErrorText {
            title: "Seite nicht gefunden",
            body: "Diese Seite gibt es nicht. Bitte prüfen Sie die Adresse.",
        },
        too_many_requests: ErrorText {
            title: "Zu viele Versuche",
            body: "Aus Sicherheitsgründen sind gerade keine weiteren Versuche möglich. Bitte warten Sie einige Minuten.",
        },
        temporarily_unavailable: ErrorText {
            title: "Der Dienst ist vorübergehend nicht erreichbar",
            body: "Bitte versuchen Sie es gleich noch einmal – meist genügen wenige Sekunden. Sie haben nichts falsch gemacht.",
        },
        server_error: ErrorText {
            title: "Ein technischer Fehler ist aufgetreten",
            body: "Bei uns ist ein Fehler aufgetreten. Sie haben nichts falsch gemacht. Bitte versuchen Sie es später erneut.",
        },
        other: ErrorText {
            title: "Die Anfrage konnte nicht bearbeitet werden",
            body: "Bei der Anmeldung ist ein Problem aufgetreten. Ihre Daten wurden nicht weitergegeben.",
        },
    },
    scopes: ScopeTexts {
        openid: ("Anmeldung", "Eine Kennung, an der der Dienst Sie wiedererkennt, und wie sicher Sie sich angemeldet haben."),
        profile: ("Name und Profil", "Ihr Vor- und Familienname sowie, falls hinterlegt, Geburtsdatum und Sprache."),
        email: ("E-Mail-Adresse", "Ihre E-Mail-Adresse und ob sie bestätigt ist."),
        address: ("Anschrift", "Ihre Anschrift: Straße, Hausnummer, Postleitzahl, Ort und Land."),
        phone: ("Telefonnummer", "Ihre Telefonnummer und ob sie bestätigt ist."),
        offline_access: ("Dauerhafter Zugriff", "Der Dienst darf diese Daten auch abrufen, wenn Sie gerade nicht angemeldet sind – bis Sie den Zugriff entziehen."),
    },
    fields: FieldTexts {
        required_password: "Bitte geben Sie ein Passwort ein.",
        required_given_name: "Bitte geben Sie Ihren Vornamen ein.",
        required_family_name: "Bitte geben Sie Ihren Familiennamen ein.",
        required: "Bitte füllen Sie dieses Feld aus.",
        email_invalid: "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de.",
        password_too_short: "Das Passwort muss mindestens {min} Zeichen lang sein.",
        password_too_long: "Das Passwort ist zu lang.",
        password_common: "Dieses Passwort ist zu leicht zu erraten. Bitte wählen Sie ein anderes.",
        too_long: "Die Eingabe ist zu lang.",
        invalid_characters: "Die Eingabe enthält unzulässige Zeichen, zum Beispiel Zeilenumbrüche.",
    },
    levels: LevelTexts {
        low: "Basisregistrierung (E-Mail-Adresse und Passwort)",
        substantial: "Substanziell (zum Beispiel mit zweitem Faktor oder ELSTER-Zertifikat)",
        high: "Hoch (Online-Ausweisfunktion)",
    },
};

pub static EN_LOOKUPS: LookupTexts = LookupTexts {
    errors: ErrorTexts {
        request_invalid: ErrorText {
            title: "Signing in could not be started",
            body: "The online service you came from did not request the sign-in correctly. You have done nothing wrong. None of your data has been shared.",
        },
        access_denied: ErrorText {
            title: "Signing in was cancelled",
            body: "Signing in was not completed. None of your data has been shared.",
        },
        unmet_authentication_requirements: ErrorText {
            title: "The required level of assurance was not reached",
            body: "This online service requires stronger proof of your identity, for example the online ID function of your identity card. None of your data has been shared.",
        },
        login_required: ErrorText {
            title: "Please sign in",
            body: "This online service needs you to sign in or give your consent. Please start signing in again at the online service.",
        },
        session_expired: ErrorText {
            title: "Your session has expired",
            body: "For your security, a sign-in is only valid for a limited time. None of your data has been shared.",
        },
        invalid_verification_link: ErrorText {
            title: "This confirmation link is not valid",
            body: "The link has expired, has already been used or is incomplete. If you have already confirmed your email address, you can simply sign in.",
        },
        not_found: ErrorText {
            title: "Page not found",
            body: "This page does not exist. Please check the address.",
        },
        too_many_requests: ErrorText {
            title: "Too many attempts",
            body: "For your security, no further attempts are possible right now. Please wait a few minutes.",
        },
        temporarily_unavailable: ErrorText {
            title: "The service is temporarily unavailable",
            body: "Please try again shortly – a few seconds are usually enough. You have done nothing wrong.",
        },
        server_error: ErrorText {
            title: "A technical error has occurred",
            body: "Something went wrong on our side. You have done nothing wrong. Please try again later.",
        },
        other: ErrorText {
            title: "The request could not be processed",
            body: "There was a problem with signing in. None of your data has been shared.",
        },
    },
    scopes: ScopeTexts {
        openid: ("Sign-in", "An identifier by which the service recognises you, and how securely you signed in."),
        profile: ("Name and profile", "Your given and family name and, if stored, your date of birth and language."),
        email: ("Email address", "Your email address and whether it has been confirmed."),
        address: ("Postal address", "Your address: street, house number, postcode, town and country."),
        phone: ("Phone number", "Your phone number and whether it has been confirmed."),
        offline_access: ("Ongoing access", "The service may fetch this data even when you are not signed in – until you revoke access."),
    },
    fields: FieldTexts {
        required_password: "Enter a password.",
        required_given_name: "Enter your given name.",
        required_family_name: "Enter your family name.",
        required: "Please fill in this field.",
        email_invalid: "Enter a valid email address, for example name@example.com.",
        password_too_short: "The password must be at least {min} characters long.",
        password_too_long: "The password is too long.",
        password_common: "This password is too easy to guess. Please choose another one.",
        too_long: "This entry is too long.",
        invalid_characters: "This entry contains characters that are not allowed, such as line breaks.",
    },
    levels: LevelTexts {
        low: "Basic registration (email address and password)",
        substantial: "Substantial (for example with a second factor or an ELSTER certificate)",
        high: "High (online ID function)",
    },
};
