//! Bulk import and export of relying parties (`pforte client import/export`, the admin API's
//! `/admin/api/clients/import` and `/export`, the console's upload form).
//!
//! Owns: the file format of docs/contract.md (a JSON array of objects whose keys are the long
//! flags of `client add`, or CSV with those columns, lists separated by spaces), reading it
//! with a position for every row, and [`import`]: every row is checked with
//! [`super::check_client`] (the same rules as `client add`), every bad row is reported with its
//! number (JSON) or line (CSV), and nothing is applied unless every row is good; then all
//! changes go in one transaction. Import is idempotent by `id`: a row equal to the stored
//! client changes nothing and is reported as unchanged.
//!
//! Secrets: the export never contains them (only hashes are stored). On import, a row without
//! a secret for an existing client keeps the client's credential; a row with a secret is
//! compared with the stored hash (argon2id, so rows with secrets cost a hash each).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{check_client, AdminError, NewClient};
use crate::store::backchannel::Backchannel;
use crate::{
    accounts::Hasher,
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    store::{clients::Client, Db},
};

/// One service in an import or export file; the keys are `client add`'s long flags.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    /// `client add --pkce-optional`: a legacy confidential client that cannot send PKCE.
    /// Absent: an existing client keeps its setting, a new one must use PKCE. Exported only
    /// when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_optional: Option<bool>,
}

/// The CSV columns, in the order the export writes them.
pub const COLUMNS: [&str; 11] = [
    "id",
    "secret",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "scopes",
    "name",
    "min_level",
    "backchannel_logout_uri",
    "subject_type",
    "pkce_optional",
];

/// Where a row stands in its file: its number (1-based) and, for CSV, its line.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Position {
    pub row: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l} (row {})", self.row),
            None => write!(f, "row {}", self.row),
        }
    }
}

/// A bad row: where it is, its id if it could be read, what is wrong.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RowError {
    #[serde(flatten)]
    pub at: Position,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} (`{id}`): {}", self.at, self.message),
            None => write!(f, "{}: {}", self.at, self.message),
        }
    }
}

/// The file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Format {
    /// By file name: `.csv` is CSV, anything else JSON.
    pub fn of_path(path: &std::path::Path) -> Format {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            Format::Csv
        } else {
            Format::Json
        }
    }

    /// By content: a file whose first non-blank character is `[` is JSON, else CSV.
    pub fn sniff(text: &str) -> Format {
        if text.trim_start().starts_with('[') {
            Format::Json
        } else {
            Format::Csv
        }
    }
}

/// Reads a file; every unreadable row is reported, not only the first.
pub fn parse(text: &str, format: Format) -> Result<Vec<(Position, Row)>, Vec<RowError>> {
    match format {
        Format::Json => parse_json(text),
        Format::Csv => parse_csv(text),
    }
}

