//! The services pages: list and search, create, edit, secret rotation, disabling, bulk import
//! and export, each through the `admin` functions the CLI and API use.

use super::*;

pub(super) struct ServiceRow {
    id: String,
    name: String,
    method: String,
    min_level: &'static str,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
pub(super) struct ServicesPage {
    c: C,
    q: String,
    count: String,
    rows: Vec<ServiceRow>,
}

pub(super) async fn services(
    State(app): State<App>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewServices).await {
        return r;
    }
    let t = staff.t;
    let all = match app.db.client_list().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let needle = q.q.trim().to_lowercase();
    let rows: Vec<ServiceRow> = all
        .iter()
        .filter(|c| {
            needle.is_empty()
                || c.id.to_lowercase().contains(&needle)
                || c.name.to_lowercase().contains(&needle)
        })
        .take(500)
        .map(|c| ServiceRow {
            id: c.id.clone(),
            name: c.name.clone(),
            method: c.token_endpoint_auth_method.to_string(),
            min_level: t.level(c.min_level.unwrap_or(Level::Low)),
            state: t.get(if c.is_enabled() { "active" } else { "disabled" }),
        })
        .collect();
    let count = if t.en {
        format!("{} of {} services", rows.len(), all.len())
    } else {
        format!("{} von {} Diensten", rows.len(), all.len())
    };
    page(
        StatusCode::OK,
        ServicesPage {
            c: staff.c("services", t.get("services")),
            q: q.q,
            count,
            rows,
        }
        .render(),
    )
}

/// The service form's fields, as shown and as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct ServiceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    grant_types: String,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    min_level: String,
    #[serde(default)]
    methods: String,
    #[serde(default)]
    upstreams: String,
    first_party: Option<String>,
    confirm: Option<String>,
    #[serde(skip)]
    auth_label: String,
}

