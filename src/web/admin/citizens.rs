//! The citizens pages: search, one citizen with sessions and linked identities, lock, unlock,
//! end sessions, in-person proofing, and (for an `admin`) granting and revoking staff roles.

use super::*;

pub(super) struct CitizenRow {
    id: String,
    email: String,
    proofing: &'static str,
    state: &'static str,
    verified: &'static str,
    locked: bool,
}

pub(super) fn citizen_row(t: Tr, a: &crate::store::accounts::Account) -> CitizenRow {
    CitizenRow {
        id: a.id.clone(),
        email: a.email.clone(),
        proofing: t.level(a.proofing_level),
        state: t.get(if a.disabled_at.is_some() {
            "locked"
        } else {
            "active"
        }),
        verified: t.get(if a.email_verified { "yes" } else { "no" }),
        locked: a.disabled_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "admin/citizens.html")]
pub(super) struct CitizensPage {
    c: C,
    q: String,
    count: String,
    rows: Vec<CitizenRow>,
}

pub(super) async fn citizens(
    State(app): State<App>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewCitizens).await {
        return r;
    }
    let t = staff.t;
    let needle = q.q.trim();
    let rows = if needle.is_empty() {
        vec![]
    } else {
        match app.db.account_search(needle, 50).await {
            Ok(r) => r.iter().map(|a| citizen_row(t, a)).collect(),
            Err(e) => return internal(e),
        }
    };
    let count = if t.en {
        format!("{} found (at most 50 shown)", rows.len())
    } else {
        format!("{} gefunden (höchstens 50 angezeigt)", rows.len())
    };
    page(
        StatusCode::OK,
        CitizensPage {
            c: staff.c("citizens", t.get("citizens")),
            q: q.q,
            count,
            rows,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "admin/citizen.html")]
pub(super) struct CitizenPage {
    c: C,
    a: CitizenRow,
    sessions: Vec<(String, String, &'static str, String)>,
    /// The staff roles held, and those that could be granted: `(role, label)`.
    roles: Vec<(&'static str, &'static str)>,
    grantable: Vec<(&'static str, &'static str)>,
}

pub(super) fn utc(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                d.year(),
                d.month() as u8,
                d.day(),
                d.hour(),
                d.minute()
            )
        })
        .unwrap_or_default()
}

pub(super) async fn citizen(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewCitizens).await {
        return r;
    }
    let t = staff.t;
    let a = match app.db.account_get(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return staff.error(
                AdminError::NotFound(format!("account `{id}`")),
                "/admin/citizens",
            )
        }
        Err(e) => return internal(e),
    };
    let sessions = match app
        .db
        .sso_sessions_of(&a.id, app.config.session.idle_secs as i64)
        .await
    {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let held = match admin::roles_of(&app.db, &a.id).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let label = |r: Role| (r.as_str(), t.get(&format!("role_{}", r.as_str())));
    page(
        StatusCode::OK,
        CitizenPage {
            roles: held.iter().map(|r| label(*r)).collect(),
            grantable: Role::ALL
                .into_iter()
                .filter(|r| !held.contains(r))
                .map(label)
                .collect(),
            c: staff.c("citizens", &a.email),
            a: citizen_row(t, &a),
            sessions: sessions
                .iter()
                .map(|s| {
                    (
                        utc(s.created_at),
                        utc(s.last_seen_at),
                        t.level(s.level),
                        s.user_agent
                            .clone()
                            .unwrap_or_default()
                            .chars()
                            .take(80)
                            .collect(),
                    )
                })
                .collect(),
        }
        .render(),
    )
}

pub(super) async fn citizen_change(
    app: &App,
    staff: &Staff,
    id: &str,
    confirmed: bool,
    action: Action,
    f: impl std::future::Future<Output = Result<(), AdminError>>,
) -> Response {
    let back = format!("/admin/citizens/{id}");
    if let Err(r) = staff.require_change(app, action, confirmed, &back).await {
        return r;
    }
    match f.await {
        Ok(()) => done(&back),
        Err(e) => staff.error(e, &back),
    }
}

pub(super) async fn citizen_lock(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let actor = staff.actor();
    let op = async { admin::lock_account(&app.db, &actor, &id).await.map(|_| ()) };
    citizen_change(&app, &staff, &id, yes(&f.confirm), Action::HelpCitizens, op).await
}

pub(super) async fn citizen_unlock(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let actor = staff.actor();
    let op = async {
        admin::unlock_account(&app.db, &actor, &id)
            .await
            .map(|_| ())
    };
    citizen_change(&app, &staff, &id, yes(&f.confirm), Action::HelpCitizens, op).await
}

pub(super) async fn citizen_end_sessions(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let actor = staff.actor();
    let op = async {
        admin::end_account_sessions(&app.db, &actor, &id)
            .await
            .map(|_| ())
    };
    citizen_change(&app, &staff, &id, yes(&f.confirm), Action::HelpCitizens, op).await
}

#[derive(Deserialize)]
pub(super) struct ProofForm {
    #[serde(default)]
    csrf: String,
    level: String,
    #[serde(default)]
    evidence: String,
    confirm: Option<String>,
}

impl HasCsrf for ProofForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(super) async fn citizen_proof(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ProofForm>,
) -> Response {
    let actor = staff.actor();
    let op = async {
        let level = Level::parse_name(&f.level)
            .ok_or_else(|| AdminError::Invalid(format!("level `{}`", f.level)))?;
        let a = account_by_id(&app, &id).await?;
        admin::proof_account(&app.db, &actor, &a.email, level, &f.evidence)
            .await
            .map(|_| ())
    };
    citizen_change(
        &app,
        &staff,
        &id,
        yes(&f.confirm),
        Action::ProofCitizens,
        op,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    confirm: Option<String>,
}

impl HasCsrf for RoleForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The account's e-mail address and the role a staff form names.
async fn role_target(app: &App, id: &str, role: &str) -> Result<(String, Role), AdminError> {
    let role = Role::parse(role).ok_or_else(|| {
        AdminError::Invalid(format!(
            "role `{role}`: expected admin, policy, helpdesk or auditor"
        ))
    })?;
    let a = account_by_id(app, id).await?;
    Ok((a.email, role))
}

async fn account_by_id(app: &App, id: &str) -> Result<crate::store::accounts::Account, AdminError> {
    app.db
        .account_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("account `{id}`")))
}

/// Grants (`/roles/grant`) or revokes (`/roles/revoke`) a staff role: `admin` only, confirmed,
/// audited with before and after.
pub(super) async fn citizen_role(
    State(app): State<App>,
    staff: Staff,
    Path((id, op)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<RoleForm>,
) -> Response {
    let actor = staff.actor();
    let change = async {
        let (email, role) = role_target(&app, &id, &f.role).await?;
        match op.as_str() {
            "grant" => admin::grant_role(&app.db, &actor, &email, role)
                .await
                .map(|_| ()),
            "revoke" => admin::revoke_role(&app.db, &actor, &email, role).await,
            _ => Err(AdminError::NotFound(format!("`{op}`"))),
        }
    };
    citizen_change(
        &app,
        &staff,
        &id,
        yes(&f.confirm),
        Action::ManageStaff,
        change,
    )
    .await
}
