use super::*;

const XSS: &str = "<script>alert(1)</script>\"'&";

/// Values of attribute `attr` on all tags named `tag` (naive scan; fine for our markup).
fn attr_values(html: &str, tag: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let open = format!("<{tag} ");
    for (start, _) in html.match_indices(&open) {
        let end = html[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(html.len());
        let el = &html[start..end];
        let key = format!(" {attr}=\"");
        if let Some(i) = el.find(&key) {
            let rest = &el[i + key.len()..];
            out.push(rest[..rest.find('"').unwrap_or(rest.len())].to_string());
        }
    }
    out
}

/// Whole opening tags `<input …>`.
fn tags<'h>(html: &'h str, tag: &str) -> Vec<&'h str> {
    let open = format!("<{tag} ");
    html.match_indices(&open)
        .map(|(start, _)| {
            let end = html[start..]
                .find('>')
                .map(|e| start + e + 1)
                .unwrap_or(html.len());
            &html[start..end]
        })
        .collect()
}

fn has_id(html: &str, id: &str) -> bool {
    html.contains(&format!(" id=\"{id}\""))
}

/// Checks shared by every page.
fn check_common(html: &str, lang: Lang) {
    assert!(html.starts_with("<!DOCTYPE html>"), "doctype");
    assert!(
        html.contains(&format!("<html lang=\"{}\">", lang.code())),
        "lang attr"
    );
    assert!(html.contains("<main id=\"main\""), "main landmark");
    assert!(html.contains("href=\"#main\""), "skip link");
    assert!(html.contains("/static/pforte.css"));
    assert!(!html.contains("<script>alert"), "unescaped script:\n{html}");
    assert!(!html.contains("\"'&\""), "unescaped quote");
    // Every visible input has a <label for=…>.
    for input in tags(html, "input") {
        if input.contains("type=\"hidden\"") {
            continue;
        }
        let id = attr_values(input, "input", "id");
        assert_eq!(id.len(), 1, "input without id: {input}");
        assert!(
            html.contains(&format!("<label class=\"field__label\" for=\"{}\">", id[0])),
            "no label for {}",
            id[0]
        );
    }
    // aria-describedby / aria-labelledby refer to existing ids.
    for attr in ["aria-describedby", "aria-labelledby"] {
        for tag in ["input", "div", "section"] {
            for ids in attr_values(html, tag, attr) {
                for id in ids.split_whitespace() {
                    assert!(has_id(html, id), "{attr} -> missing id {id}");
                }
            }
        }
    }
    // No element id twice.
    let ids: Vec<_> = html
        .match_indices(" id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    for id in &ids {
        assert_eq!(
            ids.iter().filter(|x| *x == id).count(),
            1,
            "duplicate id {id}"
        );
    }
}

fn login(lang: Lang, error: Option<LoginError>) -> LoginPage {
    LoginPage {
        lang,
        client_name: Some(format!("Bürgerservice {XSS}")),
        action: format!("/login?x={XSS}"),
        csrf: XSS.into(),
        req: XSS.into(),
        email: format!("a@b.de{XSS}"),
        error,
        register_url: format!("/register?{XSS}"),
        lang_switch: format!("/login?{XSS}&"),
        sources: Default::default(),
    }
}

