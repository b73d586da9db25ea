//! The audit trail page: filters and CSV export.

use super::*;

#[derive(Default, Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub(super) struct AuditPage {
    c: C,
    f: AuditQuery,
    count: String,
    rows: Vec<(String, String, String, String, String)>,
}

/// `YYYY-MM-DD` as Unix seconds at 00:00 UTC.
pub(super) fn day(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

pub(super) async fn audit_page(
    State(app): State<App>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewAudit).await {
        return r;
    }
    let t = staff.t;
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let filter = crate::store::audit::AuditFilter {
        actor: opt(&q.actor),
        subject: opt(&q.subject),
        event: opt(&q.event),
        from: day(&q.from),
        to: day(&q.to).map(|d| d + 86_400),
    };
    let csv = q.format.as_deref() == Some("csv");
    let events = match app
        .db
        .audit_search(&filter, if csv { 100_000 } else { 200 })
        .await
    {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    if csv {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "id",
            "time_utc",
            "unix_time",
            "actor",
            "event",
            "subject",
            "detail",
        ]);
        for e in &events {
            let _ = w.write_record([
                e.id.clone(),
                utc(e.at),
                e.at.to_string(),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone().unwrap_or_default(),
                e.detail.to_string(),
            ]);
        }
        return (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            w.into_inner().unwrap_or_default(),
        )
            .into_response();
    }
    let count = if t.en {
        format!(
            "{} events (newest first, at most 200; the CSV has all)",
            events.len()
        )
    } else {
        format!(
            "{} Ereignisse (neueste zuerst, höchstens 200; die CSV-Datei enthält alle)",
            events.len()
        )
    };
    page(
        StatusCode::OK,
        AuditPage {
            c: staff.c("audit", t.get("audit")),
            rows: events
                .into_iter()
                .map(|e| {
                    (
                        utc(e.at),
                        e.actor,
                        e.action,
                        e.target.unwrap_or_default(),
                        e.detail.to_string().chars().take(400).collect(),
                    )
                })
                .collect(),
            f: q,
            count,
        }
        .render(),
    )
}
