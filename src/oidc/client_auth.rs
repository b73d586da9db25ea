//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! OIDC Core §9): client_secret_basic, client_secret_post, private_key_jwt (RFC 7523), and
//! `none` for public clients.

use base64::{engine::general_purpose::STANDARD, Engine};

use super::{error::OAuthError, params::Params};
use crate::{
    audit::{self, Actor, Entry, Event},
    core::{
        caches::{JWKS_FAILURE_BACKOFF, JWKS_MAX_BYTES, JWKS_MIN_REFRESH, JWKS_TTL},
        Core,
    },
    store::{clients::Client, types::AuthMethod},
};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest lifetime we accept for a client assertion.
const MAX_ASSERTION_LIFETIME: i64 = 300;

/// The client credentials a request carried.
pub(crate) enum Presented<'a> {
    Basic { id: String, secret: String },
    Post { id: &'a str, secret: &'a str },
    Assertion { id: Option<&'a str>, jwt: &'a str },
    None { id: &'a str },
}

/// Authenticates the client of a token, introspection or revocation request.
pub async fn authenticate(
    core: &Core,
    authorization: Option<&str>,
    p: &Params,
) -> Result<Client, OAuthError> {
    let presented = presented(authorization, p)?;
    let used_basic = matches!(presented, Presented::Basic { .. });
    let fail = |msg: &str| OAuthError::invalid_client(msg.to_string(), used_basic);
    let claimed_id = match &presented {
        Presented::Basic { id, .. } => Some(id.as_str()),
        Presented::Post { id, .. } | Presented::None { id } => Some(*id),
        Presented::Assertion { id, .. } => *id,
    };
    let assertion_sub = match &presented {
        Presented::Assertion { jwt, .. } => {
            Some(assertion_subject(jwt).ok_or_else(|| fail("malformed client_assertion"))?)
        }
        _ => None,
    };
    let id = claimed_id
        .map(str::to_string)
        .or(assertion_sub.clone())
        .ok_or_else(|| fail("client_id missing"))?;
    if let (Some(claimed), Some(sub)) = (claimed_id, &assertion_sub) {
        if claimed != sub {
            return Err(fail("client_id does not match the assertion's subject"));
        }
    }
    let client = core
        .clients
        .get(&core.db, &id)
        .await?
        .filter(Client::is_enabled)
        .ok_or_else(|| fail("unknown client"))?;
    let method = match &presented {
        Presented::Basic { .. } => AuthMethod::ClientSecretBasic,
        Presented::Post { .. } => AuthMethod::ClientSecretPost,
        Presented::Assertion { .. } => AuthMethod::PrivateKeyJwt,
        Presented::None { .. } => AuthMethod::None,
    };
    // A client registered with a secret may send it either way (RFC 6749 §2.3.1 allows both;
    // Basic is the one servers MUST support).
    let secret_methods = [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost];
    let compatible = method == client.token_endpoint_auth_method
        || (secret_methods.contains(&method)
            && secret_methods.contains(&client.token_endpoint_auth_method));
    if !compatible {
        return Err(fail(&format!(
            "this client must authenticate with {}, not {method}",
            client.token_endpoint_auth_method
        )));
    }
    match presented {
        Presented::Basic { secret, .. } => check_secret(core, &client, &secret, used_basic).await?,
        Presented::Post { secret, .. } => check_secret(core, &client, secret, used_basic).await?,
        Presented::Assertion { jwt, .. } => check_assertion(core, &client, jwt).await?,
        Presented::None { .. } => {}
    }
    Ok(client)
}

pub(crate) fn presented<'a>(
    authorization: Option<&str>,
    p: &'a Params,
) -> Result<Presented<'a>, OAuthError> {
    let basic = match authorization {
        Some(h) => Some(parse_basic(h).ok_or_else(|| {
            OAuthError::invalid_client(
                "malformed Authorization header (expected Basic credentials)",
                true,
            )
        })?),
        None => None,
    };
    let secret = p.get("client_secret");
    let assertion = p.get("client_assertion");
    // RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request.
    if [basic.is_some(), secret.is_some(), assertion.is_some()]
        .iter()
        .filter(|b| **b)
        .count()
        > 1
    {
        return Err(OAuthError::invalid_request(
            "more than one client authentication method used",
        ));
    }
    if let Some((id, secret)) = basic {
        if p.get("client_id").is_some_and(|c| c != id) {
            return Err(OAuthError::invalid_request(
                "client_id differs from the Authorization header",
            ));
        }
        return Ok(Presented::Basic { id, secret });
    }
    if let Some(jwt) = assertion {
        if p.get("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_request(format!(
                "client_assertion_type must be {ASSERTION_TYPE}"
            )));
        }
        return Ok(Presented::Assertion {
            id: p.get("client_id"),
            jwt,
        });
    }
    let id = p
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_client("client authentication is required", true))?;
    Ok(match secret {
        Some(secret) => Presented::Post { id, secret },
        None => Presented::None { id },
    })
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with `:` and base64-encoded.
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(value.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    let id = unescape(id)?;
    if id.is_empty() {
        return None;
    }
    Some((id, unescape(secret)?))
}

