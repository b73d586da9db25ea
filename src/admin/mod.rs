//! Administration: registering relying parties, managing accounts and the assurance policy.
//!
//! The CLI and (later) the admin HTTP API call these same functions, so validation and audit
//! happen in one place. Every change is audited with who did it, before and after.

pub mod api;

use serde_json::json;

use crate::{
    accounts::{self, AccountError, Hasher, NewAccount},
    assurance::{AcrVocabulary, Level},
    audit::{self, Actor, Entry, Event},
    store::{
        self,
        accounts::Account,
        clients::Client,
        types::{AuthMethod, GrantType, LoginMethod, SubjectType},
        Db,
    },
    tokens::Alg,
};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
}

/// A client registration request.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    pub id: String,
    pub name: Option<String>,
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub min_level: Option<Level>,
    /// `private_key_jwt` keys: an inline JWKS (JSON) or a URL.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_alg: Option<String>,
    pub acr_vocabulary: Option<String>,
    pub first_party: bool,
    /// A resource server that may introspect every client's tokens (`--introspect`).
    pub may_introspect: bool,
    /// A legacy confidential client that may omit PKCE (`--pkce-optional`).
    pub pkce_optional: bool,
    /// Back-Channel Logout 1.0 §2.2: where logout tokens go (https, or http on loopback).
    pub backchannel_logout_uri: Option<String>,
    /// §2.2: the relying party requires `sid` in logout tokens (Pforte always sends it).
    pub backchannel_logout_session_required: bool,
    /// May receive `verified_claims` (OpenID Connect for Identity Assurance).
    pub verified_claims: bool,
    /// `public` or `pairwise` (OIDC Core §8); `None`: public. The CLI and the admin API fill
    /// in the configured default (`tokens.default_subject_type`).
    pub subject_type: Option<String>,
    /// For a pairwise client whose redirect URIs are on more than one host: an https URL
    /// whose JSON array lists them all (OIDC Core §8.1); its host is the sector.
    pub sector_identifier_uri: Option<String>,
}

/// Checks a `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.2): an absolute https URL (or
/// http on a loopback host) without a fragment.
pub fn check_backchannel_uri(uri: &str) -> Result<(), String> {
    let u = url::Url::parse(uri)
        .map_err(|e| format!("backchannel_logout_uri `{uri}` is not an absolute URL ({e})"))?;
    if u.fragment().is_some() {
        return Err(format!(
            "backchannel_logout_uri `{uri}` must not contain a fragment"
        ));
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" if check_redirect_uri(uri).is_ok() => Ok(()),
        _ => Err(format!(
            "backchannel_logout_uri `{uri}`: expected https (plain http only on loopback hosts)"
        )),
    }
}

/// Checks a redirect URI: absolute, no fragment (RFC 6749 §3.1.2), https — or http on a
/// loopback host, or a private-use scheme for native apps (RFC 8252 §7).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let u = url::Url::parse(uri)
        .map_err(|e| format!("redirect URI `{uri}` is not an absolute URL ({e})"))?;
    if u.fragment().is_some() {
        return Err(format!("redirect URI `{uri}` must not contain a fragment"));
    }
    let loopback = matches!(u.host(), Some(url::Host::Domain("localhost")))
        || matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!("redirect URI `{uri}`: plain http is allowed only for loopback hosts")),
        s if s.contains('.') => Ok(()),
        s => Err(format!("redirect URI `{uri}`: scheme `{s}` is not allowed (https, loopback http, or a reverse-domain private scheme)")),
    }
}

