//! The citizen's profile from several sources, and which value a service gets.
//!
//! Owns: the source names ([`Source`]: `self`, `office`, `upstream:<id>`), the one rule that
//! chooses among sources ([`effective`]: highest level, then the newest verification; an
//! address counts as one unit), turning what an upstream delivered into attributes with
//! provenance ([`attributes_from_claims`]), and recording them after an upstream login
//! ([`record_upstream`]: the proofing it brings raises the account's, audited) or after staff
//! checked the identity in person ([`record_office`]). Storage is `store::attributes`;
//! releasing them to services is `oidc::claims`. Documented in docs/assurance.md.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::{
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    store::{self, accounts::Attribute, attributes::ProofingUpdate, Db},
};

/// Where an attribute came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// Entered by the citizen (registration, `pforte account add`): never verified.
    SelfEntered,
    /// Checked by staff in person against an identity document (`pforte account proof`).
    Office,
    /// Delivered by an upstream identity source at a login (its id).
    Upstream(&'a str),
}

pub const SELF: &str = "self";
pub const OFFICE: &str = "office";
const UPSTREAM_PREFIX: &str = "upstream:";

impl<'a> Source<'a> {
    /// Reads a stored source; `None` for names Pforte does not write.
    pub fn parse(s: &'a str) -> Option<Source<'a>> {
        match s {
            SELF => Some(Source::SelfEntered),
            OFFICE => Some(Source::Office),
            _ => s
                .strip_prefix(UPSTREAM_PREFIX)
                .filter(|id| !id.is_empty())
                .map(Source::Upstream),
        }
    }

    /// The stored name.
    pub fn name(self) -> String {
        match self {
            Source::SelfEntered => SELF.into(),
            Source::Office => OFFICE.into(),
            Source::Upstream(id) => format!("{UPSTREAM_PREFIX}{id}"),
        }
    }
}

/// Claims that are JSON objects, stored as one attribute per member (`address.locality`):
/// OIDC Core §5.1.1 `address`, OpenID Identity Assurance `place_of_birth`.
pub const STRUCTURED: &[(&str, &[&str])] = &[
    (
        "address",
        &[
            "street_address",
            "postal_code",
            "locality",
            "region",
            "country",
        ],
    ),
    ("place_of_birth", &["country", "region", "locality"]),
];

/// Claims that are JSON arrays of strings (OpenID Identity Assurance `nationalities`), stored
/// as the JSON text of the array.
pub const ARRAYS: &[&str] = &["nationalities"];

/// Attributes that are read together: an address comes from one source as a whole, never
/// the street from one and the town from another (the same for the place of birth).
pub fn group(name: &str) -> &str {
    match name.split_once('.') {
        Some((g, _)) if STRUCTURED.iter().any(|(s, _)| *s == g) => g,
        _ => name,
    }
}

/// Whether `a` wins over `b`: higher level, then newer verification (a value never verified
/// is the oldest), then, for a stable answer, the source name.
fn better(a: &Attribute, b: &Attribute) -> bool {
    (a.level, a.verified_at, std::cmp::Reverse(&a.source))
        > (b.level, b.verified_at, std::cmp::Reverse(&b.source))
}

/// The value a service gets for each attribute name, from all sources the account has:
/// the one proofed at the **highest level**, among equals the **most recently verified**
/// (self-entered values count as never verified, so a verified value of the same level
/// wins). The parts of an address (`address.*`) are chosen together, from the source whose
/// address wins by the same rule.
pub fn effective(attributes: &[Attribute]) -> BTreeMap<String, &Attribute> {
    let mut best: BTreeMap<&str, &Attribute> = BTreeMap::new();
    for a in attributes {
        let g = group(&a.name);
        if best.get(g).is_none_or(|b| better(a, b)) {
            best.insert(g, a);
        }
    }
    attributes
        .iter()
        .filter(|a| {
            best.get(group(&a.name))
                .is_some_and(|b| b.source == a.source)
        })
        .map(|a| (a.name.clone(), a))
        .collect()
}

/// Claims of an ID token or userinfo response that are about the protocol or the upstream's
/// account, not the person: never stored as attributes. The e-mail address lives on the
/// account itself (linking decides what to do with it).
const NOT_ATTRIBUTES: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "auth_time",
    "at_hash",
    "c_hash",
    "s_hash",
    "email",
    "email_verified",
    "updated_at",
    "verified_claims",
    "_claim_names",
    "_claim_sources",
];

