//! Password hashing: argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), run off the
//! async runtime on a few dedicated hashing threads, so a login storm queues here instead of
//! stalling token requests, and an overload is refused rather than piling up memory.
//!
//! The hashing threads run at a lower CPU priority than the rest of the process (nice + 10 and
//! `SCHED_BATCH`): on a busy machine a token or introspection request, runnable on a runtime
//! thread, gets the CPU before the next argon2 slice (docs/performance.md, T5). With nothing
//! else to run, the hashes still take every core they are given.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    mpsc, Arc, Mutex,
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
    /// The hashing threads' queue (they stop when the last `Hasher` clone is dropped).
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
    /// Queue depth and wait time (`pforte_argon2_*`).
    metrics: Argon2Metrics,
}

/// One argon2 computation, given the hashing thread's working memory.
type Job = Box<dyn FnOnce(&mut [Block]) + Send>;

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
        let concurrency = concurrency.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..concurrency {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || hashing_thread(&rx))
                .expect("start a hashing thread");
        }
        Hasher {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
            dummy: Arc::new(dummy),
            jobs: Arc::new(Mutex::new(tx)),
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
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |blocks| {
            let out = f(blocks);
            // The slot is free before the caller hears back, so its next call finds it free.
            drop(permit);
            let _ = done.send(out);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| HashError::Internal("the hashing threads have stopped".into()))?;
        result
            .await
            .map_err(|_| HashError::Internal("a hashing thread failed".into()))
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

/// A hashing thread: lowers its own priority, then runs jobs with one reused 19 MiB working
/// memory (allocated at the first job; allocating it per hash made the allocator keep hundreds
/// of MB after a login storm) until every `Hasher` clone is gone.
fn hashing_thread(jobs: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        let job = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(job) = job else { return };
        if blocks.is_empty() {
            blocks = vec![Block::default(); M_COST as usize];
        }
        // A panicking job (its caller sees an error) must not take the thread with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut blocks)));
    }
}

/// Nice + 10 (at most 19) and `SCHED_BATCH` for the calling thread (Linux: both apply per
/// thread). Both only lower the priority, which needs no privilege; a failure leaves the thread
/// as it was.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread with valid arguments.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, (now + 10).min(19));
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

    /// Hashing runs below the priority of the runtime threads (T5 in docs/performance.md).
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority() {
        let h = Hasher::new(1, 0);
        // SAFETY: getpriority/sched_getscheduler of the calling thread.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let (nice, policy) = h
            .run(|_| unsafe {
                (
                    libc::getpriority(libc::PRIO_PROCESS, 0),
                    libc::sched_getscheduler(0),
                )
            })
            .await
            .unwrap();
        assert_eq!(nice, (ours + 10).min(19));
        assert_eq!(policy, libc::SCHED_BATCH);
        assert!(h.verify("x".into(), None).await.is_ok());
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
