//! Minting the tokens of a token response, shared by the grant types.

use serde::Serialize;

use super::error::OAuthError;
use crate::{
    core::Core,
    secrets,
    store::{
        clients::Client,
        grants::{AccessRecord, AuthContext, RefreshRecord},
        types::GrantType,
    },
    tokens::{self, claims, Alg},
};

/// RFC 6749 §5.1 successful token response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The access-token signing algorithm from configuration.
pub fn access_alg(core: &Core) -> Alg {
    Alg::parse(&core.config.tokens.access_token_alg).unwrap_or(Alg::ES256)
}

/// Signs and records an RFC 9068 access token.
pub async fn access_token(
    core: &Core,
    g: &claims::Grant<'_>,
    grant_id: Option<&str>,
    aud: Option<&str>,
) -> Result<String, OAuthError> {
    let t = core.now();
    let ttl = core.config.tokens.access_token_ttl as i64;
    // Time-ordered (milliseconds, then 96 random bits): ledger inserts append to the index
    // instead of landing at random pages, which halves the disk writes per token.
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let jti = format!("{millis:012x}{}", secrets::random_token(12));
    let mut c = claims::access_claims(g, aud, t, ttl, jti.clone());
    if let Some(account) = g.account_id {
        // The sub this client sees (pairwise or public, OIDC Core §8); the ledger keeps the
        // account id.
        c.sub = super::subject::for_client_id(core, g.client_id, account).await?;
    }
    let token = tokens::sign(&core.keys, access_alg(core), "at+jwt", &c).await?;
    core.ledger
        .record(AccessRecord {
            jti,
            grant_id: grant_id.map(str::to_string),
            client_id: g.client_id.to_string(),
            account_id: g.account_id.map(str::to_string),
            expires_at: t + ttl,
        })
        .await?;
    Ok(token)
}

/// Everything a user-bound token response needs (code exchange and refresh).
pub async fn user_tokens(
    core: &Core,
    client: &Client,
    grant_id: &str,
    ctx: &AuthContext,
    nonce: Option<&str>,
    aud: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let g = claims::Grant {
        issuer: &core.config.issuer,
        client_id: &client.id,
        account_id: Some(&ctx.account_id),
        scope: &ctx.scope,
        auth_time: Some(ctx.auth_time),
        acr: Some(&ctx.acr),
        amr: &ctx.amr,
        sid: Some(&ctx.sid),
    };
    let access_token = access_token(core, &g, Some(grant_id), aud).await?;
    let scopes: Vec<&str> = ctx.scope.split(' ').collect();
    // What the client receives here about the citizen (the data cockpit): the subject, and
    // the profile claims that go into the ID token.
    let mut released: Vec<String> = vec!["sub".into()];
    let id_token = if scopes.contains(&"openid") {
        let account = core
            .db
            .account_get(&ctx.account_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
        let attrs = core.db.account_attributes(&ctx.account_id).await?;
        // Profile claims go to the ID token only when requested there (OIDC Core §5.4: with a
        // code flow they are released from userinfo).
        let mut extra = super::claims::release(
            &account,
            &attrs,
            &[],
            &super::claims::requested_names(ctx.claims.as_deref(), "id_token"),
        );
        if let Some(v) = super::verified_claims::for_target(
            core,
            client,
            &account,
            &attrs,
            ctx.claims.as_deref(),
            "id_token",
        )
        .await?
        {
            extra.insert("verified_claims".into(), v);
        }
        released.extend(extra.keys().cloned());
        let alg = client.id_token_signed_response_alg;
        let mut c = claims::id_claims(
            &g,
            nonce,
            Some((&access_token, alg)),
            extra,
            core.now(),
            core.config.tokens.id_token_ttl as i64,
        );
        c.sub = super::subject::for_client(core, client, &ctx.account_id);
        Some(tokens::sign(&core.keys, alg, "JWT", &c).await?)
    } else {
        None
    };
    record_release(core, &ctx.account_id, &client.id, &released, &ctx.acr).await?;
    let refresh_token = if client.allows_grant(GrantType::RefreshToken) {
        let token = secrets::new_secret();
        let t = core.now();
        core.db
            .refresh_insert(&RefreshRecord {
                token_hash: secrets::hash_secret(&token),
                grant_id: grant_id.to_string(),
                client_id: client.id.clone(),
                ctx: ctx.clone(),
                created_at: t,
                expires_at: t + core.config.tokens.refresh_token_ttl as i64,
            })
            .await?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: core.config.tokens.access_token_ttl,
        refresh_token,
        id_token,
        scope: ctx.scope.clone(),
    })
}

/// Records in the data cockpit that `client_id` received `claims` about the account, at the
/// level of `acr` (the client's spelling). The one place the token and userinfo paths
/// write releases ([`crate::store::Db::release_record`]); a failed write fails the response,
/// so nothing is handed out that the citizen cannot see.
pub async fn record_release(
    core: &Core,
    account_id: &str,
    client_id: &str,
    claims: &[String],
    acr: &str,
) -> Result<(), OAuthError> {
    let level = crate::assurance::Level::from_acr(acr).unwrap_or(crate::assurance::Level::Low);
    let names: Vec<&str> = claims.iter().map(String::as_str).collect();
    core.db
        .release_record(account_id, client_id, &names, level)
        .await?;
    Ok(())
}
