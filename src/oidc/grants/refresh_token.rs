//! `grant_type=refresh_token` (RFC 6749 §6) with rotation on every use and reuse detection
//! (RFC 9700 §4.14.2: a rotated token presented again revokes the whole family).

use crate::{
    audit::{self, Actor, Entry, Event},
    core::Core,
    oidc::{
        error::OAuthError,
        issue::{user_tokens, TokenResponse},
        params::{space_list, Params},
    },
    secrets,
    store::{clients::Client, grants::Redeem},
};

pub async fn refresh(
    core: &Core,
    client: &Client,
    p: &Params,
) -> Result<TokenResponse, OAuthError> {
    let token = p.require("refresh_token")?;
    let t = core.now();
    let record = match core
        .db
        .refresh_redeem(&secrets::hash_secret(token), t)
        .await?
    {
        Redeem::Ok(r) => r,
        Redeem::Replayed {
            grant_id,
            client_id,
        } => {
            core.db
                .grant_revoke(&grant_id, "refresh_token_reuse", t)
                .await?;
            audit::record_or_log(
                &core.db,
                Entry::new(Event::TokenRefreshReuse, Actor::Client(client.id.clone()))
                    .subject(&grant_id)
                    .client(&client_id),
            )
            .await;
            return Err(OAuthError::invalid_grant(
                "refresh token was already used; the session's tokens are revoked",
            ));
        }
        Redeem::NotFound => {
            return Err(OAuthError::invalid_grant(
                "refresh token is invalid, expired or revoked",
            ))
        }
    };
    if record.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "refresh token was issued to another client",
        ));
    }
    if record.expires_at < t {
        return Err(OAuthError::invalid_grant("refresh token has expired"));
    }
    if !core.db.grant_active(&record.grant_id).await? {
        return Err(OAuthError::invalid_grant("the authorization was revoked"));
    }
    let account = core.db.account_get(&record.ctx.account_id).await?;
    if account.is_none_or(|a| a.disabled_at.is_some()) {
        return Err(OAuthError::invalid_grant("the account is disabled"));
    }
    let mut ctx = record.ctx.clone();
    // RFC 6749 §6: a narrower scope may be requested, never a wider one.
    if p.get("scope").is_some() {
        let granted = space_list(Some(&ctx.scope));
        let asked = space_list(p.get("scope"));
        if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
            return Err(OAuthError::invalid_scope(format!(
                "scope `{extra}` was not granted originally"
            )));
        }
        ctx.scope = asked.join(" ");
    }
    user_tokens(core, client, &record.grant_id, &ctx, None, None).await
}
