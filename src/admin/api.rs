//! The admin HTTP API (`/admin/api/…`, JSON), described by `openapi.json`.
//!
//! Authorised by an access token that Pforte issued through client_credentials with the scope
//! `pforte:admin` (RFC 6750 bearer; a missing token gets 401, a token without the scope 403
//! `insufficient_scope`). Handlers call the same functions as the CLI, so validation and audit
//! are identical; the actor recorded in the audit log is `admin:<client id>`.

use std::collections::BTreeMap;

use axum::{
    extract::{FromRequestParts, Path, Query, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, NewClient};
use crate::{
    app::App,
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    oidc::{error::OAuthError, userinfo::verify_access_token},
};

/// The scope an admin token must carry.
pub const ADMIN_SCOPE: &str = "pforte:admin";

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin/api/openapi.json", get(openapi))
        .route("/admin/api/policy", get(policy_show))
        .route("/admin/api/policy/levels/{level}", put(policy_level))
        .route(
            "/admin/api/policy/scopes/{scope}",
            put(policy_scope).delete(policy_scope_delete),
        )
        .route("/admin/api/policy/clients/{id}", put(policy_client))
        .route(
            "/admin/api/policy/clients/{id}/methods",
            put(policy_client_methods),
        )
        .route(
            "/admin/api/policy/clients/{id}/verified-claims",
            put(policy_client_verified_claims),
        )
        .route(
            "/admin/api/upstreams",
            get(upstreams_list).post(upstreams_add),
        )
        .route(
            "/admin/api/upstreams/{id}",
            axum::routing::delete(upstream_remove),
        )
        .route("/admin/api/upstreams/{id}/trust", put(upstream_trust))
        .route("/admin/api/clients", get(clients_list).post(clients_add))
        .route(
            "/admin/api/clients/{id}",
            get(client_get).delete(client_remove),
        )
        .route("/admin/api/audit", get(audit))
        .route(
            "/admin/api/clients/import",
            axum::routing::post(clients_import)
                .layer(axum::extract::DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/admin/api/clients/export", get(clients_export))
}

/// An API error: `{ "error", "error_description" }` with its status.
pub struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.0,
            Json(json!({ "error": self.1, "error_description": self.2 })),
        )
            .into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"pforte-admin\""),
            );
        }
        resp
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(m) => ApiError(StatusCode::BAD_REQUEST, "invalid_request", m),
            AdminError::NotFound(m) => {
                ApiError(StatusCode::NOT_FOUND, "not_found", format!("{m} not found"))
            }
            AdminError::Account(a) => {
                ApiError(StatusCode::BAD_REQUEST, "invalid_request", a.to_string())
            }
            AdminError::Store(s) => ApiError::from(OAuthError::internal(s)),
            e @ AdminError::Rows(_) => {
                ApiError(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
            }
        }
    }
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        ApiError(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.error,
            e.error_description,
        )
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::from(OAuthError::internal(e))
    }
}

/// An authenticated admin: the client whose `pforte:admin` token was presented (all rights,
/// as the `admin` role), or a staff member through a token issued to the admin console's
/// client (`admin::console::CLIENT_ID`), with the roles the account holds now.
pub struct Admin {
    pub client_id: String,
    /// The staff account, for a console token.
    pub account_id: Option<String>,
    pub roles: Vec<super::roles::Role>,
}

impl Admin {
    fn actor(&self) -> Actor {
        match &self.account_id {
            Some(a) => Actor::Admin(format!("account:{a}")),
            None => Actor::Admin(self.client_id.clone()),
        }
    }

    /// 403 `insufficient_scope` unless a role allows `action` (audited as `admin.denied`).
    async fn require(&self, app: &App, action: super::roles::Action) -> Result<(), ApiError> {
        if super::roles::allowed(&self.roles, action) {
            return Ok(());
        }
        audit::record_or_log(
            &app.db,
            Entry::new(Event::AdminDenied, self.actor())
                .fields(json!({ "action": format!("{action:?}"), "roles": self.roles })),
        )
        .await;
        Err(ApiError(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("the staff roles {:?} do not allow {action:?}", self.roles),
        ))
    }
}

