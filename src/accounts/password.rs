//! Password hashing: argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), run off the
//! async runtime on a bounded set of blocking threads, so a login storm queues here instead of
//! stalling token requests, and an overload is refused rather than piling up memory.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use argon2::{
    password_hash::SaltString, Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher,
    PasswordVerifier, Version,
};
use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use tokio::sync::Semaphore;

use crate::metrics::Argon2Metrics;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks waiting; try again shortly")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB memory, 2 iterations, 1 lane.
pub fn argon2() -> Argon2<'static> {
    let params =
        Params::new(M_COST, T_COST, P_COST, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A bounded pool for argon2 work.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    dummy: Arc<String>,
    /// argon2's 19 MiB working memory, one buffer per slot, reused: allocating it per hash
    /// made the allocator keep hundreds of MB after a login storm.
    memory: Arc<std::sync::Mutex<Vec<Vec<Block>>>>,
    /// Queue depth and wait time (`pforte_argon2_*`).
    metrics: Argon2Metrics,
}

/// The OWASP parameters, as numbers for building and checking PHC strings.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

impl Hasher {
    pub fn new(concurrency: usize, max_waiting: usize) -> Hasher {
        // A real hash to verify against when an account does not exist, so that both cases
        // cost the same time (no account enumeration by timing).
        let salt = SaltString::encode_b64(b"pforte-dummy-salt").expect("valid salt");
        let dummy = argon2()
            .hash_password(b"no such account", &salt)
            .expect("hash")
            .to_string();
        Hasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
            dummy: Arc::new(dummy),
            memory: Arc::new(std::sync::Mutex::new(Vec::new())),
            metrics: Argon2Metrics::default(),
        }
    }

    /// Records queue depth and wait time into `metrics` (an `App`'s registry).
    pub fn with_metrics(mut self, metrics: Argon2Metrics) -> Hasher {
        self.metrics = metrics;
        self
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst)
            >= self.max_waiting + self.permits.available_permits()
        {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Busy);
        }
        let since = std::time::Instant::now();
        self.metrics.enqueued();
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        self.metrics.dequeued(since);
        let permit = permit.map_err(|e| HashError::Internal(e.to_string()))?;
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let mut blocks = memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_else(|| vec![Block::default(); M_COST as usize]);
            let out = f(&mut blocks);
            memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(blocks);
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Internal(e.to_string()))
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move |blocks| {
            let mut salt = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
            let mut out = [0u8; 32];
            argon2()
                .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
                .map_err(|e| HashError::Internal(e.to_string()))?;
            // PHC string format, as argon2's own `hash_password` writes it.
            Ok(format!(
                "$argon2id$v=19$m={M_COST},t={T_COST},p={P_COST}${}${}",
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(out)
            ))
        })
        .await?
    }

    /// Checks a password against a stored hash; with `None` it checks against a dummy hash
    /// and answers false, taking the same time.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let exists = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy.as_ref().clone());
        let ok = self
            .run(move |blocks| match PasswordHash::new(&phc) {
                Ok(h) => verify_with(&h, password.as_bytes(), blocks),
                Err(_) => false,
            })
            .await?;
        Ok(ok && exists)
    }
}

/// Verifies with the reused working memory when the hash has our parameters; otherwise (an
/// older parameter set) through argon2's own verification.
fn verify_with(h: &PasswordHash<'_>, password: &[u8], blocks: &mut [Block]) -> bool {
    let ours = h.algorithm.as_str() == "argon2id"
        && Params::try_from(h)
            .is_ok_and(|p| (p.m_cost(), p.t_cost(), p.p_cost()) == (M_COST, T_COST, P_COST));
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    match (ours, salt.decode_b64(&mut salt_buf)) {
        (true, Ok(salt)) if (4..=64).contains(&expected.len()) => {
            let mut out = vec![0u8; expected.len()];
            argon2()
                .hash_password_into_with_memory(password, salt, &mut out, blocks)
                .is_ok()
                && crate::secrets::ct_eq(&out, expected.as_bytes())
        }
        _ => argon2().verify_password(password, h).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = Hasher::new(2, 8);
        let phc = h.hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // Interoperable with argon2's own verification, both ways.
        assert!(argon2()
            .verify_password(b"correct horse battery", &PasswordHash::new(&phc).unwrap())
            .is_ok());
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = argon2()
            .hash_password(b"other one", &salt)
            .unwrap()
            .to_string();
        assert!(h.verify("other one".into(), Some(theirs)).await.unwrap());
        assert!(h
            .verify("correct horse battery".into(), Some(phc.clone()))
            .await
            .unwrap());
        assert!(!h.verify("wrong".into(), Some(phc)).await.unwrap());
        assert!(!h.verify("anything".into(), None).await.unwrap());
        assert!(!h
            .verify("x".into(), Some("not a phc string".into()))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn overload_is_refused_not_queued_forever() {
        let h = Hasher::new(1, 0);
        let (a, b, c) = tokio::join!(
            h.verify("a".into(), None),
            h.verify("b".into(), None),
            h.verify("c".into(), None)
        );
        let busy = [a, b, c]
            .into_iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert!(
            busy >= 1,
            "at least one of three concurrent checks must be refused with 1 slot and no queue"
        );
    }
}
