//! Upstream identity sources (Servicekonto NRW, the eID, any OpenID provider): registering,
//! editing, disabling, removing them and setting how far they are trusted. The CLI
//! (`pforte upstream …`), the admin API and the console's source pages call these functions,
//! so validation ([`check_upstream`]) and audit (before and after, never a secret) happen in
//! one place. The client secret at the upstream is stored sealed with the KEK.

use std::collections::BTreeMap;

use serde_json::json;

use super::{check_redirect_uri, AdminError};
use crate::{
    assurance::Level,
    audit::{self, Actor, Entry, Event},
    store::{upstreams::Upstream, Db},
    tokens::keys::Kek,
    upstream::{check_acr_map, Profile},
};

/// An upstream registration request (`pforte upstream add`, the API, the console's form).
#[derive(Clone, Debug, Default)]
pub struct NewUpstream {
    pub id: String,
    pub profile: String,
    pub issuer: String,
    pub client_id: String,
    /// On an edit, empty keeps the stored secret.
    pub client_secret: String,
    pub max_level: Option<Level>,
    pub name: Option<String>,
    pub acr_map: BTreeMap<String, String>,
    /// Scopes to ask for (empty: the profile's).
    pub scopes: Vec<String>,
    /// Upstream claim → Pforte attribute (empty: the profile's).
    pub claim_map: BTreeMap<String, String>,
    /// `client_secret_basic` (default), `client_secret_post` or `private_key_jwt`.
    pub auth_method: Option<String>,
    /// Read the userinfo endpoint after the token exchange.
    pub userinfo: bool,
    /// End the upstream session too at RP-initiated logout (when it offers end_session).
    pub end_session: bool,
}

/// Checks a registration and builds the row it describes, the secret sealed. `keep`: the
/// stored source an edit replaces (its id, creation time and disabled state stay, and an empty
/// secret keeps its secret).
pub fn check_upstream(
    kek: &Kek,
    n: &NewUpstream,
    keep: Option<&Upstream>,
    now: i64,
) -> Result<Upstream, AdminError> {
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
    if let Some(m) = &n.auth_method {
        if !crate::upstream::AUTH_METHODS.contains(&m.as_str()) {
            return Err(bad(format!(
                "auth method `{m}`: expected client_secret_basic, client_secret_post or private_key_jwt"
            )));
        }
    }
    let kept_secret = keep.filter(|_| n.client_secret.is_empty());
    let needs_secret = n.auth_method.as_deref() != Some("private_key_jwt") && kept_secret.is_none();
    if (needs_secret && n.client_secret.is_empty()) || n.client_secret.len() > 1024 {
        return Err(bad(
            "client secret at the upstream: 1–1024 characters".into()
        ));
    }
    for s in &n.scopes {
        if s.is_empty()
            || s.len() > 128
            || !s
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(bad(format!(
                "scope `{s}`: 1–128 printable characters without spaces"
            )));
        }
    }
    if let Some(name) = &n.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(bad("name: 1–200 characters".into()));
        }
    }
    let pairs: Vec<String> = n
        .claim_map
        .iter()
        .map(|(a, b)| format!("{a}={b}"))
        .collect();
    let claim_map = crate::upstream::parse_claim_map(&pairs).map_err(bad)?;
    let acr_map = check_acr_map(&n.acr_map).map_err(bad)?;
    let client_secret = match kept_secret {
        Some(k) => k.client_secret.clone(),
        None => kek
            .seal(&format!("upstream|{}", n.id), n.client_secret.as_bytes())
            .map_err(|e| bad(e.to_string()))?,
    };
    Ok(Upstream {
        id: n.id.clone(),
        name: n.name.clone().unwrap_or_else(|| n.id.clone()),
        profile: profile.as_str().into(),
        issuer: n.issuer.trim_end_matches('/').to_string(),
        client_id: n.client_id.clone(),
        client_secret,
        max_level: n.max_level.unwrap_or(profile.default_max_level()),
        acr_map,
        created_at: keep.map_or(now, |k| k.created_at),
        disabled_at: keep.and_then(|k| k.disabled_at),
        scopes: (!n.scopes.is_empty()).then(|| {
            let mut v = n.scopes.clone();
            if !v.iter().any(|s| s == "openid") {
                v.insert(0, "openid".into());
            }
            v
        }),
        claim_map: (!claim_map.is_empty()).then_some(claim_map),
        auth_method: n.auth_method.clone(),
        userinfo: n.userinfo,
        end_session: n.end_session,
    })
}