impl FromRequestParts<App> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(h) = header else {
            return Err(ApiError(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "a bearer token with scope pforte:admin is required".into(),
            )
            .into_response());
        };
        let token = match h.split_once(' ') {
            Some((s, t)) if s.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => {
                return Err(ApiError(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "expected `Authorization: Bearer <token>`".into(),
                )
                .into_response())
            }
        };
        let (claims, _) = verify_access_token(app, token)
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        // A staff member's token from the admin console: the account's roles, read now.
        if claims.client_id == super::console::CLIENT_ID && claims.sub != claims.client_id {
            let roles = super::roles_of(&app.db, &claims.sub)
                .await
                .map_err(|e| ApiError::from(e).into_response())?;
            if !roles.is_empty() {
                return Ok(Admin {
                    client_id: claims.client_id,
                    account_id: Some(claims.sub),
                    roles,
                });
            }
        }
        // Otherwise only client_credentials tokens administer: a citizen's token never does.
        if claims.sub != claims.client_id || !claims.scope.split(' ').any(|s| s == ADMIN_SCOPE) {
            audit::record_or_log(
                &app.db,
                Entry::new(
                    Event::AdminDenied,
                    Actor::Client(claims.client_id.to_string()),
                )
                .fields(json!({ "sub": claims.sub })),
            )
            .await;
            let mut resp = ApiError(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("the token lacks the {ADMIN_SCOPE} scope"),
            )
            .into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"pforte-admin\", error=\"insufficient_scope\", scope=\"pforte:admin\""),
            );
            return Err(resp);
        }
        Ok(Admin {
            client_id: claims.client_id,
            account_id: None,
            roles: vec![super::roles::Role::Admin],
        })
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

fn parse_level(s: &str) -> Result<Level, ApiError> {
    Level::parse_name(s).ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("level: expected low, substantial or high, got `{s}`"),
        )
    })
}

/// The whole assurance policy.
async fn policy_show(State(app): State<App>, admin: Admin) -> Result<Json<Value>, ApiError> {
    admin
        .require(&app, super::roles::Action::ViewPolicy)
        .await?;
    let p = app.db.policy_load().await?;
    let levels: BTreeMap<&str, Value> = Level::ALL
        .iter()
        .map(|l| (l.as_str(), json!({ "max_age": p.max_age_of(*l) })))
        .collect();
    let clients: BTreeMap<String, Value> = app
        .db
        .client_list()
        .await?
        .into_iter()
        .map(|c| {
            let v = json!({
                "min_level": c.min_level.unwrap_or(Level::Low),
                "login_methods": c.login_methods,
                "upstreams": c.upstreams,
            });
            (c.id, v)
        })
        .collect();
    let upstreams: BTreeMap<String, Value> = app
        .db
        .upstream_list()
        .await?
        .into_iter()
        .map(|u| {
            (
                u.id,
                json!({ "max_level": u.max_level, "acr_map": u.acr_map }),
            )
        })
        .collect();
    Ok(Json(
        json!({ "levels": levels, "scopes": p.scope_min, "clients": clients, "upstreams": upstreams }),
    ))
}

#[derive(Deserialize)]
struct MaxAge {
    max_age: u64,
}

#[derive(Deserialize)]
struct MinLevel {
    min_level: Option<String>,
}

