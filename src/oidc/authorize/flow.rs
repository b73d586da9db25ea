//! Running the authorization endpoint: accepting a request, and advancing a parked one.
//!
//! Owns the orchestration around the pure decision [`super::decide`]: which facts it needs and
//! where they come from (client, account, consent, enrolled methods filtered by the client's
//! method policy, the stored policy, the proofing cap on the session's level), and what an
//! `Issue` means (a stored, single-use code carrying the level in the client's vocabulary).
//! The web layer parks requests in the session and renders what this module answers; it makes
//! no protocol decision itself.

use super::{
    decide, resolve_client, validate, AuthRequest, Facts, Interaction, Next, PageError,
    ResponseMode, SessionView,
};
use crate::{
    accounts::{self, login::SsoLogin},
    assurance::{level, Level},
    core::Core,
    oidc::{error::OAuthError, params::Params},
    secrets,
    store::{
        clients::Client,
        grants::{AuthContext, CodeRecord},
    },
    tokens::{self, claims::IdClaims, Expect},
};

/// An authorization response (RFC 6749 §4.1.2 / §4.1.2.1) for a registered redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResponse {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub fields: Vec<(String, String)>,
}

impl AuthResponse {
    /// An error response: `error`, `error_description`, `state`, and `iss` (RFC 9207).
    pub fn error(
        redirect_uri: &str,
        mode: ResponseMode,
        e: &OAuthError,
        state: Option<&str>,
        issuer: &str,
    ) -> AuthResponse {
        let mut fields = vec![
            ("error".to_string(), e.error.to_string()),
            ("error_description".to_string(), e.error_description.clone()),
        ];
        if let Some(s) = state {
            fields.push(("state".into(), s.to_string()));
        }
        fields.push(("iss".into(), issuer.to_string()));
        AuthResponse {
            redirect_uri: redirect_uri.to_string(),
            mode,
            fields,
        }
    }

    /// An error response to `req`.
    pub fn error_for(req: &AuthRequest, e: &OAuthError, issuer: &str) -> AuthResponse {
        AuthResponse::error(
            &req.redirect_uri,
            req.response_mode,
            e,
            req.state.as_deref(),
            issuer,
        )
    }

    /// A successful response carrying `code` (and `state`, `iss`).
    fn code(req: &AuthRequest, code: String, issuer: &str) -> AuthResponse {
        let mut fields = vec![("code".to_string(), code)];
        if let Some(st) = &req.state {
            fields.push(("state".into(), st.clone()));
        }
        // RFC 9207: identify the issuer in the authorization response.
        fields.push(("iss".into(), issuer.to_string()));
        AuthResponse {
            redirect_uri: req.redirect_uri.clone(),
            mode: req.response_mode,
            fields,
        }
    }
}

/// Why a new request was not accepted.
#[derive(Debug)]
pub enum Refused {
    /// Shown to the citizen as a page, never redirected (unknown client, unregistered
    /// redirect URI: RFC 6749 §4.1.2.1).
    Page(OAuthError),
    /// Sent back to the client's registered redirect URI.
    Redirect(AuthResponse),
}