/// The longest stored value (characters); longer values are not stored.
const MAX_VALUE: usize = 1000;

fn storable_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !NOT_ATTRIBUTES.contains(&n)
}

fn storable_value(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()
        && s.chars().count() <= MAX_VALUE
        && !s.chars().any(|c| c.is_control() && c != '\n'))
    .then_some(s)
}

/// What an upstream delivered (claim names already mapped to Pforte's), as attributes of
/// `source` at `level`, verified `now`. Strings, booleans and numbers are kept; the objects of
/// [`STRUCTURED`] (`address`, `place_of_birth`) become their parts (`address.locality`; a
/// place of birth given as plain text is its locality); the arrays of [`ARRAYS`]
/// (`nationalities`) are kept as JSON text; protocol claims, other objects and arrays,
/// over-long values and names that are not plain claim names are left out.
pub fn attributes_from_claims(
    source: Source<'_>,
    level: Level,
    now: i64,
    claims: &BTreeMap<String, Value>,
) -> Vec<Attribute> {
    let attr = |name: String, value: String| Attribute {
        name,
        value,
        source: source.name(),
        level,
        verified_at: Some(now),
    };
    let mut out = Vec::new();
    for (name, v) in claims {
        if let Some((_, parts)) = STRUCTURED.iter().find(|(s, _)| s == name) {
            if let Some(text) = v.as_str().filter(|_| name == "place_of_birth") {
                if let Some(s) = storable_value(&Value::String(text.into())) {
                    out.push(attr(format!("{name}.locality"), s));
                }
            }
            for (part, pv) in v.as_object().into_iter().flatten() {
                if parts.contains(&part.as_str()) {
                    if let Some(s) = storable_value(pv) {
                        out.push(attr(format!("{name}.{part}"), s));
                    }
                }
            }
        } else if ARRAYS.contains(&name.as_str()) {
            let items: Option<Vec<String>> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|i| {
                            i.as_str()
                                .and_then(|s| storable_value(&Value::String(s.into())))
                        })
                        .collect()
                })
                .unwrap_or(None);
            if let Some(items) = items.filter(|i| !i.is_empty() && i.len() <= 10) {
                out.push(attr(name.clone(), Value::from(items).to_string()));
            }
        } else if storable_name(name) {
            if let Some(s) = storable_value(v) {
                out.push(attr(name.clone(), s));
            }
        }
    }
    out
}

/// What [`record_upstream`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Attribute names stored for the source.
    pub stored: Vec<String>,
    /// `(before, after)` when the account's proofing level was raised.
    pub proofing_raised: Option<(Level, Level)>,
}

/// After a login through upstream `upstream_id` that reached `level` (the upstream's
/// asserted level, mapped and capped by trust: `assurance::level`): stores every delivered
/// claim (names already mapped) as attributes of the source `upstream:<id>` at that level,
/// replacing what the source delivered before, and raises the account's proofing level to
/// `level` when it is higher, in one transaction. A raise is audited
/// (`account.proofing_raised`), as a security event: its failure is the caller's failure.
///
/// This is how a citizen who once logged in with the eID (high) later reaches substantial
/// with password and a second factor (docs/assurance.md).
pub async fn record_upstream(
    db: &Db,
    account_id: &str,
    upstream_id: &str,
    level: Level,
    now: i64,
    claims: &BTreeMap<String, Value>,
) -> Result<Recorded, store::StoreError> {
    let source = Source::Upstream(upstream_id);
    let attrs = attributes_from_claims(source, level, now, claims);
    let evidence = format!("login through upstream {upstream_id}");
    let before = db
        .attributes_replace_source(
            account_id,
            &source.name(),
            &attrs,
            Some(ProofingUpdate {
                level,
                evidence: &evidence,
                at: now,
                only_raise: true,
            }),
        )
        .await?;
    if let Some(before) = before {
        audit::record(
            db,
            Entry::new(Event::AccountProofingRaised, Actor::System)
                .subject(account_id)
                .fields(json!({
                    "before": before,
                    "after": level,
                    "source": source.name(),
                    "evidence": evidence,
                })),
        )
        .await?;
    }
    Ok(Recorded {
        stored: attrs.into_iter().map(|a| a.name).collect(),
        proofing_raised: before.map(|b| (b, level)),
    })
}

