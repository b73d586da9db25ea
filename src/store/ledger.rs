//! The access-token ledger writer: group commit for issued access tokens.
//!
//! Every issued access token is recorded (introspection and revocation consult the ledger).
//! Under load, one INSERT per token would serialise on the database's write lock; instead a
//! single writer task takes whatever has queued up, writes it in one multi-row INSERT, and then
//! answers every waiting request. A token is handed out only after its row is committed.

use tokio::sync::{mpsc, oneshot};

use crate::store::{grants::AccessRecord, Db, StoreError};

/// A record and where its outcome goes: `Err((database unavailable, message))`.
type Job = (AccessRecord, oneshot::Sender<Result<(), (bool, String)>>);

#[derive(Clone)]
pub struct Ledger {
    tx: mpsc::Sender<Job>,
}

const MAX_BATCH: usize = 1000;
/// A batch this large is written at once; a smaller one waits up to [`GROUP_WAIT`] for more.
const GROUP: usize = 64;
const GROUP_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

impl Ledger {
    pub fn start(db: Db) -> Ledger {
        if db.backend == crate::store::Backend::Sqlite {
            crate::store::checkpoint::spawn(db.url());
        }
        let (tx, mut rx) = mpsc::channel::<Job>(16 * 1024);
        tokio::spawn(async move {
            let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                // Group commit: under load, wait a moment for more tokens so one commit (and
                // one disk sync) serves many requests. Idle, a lone token waits at most 1 ms.
                if batch.len() < GROUP {
                    let _ = tokio::time::timeout(GROUP_WAIT, async {
                        while batch.len() < GROUP {
                            let room = MAX_BATCH - batch.len();
                            if rx.recv_many(&mut batch, room).await == 0 {
                                break;
                            }
                        }
                    })
                    .await;
                }
                let (records, waiting): (Vec<AccessRecord>, Vec<_>) = batch.drain(..).unzip();
                // The waiting callers get the error's text and whether the database was away
                // (`StoreError::is_unavailable`: they answer 503, not 500).
                let result = db
                    .access_insert_many(&records)
                    .await
                    .map_err(|e| (e.is_unavailable(), e.to_string()));
                if let Err((_, e)) = &result {
                    tracing::error!(error = %e, n = records.len(), "recording access tokens failed");
                }
                for done in waiting {
                    let _ = done.send(result.clone());
                }
            }
        });
        Ledger { tx }
    }

    /// Records one access token; returns once it is committed.
    pub async fn record(&self, r: AccessRecord) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((r, done))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err((true, e))) => Err(sqlx::Error::Io(std::io::Error::other(e)).into()),
            Ok(Err((false, e))) => Err(sqlx::Error::Protocol(e).into()),
            Err(_) => Err(sqlx::Error::PoolClosed.into()),
        }
    }
}