/// Validates a new authorization request (OIDC Core §3.1.2.2), including its `id_token_hint`.
pub async fn accept(core: &Core, p: &Params) -> Result<AuthRequest, Refused> {
    let client = match p.get("client_id") {
        Some(id) => core
            .db
            .client_get(id)
            .await
            .map_err(|e| Refused::Page(OAuthError::internal(e)))?,
        None => None,
    };
    let redirect_uri =
        resolve_client(p, client.as_ref()).map_err(|PageError(e)| Refused::Page(e))?;
    let Some(client) = client else {
        return Err(Refused::Page(OAuthError::invalid_request("unknown client")));
    };
    let hint = match p.get("id_token_hint") {
        None => Ok(None),
        Some(h) => {
            let expect = Expect {
                issuer: &core.config.issuer,
                typ: &["JWT"],
                check_exp: false,
            };
            match tokens::verify::<IdClaims>(&core.keys, h, &expect).await {
                Ok(c) if c.aud == client.id => Ok(Some(c.sub)),
                Ok(_) => Err("issued to another client".to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    validate(p, &client, redirect_uri, hint).map_err(|e| {
        Refused::Redirect(AuthResponse::error(
            &e.redirect_uri,
            e.response_mode,
            &e.error,
            e.state.as_deref(),
            &core.config.issuer,
        ))
    })
}

/// What the web layer does next with a parked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Show the login page.
    Login,
    /// Show the step-up page for `target`.
    StepUp { target: Level },
    /// Show the consent page.
    Consent,
    /// The request is finished: send this response (a code or an error) to the client.
    Respond(AuthResponse),
}

/// Runs the decision for a parked request with the session's `login` and carries it out: on
/// `Issue` a code is stored. `Err` is an error for a page (the client is gone, or storage
/// failed), never for the redirect URI.
pub async fn advance(
    core: &Core,
    req: &AuthRequest,
    interaction: Interaction,
    login: Option<&SsoLogin>,
) -> Result<Step, OAuthError> {
    let client = match core.db.client_get(&req.client_id).await {
        Ok(Some(c)) if c.is_enabled() => c,
        Ok(_) => {
            return Err(OAuthError::invalid_request(
                "the client is no longer registered",
            ))
        }
        Err(e) => return Err(OAuthError::internal(e)),
    };
    // A disabled account's session no longer counts.
    let account = match login {
        Some(l) => core
            .db
            .account_get(&l.account_id)
            .await
            .map_err(OAuthError::internal)?
            .filter(|a| a.disabled_at.is_none()),
        None => None,
    };
    let login = login.filter(|_| account.is_some());
    let consent = match login {
        Some(l) => core
            .db
            .consent_get(&l.account_id, &client.id)
            .await
            .map_err(OAuthError::internal)?
            .map(|c| c.scopes),
        None => None,
    };
    let reachable = match &account {
        Some(a) => {
            let creds = core
                .db
                .credentials_of(&a.id)
                .await
                .map_err(OAuthError::internal)?;
            let mut enrolled = accounts::enrolled_methods(a, &creds);
            // An account without a second factor can set one up on the step-up page.
            enrolled.extend(accounts::enrolable_on_step_up(&creds));
            enrolled.retain(|m| client.offers_method(m.policy_name()));
            accounts::reachable_level(a, &enrolled)
        }
        None => Level::Low,
    };
    // Read per decision: a policy change (CLI, another instance) applies to the very next request.
    let policy = core.db.policy_load().await.map_err(OAuthError::internal)?;
    // The session's level never exceeds what the account's proofing allows now (a proofing
    // lowered by an admin applies to live sessions at once).
    let proofing = account.as_ref().map_or(Level::Low, |a| a.proofing_level);
    let view = login.map(|l| SessionView {
        account_id: l.account_id.clone(),
        auth_time: l.auth_time,
        level: l.level.min(proofing),
    });
    // An id_token_hint names the citizen by the sub this client sees (pairwise or public);
    // the decision compares account ids.
    let mapped;
    let req = match (&req.id_token_hint_sub, login) {
        (Some(hint), Some(l))
            if *hint == super::super::subject::for_client(core, &client, &l.account_id) =>
        {
            mapped = AuthRequest {
                id_token_hint_sub: Some(l.account_id.clone()),
                ..req.clone()
            };
            &mapped
        }
        _ => req,
    };
    let next = decide(
        req,
        &Facts {
            client: &client,
            session: view.as_ref(),
            consented_scopes: consent.as_deref(),
            policy: &policy,
            reachable,
            interaction,
            now: core.now(),
        },
    );
    Ok(match next {
        Next::Login => Step::Login,
        Next::StepUp { target } => Step::StepUp { target },
        Next::Consent => Step::Consent,
        Next::Error(e) => Step::Respond(AuthResponse::error_for(req, &e, &core.config.issuer)),
        Next::Issue { level } => {
            let Some(login) = login else {
                return Err(OAuthError::internal("issue without login"));
            };
            let code = issue_code(core, req, &client, login, level).await?;
            Step::Respond(AuthResponse::code(req, code, &core.config.issuer))
        }
    })
}

/// Creates and stores a code for the request, carrying the login's level in the client's
/// vocabulary.
async fn issue_code(
    core: &Core,
    req: &AuthRequest,
    client: &Client,
    login: &SsoLogin,
    level: Level,
) -> Result<String, OAuthError> {
    let code = secrets::new_secret();
    let t = core.now();
    core.db
        .code_insert(&CodeRecord {
            code_hash: secrets::hash_secret(&code),
            grant_id: secrets::random_token(16),
            client_id: client.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            code_challenge_method: req.code_challenge_method.clone(),
            ctx: AuthContext {
                account_id: login.account_id.clone(),
                scope: req.scope_string(),
                claims: req.claims.clone(),
                auth_time: login.auth_time,
                acr: level.acr(client.acr_vocabulary).to_string(),
                amr: level::amr(&login.methods),
                sid: login.sid.clone(),
            },
            created_at: t,
            expires_at: t + core.config.tokens.code_ttl as i64,
        })
        .await?;
    // The session reached this service: logout tells it (back-channel logout).
    core.db.sso_session_client(&login.sid, &client.id).await?;
    Ok(code)
}