fn parse_json(text: &str) -> Result<Vec<(Position, Row)>, Vec<RowError>> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        vec![RowError {
            at: Position {
                row: 0,
                line: Some(e.line() as u64),
            },
            id: None,
            message: format!("expected a JSON array of services: {e}"),
        }]
    })?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in items.into_iter().enumerate() {
        let at = Position {
            row: i + 1,
            line: None,
        };
        let id = v.get("id").and_then(|x| x.as_str()).map(String::from);
        match serde_json::from_value::<Row>(v) {
            Ok(r) => rows.push((at, r)),
            Err(e) => errors.push(RowError {
                at,
                id,
                message: e.to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn parse_csv(text: &str) -> Result<Vec<(Position, Row)>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header_error = |message: String| {
        vec![RowError {
            at: Position {
                row: 0,
                line: Some(1),
            },
            id: None,
            message,
        }]
    };
    let headers = reader
        .headers()
        .map_err(|e| header_error(format!("CSV header: {e}")))?
        .clone();
    let mut seen = BTreeSet::new();
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            return Err(header_error(format!(
                "CSV header: unknown column `{h}` (expected some of {})",
                COLUMNS.join(", ")
            )));
        }
        if !seen.insert(h) {
            return Err(header_error(format!("CSV header: column `{h}` twice")));
        }
    }
    if !seen.contains("id") {
        return Err(header_error(
            "CSV header: the column `id` is required".into(),
        ));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    at: Position {
                        row: i + 1,
                        line: e.position().map(|p| p.line()),
                    },
                    id: None,
                    message: format!("CSV: {e}"),
                });
                continue;
            }
        };
        let at = Position {
            row: i + 1,
            line: rec.position().map(|p| p.line()),
        };
        let mut r = Row::default();
        for (h, v) in headers.iter().zip(rec.iter()) {
            let v = v.trim();
            let opt = || (!v.is_empty()).then(|| v.to_string());
            let list = || v.split_whitespace().map(String::from).collect::<Vec<_>>();
            match h {
                "id" => r.id = v.to_string(),
                "secret" => r.secret = opt(),
                "redirect_uris" => r.redirect_uris = list(),
                "post_logout_redirect_uris" => r.post_logout_redirect_uris = list(),
                "grant_types" => r.grant_types = list(),
                "scopes" => r.scopes = list(),
                "name" => r.name = opt(),
                "min_level" => r.min_level = opt(),
                "backchannel_logout_uri" => r.backchannel_logout_uri = opt(),
                "subject_type" => r.subject_type = opt(),
                "pkce_optional" => match v {
                    "" => {}
                    "true" => r.pkce_optional = Some(true),
                    "false" => r.pkce_optional = Some(false),
                    other => {
                        errors.push(RowError {
                            at,
                            id: (!r.id.is_empty()).then(|| r.id.clone()),
                            message: format!("pkce_optional `{other}`: expected true or false"),
                        });
                    }
                },
                _ => unreachable!("checked against COLUMNS above"),
            }
        }
        rows.push((at, r));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// A row as a registration request, checked for what `client add` cannot express.
fn to_new_client(r: &Row) -> Result<NewClient, String> {
    let min_level = r
        .min_level
        .as_deref()
        .map(|l| {
            Level::parse_name(l)
                .ok_or_else(|| format!("min_level `{l}`: expected low, substantial or high"))
        })
        .transpose()?;
    Ok(NewClient {
        id: r.id.clone(),
        name: r.name.clone(),
        secret: r.secret.clone(),
        redirect_uris: r.redirect_uris.clone(),
        post_logout_redirect_uris: r.post_logout_redirect_uris.clone(),
        grant_types: r.grant_types.clone(),
        scopes: r.scopes.clone(),
        min_level,
        subject_type: r.subject_type.clone(),
        backchannel_logout_uri: r.backchannel_logout_uri.clone(),
        ..NewClient::default()
    })
}

/// A stored client and its back-channel logout endpoint as an export row (never a secret).
pub fn to_row(c: &Client, backchannel: Option<&Backchannel>) -> Row {
    Row {
        id: c.id.clone(),
        secret: None,
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        grant_types: c
            .grant_types
            .iter()
            .map(|g| g.as_str().to_string())
            .collect(),
        scopes: c.scopes.clone(),
        name: Some(c.name.clone()),
        min_level: c.min_level.map(|l| l.as_str().to_string()),
        backchannel_logout_uri: backchannel.map(|b| b.logout_uri.clone()),
        subject_type: Some(c.subject_type.as_str().to_string()),
        pkce_optional: c.pkce_optional.then_some(true),
    }
}

/// Every registered client in the import format.
pub async fn export_all(db: &Db, format: Format) -> Result<String, AdminError> {
    let mut clients = Vec::new();
    for c in db.client_list().await? {
        let b = db.backchannel_get(&c.id).await?;
        clients.push((c, b));
    }
    Ok(export(&clients, format))
}

