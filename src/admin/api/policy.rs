//! The admin API's assurance policy and identity sources: `/admin/api/policy/…` and
//! `/admin/api/upstreams/…`. Each handler checks the role, calls the one `admin` function that
//! the CLI and the console use, and answers.

use std::collections::BTreeMap;

use axum::{extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{parse_level, ApiError, ApiJson, ApiPath, Can, ManagePolicy, ViewPolicy};
use crate::{
    app::App,
    assurance::Level,
    store::{
        types::{LevelName, LoginMethod},
        upstreams::Upstream,
    },
};

pub(super) fn routes() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(policy_show))
        .routes(routes!(policy_level))
        .routes(routes!(policy_scope, policy_scope_delete))
        .routes(routes!(policy_client))
        .routes(routes!(policy_client_methods))
        .routes(routes!(policy_client_verified_claims))
        .routes(routes!(upstreams_list, upstreams_add))
        .routes(routes!(upstream_remove))
        .routes(routes!(upstream_trust))
}

/// The whole assurance policy.
#[derive(Serialize, ToSchema)]
struct Policy {
    /// Per level: how old a login may be and still count at it.
    levels: BTreeMap<&'static str, LevelAge>,
    /// Per scope: the minimum level.
    #[schema(value_type = BTreeMap<String, LevelName>)]
    scopes: BTreeMap<String, Level>,
    /// Per service: its minimum level and the login methods and sources it offers.
    clients: BTreeMap<String, ClientPolicy>,
    /// Per identity source: how far it is trusted.
    upstreams: BTreeMap<String, UpstreamTrust>,
}

#[derive(Serialize, ToSchema)]
struct LevelAge {
    /// Seconds.
    max_age: u64,
}

#[derive(Serialize, ToSchema)]
struct ClientPolicy {
    #[schema(value_type = LevelName)]
    min_level: Level,
    /// `null`: every local method.
    login_methods: Option<Vec<LoginMethod>>,
    /// `null`: every source.
    upstreams: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
struct UpstreamTrust {
    #[schema(value_type = LevelName)]
    max_level: Level,
    #[schema(value_type = BTreeMap<String, LevelName>)]
    acr_map: BTreeMap<String, Level>,
}

async fn load_policy(app: &App) -> Result<Policy, ApiError> {
    let p = app.db.policy_load().await?;
    let clients = app.db.client_list().await?;
    let upstreams = app.db.upstream_list().await?;
    Ok(Policy {
        levels: Level::ALL
            .iter()
            .map(|l| {
                (
                    l.as_str(),
                    LevelAge {
                        max_age: p.max_age_of(*l),
                    },
                )
            })
            .collect(),
        scopes: p.scope_min,
        clients: clients
            .into_iter()
            .map(|c| {
                let v = ClientPolicy {
                    min_level: c.min_level.unwrap_or(Level::Low),
                    login_methods: c.login_methods,
                    upstreams: c.upstreams,
                };
                (c.id, v)
            })
            .collect(),
        upstreams: upstreams
            .into_iter()
            .map(|u| {
                let v = UpstreamTrust {
                    max_level: u.max_level,
                    acr_map: u.acr_map,
                };
                (u.id, v)
            })
            .collect(),
    })
}

/// The whole assurance policy.
#[utoipa::path(get, path = "/admin/api/policy", tag = "policy",
    responses((status = 200, body = Policy)))]
async fn policy_show(State(app): State<App>, _: Can<ViewPolicy>) -> Result<Json<Policy>, ApiError> {
    Ok(Json(load_policy(&app).await?))
}

#[derive(Deserialize, ToSchema)]
struct MaxAge {
    /// Seconds, 1 to 366 days.
    #[schema(minimum = 1, maximum = 31_622_400)]
    max_age: u64,
}

#[derive(Deserialize, ToSchema)]
struct MinLevel {
    /// `null` or absent: no minimum.
    #[schema(value_type = Option<LevelName>)]
    min_level: Option<String>,
}

/// How old a login may be and still count at a level.
#[utoipa::path(put, path = "/admin/api/policy/levels/{level}", tag = "policy",
    params(("level" = LevelName, Path)), request_body = MaxAge,
    responses((status = 204, description = "changed and audited")))]
async fn policy_level(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(level): ApiPath<String>,
    ApiJson(b): ApiJson<MaxAge>,
) -> Result<StatusCode, ApiError> {
    super::super::set_level_max_age(&app.db, &admin.actor(), parse_level(&level)?, b.max_age)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A scope's minimum level.
#[utoipa::path(put, path = "/admin/api/policy/scopes/{scope}", tag = "policy",
    params(("scope" = String, Path, description = "a scope token (RFC 6749 §3.3)")),
    request_body = MinLevel,
    responses((status = 204, description = "changed and audited")))]
async fn policy_scope(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(scope): ApiPath<String>,
    ApiJson(b): ApiJson<MinLevel>,
) -> Result<StatusCode, ApiError> {
    let level = b.min_level.as_deref().map(parse_level).transpose()?;
    super::super::set_scope_min_level(&app.db, &admin.actor(), &scope, level).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a scope's minimum level.
#[utoipa::path(delete, path = "/admin/api/policy/scopes/{scope}", tag = "policy",
    params(("scope" = String, Path, description = "a scope token (RFC 6749 §3.3)")),
    responses((status = 204, description = "changed and audited")))]
