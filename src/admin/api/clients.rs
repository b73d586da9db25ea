//! The admin API's services (relying parties) and audit log: `/admin/api/clients/…` with bulk
//! import and export, and `/admin/api/audit`. Each handler checks the role, calls the one
//! `admin` function that the CLI and the console use, and answers.

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use super::{
    parse_level, ApiError, ApiJson, ApiPath, ApiQuery, Can, ErrorBody, ManageServices, ViewAudit,
    ViewServices,
};
use crate::{
    admin::{bulk, AdminError, NewClient},
    app::App,
    store::{audit::AuditEvent, clients::Client, types::LevelName},
};

/// The largest import body (about 16,000 services).
const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(clients_list, clients_add))
        .routes(routes!(client_get, client_remove))
        .routes(routes!(clients_import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)))
        .routes(routes!(clients_export))
        .routes(routes!(audit))
}

/// Every service (never a secret).
#[utoipa::path(get, path = "/admin/api/clients", tag = "services",
    responses((status = 200, body = Vec<Client>)))]
async fn clients_list(
    State(app): State<App>,
    _: Can<ViewServices>,
) -> Result<Json<Vec<Client>>, ApiError> {
    Ok(Json(app.db.client_list().await?))
}

/// One service.
#[utoipa::path(get, path = "/admin/api/clients/{id}", tag = "services",
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = Client),
        (status = 404, description = "no such client", body = ErrorBody)))]
async fn client_get(
    State(app): State<App>,
    _: Can<ViewServices>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Client>, ApiError> {
    let c = app
        .db
        .client_get(&id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
    Ok(Json(c))
}

/// A new service, as `pforte client add`: no secret and no keys make a public client (PKCE).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClientBody {
    /// 1–128 letters, digits, `-`, `_`, `.`, `:`.
    id: String,
    name: Option<String>,
    /// 8–512 characters; stored hashed, never shown again.
    secret: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// `authorization_code`, `refresh_token`, `client_credentials`.
    #[serde(default)]
    grant_types: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[schema(value_type = Option<LevelName>)]
    min_level: Option<String>,
    /// A JSON Web Key Set (`private_key_jwt`).
    #[schema(value_type = Option<Object>)]
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    /// `RS256`, `ES256` or `EdDSA`.
    id_token_signed_response_alg: Option<String>,
    /// `eidas`, `bsi` or `stork`.
    acr_vocabulary: Option<String>,
    #[serde(default)]
    first_party: bool,
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    /// May introspect every client's tokens.
    #[serde(default)]
    introspect: bool,
    #[serde(default)]
    pkce_optional: bool,
    #[serde(default)]
    verified_claims: bool,
    /// `public` or `pairwise` (default: the configured one).
    subject_type: Option<String>,
    sector_identifier_uri: Option<String>,
}

/// Registers a service (audited).
#[utoipa::path(post, path = "/admin/api/clients", tag = "services", request_body = ClientBody,
    responses((status = 201, description = "registered and audited", body = Client)))]
async fn clients_add(
    State(app): State<App>,
    Can(admin, _): Can<ManageServices>,
    ApiJson(b): ApiJson<ClientBody>,
) -> Result<(StatusCode, Json<Client>), ApiError> {
    let n = NewClient {
        id: b.id,
        name: b.name,
        secret: b.secret,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        grant_types: b.grant_types,
        scopes: b.scopes,
        min_level: b.min_level.as_deref().map(parse_level).transpose()?,
        jwks: b.jwks.map(|j| j.to_string()),
        jwks_uri: b.jwks_uri,
        id_token_alg: b.id_token_signed_response_alg,
        acr_vocabulary: b.acr_vocabulary,
        first_party: b.first_party,
        may_introspect: b.introspect,
        pkce_optional: b.pkce_optional,
        backchannel_logout_uri: b.backchannel_logout_uri,
        backchannel_logout_session_required: b.backchannel_logout_session_required,
        verified_claims: b.verified_claims,
        subject_type: b
            .subject_type
            .or_else(|| Some(app.config.tokens.default_subject_type.clone())),
        sector_identifier_uri: b.sector_identifier_uri,
    };
    let c = crate::admin::register_client(&app.db, &app.hasher, &admin.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Removes a service (audited); its tokens stop working.
#[utoipa::path(delete, path = "/admin/api/clients/{id}", tag = "services",
    params(("id" = String, Path, description = "client id")),
    responses((status = 204, description = "removed and audited"),
        (status = 404, description = "no such client", body = ErrorBody)))]
