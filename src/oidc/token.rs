//! The token endpoint (RFC 6749 §3.2): authenticate the client, dispatch on `grant_type`.

use super::{client_auth, error::OAuthError, grants, issue::TokenResponse, params::Params};
use crate::{core::Core, store::types::GrantType};

pub async fn token(
    core: &Core,
    authorization: Option<&str>,
    p: &Params,
) -> Result<TokenResponse, OAuthError> {
    let name = p.require("grant_type")?;
    let Some(grant_type) = GrantType::parse(name) else {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type `{}` is not supported",
            name.chars().take(80).collect::<String>()
        )));
    };
    let client = client_auth::authenticate(core, authorization, p).await?;
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {grant_type} grant"
        )));
    }
    let response = match grant_type {
        GrantType::AuthorizationCode => {
            grants::authorization_code::exchange(core, &client, p).await
        }
        GrantType::RefreshToken => grants::refresh_token::refresh(core, &client, p).await,
        GrantType::ClientCredentials => grants::client_credentials::issue(core, &client, p).await,
    }?;
    if let Some(grant) = crate::metrics::Grant::parse(grant_type.as_str()) {
        core.metrics.token_issued(grant);
    }
    Ok(response)
}