async fn check_secret(
    core: &Core,
    client: &Client,
    secret: &str,
    used_basic: bool,
) -> Result<(), OAuthError> {
    if core.secrets.check(client, secret) {
        return Ok(());
    }
    // The clients' own argon2 budget, not the citizens' (`Core::client_hasher`).
    let ok = core
        .client_hasher
        .verify(secret.to_string(), client.secret_hash.clone())
        .await
        .map_err(|_| OAuthError::temporarily_unavailable("too many requests; retry shortly"))?;
    if !ok {
        audit::record_or_log(
            &core.db,
            Entry::new(
                Event::ClientAuthFailed,
                Actor::Client(client.id.to_string()),
            )
            .subject(&client.id),
        )
        .await;
        return Err(OAuthError::invalid_client(
            "client authentication failed",
            used_basic,
        ));
    }
    core.secrets.remember(client, secret);
    Ok(())
}

/// The `sub` (= client id) of an assertion, read before verification to find the client.
pub(crate) fn assertion_subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("sub")?.as_str().map(str::to_string)
}

#[derive(serde::Deserialize)]
pub(crate) struct AssertionClaims {
    aud: serde_json::Value,
    iss: String,
    sub: String,
    exp: i64,
    jti: String,
    #[serde(default)]
    iat: Option<i64>,
}

/// RFC 7523 §3 and OIDC Core §9: iss = sub = client_id, aud is the issuer identifier, exp in the
/// near future, jti never seen before, signature by one of the client's registered keys.
async fn check_assertion(core: &Core, client: &Client, jwt: &str) -> Result<(), OAuthError> {
    let fail = |m: String| OAuthError::invalid_client(m, false);
    let header =
        jsonwebtoken::decode_header(jwt).map_err(|_| fail("malformed client_assertion".into()))?;
    use jsonwebtoken::Algorithm::*;
    if !matches!(
        header.alg,
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384 | EdDSA
    ) {
        return Err(fail(format!(
            "client_assertion algorithm {:?} is not allowed",
            header.alg
        )));
    }
    let key = client_key(core, client, header.kid.as_deref(), header.alg).await?;
    let issuer = &core.config.issuer;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    // The issuer identifier is the only accepted audience, as a single string (the OpenID
    // Foundation's 2025 advisory on audience injection in private_key_jwt, adopted by RFC
    // 7523bis): an endpoint URL, or an array that also names another server, could make an
    // assertion meant for one server count at another.
    v.set_audience(std::slice::from_ref(issuer));
    v.set_issuer(std::slice::from_ref(&client.id));
    v.sub = Some(client.id.clone());
    v.leeway = 5;
    v.required_spec_claims = ["exp", "iss", "sub", "aud"]
        .into_iter()
        .map(String::from)
        .collect();
    let claims = jsonwebtoken::decode::<AssertionClaims>(jwt, &key, &v)
        .map_err(|e| fail(format!("client_assertion rejected: {e}")))?
        .claims;
    if claims.aud.as_str() != Some(issuer.as_str()) {
        return Err(fail(format!(
            "client_assertion audience must be the issuer identifier `{issuer}` as a single string"
        )));
    }
    let now = core.now();
    if claims.iss != client.id || claims.sub != client.id {
        return Err(fail(
            "client_assertion iss and sub must be the client_id".into(),
        ));
    }
    if claims.exp - now > MAX_ASSERTION_LIFETIME || claims.iat.is_some_and(|i| i > now + 5) {
        return Err(fail(format!("client_assertion must expire within {MAX_ASSERTION_LIFETIME} s and not be issued in the future")));
    }
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err(fail("client_assertion needs a jti".into()));
    }
    if !core
        .db
        .client_assertion_jti_record(&client.id, &claims.jti, claims.exp + 10)
        .await?
    {
        audit::record_or_log(
            &core.db,
            Entry::new(
                Event::ClientAssertionReplay,
                Actor::Client(client.id.to_string()),
            )
            .subject(&client.id),
        )
        .await;
        return Err(fail("client_assertion jti was already used".into()));
    }
    Ok(())
}

