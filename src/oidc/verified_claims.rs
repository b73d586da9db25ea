//! OpenID Connect for Identity Assurance 1.0 (final): releasing proofed attributes as
//! `verified_claims`.
//!
//! Owns: which sources count as proofed and under which trust framework ([`proofed`]: the eID
//! → `eidas`, in person at the office → `de_aml`, each at substantial or high), the checks on
//! a `verified_claims` request ([`check_request`]: malformed is `invalid_request`), the claim
//! names it asks for ([`requested_names`], so that scopes, consent and scope minimums govern
//! them like any claim), and building the response element ([`release`]). Which clients may
//! receive them is the client's `verified_claims` flag; `oidc::authorize::validate` drops the
//! request for other clients, and the ID token and userinfo check the flag again.
//!
//! What is released follows IDA §6 ("Requesting Verified Claims") and §7 ("Returning less
//! data than requested"): only the claims the request names, only the `verification` members
//! it names (`trust_framework` always), filtered by `value`/`values`/`max_age`; an element
//! whose verification does not match is left out, never an error.

use serde_json::{json, Map, Value};

use crate::{
    accounts::profile::{self, Source},
    assurance::Level,
    store::accounts::{Account, Attribute},
};

/// `trust_frameworks_supported`.
pub const TRUST_FRAMEWORKS: &[&str] = &["eidas", "de_aml"];
/// `evidence_supported`.
pub const EVIDENCE: &[&str] = &["document", "electronic_record"];
/// `documents_supported`: the document staff check in person.
pub const DOCUMENTS: &[&str] = &["idcard"];
/// `documents_check_methods_supported`: physical verification in person.
pub const DOCUMENT_CHECK_METHODS: &[&str] = &["vpip"];
/// `electronic_records_supported`: the chip of the identity document read through the eID.
pub const ELECTRONIC_RECORDS: &[&str] = &["idcard", "residence_permit"];
/// `claims_in_verified_claims_supported`.
pub const CLAIMS: &[&str] = &[
    "given_name",
    "family_name",
    "birth_family_name",
    "birthdate",
    "place_of_birth",
    "nationalities",
    "address",
];

/// The least level at which a source's attributes count as verified for `verified_claims`.
pub const MIN_LEVEL: Level = Level::Substantial;

/// One source's proofing, ready to be released.
#[derive(Clone, Debug, PartialEq)]
pub struct Proofed {
    pub trust_framework: &'static str,
    /// When the source verified the attributes (Unix seconds).
    pub time: i64,
    pub evidence: Value,
    /// Claims in their released form (`address` and `place_of_birth` as objects).
    pub claims: Map<String, Value>,
}

/// The sources of the account whose attributes were proofed at [`MIN_LEVEL`] or above by the
/// eID (an upstream of profile `eid`, named in `eid_upstreams`) or in person (`office`), each
/// with its trust framework and evidence. Self-entered values and other upstreams never count.
pub fn proofed(
    account: &Account,
    attributes: &[Attribute],
    eid_upstreams: &[String],
) -> Vec<Proofed> {
    let mut sources: Vec<&str> = attributes.iter().map(|a| a.source.as_str()).collect();
    sources.sort();
    sources.dedup();
    let mut out = Vec::new();
    for source in sources {
        let attrs: Vec<Attribute> = attributes
            .iter()
            .filter(|a| a.source == source && a.level >= MIN_LEVEL)
            .cloned()
            .collect();
        let Some(time) = attrs.iter().filter_map(|a| a.verified_at).max() else {
            continue;
        };
        let (trust_framework, evidence) = match Source::parse(source) {
            Some(Source::Office) => (
                "de_aml",
                json!({
                    "type": "document",
                    "check_details": [{"check_method": "vpip"}],
                    "time": rfc3339(time),
                    "document_details": {"type": "idcard"},
                }),
            ),
            Some(Source::Upstream(id)) if eid_upstreams.iter().any(|e| e == id) => {
                let record_type = match attrs
                    .iter()
                    .find(|a| a.name == "document_type")
                    .map(|a| a.value.as_str())
                {
                    // BSI TR-03127: AR, AS, AF are electronic residence permits (eAT).
                    Some("AR" | "AS" | "AF") => "residence_permit",
                    _ => "idcard",
                };
                (
                    "eidas",
                    json!({
                        "type": "electronic_record",
                        "time": rfc3339(time),
                        "record": {"type": record_type},
                    }),
                )
            }
            _ => continue,
        };
        let mut claims = super::claims::all_claims(account, &attrs);
        claims.retain(|name, _| CLAIMS.contains(&name.as_str()));
        // all_claims adds a name built from the parts and the account's e-mail; neither is
        // in CLAIMS, and a name part of another source must not slip in.
        claims.retain(|name, _| {
            attrs
                .iter()
                .any(|a| profile::group(&a.name) == name.as_str())
        });
        if !claims.is_empty() {
            out.push(Proofed {
                trust_framework,
                time,
                evidence,
                claims,
            });
        }
    }
    out
}

