//! Which profile claims a scope or a `claims` request releases (OIDC Core §5.4, §5.5), built
//! from the account's attributes.

use serde_json::{json, Map, Value};

use crate::store::accounts::{Account, Attribute};

/// Scopes Pforte knows, with the claims each releases.
pub const SCOPES: &[(&str, &[&str])] = &[
    ("openid", &["sub"]),
    (
        "profile",
        &[
            "name",
            "given_name",
            "family_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "birthdate",
            "gender",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    ("offline_access", &[]),
];

/// Every claim name Pforte can release (discovery's `claims_supported`).
pub fn supported_claims() -> Vec<&'static str> {
    let mut v: Vec<&str> = vec![
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "sid",
    ];
    for (_, claims) in SCOPES {
        v.extend(claims.iter().copied());
    }
    v.extend(IDA_PERSON_CLAIMS.iter().copied());
    v.dedup();
    v
}

/// The scope a standard claim belongs to (OIDC Core §5.4), `None` for claims no scope releases
/// (`sub`, `acr`, `auth_time`, ...) and for unknown names.
///
/// The one rule that ties the `claims` parameter to scopes: a claim requested there is kept only
/// if the client is registered for its scope ([`restrict`]), needs consent to that scope and
/// counts toward its minimum level ([`scopes_of_requested`]), and is released only if it is a
/// standard claim ([`release`]).
pub fn scope_of(claim: &str) -> Option<&'static str> {
    if IDA_PERSON_CLAIMS.contains(&claim) {
        return Some("profile");
    }
    SCOPES
        .iter()
        .find(|(scope, claims)| *scope != "openid" && claims.contains(&claim))
        .map(|(scope, _)| *scope)
}

/// Claims about the person that OpenID Identity Assurance 1.0 adds to OIDC Core's (its claims
/// schema, "Additional Claims about End-Users"). They belong to the `profile` scope: released
/// when requested by name through the `claims` parameter (also inside `verified_claims`),
/// never by the scope alone.
pub const IDA_PERSON_CLAIMS: &[&str] = &[
    "place_of_birth",
    "nationalities",
    "birth_family_name",
    "birth_given_name",
];

/// The scopes of the standard claims requested in a `claims` parameter (both targets), each
/// once, in the order of [`SCOPES`].
pub fn scopes_of_requested(claims_param: Option<&str>) -> Vec<&'static str> {
    let parsed = claims_param.and_then(|c| serde_json::from_str::<Value>(c).ok());
    let names: Vec<String> = ["id_token", "userinfo"]
        .iter()
        .flat_map(|t| {
            let mut n = requested_names(claims_param, t);
            // Claims inside `verified_claims` need their scope and consent like any claim.
            if let Some(p) = &parsed {
                n.extend(super::verified_claims::requested_names(p, t));
            }
            n
        })
        .collect();
    SCOPES
        .iter()
        .map(|(scope, _)| *scope)
        .filter(|scope| names.iter().any(|n| scope_of(n) == Some(*scope)))
        .collect()
}

/// The `claims` parameter without the standard claims whose scope `allowed` refuses (the
/// client is not registered for it). OIDC Core §5.5: claims that are not available are left
/// out silently, not refused.
pub fn restrict(mut claims_param: Value, allowed: impl Fn(&str) -> bool) -> Value {
    for target in ["id_token", "userinfo"] {
        if let Some(members) = claims_param.get_mut(target).and_then(Value::as_object_mut) {
            members.retain(|name, _| scope_of(name).is_none_or(&allowed));
        }
    }
    // The claims inside `verified_claims` follow the same rule.
    super::verified_claims::restrict(&mut claims_param, &allowed);
    claims_param
}