/// The client's verification key for `kid` from its inline JWKS or its `jwks_uri`.
async fn client_key(
    core: &Core,
    client: &Client,
    kid: Option<&str>,
    alg: jsonwebtoken::Algorithm,
) -> Result<jsonwebtoken::DecodingKey, OAuthError> {
    let fail = |m: &str| OAuthError::invalid_client(m.to_string(), false);
    let pick = |set: &jsonwebtoken::jwk::JwkSet| -> Option<jsonwebtoken::DecodingKey> {
        set.keys
            .iter()
            .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
            .filter(|k| {
                k.common
                    .key_algorithm
                    .is_none_or(|a| format!("{a:?}") == format!("{alg:?}"))
            })
            .find_map(|k| jsonwebtoken::DecodingKey::from_jwk(k).ok())
    };
    if let Some(inline) = &client.jwks {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(inline)
            .map_err(|_| fail("the client's registered JWKS is invalid"))?;
        return pick(&set).ok_or_else(|| fail("no registered key matches the assertion's kid"));
    }
    let uri = client
        .jwks_uri
        .as_deref()
        .ok_or_else(|| fail("the client has no keys registered for private_key_jwt"))?;
    let cached = {
        let sets = core
            .client_jwks
            .sets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        sets.get(&client.id).cloned()
    };
    let now = core.clock.now();
    if let Some((at, set)) = &cached {
        let age = now - at;
        if age < JWKS_TTL {
            if let Some(k) = pick(set) {
                return Ok(k);
            }
            if age < JWKS_MIN_REFRESH {
                return Err(fail(
                    "no key in the client's JWKS matches the assertion's kid",
                ));
            }
        }
    }
    // One fetch at a time per client; whoever waited uses a set fetched meanwhile.
    let flight = core.client_jwks.flight(&client.id);
    let _guard = flight.lock().await;
    let now = core.clock.now();
    let fresh = {
        let sets = core
            .client_jwks
            .sets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        sets.get(&client.id)
            .filter(|(at, _)| cached.as_ref().is_none_or(|(old, _)| at > old))
            .cloned()
    };
    if let Some((_, set)) = fresh {
        return pick(&set)
            .ok_or_else(|| fail("no key in the client's JWKS matches the assertion's kid"));
    }
    // A recent failure is remembered: no new request before the back-off has passed.
    let failed = core
        .client_jwks
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&client.id)
        .filter(|(at, _)| now - at < JWKS_FAILURE_BACKOFF)
        .cloned();
    if let Some((_, why)) = failed {
        return Err(fail(&format!(
            "cannot fetch the client's jwks_uri (recently failed: {why})"
        )));
    }
    let set = match fetch_jwks(core, uri).await {
        Ok(set) => set,
        Err(e) => {
            let mut failures = core
                .client_jwks
                .failures
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if failures.len() > 10_000 {
                failures.clear();
            }
            failures.insert(client.id.clone(), (now, e.clone()));
            return Err(fail(&format!("cannot fetch the client's jwks_uri: {e}")));
        }
    };
    core.client_jwks
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&client.id);
    let key = pick(&set);
    core.client_jwks
        .sets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(client.id.clone(), (core.clock.now(), set));
    key.ok_or_else(|| fail("no key in the client's JWKS matches the assertion's kid"))
}

async fn fetch_jwks(core: &Core, uri: &str) -> Result<jsonwebtoken::jwk::JwkSet, String> {
    let resp = core
        .http
        .get(uri)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    // Read in chunks and stop at the cap: a huge (or endless) body is never held whole.
    if resp
        .content_length()
        .is_some_and(|n| n > JWKS_MAX_BYTES as u64)
    {
        return Err("JWKS too large".into());
    }
    let mut resp = resp;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > JWKS_MAX_BYTES {
            return Err("JWKS too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let h = format!("Basic {}", STANDARD.encode("my%3Aclient:s%C3%A9cret+x"));
        assert_eq!(
            parse_basic(&h),
            Some(("my:client".into(), "sécret x".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(
            parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))),
            None
        );
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let p = Params::parse("client_id=a&client_secret=b").unwrap();
        let h = format!("Basic {}", STANDARD.encode("a:b"));
        assert!(matches!(presented(Some(&h), &p), Err(e) if e.error == "invalid_request"));
    }
}
