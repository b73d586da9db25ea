use super::*;

#[test]
fn parse_tags() {
    let cases: &[(&str, Option<Lang>)] = &[
        ("de", Some(Lang::De)),
        ("DE", Some(Lang::De)),
        ("de-DE", Some(Lang::De)),
        ("de-at", Some(Lang::De)),
        ("de-CH-1996", Some(Lang::De)),
        ("de_DE", Some(Lang::De)),
        (" en ", Some(Lang::En)),
        ("en-GB", Some(Lang::En)),
        ("EN-us", Some(Lang::En)),
        ("fr", None),
        ("deu", None),
        ("english", None),
        ("", None),
        ("*", None),
        ("de;q=1", None),
        ("e", None),
    ];
    for (tag, want) in cases {
        assert_eq!(Lang::parse(tag), *want, "tag {tag:?}");
    }
}

#[test]
fn codes_round_trip() {
    for lang in Lang::ALL {
        assert_eq!(Lang::parse(lang.code()), Some(lang));
    }
    assert_eq!(Lang::default(), Lang::De);
}

#[test]
fn negotiate_table() {
    let cases: &[(Option<&str>, Option<&str>, Lang)] = &[
        (None, None, Lang::De),
        (Some(""), Some(""), Lang::De),
        // ui_locales wins over Accept-Language, first supported tag in order.
        (Some("en"), Some("de-DE,de;q=0.9"), Lang::En),
        (Some("de"), Some("en"), Lang::De),
        (Some("fr-CA en-GB de"), Some("de"), Lang::En),
        (Some("  de-DE   en "), None, Lang::De),
        // ui_locales with nothing supported falls back to Accept-Language.
        (Some("fr it"), Some("en-US,en;q=0.9"), Lang::En),
        (Some("fr"), None, Lang::De),
        // Accept-Language weights.
        (None, Some("en"), Lang::En),
        (None, Some("en-GB,en;q=0.9,de;q=0.8"), Lang::En),
        (None, Some("de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7"), Lang::De),
        (None, Some("de;q=0.5, en;q=0.8"), Lang::En),
        (None, Some("de;q=0.8, en;q=0.8"), Lang::De),
        (None, Some("en;q=0.8, de;q=0.8"), Lang::En),
        (None, Some("fr-FR, fr;q=0.9, en;q=0.1"), Lang::En),
        (None, Some("fr"), Lang::De),
        (None, Some("en;q=0"), Lang::De),
        (None, Some("en;Q=0.900 , de;q=0.3"), Lang::En),
        (None, Some("en;q=1.0,de;q=0.999"), Lang::En),
        (None, Some("de;q=0,en;q=0.1"), Lang::En),
        (None, Some("de;q=0,*;q=0.5"), Lang::En),
        (None, Some("*"), Lang::De),
        (None, Some("en;q=0.3,*;q=0.5"), Lang::De),
        // malformed weights are ignored, not trusted
        (None, Some("en;q=2,de;q=0.1"), Lang::De),
        (None, Some("en;q=abc"), Lang::De),
        (None, Some("en;q=0.1234,de;q=0.1"), Lang::De),
        (None, Some(",,;q=1, en"), Lang::En),
        (None, Some("x-klingon, en-x-pirate"), Lang::En),
    ];
    for (ui, al, want) in cases {
        assert_eq!(
            Lang::negotiate(*ui, *al),
            *want,
            "ui_locales={ui:?} accept-language={al:?}"
        );
    }
}

#[test]
fn qvalues() {
    assert_eq!(parse_qvalue("1"), Some(1000));
    assert_eq!(parse_qvalue("1.000"), Some(1000));
    assert_eq!(parse_qvalue("1.001"), None);
    assert_eq!(parse_qvalue("0"), Some(0));
    assert_eq!(parse_qvalue("0.5"), Some(500));
    assert_eq!(parse_qvalue("0.05"), Some(50));
    assert_eq!(parse_qvalue("0.123"), Some(123));
    assert_eq!(parse_qvalue("0.1234"), None);
    assert_eq!(parse_qvalue(".5"), None);
    assert_eq!(parse_qvalue("-0"), None);
    assert_eq!(parse_qvalue(""), None);
}

