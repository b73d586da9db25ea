//! The admin HTTP API (`/admin/api/…`, JSON), with its OpenAPI 3.1 document generated from
//! the handlers and types by utoipa and served at `/admin/api/openapi.json`.
//!
//! Authorised by an access token that Pforte issued through client_credentials with the scope
//! `pforte:admin` (RFC 6750 bearer; a missing token gets 401, a token without the scope 403
//! `insufficient_scope`), or by a staff member's token from the admin console, with the roles
//! the account holds now. Handlers call the same functions as the CLI, so validation and audit
//! are identical; the actor recorded in the audit log is `admin:<client id>` (or
//! `admin:account:<id>`).
//!
//! Owns: the route list ([`api_router`]: each route is registered with its description through
//! `utoipa_axum::routes!`, so the document cannot miss one), the error shape ([`ErrorBody`],
//! RFC 6749 §5.2 style, as every failure answers), the extractors that turn every rejection
//! into that shape ([`ApiJson`], [`ApiPath`], [`ApiQuery`]) and the role check ([`Can`]).

mod clients;
mod policy;

use std::{marker::PhantomData, sync::OnceLock};

use axum::{
    extract::{
        rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts,
    },
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde::Serialize;
use serde_json::json;
use utoipa::{
    openapi::{
        security::{Http, HttpAuthScheme, SecurityScheme},
        Content, OpenApi as Document, Ref, ResponseBuilder,
    },
    Modify, OpenApi, ToSchema,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{roles::Action, AdminError};
use crate::{
    app::App,
    audit::{self, Actor, Entry, Event},
    oidc::{error::OAuthError, userinfo::verify_access_token},
};

/// The scope an admin token must carry.
pub const ADMIN_SCOPE: &str = "pforte:admin";

/// Where the OpenAPI document is served (docs/contract.md).
pub const OPENAPI_PATH: &str = "/admin/api/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Pforte admin API",
        description = "Services (relying parties), the assurance policy, identity sources and the audit log of a Pforte identity provider. Every change is validated and audited exactly as the CLI and the admin console do it.",
    ),
    security(("bearer" = [])),
    tags(
        (name = "services", description = "Relying parties: register, read, remove, bulk import and export"),
        (name = "policy", description = "The assurance policy: level ages, scope and service minimums, login methods"),
        (name = "sources", description = "Upstream identity sources and how far they are trusted"),
        (name = "audit", description = "The audit log"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// Adds what every operation shares: the bearer scheme, and the error answers of the
/// authorisation check (401, 403) and, where the request carries input, of its validation
/// (400), all as [`ErrorBody`].
struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let error = |text: &str| {
            ResponseBuilder::new()
                .description(text)
                .content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            if path == OPENAPI_PATH {
                continue;
            }
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let takes_input = op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let r = &mut op.responses.responses;
                if takes_input {
                    r.entry("400".into())
                        .or_insert_with(|| error("bad input: which field and why").into());
                }
                r.entry("401".into()).or_insert_with(|| {
                    error("no bearer token, or an invalid or expired one (RFC 6750 §3.1)").into()
                });
                r.entry("403".into()).or_insert_with(|| {
                    error("the token lacks the pforte:admin scope, or the staff roles do not allow this (`insufficient_scope`)").into()
                });
            }
        }
    }
}

/// Every route of the API with its description.
pub fn api_router() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi))
        .merge(policy::routes())
        .merge(clients::routes())
}

/// The generated document, built once.
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        // After the routes are in: the derive's own modifiers run before there are any.
        let mut doc = api_router().into_openapi();
        Common.modify(&mut doc);
        doc
    })
}

pub fn router() -> Router<App> {
    api_router().split_for_parts().0
}

/// This document (public: no token needed).
#[utoipa::path(get, path = "/admin/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
async fn openapi() -> Json<&'static Document> {
    Json(document())
}

/// The body of every error answer: an OAuth-style code (RFC 6749 §5.2: `invalid_request`,
/// `invalid_token`, `insufficient_scope`, `not_found`, `server_error`) and a sentence for
/// people; a rejected bulk import adds every bad row.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub error_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rows: Option<Vec<super::bulk::RowError>>,
}