#[test]
fn login_renders_both_languages() {
    for lang in Lang::ALL {
        let html = login(lang, None).render(&SiteConfig::default());
        check_common(&html, lang);
        let t = lang.texts();
        assert!(html.contains(&format!("<h1>{}</h1>", t.login_title)));
        assert!(html.contains("type=\"email\""));
        assert!(html.contains("autocomplete=\"username\""));
        assert!(html.contains("type=\"password\""));
        assert!(html.contains("autocomplete=\"current-password\""));
        assert!(html.contains(
            "name=\"csrf\" value=\"&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;\""
        ));
        assert!(html.contains("name=\"req\""));
        assert!(
            !html.contains("role=\"alert\""),
            "no error summary without error"
        );
        assert!(!html.contains("aria-invalid"));
        // The language switch points to every other language.
        for other in Lang::ALL.into_iter().filter(|l| *l != lang) {
            assert!(html.contains(&format!("hreflang=\"{}\"", other.code())));
            assert!(html.contains(other.native_name()));
        }
        assert!(html.contains(t.login_register_link));
    }
    let de = login(Lang::De, None).render(&SiteConfig::default());
    assert!(de.contains("E-Mail-Adresse"));
    assert!(de.contains(">Anmelden</button>"));
    assert!(de.contains("Noch kein Konto?"));
    assert!(de.contains("Servicekonto Ihrer Kommune"));
    assert!(de.contains("&#38;ui_locales=en\" hreflang=\"en\""));
    let en = login(Lang::En, None).render(&SiteConfig::default());
    assert!(en.contains("Your municipality’s citizen account"));
    // password is never echoed back
    assert_eq!(
        tags(&de, "input")
            .iter()
            .filter(|t| t.contains("type=\"password\"") && t.contains("value="))
            .count(),
        0
    );
}

#[test]
fn login_errors_do_not_reveal_account_state() {
    for lang in Lang::ALL {
        let invalid =
            login(lang, Some(LoginError::InvalidCredentials)).render(&SiteConfig::default());
        let disabled =
            login(lang, Some(LoginError::AccountDisabled)).render(&SiteConfig::default());
        assert_eq!(invalid, disabled);
        check_common(&invalid, lang);
        assert!(invalid.contains(lang.texts().login_failed));
        assert!(invalid.contains("role=\"alert\""));
        assert!(invalid.contains("tabindex=\"-1\""));
        assert!(invalid.contains(&format!("<title>{} ", lang.texts().error_prefix)));
        for input in tags(&invalid, "input")
            .iter()
            .filter(|t| !t.contains("hidden"))
        {
            assert!(input.contains("aria-invalid=\"true\""), "{input}");
            assert!(
                input.contains("aria-describedby=\"credentials-error\""),
                "{input}"
            );
        }
    }
    let de = login(Lang::De, Some(LoginError::InvalidCredentials)).render(&SiteConfig::default());
    assert!(de.contains("E-Mail-Adresse oder Passwort ist falsch."));
}

#[test]
fn login_missing_field_and_csrf() {
    let html = login(
        Lang::De,
        Some(LoginError::MissingField {
            field: LoginField::Password,
        }),
    )
    .render(&SiteConfig::default());
    check_common(&html, Lang::De);
    let pw = tags(&html, "input")
        .into_iter()
        .find(|t| t.contains("id=\"password\""))
        .unwrap();
    assert!(
        pw.contains("aria-invalid=\"true\"") && pw.contains("aria-describedby=\"password-error\"")
    );
    let email = tags(&html, "input")
        .into_iter()
        .find(|t| t.contains("id=\"email\""))
        .unwrap();
    assert!(!email.contains("aria-invalid"));
    assert!(html.contains("href=\"#password\""));

    let html = login(
        Lang::De,
        Some(LoginError::MissingField {
            field: LoginField::Email,
        }),
    )
    .render(&SiteConfig::default());
    check_common(&html, Lang::De);
    assert!(html.contains("id=\"email-error\""));

    let html = login(Lang::En, Some(LoginError::CsrfExpired)).render(&SiteConfig::default());
    check_common(&html, Lang::En);
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains(Lang::En.texts().session_expired));
    let de = login(Lang::De, Some(LoginError::CsrfExpired)).render(&SiteConfig::default());
    assert!(de.contains("Die Sitzung ist abgelaufen, bitte erneut versuchen"));
}

