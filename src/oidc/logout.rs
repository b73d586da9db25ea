//! RP-Initiated Logout 1.0: which client asks, and where the citizen may be sent afterwards.

use super::{error::OAuthError, params::Params};
use crate::{
    core::Core,
    tokens::{self, claims::IdClaims, Expect},
};

/// A validated logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub client_id: Option<String>,
    /// `sub` of a valid id_token_hint: the citizen the client believes is logged in.
    pub hinted_sub: Option<String>,
    /// Registered (exact match) post-logout redirect URI with `state` appended, if any.
    pub redirect: Option<String>,
    pub state: Option<String>,
}

pub async fn validate(core: &Core, p: &Params) -> Result<LogoutRequest, OAuthError> {
    let mut client_id = p.get("client_id").map(str::to_string);
    let mut hinted_sub = None;
    if let Some(hint) = p.get("id_token_hint") {
        // §2: the hint may be expired; it must be one we issued.
        let expect = Expect {
            issuer: &core.config.issuer,
            typ: &["JWT"],
            check_exp: false,
        };
        let c: IdClaims = tokens::verify(&core.keys, hint, &expect)
            .await
            .map_err(|e| OAuthError::invalid_request(format!("id_token_hint is invalid: {e}")))?;
        if client_id.as_ref().is_some_and(|id| *id != c.aud) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the id_token_hint's audience",
            ));
        }
        client_id = Some(c.aud);
        hinted_sub = Some(c.sub);
    }
    let state = p.get("state").map(str::to_string);
    let redirect = match p.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let id = client_id.as_deref().ok_or_else(|| {
                OAuthError::invalid_request(
                    "post_logout_redirect_uri needs id_token_hint or client_id",
                )
            })?;
            let client = core
                .db
                .client_get(id)
                .await?
                .ok_or_else(|| OAuthError::invalid_request("unknown client"))?;
            if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return Err(OAuthError::invalid_request(
                    "post_logout_redirect_uri is not registered for this client",
                ));
            }
            let mut url = url::Url::parse(uri).map_err(|_| {
                OAuthError::invalid_request("post_logout_redirect_uri is not a URL")
            })?;
            if let Some(s) = &state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };
    if let Some(id) = &client_id {
        if core.db.client_get(id).await?.is_none() {
            return Err(OAuthError::invalid_request("unknown client"));
        }
    }
    Ok(LogoutRequest {
        client_id,
        hinted_sub,
        redirect,
        state,
    })
}

/// Whether the request's `id_token_hint` names `account_id`, as the hint's client sees that
/// citizen (a pairwise `sub` is not the account id; `oidc::subject`).
pub async fn hint_names(
    core: &Core,
    req: &LogoutRequest,
    account_id: &str,
) -> Result<bool, OAuthError> {
    let (Some(hint), Some(client_id)) = (&req.hinted_sub, &req.client_id) else {
        return Ok(false);
    };
    Ok(*hint == super::subject::for_client_id(core, client_id, account_id).await?)
}