/// The `verified_claims` for one target (`id_token` or `userinfo`) of a response to
/// `client` about `account`: `None` unless the client is allowed them and its stored `claims`
/// parameter asks for them there (already checked and restricted to the client's scopes at
/// the authorization request).
pub async fn for_target(
    core: &crate::core::Core,
    client: &crate::store::clients::Client,
    account: &Account,
    attributes: &[Attribute],
    claims_param: Option<&str>,
    target: &str,
) -> Result<Option<Value>, crate::store::StoreError> {
    if !client.verified_claims {
        return Ok(None);
    }
    let Some(t) = claims_param
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|p| p.get(target).cloned())
        .filter(|t| t.get("verified_claims").is_some())
    else {
        return Ok(None);
    };
    let eid = crate::upstream::Profile::Eid.as_str();
    let eids: Vec<String> = core
        .db
        .upstream_list()
        .await?
        .into_iter()
        .filter(|u| u.profile == eid)
        .map(|u| u.id)
        .collect();
    Ok(release(
        &t,
        &proofed(account, attributes, &eids),
        core.now(),
    ))
}

/// A Unix time as RFC 3339 / ISO 8601 in UTC, as IDA's `time` members are written.
fn rfc3339(t: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        ),
        Err(_) => "1970-01-01T00:00:00Z".into(),
    }
}

/// The `verified_claims` request elements of one target (`id_token`, `userinfo`): an object
/// or an array of them (IDA §6.5).
fn elements(target: &Value) -> Vec<&Value> {
    match target.get("verified_claims") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => vec![],
    }
}

/// A member constraint of the claims syntax (OIDC Core §5.5.1): `null` or an object.
fn is_constraint(v: &Value) -> bool {
    v.is_null() || v.is_object()
}

/// Checks every `verified_claims` request of a `claims` parameter: an object or a non-empty
/// array of objects, each with a `verification` object naming `trust_framework` and a
/// non-empty `claims` object whose members are `null` or objects; an `evidence` request is
/// an array of objects that name their `type` with `value` (IDA §6.1–6.3). Anything else is
/// a malformed request (OIDC Core §3.1.2.6 `invalid_request`; IDA §7.5).
pub fn check_request(claims_param: &Value) -> Result<(), String> {
    for target in ["id_token", "userinfo"] {
        let Some(vc) = claims_param
            .get(target)
            .and_then(|t| t.get("verified_claims"))
        else {
            continue;
        };
        let items: Vec<&Value> = match vc {
            Value::Object(_) => vec![vc],
            Value::Array(a) if !a.is_empty() && a.len() <= 10 => a.iter().collect(),
            _ => {
                return Err(format!(
                    "claims.{target}.verified_claims must be an object or a non-empty array of at most 10 objects"
                ))
            }
        };
        for item in items {
            let verification = item
                .get("verification")
                .filter(|v| v.is_object())
                .ok_or_else(|| {
                    format!("claims.{target}.verified_claims needs a verification object")
                })?;
            match verification.get("trust_framework") {
                Some(tf) if is_constraint(tf) => {}
                _ => {
                    return Err(format!(
                        "claims.{target}.verified_claims.verification needs trust_framework (null or an object)"
                    ))
                }
            }
            if let Some(ev) = verification.get("evidence") {
                let ok = ev.as_array().is_some_and(|a| {
                    !a.is_empty()
                        && a.iter().all(|e| {
                            e.get("type")
                                .and_then(|t| t.get("value"))
                                .is_some_and(Value::is_string)
                        })
                });
                if !ok {
                    return Err(format!(
                        "claims.{target}.verified_claims.verification.evidence must be an array of objects whose type names a value"
                    ));
                }
            }
            let claims = item
                .get("claims")
                .and_then(Value::as_object)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    format!("claims.{target}.verified_claims needs a non-empty claims object")
                })?;
            if let Some((name, _)) = claims.iter().find(|(_, v)| !is_constraint(v)) {
                return Err(format!(
                    "claims.{target}.verified_claims.claims.{name} must be null or an object"
                ));
            }
        }
    }
    Ok(())
}

