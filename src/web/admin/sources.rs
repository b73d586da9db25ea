//! The identity-source pages: list, create, edit (the secret at the upstream is never shown
//! again once saved: an empty field keeps it), disable and enable, each through the
//! `admin::upstreams` functions the CLI and the API use. `admin` and `policy` may change
//! sources; `helpdesk` may not see them; `auditor` reads.

use std::collections::BTreeMap;

use super::*;
use crate::{
    admin::upstreams::{self as up, NewUpstream},
    store::upstreams::Upstream,
};

pub(super) struct SourceRow {
    id: String,
    name: String,
    profile: String,
    issuer: String,
    max_level: &'static str,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "admin/sources.html")]
pub(super) struct SourcesPage {
    c: C,
    rows: Vec<SourceRow>,
}

pub(super) async fn sources(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewPolicy).await {
        return r;
    }
    let t = staff.t;
    let all = match app.db.upstream_list().await {
        Ok(u) => u,
        Err(e) => return internal(e),
    };
    let rows = all
        .iter()
        .map(|u| SourceRow {
            id: u.id.clone(),
            name: u.name.clone(),
            profile: u.profile.clone(),
            issuer: u.issuer.clone(),
            max_level: t.level(u.max_level),
            state: t.get(if u.disabled_at.is_none() {
                "active"
            } else {
                "disabled"
            }),
        })
        .collect();
    page(
        StatusCode::OK,
        SourcesPage {
            c: staff.c("sources", t.get("sources")),
            rows,
        }
        .render(),
    )
}

/// The source form's fields, as shown and as submitted. Maps are one `key=value` per line.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct SourceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    /// Never filled in by Pforte: empty on an edit keeps the stored secret.
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    auth_method: String,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    claim_map: String,
    #[serde(default)]
    acr_map: String,
    #[serde(default)]
    max_level: String,
    userinfo: Option<String>,
    end_session: Option<String>,
    confirm: Option<String>,
}

impl HasCsrf for SourceForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `key=value` lines into a map; a line without `=` is an error naming it.
fn pairs(field: &str, text: &str) -> Result<BTreeMap<String, String>, AdminError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(AdminError::Invalid(format!(
                "{field}: `{l}` is not of the form name=value"
            ))),
        })
        .collect()
}