/// Attribute names staff check against an identity document in person: the names, birth
/// data, nationality and address. Contact data (phone) is not on the document.
const DOCUMENT_CLAIMS: &[&str] = &[
    "given_name",
    "family_name",
    "middle_name",
    "birth_family_name",
    "birthdate",
    "place_of_birth",
    "nationalities",
    "gender",
    "address",
];

/// After staff checked the identity in person (`pforte account proof`): the self-entered
/// identity attributes (names, birth data, nationality, address; [`DOCUMENT_CLAIMS`]) are recorded once
/// more as source `office` at `level`, verified `now`, and the account's proofing level is set
/// to `level` (also a lower one), in one transaction. Returns the level before. The caller
/// audits (`account.proofed`).
pub async fn record_office(
    db: &Db,
    account_id: &str,
    level: Level,
    evidence: &str,
    now: i64,
) -> Result<Vec<Attribute>, store::StoreError> {
    let attrs: Vec<Attribute> = db
        .account_attributes(account_id)
        .await?
        .into_iter()
        .filter(|a| a.source == SELF)
        .filter(|a| DOCUMENT_CLAIMS.contains(&group(&a.name)))
        .map(|a| Attribute {
            source: OFFICE.into(),
            level,
            verified_at: Some(now),
            ..a
        })
        .collect();
    db.attributes_replace_source(
        account_id,
        OFFICE,
        &attrs,
        Some(ProofingUpdate {
            level,
            evidence,
            at: now,
            only_raise: false,
        }),
    )
    .await?;
    Ok(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: &str, value: &str, source: &str, level: Level, at: Option<i64>) -> Attribute {
        Attribute {
            name: name.into(),
            value: value.into(),
            source: source.into(),
            level,
            verified_at: at,
        }
    }

    fn values(attrs: &[Attribute]) -> BTreeMap<String, (String, String)> {
        effective(attrs)
            .into_iter()
            .map(|(n, a)| (n, (a.value.clone(), a.source.clone())))
            .collect()
    }

    #[test]
    fn the_highest_level_wins_whatever_its_age() {
        let attrs = [
            a("family_name", "Schmitt", "self", Level::Low, None),
            a(
                "family_name",
                "Schmidt",
                "upstream:eid",
                Level::High,
                Some(100),
            ),
            a(
                "family_name",
                "Schmid",
                "upstream:sk",
                Level::Substantial,
                Some(900),
            ),
        ];
        assert_eq!(
            values(&attrs)["family_name"],
            ("Schmidt".into(), "upstream:eid".into())
        );
    }

    #[test]
    fn among_equal_levels_the_newest_verification_wins_and_self_entered_is_oldest() {
        let attrs = [
            a("given_name", "Anna", "self", Level::Low, None),
            a(
                "given_name",
                "Anna Maria",
                "upstream:a",
                Level::Low,
                Some(5),
            ),
            a("given_name", "Annamaria", "upstream:b", Level::Low, Some(7)),
        ];
        assert_eq!(values(&attrs)["given_name"].0, "Annamaria");
        assert_eq!(values(&attrs[..1])["given_name"].0, "Anna");
        assert_eq!(values(&attrs[..2])["given_name"].0, "Anna Maria");
    }

    #[test]
    fn ties_are_decided_the_same_way_in_any_order() {
        let x = a("gender", "f", "upstream:x", Level::Low, Some(1));
        let y = a("gender", "d", "upstream:y", Level::Low, Some(1));
        assert_eq!(values(&[x.clone(), y.clone()]), values(&[y, x]));
    }

    #[test]
    fn an_address_comes_from_one_source_as_a_whole() {
        let attrs = [
            a(
                "address.street_address",
                "Markt 1",
                "self",
                Level::Low,
                None,
            ),
            a("address.locality", "Werne", "self", Level::Low, None),
            a("address.postal_code", "59368", "self", Level::Low, None),
            a(
                "address.locality",
                "Mülheim an der Ruhr",
                "office",
                Level::High,
                Some(3),
            ),
            a(
                "address.postal_code",
                "45468",
                "office",
                Level::High,
                Some(3),
            ),
            a("given_name", "Anna", "self", Level::Low, None),
        ];
        let v = values(&attrs);
        assert_eq!(v["address.locality"].0, "Mülheim an der Ruhr");
        assert_eq!(v["address.postal_code"].0, "45468");
        assert!(!v.contains_key("address.street_address"), "no mixing");
        assert_eq!(v["given_name"].0, "Anna");
    }

    #[test]
    fn sources_parse_and_print() {
        for s in ["self", "office", "upstream:eid"] {
            assert_eq!(Source::parse(s).unwrap().name(), s);
        }
        assert_eq!(Source::parse("upstream:eid"), Some(Source::Upstream("eid")));
        for bad in ["", "eid", "upstream:", "Office"] {
            assert_eq!(Source::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn delivered_claims_become_attributes_with_provenance() {
        let claims: BTreeMap<String, Value> = serde_json::from_value(json!({
            "sub": "restricted-id-123",
            "iss": "https://eid.example",
            "email": "anna@example.de",
            "given_name": "  Anna ",
            "family_name": "Schmidt",
            "birthdate": "1980-02-03",
            "phone_number_verified": true,
            "address": {"street_address": "Markt 1", "locality": "Werne", "formatted": "x", "evil": "y"},
            "nationalities": ["DE", "AT"],
            "place_of_birth": "Köln",
            "nested": {"a": 1},
            "tags": ["a"],
            "bad name": "x",
            "empty": "",
            "long": "x".repeat(1001),
            "ctl": "a\u{0}b",
        }))
        .unwrap();
        let attrs = attributes_from_claims(Source::Upstream("eid"), Level::High, 42, &claims);
        let got: BTreeMap<&str, &str> = attrs
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            got,
            BTreeMap::from([
                ("address.locality", "Werne"),
                ("address.street_address", "Markt 1"),
                ("birthdate", "1980-02-03"),
                ("family_name", "Schmidt"),
                ("given_name", "Anna"),
                ("nationalities", r#"["DE","AT"]"#),
                ("phone_number_verified", "true"),
                ("place_of_birth.locality", "Köln"),
            ])
        );
        assert!(attrs.iter().all(|a| a.source == "upstream:eid"
            && a.level == Level::High
            && a.verified_at == Some(42)));
    }

    fn account(id: &str, level: Level) -> store::accounts::Account {
        store::accounts::Account {
            id: id.into(),
            email: format!("{id}@example.de"),
            email_verified: true,
            password_hash: None,
            proofing_level: level,
            proofing_evidence: None,
            proofed_at: None,
            created_at: 0,
            disabled_at: None,
        }
    }

    fn claims(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[tokio::test]
    async fn an_upstream_login_stores_its_claims_and_raises_proofing_once_audited() {
        let db = store::tests::db().await;
        let self_name = a("family_name", "Schmitt", "self", Level::Low, None);
        db.account_insert(&account("u1", Level::Low), std::slice::from_ref(&self_name))
            .await
            .unwrap();
        let r = record_upstream(
            &db,
            "u1",
            "eid",
            Level::High,
            100,
            &claims(json!({"family_name": "Schmidt", "given_name": "Anna", "sub": "x"})),
        )
        .await
        .unwrap();
        assert_eq!(r.stored, vec!["family_name", "given_name"]);
        assert_eq!(r.proofing_raised, Some((Level::Low, Level::High)));
        let acc = db.account_get("u1").await.unwrap().unwrap();
        assert_eq!(acc.proofing_level, Level::High);
        let all = db.account_attributes("u1").await.unwrap();
        assert_eq!(all.len(), 3, "both sources kept: {all:?}");
        assert_eq!(effective(&all)["family_name"].value, "Schmidt");

        // A later, lower login through another source neither lowers proofing nor wins.
        let r = record_upstream(
            &db,
            "u1",
            "sk",
            Level::Substantial,
            200,
            &claims(json!({"family_name": "Schmid"})),
        )
        .await
        .unwrap();
        assert_eq!(r.proofing_raised, None);
        assert_eq!(
            db.account_get("u1").await.unwrap().unwrap().proofing_level,
            Level::High
        );
        let all = db.account_attributes("u1").await.unwrap();
        assert_eq!(effective(&all)["family_name"].value, "Schmidt");

        // The same source again replaces what it delivered before.
        record_upstream(
            &db,
            "u1",
            "eid",
            Level::High,
            300,
            &claims(json!({"family_name": "Schmidt-Kahl"})),
        )
        .await
        .unwrap();
        let all = db.account_attributes("u1").await.unwrap();
        let eid: Vec<_> = all.iter().filter(|a| a.source == "upstream:eid").collect();
        assert_eq!(eid.len(), 1, "given_name no longer delivered: {eid:?}");
        assert_eq!(effective(&all)["family_name"].value, "Schmidt-Kahl");
        assert_eq!(effective(&all)["family_name"].verified_at, Some(300));

        let raised = db
            .audit_list(Some("account.proofing_raised"), 50)
            .await
            .unwrap()
            .len();
        assert_eq!(raised, 1);

        assert_eq!(
            db.attributes_remove_source("u1", "upstream:eid")
                .await
                .unwrap(),
            1
        );
        let all = db.account_attributes("u1").await.unwrap();
        assert_eq!(effective(&all)["family_name"].value, "Schmid");
    }

    #[tokio::test]
    async fn office_proofing_copies_document_attributes_and_sets_the_level() {
        let db = store::tests::db().await;
        let attrs = [
            a("given_name", "Anna", "self", Level::Low, None),
            a("address.locality", "Werne", "self", Level::Low, None),
            a("phone_number", "+49 2389 1", "self", Level::Low, None),
        ];
        db.account_insert(&account("u2", Level::Low), &attrs)
            .await
            .unwrap();
        let office = record_office(&db, "u2", Level::High, "Ausweis geprüft", 50)
            .await
            .unwrap();
        let names: Vec<_> = office.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, vec!["address.locality", "given_name"]);
        let acc = db.account_get("u2").await.unwrap().unwrap();
        assert_eq!(acc.proofing_level, Level::High);
        assert_eq!(acc.proofing_evidence.as_deref(), Some("Ausweis geprüft"));
        let all = db.account_attributes("u2").await.unwrap();
        let eff = effective(&all);
        assert_eq!(eff["given_name"].source, "office");
        assert_eq!(eff["phone_number"].source, "self");

        // Proofing lowered: the office values follow.
        record_office(&db, "u2", Level::Low, "Irrtum", 60)
            .await
            .unwrap();
        assert_eq!(
            db.account_get("u2").await.unwrap().unwrap().proofing_level,
            Level::Low
        );
        let all = db.account_attributes("u2").await.unwrap();
        assert!(all
            .iter()
            .filter(|a| a.source == "office")
            .all(|a| a.level == Level::Low));
    }

    #[tokio::test]
    async fn attribute_put_upserts_per_source() {
        let db = store::tests::db().await;
        db.account_insert(&account("u3", Level::Low), &[])
            .await
            .unwrap();
        db.attribute_put("u3", &a("given_name", "A", "self", Level::Low, None))
            .await
            .unwrap();
        db.attribute_put("u3", &a("given_name", "B", "self", Level::Low, None))
            .await
            .unwrap();
        db.attribute_put(
            "u3",
            &a("given_name", "C", "office", Level::Substantial, Some(1)),
        )
        .await
        .unwrap();
        let all = db.account_attributes("u3").await.unwrap();
        let v: Vec<_> = all
            .iter()
            .map(|a| (a.value.as_str(), a.source.as_str()))
            .collect();
        assert_eq!(v, vec![("C", "office"), ("B", "self")]);
    }
}
