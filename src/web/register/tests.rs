//! Unit tests of self-registration: its checks and rules, without a server.

use super::*;

fn form(email: &str, given: &str) -> RegisterForm {
    RegisterForm {
        csrf: String::new(),
        req: String::new(),
        email: email.into(),
        given_name: given.into(),
        family_name: String::new(),
    }
}

fn keys(r: Result<String, Vec<(String, String)>>) -> Vec<(String, String)> {
    r.err().unwrap_or_default()
}

#[test]
fn validation() {
    assert_eq!(
        validate(&form(" Anna@Example.DE ", "Anna")).unwrap(),
        "anna@example.de"
    );
    assert_eq!(validate(&form("a@b.de", "")).unwrap(), "a@b.de");
    let e = |f: &RegisterForm| keys(validate(f));
    assert_eq!(e(&form("", "")), [("email".into(), "required".into())]);
    assert_eq!(
        e(&form("a,b@c.de", "")),
        [("email".into(), "email_invalid".into())]
    );
    assert_eq!(
        e(&form("a@b.de", "An\u{7}na")),
        [("given_name".into(), "invalid_characters".into())]
    );
    assert_eq!(
        e(&form("a@b.de", "Anna\u{202E}")),
        [("given_name".into(), "invalid_characters".into())]
    );
    assert_eq!(
        e(&form("a@b.de", &"a".repeat(201))),
        [("given_name".into(), "too_long".into())]
    );
    // Several problems at once, in form order.
    assert_eq!(e(&form("x", "A\nB")).len(), 2);
}

#[test]
fn password_rules_on_the_confirmation_page() {
    let rules = |min| {
        accounts::password_rules::Context::new(min, "https://p.example.de", "anna@example.de")
    };
    assert_eq!(password_error("", &rules(12)), Some("required"));
    assert_eq!(
        password_error("kurz", &rules(12)),
        Some("password_too_short")
    );
    assert_eq!(
        password_error(&"x".repeat(1025), &rules(12)),
        Some("password_too_long")
    );
    assert_eq!(
        password_error("fünfzehn Zeich", &rules(16)),
        Some("password_too_short")
    );
    assert_eq!(password_error("sechzehn Zeichen", &rules(16)), None);
    assert_eq!(
        password_error("anna@example.de!", &rules(12)),
        Some("password_personal")
    );
    assert_eq!(
        password_error("passwort1234", &rules(12)),
        Some("password_weak")
    );
}

fn account(verified: bool, disabled: bool) -> Account {
    Account {
        id: "a".into(),
        email: "a@b.de".into(),
        email_verified: verified,
        password_hash: None,
        proofing_level: crate::assurance::Level::Low,
        proofing_evidence: None,
        proofed_at: None,
        created_at: 0,
        disabled_at: disabled.then_some(1),
    }
}

/// A repeated registration never lets its registrant in: a confirmed or disabled account's
/// holder is told, an unconfirmed address gets a new link.
#[test]
fn repeated_registration() {
    assert_eq!(repeat_for(&account(true, false)), Repeat::Notice);
    assert_eq!(repeat_for(&account(true, true)), Repeat::Notice);
    assert_eq!(repeat_for(&account(false, true)), Repeat::Notice);
    assert_eq!(repeat_for(&account(false, false)), Repeat::NewLink);
    assert!(plausible_token("abc-DEF_123"));
    assert!(!plausible_token(""));
    assert!(!plausible_token("a b"));
    assert!(!plausible_token(&"a".repeat(129)));
}
