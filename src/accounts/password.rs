//! Password hashing: argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), run off the
//! async runtime on a bounded set of blocking threads, so a login storm queues here instead of
//! stalling token requests, and an overload is refused rather than piling up memory.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use argon2::{
    password_hash::SaltString, Algorithm, Argon2, Params, PasswordHash, PasswordHasher,
    PasswordVerifier, Version,
};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks waiting; try again shortly")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB memory, 2 iterations, 1 lane.
pub fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A bounded pool for argon2 work.
#[derive(Clone, Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    dummy: Arc<String>,
}

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
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst)
            >= self.max_waiting + self.permits.available_permits()
        {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let permit = permit.map_err(|e| HashError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Internal(e.to_string()))
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| HashError::Internal(e.to_string()))
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
            .run(move || match PasswordHash::new(&phc) {
                Ok(h) => argon2().verify_password(password.as_bytes(), &h).is_ok(),
                Err(_) => false,
            })
            .await?;
        Ok(ok && exists)
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