async fn policy_scope_delete(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(scope): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    super::super::set_scope_min_level(&app.db, &admin.actor(), &scope, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A service's minimum level.
#[utoipa::path(put, path = "/admin/api/policy/clients/{id}", tag = "policy",
    params(("id" = String, Path, description = "client id")), request_body = MinLevel,
    responses((status = 204, description = "changed and audited"),
        (status = 404, description = "no such client", body = super::ErrorBody)))]
async fn policy_client(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MinLevel>,
) -> Result<StatusCode, ApiError> {
    let level = b.min_level.as_deref().map(parse_level).transpose()?;
    super::super::set_client_min_level(&app.db, &admin.actor(), &id, level).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MethodsBody {
    /// `null`: every local method.
    #[schema(value_type = Option<Vec<LoginMethod>>)]
    login_methods: Option<Vec<String>>,
    /// `null`: every identity source.
    upstreams: Option<Vec<String>>,
}

/// Which local login methods and identity sources a service offers.
#[utoipa::path(put, path = "/admin/api/policy/clients/{id}/methods", tag = "policy",
    params(("id" = String, Path, description = "client id")), request_body = MethodsBody,
    responses((status = 204, description = "changed and audited"),
        (status = 404, description = "no such client or source", body = super::ErrorBody)))]
async fn policy_client_methods(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MethodsBody>,
) -> Result<StatusCode, ApiError> {
    super::super::set_client_methods(&app.db, &admin.actor(), &id, b.login_methods, b.upstreams)
        .await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct VerifiedClaimsBody {
    allowed: bool,
}

/// Whether a service may receive `verified_claims` (OpenID Connect for Identity Assurance).
#[utoipa::path(put, path = "/admin/api/policy/clients/{id}/verified-claims", tag = "policy",
    params(("id" = String, Path, description = "client id")), request_body = VerifiedClaimsBody,
    responses((status = 204, description = "changed and audited"),
        (status = 404, description = "no such client", body = super::ErrorBody)))]
async fn policy_client_verified_claims(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<VerifiedClaimsBody>,
) -> Result<StatusCode, ApiError> {
    super::super::set_client_verified_claims(&app.db, &admin.actor(), &id, b.allowed).await?;
    app.clients.invalidate(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// The identity sources (never their secrets).
#[utoipa::path(get, path = "/admin/api/upstreams", tag = "sources",
    responses((status = 200, body = Vec<Upstream>)))]
async fn upstreams_list(
    State(app): State<App>,
    _: Can<ViewPolicy>,
) -> Result<Json<Vec<Upstream>>, ApiError> {
    Ok(Json(app.db.upstream_list().await?))
}

/// A new identity source, as `pforte upstream add`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpstreamBody {
    /// 1–64 letters, digits, `-`, `_` (part of the callback URL).
    id: String,
    /// `servicekonto-nrw`, `eid` or `oidc`.
    profile: String,
    /// https URL.
    issuer: String,
    client_id: String,
    /// Stored encrypted; never shown again. May be empty only for `private_key_jwt`.
    #[serde(default)]
    client_secret: String,
    #[schema(value_type = Option<LevelName>)]
    max_level: Option<String>,
    name: Option<String>,
    /// Upstream acr value → level.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, LevelName>)]
    acr_map: BTreeMap<String, String>,
    #[serde(default)]
    scopes: Vec<String>,
    /// Upstream claim → Pforte claim.
    #[serde(default)]
    claim_map: BTreeMap<String, String>,
    /// `client_secret_basic` (default), `client_secret_post` or `private_key_jwt`.
    auth_method: Option<String>,
    #[serde(default)]
    userinfo: bool,
    #[serde(default)]
    end_session: bool,
}

/// Registers an identity source.
#[utoipa::path(post, path = "/admin/api/upstreams", tag = "sources", request_body = UpstreamBody,
    responses((status = 201, description = "registered and audited", body = Upstream)))]
async fn upstreams_add(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiJson(b): ApiJson<UpstreamBody>,
) -> Result<(StatusCode, Json<Upstream>), ApiError> {
    let n = super::super::NewUpstream {
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
    let u = super::super::add_upstream(&app.db, &app.kek, &admin.actor(), n).await?;
    Ok((StatusCode::CREATED, Json(u)))
}

/// Removes an identity source.
#[utoipa::path(delete, path = "/admin/api/upstreams/{id}", tag = "sources",
    params(("id" = String, Path, description = "source id")),
    responses((status = 204, description = "removed and audited"),
        (status = 404, description = "no such source", body = super::ErrorBody)))]
async fn upstream_remove(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    super::super::remove_upstream(&app.db, &admin.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TrustBody {
    /// Absent: unchanged.
    #[schema(value_type = Option<LevelName>)]
    max_level: Option<String>,
    /// Absent: unchanged.
    #[schema(value_type = Option<BTreeMap<String, LevelName>>)]
    acr_map: Option<BTreeMap<String, String>>,
}

/// How far an identity source is trusted and how its acr values map to levels.
#[utoipa::path(put, path = "/admin/api/upstreams/{id}/trust", tag = "sources",
    params(("id" = String, Path, description = "source id")), request_body = TrustBody,
    responses((status = 204, description = "changed and audited"),
        (status = 404, description = "no such source", body = super::ErrorBody)))]
async fn upstream_trust(
    State(app): State<App>,
    Can(admin, _): Can<ManagePolicy>,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<TrustBody>,
) -> Result<StatusCode, ApiError> {
    let level = b.max_level.as_deref().map(parse_level).transpose()?;
    super::super::set_upstream_trust(&app.db, &admin.actor(), &id, level, b.acr_map).await?;
    Ok(StatusCode::NO_CONTENT)
}
