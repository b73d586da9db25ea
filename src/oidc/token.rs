//! The token endpoint (RFC 6749 §3.2): authenticate the client, dispatch on `grant_type`.

use super::{client_auth, error::OAuthError, grants, issue::TokenResponse, params::Params};
use crate::core::Core;

pub async fn token(
    core: &Core,
    authorization: Option<&str>,
    p: &Params,
) -> Result<TokenResponse, OAuthError> {
    let grant_type = p.require("grant_type")?;
    if !matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type `{}` is not supported",
            grant_type.chars().take(80).collect::<String>()
        )));
    }
    let client = client_auth::authenticate(core, authorization, p).await?;
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {grant_type} grant"
        )));
    }
    match grant_type {
        "authorization_code" => grants::authorization_code::exchange(core, &client, p).await,
        "refresh_token" => grants::refresh_token::refresh(core, &client, p).await,
        _ => grants::client_credentials::issue(core, &client, p).await,
    }
}
