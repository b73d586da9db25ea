//! Token introspection (RFC 7662) for authenticated clients.

use serde::Serialize;

use super::{client_auth, error::OAuthError, params::Params, userinfo::verify_access_token};
use crate::{core::Core, secrets, store::clients::Client};

/// The introspection response (RFC 7662 §2.2): `active` always, the rest only for an active
/// token (a `None` field is left out). `scope` and `amr` are given as they are, even empty.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

pub async fn introspect(
    core: &Core,
    authorization: Option<&str>,
    p: &Params,
) -> Result<Introspection, OAuthError> {
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
    // RFC 7662 §2.2: a client learns only about its own tokens, unless the admin named it a
    // resource server (`--introspect`); anything else is answered as inactive. A token that
    // does not verify is not (or no longer) an access token; but when the server cannot tell
    // (the database unavailable: 503) it says so instead of calling the token inactive.
    let as_access = || async {
        match verify_access_token(core, token).await {
            Ok((c, _)) if c.client_id != client.id && !client.may_introspect => Ok(None),
            Ok((c, _)) => Ok(Some(Introspection {
                active: true,
                token_type: Some("Bearer"),
                iss: Some(c.iss),
                sub: Some(c.sub),
                aud: Some(c.aud),
                client_id: Some(c.client_id),
                scope: Some(c.scope),
                exp: Some(c.exp),
                iat: Some(c.iat),
                jti: Some(c.jti),
                auth_time: c.auth_time,
                acr: c.acr,
                amr: Some(c.amr),
            })),
            Err(e) if e.status >= 500 => Err(e),
            Err(_) => Ok(None),
        }
    };
    let as_refresh = || async { refresh_info(core, &client, token).await };
    let found = if hint == Some("refresh_token") {
        match as_refresh().await? {
            Some(v) => Some(v),
            None => as_access().await?,
        }
    } else {
        match as_access().await? {
            Some(v) => Some(v),
            None => as_refresh().await?,
        }
    };
    Ok(found.unwrap_or_default())
}

async fn refresh_info(
    core: &Core,
    client: &Client,
    token: &str,
) -> Result<Option<Introspection>, OAuthError> {
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
    Ok(Some(Introspection {
        active: true,
        token_type: Some("refresh_token"),
        iss: Some(core.config.issuer.clone()),
        sub: Some(sub),
        client_id: Some(r.client_id),
        scope: Some(r.ctx.scope),
        exp: Some(r.expires_at),
        iat: Some(r.created_at),
        auth_time: Some(r.ctx.auth_time),
        acr: Some(r.ctx.acr),
        ..Introspection::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inactive_answer_is_active_false_alone_and_an_active_one_leaves_out_what_is_unset() {
        let inactive = serde_json::to_value(Introspection::default()).unwrap();
        assert_eq!(inactive, serde_json::json!({ "active": false }));
        let active = Introspection {
            active: true,
            token_type: Some("Bearer"),
            scope: Some(String::new()),
            amr: Some(vec![]),
            ..Introspection::default()
        };
        assert_eq!(
            serde_json::to_value(active).unwrap(),
            serde_json::json!({ "active": true, "token_type": "Bearer", "scope": "", "amr": [] })
        );
    }
}
