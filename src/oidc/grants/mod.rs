//! One file per grant type (RFC 6749 §4), and what two of them share: the answer to a
//! replayed single-use secret.

use crate::{
    audit::{self, Actor, Entry, Event},
    core::Core,
    oidc::error::OAuthError,
    store::clients::Client,
};

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

/// A single-use secret (an authorization code, a rotated refresh token) presented again by
/// `client`: every token of its grant is revoked (`reason`), the replay is audited as
/// `event` (subject the grant, client the one it was issued to), and the answer is
/// `invalid_grant` saying so (`message`). `t` is the request's time.
pub(crate) async fn replayed(
    core: &Core,
    client: &Client,
    grant_id: &str,
    issued_to: &str,
    t: i64,
    (reason, event, message): (&str, Event, &'static str),
) -> OAuthError {
    if let Err(e) = core.db.grant_revoke(grant_id, reason, t).await {
        return e.into();
    }
    audit::record_or_log(
        &core.db,
        Entry::new(event, Actor::Client(client.id.clone()))
            .subject(grant_id)
            .client(issued_to),
    )
    .await;
    OAuthError::invalid_grant(message)
}

#[cfg(test)]
mod tests;