pub async fn register_client(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    n: NewClient,
) -> Result<Client, AdminError> {
    let bad = |m: String| AdminError::Invalid(m);
    if !store::clients::is_valid_client_id(&n.id) {
        return Err(bad(
            "client id: 1–128 characters of letters, digits, `-`, `_`, `.`, `:`".into(),
        ));
    }
    let grant_types = if n.grant_types.is_empty() {
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    } else {
        n.grant_types
            .iter()
            .map(|g| {
                GrantType::parse(g).ok_or_else(|| {
                    bad(format!(
                        "grant type `{g}`: expected one of {}",
                        GrantType::ALL.map(GrantType::as_str).join(", ")
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let auth_method = match (&n.secret, &n.jwks, &n.jwks_uri) {
        (Some(_), None, None) => AuthMethod::ClientSecretBasic,
        (None, Some(_), None) | (None, None, Some(_)) => AuthMethod::PrivateKeyJwt,
        (None, None, None) => AuthMethod::None,
        _ => {
            return Err(bad(
                "give either a secret or keys (jwks / jwks_uri), not both".into(),
            ))
        }
    };
    if auth_method == AuthMethod::None && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(bad(
            "a public client (no secret, no keys) cannot use client_credentials".into(),
        ));
    }
    if auth_method == AuthMethod::None && n.pkce_optional {
        return Err(bad(
            "a public client must use PKCE (--pkce-optional is for legacy confidential clients)"
                .into(),
        ));
    }
    if let Some(s) = &n.secret {
        if s.len() < 8 || s.len() > 512 {
            return Err(bad("client secret: 8 to 512 characters".into()));
        }
    }
    if grant_types.contains(&GrantType::AuthorizationCode) && n.redirect_uris.is_empty() {
        return Err(bad(
            "at least one --redirect-uri is required for the authorization_code grant".into(),
        ));
    }
    for u in n.redirect_uris.iter().chain(&n.post_logout_redirect_uris) {
        check_redirect_uri(u).map_err(bad)?;
    }
    if let Some(j) = &n.jwks {
        let set: Result<jsonwebtoken::jwk::JwkSet, _> = serde_json::from_str(j);
        if set.map(|s| s.keys.is_empty()).unwrap_or(true) {
            return Err(bad(
                "jwks: expected a JSON Web Key Set with at least one key".into(),
            ));
        }
    }
    if let Some(u) = &n.jwks_uri {
        if !url::Url::parse(u)
            .is_ok_and(|u| u.scheme() == "https" || check_redirect_uri(u.as_str()).is_ok())
        {
            return Err(bad(format!("jwks_uri `{u}`: expected an https URL")));
        }
    }
    let scopes = if n.scopes.is_empty() {
        ["openid", "profile", "email", "address"]
            .map(String::from)
            .to_vec()
    } else {
        n.scopes.clone()
    };
    if let Some(s) = scopes.iter().find(|s| {
        s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    }) {
        return Err(bad(format!(
            "scope `{s}` is not a valid scope token (RFC 6749 §3.3)"
        )));
    }
    let id_alg = match &n.id_token_alg {
        None => Alg::RS256,
        Some(a) => Alg::parse(a).ok_or_else(|| {
            bad(format!(
                "ID token algorithm `{a}`: expected RS256, ES256 or EdDSA"
            ))
        })?,
    };
    let vocab = match &n.acr_vocabulary {
        None => AcrVocabulary::default(),
        Some(v) => AcrVocabulary::parse(v).ok_or_else(|| {
            bad(format!(
                "acr vocabulary `{v}`: expected eidas, bsi or stork"
            ))
        })?,
    };
    let backchannel = match &n.backchannel_logout_uri {
        Some(u) => {
            check_backchannel_uri(u).map_err(bad)?;
            Some(store::backchannel::Backchannel {
                logout_uri: u.clone(),
                session_required: n.backchannel_logout_session_required,
            })
        }
        None if n.backchannel_logout_session_required => {
            return Err(bad(
                "backchannel_logout_session_required needs a backchannel_logout_uri".into(),
            ))
        }
        None => None,
    };
    let subject_type = match &n.subject_type {
        None => SubjectType::Public,
        Some(t) => SubjectType::parse(t)
            .ok_or_else(|| bad(format!("subject type `{t}`: expected public or pairwise")))?,
    };
    if db.client_get(&n.id).await?.is_some() {
        return Err(bad(format!("client `{}` exists already", n.id)));
    }
    let sector_identifier =
        match subject_type {
            SubjectType::Public if n.sector_identifier_uri.is_some() => return Err(bad(
                "a sector identifier URI is only for pairwise subjects (--subject-type pairwise)"
                    .into(),
            )),
            SubjectType::Public => None,
            SubjectType::Pairwise => {
                Some(sector_of(&n.redirect_uris, n.sector_identifier_uri.as_deref()).await?)
            }
        };
    let secret_hash = match &n.secret {
        Some(s) => Some(
            hasher
                .hash(s.clone())
                .await
                .map_err(|e| AdminError::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    let client = Client {
        id: n.id.clone(),
        name: n.name.clone().unwrap_or_else(|| n.id.clone()),
        secret_hash,
        redirect_uris: n.redirect_uris.clone(),
        post_logout_redirect_uris: n.post_logout_redirect_uris.clone(),
        grant_types,
        scopes,
        token_endpoint_auth_method: auth_method,
        jwks: n.jwks.clone(),
        jwks_uri: n.jwks_uri.clone(),
        id_token_signed_response_alg: id_alg,
        acr_vocabulary: vocab,
        first_party: n.first_party,
        min_level: n.min_level,
        created_at: db.now(),
        disabled_at: None,
        login_methods: None,
        upstreams: None,
        may_introspect: n.may_introspect,
        pkce_optional: n.pkce_optional,
        verified_claims: n.verified_claims,
        subject_type,
        sector_identifier,
    };
    db.client_insert(&client).await.map_err(|e| {
        if store::is_unique_violation(&e) {
            AdminError::Invalid(format!("client `{}` exists already", n.id))
        } else {
            e.into()
        }
    })?;
    if let Some(b) = &backchannel {
        if let Err(e) = db.backchannel_set(&client.id, Some(b)).await {
            // No half-registered client: without its back-channel endpoint it would never
            // hear of a logout.
            let _ = db.client_delete(&client.id).await;
            return Err(e.into());
        }
    }
    audit::record(
        db,
        Entry::new(Event::ClientCreated, actor.clone())
            .subject(&client.id)
            .fields(json!({ "after": client, "backchannel": backchannel })),
    )
    .await?;
    Ok(client)
}

/// The sector of a pairwise client (OIDC Core §8.1): the host of its sector identifier URI,
/// which must list every redirect URI, or else the one host all its redirect URIs share.
pub async fn sector_of(
    redirect_uris: &[String],
    sector_identifier_uri: Option<&str>,
) -> Result<String, AdminError> {
    let bad = AdminError::Invalid;
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    let Some(uri) = sector_identifier_uri else {
        let mut hosts: Vec<Option<String>> = redirect_uris.iter().map(|u| host(u)).collect();
        hosts.dedup();
        return match hosts.as_slice() {
            [Some(h)] => Ok(h.clone()),
            [] => Err(bad("pairwise subjects need a redirect URI (its host is the sector)".into())),
            _ => Err(bad(
                "the redirect URIs are on more than one host (or have none): give a sector identifier URI listing them (OIDC Core §8.1)".into(),
            )),
        };
    };
    let u = url::Url::parse(uri).map_err(|e| bad(format!("sector identifier URI `{uri}`: {e}")))?;
    if u.scheme() != "https" && !(u.scheme() == "http" && check_redirect_uri(uri).is_ok()) {
        return Err(bad(format!(
            "sector identifier URI `{uri}`: expected an https URL"
        )));
    }
    let listed = fetch_uri_list(&u)
        .await
        .map_err(|e| bad(format!("sector identifier URI `{uri}`: {e}")))?;
    if let Some(missing) = redirect_uris.iter().find(|r| !listed.contains(r)) {
        return Err(bad(format!(
            "sector identifier URI `{uri}` does not list the redirect URI `{missing}`"
        )));
    }
    host(uri).ok_or_else(|| bad(format!("sector identifier URI `{uri}` has no host")))
}

/// GETs a JSON array of URIs (at most 64 KiB, 5 s, no redirects).
async fn fetch_uri_list(u: &url::Url) -> Result<Vec<String>, String> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut resp = http
        .get(u.clone())
        .send()
        .await
        .map_err(|e| format!("cannot fetch it ({e})"))?;
    if !resp.status().is_success() {
        return Err(format!("answered {}", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > 64 * 1024 {
            return Err("larger than 64 KiB".into());
        }
    }
    serde_json::from_slice(&body).map_err(|_| "expected a JSON array of URIs".into())
}

pub async fn remove_client(db: &Db, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let before = db
        .client_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
    db.client_delete(id).await?;
    audit::record(
        db,
        Entry::new(Event::ClientRemoved, actor.clone())
            .subject(id)
            .fields(json!({ "before": before })),
    )
    .await?;
    Ok(())
}

pub async fn add_account(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    new: NewAccount,
    min_password: usize,
) -> Result<Account, AdminError> {
    add_account_with_details(db, hasher, actor, new, Default::default(), min_password).await
}

/// [`add_account`] with birth date, address and phone number (`pforte account add`).
pub async fn add_account_with_details(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    new: NewAccount,
    details: accounts::details::DetailsInput,
    min_password: usize,
) -> Result<Account, AdminError> {
    let a = accounts::create_with_details(db, hasher, new, details, min_password).await?;
    audit::record(
        db,
        Entry::new(Event::AccountCreated, actor.clone())
            .subject(&a.id)
            .fields(json!({ "email": a.email })),
    )
    .await?;
    Ok(a)
}

async fn account_by_email(db: &Db, email: &str) -> Result<Account, AdminError> {
    let e = accounts::normalise_email(email)?;
    db.account_by_email(&e)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("account `{e}`")))
}

pub async fn disable_account(db: &Db, actor: &Actor, email: &str) -> Result<Account, AdminError> {
    let a = account_by_email(db, email).await?;
    db.account_disable(&a.id, db.now()).await?;
    // A disabled citizen is logged out everywhere, and the services are told.
    let ended = crate::sessions::end(
        db,
        crate::sessions::Scope::Account {
            account_id: &a.id,
            except: None,
        },
        crate::sessions::Reason::Admin,
    )
    .await?;
    audit::record(
        db,
        Entry::new(Event::AccountDisabled, actor.clone())
            .subject(&a.id)
            .fields(json!({ "email": a.email, "sessions_ended": ended.len() })),
    )
    .await?;
    Ok(a)
}

/// Records identity proofing (e.g. in person at the citizen office against the ID card).
pub async fn proof_account(
    db: &Db,
    actor: &Actor,
    email: &str,
    level: Level,
    evidence: &str,
) -> Result<Account, AdminError> {
    let evidence = evidence.trim();
    if evidence.is_empty() || evidence.len() > 1000 {
        return Err(AdminError::Invalid(
            "evidence: describe how the identity was verified (1–1000 characters)".into(),
        ));
    }
    let a = account_by_email(db, email).await?;
    // The identity attributes the staff checked become source `office` at this level, in the
    // same transaction as the proofing level (accounts::profile).
    let checked = accounts::profile::record_office(db, &a.id, level, evidence, db.now()).await?;
    let checked: Vec<&str> = checked.iter().map(|c| c.name.as_str()).collect();
    audit::record(
        db,
        Entry::new(Event::AccountProofed, actor.clone())
            .subject(&a.id)
            .fields(json!({ "before": a.proofing_level, "after": level, "evidence": evidence, "attributes": checked })),
    )
    .await?;
    Ok(a)
}

/// Allows or stops releasing `verified_claims` to a client (proofed personal data: the
/// admin decides per client).
pub async fn set_client_verified_claims(
    db: &Db,
    actor: &Actor,
    id: &str,
    allowed: bool,
) -> Result<(), AdminError> {
    let c = db
        .client_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
    db.client_set_verified_claims(id, allowed).await?;
    audit::record(
        db,
        Entry::new(Event::PolicyClientVerifiedClaims, actor.clone())
            .subject(id)
            .fields(json!({ "before": c.verified_claims, "after": allowed })),
    )
    .await?;
    Ok(())
}

pub async fn set_client_min_level(
    db: &Db,
    actor: &Actor,
    id: &str,
    level: Option<Level>,
) -> Result<(), AdminError> {
    let c = db
        .client_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
    db.client_set_min_level(id, level).await?;
    audit::record(
        db,
        Entry::new(Event::PolicyClientMinLevel, actor.clone())
            .subject(id)
            .fields(json!({ "before": c.min_level, "after": level })),
    )
    .await?;
    Ok(())
}

pub async fn set_scope_min_level(
    db: &Db,
    actor: &Actor,
    scope: &str,
    level: Option<Level>,
) -> Result<(), AdminError> {
    if scope.is_empty()
        || !scope
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(AdminError::Invalid(format!(
            "scope `{scope}` is not a valid scope token"
        )));
    }
    let before = db.policy_load().await?.scope_min.get(scope).copied();
    db.policy_set_scope_min(scope, level).await?;
    audit::record(
        db,
        Entry::new(Event::PolicyScopeMinLevel, actor.clone())
            .subject(scope)
            .fields(json!({ "before": before, "after": level })),
    )
    .await?;
    Ok(())
}

pub async fn set_level_max_age(
    db: &Db,
    actor: &Actor,
    level: Level,
    secs: u64,
) -> Result<(), AdminError> {
    if secs == 0 || secs > 366 * 24 * 3600 {
        return Err(AdminError::Invalid("max age: 1 second to 366 days".into()));
    }
    let before = db.policy_load().await?.max_age_of(level);
    db.policy_set_level_max_age(level, secs).await?;
    audit::record(
        db,
        Entry::new(Event::PolicyLevelMaxAge, actor.clone())
            .subject(level.as_str())
            .fields(json!({ "before": before, "after": secs })),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(check_redirect_uri("https://rp.example.de/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:9999/cb").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("de.example.app:/cb").is_ok());
        assert!(check_redirect_uri("http://rp.example.de/cb").is_err());
        assert!(check_redirect_uri("https://rp.example.de/cb#x").is_err());
        assert!(check_redirect_uri("/relative").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }
}

/// An upstream registration request (`pforte upstream add`).
#[derive(Clone, Debug, Default)]
pub struct NewUpstream {
    pub id: String,
    pub profile: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub max_level: Option<Level>,
    pub name: Option<String>,
    pub acr_map: std::collections::BTreeMap<String, String>,
}

/// Registers an upstream identity source; its secret is stored encrypted with the KEK.
pub async fn add_upstream(
    db: &Db,
    kek: &crate::tokens::keys::Kek,
    actor: &Actor,
    n: NewUpstream,
) -> Result<store::upstreams::Upstream, AdminError> {
    use crate::upstream::{check_acr_map, Profile};
    let bad = AdminError::Invalid;
    if n.id.is_empty()
        || n.id.len() > 64
        || !n
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad(
            "upstream id: 1–64 letters, digits, `-` or `_` (it is part of the callback URL)".into(),
        ));
    }
    let profile = Profile::parse(&n.profile).ok_or_else(|| {
        bad(format!(
            "profile `{}`: expected servicekonto-nrw, eid or oidc",
            n.profile
        ))
    })?;
    let issuer =
        url::Url::parse(&n.issuer).map_err(|e| bad(format!("issuer `{}`: {e}", n.issuer)))?;
    if issuer.scheme() != "https" && check_redirect_uri(issuer.as_str()).is_err() {
        return Err(bad(format!("issuer `{}`: expected an https URL", n.issuer)));
    }
    if n.client_id.is_empty() || n.client_id.len() > 256 {
        return Err(bad("client id at the upstream: 1–256 characters".into()));
    }
    if n.client_secret.is_empty() || n.client_secret.len() > 1024 {
        return Err(bad(
            "client secret at the upstream: 1–1024 characters".into()
        ));
    }
    let acr_map = check_acr_map(&n.acr_map).map_err(bad)?;
    if db.upstream_get(&n.id).await?.is_some() {
        return Err(bad(format!("upstream `{}` exists already", n.id)));
    }
    let secret = kek
        .seal(&format!("upstream|{}", n.id), n.client_secret.as_bytes())
        .map_err(|e| bad(e.to_string()))?;
    let u = store::upstreams::Upstream {
        id: n.id.clone(),
        name: n.name.clone().unwrap_or_else(|| n.id.clone()),
        profile: profile.as_str().into(),
        issuer: n.issuer.trim_end_matches('/').to_string(),
        client_id: n.client_id.clone(),
        client_secret: secret,
        max_level: n.max_level.unwrap_or(profile.default_max_level()),
        acr_map,
        created_at: db.now(),
        disabled_at: None,
    };
    db.upstream_insert(&u).await?;
    audit::record(
        db,
        Entry::new(Event::UpstreamAdded, actor.clone())
            .subject(&u.id)
            .fields(json!({ "after": u })),
    )
    .await?;
    Ok(u)
}

pub async fn remove_upstream(db: &Db, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let before = db
        .upstream_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("upstream `{id}`")))?;
    db.upstream_delete(id).await?;
    audit::record(
        db,
        Entry::new(Event::UpstreamRemoved, actor.clone())
            .subject(id)
            .fields(json!({ "before": before })),
    )
    .await?;
    Ok(())
}

/// Changes how far an upstream is trusted and how its acr values map to levels.
pub async fn set_upstream_trust(
    db: &Db,
    actor: &Actor,
    id: &str,
    max_level: Option<Level>,
    acr_map: Option<std::collections::BTreeMap<String, String>>,
) -> Result<(), AdminError> {
    let before = db
        .upstream_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("upstream `{id}`")))?;
    let map = match acr_map {
        Some(m) => crate::upstream::check_acr_map(&m).map_err(AdminError::Invalid)?,
        None => before.acr_map.clone(),
    };
    let level = max_level.unwrap_or(before.max_level);
    db.upstream_set_trust(id, level, &map).await?;
    audit::record(db, Entry::new(Event::PolicyUpstreamTrust, actor.clone()).subject(id).fields(json!({ "before": { "max_level": before.max_level, "acr_map": before.acr_map }, "after": { "max_level": level, "acr_map": map } })))
    .await?;
    Ok(())
}

/// Which local login methods and upstreams a client may offer (`None`: all).
pub async fn set_client_methods(
    db: &Db,
    actor: &Actor,
    id: &str,
    methods: Option<Vec<String>>,
    upstreams: Option<Vec<String>>,
) -> Result<(), AdminError> {
    let c = db
        .client_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))?;
    let methods = methods
        .map(|m| {
            m.iter()
                .map(|name| {
                    LoginMethod::parse(name).ok_or_else(|| {
                        AdminError::Invalid(format!(
                            "login method `{name}`: expected password, totp or passkey"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    if let Some(m) = &methods {
        if m.contains(&LoginMethod::Totp) && !m.contains(&LoginMethod::Password) {
            return Err(AdminError::Invalid(
                "login method `totp` is a second factor: list `password` with it".into(),
            ));
        }
    }
    for u in upstreams.iter().flatten() {
        if db.upstream_get(u).await?.is_none() {
            return Err(AdminError::NotFound(format!("upstream `{u}`")));
        }
    }
    db.client_set_methods(id, methods.as_deref(), upstreams.as_deref())
        .await?;
    audit::record(db, Entry::new(Event::PolicyClientMethods, actor.clone()).subject(id).fields(json!({ "before": { "login_methods": c.login_methods, "upstreams": c.upstreams }, "after": { "login_methods": methods, "upstreams": upstreams } })))
    .await?;
    Ok(())
}
