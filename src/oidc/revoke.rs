//! Token revocation (RFC 7009) for authenticated clients.

use super::{client_auth, error::OAuthError, params::Params};
use crate::{
    audit::{self, Actor, Entry, Event},
    core::Core,
    secrets,
    tokens::{self, claims::AccessClaims, Expect},
};

/// Revokes a refresh token (with its whole grant: RFC 7009 §2.1 "SHOULD also invalidate all
/// access tokens based on the same authorization grant") or an access token. Unknown tokens
/// and tokens of other clients answer 200 as well (§2.2), without effect.
pub async fn revoke(
    core: &Core,
    authorization: Option<&str>,
    p: &Params,
) -> Result<(), OAuthError> {
    let client = client_auth::authenticate(core, authorization, p).await?;
    let token = p.require("token")?;
    if let Some(h) = p.get("token_type_hint") {
        if h != "access_token" && h != "refresh_token" {
            return Err(OAuthError::unsupported_token_type(format!(
                "token_type_hint `{}` is not supported",
                h.chars().take(40).collect::<String>()
            )));
        }
    }
    let t = core.now();
    if let Some((r, _)) = core.db.refresh_peek(&secrets::hash_secret(token)).await? {
        if r.client_id == client.id {
            core.db
                .grant_revoke(&r.grant_id, "revoked_by_client", t)
                .await?;
            audit::record_or_log(
                &core.db,
                Entry::new(Event::TokenRevoked, Actor::Client(client.id.clone()))
                    .subject(&r.grant_id)
                    .client(&client.id)
                    .with("type", "refresh_token"),
            )
            .await;
        }
        return Ok(());
    }
    // An access token: verified signature (even if expired) tells us its jti.
    let expect = Expect {
        issuer: &core.config.issuer,
        typ: tokens::ACCESS_TYPES,
        check_exp: false,
    };
    if let Ok(c) = tokens::verify::<AccessClaims>(&core.keys, token, &expect).await {
        if c.client_id == client.id && core.db.access_revoke(&c.jti, &client.id, t).await? {
            audit::record_or_log(
                &core.db,
                Entry::new(Event::TokenRevoked, Actor::Client(client.id.clone()))
                    .subject(&c.jti)
                    .client(&client.id)
                    .with("type", "access_token"),
            )
            .await;
        }
    }
    Ok(())
}