/// Writes clients in the import format.
pub fn export(clients: &[(Client, Option<Backchannel>)], format: Format) -> String {
    let rows: Vec<Row> = clients.iter().map(|(c, b)| to_row(c, b.as_ref())).collect();
    match format {
        Format::Json => serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()) + "\n",
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(COLUMNS);
            for r in &rows {
                let _ = w.write_record([
                    r.id.clone(),
                    String::new(),
                    r.redirect_uris.join(" "),
                    r.post_logout_redirect_uris.join(" "),
                    r.grant_types.join(" "),
                    r.scopes.join(" "),
                    r.name.clone().unwrap_or_default(),
                    r.min_level.clone().unwrap_or_default(),
                    r.backchannel_logout_uri.clone().unwrap_or_default(),
                    r.subject_type.clone().unwrap_or_default(),
                    r.pkce_optional.map(|p| p.to_string()).unwrap_or_default(),
                ]);
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
    }
}

/// What an import did, by client id.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Report {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

impl Report {
    /// One line for people: `created 3, updated 1, unchanged 996`.
    pub fn summary(&self) -> String {
        format!(
            "created {}, updated {}, unchanged {}",
            self.created.len(),
            self.updated.len(),
            self.unchanged.len()
        )
    }
}

/// Whether two client rows have the same settings (the secret compared separately).
fn same_settings(a: &Client, b: &Client) -> bool {
    let strip = |c: &Client| {
        let mut v = json!(c);
        if let Some(m) = v.as_object_mut() {
            for k in ["created_at", "disabled_at", "login_methods", "upstreams"] {
                m.remove(k);
            }
        }
        v
    };
    strip(a) == strip(b)
}