#[test]
fn generic_login_failure_is_one_wording() {
    assert_eq!(
        Lang::De.texts().login_failed,
        "E-Mail-Adresse oder Passwort ist falsch."
    );
    assert_eq!(
        Lang::En.texts().login_failed,
        "The email address or password is incorrect."
    );
}

#[test]
fn lookups() {
    assert!(error_text(Lang::De, "invalid_request", 400)
        .title
        .contains("nicht gestartet"));
    assert_eq!(
        error_text(Lang::En, "whatever", 404).title,
        "Page not found"
    );
    assert_eq!(
        error_text(Lang::De, "whatever", 502),
        error_text(Lang::De, "server_error", 500)
    );
    assert!(scope_text(Lang::De, "email").is_some());
    assert!(scope_text(Lang::De, "urn:x").is_none());
    assert_eq!(scope_label(Lang::En, "urn:x"), "urn:x");
    assert!(field_error_text(Lang::De, "password", "password_too_short")
        .unwrap()
        .contains("mindestens {min} Zeichen"));
    assert!(field_error_text(Lang::De, "email", "nonsense").is_none());
    assert!(level_label(Lang::De, "high").is_some());
    assert_eq!(fill("a {client} b", "client", "X"), "a X b");
}

/// Every string of a table with its path, through its `Serialize` form.
fn strings(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                strings(&format!("{prefix}.{k}"), v, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                strings(&format!("{prefix}[{i}]"), v, out);
            }
        }
        _ => {}
    }
}

fn catalog_strings(lang: Lang) -> Vec<(String, String)> {
    let c = lang.catalog();
    let mut out = Vec::new();
    strings("pages", &serde_json::to_value(c.pages).unwrap(), &mut out);
    strings(
        "security",
        &serde_json::to_value(c.security).unwrap(),
        &mut out,
    );
    strings(
        "lookups",
        &serde_json::to_value(c.lookups).unwrap(),
        &mut out,
    );
    strings("mail", &serde_json::to_value(c.mail).unwrap(), &mut out);
    strings(
        "throttle",
        &serde_json::to_value(c.throttle).unwrap(),
        &mut out,
    );
    strings(
        "account",
        &serde_json::to_value(c.account).unwrap(),
        &mut out,
    );
    strings("info", &serde_json::to_value(c.info).unwrap(), &mut out);
    strings(
        "federation",
        &serde_json::to_value(c.federation).unwrap(),
        &mut out,
    );
    out
}

/// `{name}` placeholders in a text, sorted.
fn placeholders(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    out.sort_unstable();
    out
}

/// The tables are complete by construction (a struct per table); this checks what the
/// compiler cannot: no language leaves a text empty, and every language uses the same
/// placeholders as German, for every language in `Lang::ALL`.
#[test]
fn every_language_has_every_text_with_the_same_placeholders() {
    let reference = catalog_strings(Lang::De);
    assert!(reference.len() > 200, "{} texts", reference.len());
    for lang in Lang::ALL {
        let texts = catalog_strings(lang);
        assert_eq!(texts.len(), reference.len(), "{lang}");
        for ((path, text), (ref_path, ref_text)) in texts.iter().zip(&reference) {
            assert_eq!(path, ref_path);
            assert!(!text.trim().is_empty(), "{lang}: {path} is empty");
            if path == "pages.date_pattern" {
                continue; // each language writes dates its own way
            }
            assert_eq!(
                placeholders(text),
                placeholders(ref_text),
                "{lang}: {path} has other placeholders than German"
            );
        }
    }
}

#[test]
fn every_language_parses_from_its_own_tag_and_has_a_switch_name() {
    for lang in Lang::ALL {
        assert_eq!(Lang::parse(lang.code()), Some(lang));
        assert_eq!(Lang::negotiate(Some(lang.code()), None), lang);
        assert!(!lang.native_name().is_empty());
    }
}
