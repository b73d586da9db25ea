//! Administration: registering relying parties, managing accounts and the assurance policy.
//!
//! The CLI and (later) the admin HTTP API call these same functions, so validation and audit
//! happen in one place. Every change is audited with who did it, before and after.

pub mod api;
pub mod bulk;
pub mod console;
pub mod roles;
pub mod upstreams;

pub use upstreams::{add_upstream, remove_upstream, set_upstream_trust, NewUpstream};

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
    /// Bad rows of a bulk import, each with its position; nothing was applied.
    #[error("{} bad row(s), nothing applied: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Rows(Vec<bulk::RowError>),
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

/// The stored client `id`, or `NotFound`.
pub async fn client_of(db: &Db, id: &str) -> Result<Client, AdminError> {
    db.client_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{id}`")))
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

/// The back-channel logout endpoint a registration asks for, checked (Back-Channel Logout 1.0
/// §2.2); `None` when it names none.
pub fn backchannel_of(
    n: &NewClient,
) -> Result<Option<store::backchannel::Backchannel>, AdminError> {
    let bad = |m: String| AdminError::Invalid(format!("client `{}`: {m}", n.id));
    match &n.backchannel_logout_uri {
        Some(u) => {
            check_backchannel_uri(u).map_err(bad)?;
            Ok(Some(store::backchannel::Backchannel {
                logout_uri: u.clone(),
                session_required: n.backchannel_logout_session_required,
            }))
        }
        None if n.backchannel_logout_session_required => Err(bad(
            "backchannel_logout_session_required needs a backchannel_logout_uri".into(),
        )),
        None => Ok(None),
    }
}

/// Checks a registration and builds the client row it describes, without touching the
/// database and without the secret's hash (the caller hashes a given secret). The one set of
/// rules for `client add`, the API, the console and bulk import.
///
/// `keep`: the stored client being replaced (an edit or an import of an existing id). When the
/// request names no credential (no secret, no keys) and `keep` has one, that credential stays.
pub fn check_client(n: &NewClient, keep: Option<&Client>, now: i64) -> Result<Client, AdminError> {
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
    let kept = keep.filter(|_| n.secret.is_none() && n.jwks.is_none() && n.jwks_uri.is_none());
    let auth_method = match (&n.secret, &n.jwks, &n.jwks_uri) {
        _ if kept.is_some() => kept.map_or(AuthMethod::None, |k| k.token_endpoint_auth_method),
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
    if let Some(name) = &n.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(bad("name: 1–200 characters".into()));
        }
    }
    backchannel_of(n)?;
    let subject_type = match &n.subject_type {
        None => SubjectType::Public,
        Some(t) => SubjectType::parse(t)
            .ok_or_else(|| bad(format!("subject type `{t}`: expected public or pairwise")))?,
    };
    if subject_type == SubjectType::Public && n.sector_identifier_uri.is_some() {
        return Err(bad(
            "a sector identifier URI is only for pairwise subjects (--subject-type pairwise)"
                .into(),
        ));
    }
    Ok(Client {
        id: n.id.clone(),
        name: n.name.clone().unwrap_or_else(|| n.id.clone()),
        secret_hash: kept.and_then(|k| k.secret_hash.clone()),
        redirect_uris: n.redirect_uris.clone(),
        post_logout_redirect_uris: n.post_logout_redirect_uris.clone(),
        grant_types,
        scopes,
        token_endpoint_auth_method: auth_method,
        jwks: kept.map_or_else(|| n.jwks.clone(), |k| k.jwks.clone()),
        jwks_uri: kept.map_or_else(|| n.jwks_uri.clone(), |k| k.jwks_uri.clone()),
        id_token_signed_response_alg: id_alg,
        acr_vocabulary: vocab,
        first_party: n.first_party,
        min_level: n.min_level,
        created_at: keep.map_or(now, |k| k.created_at),
        disabled_at: keep.and_then(|k| k.disabled_at),
        login_methods: keep.and_then(|k| k.login_methods.clone()),
        upstreams: keep.and_then(|k| k.upstreams.clone()),
        // Settings no edit form carries stay as they are; a new client takes the request's.
        may_introspect: keep.map_or(n.may_introspect, |k| k.may_introspect),
        pkce_optional: keep.map_or(n.pkce_optional, |k| k.pkce_optional),
        verified_claims: n.verified_claims,
        subject_type,
        // Set by `with_sector` (it may fetch the sector identifier URI).
        sector_identifier: None,
    })
}

/// Completes a checked pairwise client with its sector (OIDC Core §8.1; may fetch the sector
/// identifier URI). A public client has none.
pub async fn with_sector(mut client: Client, n: &NewClient) -> Result<Client, AdminError> {
    client.sector_identifier = match client.subject_type {
        SubjectType::Public => None,
        SubjectType::Pairwise => {
            Some(sector_of(&n.redirect_uris, n.sector_identifier_uri.as_deref()).await?)
        }
    };
    Ok(client)
}

async fn hash_secret(
    hasher: &Hasher,
    secret: &Option<String>,
) -> Result<Option<String>, AdminError> {
    match secret {
        Some(s) => Ok(Some(
            hasher
                .hash(s.clone())
                .await
                .map_err(|e| AdminError::Invalid(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

pub async fn register_client(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    n: NewClient,
) -> Result<Client, AdminError> {
    let client = check_client(&n, None, db.now())?;
    let backchannel = backchannel_of(&n)?;
    if db.client_get(&n.id).await?.is_some() {
        return Err(AdminError::Invalid(format!(
            "client `{}` exists already",
            n.id
        )));
    }
    let mut client = with_sector(client, &n).await?;
    client.secret_hash = hash_secret(hasher, &n.secret).await?;
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

/// Replaces a client's settings (the console's edit form). A given secret replaces the stored
/// one; none keeps it. Its login methods, upstreams, creation time and disabled state stay.
pub async fn update_client(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    n: NewClient,
) -> Result<Client, AdminError> {
    let before = db
        .client_get(&n.id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("client `{}`", n.id)))?;
    let client = check_client(&n, Some(&before), db.now())?;
    let mut client = with_sector(client, &n).await?;
    if n.secret.is_some() {
        client.secret_hash = hash_secret(hasher, &n.secret).await?;
    }
    db.client_upsert_all(std::slice::from_ref(&client)).await?;
    audit::record(
        db,
        Entry::new(Event::ClientUpdated, actor.clone())
            .subject(&client.id)
            .fields(
                json!({ "before": before, "after": client, "secret_changed": n.secret.is_some() }),
            ),
    )
    .await?;
    Ok(client)
}

/// Gives a confidential client a new random secret and returns it: shown once, stored only as
/// its argon2id hash. The old secret stops working at once on this instance, on others within
/// the client cache's TTL (`core::caches::CLIENT_TTL`).
pub async fn rotate_client_secret(
    db: &Db,
    hasher: &Hasher,
    actor: &Actor,
    id: &str,
) -> Result<String, AdminError> {
    let c = client_of(db, id).await?;
    if c.secret_hash.is_none() {
        return Err(AdminError::Invalid(format!(
            "client `{id}` authenticates without a secret ({}): nothing to rotate",
            c.token_endpoint_auth_method
        )));
    }
    let secret = crate::secrets::new_secret();
    let hash = hash_secret(hasher, &Some(secret.clone())).await?;
    let updated = Client {
        secret_hash: hash,
        ..c.clone()
    };
    db.client_upsert_all(std::slice::from_ref(&updated)).await?;
    audit::record(
        db,
        Entry::new(Event::ClientSecretRotated, actor.clone()).subject(id),
    )
    .await?;
    Ok(secret)
}

/// Disables (`disabled = true`) or enables a client: a disabled client gets no new logins or
/// tokens. Nothing issued is deleted, so enabling it again restores it.
pub async fn set_client_disabled(
    db: &Db,
    actor: &Actor,
    id: &str,
    disabled: bool,
) -> Result<(), AdminError> {
    let c = client_of(db, id).await?;
    if c.disabled_at.is_some() == disabled {
        return Err(AdminError::Invalid(format!(
            "client `{id}` is {} already",
            if disabled { "disabled" } else { "enabled" }
        )));
    }
    let at = disabled.then(|| db.now());
    db.client_set_disabled(id, at).await?;
    audit::record(
        db,
        Entry::new(
            if disabled {
                Event::ClientDisabled
            } else {
                Event::ClientEnabled
            },
            actor.clone(),
        )
        .subject(id)
        .fields(
            json!({ "before": { "disabled_at": c.disabled_at }, "after": { "disabled_at": at } }),
        ),
    )
    .await?;
    Ok(())
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
    let before = client_of(db, id).await?;
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
    let c = client_of(db, id).await?;
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
    let c = client_of(db, id).await?;
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

/// Which local login methods and upstreams a client may offer (`None`: all).
pub async fn set_client_methods(
    db: &Db,
    actor: &Actor,
    id: &str,
    methods: Option<Vec<String>>,
    upstreams: Option<Vec<String>>,
) -> Result<(), AdminError> {
    let c = client_of(db, id).await?;
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

/// The account a staff command names, by e-mail address.
pub async fn staff_account(db: &Db, email: &str) -> Result<Account, AdminError> {
    account_by_email(db, email).await
}

/// Grants a staff role (`pforte admin grant`, the console's staff page). Granting a role the
/// account holds already changes nothing and is not audited again; returns whether it changed.
pub async fn grant_role(
    db: &Db,
    actor: &Actor,
    email: &str,
    role: roles::Role,
) -> Result<bool, AdminError> {
    let a = account_by_email(db, email).await?;
    let before = db.staff_roles_of(&a.id).await?;
    let changed = db
        .staff_grant(&a.id, role.as_str(), &actor.to_string())
        .await?;
    if changed {
        let after = db.staff_roles_of(&a.id).await?;
        audit::record(
            db,
            Entry::new(Event::StaffRoleGranted, actor.clone())
                .subject(&a.id)
                .fields(
                    json!({ "email": a.email, "role": role, "before": before, "after": after }),
                ),
        )
        .await?;
    }
    Ok(changed)
}

/// Revokes a staff role; effective at the account's next console request (roles are read per
/// request). Returns whether it changed; revoking a role not held is `NotFound`.
pub async fn revoke_role(
    db: &Db,
    actor: &Actor,
    email: &str,
    role: roles::Role,
) -> Result<(), AdminError> {
    let a = account_by_email(db, email).await?;
    let before = db.staff_roles_of(&a.id).await?;
    if !db.staff_revoke(&a.id, role.as_str()).await? {
        return Err(AdminError::NotFound(format!(
            "role `{role}` of `{}`",
            a.email
        )));
    }
    let after = db.staff_roles_of(&a.id).await?;
    audit::record(
        db,
        Entry::new(Event::StaffRoleRevoked, actor.clone())
            .subject(&a.id)
            .fields(json!({ "email": a.email, "role": role, "before": before, "after": after })),
    )
    .await?;
    Ok(())
}

/// The roles an account holds now (read per request by the console and the API).
pub async fn roles_of(db: &Db, account_id: &str) -> Result<Vec<roles::Role>, AdminError> {
    Ok(roles::parse_all(&db.staff_roles_of(account_id).await?))
}

async fn account_by_id(db: &Db, id: &str) -> Result<Account, AdminError> {
    db.account_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("account `{id}`")))
}

/// Locks an account by id (the console's help desk): as [`disable_account`].
pub async fn lock_account(db: &Db, actor: &Actor, id: &str) -> Result<Account, AdminError> {
    let a = account_by_id(db, id).await?;
    if a.disabled_at.is_some() {
        return Err(AdminError::Invalid(format!(
            "account `{}` is locked already",
            a.email
        )));
    }
    disable_account(db, actor, &a.email).await
}

/// Unlocks a locked account. Its grants stay revoked; the citizen logs in afresh.
pub async fn unlock_account(db: &Db, actor: &Actor, id: &str) -> Result<Account, AdminError> {
    let a = account_by_id(db, id).await?;
    if !db.account_enable(&a.id).await? {
        return Err(AdminError::Invalid(format!(
            "account `{}` is not locked",
            a.email
        )));
    }
    audit::record(
        db,
        Entry::new(Event::AccountEnabled, actor.clone())
            .subject(&a.id)
            .fields(json!({ "email": a.email, "before": { "disabled_at": a.disabled_at }, "after": { "disabled_at": null } })),
    )
    .await?;
    Ok(a)
}

/// Ends every live single sign-on session of an account (help desk: "log out everywhere").
pub async fn end_account_sessions(db: &Db, actor: &Actor, id: &str) -> Result<usize, AdminError> {
    let a = account_by_id(db, id).await?;
    let ended = crate::sessions::end(
        db,
        crate::sessions::Scope::Account {
            account_id: &a.id,
            except: None,
        },
        crate::sessions::Reason::Admin,
    )
    .await?;
    let sids: Vec<&str> = ended.iter().map(|e| e.sid.as_str()).collect();
    audit::record(
        db,
        Entry::new(Event::AccountSessionsEnded, actor.clone())
            .subject(&a.id)
            .fields(json!({ "email": a.email, "sessions_ended": sids.len(), "sids": sids })),
    )
    .await?;
    Ok(ended.len())
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