fn lines_of<'a>(map: impl Iterator<Item = (&'a String, String)>) -> String {
    map.map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl SourceForm {
    fn of(u: &Upstream) -> SourceForm {
        SourceForm {
            id: u.id.clone(),
            name: u.name.clone(),
            profile: u.profile.clone(),
            issuer: u.issuer.clone(),
            client_id: u.client_id.clone(),
            auth_method: u.auth_method.clone().unwrap_or_default(),
            scopes: u.scopes.as_ref().map(|s| s.join(" ")).unwrap_or_default(),
            claim_map: u
                .claim_map
                .as_ref()
                .map(|m| lines_of(m.iter().map(|(k, v)| (k, v.clone()))))
                .unwrap_or_default(),
            acr_map: lines_of(u.acr_map.iter().map(|(k, v)| (k, v.as_str().to_string()))),
            max_level: u.max_level.as_str().into(),
            userinfo: u.userinfo.then(|| "yes".into()),
            end_session: u.end_session.then(|| "yes".into()),
            ..SourceForm::default()
        }
    }

    fn to_new(&self) -> Result<NewUpstream, AdminError> {
        let max_level = match self.max_level.trim() {
            "" => None,
            l => Some(Level::parse_name(l).ok_or_else(|| {
                AdminError::Invalid("max_level: expected low, substantial or high".into())
            })?),
        };
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Ok(NewUpstream {
            id: self.id.trim().to_string(),
            profile: self.profile.trim().to_string(),
            issuer: self.issuer.trim().to_string(),
            client_id: self.client_id.trim().to_string(),
            client_secret: self.client_secret.clone(),
            max_level,
            name: opt(&self.name),
            acr_map: pairs("acr → level", &self.acr_map)?,
            scopes: self.scopes.split_whitespace().map(String::from).collect(),
            claim_map: pairs("claims", &self.claim_map)?,
            auth_method: opt(&self.auth_method),
            userinfo: yes(&self.userinfo),
            end_session: yes(&self.end_session),
        })
    }
}

#[derive(Template)]
#[template(path = "admin/source_form.html")]
pub(super) struct SourceFormPage {
    c: C,
    heading: String,
    action: String,
    is_new: bool,
    f: SourceForm,
    errors: Vec<String>,
    levels: Vec<(&'static str, &'static str)>,
    profiles: [&'static str; 3],
    auth_methods: [&'static str; 3],
    disabled: bool,
}

impl SourceFormPage {
    fn new(staff: &Staff, f: SourceForm, keep: Option<&Upstream>, errors: Vec<String>) -> Self {
        let t = staff.t;
        let (heading, action) = match keep {
            Some(u) => (u.name.clone(), format!("/admin/sources/{}", u.id)),
            None => (t.get("source_new").into(), "/admin/sources/new".into()),
        };
        SourceFormPage {
            c: staff.c("sources", &heading),
            heading,
            action,
            is_new: keep.is_none(),
            f,
            errors,
            levels: level_options(t),
            profiles: ["oidc", "servicekonto-nrw", "eid"],
            auth_methods: crate::upstream::AUTH_METHODS,
            disabled: keep.is_some_and(|u| u.disabled_at.is_some()),
        }
    }
}

pub(super) async fn source_new(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ManagePolicy).await {
        return r;
    }
    let f = SourceForm {
        profile: "oidc".into(),
        auth_method: "client_secret_basic".into(),
        ..SourceForm::default()
    };
    page(
        StatusCode::OK,
        SourceFormPage::new(&staff, f, None, vec![]).render(),
    )
}

/// Runs a create or an update; a bad form is shown again with the reason (never the secret).
async fn save(app: &App, staff: &Staff, mut f: SourceForm, keep: Option<Upstream>) -> Response {
    let back = keep.as_ref().map_or("/admin/sources/new".to_string(), |u| {
        format!("/admin/sources/{}", u.id)
    });
    if let Err(r) = staff
        .require_change(app, Action::ManagePolicy, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    let actor = staff.actor();
    let result = async {
        let n = f.to_new()?;
        match &keep {
            Some(_) => up::update_upstream(&app.db, &app.kek, &actor, n).await,
            None => up::add_upstream(&app.db, &app.kek, &actor, n).await,
        }
    }
    .await;
    f.client_secret.clear();
    match result {
        Ok(u) => done(&format!("/admin/sources/{}", u.id)),
        Err(AdminError::Invalid(m)) => page(
            StatusCode::BAD_REQUEST,
            SourceFormPage::new(staff, f, keep.as_ref(), vec![m]).render(),
        ),
        Err(e) => staff.error(e, &back),
    }
}

pub(super) async fn source_create(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<SourceForm>,
) -> Response {
    save(&app, &staff, f, None).await
}

pub(super) async fn source_edit(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewPolicy).await {
        return r;
    }
    match up::upstream(&app.db, &id).await {
        Ok(u) => page(
            StatusCode::OK,
            SourceFormPage::new(&staff, SourceForm::of(&u), Some(&u), vec![]).render(),
        ),
        Err(e) => staff.error(e, "/admin/sources"),
    }
}

pub(super) async fn source_update(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(mut f): CsrfForm<SourceForm>,
) -> Response {
    match up::upstream(&app.db, &id).await {
        Ok(u) => {
            f.id = id;
            save(&app, &staff, f, Some(u)).await
        }
        Err(e) => staff.error(e, "/admin/sources"),
    }
}

/// Disables (`/disable`: no login through it from the next request on) or enables
/// (`/enable`) a source: `admin` and `policy`, confirmed, audited.
pub(super) async fn source_state(
    State(app): State<App>,
    staff: Staff,
    Path((id, state)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let back = format!("/admin/sources/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManagePolicy, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    let disabled = match state.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return staff.error(AdminError::NotFound(format!("`{state}`")), &back),
    };
    match up::set_upstream_disabled(&app.db, &staff.actor(), &id, disabled).await {
        Ok(()) => done(&back),
        Err(e) => staff.error(e, &back),
    }
}