/// The claim names requested inside `verified_claims` for one target.
pub fn requested_names(claims_param: &Value, target: &str) -> Vec<String> {
    claims_param
        .get(target)
        .map(elements)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.get("claims").and_then(Value::as_object))
        .flat_map(|c| c.keys().cloned())
        .collect()
}

/// The `claims` parameter without any `verified_claims` request (for a client the admin has
/// not allowed them: left out silently like an unavailable claim, OIDC Core §5.5).
pub fn strip(mut claims_param: Value) -> Value {
    for target in ["id_token", "userinfo"] {
        if let Some(t) = claims_param.get_mut(target).and_then(Value::as_object_mut) {
            t.remove("verified_claims");
        }
    }
    claims_param
}

/// Drops the claims inside `verified_claims` requests whose scope `allowed` refuses, like
/// `oidc::claims::restrict` does for plain claims. A request left without claims goes.
pub fn restrict(claims_param: &mut Value, allowed: &impl Fn(&str) -> bool) {
    for target in ["id_token", "userinfo"] {
        let Some(t) = claims_param.get_mut(target).and_then(Value::as_object_mut) else {
            continue;
        };
        let keep = |e: &mut Value| {
            if let Some(c) = e.get_mut("claims").and_then(Value::as_object_mut) {
                c.retain(|name, _| super::claims::scope_of(name).is_some_and(allowed));
                !c.is_empty()
            } else {
                false
            }
        };
        let empty = match t.get_mut("verified_claims") {
            Some(Value::Array(a)) => {
                a.retain_mut(keep);
                a.is_empty()
            }
            Some(v @ Value::Object(_)) => !keep(v),
            _ => false,
        };
        if empty {
            t.remove("verified_claims");
        }
    }
}

/// Whether `actual` meets a `value`/`values` constraint (OIDC Core §5.5.1), if any.
fn matches(constraint: &Value, actual: &Value) -> bool {
    if let Some(v) = constraint.get("value") {
        return v == actual;
    }
    if let Some(vs) = constraint.get("values").and_then(Value::as_array) {
        return vs.contains(actual);
    }
    true
}

/// The `verified_claims` to release for one target: for every request element and every
/// proofed source that meets its verification constraints, one element with the requested
/// claims the source has (and meeting their constraints) and the requested verification
/// members. `None` when nothing is left. One element is returned as an object, several as an
/// array (IDA §5.2 / §6.5).
pub fn release(target: &Value, proofed: &[Proofed], now: i64) -> Option<Value> {
    let mut out = Vec::new();
    for req in elements(target) {
        let (Some(verification), Some(claims)) = (
            req.get("verification"),
            req.get("claims").and_then(Value::as_object),
        ) else {
            continue;
        };
        for p in proofed {
            if let Some(el) = element(verification, claims, p, now) {
                out.push(el);
            }
        }
    }
    match out.len() {
        0 => None,
        1 => out.pop(),
        _ => Some(Value::Array(out)),
    }
}

