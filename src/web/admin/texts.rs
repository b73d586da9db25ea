//! The admin console's texts, German and English: one table, looked up by key. A key missing
//! from the table shows as itself (unit-tested: every key used by the console is present).

/// `(key, German, English)`.
const TEXTS: &[(&str, &str, &str)] = &[
    ("console", "Verwaltung", "Administration"),
    ("skip", "Zum Inhalt springen", "Skip to content"),
    ("lang_nav", "Sprache", "Language"),
    ("main_nav", "Bereiche der Verwaltung", "Administration areas"),
    ("home", "Übersicht", "Overview"),
    ("services", "Dienste", "Services"),
    ("policy", "Vertrauensniveaus", "Assurance policy"),
    ("keys", "Signaturschlüssel", "Signing keys"),
    ("citizens", "Bürgerinnen und Bürger", "Citizens"),
    ("audit", "Protokoll", "Audit trail"),
    ("logout", "Abmelden", "Log out"),
    ("sources", "Identitätsquellen", "Identity sources"),
    ("sources_intro", "Externe Anmeldedienste (Servicekonto NRW, Online-Ausweis, andere OpenID-Anbieter) und wie weit ihnen vertraut wird.", "External login services (Servicekonto NRW, eID, other OpenID providers) and how far they are trusted."),
    ("no_sources", "Noch keine Identitätsquelle eingerichtet.", "No identity source set up yet."),
    ("source_new", "Neue Identitätsquelle", "Add an identity source"),
    ("source_id", "Kennung der Quelle", "Source identifier"),
    ("source_id_hint", "Buchstaben, Ziffern, - und _ (höchstens 64 Zeichen). Teil der Rücksprungadresse, später nicht änderbar.", "Letters, digits, - and _ (at most 64 characters). Part of the callback address; cannot be changed later."),
    ("display_name", "Anzeigename (auf der Anmeldeseite)", "Display name (on the log-in page)"),
    ("profile", "Art der Quelle", "Kind of source"),
    ("issuer", "Aussteller (issuer)", "Issuer"),
    ("issuer_hint", "Die https-Adresse des Anbieters, wie in seinen Tokens.", "The provider's https address, as in its tokens."),
    ("upstream_client_id", "Kennung von Pforte beim Anbieter (client_id)", "Pforte's client id at the provider"),
    ("upstream_secret", "Geheimnis von Pforte beim Anbieter", "Pforte's secret at the provider"),
    ("upstream_secret_hint_new", "Wird verschlüsselt gespeichert und nie wieder angezeigt. Leer nur bei private_key_jwt.", "Stored encrypted and never shown again. Empty only with private_key_jwt."),
    ("upstream_secret_hint_keep", "Wird nie angezeigt. Leer lassen, um das gespeicherte Geheimnis zu behalten.", "Never shown. Leave empty to keep the stored secret."),
    ("upstream_auth", "Anmeldung von Pforte beim Anbieter", "How Pforte authenticates at the provider"),
    ("upstream_scopes_hint", "Durch Leerzeichen getrennt; leer: die Vorgabe der Art.", "Separated by spaces; empty: the default of the kind."),
    ("claim_map", "Übernahme der Angaben", "Claim mapping"),
    ("claim_map_hint", "Je Zeile: Angabe beim Anbieter=Angabe in Pforte, z. B. given_name=given_name. Leer: die Vorgabe der Art.", "One per line: provider claim=Pforte claim, e.g. given_name=given_name. Empty: the default of the kind."),
    ("acr_map", "Vertrauensniveau je acr-Wert", "Level per acr value"),
    ("acr_map_hint", "Je Zeile: acr-Wert=Niveau (low, substantial, high).", "One per line: acr value=level (low, substantial, high)."),
    ("trust_cap", "Höchstes Niveau (Vertrauen)", "Highest level (trust)"),
    ("trust_cap_hint", "Eine Anmeldung über diese Quelle zählt höchstens so viel.", "A login through this source counts at most this much."),
    ("profile_default", "Vorgabe der Art", "Default of the kind"),
    ("read_userinfo", "Nach der Anmeldung die Userinfo des Anbieters lesen", "Read the provider's userinfo after the login"),
    ("end_upstream_session", "Beim Abmelden auch beim Anbieter abmelden (end_session)", "Also log out at the provider (end_session)"),
    ("source_is_enabled", "Die Quelle ist aktiv: Bürgerinnen und Bürger können sich darüber anmelden.", "The source is active: citizens can log in through it."),
    ("source_is_disabled", "Die Quelle ist gesperrt: keine Anmeldung darüber.", "The source is disabled: no login through it."),
    ("source_enable", "Quelle wieder freigeben", "Enable the source"),
    ("source_disable", "Quelle sperren", "Disable the source"),
    ("staff_roles", "Rollen in der Verwaltung", "Staff roles"),
    ("staff_roles_none", "Dieses Konto hat keine Rolle in der Verwaltung.", "This account has no staff role."),
    ("role", "Rolle", "Role"),
    ("grant_role", "Rolle vergeben", "Grant role"),
    ("revoke_role", "Entziehen", "Revoke"),
    ("role_admin", "Administration (alles)", "Administrator (everything)"),
    ("role_policy", "Dienste und Vertrauensniveaus", "Services and assurance policy"),
    ("role_helpdesk", "Bürgerservice (Konten sperren, entsperren, abmelden)", "Help desk (lock, unlock, log out accounts)"),
    ("role_auditor", "Prüfung (nur lesen)", "Auditor (read only)"),
    ("footer", "Pforte – Verwaltung des Bürgerkontos. Jede Änderung wird protokolliert.", "Pforte – citizen account administration. Every change is recorded."),
    ("home_heading", "Verwaltung des Bürgerkontos", "Citizen account administration"),
    ("home_intro", "Wählen Sie einen Bereich. Sie sehen nur, was Ihre Rolle erlaubt.", "Choose an area. You see only what your role allows."),
    ("services_intro", "Online-Dienste, die sich über Pforte anmelden: Adressen, Anmeldeverfahren, Mindestniveau.", "Online services that log citizens in through Pforte: addresses, authentication, minimum level."),
    ("policy_intro", "Wie alt eine Anmeldung je Vertrauensniveau sein darf und welches Niveau ein Bereich (Scope) verlangt.", "How old a login may be per level, and which level a scope requires."),
    ("keys_intro", "Die Schlüssel, mit denen Pforte Anmeldungen signiert. Dienste lesen die öffentlichen Teile.", "The keys Pforte signs logins with. Services read their public parts."),
    ("citizens_intro", "Ein Konto suchen: nach E-Mail-Adresse oder Kennung (sub).", "Find an account by e-mail address or identifier (sub)."),
    ("audit_intro", "Wer hat wann was getan: Anmeldungen und jede Änderung.", "Who did what and when: logins and every change."),
    ("search_services", "Dienst suchen (Kennung oder Name)", "Search services (id or name)"),
    ("search_citizens", "E-Mail-Adresse oder Kennung", "E-mail address or identifier"),
    ("search", "Suchen", "Search"),
    ("service_new", "Neuen Dienst anlegen", "Register a service"),
    ("import_export", "Import und Export", "Import and export"),
    ("id", "Kennung (client_id)", "Identifier (client_id)"),
    ("id_hint", "Buchstaben, Ziffern, - _ . : (höchstens 128 Zeichen). Später nicht änderbar.", "Letters, digits, - _ . : (at most 128 characters). Cannot be changed later."),
    ("name", "Name", "Name"),
    ("auth_method", "Anmeldung des Dienstes", "Service authentication"),
    ("auth_public", "Öffentlicher Dienst (ohne Geheimnis, mit PKCE)", "Public service (no secret, PKCE)"),
    ("auth_secret", "Mit Geheimnis (wird einmal angezeigt)", "With a secret (shown once)"),
    ("min_level", "Mindestniveau", "Minimum level"),
    ("state", "Zustand", "State"),
    ("active", "aktiv", "active"),
    ("disabled", "gesperrt", "disabled"),
    ("redirect_uris", "Rücksprungadressen (redirect_uri)", "Redirect URIs"),
    ("post_logout_uris", "Adressen nach der Abmeldung", "Post-logout redirect URIs"),
    ("one_per_line", "Eine Adresse je Zeile, genau wie der Dienst sie sendet.", "One address per line, exactly as the service sends it."),
    ("grant_types", "Grant-Typen", "Grant types"),
    ("grant_types_hint", "Durch Leerzeichen getrennt: authorization_code refresh_token client_credentials", "Space-separated: authorization_code refresh_token client_credentials"),
    ("scopes", "Scopes", "Scopes"),
    ("space_separated", "Durch Leerzeichen getrennt.", "Space-separated."),
    ("methods", "Erlaubte Anmeldeverfahren", "Allowed login methods"),
    ("methods_hint", "Leer: alle. Sonst z. B. „password totp passkey“.", "Empty: all. Otherwise e.g. “password totp passkey”."),
    ("upstreams", "Erlaubte Identitätsquellen", "Allowed identity sources"),
    ("upstreams_hint", "Leer: alle. Sonst die Kennungen, durch Leerzeichen getrennt.", "Empty: all. Otherwise their ids, space-separated."),
    ("first_party", "Dienst der Stadt selbst (keine Einwilligungsseite)", "The city's own service (no consent page)"),
    ("confirm_change", "Ich habe die Angaben geprüft und will die Änderung jetzt ausführen.", "I have checked this and want to make the change now."),
    ("confirm_rotate", "Das alte Geheimnis gilt danach nicht mehr.", "The old secret stops working."),
    ("save", "Speichern", "Save"),
    ("secret", "Geheimnis", "Secret"),
    ("rotate_hint", "Ein neues Geheimnis wird erzeugt und genau einmal angezeigt.", "A new secret is generated and shown exactly once."),
    ("rotate_secret", "Neues Geheimnis erzeugen", "Generate a new secret"),
    ("no_secret", "Dieser Dienst meldet sich ohne Geheimnis an.", "This service authenticates without a secret."),
    ("is_disabled", "Der Dienst ist gesperrt: keine neuen Anmeldungen.", "The service is disabled: no new logins."),
    ("is_enabled", "Der Dienst ist aktiv.", "The service is active."),
    ("enable", "Dienst wieder freigeben", "Enable the service"),
    ("disable", "Dienst sperren", "Disable the service"),
    ("new_secret", "Neues Geheimnis", "New secret"),
    ("new_secret_hint", "Kopieren Sie es jetzt und geben Sie es sicher an den Dienst weiter. Es wird nicht noch einmal angezeigt.", "Copy it now and hand it to the service securely. It will not be shown again."),
    ("back", "Zurück", "Back"),
    ("errors", "Bitte korrigieren Sie:", "Please correct:"),
    ("export", "Exportieren", "Export"),
    ("import", "Importieren", "Import"),
    ("import_hint", "JSON-Liste oder CSV mit den Spalten id, secret, redirect_uris, post_logout_redirect_uris, grant_types, scopes, name, min_level. Gleiche Kennung: der Dienst wird aktualisiert. Ist eine Zeile fehlerhaft, wird nichts übernommen.", "A JSON array or CSV with the columns id, secret, redirect_uris, post_logout_redirect_uris, grant_types, scopes, name, min_level. Same id: the service is updated. If any row is bad, nothing is applied."),
    ("import_text", "Inhalt der Datei", "File content"),
    ("imported", "Import übernommen", "Import applied"),
    ("import_failed", "Import abgelehnt – nichts wurde übernommen", "Import refused – nothing was applied"),
    ("email", "E-Mail-Adresse", "E-mail address"),
    ("subject", "Kennung (sub)", "Identifier (sub)"),
    ("proofing", "Identität geprüft bis", "Identity proofed to"),
    ("email_verified", "Adresse bestätigt", "Address confirmed"),
    ("yes", "ja", "yes"),
    ("no", "nein", "no"),
    ("sessions", "Angemeldete Geräte", "Signed-in devices"),
    ("since", "Seit", "Since"),
    ("last_seen", "Zuletzt aktiv", "Last active"),
    ("level", "Niveau", "Level"),
    ("device", "Gerät", "Device"),
    ("no_sessions", "Keine laufenden Anmeldungen.", "No live sessions."),
    ("end_sessions", "Überall abmelden", "Log out everywhere"),
    ("lock_heading", "Konto sperren oder entsperren", "Lock or unlock the account"),
    ("lock", "Konto sperren", "Lock the account"),
    ("unlock", "Konto entsperren", "Unlock the account"),
    ("locked", "gesperrt", "locked"),
    ("proof_heading", "Identität vor Ort geprüft", "Identity verified in person"),
    ("evidence", "Nachweis", "Evidence"),
    ("evidence_hint", "Wie wurde geprüft? Z. B. „Personalausweis vorgelegt, Bürgerbüro Mitte“.", "How was it verified? E.g. “ID card shown, citizen office”."),
    ("proof", "Prüfung eintragen", "Record the verification"),
    ("level_low", "niedrig", "low"),
    ("level_substantial", "substanziell", "substantial"),
    ("level_high", "hoch", "high"),
    ("no_minimum", "kein Mindestniveau", "no minimum"),
    ("actor", "Wer", "Actor"),
    ("event", "Ereignis", "Event"),
    ("from", "Von", "From"),
    ("to", "Bis", "To"),
    ("filter", "Filtern", "Filter"),
    ("export_csv", "Als CSV herunterladen", "Download as CSV"),
    ("time", "Zeit (UTC)", "Time (UTC)"),
    ("detail", "Einzelheiten", "Details"),
    ("max_ages", "Höchstalter einer Anmeldung je Niveau", "Maximum login age per level"),
    ("seconds", "Sekunden", "seconds"),
    ("scope_minimums", "Mindestniveau je Scope", "Minimum level per scope"),
    ("scope", "Scope", "Scope"),
    ("preview", "Vorschau: was bekäme diese Anmeldung?", "Preview: what would this login get?"),
    ("preview_hint", "Dienst, Scopes, Niveau und Alter einer Anmeldung eingeben: Pforte rechnet wie bei einer echten Anmeldung.", "Enter a service, scopes, a login's level and age: Pforte decides as for a real login."),
    ("service", "Dienst", "Service"),
    ("login_level", "Erreichtes Niveau", "Level reached"),
    ("login_age", "Alter der Anmeldung (Sekunden)", "Age of the login (seconds)"),
    ("preview_button", "Vorschau", "Preview"),
    ("algorithm", "Verfahren", "Algorithm"),
    ("rotate_keys", "Schlüssel jetzt wechseln", "Rotate the keys now"),
    ("changed", "Gespeichert.", "Saved."),
    ("forbidden", "Kein Zugriff", "No access"),
    ("forbidden_text", "Ihr Konto hat keine Rolle, die diese Seite erlaubt. Wenden Sie sich an die Administration.", "Your account has no role that allows this page. Please contact the administrators."),
    ("bad_request", "Das hat nicht geklappt", "That did not work"),
    ("not_found", "Nicht gefunden", "Not found"),
    ("confirm_missing", "Bitte bestätigen Sie die Änderung mit dem Häkchen.", "Please confirm the change with the checkbox."),
    ("too_weak", "Für die Verwaltung ist eine Anmeldung mit mindestens substanziellem Niveau nötig (Passwort und zweiter Faktor, geprüfte Identität).", "The administration needs a login at substantial level or higher (password and a second factor, proofed identity)."),
    ("signin_failed", "Die Anmeldung an der Verwaltung ist fehlgeschlagen. Bitte erneut versuchen.", "Signing in to the administration failed. Please try again."),
    ("signin_again", "Erneut anmelden", "Sign in again"),
];

