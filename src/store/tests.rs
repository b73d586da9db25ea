//! The store returns typed values and refuses stored values it does not understand (issue 7:
//! "a corrupt stored level refused rather than read as low"), on an in-memory SQLite database.

use std::collections::BTreeMap;

use super::{
    accounts::{Account, Attribute},
    clients::Client,
    types::{Alg, AuthMethod, GrantType, LoginMethod},
    upstreams::Upstream,
    Db, StoreError,
};
use crate::assurance::{AcrVocabulary, Level};

pub(crate) async fn db() -> Db {
    // One connection: every connection to `:memory:` is a database of its own.
    let db = Db::connect("sqlite::memory:", 1).await.unwrap();
    db.migrate().await.unwrap();
    db
}

fn account() -> Account {
    Account {
        id: "acc-1".into(),
        email: "anna@example.de".into(),
        email_verified: true,
        password_hash: None,
        proofing_level: Level::Substantial,
        proofing_evidence: Some("Bürgerbüro".into()),
        proofed_at: Some(1),
        created_at: 1,
        disabled_at: None,
    }
}

pub(crate) fn client() -> Client {
    Client {
        id: "rp".into(),
        name: "RP".into(),
        secret_hash: None,
        redirect_uris: vec!["https://rp.example/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: vec!["openid".into(), "payment".into()],
        token_endpoint_auth_method: AuthMethod::None,
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: Alg::ES256,
        acr_vocabulary: AcrVocabulary::Stork,
        first_party: false,
        min_level: Some(Level::Substantial),
        created_at: 1,
        disabled_at: None,
        login_methods: Some(vec![LoginMethod::Password, LoginMethod::Passkey]),
        upstreams: None,
        may_introspect: false,
        pkce_optional: false,
        verified_claims: false,
        subject_type: crate::store::types::SubjectType::Public,
        sector_identifier: None,
    }
}

async fn exec(db: &Db, sql: &str) {
    sqlx::query(sql).execute(&db.pool).await.unwrap();
}

/// `Err(Corrupt)` naming this table, column, row and value.
fn assert_corrupt<T: std::fmt::Debug>(
    r: super::Result<T>,
    table: &str,
    column: &str,
    key: &str,
    value: &str,
) {
    match r {
        Err(StoreError::Corrupt {
            table: t,
            column: c,
            key: k,
            value: v,
        }) => assert_eq!((t, c, k.as_str(), v.as_str()), (table, column, key, value)),
        other => panic!("expected corrupt {table}.{column}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_corrupt_proofing_level_is_an_error_not_low() {
    let db = db().await;
    let attr = Attribute {
        name: "given_name".into(),
        value: "Anna".into(),
        source: "self".into(),
        level: Level::Low,
        verified_at: None,
    };
    db.account_insert(&account(), std::slice::from_ref(&attr))
        .await
        .unwrap();
    let read = db.account_get("acc-1").await.unwrap().unwrap();
    assert_eq!(read.proofing_level, Level::Substantial);
    assert_eq!(db.account_attributes("acc-1").await.unwrap(), vec![attr]);

    exec(
        &db,
        "UPDATE accounts SET proofing_level = 'superhigh' WHERE id = 'acc-1'",
    )
    .await;
    let corrupt = |r| assert_corrupt(r, "accounts", "proofing_level", "acc-1", "superhigh");
    corrupt(db.account_get("acc-1").await.map(|_| ()));
    corrupt(db.account_by_email("anna@example.de").await.map(|_| ()));
    corrupt(db.account_list().await.map(|_| ()));

    exec(&db, "UPDATE account_attributes SET level = 'LOW'").await;
    assert_corrupt(
        db.account_attributes("acc-1").await,
        "account_attributes",
        "level",
        "acc-1/given_name",
        "LOW",
    );
}

#[tokio::test]
async fn clients_read_back_typed_and_corrupt_columns_are_refused() {
    let db = db().await;
    let c = client();
    db.client_insert(&c).await.unwrap();
    let read = db.client_get("rp").await.unwrap().unwrap();
    assert_eq!(read.grant_types, c.grant_types);
    assert_eq!(read.token_endpoint_auth_method, AuthMethod::None);
    assert!(read.is_public());
    assert_eq!(read.id_token_signed_response_alg, Alg::ES256);
    assert_eq!(read.acr_vocabulary, AcrVocabulary::Stork);
    assert_eq!(read.min_level, Some(Level::Substantial));
    assert_eq!(read.login_methods, c.login_methods);
    assert!(read.offers_method("passkey") && !read.offers_method("totp"));
    // The stored spellings are the protocol's.
    let row: (String, String) =
        sqlx::query_as("SELECT grant_types, login_methods FROM clients WHERE id = 'rp'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        row,
        (
            r#"["authorization_code","refresh_token"]"#.into(),
            r#"["password","passkey"]"#.into()
        )
    );

    for (column, value) in [
        ("acr_vocabulary", "klingon"),
        ("min_level", "superhigh"),
        ("token_endpoint_auth_method", "client_secret_jwt"),
        ("id_token_signed_response_alg", "none"),
        ("grant_types", r#"["authorization_code","implicit"]"#),
        ("grant_types", "not json"),
        ("scopes", "{}"),
        ("login_methods", r#"["password","fax"]"#),
    ] {
        db.client_delete("rp").await.unwrap();
        db.client_insert(&c).await.unwrap();
        exec(&db, &format!("UPDATE clients SET {column} = '{value}'")).await;
        assert_corrupt(db.client_get("rp").await, "clients", column, "rp", value);
    }
}

#[tokio::test]
async fn a_corrupt_policy_row_is_an_error_not_skipped() {
    let db = db().await;
    db.policy_set_level_max_age(Level::High, 600).await.unwrap();
    db.policy_set_scope_min("payment", Some(Level::Substantial))
        .await
        .unwrap();
    let p = db.policy_load().await.unwrap();
    assert_eq!(p.max_age_of(Level::High), 600);
    assert_eq!(p.scope_min.get("payment"), Some(&Level::Substantial));
    db.policy_set_scope_min("payment", None).await.unwrap();
    assert!(db.policy_load().await.unwrap().scope_min.is_empty());

    exec(
        &db,
        "INSERT INTO policy_scopes (scope, min_level) VALUES ('tax', 'hoch')",
    )
    .await;
    assert_corrupt(
        db.policy_load().await,
        "policy_scopes",
        "min_level",
        "tax",
        "hoch",
    );
    exec(&db, "DELETE FROM policy_scopes").await;
    exec(
        &db,
        "UPDATE policy_levels SET level = 'max' WHERE level = 'high'",
    )
    .await;
    assert_corrupt(
        db.policy_load().await,
        "policy_levels",
        "level",
        "max",
        "max",
    );
}

#[tokio::test]
async fn upstream_levels_are_typed_and_checked() {
    let db = db().await;
    let u = Upstream {
        id: "sk".into(),
        name: "Servicekonto".into(),
        profile: "servicekonto-nrw".into(),
        issuer: "https://sk.example".into(),
        client_id: "pforte".into(),
        client_secret: "sealed".into(),
        max_level: Level::Substantial,
        acr_map: BTreeMap::from([("urn:sk:loa:3".to_string(), Level::Substantial)]),
        created_at: 1,
        disabled_at: None,
        scopes: Some(vec!["openid".into(), "profile".into()]),
        claim_map: Some(BTreeMap::from([(
            "vorname".to_string(),
            "given_name".to_string(),
        )])),
        auth_method: Some("private_key_jwt".into()),
        userinfo: true,
        end_session: false,
    };
    db.upstream_insert(&u).await.unwrap();
    let read = db.upstream_get("sk").await.unwrap().unwrap();
    assert_eq!((read.max_level, read.acr_map), (u.max_level, u.acr_map));
    assert_eq!(
        (
            read.scopes,
            read.claim_map,
            read.auth_method,
            read.userinfo,
            read.end_session
        ),
        (
            u.scopes,
            u.claim_map,
            u.auth_method,
            u.userinfo,
            u.end_session
        )
    );
    exec(
        &db,
        r#"UPDATE upstreams SET acr_map = '{"urn:sk:loa:3":"extreme"}'"#,
    )
    .await;
    assert_corrupt(
        db.upstream_get("sk").await,
        "upstreams",
        "acr_map",
        "sk",
        "extreme",
    );
}

#[tokio::test]
async fn audit_filters_match_event_names_literally() {
    let db = db().await;
    for action in [
        "token.refresh_reuse",
        "login.step_up_failed",
        "login.stepXup_failed",
    ] {
        db.audit("cli", action, None, serde_json::json!({}))
            .await
            .unwrap();
    }
    let actions = |events: Vec<super::audit::AuditEvent>| -> Vec<String> {
        events.into_iter().map(|e| e.action).collect()
    };
    let filter = |event: &str| super::audit::AuditFilter {
        event: Some(event.into()),
        ..Default::default()
    };
    // `_` in a name is a character, not "any character"; `%` is not a wildcard either.
    let found = db
        .audit_search(&filter("token.refresh_reuse"), 10)
        .await
        .unwrap();
    assert_eq!(actions(found), ["token.refresh_reuse"]);
    let found = db.audit_search(&filter("login.step_up"), 10).await.unwrap();
    assert_eq!(actions(found), ["login.step_up_failed"]);
    assert!(db.audit_search(&filter("%"), 10).await.unwrap().is_empty());
    let listed = db.audit_list(Some("login.step_up"), 10).await.unwrap();
    assert_eq!(actions(listed), ["login.step_up_failed"]);
}