fn element(
    verification: &Value,
    claims: &Map<String, Value>,
    p: &Proofed,
    now: i64,
) -> Option<Value> {
    let mut v = Map::new();
    let tf = Value::String(p.trust_framework.into());
    if !matches(verification.get("trust_framework")?, &tf) {
        return None;
    }
    v.insert("trust_framework".into(), tf);
    if let Some(t) = verification.get("time") {
        if let Some(max_age) = t.get("max_age").and_then(Value::as_i64) {
            if now - p.time > max_age {
                return None;
            }
        }
        v.insert("time".into(), Value::String(rfc3339(p.time)));
    }
    if let Some(ev) = verification.get("evidence").and_then(Value::as_array) {
        let ours = p.evidence.get("type");
        if !ev
            .iter()
            .any(|e| e.get("type").and_then(|t| t.get("value")) == ours)
        {
            return None; // a constraint within verification: the element goes (IDA §7.3)
        }
        v.insert("evidence".into(), json!([p.evidence]));
    }
    // Members we do not have (assurance_level, verification_process, ...): a constraint on
    // them cannot be met, so the element goes; a plain request is left unanswered.
    for (name, c) in verification.as_object()? {
        if !["trust_framework", "time", "evidence"].contains(&name.as_str())
            && (c.get("value").is_some() || c.get("values").is_some())
        {
            return None;
        }
    }
    let mut out_claims = Map::new();
    for (name, c) in claims {
        if let Some(value) = p.claims.get(name) {
            if matches(c, value) {
                out_claims.insert(name.clone(), value.clone());
            }
        }
    }
    if out_claims.is_empty() {
        return None;
    }
    Some(json!({"verification": v, "claims": out_claims}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            id: "u1".into(),
            email: "anna@example.de".into(),
            email_verified: true,
            password_hash: None,
            proofing_level: Level::High,
            proofing_evidence: None,
            proofed_at: None,
            created_at: 0,
            disabled_at: None,
        }
    }

    fn attr(name: &str, value: &str, source: &str, level: Level, at: Option<i64>) -> Attribute {
        Attribute {
            name: name.into(),
            value: value.into(),
            source: source.into(),
            level,
            verified_at: at,
        }
    }

    fn attrs() -> Vec<Attribute> {
        vec![
            attr("given_name", "Anna", "self", Level::Low, None),
            attr(
                "given_name",
                "Anna",
                "office",
                Level::High,
                Some(1_700_000_000),
            ),
            attr(
                "family_name",
                "Schmidt",
                "office",
                Level::High,
                Some(1_700_000_000),
            ),
            attr(
                "family_name",
                "Schmidt",
                "upstream:eid",
                Level::High,
                Some(1_800_000_000),
            ),
            attr(
                "birthdate",
                "1980-02-03",
                "upstream:eid",
                Level::High,
                Some(1_800_000_000),
            ),
            attr(
                "address.locality",
                "Werne",
                "upstream:eid",
                Level::High,
                Some(1_800_000_000),
            ),
            attr(
                "family_name",
                "Schmitt",
                "upstream:sk",
                Level::Substantial,
                Some(1_800_000_000),
            ),
            attr(
                "family_name",
                "S.",
                "upstream:eid-low",
                Level::Low,
                Some(1_800_000_000),
            ),
        ]
    }

    fn eids() -> Vec<String> {
        vec!["eid".into(), "eid-low".into()]
    }

    #[test]
    fn only_the_eid_and_the_office_at_substantial_or_above_count() {
        let p = proofed(&account(), &attrs(), &eids());
        let tf: Vec<_> = p.iter().map(|p| p.trust_framework).collect();
        assert_eq!(tf, vec!["de_aml", "eidas"]);
        assert_eq!(p[0].evidence["type"], "document");
        assert_eq!(p[0].evidence["check_details"][0]["check_method"], "vpip");
        assert_eq!(p[1].evidence["type"], "electronic_record");
        assert_eq!(p[1].evidence["record"]["type"], "idcard");
        assert_eq!(p[1].evidence["time"], "2027-01-15T08:00:00Z");
        assert_eq!(p[1].claims["address"]["locality"], "Werne");
        assert!(
            p[1].claims.get("given_name").is_none(),
            "not delivered by the eID"
        );
        assert!(p.iter().all(|p| p.claims.get("email").is_none()));
    }

    fn req(v: Value) -> Value {
        json!({ "verified_claims": v })
    }

    #[test]
    fn only_requested_claims_and_verification_members_are_released() {
        let p = proofed(&account(), &attrs(), &eids());
        let r = release(
            &req(json!({"verification": {"trust_framework": {"value": "eidas"}}, "claims": {"family_name": null, "email": null}})),
            &p,
            1_800_000_100,
        )
        .unwrap();
        assert_eq!(
            r,
            json!({"verification": {"trust_framework": "eidas"}, "claims": {"family_name": "Schmidt"}})
        );
        let r = release(
            &req(json!({"verification": {"trust_framework": null, "time": null, "evidence": [{"type": {"value": "document"}}]}, "claims": {"given_name": null}})),
            &p,
            0,
        )
        .unwrap();
        assert_eq!(r["verification"]["trust_framework"], "de_aml");
        assert_eq!(r["verification"]["time"], "2023-11-14T22:13:20Z");
        assert_eq!(
            r["verification"]["evidence"][0]["document_details"]["type"],
            "idcard"
        );
        assert_eq!(r["claims"], json!({"given_name": "Anna"}));
    }

    #[test]
    fn every_matching_source_gives_an_element_and_unmet_verification_drops_it() {
        let p = proofed(&account(), &attrs(), &eids());
        let any = req(
            json!({"verification": {"trust_framework": null}, "claims": {"family_name": null}}),
        );
        assert_eq!(release(&any, &p, 0).unwrap().as_array().unwrap().len(), 2);
        let gold = req(
            json!({"verification": {"trust_framework": {"values": ["gold"]}}, "claims": {"family_name": null}}),
        );
        assert_eq!(release(&gold, &p, 0), None);
        let fresh = req(
            json!({"verification": {"trust_framework": {"value": "de_aml"}, "time": {"max_age": 60}}, "claims": {"family_name": null}}),
        );
        assert_eq!(
            release(&fresh, &p, 1_700_000_030).unwrap()["claims"]["family_name"],
            "Schmidt"
        );
        assert_eq!(release(&fresh, &p, 1_700_000_100), None);
        let level = req(
            json!({"verification": {"trust_framework": null, "assurance_level": {"value": "x"}}, "claims": {"family_name": null}}),
        );
        assert_eq!(release(&level, &p, 0), None);
        let value = req(
            json!({"verification": {"trust_framework": {"value": "eidas"}}, "claims": {"family_name": {"value": "Meier"}, "birthdate": null}}),
        );
        assert_eq!(
            release(&value, &p, 0).unwrap()["claims"],
            json!({"birthdate": "1980-02-03"})
        );
    }

    #[test]
    fn malformed_requests_are_named() {
        let ok = json!({"userinfo": {"verified_claims": [{"verification": {"trust_framework": null}, "claims": {"given_name": null}}]}});
        assert_eq!(check_request(&ok), Ok(()));
        for bad in [
            json!({"id_token": {"verified_claims": "yes"}}),
            json!({"id_token": {"verified_claims": []}}),
            json!({"id_token": {"verified_claims": {"claims": {"given_name": null}}}}),
            json!({"id_token": {"verified_claims": {"verification": {}, "claims": {"given_name": null}}}}),
            json!({"id_token": {"verified_claims": {"verification": {"trust_framework": "eidas"}, "claims": {"given_name": null}}}}),
            json!({"id_token": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {}}}}),
            json!({"id_token": {"verified_claims": {"verification": {"trust_framework": null}, "claims": null}}}),
            json!({"id_token": {"verified_claims": {"verification": {"trust_framework": null}, "claims": {"given_name": true}}}}),
            json!({"id_token": {"verified_claims": {"verification": {"trust_framework": null, "evidence": [{"type": {"values": ["document"]}}]}, "claims": {"given_name": null}}}}),
        ] {
            assert!(check_request(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_restriction_and_stripping() {
        let mut p = json!({"id_token": {"verified_claims": [
            {"verification": {"trust_framework": null}, "claims": {"given_name": null, "email": null}},
            {"verification": {"trust_framework": null}, "claims": {"address": null}}
        ]}, "userinfo": {"email": null}});
        assert_eq!(
            requested_names(&p, "id_token"),
            vec!["email", "given_name", "address"]
        );
        restrict(&mut p, &|s: &str| s == "profile");
        assert_eq!(requested_names(&p, "id_token"), vec!["given_name"]);
        restrict(&mut p, &|_: &str| false);
        assert!(p["id_token"].get("verified_claims").is_none());
        let s = strip(json!({"id_token": {"verified_claims": {}, "acr": null}}));
        assert_eq!(s, json!({"id_token": {"acr": null}}));
    }
}