/// Imports rows read by [`parse`]: all or nothing (see the module documentation). A row
/// without `subject_type` keeps an existing client's; a new client gets
/// `default_subject_type` (`tokens.default_subject_type`). `verified_claims` is not part of
/// the format: an existing client keeps its permission, a new one has none.
pub async fn import(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    default_subject_type: &str,
    rows: Vec<(Position, Row)>,
) -> Result<Report, AdminError> {
    let existing: BTreeMap<String, Client> = db
        .client_list()
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let now = db.now();
    let mut errors = Vec::new();
    let mut first_at: BTreeMap<String, Position> = BTreeMap::new();
    let mut checked = Vec::new();
    for (at, r) in &rows {
        let id = (!r.id.is_empty()).then(|| r.id.clone());
        if let Some(prev) = first_at.get(&r.id) {
            errors.push(RowError {
                at: *at,
                id,
                message: format!("id `{}` appears already at {prev}", r.id),
            });
            continue;
        }
        first_at.insert(r.id.clone(), *at);
        let keep = existing.get(&r.id);
        let result = to_new_client(r).and_then(|mut n| {
            n.verified_claims = keep.is_some_and(|k| k.verified_claims);
            n.pkce_optional = r
                .pkce_optional
                .unwrap_or(keep.is_some_and(|k| k.pkce_optional));
            if n.subject_type.is_none() {
                n.subject_type = Some(
                    keep.map_or(default_subject_type, |k| k.subject_type.as_str())
                        .to_string(),
                );
            }
            check_client(&n, keep, now)
                .map(|mut c| {
                    // An explicit `pkce_optional` changes an existing client too (the upgrade
                    // path for legacy confidential clients, docs/operations.md).
                    c.pkce_optional = n.pkce_optional;
                    c
                })
                .and_then(|c| super::backchannel_of(&n).map(|_| c))
                .map(|c| (n, c))
                .map_err(|e| e.to_string())
        });
        let result = match result {
            Ok((n, c)) => super::with_sector(c, &n)
                .await
                .map(|c| (n, c))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match result {
            Ok((n, c)) => checked.push((n, c)),
            Err(message) => errors.push(RowError {
                at: *at,
                id,
                message,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(AdminError::Rows(errors));
    }
    let mut report = Report::default();
    let mut changes = Vec::new();
    let mut backchannels = Vec::new();
    for (n, mut c) in checked {
        let before = existing.get(&c.id);
        let backchannel = super::backchannel_of(&n)?;
        let backchannel_changed = db.backchannel_get(&c.id).await? != backchannel;
        let mut secret_changed = false;
        if let Some(secret) = &n.secret {
            let same = match before.and_then(|b| b.secret_hash.clone()) {
                Some(h) => hasher
                    .verify(secret.clone(), Some(h.clone()))
                    .await
                    .map_err(|e| AdminError::Invalid(e.to_string()))?
                    .then_some(h),
                None => None,
            };
            match same {
                Some(h) => c.secret_hash = Some(h),
                None => {
                    c.secret_hash = Some(
                        hasher
                            .hash(secret.clone())
                            .await
                            .map_err(|e| AdminError::Invalid(e.to_string()))?,
                    );
                    secret_changed = true;
                }
            }
        }
        match before {
            None => report.created.push(c.id.clone()),
            Some(b) if secret_changed || backchannel_changed || !same_settings(b, &c) => {
                report.updated.push(c.id.clone())
            }
            Some(_) => {
                report.unchanged.push(c.id.clone());
                continue;
            }
        }
        backchannels.push((c.id.clone(), backchannel));
        changes.push((before.cloned(), c, secret_changed));
    }
    if changes.is_empty() {
        return Ok(report);
    }
    let clients: Vec<Client> = changes.iter().map(|(_, c, _)| c.clone()).collect();
    db.client_upsert_all(&clients).await?;
    // Each changed row's back-channel logout endpoint (validated above with the row).
    for (id, b) in &backchannels {
        db.backchannel_set(id, b.as_ref()).await?;
    }
    for (before, c, secret_changed) in &changes {
        let e = match before {
            None => Entry::new(Event::ClientCreated, actor.clone())
                .subject(&c.id)
                .fields(json!({ "after": c, "import": true })),
            Some(b) => Entry::new(Event::ClientUpdated, actor.clone())
                .subject(&c.id)
                .fields(json!({ "before": b, "after": c, "secret_changed": secret_changed, "import": true })),
        };
        audit::record(db, e).await?;
    }
    audit::record(
        db,
        Entry::new(Event::ClientsImported, actor.clone()).fields(json!({
            "created": report.created.len(),
            "updated": report.updated.len(),
            "unchanged": report.unchanged.len(),
        })),
    )
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_have_lines_and_lists() {
        let text = "id,redirect_uris,scopes,min_level\n\
                    a,https://a.example/cb https://a.example/cb2,openid email,substantial\n\
                    b,https://b.example/cb,,\n";
        let rows = parse(text, Format::Csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].0,
            Position {
                row: 1,
                line: Some(2)
            }
        );
        assert_eq!(rows[0].1.redirect_uris.len(), 2);
        assert_eq!(rows[0].1.scopes, ["openid", "email"]);
        assert_eq!(rows[0].1.min_level.as_deref(), Some("substantial"));
        assert_eq!(rows[1].0.line, Some(3));
        assert!(rows[1].1.scopes.is_empty());
    }

    #[test]
    fn csv_unknown_column_is_refused() {
        let e = parse("id,colour\na,red\n", Format::Csv).unwrap_err();
        assert!(e[0].message.contains("colour"), "{e:?}");
        let e = parse("name\nx\n", Format::Csv).unwrap_err();
        assert!(e[0].message.contains("`id`"), "{e:?}");
    }

    #[test]
    fn json_reports_every_unreadable_row() {
        let e = parse(
            r#"[{"id":"a"},{"id":"b","colour":1},{"id":7}]"#,
            Format::Json,
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].at.row, 2);
        assert_eq!(e[0].id.as_deref(), Some("b"));
        assert_eq!(e[1].at.row, 3);
        assert!(parse("{}", Format::Json).is_err());
    }

    #[test]
    fn sniffing() {
        assert_eq!(Format::sniff("  [ {} ]"), Format::Json);
        assert_eq!(Format::sniff("id,name\n"), Format::Csv);
    }
}