/// Registers an upstream identity source; its secret is stored encrypted with the KEK.
pub async fn add_upstream(
    db: &Db,
    kek: &Kek,
    actor: &Actor,
    n: NewUpstream,
) -> Result<Upstream, AdminError> {
    let u = check_upstream(kek, &n, None, db.now())?;
    if db.upstream_get(&n.id).await?.is_some() {
        return Err(AdminError::Invalid(format!(
            "upstream `{}` exists already",
            n.id
        )));
    }
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

/// The stored source `id`, or `NotFound`.
pub async fn upstream(db: &Db, id: &str) -> Result<Upstream, AdminError> {
    db.upstream_get(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("upstream `{id}`")))
}

/// Replaces a source's settings (the console's edit form); an empty secret keeps the stored
/// one. Audited with before and after (the secret shows in neither).
pub async fn update_upstream(
    db: &Db,
    kek: &Kek,
    actor: &Actor,
    n: NewUpstream,
) -> Result<Upstream, AdminError> {
    let before = upstream(db, &n.id).await?;
    let u = check_upstream(kek, &n, Some(&before), db.now())?;
    if !db.upstream_update(&u).await? {
        return Err(AdminError::NotFound(format!("upstream `{}`", n.id)));
    }
    let secret_changed = !n.client_secret.is_empty();
    audit::record(
        db,
        Entry::new(Event::UpstreamUpdated, actor.clone())
            .subject(&u.id)
            .fields(json!({ "before": before, "after": u, "secret_changed": secret_changed })),
    )
    .await?;
    Ok(u)
}

/// Disables a source (no login through it from the next request on) or enables it again.
pub async fn set_upstream_disabled(
    db: &Db,
    actor: &Actor,
    id: &str,
    disabled: bool,
) -> Result<(), AdminError> {
    let before = upstream(db, id).await?;
    if before.disabled_at.is_some() == disabled {
        return Err(AdminError::Invalid(format!(
            "upstream `{id}` is {} already",
            if disabled { "disabled" } else { "enabled" }
        )));
    }
    let after = Upstream {
        disabled_at: disabled.then(|| db.now()),
        ..before.clone()
    };
    db.upstream_update(&after).await?;
    audit::record(
        db,
        Entry::new(Event::UpstreamUpdated, actor.clone())
            .subject(id)
            .fields(json!({ "before": { "disabled_at": before.disabled_at }, "after": { "disabled_at": after.disabled_at } })),
    )
    .await?;
    Ok(())
}

pub async fn remove_upstream(db: &Db, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let before = upstream(db, id).await?;
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
    acr_map: Option<BTreeMap<String, String>>,
) -> Result<(), AdminError> {
    let before = upstream(db, id).await?;
    let map = match acr_map {
        Some(m) => check_acr_map(&m).map_err(AdminError::Invalid)?,
        None => before.acr_map.clone(),
    };
    let level = max_level.unwrap_or(before.max_level);
    db.upstream_set_trust(id, level, &map).await?;
    audit::record(db, Entry::new(Event::PolicyUpstreamTrust, actor.clone()).subject(id).fields(json!({ "before": { "max_level": before.max_level, "acr_map": before.acr_map }, "after": { "max_level": level, "acr_map": map } })))
    .await?;
    Ok(())
}
