//! Token introspection (RFC 7662) for authenticated clients.

use serde_json::{json, Value};

use super::{client_auth, error::OAuthError, params::Params, userinfo::verify_access_token};
use crate::{core::Core, secrets, store::clients::Client};

pub async fn introspect(
    core: &Core,
    authorization: Option<&str>,
    p: &Params,
) -> Result<Value, OAuthError> {
    let client = client_auth::authenticate(core, authorization, p).await?;
    // RFC 7662 §2.1: the caller must be authenticated; a bare public client_id is not
    // (discovery's introspection_endpoint_auth_methods_supported has no `none`).
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "introspection requires client authentication; public clients cannot introspect",
            true,
        ));
    }
    let token = p.require("token")?;
    let hint = p.get("token_type_hint");
    let inactive = json!({ "active": false });
    // RFC 7662 §2.2: a client learns only about its own tokens, unless the admin named it a
    // resource server (`--introspect`); anything else is answered as inactive.
    let as_access = || async {
        match verify_access_token(core, token).await {
            Ok((c, _)) if c.client_id != client.id && !client.may_introspect => None,
            Ok((c, _)) => Some(json!({
                "active": true,
                "token_type": "Bearer",
                "iss": c.iss, "sub": c.sub, "aud": c.aud, "client_id": c.client_id, "scope": c.scope,
                "exp": c.exp, "iat": c.iat, "jti": c.jti,
                "auth_time": c.auth_time, "acr": c.acr, "amr": c.amr,
            })),
            Err(_) => None,
        }
    };
    let as_refresh = || async { refresh_info(core, &client, token).await };
    let found = if hint == Some("refresh_token") {
        match as_refresh().await? {
            Some(v) => Some(v),
            None => as_access().await,
        }
    } else {
        match as_access().await {
            Some(v) => Some(v),
            None => as_refresh().await?,
        }
    };
    Ok(strip_nulls(found.unwrap_or(inactive)))
}

async fn refresh_info(
    core: &Core,
    client: &Client,
    token: &str,
) -> Result<Option<Value>, OAuthError> {
    let Some((r, unused)) = core.db.refresh_peek(&secrets::hash_secret(token)).await? else {
        return Ok(None);
    };
    // RFC 7662 §2.2: only the token's own client or a resource server the admin named.
    if !unused
        || (r.client_id != client.id && !client.may_introspect)
        || r.expires_at < core.now()
        || !core.db.grant_active(&r.grant_id).await?
    {
        return Ok(None);
    }
    // The sub the token's client sees (pairwise or public), as in its ID token.
    let sub = super::subject::for_client(core, client, &r.ctx.account_id);
    Ok(Some(json!({
        "active": true, "token_type": "refresh_token", "iss": core.config.issuer, "sub": sub,
        "client_id": r.client_id, "scope": r.ctx.scope, "exp": r.expires_at, "iat": r.created_at,
        "auth_time": r.ctx.auth_time, "acr": r.ctx.acr,
    })))
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}