async fn client_remove(
    State(app): State<App>,
    Can(admin, _): Can<ManageServices>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    crate::admin::remove_client(&app.db, &admin.actor(), &id).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum FormatName {
    Json,
    Csv,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FormatQuery {
    /// The file format; absent: from `Content-Type` on import, JSON on export.
    format: Option<FormatName>,
}

fn bulk_format(q: &FormatQuery, content_type: Option<&str>) -> bulk::Format {
    match (q.format, content_type) {
        (Some(FormatName::Json), _) => bulk::Format::Json,
        (Some(FormatName::Csv), _) => bulk::Format::Csv,
        (None, Some(ct)) if ct.starts_with("text/csv") => bulk::Format::Csv,
        (None, _) => bulk::Format::Json,
    }
}

/// Imports many services in one call: a JSON array or CSV (`Content-Type: text/csv` or
/// `?format=csv`), idempotent by id, all or nothing. A bad file answers 400 with every bad row
/// (its number, and for CSV its line).
#[utoipa::path(post, path = "/admin/api/clients/import", tag = "services", params(FormatQuery),
    request_body(content((Vec<bulk::Row> = "application/json"), (String = "text/csv"))),
    responses((status = 200, description = "applied: the client ids by outcome", body = bulk::Report),
        (status = 413, description = "more than 16 MiB", body = ErrorBody)))]
async fn clients_import(
    State(app): State<App>,
    Can(admin, _): Can<ManageServices>,
    ApiQuery(q): ApiQuery<FormatQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid(format!("the body is not UTF-8 ({e})")))?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let rows = match bulk::parse(text, bulk_format(&q, ct)) {
        Ok(r) => r,
        Err(rows) => return Ok(ApiError::rows(rows)),
    };
    let default_subject = &app.config.tokens.default_subject_type;
    match bulk::import(&app.db, &app.hasher, &admin.actor(), default_subject, rows).await {
        Ok(report) => {
            for id in report.created.iter().chain(&report.updated) {
                app.clients.invalidate(id);
            }
            Ok(Json(report).into_response())
        }
        Err(AdminError::Rows(rows)) => Ok(ApiError::rows(rows)),
        Err(e) => Err(e.into()),
    }
}

/// Every service in the import format (no secrets).
#[utoipa::path(get, path = "/admin/api/clients/export", tag = "services", params(FormatQuery),
    responses((status = 200, description = "the file",
        content((Vec<bulk::Row> = "application/json"), (String = "text/csv")))))]
async fn clients_export(
    State(app): State<App>,
    _: Can<ViewServices>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = bulk_format(&q, None);
    let body = bulk::export_all(&app.db, format).await?;
    let ct = match format {
        bulk::Format::Json => "application/json",
        bulk::Format::Csv => "text/csv; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, ct)], body).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// A prefix of the event name, e.g. `policy.`.
    #[param(pattern = "^[a-z._]{0,64}$")]
    action: Option<String>,
    /// At most this many events (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/admin/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEvent>)))]
async fn audit(
    State(app): State<App>,
    _: Can<ViewAudit>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    if q.action.as_ref().is_some_and(|a| {
        a.len() > 64
            || !a
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
    }) {
        return Err(ApiError::invalid(
            "action: a prefix of lower-case letters, `.` and `_`",
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: 1 to 1000"));
    }
    Ok(Json(app.db.audit_list(q.action.as_deref(), limit).await?))
}
