//! Readiness: whether this instance should receive traffic (`GET /readyz`, docs/operations.md
//! "Metrics, health and readiness"). Ready means all of:
//!
//! - the database answers a `SELECT 1` within [`DB_TIMEOUT`];
//! - the key ring holds a current signing key for every algorithm;
//! - the database's applied migrations are exactly the ones compiled into this binary (pending
//!   ones mean the schema is older than the code; unknown ones that a newer release applied,
//!   and this binary would refuse them at its next start, as sqlx's migrator does).
//!
//! The checks gather facts; [`migrations`] and [`Report::ready`] decide, as plain functions.

use std::time::Duration;

use serde::Serialize;

use crate::{app::App, store::readiness::embedded_migrations, tokens::keys::Alg};

/// How long the database may take to answer before the instance counts as not ready.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// One check's result: `None` when it passed, else what is wrong (no secrets, no addresses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Check {
    fn new(name: &'static str, result: Result<(), String>) -> Check {
        Check {
            name,
            ok: result.is_ok(),
            problem: result.err(),
        }
    }
}

/// All checks, in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ready: bool,
    /// Names of the checks that failed.
    pub failed: Vec<&'static str>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn from_checks(checks: Vec<Check>) -> Report {
        let failed: Vec<&'static str> = checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
        Report {
            ready: failed.is_empty(),
            failed,
            checks,
        }
    }
}

/// Runs every check against the live instance.
pub async fn check(app: &App) -> Report {
    let database = within(app.db.ping(), "SELECT 1 on the database").await;
    let migrations = match &database {
        Err(_) => Err("not checked: the database did not answer".to_string()),
        Ok(()) => within(
            app.db.applied_migrations(),
            "reading the applied migrations",
        )
        .await
        .and_then(|applied| self::migrations(&embedded_migrations(), &applied)),
    };
    let ring = app.keys.snapshot().await;
    let missing: Vec<&str> = Alg::ALL
        .into_iter()
        .filter(|alg| ring.signer(*alg).is_err())
        .map(|alg| alg.as_str())
        .collect();
    let keys = if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no current signing key for {}", missing.join(", ")))
    };
    let serving = if app.draining.is_draining() {
        Err("the instance is shutting down".to_string())
    } else {
        Ok(())
    };
    Report::from_checks(vec![
        Check::new("database", database),
        Check::new("signing_keys", keys),
        Check::new("migrations", migrations),
        Check::new("not_shutting_down", serving),
    ])
}

/// `query`'s answer within [`DB_TIMEOUT`]; otherwise a problem naming `what` (the error
/// itself goes to the log: it may name hosts).
async fn within<T>(
    query: impl std::future::Future<Output = crate::store::Result<T>>,
    what: &str,
) -> Result<T, String> {
    match tokio::time::timeout(DB_TIMEOUT, query).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: {what} failed");
            Err(format!("{what} failed"))
        }
        Err(_) => Err(format!(
            "{what} took longer than {} s",
            DB_TIMEOUT.as_secs()
        )),
    }
}

/// Whether the applied migrations are exactly the embedded ones; otherwise which differ.
pub fn migrations(embedded: &[i64], applied: &[i64]) -> Result<(), String> {
    let pending: Vec<String> = embedded
        .iter()
        .filter(|v| !applied.contains(v))
        .map(i64::to_string)
        .collect();
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !embedded.contains(v))
        .map(i64::to_string)
        .collect();
    let mut problems = Vec::new();
    if !pending.is_empty() {
        problems.push(format!("not applied yet: {}", pending.join(", ")));
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "applied by a newer release, unknown to this one: {}",
            unknown.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_must_match_exactly() {
        assert_eq!(migrations(&[1, 2, 3], &[1, 2, 3]), Ok(()));
        assert_eq!(
            migrations(&[1, 2, 3], &[1, 2]),
            Err("not applied yet: 3".into())
        );
        assert_eq!(
            migrations(&[1, 2], &[1, 2, 4]),
            Err("applied by a newer release, unknown to this one: 4".into())
        );
        assert!(migrations(&[1, 2], &[]).is_err());
    }

    #[test]
    fn report_names_what_failed() {
        let r = Report::from_checks(vec![
            Check::new("database", Ok(())),
            Check::new(
                "signing_keys",
                Err("no current signing key for EdDSA".into()),
            ),
            Check::new("migrations", Err("not applied yet: 7".into())),
        ]);
        assert!(!r.ready);
        assert_eq!(r.failed, vec!["signing_keys", "migrations"]);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["checks"][0],
            serde_json::json!({"name": "database", "ok": true})
        );
        let ok = Report::from_checks(vec![Check::new("database", Ok(()))]);
        assert!(ok.ready && ok.failed.is_empty());
    }
}
