//! The UserInfo endpoint (OIDC Core §5.3): claims for a valid, unrevoked access token.

use serde_json::{Map, Value};

use super::{claims, error::OAuthError};
use crate::{
    core::Core,
    store::grants::AccessState,
    tokens::{self, claims::AccessClaims},
};

/// Verifies a bearer access token against signature, expiry and the ledger.
/// Also returns the `claims` request parameter of the token's grant.
pub async fn verify_access_token(
    core: &Core,
    token: &str,
) -> Result<(AccessClaims, Option<String>), OAuthError> {
    let (c, claims, _) = verify_with_account(core, token).await?;
    Ok((c, claims))
}

/// [`verify_access_token`], also returning the account the token was issued for (from the
/// ledger: a pairwise `sub` is not the account id).
async fn verify_with_account(
    core: &Core,
    token: &str,
) -> Result<(AccessClaims, Option<String>, Option<String>), OAuthError> {
    let c: AccessClaims = tokens::verify_access(&core.keys, token, &core.config.issuer)
        .await
        .map_err(|e| OAuthError::invalid_token(format!("access token rejected: {e}")))?;
    match core.ledger.state(&c.jti).await? {
        AccessState::Active { claims, account_id } => Ok((c, claims, account_id)),
        AccessState::Revoked => Err(OAuthError::invalid_token("access token was revoked")),
        AccessState::Unknown => Err(OAuthError::invalid_token("access token is unknown")),
    }
}

pub async fn userinfo(core: &Core, bearer: &str) -> Result<Map<String, Value>, OAuthError> {
    let (at, claims_param, account_id) = verify_with_account(core, bearer).await?;
    let scopes: Vec<&str> = at.scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return Err(OAuthError::insufficient_scope(
            "the access token lacks the openid scope",
            "openid",
        ));
    }
    let account_id = account_id
        .ok_or_else(|| OAuthError::invalid_token("the access token is not for a citizen"))?;
    let account = core
        .db
        .account_get(&account_id)
        .await?
        .filter(|a| a.disabled_at.is_none())
        .ok_or_else(|| OAuthError::invalid_token("the account is not available"))?;
    let attrs = core.db.account_attributes(&account.id).await?;
    // Claims requested for userinfo via the `claims` parameter (OIDC Core §5.5) were stored
    // with the grant.
    let requested = claims::requested_names(claims_param.as_deref(), "userinfo");
    let mut out = claims::release(&account, &attrs, &scopes, &requested);
    let client = core.clients.get(&core.db, &at.client_id).await?;
    // OpenID Connect for Identity Assurance 1.0: only for a client still allowed them.
    if let Some(client) = &client {
        if let Some(v) = super::verified_claims::for_target(
            core,
            client,
            &account,
            &attrs,
            claims_param.as_deref(),
            "userinfo",
        )
        .await?
        {
            out.insert("verified_claims".into(), v);
        }
    }
    // The same sub as in the client's ID token (OIDC Core §5.3.2, §8).
    let sub = match &client {
        Some(c) => super::subject::for_client(core, c, &account.id),
        None => account.id.clone(),
    };
    out.insert("sub".into(), Value::String(sub));
    // The data cockpit: what this service received (under the account id, not the pairwise sub).
    let names: Vec<String> = out.keys().cloned().collect();
    super::issue::record_release(
        core,
        &account.id,
        &at.client_id,
        &names,
        at.acr.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(out)
}