/// The console's language and its texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr {
    pub en: bool,
}

impl Tr {
    pub fn get(&self, key: &str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, de, en)| if self.en { *en } else { *de })
            .unwrap_or_else(|| {
                // Visible in the page and caught by the unit test below.
                TEXTS[0].0
            })
    }

    pub fn code(&self) -> &'static str {
        if self.en {
            "en"
        } else {
            "de"
        }
    }

    pub fn level(&self, l: crate::assurance::Level) -> &'static str {
        self.get(match l {
            crate::assurance::Level::Low => "level_low",
            crate::assurance::Level::Substantial => "level_substantial",
            crate::assurance::Level::High => "level_high",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_used_key_exists() {
        for (i, (k, de, en)) in TEXTS.iter().enumerate() {
            assert!(!TEXTS[i + 1..].iter().any(|(x, _, _)| x == k), "{k} twice");
            assert!(!de.is_empty() && !en.is_empty(), "{k}");
        }
        let mut used = String::new();
        for entry in
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/admin")).unwrap()
        {
            used.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        used.push_str(include_str!("mod.rs"));
        let mut rest = used.as_str();
        while let Some(i) = rest.find("get(\"") {
            rest = &rest[i + 5..];
            let key = &rest[..rest.find('"').unwrap()];
            assert!(
                TEXTS.iter().any(|(k, _, _)| *k == key),
                "missing text `{key}`"
            );
        }
    }
}