/// The claims that `scopes` plus the standard claims requested via the `claims` parameter
/// release. The caller has restricted `requested` to scopes the client may have and the
/// citizen consented to ([`restrict`], [`scopes_of_requested`]); unknown names are ignored.
pub fn release(
    account: &Account,
    attributes: &[Attribute],
    scopes: &[&str],
    requested: &[String],
) -> Map<String, Value> {
    let mut names: Vec<&str> = Vec::new();
    for (scope, claims) in SCOPES {
        if scopes.contains(scope) {
            names.extend(claims.iter().copied());
        }
    }
    names.extend(
        requested
            .iter()
            .map(String::as_str)
            .filter(|n| scope_of(n).is_some()),
    );
    let all = all_claims(account, attributes);
    let mut out = Map::new();
    for n in names {
        if let Some(v) = all.get(n) {
            out.insert(n.to_string(), v.clone());
        }
    }
    out.remove("sub");
    out
}

/// Every claim the account has, by name, each from the source that wins
/// (`accounts::profile::effective`).
pub(crate) fn all_claims(account: &Account, attributes: &[Attribute]) -> Map<String, Value> {
    use crate::accounts::profile;
    let effective = profile::effective(attributes);
    let mut m = Map::new();
    let attr = |n: &str| effective.get(n).map(|a| a.value.clone());
    for (name, a) in &effective {
        if profile::group(name) != name {
            continue; // a member of a structured claim, built below
        }
        let v = if profile::ARRAYS.contains(&name.as_str()) {
            match serde_json::from_str::<Value>(&a.value) {
                Ok(v @ Value::Array(_)) => v,
                _ => continue,
            }
        } else {
            Value::String(a.value.clone())
        };
        m.insert(name.clone(), v);
    }
    // OpenID Identity Assurance: place_of_birth is an object (country, region, locality).
    let place: Map<String, Value> = ["country", "region", "locality"]
        .iter()
        .filter_map(|p| {
            attr(&format!("place_of_birth.{p}")).map(|v| (p.to_string(), Value::String(v)))
        })
        .collect();
    if !place.is_empty() {
        m.insert("place_of_birth".into(), Value::Object(place));
    }
    let name = [attr("given_name"), attr("family_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() && !m.contains_key("name") {
        m.insert("name".into(), Value::String(name));
    }
    m.insert("email".into(), Value::String(account.email.clone()));
    m.insert("email_verified".into(), Value::Bool(account.email_verified));
    m.insert(
        "preferred_username".into(),
        Value::String(account.email.clone()),
    );
    // OIDC Core §5.1.1: the address claim is a JSON object.
    let mut address = Map::new();
    for part in [
        "street_address",
        "postal_code",
        "locality",
        "region",
        "country",
    ] {
        if let Some(v) = attr(&format!("address.{part}")) {
            address.insert(part.into(), Value::String(v));
        }
    }
    if !address.is_empty() {
        let formatted = [
            attr("address.street_address"),
            Some(
                format!(
                    "{} {}",
                    attr("address.postal_code").unwrap_or_default(),
                    attr("address.locality").unwrap_or_default()
                )
                .trim()
                .to_string(),
            ),
            attr("address.country"),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
        address.insert("formatted".into(), json!(formatted));
        m.insert("address".into(), Value::Object(address));
    }
    if let Some(v) = m.get("phone_number_verified").cloned() {
        m.insert("phone_number_verified".into(), Value::Bool(v == "true"));
    }
    m
}

/// Claim names requested for one target (`id_token` or `userinfo`) in the `claims` parameter
/// (OIDC Core §5.5).
pub fn requested_names(claims_param: Option<&str>, target: &str) -> Vec<String> {
    claims_param
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|v| {
            v.get(target)
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assurance::Level;

    fn account() -> (Account, Vec<Attribute>) {
        let a = Account {
            id: "u1".into(),
            email: "anna@example.de".into(),
            email_verified: true,
            password_hash: None,
            proofing_level: Level::Low,
            proofing_evidence: None,
            proofed_at: None,
            created_at: 0,
            disabled_at: None,
        };
        let attr = |n: &str, v: &str| Attribute {
            name: n.into(),
            value: v.into(),
            source: "self".into(),
            level: Level::Low,
            verified_at: None,
        };
        (
            a,
            vec![
                attr("given_name", "Anna"),
                attr("family_name", "Schmidt"),
                attr("address.locality", "Werne"),
                attr("address.postal_code", "59368"),
            ],
        )
    }

    #[test]
    fn scopes_release_their_claims_only() {
        let (a, attrs) = account();
        let c = release(&a, &attrs, &["openid"], &[]);
        assert!(c.is_empty());
        let c = release(&a, &attrs, &["openid", "profile"], &[]);
        assert_eq!(c["name"], "Anna Schmidt");
        assert!(c.get("email").is_none());
        let c = release(&a, &attrs, &["openid", "email", "address"], &[]);
        assert_eq!(c["email"], "anna@example.de");
        assert_eq!(c["address"]["locality"], "Werne");
        let c = release(&a, &attrs, &["openid"], &["given_name".into()]);
        assert_eq!(c["given_name"], "Anna");
    }

    #[test]
    fn each_standard_claim_belongs_to_its_scope() {
        assert_eq!(scope_of("email"), Some("email"));
        assert_eq!(scope_of("email_verified"), Some("email"));
        assert_eq!(scope_of("given_name"), Some("profile"));
        assert_eq!(scope_of("address"), Some("address"));
        assert_eq!(scope_of("phone_number"), Some("phone"));
        for none in ["sub", "acr", "auth_time", "nonce", "x-unknown"] {
            assert_eq!(scope_of(none), None, "{none}");
        }
    }

    #[test]
    fn requested_claims_name_their_scopes_once() {
        let p = r#"{"id_token":{"acr":null,"given_name":null,"email":null},"userinfo":{"family_name":null,"phone_number":null,"foo":null}}"#;
        assert_eq!(
            scopes_of_requested(Some(p)),
            vec!["profile", "email", "phone"]
        );
        assert!(scopes_of_requested(Some(r#"{"id_token":{"acr":null}}"#)).is_empty());
        assert!(scopes_of_requested(None).is_empty());
    }

    #[test]
    fn restrict_drops_claims_of_unregistered_scopes_only() {
        let p: Value = serde_json::from_str(
            r#"{"id_token":{"acr":{"essential":true},"email":null,"given_name":null},"userinfo":{"address":null,"email":null,"foo":null}}"#,
        )
        .unwrap();
        let r = restrict(p, |s| s == "email");
        assert_eq!(
            r,
            json!({"id_token":{"acr":{"essential":true},"email":null},"userinfo":{"email":null,"foo":null}})
        );
    }

    #[test]
    fn unknown_requested_claims_are_not_released() {
        let (a, mut attrs) = account();
        attrs.push(Attribute {
            name: "internal_note".into(),
            value: "x".into(),
            source: "admin".into(),
            level: Level::Low,
            verified_at: None,
        });
        let c = release(&a, &attrs, &["openid"], &["internal_note".into()]);
        assert!(c.is_empty());
    }

    #[test]
    fn the_effective_value_of_each_claim_is_released() {
        let (a, mut attrs) = account();
        attrs.push(Attribute {
            name: "family_name".into(),
            value: "Schmidt-Kahl".into(),
            source: "upstream:eid".into(),
            level: Level::High,
            verified_at: Some(10),
        });
        let c = release(&a, &attrs, &["openid", "profile"], &[]);
        assert_eq!(c["family_name"], "Schmidt-Kahl");
        assert_eq!(c["name"], "Anna Schmidt-Kahl");
    }

    #[test]
    fn claims_parameter_targets() {
        let p = r#"{"id_token":{"acr":{"essential":true},"given_name":null},"userinfo":{"email":null}}"#;
        assert_eq!(
            requested_names(Some(p), "id_token"),
            vec!["acr", "given_name"]
        );
        assert_eq!(requested_names(Some(p), "userinfo"), vec!["email"]);
        assert!(requested_names(None, "userinfo").is_empty());
    }
}
