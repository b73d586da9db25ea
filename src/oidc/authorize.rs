//! The authorization endpoint's decisions (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 7636).
//!
//! Three steps, each a plain function:
//! 1. [`resolve_client`]: client and redirect URI. A failure here is shown to the citizen as a
//!    page and never redirected (RFC 6749 §4.1.2.1: an unverified redirect URI is not used).
//! 2. [`validate`]: every other parameter. A failure is sent back to the client's redirect URI.
//! 3. [`decide`]: given the validated request, the SSO session, stored consent and policy, what
//!    happens next: log in, step up, ask consent, issue a code, or an error.

use serde::{Deserialize, Serialize};

use super::{
    error::OAuthError,
    params::{space_list, Params},
};
use crate::{
    assurance::{level::effective_level, policy::Policy, Level},
    store::{clients::Client, types::GrantType},
};

/// How the authorization response travels (OAuth 2.0 Multiple Response Types §2.1, Form Post).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A validated authorization request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// `sub` of a valid `id_token_hint`.
    pub id_token_hint_sub: Option<String>,
    /// Voluntary `acr_values`, in order of preference, as sent.
    pub acr_values: Vec<String>,
    /// Essential acr values from the `claims` parameter (`id_token.acr`).
    pub essential_acr: Vec<String>,
    /// The `claims` parameter (validated JSON).
    pub claims: Option<String>,
}

impl AuthRequest {
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
    pub fn has_prompt(&self, p: &str) -> bool {
        self.prompt.iter().any(|x| x == p)
    }
    /// The scopes the citizen consents to and whose minimum levels apply: the requested scopes
    /// and the scopes of the claims requested via `claims` (which [`validate`] restricted to the
    /// client's registered scopes).
    pub fn consent_scopes(&self) -> Vec<String> {
        let mut out = self.scopes.clone();
        for s in super::claims::scopes_of_requested(self.claims.as_deref()) {
            if !out.iter().any(|x| x == s) {
                out.push(s.to_string());
            }
        }
        out
    }
}

/// A failure that must not be redirected: shown as a page.
#[derive(Debug, PartialEq, Eq)]
pub struct PageError(pub OAuthError);

/// A failure to send to the client's redirect URI.
#[derive(Debug)]
pub struct RedirectError {
    pub error: OAuthError,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}

