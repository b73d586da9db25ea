//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3).

use crate::{
    audit::Event,
    core::Core,
    oidc::{
        error::OAuthError,
        issue::{user_tokens, TokenResponse},
        params::Params,
    },
    secrets,
    store::{clients::Client, grants::Redeem},
};

pub async fn exchange(
    core: &Core,
    client: &Client,
    p: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = p.require("code")?;
    let t = core.now();
    // Bound to the authenticated client in the same statement: another client's code is
    // unknown here and stays usable by its own client.
    let record = match core
        .db
        .code_redeem(&secrets::hash_secret(code), &client.id, t)
        .await?
    {
        Redeem::Ok(r) => r,
        Redeem::Replayed {
            grant_id,
            client_id,
        } => {
            // RFC 6749 §4.1.2: a code used twice "SHOULD revoke (when possible) all tokens
            // previously issued based on that authorization code".
            return Err(super::replayed(
                core,
                client,
                &grant_id,
                &client_id,
                t,
                (
                    "code_replay",
                    Event::TokenCodeReplay,
                    "authorization code was already used; the tokens issued for it are revoked",
                ),
            )
            .await);
        }
        Redeem::NotFound => {
            return Err(OAuthError::invalid_grant(
                "authorization code is invalid or expired",
            ))
        }
    };
    if record.expires_at < t {
        return Err(OAuthError::invalid_grant("authorization code has expired"));
    }
    // OIDC Core §3.1.3.2: redirect_uri must be identical to the one in the authorization request.
    if p.get("redirect_uri") != Some(record.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&record.code_challenge, p.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            // RFC 7636 §4.1: 43–128 characters from the unreserved set.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed
                || !secrets::ct_eq(
                    secrets::pkce_s256(verifier).as_bytes(),
                    challenge.as_bytes(),
                )
            {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier is required (PKCE)",
            ))
        }
        // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent but no code_challenge was used",
            ))
        }
        (None, None) => {}
    }
    if !core.db.grant_active(&record.grant_id).await? {
        return Err(OAuthError::invalid_grant("the authorization was revoked"));
    }
    let account = core.db.account_get(&record.ctx.account_id).await?;
    if account.is_none_or(|a| a.disabled_at.is_some()) {
        return Err(OAuthError::invalid_grant("the account is disabled"));
    }
    user_tokens(
        core,
        client,
        &record.grant_id,
        &record.ctx,
        record.nonce.as_deref(),
        None,
    )
    .await
}
