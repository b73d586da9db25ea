//! The copy of the two pages every footer links (BITV 2.0 §§ 4, 7): the accessibility
//! statement and the explanation of Pforte in Leichte Sprache (German) / plain English.

use super::Lang;

/// A heading with its paragraphs.
#[derive(Debug, serde::Serialize)]
pub struct Section {
    pub heading: &'static str,
    pub paragraphs: &'static [&'static str],
}

/// Placeholders: `{contact}`.
#[derive(Debug, serde::Serialize)]
pub struct InfoTexts {
    pub footer_statement: &'static str,
    pub footer_easy: &'static str,
    // --- accessibility statement ---
    pub a11y_title: &'static str,
    pub a11y_sections: &'static [Section],
    pub a11y_contact_heading: &'static str,
    pub a11y_contact_text: &'static str,
    pub a11y_contact_label: &'static str,
    pub a11y_contact_missing: &'static str,
    pub a11y_enforcement_heading: &'static str,
    pub a11y_enforcement_text: &'static str,
    pub a11y_enforcement_link: &'static str,
    // --- Leichte Sprache / plain English ---
    pub easy_title: &'static str,
    pub easy_lead: &'static str,
    pub easy_sections: &'static [Section],
}

pub static DE_INFO: InfoTexts = InfoTexts {
    footer_statement: "Erklärung zur Barrierefreiheit",
    footer_easy: "Leichte Sprache",
    a11y_title: "Erklärung zur Barrierefreiheit",
    a11y_sections: &[
        Section {
            heading: "Geltungsbereich",
            paragraphs: &[
                "Diese Erklärung gilt für die Seiten des Servicekontos (Pforte): Anmeldung, Registrierung, Zustimmung, Ihr Konto mit persönlichen Daten, Sicherheit, Aktivitäten, Herunterladen und Löschen Ihrer Daten.",
                "Die öffentliche Stelle ist verpflichtet, ihre Websites barrierefrei zugänglich zu machen (Barrierefreie-Informationstechnik-Verordnung, BITV 2.0, und die Gesetze der Länder).",
            ],
        },
        Section {
            heading: "Stand der Vereinbarkeit",
            paragraphs: &[
                "Die Seiten sind mit den Anforderungen der BITV 2.0 (WCAG 2.1, Stufe AA, und EN 301 549) weitgehend vereinbar. Die Bewertung beruht auf einer Selbstbewertung mit Tastatur, Bildschirmleser-Prüfung der Struktur, Kontrastmessung und automatischen Tests in einem echten Browser.",
                "Alle Seiten funktionieren ohne JavaScript, lassen sich vollständig mit der Tastatur bedienen, passen sich schmalen Bildschirmen an und lassen sich auf 200 Prozent vergrößern. Jedes Eingabefeld hat eine sichtbare Beschriftung; Fehler werden am Feld und in einer Zusammenfassung genannt.",
            ],
        },
        Section {
            heading: "Nicht barrierefreie Inhalte",
            paragraphs: &[
                "Die Anmeldung mit einem Passkey braucht JavaScript, weil der Browser sie nur so anbietet. Sie können sich stattdessen immer mit Passwort und Authenticator-App oder Wiederherstellungscode anmelden.",
                "Der QR-Code zum Einrichten einer Authenticator-App ist ein Bild. Der Schlüssel steht deshalb direkt daneben auch als Text zum Abtippen.",
            ],
        },
    ],
    a11y_contact_heading: "Feedback und Kontakt",
    a11y_contact_text: "Sind Ihnen Barrieren aufgefallen, oder brauchen Sie Informationen in einer anderen Form? Schreiben Sie uns. Wir antworten so schnell wie möglich.",
    a11y_contact_label: "Kontakt",
    a11y_contact_missing: "Wenden Sie sich an die Verwaltung, die Ihnen dieses Servicekonto anbietet.",
    a11y_enforcement_heading: "Durchsetzungsverfahren",
    a11y_enforcement_text: "Wenn Sie auf Ihre Rückmeldung keine zufriedenstellende Antwort erhalten, können Sie sich an die Durchsetzungs- oder Schlichtungsstelle für Barrierefreiheit wenden. Das Verfahren ist kostenlos.",
    a11y_enforcement_link: "Zur Durchsetzungs- und Schlichtungsstelle",
    easy_title: "Leichte Sprache",
    easy_lead: "Hier steht in Leichter Sprache, was Pforte ist und was Sie hier machen können.",
    easy_sections: &[
        Section {
            heading: "Was ist Pforte?",
            paragraphs: &[
                "Pforte ist Ihr Servicekonto bei der Verwaltung.",
                "Ein Servicekonto ist wie ein Schlüssel. Mit dem Schlüssel können Sie Online-Dienste der Verwaltung benutzen.",
                "Ein Beispiel: Sie wollen einen Termin für Sperrmüll. Dann melden Sie sich mit Ihrem Servicekonto an.",
            ],
        },
        Section {
            heading: "Wie melde ich mich an?",
            paragraphs: &[
                "Sie geben Ihre E-Mail-Adresse ein.",
                "Und Sie geben Ihr Passwort ein.",
                "Ein Passwort ist ein geheimes Wort. Nur Sie kennen das Passwort.",
                "Manche Dienste brauchen mehr Sicherheit. Dann brauchen Sie noch einen Code. Den Code zeigt eine App auf Ihrem Handy.",
            ],
        },
        Section {
            heading: "Ihre Daten",
            paragraphs: &[
                "Ein Dienst fragt vielleicht nach Ihren Daten. Zum Beispiel nach Ihrer Adresse.",
                "Dann fragen wir Sie zuerst. Sie entscheiden: Darf der Dienst die Daten bekommen?",
                "In Ihrem Konto sehen Sie: Welcher Dienst hat welche Daten bekommen? Und wann?",
                "Sie können einem Dienst die Erlaubnis wieder wegnehmen.",
                "Sie können alle Ihre Daten herunterladen.",
                "Und Sie können Ihr Konto löschen. Dann sind Ihre Daten weg.",
            ],
        },
        Section {
            heading: "Hilfe",
            paragraphs: &[
                "Sie haben Fragen? Oder etwas funktioniert nicht?",
                "Dann fragen Sie bei Ihrer Verwaltung nach. Zum Beispiel im Bürgerbüro.",
            ],
        },
    ],
};