impl HasCsrf for ServiceForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl ServiceForm {
    fn of(c: &crate::store::clients::Client) -> ServiceForm {
        ServiceForm {
            id: c.id.clone(),
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            auth: if c.is_public() { "public" } else { "secret" }.into(),
            grant_types: c
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            scopes: c.scopes.join(" "),
            min_level: c.min_level.unwrap_or(Level::Low).as_str().into(),
            methods: c
                .login_methods
                .as_ref()
                .map(|m| m.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "))
                .unwrap_or_default(),
            upstreams: c
                .upstreams
                .as_ref()
                .map(|u| u.join(" "))
                .unwrap_or_default(),
            first_party: c.first_party.then(|| "yes".into()),
            auth_label: c.token_endpoint_auth_method.to_string(),
            ..ServiceForm::default()
        }
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn to_new(&self) -> Result<NewClient, AdminError> {
        let min_level = Level::parse_name(self.min_level.trim()).ok_or_else(|| {
            AdminError::Invalid("min_level: expected low, substantial or high".into())
        })?;
        Ok(NewClient {
            id: self.id.trim().to_string(),
            name: (!self.name.trim().is_empty()).then(|| self.name.trim().to_string()),
            secret: None,
            redirect_uris: Self::words(&self.redirect_uris),
            post_logout_redirect_uris: Self::words(&self.post_logout_redirect_uris),
            grant_types: Self::words(&self.grant_types),
            scopes: Self::words(&self.scopes),
            min_level: (min_level != Level::Low).then_some(min_level),
            first_party: yes(&self.first_party),
            ..NewClient::default()
        })
    }

    fn methods(&self) -> (Option<Vec<String>>, Option<Vec<String>>) {
        let m = Self::words(&self.methods);
        let u = Self::words(&self.upstreams);
        ((!m.is_empty()).then_some(m), (!u.is_empty()).then_some(u))
    }
}

#[derive(Template)]
#[template(path = "admin/service_form.html")]
pub(super) struct ServiceFormPage {
    c: C,
    heading: String,
    action: String,
    is_new: bool,
    f: ServiceForm,
    errors: Vec<String>,
    levels: Vec<(&'static str, &'static str)>,
    has_secret: bool,
    disabled: bool,
}

pub(super) fn level_options(t: Tr) -> Vec<(&'static str, &'static str)> {
    Level::ALL
        .iter()
        .map(|l| (l.as_str(), t.level(*l)))
        .collect()
}

pub(super) async fn service_new(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ManageServices).await {
        return r;
    }
    let t = staff.t;
    let f = ServiceForm {
        auth: "public".into(),
        grant_types: "authorization_code refresh_token".into(),
        scopes: "openid profile email".into(),
        min_level: "low".into(),
        ..ServiceForm::default()
    };
    page(
        StatusCode::OK,
        ServiceFormPage {
            c: staff.c("services", t.get("service_new")),
            heading: t.get("service_new").into(),
            action: "/admin/services/new".into(),
            is_new: true,
            f,
            errors: vec![],
            levels: level_options(t),
            has_secret: false,
            disabled: false,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
pub(super) struct SecretPage {
    c: C,
    id: String,
    secret: String,
}

pub(super) async fn service_create(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<ServiceForm>,
) -> Response {
    if let Err(r) = staff
        .require_change(
            &app,
            Action::ManageServices,
            yes(&f.confirm),
            "/admin/services/new",
        )
        .await
    {
        return r;
    }
    let t = staff.t;
    let result = async {
        let mut n = f.to_new()?;
        let secret = (f.auth == "secret").then(secrets::new_secret);
        n.secret = secret.clone();
        n.subject_type = Some(app.config.tokens.default_subject_type.clone());
        let c = admin::register_client(&app.db, &app.hasher, &staff.actor(), n).await?;
        let (m, u) = f.methods();
        if m.is_some() || u.is_some() {
            admin::set_client_methods(&app.db, &staff.actor(), &c.id, m, u).await?;
        }
        app.clients.invalidate(&c.id);
        Ok::<_, AdminError>((c, secret))
    }
    .await;
    match result {
        Ok((c, Some(secret))) => page(
            StatusCode::OK,
            SecretPage {
                c: staff.c("services", t.get("new_secret")),
                id: c.id,
                secret,
            }
            .render(),
        ),
        Ok((c, None)) => done(&format!("/admin/services/{}", c.id)),
        Err(AdminError::Invalid(m)) => page(
            StatusCode::BAD_REQUEST,
            ServiceFormPage {
                c: staff.c("services", t.get("service_new")),
                heading: t.get("service_new").into(),
                action: "/admin/services/new".into(),
                is_new: true,
                f,
                errors: vec![m],
                levels: level_options(t),
                has_secret: false,
                disabled: false,
            }
            .render(),
        ),
        Err(e) => staff.error(e, "/admin/services/new"),
    }
}

pub(super) async fn service_edit(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewServices).await {
        return r;
    }
    let c = match app.db.client_get(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return staff.error(
                AdminError::NotFound(format!("client `{id}`")),
                "/admin/services",
            )
        }
        Err(e) => return internal(e),
    };
    let t = staff.t;
    page(
        StatusCode::OK,
        ServiceFormPage {
            c: staff.c("services", &c.name),
            heading: c.name.clone(),
            action: format!("/admin/services/{}", c.id),
            is_new: false,
            f: ServiceForm::of(&c),
            errors: vec![],
            levels: level_options(t),
            has_secret: c.secret_hash.is_some(),
            disabled: !c.is_enabled(),
        }
        .render(),
    )
}

pub(super) async fn service_update(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(mut f): CsrfForm<ServiceForm>,
) -> Response {
    let back = format!("/admin/services/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    f.id = id.clone();
    let result = async {
        let before = app
            .db
            .client_get(&id)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
        let mut n = f.to_new()?;
        // Not on this form: kept as they are.
        n.verified_claims = before.verified_claims;
        n.subject_type = Some(before.subject_type.as_str().to_string());
        admin::update_client(&app.db, &app.hasher, &staff.actor(), n).await?;
        let (m, u) = f.methods();
        let before_m = before
            .login_methods
            .as_ref()
            .map(|m| m.iter().map(|x| x.as_str().to_string()).collect::<Vec<_>>());
        if m != before_m || u != before.upstreams {
            admin::set_client_methods(&app.db, &staff.actor(), &id, m, u).await?;
        }
        app.clients.invalidate(&id);
        Ok::<_, AdminError>(())
    }
    .await;
    match result {
        Ok(()) => done(&back),
        Err(e) => staff.error(e, &back),
    }
}

pub(super) async fn service_rotate(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    let back = format!("/admin/services/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    match admin::rotate_client_secret(&app.db, &app.hasher, &staff.actor(), &id).await {
        Ok(secret) => {
            app.clients.invalidate(&id);
            page(
                StatusCode::OK,
                SecretPage {
                    c: staff.c("services", staff.t.get("new_secret")),
                    id,
                    secret,
                }
                .render(),
            )
        }
        Err(e) => staff.error(e, &back),
    }
}

pub(super) async fn service_set_disabled(
    app: App,
    staff: Staff,
    id: String,
    f: Confirm,
    disabled: bool,
) -> Response {
    let back = format!("/admin/services/{id}");
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), &back)
        .await
    {
        return r;
    }
    match admin::set_client_disabled(&app.db, &staff.actor(), &id, disabled).await {
        Ok(()) => {
            app.clients.invalidate(&id);
            done(&back)
        }
        Err(e) => staff.error(e, &back),
    }
}

pub(super) async fn service_disable(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    service_set_disabled(app, staff, id, f, true).await
}

pub(super) async fn service_enable(
    State(app): State<App>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<Confirm>,
) -> Response {
    service_set_disabled(app, staff, id, f, false).await
}

#[derive(Template)]
#[template(path = "admin/import.html")]
pub(super) struct ImportPage {
    c: C,
}

pub(super) async fn import_page(State(app): State<App>, staff: Staff) -> Response {
    if let Err(r) = staff.require(&app, Action::ManageServices).await {
        return r;
    }
    page(
        StatusCode::OK,
        ImportPage {
            c: staff.c("services", staff.t.get("import_export")),
        }
        .render(),
    )
}

#[derive(Deserialize)]
pub(super) struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    file: String,
    confirm: Option<String>,
}

