//! `grant_type=client_credentials` (RFC 6749 §4.4): the client acts for itself.

use crate::{
    core::Core,
    oidc::{
        error::OAuthError,
        issue::{access_token, TokenResponse},
        params::{space_list, Params},
    },
    store::clients::Client,
    tokens::claims::Grant,
};

pub async fn issue(core: &Core, client: &Client, p: &Params) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "public clients cannot use client_credentials",
        ));
    }
    let scopes = space_list(p.get("scope"));
    if let Some(s) = scopes
        .iter()
        .find(|s| *s == "openid" || *s == "offline_access" || !client.scopes.contains(s))
    {
        return Err(OAuthError::invalid_scope(format!(
            "scope `{s}` is not available to this client with client_credentials"
        )));
    }
    let scope = scopes.join(" ");
    let g = Grant {
        issuer: &core.config.issuer,
        client_id: &client.id,
        account_id: None,
        scope: &scope,
        auth_time: None,
        acr: None,
        amr: &[],
        sid: None,
    };
    let access_token = access_token(core, &g, None, None).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: core.config.tokens.access_token_ttl,
        refresh_token: None,
        id_token: None,
        scope,
    })
}