pub static EN_INFO: InfoTexts = InfoTexts {
    footer_statement: "Accessibility statement",
    footer_easy: "Plain language",
    a11y_title: "Accessibility statement",
    a11y_sections: &[
        Section {
            heading: "Scope",
            paragraphs: &[
                "This statement applies to the pages of the citizen account (Pforte): sign-in, registration, consent, your account with personal details, security, activity, downloading and deleting your data.",
                "Public bodies in Germany must make their websites accessible (the Barrierefreie-Informationstechnik-Verordnung, BITV 2.0, and the laws of the federal states).",
            ],
        },
        Section {
            heading: "Compliance status",
            paragraphs: &[
                "The pages are largely compliant with BITV 2.0 (WCAG 2.1 level AA and EN 301 549). The assessment is a self-assessment with the keyboard, a structural screen reader check, contrast measurement and automated tests in a real browser.",
                "Every page works without JavaScript, can be used with the keyboard alone, adapts to narrow screens and can be zoomed to 200 percent. Every input has a visible label; errors are named at the field and in a summary.",
            ],
        },
        Section {
            heading: "Content that is not accessible",
            paragraphs: &[
                "Signing in with a passkey needs JavaScript, because browsers offer passkeys only that way. You can always sign in with a password and an authenticator app or a recovery code instead.",
                "The QR code for setting up an authenticator app is an image. The key is therefore also shown right next to it as text to type.",
            ],
        },
    ],
    a11y_contact_heading: "Feedback and contact",
    a11y_contact_text: "Have you come across barriers, or do you need information in another form? Write to us. We will answer as soon as we can.",
    a11y_contact_label: "Contact",
    a11y_contact_missing: "Contact the administration that offers you this citizen account.",
    a11y_enforcement_heading: "Enforcement procedure",
    a11y_enforcement_text: "If you do not get a satisfactory answer to your feedback, you can turn to the enforcement or arbitration body for accessibility. The procedure is free of charge.",
    a11y_enforcement_link: "To the enforcement and arbitration body",
    easy_title: "Plain language",
    easy_lead: "This page explains in plain words what Pforte is and what you can do here.",
    easy_sections: &[
        Section {
            heading: "What is Pforte?",
            paragraphs: &[
                "Pforte is your citizen account with your local administration.",
                "A citizen account is like a key. With it, you can use the administration's online services.",
                "For example: you want to book a bulky-waste pickup. You sign in with your citizen account.",
            ],
        },
        Section {
            heading: "How do I sign in?",
            paragraphs: &[
                "You type your email address.",
                "And you type your password.",
                "A password is a secret word. Only you know it.",
                "Some services need more security. Then you also need a code. An app on your phone shows the code.",
            ],
        },
        Section {
            heading: "Your data",
            paragraphs: &[
                "A service may ask for your data. For example, your address.",
                "Then we ask you first. You decide: may the service get the data?",
                "In your account you can see which service got which data, and when.",
                "You can take the permission away again.",
                "You can download all your data.",
                "And you can delete your account. Then your data is gone.",
            ],
        },
        Section {
            heading: "Help",
            paragraphs: &[
                "Do you have questions? Does something not work?",
                "Then ask your local administration. For example, at the citizens' office.",
            ],
        },
    ],
};

/// The footer pages' texts in `lang`.
pub fn info_texts(lang: Lang) -> &'static InfoTexts {
    lang.catalog().info
}
