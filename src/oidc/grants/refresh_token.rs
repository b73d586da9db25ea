//! `grant_type=refresh_token` (RFC 6749 §6) with rotation on every use and reuse detection
//! (RFC 9700 §4.14.2: a rotated token presented again revokes the whole family).

use crate::{
    assurance::Level,
    audit::Event,
    core::Core,
    oidc::{
        error::OAuthError,
        issue::{user_tokens, TokenResponse},
        params::{space_list, Params},
    },
    secrets,
    store::{
        accounts::Account,
        clients::Client,
        grants::{AuthContext, Redeem},
    },
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
            return Err(super::replayed(
                core,
                client,
                &grant_id,
                &client_id,
                t,
                (
                    "refresh_token_reuse",
                    Event::TokenRefreshReuse,
                    "refresh token was already used; the session's tokens are revoked",
                ),
            )
            .await);
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
    // An absolute lifetime per grant: rotation renews the token, not the login behind it.
    let created = core
        .db
        .grant_created_at(&record.grant_id)
        .await?
        .unwrap_or(0);
    if t - created >= core.config.tokens.refresh_absolute_ttl as i64 {
        return Err(OAuthError::invalid_grant(
            "the authorization has reached its maximum lifetime; the user must log in again",
        ));
    }
    let account = match core.db.account_get(&record.ctx.account_id).await? {
        Some(a) if a.disabled_at.is_none() => a,
        _ => return Err(OAuthError::invalid_grant("the account is disabled")),
    };
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
    ctx.acr = recheck_level(core, client, &account, &ctx).await?;
    user_tokens(core, client, &record.grant_id, &ctx, None, None).await
}

/// Every refresh checks the login's level again, against today's rules: the account's current
/// proofing caps it (a lowered proofing lowers the acr), and the client's minimum and the
/// minimums of the scopes (and claims) the tokens carry must still be met, or the refresh is
/// refused (`invalid_grant`: the client sends the citizen through a login, which steps up).
/// Returns the acr to issue, in the client's vocabulary.
async fn recheck_level(
    core: &Core,
    client: &Client,
    account: &Account,
    ctx: &AuthContext,
) -> Result<String, OAuthError> {
    let level = Level::from_acr(&ctx.acr).unwrap_or(Level::Low);
    let policy = core.db.policy_load().await?;
    let scopes = space_list(Some(&ctx.scope));
    let claim_scopes = crate::oidc::claims::scopes_of_requested(ctx.claims.as_deref());
    let required = policy.required_level(
        client.min_level,
        scopes.iter().map(String::as_str).chain(claim_scopes),
    );
    match refreshed_level(level, account.proofing_level, required) {
        None => Err(OAuthError::invalid_grant(format!(
            "the login's level is below what this service now requires ({required}); the user must log in again"
        ))),
        Some(l) if l < level => Ok(l.acr(client.acr_vocabulary).to_string()),
        Some(_) => Ok(ctx.acr.clone()),
    }
}

/// The level a refresh carries: the login's, capped by the account's current proofing;
/// `None` when that is below what is required now. Pure.
pub fn refreshed_level(granted: Level, proofing: Level, required: Level) -> Option<Level> {
    let capped = granted.min(proofing);
    (capped >= required).then_some(capped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowered_proofing_caps_or_refuses() {
        use Level::*;
        assert_eq!(
            refreshed_level(Substantial, Substantial, Low),
            Some(Substantial)
        );
        // Proofing lowered to low: the acr drops with it …
        assert_eq!(refreshed_level(Substantial, Low, Low), Some(Low));
        // … and a service that needs substantial gets no token.
        assert_eq!(refreshed_level(Substantial, Low, Substantial), None);
        // A raised minimum refuses an old low login.
        assert_eq!(refreshed_level(Low, High, Substantial), None);
        // Proofing never raises a login.
        assert_eq!(refreshed_level(Low, High, Low), Some(Low));
    }
}
