//! OpenID Connect Back-Channel Logout 1.0: logout tokens and their durable delivery.
//!
//! Owns: the contents of a logout token ([`logout_claims`], pure), the retry schedule
//! ([`backoff`], [`MAX_ATTEMPTS`]) and one round of the delivery worker ([`deliver_due`]).
//! Deliveries are queued by `store::sso_sessions` in the transaction that ends a session
//! (`sessions::end`), one per service the session reached that registered a
//! `backchannel_logout_uri`; the worker of any instance claims due rows for a while
//! (`claimed_until`), so each row is sent by one instance at a time, and a claim whose instance
//! died is taken again after it runs out. A token is signed when it is sent (a fresh `jti`
//! and `iat` per attempt) with the client's ID token algorithm.

use std::time::Duration;

use serde::Serialize;

use crate::{
    core::Core,
    metrics::BackchannelOutcome,
    store::{backchannel::Delivery, StoreError},
};

/// The event member of a logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The `typ` header of a logout token (§2.4: "logout+jwt" RECOMMENDED).
pub const TYP: &str = "logout+jwt";
/// Lifetime of a logout token (§2.4 recommends at most two minutes).
pub const TOKEN_TTL: i64 = 120;
/// How long a claimed delivery is reserved for the instance that claimed it.
pub const CLAIM_SECS: i64 = 60;
/// Attempts before a delivery is abandoned (about 17 hours with [`backoff`]).
pub const MAX_ATTEMPTS: i64 = 25;
/// How long the relying party may take to answer one attempt.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Deliveries claimed at once.
const BATCH: i64 = 32;

/// A logout token's claims (§2.4): no `nonce`, `events` with the back-channel event, `sub`
/// and `sid`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogoutClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub events: serde_json::Value,
    pub sub: String,
    pub sid: String,
}

/// The claims of the logout token for `client_id` about the session `sid` of `sub`.
pub fn logout_claims(
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: &str,
    now: i64,
    jti: String,
) -> LogoutClaims {
    LogoutClaims {
        iss: issuer.into(),
        aud: client_id.into(),
        iat: now,
        exp: now + TOKEN_TTL,
        jti,
        events: serde_json::json!({ EVENT: {} }),
        sub: sub.into(),
        sid: sid.into(),
    }
}

/// Seconds until the next attempt after `attempts` failed ones: 5 s doubling, at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    let exp = attempts.clamp(0, 20) as u32;
    (5i64.saturating_mul(1i64 << exp)).min(3600)
}

/// What to record after a failed attempt (`attempts` counts the earlier ones): the time of the
/// next attempt, or `None` to abandon.
pub fn after_failure(attempts: i64, now: i64) -> Option<i64> {
    (attempts + 1 < MAX_ATTEMPTS).then(|| now + backoff(attempts))
}

/// One round of the worker: claims due deliveries for `holder`, sends them, records each
/// outcome, and updates the backlog gauge. Returns how many were attempted.
pub async fn deliver_due(core: &Core, holder: &str) -> Result<usize, StoreError> {
    let now = core.now();
    let batch = core
        .db
        .backchannel_claim(holder, now, now + CLAIM_SECS, BATCH)
        .await?;
    let n = batch.len();
    // Concurrently: a batch goes to different relying parties, one slow one must not hold up
    // the others past the claim.
    let mut sends = tokio::task::JoinSet::new();
    for d in batch {
        let (core, holder) = (core.clone(), holder.to_string());
        sends.spawn(async move { attempt(&core, &holder, d).await });
    }
    while let Some(r) = sends.join_next().await {
        match r {
            Ok(r) => r?,
            Err(e) => tracing::error!(error = %e, "back-channel delivery task failed"),
        }
    }
    core.metrics
        .backchannel_queue_depth(core.db.backchannel_backlog().await?);
    Ok(n)
}

async fn attempt(core: &Core, holder: &str, d: Delivery) -> Result<(), StoreError> {
    let now = core.now();
    let result = send(core, &d).await;
    let (outcome, retry_at, error) = match &result {
        Ok(()) => (BackchannelOutcome::Delivered, None, None),
        Err(e) => match after_failure(d.attempts, now) {
            Some(at) => (BackchannelOutcome::Retry, Some(at), Some(e.as_str())),
            None => (BackchannelOutcome::Abandoned, None, Some(e.as_str())),
        },
    };
    match &result {
        Ok(()) => tracing::info!(client = %d.client_id, "back-channel logout delivered"),
        Err(e) => tracing::warn!(
            client = %d.client_id,
            attempts = d.attempts + 1,
            error = %e,
            abandoned = retry_at.is_none(),
            "back-channel logout not delivered"
        ),
    }
    core.metrics.backchannel(outcome);
    core.db
        .backchannel_done(&d.id, holder, now, result.is_ok(), retry_at, error)
        .await
}

/// Signs and posts one logout token; `Err` says why it did not arrive (no secrets in it).
async fn send(core: &Core, d: &Delivery) -> Result<(), String> {
    let reg = core
        .db
        .backchannel_get(&d.client_id)
        .await
        .map_err(|e| format!("storage: {e}"))?
        .ok_or("the client no longer has a back-channel logout URI")?;
    let client = core
        .db
        .client_get(&d.client_id)
        .await
        .map_err(|e| format!("storage: {e}"))?
        .ok_or("the client no longer exists")?;
    // The `sub` this client knows (pairwise or public, as in its ID tokens).
    let sub = crate::oidc::subject::for_client(core, &client, &d.account_id);
    let claims = logout_claims(
        &core.config.issuer,
        &client.id,
        &sub,
        &d.sid,
        core.now(),
        crate::secrets::random_token(16),
    );
    let token = crate::tokens::sign(
        &core.keys,
        client.id_token_signed_response_alg,
        TYP,
        &claims,
    )
    .await
    .map_err(|e| format!("signing: {e}"))?;
    // §2.5: POST, application/x-www-form-urlencoded, `logout_token`.
    let resp = core
        .http
        .post(&reg.logout_uri)
        .timeout(REQUEST_TIMEOUT)
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    // §2.8: 200 on success (some frameworks answer 204).
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("the relying party answered {}", resp.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_token_claims_follow_section_2_4() {
        let c = logout_claims(
            "https://login.example",
            "rp",
            "acc-1",
            "sid-1",
            1000,
            "j".into(),
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["iss"], "https://login.example");
        assert_eq!(v["aud"], "rp");
        assert_eq!(v["sub"], "acc-1");
        assert_eq!(v["sid"], "sid-1");
        assert_eq!(
            v["exp"].as_i64().unwrap() - v["iat"].as_i64().unwrap(),
            TOKEN_TTL
        );
        assert_eq!(v["events"], serde_json::json!({ EVENT: {} }));
        assert!(
            v.get("nonce").is_none(),
            "§2.4: a logout token has no nonce"
        );
    }

    #[test]
    fn retries_back_off_and_end() {
        assert_eq!(backoff(0), 5);
        assert_eq!(backoff(1), 10);
        assert_eq!(backoff(4), 80);
        assert_eq!(backoff(30), 3600);
        assert_eq!(after_failure(0, 100), Some(105));
        assert_eq!(after_failure(MAX_ATTEMPTS - 1, 100), None);
        let total: i64 = (0..MAX_ATTEMPTS - 1).map(backoff).sum();
        assert!(
            total > 12 * 3600,
            "retried for at least half a day: {total}"
        );
    }
}
