//! The assurance policy pages: maximum login age per level, minimum level per scope, and the
//! preview of what a login would get.

use super::*;

#[derive(Default)]
pub(super) struct Preview {
    client: String,
    scope: String,
    level: String,
    age: String,
    result: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/policy.html")]
pub(super) struct PolicyPage {
    c: C,
    levels: Vec<(&'static str, &'static str, u64)>,
    scopes: Vec<(String, &'static str)>,
    pv: Preview,
}

#[derive(Deserialize)]
pub(super) struct PreviewQuery {
    client: Option<String>,
    scope: Option<String>,
    level: Option<String>,
    age: Option<String>,
}

/// The preview's answer, from the same pure functions a login uses
/// (`Policy::required_level`, `effective_level`).
pub(super) fn preview_text(
    t: Tr,
    policy: &crate::assurance::policy::Policy,
    client: Option<&crate::store::clients::Client>,
    scopes: &str,
    reached: Level,
    age: u64,
) -> String {
    let required =
        policy.required_level(client.and_then(|c| c.min_level), scopes.split_whitespace());
    let effective =
        crate::assurance::level::effective_level(reached, age, |l| policy.max_age_of(l));
    let (de, en) = match effective {
        Some(e) if e >= required => (
            format!(
                "Zugelassen: Die Anmeldung zählt als „{}“, verlangt ist „{}“.",
                Tr { en: false }.level(e),
                Tr { en: false }.level(required)
            ),
            format!(
                "Allowed: the login counts as “{}”, “{}” is required.",
                Tr { en: true }.level(e),
                Tr { en: true }.level(required)
            ),
        ),
        Some(e) => (
            format!(
                "Höherstufung nötig: Die Anmeldung zählt nur als „{}“, verlangt ist „{}“.",
                Tr { en: false }.level(e),
                Tr { en: false }.level(required)
            ),
            format!(
                "Step-up needed: the login counts only as “{}”, “{}” is required.",
                Tr { en: true }.level(e),
                Tr { en: true }.level(required)
            ),
        ),
        None => (
            "Neue Anmeldung nötig: Die Anmeldung ist für jedes Niveau zu alt.".to_string(),
            "A new login is needed: the login is too old for every level.".to_string(),
        ),
    };
    if t.en {
        en
    } else {
        de
    }
}

pub(super) async fn policy(
    State(app): State<App>,
    staff: Staff,
    Query(q): Query<PreviewQuery>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewPolicy).await {
        return r;
    }
    let t = staff.t;
    let p = match app.db.policy_load().await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let mut pv = Preview {
        client: q.client.clone().unwrap_or_default(),
        scope: q.scope.clone().unwrap_or_else(|| "openid".into()),
        level: q.level.clone().unwrap_or_else(|| "substantial".into()),
        age: q.age.clone().unwrap_or_else(|| "0".into()),
        result: None,
    };
    if q.level.is_some() {
        let client = match q.client.as_deref().filter(|c| !c.is_empty()) {
            Some(id) => match app.db.client_get(id).await {
                Ok(c) => c,
                Err(e) => return internal(e),
            },
            None => None,
        };
        let level = Level::parse_name(&pv.level).unwrap_or(Level::Low);
        let age = pv.age.trim().parse::<u64>().unwrap_or(0);
        pv.result = Some(preview_text(t, &p, client.as_ref(), &pv.scope, level, age));
    }
    page(
        StatusCode::OK,
        PolicyPage {
            c: staff.c("policy", t.get("policy")),
            levels: Level::ALL
                .iter()
                .map(|l| (l.as_str(), t.level(*l), p.max_age_of(*l)))
                .collect(),
            scopes: p
                .scope_min
                .iter()
                .map(|(s, l)| (s.clone(), t.level(*l)))
                .collect(),
            pv,
        }
        .render(),
    )
}

#[derive(Deserialize)]
pub(super) struct LevelsForm {
    #[serde(default)]
    csrf: String,
    low: String,
    substantial: String,
    high: String,
    confirm: Option<String>,
}

impl HasCsrf for LevelsForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(super) async fn policy_levels(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<LevelsForm>,
) -> Response {
    let back = "/admin/policy";
    if let Err(r) = staff
        .require_change(&app, Action::ManagePolicy, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    let result = async {
        let p = app.db.policy_load().await?;
        for (level, text) in [
            (Level::Low, &f.low),
            (Level::Substantial, &f.substantial),
            (Level::High, &f.high),
        ] {
            let secs: u64 = text.trim().parse().map_err(|_| {
                AdminError::Invalid(format!("{}: expected a number of seconds", level.as_str()))
            })?;
            if secs != p.max_age_of(level) {
                admin::set_level_max_age(&app.db, &staff.actor(), level, secs).await?;
            }
        }
        Ok::<_, AdminError>(())
    }
    .await;
    match result {
        Ok(()) => done(back),
        Err(e) => staff.error(e, back),
    }
}

#[derive(Deserialize)]
pub(super) struct ScopeForm {
    #[serde(default)]
    csrf: String,
    scope: String,
    #[serde(default)]
    min_level: String,
    confirm: Option<String>,
}

impl HasCsrf for ScopeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(super) async fn policy_scope(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<ScopeForm>,
) -> Response {
    let back = "/admin/policy";
    if let Err(r) = staff
        .require_change(&app, Action::ManagePolicy, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    let level = match f.min_level.as_str() {
        "" => None,
        l => match Level::parse_name(l) {
            Some(l) => Some(l),
            None => return staff.error(AdminError::Invalid(format!("level `{l}`")), back),
        },
    };
    match admin::set_scope_min_level(&app.db, &staff.actor(), f.scope.trim(), level).await {
        Ok(()) => done(back),
        Err(e) => staff.error(e, back),
    }
}
