//! SQLite WAL checkpoints outside the request path.
//!
//! With `journal_mode = WAL` and `synchronous = NORMAL` a commit appends to the write-ahead log
//! without a disk sync; the syncs happen when the log is copied back into the database file (a
//! checkpoint). SQLite's default runs that checkpoint inside whichever commit pushes the log past
//! 1,000 pages: under token load that is the access-token ledger's group commit, so every few
//! hundred tokens wait for two `fsync`s of a disk shared with everything else
//! (docs/performance.md, finding 3b). Here the pool's connections checkpoint automatically only
//! as a safety net (a far larger log), and one task with a connection of its own checkpoints in
//! the background whenever the log has grown past [`CHECKPOINT_AT`]: a `PASSIVE` checkpoint
//! that does the copying and syncing without blocking anyone, then a short `TRUNCATE` so the
//! log starts again from empty instead of growing (a `PASSIVE` checkpoint alone cannot reset
//! it while writers keep appending).
//!
//! Durability does not change: a commit is in the log before a token leaves, and a checkpoint
//! only moves committed pages; `kill -9` loses nothing either way.

use std::{path::PathBuf, str::FromStr, time::Duration};

use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions, Connection};

/// The log size at which the background task checkpoints.
pub const CHECKPOINT_AT: u64 = 4 * 1024 * 1024;
/// Pages (4 KiB) after which a pool connection's commit checkpoints anyway: the safety net
/// should the background task fall behind or fail (64 MiB).
pub const SAFETY_NET_PAGES: u32 = 16 * 1024;
const TICK: Duration = Duration::from_millis(250);

/// The write-ahead log of the SQLite database at `url`, if it is a file.
fn wal_path(url: &str) -> Option<(SqliteConnectOptions, PathBuf)> {
    if url.contains(":memory:") {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    let file = opts.get_filename().to_path_buf();
    if file.as_os_str().is_empty() {
        return None;
    }
    let mut wal = file.into_os_string();
    wal.push("-wal");
    Some((opts, PathBuf::from(wal)))
}

/// Starts the background checkpointer for the SQLite database at `url` (nothing for an
/// in-memory database). It stops when the runtime does.
pub fn spawn(url: &str) {
    let Some((opts, wal)) = wal_path(url) else {
        return;
    };
    tokio::spawn(async move {
        let mut conn = None;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let size = match tokio::fs::metadata(&wal).await {
                Ok(m) => m.len(),
                Err(_) => continue,
            };
            if size < CHECKPOINT_AT {
                continue;
            }
            if conn.is_none() {
                match opts
                    .clone()
                    .busy_timeout(Duration::from_secs(2))
                    .connect()
                    .await
                {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "WAL checkpointer: cannot connect");
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            if let Err(e) = checkpoint(c).await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
            }
        }
    });
}

/// One checkpoint in two steps. `PASSIVE` first: it copies the log into the database and
/// syncs it without blocking anyone, which is the long part (megabytes to sync). Then
/// `TRUNCATE`, which blocks new writers while it runs, but now has only the pages written in
/// the meantime to copy and sync, and empties the log. `TRUNCATE` alone kept the ledger's
/// writer waiting for the whole copy and sync: the token p99 under full load (docs/performance.md).
async fn checkpoint(c: &mut sqlx::SqliteConnection) -> sqlx::Result<()> {
    for mode in ["PASSIVE", "TRUNCATE"] {
        // busy = 1: readers or writers kept it from finishing; the next tick tries again.
        let (busy, log, done) =
            sqlx::query_as::<_, (i64, i64, i64)>(&format!("PRAGMA wal_checkpoint({mode})"))
                .fetch_one(&mut *c)
                .await?;
        tracing::debug!(mode, busy, log, done, "WAL checkpoint");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_of_a_file_database_is_found_and_memory_has_none() {
        let (_, wal) = wal_path("sqlite://data/pforte.db").unwrap();
        assert!(wal.ends_with("pforte.db-wal"), "{wal:?}");
        assert!(wal_path("sqlite::memory:").is_none());
    }

    #[tokio::test]
    async fn the_background_task_keeps_the_log_small() {
        let dir = std::env::temp_dir().join(format!("pforte-wal-{}", std::process::id()));
        let url = format!("sqlite://{}/db.sqlite", dir.display());
        let db = crate::store::Db::connect(&url, 2).await.unwrap();
        sqlx::query("CREATE TABLE filler (v TEXT)")
            .execute(&db.pool)
            .await
            .unwrap();
        spawn(db.url());
        let (_, wal) = wal_path(db.url()).unwrap();
        let row = "x".repeat(64 * 1024);
        // 16 MiB through the log: far past CHECKPOINT_AT, below the safety net.
        for _ in 0..256 {
            sqlx::query("INSERT INTO filler (v) VALUES ($1)")
                .bind(&row)
                .execute(&db.pool)
                .await
                .unwrap();
        }
        let mut size = u64::MAX;
        for _ in 0..40 {
            tokio::time::sleep(TICK).await;
            size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
            if size < CHECKPOINT_AT {
                break;
            }
        }
        assert!(size < CHECKPOINT_AT, "the log stayed at {size} bytes");
        let _ = std::fs::remove_dir_all(dir);
    }
}
