//! The access-token ledger: group commit for issued access tokens, and coalesced reads of
//! their state.
//!
//! Every issued access token is recorded (introspection, userinfo and revocation consult the
//! ledger). Under load one INSERT per token would serialise on the database's write lock, and
//! one SELECT per introspection costs a hand-off to a database connection's thread and back
//! (with sqlx's SQLite driver, two thread wake-ups: the largest cost of an introspection,
//! docs/performance.md). So both go through one task each:
//!
//! - the **writer** takes whatever records have queued up, writes them in one multi-row
//!   INSERT, and then answers every waiting request. A token is handed out only after its row
//!   is committed. There is no timer: while one commit runs, the next batch gathers (group
//!   commit), so an idle server commits a lone token at once and a busy one commits many per
//!   round trip. Before a round the writer yields to the runtime ([`gather`]): request tasks
//!   already running (signing their tokens) add their records to this round instead of
//!   waiting for the next, which takes a round trip to the database's thread off most tokens.
//! - the **reader** takes whatever lookups have queued up (gathered the same way) and answers
//!   them with one `SELECT … WHERE jti IN (…)`. Every lookup is read after it was asked for,
//!   so a revocation committed before a request arrived (on any instance) is always seen:
//!   nothing is cached.
//!
//! Each has a database connection of its own (`store::OwnConnection`): a pooled query would
//! add a ping before and after every round.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use crate::store::{
    grants::{AccessRecord, AccessState},
    Db, StoreError,
};

/// What a waiting caller gets back on failure: whether the database was unavailable
/// (`StoreError::is_unavailable`: the caller answers 503, not 500) and the error's text.
type Failure = (bool, String);
type Done<T> = oneshot::Sender<Result<T, Failure>>;

#[derive(Clone)]
pub struct Ledger {
    writes: mpsc::Sender<(AccessRecord, Done<()>)>,
    reads: mpsc::Sender<(String, Done<AccessState>)>,
}

/// The most jobs one round takes (the store chunks its statements below the database's
/// bound-parameter limit).
const MAX_BATCH: usize = 1000;
const QUEUE: usize = 16 * 1024;

impl Ledger {
    pub fn start(db: Db) -> Ledger {
        if db.backend == crate::store::Backend::Sqlite {
            crate::store::checkpoint::spawn(db.url());
        }
        let (writes, mut write_rx) = mpsc::channel::<(AccessRecord, Done<()>)>(QUEUE);
        let mut writer = db.own_connection();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while write_rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                gather(&mut write_rx, &mut batch).await;
                let (records, waiting): (Vec<AccessRecord>, Vec<_>) = batch.drain(..).unzip();
                let result = writer.access_insert_many(&records).await.map_err(failure);
                if let Err((_, e)) = &result {
                    tracing::error!(error = %e, n = records.len(), "recording access tokens failed");
                }
                for done in waiting {
                    let _ = done.send(result.clone());
                }
            }
        });
        let (reads, mut read_rx) = mpsc::channel::<(String, Done<AccessState>)>(QUEUE);
        let mut reader = db.own_connection();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while read_rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                gather(&mut read_rx, &mut batch).await;
                let mut jtis: Vec<String> = batch.iter().map(|(jti, _)| jti.clone()).collect();
                jtis.sort_unstable();
                jtis.dedup();
                let held = reader.is_connected();
                let mut result = reader.access_states(&jtis).await;
                if held && result.as_ref().is_err_and(StoreError::is_unavailable) {
                    // The connection may have died with a database restart; a read can
                    // simply be asked again, on a fresh connection (once: a failed fresh
                    // connection means the database is away, and the callers get a 503).
                    result = reader.access_states(&jtis).await;
                }
                let result = result.map_err(failure);
                for (jti, done) in batch.drain(..) {
                    let _ = done.send(answer(&result, &jti));
                }
            }
        });
        Ledger { writes, reads }
    }

    /// Records one access token; returns once it is committed.
    pub async fn record(&self, r: AccessRecord) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.writes.send((r, done)).await.map_err(|_| closed())?;
        outcome(wait.await)
    }

    /// The ledger's state of the access token `jti`, read after this call began.
    pub async fn state(&self, jti: &str) -> Result<AccessState, StoreError> {
        let (done, wait) = oneshot::channel();
        self.reads
            .send((jti.to_owned(), done))
            .await
            .map_err(|_| closed())?;
        outcome(wait.await)
    }
}

/// How often a round yields for more jobs at most (each yield lets every task that was ready
/// run once; the round stops gathering at the first yield that brought nothing).
const GATHER_YIELDS: usize = 2;

/// Adds to `batch` the jobs that tasks already running queue up while this task yields: no
/// timer and no wait when nothing else is running, so a lone job is served at once.
async fn gather<T>(rx: &mut mpsc::Receiver<T>, batch: &mut Vec<T>) {
    for _ in 0..GATHER_YIELDS {
        tokio::task::yield_now().await;
        let before = batch.len();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() == before {
            break;
        }
    }
}

/// One lookup's answer out of a round's result.
fn answer(
    round: &Result<HashMap<String, AccessState>, Failure>,
    jti: &str,
) -> Result<AccessState, Failure> {
    match round {
        Ok(states) => Ok(states.get(jti).cloned().unwrap_or(AccessState::Unknown)),
        Err(e) => Err(e.clone()),
    }
}

fn failure(e: StoreError) -> Failure {
    (e.is_unavailable(), e.to_string())
}

fn closed() -> StoreError {
    sqlx::Error::PoolClosed.into()
}

/// A waiting caller's result as a `StoreError` that keeps "unavailable".
fn outcome<T>(r: Result<Result<T, Failure>, oneshot::error::RecvError>) -> Result<T, StoreError> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err((true, e))) => Err(sqlx::Error::Io(std::io::Error::other(e)).into()),
        Ok(Err((false, e))) => Err(sqlx::Error::Protocol(e).into()),
        Err(_) => Err(closed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_round_gathers_what_running_tasks_queue_and_a_lone_job_goes_at_once() {
        let (tx, mut rx) = mpsc::channel::<u32>(16);
        tx.send(1).await.unwrap();
        // Three tasks that are ready to run and will queue a job each.
        for n in 2..=4 {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(n).await.unwrap() });
        }
        let mut batch = Vec::new();
        rx.recv_many(&mut batch, MAX_BATCH).await;
        assert_eq!(batch, [1]);
        gather(&mut rx, &mut batch).await;
        assert_eq!(batch, [1, 2, 3, 4]);
        // Nothing else running: one yield, nothing new, done.
        tx.send(5).await.unwrap();
        let mut lone = Vec::new();
        rx.recv_many(&mut lone, MAX_BATCH).await;
        gather(&mut rx, &mut lone).await;
        assert_eq!(lone, [5]);
    }

    #[test]
    fn a_lookup_missing_from_the_round_is_unknown_and_a_failed_round_fails_everyone() {
        let mut states = HashMap::new();
        states.insert("a".to_owned(), AccessState::Revoked);
        let round = Ok(states);
        assert_eq!(answer(&round, "a"), Ok(AccessState::Revoked));
        assert_eq!(answer(&round, "b"), Ok(AccessState::Unknown));
        let failed = Err((true, "database away".to_owned()));
        assert_eq!(
            answer(&failed, "a"),
            Err((true, "database away".to_owned()))
        );
    }
}