#[test]
fn consent_page() {
    for lang in Lang::ALL {
        let page = ConsentPage {
            lang,
            client_name: format!("Stadt {XSS}"),
            scopes: vec![
                "openid".into(),
                "profile email".into(),
                "address".into(),
                "phone".into(),
                "offline_access".into(),
                XSS.into(),
                "email".into(),
            ],
            action: XSS.into(),
            csrf: XSS.into(),
            req: XSS.into(),
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        for s in [
            "openid",
            "profile",
            "email",
            "address",
            "phone",
            "offline_access",
        ] {
            let (label, _) = i18n::scope_text(lang, s).unwrap();
            assert!(html.contains(label), "{s}");
            assert_eq!(
                html.matches(&format!("data-scope=\"{s}\"")).count(),
                1,
                "{s} once"
            );
        }
        assert!(html.contains("name=\"decision\" value=\"allow\""));
        assert!(html.contains("name=\"decision\" value=\"deny\""));
        assert!(html.contains(lang.texts().consent_remember));
    }
    let de = ConsentPage {
        client_name: "Bibliothek".into(),
        scopes: vec!["email".into()],
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(de.contains(">Zulassen</button>") && de.contains(">Ablehnen</button>"));
    assert!(de.contains("„Bibliothek“"));
}

#[test]
fn error_page() {
    for lang in Lang::ALL {
        let page = ErrorPage {
            lang,
            status: 400,
            title: None,
            error: format!("invalid_request{XSS}"),
            description: format!("redirect_uri https://evil.example/{XSS} not registered"),
            reference: None,
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        // Only the skip link and footer links, never the (untrusted) client.
        for href in attr_values(&html, "a", "href") {
            assert!(
                href.starts_with('#') || href.starts_with('/'),
                "link {href}"
            );
        }
        assert!(html.contains("<code>400</code>"));
    }
    let html = ErrorPage {
        error: "invalid_request".into(),
        status: 400,
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(html.contains("Die Anmeldung konnte nicht gestartet werden"));
    assert!(html.contains("<code>invalid_request</code>"));
    let html = ErrorPage {
        title: Some(XSS.into()),
        ..Default::default()
    }
    .render(&SiteConfig::default());
    check_common(&html, Lang::De);
    let html = ErrorPage {
        lang: Lang::En,
        status: 404,
        error: "not_found".into(),
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(html.contains("<h1>Page not found</h1>"));
}

#[test]
fn form_post_page() {
    for lang in Lang::ALL {
        let page = FormPostPage {
            action: format!("https://rp.example/cb?a=1&{XSS}"),
            fields: vec![
                ("code".into(), XSS.into()),
                ("state".into(), "abc".into()),
                ("submit".into(), "x".into()),
                (XSS.into(), "v".into()),
            ],
            lang,
            nonce: format!("n0nce{XSS}"),
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains("action=\"https://rp.example/cb?a=1&#38;"));
        assert!(html.contains("<script nonce=\"n0nce&"));
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("HTMLFormElement.prototype.submit.call"));
        let noscript = &html[html.find("<noscript>").unwrap()..html.find("</noscript>").unwrap()];
        assert!(noscript.contains(&format!(">{}</button>", lang.texts().formpost_button)));
        assert!(html.contains("type=\"hidden\" name=\"state\" value=\"abc\""));
        assert_eq!(tags(&html, "input").len(), 4);
    }
    // Without a nonce the button is visible and no (blocked) script is emitted.
    let html = FormPostPage {
        action: "https://rp.example/cb".into(),
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(!html.contains("<script") && !html.contains("<noscript>"));
    assert!(html.contains(">Weiter</button>"));
    // Dangerous schemes are never rendered as form actions.
    for bad in [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil",
        "",
    ] {
        let html = FormPostPage {
            action: bad.into(),
            nonce: "n".into(),
            ..Default::default()
        }
        .render(&SiteConfig::default());
        assert!(!html.contains("<form"), "{bad}");
        assert_eq!(html, fallback_page(Lang::De));
    }
    assert!(FormPostPage {
        action: "HTTPS://rp.example/".into(),
        ..Default::default()
    }
    .render(&SiteConfig::default())
    .contains("<form"));
}

#[test]
fn logout_pages() {
    for lang in Lang::ALL {
        let page = LogoutPage {
            lang,
            action: "/logout".into(),
            csrf: XSS.into(),
            client_name: Some(XSS.into()),
            post_logout_redirect_uri: Some(format!("https://rp.example/{XSS}")),
            state: Some(XSS.into()),
            id_token_hint: None,
            client_id: Some("rp".into()),
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains("name=\"post_logout_redirect_uri\""));
        assert!(html.contains("name=\"state\""));
        assert!(html.contains("name=\"client_id\" value=\"rp\""));
        assert!(!html.contains("id_token_hint"));
        assert!(html.contains(lang.texts().logout_heading));
        let html = LoggedOutPage { lang }.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains(lang.texts().logged_out_title));
    }
    let html = LogoutPage::default().render(&SiteConfig::default());
    assert!(html.contains("Möchten Sie sich abmelden?") && html.contains(">Abmelden</button>"));
    assert!(LoggedOutPage::default()
        .render(&SiteConfig::default())
        .contains("Sie sind abgemeldet"));
}

#[test]
fn account_page() {
    for lang in Lang::ALL {
        let a = i18n::account_texts(lang);
        let page = AccountPage {
            lang,
            display_name: XSS.into(),
            email: XSS.into(),
            level_label: i18n::level_label(lang, "low").unwrap().into(),
            csrf: XSS.into(),
            logout_action: "/logout".into(),
            services: vec![
                ServiceRow {
                    client_name: XSS.into(),
                    scopes: Some(vec!["openid".into(), "email".into(), XSS.into()]),
                    received: vec!["sub".into(), "email".into(), XSS.into()],
                    last: Some(("1. März 2025".into(), "substantial".into())),
                    revoke_action: format!("/account/consents/1/revoke?{XSS}"),
                    withdrawn: false,
                },
                ServiceRow {
                    client_name: "Hundesteuer".into(),
                    scopes: None,
                    received: vec![],
                    last: None,
                    revoke_action: "/account/consents/2/revoke".into(),
                    withdrawn: false,
                },
                // Withdrawn: listed for what it received, nothing left to withdraw.
                ServiceRow {
                    client_name: "Sperrmüll".into(),
                    scopes: None,
                    received: vec!["email".into()],
                    last: Some(("2. März 2025".into(), "low".into())),
                    revoke_action: "/account/consents/3/revoke".into(),
                    withdrawn: true,
                },
            ],
            sessions: Some(vec![
                SessionRow {
                    device: "Firefox auf Linux".into(),
                    current: true,
                    ..Default::default()
                },
                SessionRow {
                    device: XSS.into(),
                    ..Default::default()
                },
            ]),
            sessions_end_action: "/account/sessions/end-others".into(),
            notice: Some(AccountNotice::Revoked(XSS.into())),
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        assert_eq!(
            html.matches(&format!(
                "{}<span class=\"visually-hidden\">",
                a.service_revoke
            ))
            .count(),
            2
        );
        // Two revokes, end the other sessions, log out.
        assert_eq!(html.matches("<form method=\"post\"").count(), 4);
        assert!(html.contains(&i18n::claim_label(lang, "email")));
        assert!(html.contains(a.service_consent_none));
        assert!(html.contains(a.service_withdrawn));
        assert!(!html.contains("/account/consents/3/revoke"));
        assert!(html.contains("id=\"revoke-hint\""));
        // Only withdrawn services: no buttons, so no hint for them either.
        let withdrawn = AccountPage {
            lang,
            services: vec![page.services[2].clone()],
            ..Default::default()
        }
        .render(&SiteConfig::default());
        assert!(withdrawn.contains(a.service_withdrawn));
        assert!(!withdrawn.contains("revoke-hint"));
        assert!(html.contains("aria-current=\"page\""));
        let empty = AccountPage {
            lang,
            ..Default::default()
        }
        .render(&SiteConfig::default());
        assert!(empty.contains(a.services_none));
    }
    let html = AccountPage {
        services: vec![ServiceRow::default()],
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(html.contains("Zugriff entziehen"));
}

#[test]
fn profile_activity_data_and_footer_pages() {
    for lang in Lang::ALL {
        let a = i18n::account_texts(lang);
        let html = ProfilePage {
            lang,
            csrf: XSS.into(),
            action: "/account/profile".into(),
            fields: crate::accounts::details::FIELDS
                .iter()
                .map(|name| ProfileFieldRow {
                    name,
                    value: XSS.into(),
                    provenance: Some(XSS.into()),
                    error: (*name == "phone_number").then(|| "bad".to_string()),
                })
                .collect(),
            identities: vec![IdentityRow {
                provider: XSS.into(),
                linked: "1.1.2026".into(),
            }],
            saved: true,
        }
        .render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(
            html.contains("href=\"#phone_number\""),
            "error summary links the field"
        );
        assert!(html.contains("autocomplete=\"postal-code\""));
        let html = ActivityPage {
            lang,
            logins: vec![LoginRow {
                methods: vec![
                    crate::assurance::level::Method::Password,
                    crate::assurance::level::Method::Totp,
                ],
                level: "substantial".into(),
                device: Some(XSS.into()),
                ..Default::default()
            }],
            releases: vec![ReleaseRow {
                client_name: XSS.into(),
                claims: vec!["address".into()],
                level: "low".into(),
                count: 3,
                ..Default::default()
            }],
        }
        .render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains(a.method_otp));
        assert!(html.contains(a.claim_address));
        for fresh in [false, true] {
            let html = DataPage {
                lang,
                csrf: XSS.into(),
                fresh,
                export_action: "/account/export".into(),
                delete_action: "/account/delete".into(),
                error: Some((DataForm::Delete, ConfirmError::NotConfirmed)),
            }
            .render(&SiteConfig::default());
            check_common(&html, lang);
            assert_eq!(html.contains("type=\"password\""), !fresh);
            assert!(html.contains(a.delete_confirm_missing));
        }
        for html in [
            DeletedPage { lang }.render(&SiteConfig::default()),
            AccessibilityPage { lang }.render(&SiteConfig {
                accessibility_contact: Some("barrierefrei@stadt.example".into()),
                ..Default::default()
            }),
            EasyLanguagePage { lang }.render(&SiteConfig::default()),
        ] {
            check_common(&html, lang);
        }
    }
    let html = AccessibilityPage { lang: Lang::De }.render(&SiteConfig {
        accessibility_contact: Some("barrierefrei@stadt.example".into()),
        ..Default::default()
    });
    assert!(html.contains("href=\"mailto:barrierefrei@stadt.example\""));
}

#[test]
fn register_pages() {
    for lang in Lang::ALL {
        let t = lang.texts();
        let page = RegisterPage {
            lang,
            action: "/register".into(),
            csrf: XSS.into(),
            req: XSS.into(),
            email: XSS.into(),
            given_name: XSS.into(),
            family_name: XSS.into(),
            errors: vec![],
            login_url: "/login".into(),
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        // The password is chosen on the confirmation link, not here (docs/registration.md).
        assert!(!html.contains("type=\"password\""));
        assert!(html.contains("autocomplete=\"given-name\""));
        assert!(html.contains("autocomplete=\"family-name\""));
        assert!(html.contains("name=\"req\" value=\"&#60;script"));
        assert!(!html.contains("role=\"alert\""));
        // Only the e-mail is required; the names say "(optional)".
        assert!(
            !t.register_intro.contains("Alle Felder") && !t.register_intro.contains("All fields")
        );
        let inputs = tags(&html, "input");
        let required: Vec<String> = inputs
            .iter()
            .filter(|i| i.contains(" required "))
            .flat_map(|i| attr_values(i, "input", "name"))
            .collect();
        assert_eq!(required, ["email"]);
        for (id, label) in [
            ("given_name", t.given_name_label),
            ("family_name", t.family_name_label),
        ] {
            assert!(html.contains(&format!(
                "<label class=\"field__label\" for=\"{id}\">{label} {}</label>",
                t.optional_marker
            )));
        }
        assert!(html.contains(&format!(
            "<label class=\"field__label\" for=\"email\">{}</label>",
            t.email_label
        )));

        let page = RegisterPage {
            errors: vec![
                ("given_name".into(), "too_long".into()),
                ("email".into(), "email_invalid".into()),
                ("form".into(), format!("Freitext {XSS}")),
            ],
            ..page
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("aria-describedby=\"email-hint email-error\" aria-invalid=\"true\""));
        // summary in form order: email before the name
        assert!(html.find("href=\"#email\"").unwrap() < html.find("href=\"#given_name\"").unwrap());
        assert!(html.contains("Freitext &"));

        let confirm = RegisterConfirmPage {
            lang,
            action: "/register/verify".into(),
            csrf: XSS.into(),
            token: XSS.into(),
            email: XSS.into(),
            errors: vec![],
            min_password_len: 12,
        };
        let html = confirm.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains(&format!("<h1>{}</h1>", t.register_confirm_title)));
        assert!(html.contains("autocomplete=\"new-password\""));
        assert!(html.contains("minlength=\"12\""));
        assert!(html.contains("aria-describedby=\"password-hint\""));
        assert!(html.contains(&fill(t.password_hint, "min", "12")));
        assert!(html.contains("name=\"token\" value=\"&#60;script"));
        let html = RegisterConfirmPage {
            errors: vec![("password".into(), "password_too_short".into())],
            ..confirm
        }
        .render(&SiteConfig::default());
        assert!(html.contains("role=\"alert\""));
        assert!(html
            .contains("aria-describedby=\"password-hint password-error\" aria-invalid=\"true\""));

        let done = RegisterDonePage {
            lang,
            email: XSS.into(),
            csrf: XSS.into(),
            resend_action: "/register/resend".into(),
        }
        .render(&SiteConfig::default());
        check_common(&done, lang);
        assert!(done.contains("action=\"/register/resend\""));
        assert!(done.contains("name=\"email\" value=\"&#60;script"));
        assert!(done.contains(t.register_resend_submit));

        let verified = RegisterVerifiedPage {
            lang,
            account_url: "/account".into(),
            continue_url: Some("/login?req=abc".into()),
            client_name: Some("Hundesteuer".into()),
        }
        .render(&SiteConfig::default());
        check_common(&verified, lang);
        assert!(verified.contains(&fill(
            t.register_verified_continue_client,
            "client",
            "Hundesteuer"
        )));
        assert!(
            verified.contains("href=\"/login?req=abc\"") && verified.contains("href=\"/account\"")
        );

        let resend = RegisterResendPage {
            lang,
            action: "/register/resend".into(),
            csrf: XSS.into(),
            email: XSS.into(),
            errors: vec![("email".into(), "email_invalid".into())],
            invalid_link: true,
            login_url: "/login".into(),
        }
        .render(&SiteConfig::default());
        check_common(&resend, lang);
        let invalid = i18n::error_text(lang, "invalid_verification_link", 400);
        assert!(resend.contains(&format!("<h1>{}</h1>", invalid.title)));
        assert!(resend.contains(t.register_resend_title));
        assert!(resend.contains("aria-describedby=\"email-error\" aria-invalid=\"true\""));
        let form = RegisterResendPage {
            lang,
            ..Default::default()
        }
        .render(&SiteConfig::default());
        check_common(&form, lang);
        assert!(form.contains(&format!("<h1>{}</h1>", t.register_resend_title)));
        let resent = RegisterResentPage {
            lang,
            email: XSS.into(),
            login_url: "/login".into(),
        }
        .render(&SiteConfig::default());
        check_common(&resent, lang);
        assert!(resent.contains(t.register_resent_title));
    }
    let de = RegisterConfirmPage {
        errors: vec![("password".into(), "password_too_short".into())],
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(de.contains("mindestens 12 Zeichen lang"));
    // Another configured minimum: hint, minlength and message all name it.
    let de16 = RegisterConfirmPage {
        errors: vec![("password".into(), "password_too_short".into())],
        min_password_len: 16,
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(de16.contains("minlength=\"16\""));
    assert!(de16.contains("Mindestens 16 Zeichen."));
    assert!(de16.contains("mindestens 16 Zeichen lang"));
    assert!(!de16.contains("minlength=\"12\"") && !de16.contains(" 12 Zeichen"));
    let done = RegisterDonePage {
        lang: Lang::De,
        email: "a@b.de".into(),
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(done.contains("Wir haben Ihnen eine E-Mail an a@b.de geschickt"));
    assert!(done.contains("Erst dann können Sie sich anmelden."));
    let resent = RegisterResentPage {
        email: "a@b.de".into(),
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(resent.contains("Wenn es für a@b.de ein Servicekonto gibt"));
}

#[test]
fn totp_security_and_stepup_pages() {
    for lang in Lang::ALL {
        let s = i18n::security_texts(lang);
        let page = SecurityPage {
            lang,
            csrf: XSS.into(),
            credentials: vec![
                CredentialRow {
                    kind: "totp".into(),
                    label: String::new(),
                    created: "2026-01-02".into(),
                    last_used: None,
                    remove_action: format!("/account/security/credentials/1/remove?{XSS}"),
                },
                CredentialRow {
                    kind: "passkey".into(),
                    label: XSS.into(),
                    created: "2026-01-03".into(),
                    last_used: Some("2026-01-04".into()),
                    remove_action: "/account/security/credentials/2/remove".into(),
                },
            ],
            recovery_left: 7,
            confirm_url: None,
            notice: Some(SecurityNotice::Removed),
            totp_url: "/account/security/totp".into(),
            recovery_action: "/account/security/recovery-codes".into(),
            account_url: "/account".into(),
        };
        let html = page.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains(s.totp_setup_link));
        assert!(html.contains(s.notice_removed) && html.contains("role=\"status\""));
        assert_eq!(html.matches("/remove").count(), 2);
        assert!(html.contains(&fill(s.recovery_left, "count", "7")));
        assert!(html.contains("id=\"passkey-register\" data-csrf=\"&#60;script"));
        assert!(html.contains("<script src=\"/static/passkey.js\" defer></script>"));
        assert!(html.contains(s.cred_never));
        // Until the second factor is confirmed: a link to confirm, no forms to change things.
        let locked = SecurityPage {
            confirm_url: Some("/stepup?level=substantial".into()),
            ..page.clone()
        }
        .render(&SiteConfig::default());
        check_common(&locked, lang);
        assert!(locked.contains("href=\"/stepup?level=substantial\""));
        assert!(!locked.contains("<form") && !locked.contains("passkey-register"));

        let setup = TotpSetupPage {
            lang,
            csrf: XSS.into(),
            action: "/account/security/totp".into(),
            email: XSS.into(),
            secret: "ABCD EFGH".into(),
            qr: crate::accounts::totp::qr_path("otpauth://totp/x"),
            error: None,
            cancel_url: "/account/security".into(),
        };
        let html = setup.render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains("<svg class=\"qr\" viewBox=\"-4 -4 "));
        assert!(html.contains("aria-labelledby=\"qr-title\""));
        assert!(html.contains("id=\"totp-secret\""));
        assert!(html.contains("autocomplete=\"one-time-code\""));
        assert!(html.contains("inputmode=\"numeric\""));
        let html = TotpSetupPage {
            error: Some(CodeError::Wrong),
            ..setup
        }
        .render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains(s.code_wrong));
        assert!(html
            .contains("aria-describedby=\"totp-code-hint totp-code-error\" aria-invalid=\"true\""));
        assert!(html.contains("href=\"#totp-code\""));

        let codes = RecoveryCodesPage {
            lang,
            codes: vec!["abcde-fghjk".into(), XSS.into()],
            totp_added: true,
            continue_url: "/account/security".into(),
        }
        .render(&SiteConfig::default());
        check_common(&codes, lang);
        assert!(codes.contains("<li><code>abcde-fghjk</code></li>"));

        let stepup = StepUpPage {
            lang,
            client_name: Some(XSS.into()),
            level: "substantial".into(),
            current_level: "low".into(),
            req: XSS.into(),
            csrf: XSS.into(),
            totp: true,
            recovery_left: 3,
            passkey: true,
            error: None,
            attempts_left: None,
            cancel_url: "/account/security".into(),
            enrol: None,
            sources: Default::default(),
        };
        let html = stepup.render(&SiteConfig::default());
        check_common(&html, lang);
        // Setting up an authenticator app right on the step-up page.
        let enrol = StepUpPage {
            totp: false,
            recovery_left: 0,
            passkey: false,
            enrol: Some(EnrolTotp {
                fresh: true,
                relogin_url: "/login?req=x".into(),
                email: XSS.into(),
                secret: "ABCD EFGH".into(),
                qr: crate::accounts::totp::qr_path("otpauth://totp/x?secret=ABCD"),
                error: Some(CodeError::Wrong),
            }),
            ..stepup.clone()
        }
        .render(&SiteConfig::default());
        check_common(&enrol, lang);
        assert!(enrol.contains("action=\"/stepup/enrol-totp\""));
        assert!(enrol.contains("href=\"#enrol-code\""));
        assert!(!enrol.contains(s.stepup_none));
        assert!(html.contains(s.level_substantial) && html.contains(s.level_low));
        assert!(html.contains("action=\"/stepup/totp\""));
        assert!(html.contains("action=\"/stepup/recovery\""));
        assert!(html.contains("action=\"/stepup/decline\""));
        assert!(html.contains(&format!(">{}</button>", s.stepup_decline)));
        assert!(html.contains("id=\"passkey-stepup\" data-req=\"&#60;script"));
        assert!(!html.contains("<details class=\"more\" open>"));
        let html = StepUpPage {
            error: Some(StepUpError::Recovery(CodeError::Wrong)),
            attempts_left: Some(2),
            ..stepup.clone()
        }
        .render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains("<details class=\"more\" open>"));
        assert!(html.contains(&fill(s.attempts_left, "count", "2")));
        assert!(html.contains(
            "aria-describedby=\"recovery-code-hint recovery-code-error\" aria-invalid=\"true\""
        ));
        // Nothing to offer, no request: only the way back.
        let html = StepUpPage {
            req: String::new(),
            totp: false,
            recovery_left: 0,
            passkey: false,
            ..stepup
        }
        .render(&SiteConfig::default());
        check_common(&html, lang);
        assert!(html.contains(s.stepup_none) && html.contains(s.stepup_account));
        assert!(!html.contains("<form"));
    }
    let de = StepUpPage {
        level: "substantial".into(),
        req: "r".into(),
        ..Default::default()
    }
    .render(&SiteConfig::default());
    assert!(de.contains("Für diesen Dienst ist das Vertrauensniveau „substanziell“ nötig."));
}

#[test]
fn fallback_is_static_and_localised() {
    assert!(fallback_page(Lang::De).contains("<html lang=\"de\">"));
    assert!(fallback_page(Lang::En).contains("<html lang=\"en\">"));
}

#[test]
fn footer_links_come_from_the_site_configuration() {
    let site = SiteConfig {
        imprint_url: Some("https://stadt.example/impressum".into()),
        privacy_url: Some("https://stadt.example/datenschutz".into()),
        accessibility_url: None,
        ..Default::default()
    };
    let html = LoggedOutPage { lang: Lang::De }.render(&site);
    assert!(
        html.contains("href=\"https://stadt.example/impressum\""),
        "{html}"
    );
    assert!(html.contains("href=\"https://stadt.example/datenschutz\""));
    // Without the operator's own statement the footer links Pforte's (BITV 2.0), and always
    // the Leichte Sprache page.
    assert!(html
        .contains("href=\"/barrierefreiheit?ui_locales=de\">Erklärung zur Barrierefreiheit</a>"));
    assert!(html.contains("href=\"/leichte-sprache?ui_locales=de\">Leichte Sprache</a>"));
    let bare = LoggedOutPage { lang: Lang::De }.render(&SiteConfig::default());
    assert!(!bare.contains(Lang::De.texts().footer_imprint));
    let own = SiteConfig {
        accessibility_url: Some("https://stadt.example/barrierefreiheit".into()),
        ..Default::default()
    };
    let html = LoggedOutPage { lang: Lang::En }.render(&own);
    assert!(html
        .contains("href=\"https://stadt.example/barrierefreiheit\">Accessibility statement</a>"));
    assert!(html.contains("href=\"/leichte-sprache?ui_locales=en\">Plain language</a>"));
}