impl HasCsrf for ImportForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(super) async fn import_submit(
    State(app): State<App>,
    staff: Staff,
    CsrfForm(f): CsrfForm<ImportForm>,
) -> Response {
    let back = "/admin/services/import";
    if let Err(r) = staff
        .require_change(&app, Action::ManageServices, yes(&f.confirm), back)
        .await
    {
        return r;
    }
    let result = async {
        let rows = bulk::parse(&f.file, bulk::Format::sniff(&f.file)).map_err(AdminError::Rows)?;
        bulk::import(
            &app.db,
            &app.hasher,
            &staff.actor(),
            &app.config.tokens.default_subject_type,
            rows,
        )
        .await
    }
    .await;
    match result {
        Ok(report) => {
            for id in report.created.iter().chain(&report.updated) {
                app.clients.invalidate(id);
            }
            message(
                staff.c("services", staff.t.get("imported")),
                StatusCode::OK,
                staff.t.get("imported"),
                report.summary(),
                None,
                Some(("/admin/services".into(), staff.t.get("services").into())),
            )
        }
        Err(e) => staff.error(e, back),
    }
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    format: Option<String>,
}

pub(super) async fn export(
    State(app): State<App>,
    staff: Staff,
    Query(q): Query<ExportQuery>,
) -> Response {
    if let Err(r) = staff.require(&app, Action::ViewServices).await {
        return r;
    }
    let csv = q.format.as_deref() == Some("csv");
    let format = if csv {
        bulk::Format::Csv
    } else {
        bulk::Format::Json
    };
    let body = match bulk::export_all(&app.db, format).await {
        Ok(b) => b,
        Err(e) => return internal(e),
    };
    let (ct, name) = if csv {
        (
            "text/csv; charset=utf-8",
            "attachment; filename=\"services.csv\"",
        )
    } else {
        ("application/json", "attachment; filename=\"services.json\"")
    };
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}