async fn policy_level(
    State(app): State<App>,
    admin: Admin,
    Path(level): Path<String>,
    body: Result<Json<MaxAge>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    super::set_level_max_age(&app.db, &admin.actor(), parse_level(&level)?, b.max_age).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn policy_scope(
    State(app): State<App>,
    admin: Admin,
    Path(scope): Path<String>,
    body: Result<Json<MinLevel>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    let level = b.min_level.as_deref().map(parse_level).transpose()?;
    super::set_scope_min_level(&app.db, &admin.actor(), &scope, level).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn policy_scope_delete(
    State(app): State<App>,
    admin: Admin,
    Path(scope): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    super::set_scope_min_level(&app.db, &admin.actor(), &scope, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn policy_client(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
    body: Result<Json<MinLevel>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    let level = b.min_level.as_deref().map(parse_level).transpose()?;
    super::set_client_min_level(&app.db, &admin.actor(), &id, level).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

async fn clients_list(State(app): State<App>, admin: Admin) -> Result<Json<Value>, ApiError> {
    admin
        .require(&app, super::roles::Action::ViewServices)
        .await?;
    Ok(Json(json!(app.db.client_list().await?)))
}

async fn client_get(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    admin
        .require(&app, super::roles::Action::ViewServices)
        .await?;
    let c = app.db.client_get(&id).await?.ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("client `{id}` not found"),
        )
    })?;
    Ok(Json(json!(c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientBody {
    id: String,
    name: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    min_level: Option<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    id_token_signed_response_alg: Option<String>,
    acr_vocabulary: Option<String>,
    #[serde(default)]
    first_party: bool,
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    #[serde(default)]
    introspect: bool,
    #[serde(default)]
    pkce_optional: bool,
    #[serde(default)]
    verified_claims: bool,
    subject_type: Option<String>,
    sector_identifier_uri: Option<String>,
}

async fn clients_add(
    State(app): State<App>,
    admin: Admin,
    body: Result<Json<ClientBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    admin
        .require(&app, super::roles::Action::ManageServices)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
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
    let c = super::register_client(&app.db, &app.hasher, &admin.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(json!(c))).into_response())
}

async fn client_remove(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManageServices)
        .await?;
    super::remove_client(&app.db, &admin.actor(), &id).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct AuditQuery {
    action: Option<String>,
    limit: Option<i64>,
}

/// The audit log, newest first; `action` filters by prefix (e.g. `policy.`).
async fn audit(
    State(app): State<App>,
    admin: Admin,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    admin.require(&app, super::roles::Action::ViewAudit).await?;
    let Query(q) =
        q.map_err(|e| ApiError(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()))?;
    if q.action.as_ref().is_some_and(|a| {
        a.len() > 64
            || !a
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_')
    }) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "action: a prefix of lower-case letters, `.` and `_`".into(),
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "limit: 1 to 1000".into(),
        ));
    }
    Ok(Json(json!(
        app.db.audit_list(q.action.as_deref(), limit).await?
    )))
}

fn bad_json(e: axum::extract::rejection::JsonRejection) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, "invalid_request", e.body_text())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodsBody {
    login_methods: Option<Vec<String>>,
    upstreams: Option<Vec<String>>,
}

async fn policy_client_methods(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
    body: Result<Json<MethodsBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    super::set_client_methods(&app.db, &admin.actor(), &id, b.login_methods, b.upstreams).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

async fn upstreams_list(State(app): State<App>, admin: Admin) -> Result<Json<Value>, ApiError> {
    admin
        .require(&app, super::roles::Action::ViewPolicy)
        .await?;
    Ok(Json(json!(app.db.upstream_list().await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamBody {
    id: String,
    profile: String,
    issuer: String,
    client_id: String,
    #[serde(default)]
    client_secret: String,
    max_level: Option<String>,
    name: Option<String>,
    #[serde(default)]
    acr_map: BTreeMap<String, String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    claim_map: BTreeMap<String, String>,
    auth_method: Option<String>,
    #[serde(default)]
    userinfo: bool,
    #[serde(default)]
    end_session: bool,
}

async fn upstreams_add(
    State(app): State<App>,
    admin: Admin,
    body: Result<Json<UpstreamBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    let n = super::NewUpstream {
        id: b.id,
        profile: b.profile,
        issuer: b.issuer,
        client_id: b.client_id,
        client_secret: b.client_secret,
        max_level: b.max_level.as_deref().map(parse_level).transpose()?,
        name: b.name,
        acr_map: b.acr_map,
        scopes: b.scopes,
        claim_map: b.claim_map,
        auth_method: b.auth_method,
        userinfo: b.userinfo,
        end_session: b.end_session,
    };
    let u = super::add_upstream(&app.db, &app.kek, &admin.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(json!(u))).into_response())
}

async fn upstream_remove(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    super::remove_upstream(&app.db, &admin.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustBody {
    max_level: Option<String>,
    acr_map: Option<BTreeMap<String, String>>,
}

async fn upstream_trust(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
    body: Result<Json<TrustBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    let level = b.max_level.as_deref().map(parse_level).transpose()?;
    super::set_upstream_trust(&app.db, &admin.actor(), &id, level, b.acr_map).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

fn bulk_format(
    q: &FormatQuery,
    content_type: Option<&str>,
) -> Result<super::bulk::Format, ApiError> {
    match (q.format.as_deref(), content_type) {
        (Some("json"), _) => Ok(super::bulk::Format::Json),
        (Some("csv"), _) => Ok(super::bulk::Format::Csv),
        (Some(f), _) => Err(ApiError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("format `{f}`: expected json or csv"),
        )),
        (None, Some(ct)) if ct.starts_with("text/csv") => Ok(super::bulk::Format::Csv),
        (None, _) => Ok(super::bulk::Format::Json),
    }
}

/// Imports many clients in one call: a JSON array or CSV (`Content-Type: text/csv` or
/// `?format=csv`), all or nothing; 200 with `{created, updated, unchanged}` (client ids), or 400
/// with `rows`: every bad row with its number (and CSV line).
async fn clients_import(
    State(app): State<App>,
    admin: Admin,
    Query(q): Query<FormatQuery>,
    headers: axum::http::HeaderMap,
    body: String,
) -> Result<Response, ApiError> {
    admin
        .require(&app, super::roles::Action::ManageServices)
        .await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = bulk_format(&q, ct)?;
    let bad_rows = |rows: Vec<super::bulk::RowError>| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "invalid_request",
                "error_description": format!("{} bad row(s), nothing applied", rows.len()),
                "rows": rows,
            })),
        )
            .into_response()
    };
    let rows = match super::bulk::parse(&body, format) {
        Ok(r) => r,
        Err(rows) => return Ok(bad_rows(rows)),
    };
    match super::bulk::import(
        &app.db,
        &app.hasher,
        &admin.actor(),
        &app.config.tokens.default_subject_type,
        rows,
    )
    .await
    {
        Ok(report) => {
            for id in report.created.iter().chain(&report.updated) {
                app.clients.invalidate(id);
            }
            Ok(Json(json!(report)).into_response())
        }
        Err(AdminError::Rows(rows)) => Ok(bad_rows(rows)),
        Err(e) => Err(e.into()),
    }
}

/// Every client in the import format (no secrets).
async fn clients_export(
    State(app): State<App>,
    admin: Admin,
    Query(q): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    admin
        .require(&app, super::roles::Action::ViewServices)
        .await?;
    let format = bulk_format(&q, None)?;
    let body = super::bulk::export_all(&app.db, format).await?;
    let ct = match format {
        super::bulk::Format::Json => "application/json",
        super::bulk::Format::Csv => "text/csv; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, ct)], body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifiedClaimsBody {
    allowed: bool,
}

async fn policy_client_verified_claims(
    State(app): State<App>,
    admin: Admin,
    Path(id): Path<String>,
    body: Result<Json<VerifiedClaimsBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    admin
        .require(&app, super::roles::Action::ManagePolicy)
        .await?;
    let Json(b) = body.map_err(bad_json)?;
    super::set_client_verified_claims(&app.db, &admin.actor(), &id, b.allowed).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}
