use super::*;
use crate::{
    assurance::policy::Policy,
    store::{clients::Client, types::AuthMethod},
};

/// The fuzz targets' registered client (`oidc::fuzz::client`), first party or not, public or
/// confidential, with the scope `payment` (which the policy can put a minimum on).
fn client(first_party: bool, public: bool) -> Client {
    Client {
        secret_hash: (!public).then(|| "x".into()),
        scopes: ["openid", "profile", "email", "payment"]
            .map(String::from)
            .to_vec(),
        token_endpoint_auth_method: if public {
            AuthMethod::None
        } else {
            AuthMethod::ClientSecretBasic
        },
        first_party,
        min_level: None,
        ..crate::oidc::fuzz::client()
    }
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn params(extra: &str) -> Params {
    Params::parse(&format!(
        "client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid+profile&code_challenge={CHALLENGE}&code_challenge_method=S256&state=s1{extra}"
    ))
    .unwrap()
}

fn validated(extra: &str) -> Result<AuthRequest, Box<RedirectError>> {
    let c = client(false, true);
    let p = params(extra);
    let uri = resolve_client(&p, Some(&c)).unwrap();
    validate(&p, &c, uri, Ok(None))
}

#[test]
fn unknown_client_and_wrong_redirect_are_pages_not_redirects() {
    let c = client(false, true);
    let p = Params::parse("client_id=other&redirect_uri=https%3A%2F%2Frp.example%2Fcb").unwrap();
    assert!(resolve_client(&p, None).is_err());
    let p = Params::parse("client_id=rp&redirect_uri=https%3A%2F%2Fevil.example%2Fcb").unwrap();
    assert!(resolve_client(&p, Some(&c)).is_err());
    let p = Params::parse("client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb%2F").unwrap();
    assert!(
        resolve_client(&p, Some(&c)).is_err(),
        "exact string match only"
    );
    let p = Params::parse("client_id=rp").unwrap();
    assert!(resolve_client(&p, Some(&c)).is_err());
}

#[test]
fn parameter_errors_redirect_with_the_specified_code() {
    let e = |extra: &str| validated(extra).unwrap_err().error.error;
    let p = Params::parse(&format!(
        "client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=token&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"
    ))
    .unwrap();
    let c = client(false, true);
    assert_eq!(
        validate(&p, &c, "https://rp.example/cb".into(), Ok(None))
            .unwrap_err()
            .error
            .error,
        "unsupported_response_type"
    );
    assert_eq!(e("&prompt=none+login"), "invalid_request");
    assert_eq!(e("&prompt=bogus"), "invalid_request");
    assert_eq!(e("&max_age=-1"), "invalid_request");
    assert_eq!(e("&response_mode=fragment"), "invalid_request");
    assert_eq!(e("&request=eyJ"), "request_not_supported");
    assert_eq!(e("&claims=%5B1%5D"), "invalid_request");
}

#[test]
fn scopes_and_pkce() {
    let c = client(false, true);
    let base = "client_id=rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code";
    let v = |q: &str| {
        validate(
            &Params::parse(&format!("{base}&{q}")).unwrap(),
            &c,
            "https://rp.example/cb".into(),
            Ok(None),
        )
    };
    assert_eq!(
        v(&format!(
            "scope=openid+admin&code_challenge={CHALLENGE}&code_challenge_method=S256"
        ))
        .unwrap_err()
        .error
        .error,
        "invalid_scope"
    );
    assert_eq!(
        v(&format!(
            "scope=profile&code_challenge={CHALLENGE}&code_challenge_method=S256"
        ))
        .unwrap_err()
        .error
        .error,
        "invalid_scope"
    );
    assert_eq!(
        v("scope=openid").unwrap_err().error.error_description,
        "code_challenge is required (PKCE, S256)"
    );
    assert!(v(&format!(
        "scope=openid&code_challenge={CHALLENGE}&code_challenge_method=plain"
    ))
    .is_err());
    assert!(v(&format!("scope=openid&code_challenge={CHALLENGE}")).is_err());
    assert!(v("scope=openid&code_challenge=short&code_challenge_method=S256").is_err());
    assert!(v(&format!(
        "scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"
    ))
    .is_ok());
    // RFC 9700 §2.1.1: required of confidential clients too, unless marked legacy.
    let mut confidential = client(false, false);
    let p = Params::parse(&format!("{base}&scope=openid")).unwrap();
    assert!(
        validate(&p, &confidential, "https://rp.example/cb".into(), Ok(None)).is_err(),
        "PKCE required for confidential clients"
    );
    confidential.pkce_optional = true;
    assert!(
        validate(&p, &confidential, "https://rp.example/cb".into(), Ok(None)).is_ok(),
        "PKCE optional for a legacy confidential client"
    );
}

fn session(level: Level, auth_time: i64) -> SessionView {
    SessionView {
        account_id: "u1".into(),
        auth_time,
        level,
    }
}

fn decide_with(
    req: &AuthRequest,
    c: &Client,
    s: Option<&SessionView>,
    consent: Option<&[String]>,
    reachable: Level,
    interaction: Interaction,
    policy: &Policy,
) -> Next {
    decide(
        req,
        &Facts {
            client: c,
            session: s,
            consented_scopes: consent,
            policy,
            reachable,
            interaction,
            now: 10_000,
        },
    )
}

#[test]
fn decision_table() {
    let p = Policy::default();
    let c = client(false, true);
    let fp = client(true, true);
    let consent = vec!["profile".to_string()];
    let low = session(Level::Low, 9_000);
    let none = Interaction::default();
    let req = validated("").unwrap();
    let req_none = validated("&prompt=none").unwrap();
    let req_login = validated("&prompt=login").unwrap();
    let req_consent = validated("&prompt=consent").unwrap();
    let req_max_age = validated("&max_age=60").unwrap();

    assert_eq!(
        decide_with(&req, &c, None, None, Level::Low, none, &p),
        Next::Login
    );
    assert!(
        matches!(decide_with(&req_none, &c, None, None, Level::Low, none, &p), Next::Error(e) if e.error == "login_required")
    );
    assert_eq!(
        decide_with(&req, &c, Some(&low), None, Level::Low, none, &p),
        Next::Consent
    );
    assert!(
        matches!(decide_with(&req_none, &c, Some(&low), None, Level::Low, none, &p), Next::Error(e) if e.error == "consent_required")
    );
    assert_eq!(
        decide_with(&req, &c, Some(&low), Some(&consent), Level::Low, none, &p),
        Next::Issue { level: Level::Low }
    );
    assert_eq!(
        decide_with(&req, &fp, Some(&low), None, Level::Low, none, &p),
        Next::Issue { level: Level::Low },
        "first party: no consent"
    );
    assert_eq!(
        decide_with(
            &req_none,
            &c,
            Some(&low),
            Some(&consent),
            Level::Low,
            none,
            &p
        ),
        Next::Issue { level: Level::Low }
    );
    assert_eq!(
        decide_with(&req_login, &fp, Some(&low), None, Level::Low, none, &p),
        Next::Login
    );
    let fresh = Interaction {
        logged_in: true,
        ..Default::default()
    };
    assert_eq!(
        decide_with(&req_login, &fp, Some(&low), None, Level::Low, fresh, &p),
        Next::Issue { level: Level::Low }
    );
    assert_eq!(
        decide_with(
            &req_consent,
            &c,
            Some(&low),
            Some(&consent),
            Level::Low,
            none,
            &p
        ),
        Next::Consent
    );
    let consented = Interaction {
        consented: true,
        ..Default::default()
    };
    assert_eq!(
        decide_with(
            &req_consent,
            &c,
            Some(&low),
            Some(&consent),
            Level::Low,
            consented,
            &p
        ),
        Next::Issue { level: Level::Low }
    );
    // max_age: login 1000 s ago, max_age 60.
    assert_eq!(
        decide_with(&req_max_age, &fp, Some(&low), None, Level::Low, none, &p),
        Next::Login
    );
    // The session's login aged out entirely (low max age 12 h).
    let ancient = session(Level::Low, 10_000 - 13 * 3600);
    assert_eq!(
        decide_with(&req, &fp, Some(&ancient), None, Level::Low, none, &p),
        Next::Login
    );
    // id_token_hint for another citizen.
    let mut hinted = req_none.clone();
    hinted.id_token_hint_sub = Some("someone-else".into());
    assert!(
        matches!(decide_with(&hinted, &fp, Some(&low), None, Level::Low, none, &p), Next::Error(e) if e.error == "login_required")
    );
}

#[test]
fn levels_essential_voluntary_and_policy() {
    let mut p = Policy::default();
    p.scope_min.insert("payment".into(), Level::Substantial);
    let fp = client(true, true);
    let none = Interaction::default();
    let low = session(Level::Low, 9_900);
    let subst = session(Level::Substantial, 9_900);
    let ess = |v: &str| {
        validated(&format!("&claims=%7B%22id_token%22%3A%7B%22acr%22%3A%7B%22essential%22%3Atrue%2C%22values%22%3A%5B%22{v}%22%5D%7D%7D%7D")).unwrap()
    };
    let ess_subst = ess("http%3A%2F%2Feidas.europa.eu%2FLoA%2Fsubstantial");
    let mut ess_subst_none = ess_subst.clone();
    ess_subst_none.prompt = vec!["none".into()];

    // Essential and unmet with prompt=none → unmet_authentication_requirements.
    assert!(
        matches!(decide_with(&ess_subst_none, &fp, Some(&low), None, Level::Substantial, none, &p), Next::Error(e) if e.error == "unmet_authentication_requirements")
    );
    // Essential, unmet, but reachable → step up in the same session.
    assert_eq!(
        decide_with(
            &ess_subst,
            &fp,
            Some(&low),
            None,
            Level::Substantial,
            none,
            &p
        ),
        Next::StepUp {
            target: Level::Substantial
        }
    );
    // Essential, unreachable (self-registered identity: proofing ceiling low) → unmet.
    assert!(
        matches!(decide_with(&ess_subst, &fp, Some(&low), None, Level::Low, none, &p), Next::Error(e) if e.error == "unmet_authentication_requirements")
    );
    // Met → issued at the session's real level.
    assert_eq!(
        decide_with(
            &ess_subst,
            &fp,
            Some(&subst),
            None,
            Level::Substantial,
            none,
            &p
        ),
        Next::Issue {
            level: Level::Substantial
        }
    );
    // STORK spelling accepted on input.
    assert_eq!(
        decide_with(
            &ess("STORK-QAA-Level-3"),
            &fp,
            Some(&subst),
            None,
            Level::Substantial,
            none,
            &p
        ),
        Next::Issue {
            level: Level::Substantial
        }
    );

    // Voluntary acr_values in preference order: the first reachable wins (not the lowest).
    let vol = validated("&acr_values=http%3A%2F%2Feidas.europa.eu%2FLoA%2Fhigh+http%3A%2F%2Feidas.europa.eu%2FLoA%2Fsubstantial+http%3A%2F%2Feidas.europa.eu%2FLoA%2Flow").unwrap();
    assert_eq!(
        decide_with(&vol, &fp, Some(&low), None, Level::Substantial, none, &p),
        Next::StepUp {
            target: Level::Substantial
        }
    );
    assert_eq!(
        decide_with(&vol, &fp, Some(&low), None, Level::High, none, &p),
        Next::StepUp {
            target: Level::High
        }
    );
    assert_eq!(
        decide_with(&vol, &fp, Some(&low), None, Level::Low, none, &p),
        Next::Issue { level: Level::Low }
    );
    assert_eq!(
        decide_with(&vol, &fp, Some(&subst), None, Level::Substantial, none, &p),
        Next::Issue {
            level: Level::Substantial
        }
    );

    // Policy: a payment scope needs substantial; a client minimum applies to every request.
    let pay = validated("")
        .map(|mut r| {
            r.scopes.push("payment".into());
            r
        })
        .unwrap();
    assert_eq!(
        decide_with(&pay, &fp, Some(&low), None, Level::Substantial, none, &p),
        Next::StepUp {
            target: Level::Substantial
        }
    );
    let mut high_client = fp.clone();
    high_client.min_level = Some(Level::High);
    assert!(
        matches!(decide_with(&validated("").unwrap(), &high_client, Some(&subst), None, Level::Substantial, none, &p), Next::Error(e) if e.error == "unmet_authentication_requirements")
    );

    // Ageing: a substantial login older than its max age (2 h) counts as low only.
    let old_subst = session(Level::Substantial, 10_000 - 3 * 3600);
    assert_eq!(
        decide_with(
            &ess_subst,
            &fp,
            Some(&old_subst),
            None,
            Level::Substantial,
            none,
            &p
        ),
        Next::StepUp {
            target: Level::Substantial
        }
    );

    // Voluntary step-up is offered after a fresh password login too; declining continues at
    // the real level, while a declined hard minimum fails.
    let fresh = Interaction {
        logged_in: true,
        ..Default::default()
    };
    assert_eq!(
        decide_with(&vol, &fp, Some(&low), None, Level::Substantial, fresh, &p),
        Next::StepUp {
            target: Level::Substantial
        }
    );
    let declined = Interaction {
        logged_in: true,
        declined_step_up: true,
        ..Default::default()
    };
    assert_eq!(
        decide_with(
            &vol,
            &fp,
            Some(&low),
            None,
            Level::Substantial,
            declined,
            &p
        ),
        Next::Issue { level: Level::Low }
    );
    assert!(
        matches!(decide_with(&ess_subst, &fp, Some(&low), None, Level::Substantial, declined, &p), Next::Error(e) if e.error == "unmet_authentication_requirements")
    );
}

#[test]
fn requested_claims_need_their_scopes_consent_and_minimum() {
    let claims =
        r#"{"userinfo":{"email":null,"address":null,"acr":null},"id_token":{"given_name":null}}"#;
    let enc: String = url::form_urlencoded::byte_serialize(claims.as_bytes()).collect();
    let req = validated(&format!("&claims={enc}")).unwrap();
    // `address` is not registered for the client: dropped silently (OIDC Core §5.5).
    let kept: serde_json::Value = serde_json::from_str(req.claims.as_deref().unwrap()).unwrap();
    assert_eq!(
        kept,
        serde_json::json!({"userinfo":{"email":null,"acr":null},"id_token":{"given_name":null}})
    );
    assert_eq!(req.consent_scopes(), vec!["openid", "profile", "email"]);

    let c = client(false, true);
    let none = Interaction::default();
    let low = session(Level::Low, 9_900);
    let mut p = Policy::default();
    let profile_only = vec!["profile".to_string()];
    assert_eq!(
        decide_with(
            &req,
            &c,
            Some(&low),
            Some(&profile_only),
            Level::Low,
            none,
            &p
        ),
        Next::Consent,
        "a claim of a scope not consented to asks for consent"
    );
    let both = vec!["profile".to_string(), "email".to_string()];
    assert_eq!(
        decide_with(&req, &c, Some(&low), Some(&both), Level::Low, none, &p),
        Next::Issue { level: Level::Low }
    );
    p.scope_min.insert("email".into(), Level::Substantial);
    assert_eq!(
        decide_with(
            &req,
            &c,
            Some(&low),
            Some(&both),
            Level::Substantial,
            none,
            &p
        ),
        Next::StepUp {
            target: Level::Substantial
        },
        "the email scope's minimum applies to its claim"
    );
}

#[test]
fn json_depth_counts_brackets_outside_strings() {
    use super::json_depth;
    assert_eq!(json_depth(r#"{"id_token":{"acr":{"values":["a"]}}}"#), 4);
    assert_eq!(json_depth(r#"{"a":"{{{{[[[[\"}}"}"#), 1);
    assert_eq!(json_depth(&"[".repeat(10_000)), 10_000);
    assert_eq!(json_depth("null"), 0);
}