/// Step 1: the client and its exactly-matching registered redirect URI.
pub fn resolve_client(p: &Params, client: Option<&Client>) -> Result<String, PageError> {
    let page = |m: &str| PageError(OAuthError::invalid_request(m.to_string()));
    let client_id = p
        .get("client_id")
        .ok_or_else(|| page("client_id is missing"))?;
    let client = client
        .filter(|c| c.id == client_id && c.is_enabled())
        .ok_or_else(|| {
            PageError(OAuthError::invalid_request(format!(
                "unknown client `{}`",
                client_id.chars().take(64).collect::<String>()
            )))
        })?;
    // OIDC Core §3.1.2.1: redirect_uri is REQUIRED and must exactly match a registered value
    // (simple string comparison, RFC 6749 §3.1.2.3 / RFC 9700 §4.1.3).
    let redirect_uri = p
        .get("redirect_uri")
        .ok_or_else(|| page("redirect_uri is missing"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(page("redirect_uri is not registered for this client"));
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(PageError(OAuthError::unauthorized_client(
            "this client may not use the authorization code flow",
        )));
    }
    Ok(redirect_uri.to_string())
}

/// Known OIDC prompt values (OIDC Core §3.1.2.1).
const PROMPTS: &[&str] = &["none", "login", "consent", "select_account"];

/// Step 2: all other parameters. `id_token_hint_sub` is the `sub` of the hint if the caller
/// verified one (`Err` if a hint was sent but did not verify).
pub fn validate(
    p: &Params,
    client: &Client,
    redirect_uri: String,
    id_token_hint_sub: Result<Option<String>, String>,
) -> Result<AuthRequest, Box<RedirectError>> {
    let state = p.get("state").map(str::to_string);
    let response_mode = match p.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(other) => Err(other.to_string()),
    };
    let fail = |error: OAuthError, mode: ResponseMode| {
        Box::new(RedirectError {
            error,
            redirect_uri: redirect_uri.clone(),
            response_mode: mode,
            state: state.clone(),
        })
    };
    let mode = match response_mode {
        Ok(m) => m,
        Err(other) => {
            return Err(fail(
                OAuthError::invalid_request(format!(
                    "response_mode `{other}` is not supported (query, form_post)"
                )),
                ResponseMode::Query,
            ))
        }
    };
    let bad = |e: OAuthError| fail(e, mode);

    if p.get("request").is_some() {
        return Err(bad(OAuthError::request_not_supported(
            "request objects are not supported",
        )));
    }
    if p.get("request_uri").is_some() {
        return Err(bad(OAuthError::request_uri_not_supported(
            "request_uri is not supported",
        )));
    }
    match p.get("response_type") {
        None => return Err(bad(OAuthError::invalid_request("response_type is missing"))),
        Some("code") => {}
        Some(other) => {
            return Err(bad(OAuthError::unsupported_response_type(format!(
                "response_type `{other}` is not supported; use `code`"
            ))))
        }
    }
    let scopes = space_list(p.get("scope"));
    if !scopes.iter().any(|s| s == "openid") {
        return Err(bad(OAuthError::invalid_scope(
            "scope must include `openid`",
        )));
    }
    // The client's registered scope list is the authority (`client add --scope`).
    if let Some(s) = scopes
        .iter()
        .find(|s| *s != "openid" && !client.scopes.contains(s))
    {
        return Err(bad(OAuthError::invalid_scope(format!(
            "scope `{s}` is not allowed for this client"
        ))));
    }
    if scopes.iter().any(|s| s == "offline_access") && !client.allows_grant(GrantType::RefreshToken)
    {
        return Err(bad(OAuthError::invalid_scope(
            "offline_access needs the refresh_token grant",
        )));
    }

    // PKCE (RFC 7636): S256 only.
    let code_challenge = p.get("code_challenge").map(str::to_string);
    let method = p.get("code_challenge_method");
    let code_challenge_method = match (&code_challenge, method) {
        // RFC 9700 §2.1.1: PKCE for every client; only a legacy confidential client the admin
        // marked `--pkce-optional` may leave it out.
        (None, None) if client.is_public() || !client.pkce_optional => {
            return Err(bad(OAuthError::invalid_request(
                "code_challenge is required (PKCE, S256)",
            )))
        }
        (None, None) => None,
        (None, Some(_)) => {
            return Err(bad(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            )))
        }
        (Some(_), None) | (Some(_), Some("plain")) => {
            return Err(bad(OAuthError::invalid_request(
                "code_challenge_method must be S256 (plain is not allowed)",
            )))
        }
        (Some(c), Some("S256")) => {
            // RFC 7636 §4.2: base64url(SHA-256) is exactly 43 characters.
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(bad(OAuthError::invalid_request(
                    "code_challenge must be a base64url SHA-256 value (43 characters)",
                )));
            }
            Some("S256".to_string())
        }
        (Some(_), Some(other)) => {
            return Err(bad(OAuthError::invalid_request(format!(
                "code_challenge_method `{other}` is not supported"
            ))))
        }
    };

    let prompt = space_list(p.get("prompt"));
    if let Some(u) = prompt.iter().find(|x| !PROMPTS.contains(&x.as_str())) {
        return Err(bad(OAuthError::invalid_request(format!(
            "prompt `{u}` is not supported"
        ))));
    }
    if prompt.iter().any(|x| x == "none") && prompt.len() > 1 {
        // OIDC Core §3.1.2.1: none with any other value is an error.
        return Err(bad(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        )));
    }
    let max_age = match p.get("max_age") {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            bad(OAuthError::invalid_request(
                "max_age must be a non-negative integer",
            ))
        })?),
    };
    let nonce = p.get("nonce").map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > 512)
        || state.as_ref().is_some_and(|s| s.len() > 2048)
    {
        return Err(bad(OAuthError::invalid_request(
            "nonce or state is too long",
        )));
    }
    // Everything stored with the parked request is bounded (an anonymous request is stored
    // before anyone logged in): see the `MAX_*` constants.
    if p.get("ui_locales")
        .is_some_and(|v| v.len() > MAX_UI_LOCALES)
        || p.get("acr_values")
            .is_some_and(|v| v.len() > MAX_ACR_VALUES)
        || p.get("claims").is_some_and(|v| v.len() > MAX_CLAIMS)
    {
        return Err(bad(OAuthError::invalid_request(
            "ui_locales, acr_values or claims is too long",
        )));
    }
    let claims = match p.get("claims") {
        None => None,
        Some(c) => {
            if json_depth(c) > MAX_CLAIMS_DEPTH {
                return Err(bad(OAuthError::invalid_request(
                    "claims is nested too deeply",
                )));
            }
            let v: serde_json::Value = serde_json::from_str(c)
                .map_err(|_| bad(OAuthError::invalid_request("claims is not valid JSON")))?;
            if !v.is_object()
                || v.as_object()
                    .is_some_and(|o| o.keys().any(|k| k != "id_token" && k != "userinfo"))
            {
                return Err(bad(OAuthError::invalid_request(
                    "claims must be an object with id_token and/or userinfo members",
                )));
            }
            // OpenID Connect for Identity Assurance 1.0: a malformed verified_claims request
            // is refused; one from a client not allowed them is left out like an unavailable
            // claim (OIDC Core §5.5).
            super::verified_claims::check_request(&v)
                .map_err(|e| bad(OAuthError::invalid_request(e)))?;
            let v = if client.verified_claims {
                v
            } else {
                super::verified_claims::strip(v)
            };
            // A claim of a scope the client is not registered for is left out (OIDC Core §5.5).
            let v = super::claims::restrict(v, |scope| client.scopes.iter().any(|s| s == scope));
            Some(v.to_string())
        }
    };
    let essential_acr = essential_acr(claims.as_deref());
    let id_token_hint_sub = id_token_hint_sub.map_err(|e| {
        bad(OAuthError::invalid_request(format!(
            "id_token_hint is invalid: {e}"
        )))
    })?;
    Ok(AuthRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        response_mode: mode,
        state: state.clone(),
        scopes,
        nonce,
        code_challenge,
        code_challenge_method,
        prompt,
        max_age,
        login_hint: p.get("login_hint").map(|s| s.chars().take(254).collect()),
        ui_locales: p.get("ui_locales").map(str::to_string),
        id_token_hint_sub,
        acr_values: space_list(p.get("acr_values")),
        essential_acr,
        claims,
    })
}