/// An API error: an [`ErrorBody`] with its status.
pub struct ApiError(StatusCode, &'static str, String);

impl ApiError {
    pub fn invalid(description: impl Into<String>) -> Self {
        ApiError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            description.into(),
        )
    }

    /// A rejected bulk import: every bad row, nothing applied.
    fn rows(rows: Vec<super::bulk::RowError>) -> Response {
        let body = ErrorBody {
            error: "invalid_request".into(),
            error_description: format!("{} bad row(s), nothing applied", rows.len()),
            rows: Some(rows),
        };
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.1.into(),
            error_description: self.2,
            rows: None,
        };
        let mut resp = (self.0, Json(body)).into_response();
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
            AdminError::Invalid(m) => ApiError::invalid(m),
            AdminError::NotFound(m) => {
                ApiError(StatusCode::NOT_FOUND, "not_found", format!("{m} not found"))
            }
            AdminError::Account(a) => ApiError::invalid(a.to_string()),
            AdminError::Store(s) => ApiError::from(OAuthError::internal(s)),
            e @ AdminError::Rows(_) => ApiError::invalid(e.to_string()),
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

/// Every extractor rejection becomes a 400 (or the rejection's own 4xx, e.g. 413) in the
/// [`ErrorBody`] shape, never axum's plain-text answer.
macro_rules! rejection_to_api_error {
    ($($rejection:ty),+) => {$(
        impl From<$rejection> for ApiError {
            fn from(e: $rejection) -> Self {
                let status = match e.status() {
                    s if s.is_client_error() && s != StatusCode::UNSUPPORTED_MEDIA_TYPE
                        && s != StatusCode::UNPROCESSABLE_ENTITY => s,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError(status, "invalid_request", e.body_text())
            }
        }
    )+};
}
rejection_to_api_error!(JsonRejection, PathRejection, QueryRejection, BytesRejection);

/// `axum::Json`, rejecting with an [`ApiError`].
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path`, rejecting with an [`ApiError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query`, rejecting with an [`ApiError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

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
    async fn require(&self, app: &App, action: Action) -> Result<(), ApiError> {
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

/// What a handler needs to be allowed to do: one marker type per [`Action`] the API checks.
pub trait Permission {
    const ACTION: Action;
}

macro_rules! permissions {
    ($($name:ident),+) => {$(
        #[doc = concat!("The [`Action::", stringify!($name), "`] permission.")]
        pub struct $name;
        impl Permission for $name {
            const ACTION: Action = Action::$name;
        }
    )+};
}
permissions!(
    ViewServices,
    ManageServices,
    ViewPolicy,
    ManagePolicy,
    ViewAudit
);

/// An [`Admin`] whose roles allow `P` (else 403 `insufficient_scope`, audited).
pub struct Can<P>(pub Admin, PhantomData<P>);

impl<P: Permission + Send + Sync> FromRequestParts<App> for Can<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let admin = Admin::from_request_parts(parts, app).await?;
        admin
            .require(app, P::ACTION)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Can(admin, PhantomData))
    }
}

/// Parses a level name from a request.
fn parse_level(s: &str) -> Result<crate::assurance::Level, ApiError> {
    crate::assurance::Level::parse_name(s).ok_or_else(|| {
        ApiError::invalid(format!(
            "level: expected low, substantial or high, got `{s}`"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document names every route with its methods, has the bearer scheme, and every
    /// protected operation documents its error answers.
    #[test]
    fn document_describes_every_route() {
        let doc = serde_json::to_value(document()).unwrap();
        std::fs::write(
            "/tmp/console-doc.json",
            serde_json::to_string_pretty(&doc).unwrap(),
        )
        .unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if path != OPENAPI_PATH {
                    for status in ["401", "403"] {
                        assert!(
                            op["responses"][status].is_object(),
                            "{method} {path}: {status}"
                        );
                    }
                }
            }
        }
    }
}