/// Longest `claims` parameter stored with a request (OIDC Core §5.5 requests are small).
pub const MAX_CLAIMS: usize = 4096;
/// Deepest nesting of `claims`: `{"id_token":{"acr":{"values":["…"]}}}` is 4; an Identity
/// Assurance request (`verified_claims` → `verification` → `evidence` → [ … ] → `document` →
/// `type` → `value`) reaches 9, so the bound leaves room for that and no more.
pub const MAX_CLAIMS_DEPTH: usize = 12;
/// Longest `ui_locales` and `acr_values`.
pub const MAX_UI_LOCALES: usize = 128;
pub const MAX_ACR_VALUES: usize = 512;

/// How deeply JSON text nests (brackets outside strings), counted without parsing, so that a
/// deeply nested value is refused before serde_json recurses into it.
pub fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// `claims.id_token.acr` when `essential: true`: its `value`/`values` (OIDC Core §5.5.1.1).
fn essential_acr(claims: Option<&str>) -> Vec<String> {
    let Some(v) = claims.and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok()) else {
        return vec![];
    };
    let acr = &v["id_token"]["acr"];
    if acr["essential"] != serde_json::Value::Bool(true) {
        return vec![];
    }
    let mut out: Vec<String> = acr["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    if let Some(one) = acr["value"].as_str() {
        out.insert(0, one.to_string());
    }
    out
}

/// The single sign-on session as the decision sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub account_id: String,
    pub auth_time: i64,
    /// The level the login reached (before ageing).
    pub level: Level,
}

/// What already happened while this request was pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// The citizen logged in (or stepped up) for this very request.
    pub logged_in: bool,
    /// The citizen answered the consent page for this very request.
    pub consented: bool,
    /// The citizen chose not to step up for this request: continue at the current level if
    /// the request allows it (voluntary acr_values), else fail.
    pub declined_step_up: bool,
}

/// What the authorization endpoint does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Show the login page.
    Login,
    /// The session is too weak: ask the citizen to reach `target` (a second factor or an
    /// identity source that yields it) in the same session.
    StepUp { target: Level },
    /// Ask for consent.
    Consent,
    /// Issue a code; the token carries `level` (what the session really has).
    Issue { level: Level },
    /// Send this error to the client.
    Error(OAuthError),
}

/// Inputs to [`decide`] besides the request.
pub struct Facts<'a> {
    pub client: &'a Client,
    pub session: Option<&'a SessionView>,
    /// Scopes the citizen already consented to for this client.
    pub consented_scopes: Option<&'a [String]>,
    pub policy: &'a Policy,
    /// The highest level this citizen could reach now (proofing × enrolled authenticators).
    pub reachable: Level,
    pub interaction: Interaction,
    pub now: i64,
}

/// Step 3: the decision. Pure.
pub fn decide(req: &AuthRequest, f: &Facts<'_>) -> Next {
    let none = req.has_prompt("none");
    let need_login = |why_none: &str| {
        if none {
            Next::Error(OAuthError::login_required(why_none.to_string()))
        } else {
            Next::Login
        }
    };
    let Some(s) = f.session else {
        return need_login("the citizen is not logged in");
    };
    if let Some(hint) = &req.id_token_hint_sub {
        if *hint != s.account_id {
            return need_login("id_token_hint names another citizen than the one logged in");
        }
    }
    let age = f.now.saturating_sub(s.auth_time).max(0) as u64;
    if !f.interaction.logged_in {
        if req.has_prompt("login") {
            return Next::Login;
        }
        if req.max_age.is_some_and(|m| age > m) {
            return need_login("the login is older than max_age");
        }
    }
    // A level counts only as long as its maximum age (policy); an old login is not silently
    // downgraded below what the request needs: the citizen is asked again.
    let Some(level) = effective_level(s.level, age, |l| f.policy.max_age_of(l)) else {
        return need_login("the login has expired");
    };

    // Levels the request needs: policy minimum (client, scopes and the scopes of requested
    // claims) and essential acr values.
    let scopes = req.consent_scopes();
    let client_min = f.client.min_level;
    let policy_min = f
        .policy
        .required_level(client_min, scopes.iter().map(String::as_str));
    let essential: Vec<Level> = req
        .essential_acr
        .iter()
        .filter_map(|a| Level::from_acr(a))
        .collect();
    // Essential values are alternatives: any one satisfies (OIDC Core §5.5.1.1).
    let essential_min = essential.iter().copied().min();
    let hard_min = essential_min.map_or(policy_min, |e| e.max(policy_min));
    if !req.essential_acr.is_empty() && essential.is_empty() {
        return Next::Error(OAuthError::unmet_authentication_requirements(
            "none of the essential acr values is supported",
        ));
    }
    if level < hard_min {
        if none || f.reachable < hard_min || f.interaction.declined_step_up {
            let which = if essential_min.is_some_and(|e| e >= policy_min) {
                "the essential acr"
            } else {
                "this service"
            };
            return Next::Error(OAuthError::unmet_authentication_requirements(format!(
                "{which} needs level {hard_min}, the login has {level}"
            )));
        }
        return Next::StepUp { target: hard_min };
    }
    // Voluntary acr_values in order of preference (OIDC Core §3.1.2.1): aim for the first one
    // the citizen can reach, falling back in order; never claim more than the session has.
    if !none && !f.interaction.declined_step_up {
        let preferred = req
            .acr_values
            .iter()
            .filter_map(|a| Level::from_acr(a))
            .find(|l| *l <= f.reachable);
        if let Some(target) = preferred {
            if level < target {
                return Next::StepUp { target };
            }
        }
    }

    let consent_covers = f
        .consented_scopes
        .is_some_and(|c| scopes.iter().all(|s| s == "openid" || c.contains(s)));
    let consent_needed = !f.client.first_party
        && (!consent_covers || (req.has_prompt("consent") && !f.interaction.consented));
    if consent_needed && !f.interaction.consented {
        return if none {
            Next::Error(OAuthError::consent_required(
                "the citizen has not consented to these scopes",
            ))
        } else {
            Next::Consent
        };
    }
    Next::Issue { level }
}

pub mod flow;

#[cfg(test)]
mod tests;
