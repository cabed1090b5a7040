//! SQLite bulk writes for `transfer import`: prepared single-row INSERTs stepped on a writer
//! thread of our own, straight on the connection's handle.
//!
//! Why not sqlx here: its SQLite driver copies every bound text value three times and runs
//! multi-row `VALUES` statements, which make SQLite keep a statement journal (each page a
//! statement touches is copied first, in case it fails half-way). A single-row INSERT needs no
//! statement journal and binds text without a copy. The transaction, its lock and its commit
//! stay with sqlx; only the rows of an import batch go this way.

use super::columns::{self, row_values, Column, Names};
use super::sqlite_raw::RawConnection;
use super::write::{TxInner, WriteTx};
use crate::error::AppResult;
use crate::model::{Entry, Transfer};
use std::sync::mpsc;
use std::sync::Arc;
use tracing::Instrument;

/// One applied part of an import batch, handed to the writer while the next part is applied.
pub(crate) struct Part {
    pub(crate) transfers: Arc<Vec<Transfer>>,
    pub(crate) entries: Vec<Entry>,
}

/// Parts waiting for the writer: one being written and one ready is enough to keep both
/// threads busy; more would only hold memory.
const PARTS_QUEUED_MAX: usize = 2;

impl WriteTx {
    /// SQLite: write the parts `produce` hands out (until it returns None) on a writer thread,
    /// while this thread produces the next one. Same transaction: commit or drop the `WriteTx`
    /// afterwards. Blocks this thread until the last part is written.
    pub(crate) async fn write_parts(
        &mut self,
        mut produce: impl FnMut() -> Option<Part>,
    ) -> AppResult<()> {
        let span = tracing::info_span!(
            target: "fincore",
            "fincore.store.bulk.write",
            db.system = "sqlite",
            fincore.rows = tracing::field::Empty,
        );
        let TxInner::Sqlite(transaction) = &mut self.inner else {
            panic!("write_parts is SQLite's bulk path; PostgreSQL writes through COPY")
        };
        let mut locked = transaction.lock_handle().await?;
        let connection = RawConnection::new(&mut locked);
        let run = || {
            std::thread::scope(|scope| {
                let (sender, receiver) = mpsc::sync_channel::<Part>(PARTS_QUEUED_MAX);
                let writer_span = span.clone();
                let writer = std::thread::Builder::new()
                    .name("fincore-writer".to_string())
                    .spawn_scoped(scope, move || {
                        let _entered = writer_span.enter();
                        write_all(connection, receiver)
                    })
                    .expect("start the import writer thread");
                while let Some(part) = produce() {
                    if sender.send(part).is_err() {
                        break; // The writer stopped on an error: `join` returns it.
                    }
                }
                drop(sender);
                writer.join().expect("the import writer thread panicked")
            })
        };
        let rows = super::blocking(run)?;
        span.record("fincore.rows", rows as i64);
        Ok(())
    }
}

/// The writer thread: every part's transfers and entries; the rows written.
fn write_all(connection: RawConnection<'_>, parts: mpsc::Receiver<Part>) -> AppResult<u64> {
    // This batch's commit leaves the checkpoint to `Checkpointer` (see there); the pool turns
    // automatic checkpoints back on when the connection is released after the commit.
    connection.execute("PRAGMA wal_autocheckpoint = 0")?;
    let mut transfers = connection.prepare(&insert_one_sql("transfers", &columns::TRANSFER))?;
    let mut entries = connection.prepare(&insert_one_sql("entries", &columns::ENTRY))?;
    let mut rows = 0u64;
    for part in parts {
        for transfer in part.transfers.iter() {
            transfers.run(&row_values(&columns::TRANSFER, transfer))?;
        }
        for entry in &part.entries {
            entries.run(&row_values(&columns::ENTRY, entry))?;
        }
        rows += (part.transfers.len() + part.entries.len()) as u64;
    }
    Ok(rows)
}

/// A single-row INSERT of every column of the map, bound in the map's order.
fn insert_one_sql<T>(table: &str, columns: &[Column<T>]) -> String {
    let placeholders = vec!["?"; columns.len()].join(",");
    format!(
        "INSERT INTO {table} ({}) VALUES ({placeholders})",
        Names(columns)
    )
}

async fn checkpoint(pool: sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(&pool)
        .await
        .map(|_| ())
}

/// Every this many batches an import checkpoints before going on, so that the next batch
/// starts a fresh WAL: the WAL then stays under about this many batches of pages (measured:
/// 359 MiB for 100,000-row batches; 804 MiB for a 1M-row file with no waits, growing with the
/// file). Waiting every 2 batches: 230 MiB but half the time saved.
const CHECKPOINT_WAIT_BATCHES: u32 = 4;

/// SQLite: an import's checkpoints, off its commit path.
///
/// A commit normally copies the WAL back into the database file when the WAL is long; commits
/// with their checkpoints were a third of an import's wall time, with both cores idle. An import's batches turn that
/// off for their connection (`write_parts`) and checkpoint from another connection instead
/// (PASSIVE: never blocks a reader or writer) while the next batch is applied and written.
pub(crate) struct Checkpointer {
    pool: Option<sqlx::SqlitePool>,
    running: Option<tokio::task::JoinHandle<Result<(), sqlx::Error>>>,
    batches: u32,
}

impl super::Store {
    pub(crate) fn checkpointer(&self) -> Checkpointer {
        let pool = match &self.pool {
            super::Pool::Sqlite(pool) => Some(pool.clone()),
            super::Pool::Postgres(_) => None,
        };
        Checkpointer {
            pool,
            running: None,
            batches: 0,
        }
    }
}

impl Checkpointer {
    /// After a batch committed: checkpoint what it wrote, in the background; every
    /// `CHECKPOINT_WAIT_BATCHES` batches, all of it before going on, so the WAL restarts.
    pub(crate) async fn after_commit(&mut self) -> AppResult<()> {
        let Some(pool) = self.pool.clone() else {
            return Ok(());
        };
        self.batches += 1;
        let span = tracing::info_span!(
            target: "fincore",
            "fincore.store.checkpoint",
            db.system = "sqlite"
        );
        if self.batches % CHECKPOINT_WAIT_BATCHES == 0 {
            self.wait().await?;
            return Ok(checkpoint(pool).instrument(span).await?);
        }
        if self
            .running
            .as_ref()
            .is_some_and(|task| !task.is_finished())
        {
            return Ok(()); // Still copying: a later turn covers this batch too.
        }
        self.wait().await?;
        self.running = Some(tokio::spawn(checkpoint(pool).instrument(span)));
        Ok(())
    }

    async fn wait(&mut self) -> AppResult<()> {
        if let Some(task) = self.running.take() {
            task.await.expect("the checkpoint task panicked")?;
        }
        Ok(())
    }

    /// The import is over (or failed): wait for the last checkpoint. (Each batch connection
    /// gets its automatic checkpoints back when it returns to the pool: `store::sqlite`.)
    pub(crate) async fn finish(mut self) -> AppResult<()> {
        self.wait().await
    }
}

#[cfg(test)]
mod tests {
    use super::super::write::TxInner;
    use super::super::{Actor, OpenOptions, Pool, Store};
    use std::time::Duration;

    /// Every pooled connection's setting, once all of them are back in the pool (a released
    /// connection returns in the background).
    async fn autocheckpoint_of_every_connection(store: &Store) -> Vec<i64> {
        let Pool::Sqlite(pool) = &store.pool else {
            unreachable!("a SQLite store")
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while pool.num_idle() < pool.size() as usize {
            assert!(
                std::time::Instant::now() < deadline,
                "connections never came back"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mut connections = Vec::new();
        for _ in 0..pool.size() {
            connections.push(pool.acquire().await.unwrap());
        }
        let mut pages = Vec::new();
        for connection in &mut connections {
            pages.push(autocheckpoint(connection).await);
        }
        pages
    }

    async fn autocheckpoint(connection: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(connection)
            .await
            .unwrap()
    }

    /// An import batch turns automatic checkpoints off for its connection; once the batches
    /// are committed, every pooled connection has them back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn import_batches_give_every_connection_its_checkpoints_back() {
        let directory = tempfile::tempdir().unwrap();
        let options = OpenOptions {
            url: format!("sqlite://{}", directory.path().join("ledger.db").display()),
            connect_timeout: Duration::from_secs(5),
            migrate: true,
            create_if_missing: true,
            audit_key: None,
        };
        let store = Store::open(&options).await.unwrap();
        let actor = Actor {
            operator: "test".to_string(),
            trace_id: String::new(),
            now_us: 0,
        };
        let expected = i64::from(super::super::sqlite::WAL_AUTOCHECKPOINT_PAGES);
        let mut checkpointer = store.checkpointer();
        for _ in 0..super::CHECKPOINT_WAIT_BATCHES + 1 {
            let mut tx = store.begin_write(&actor).await.unwrap();
            tx.write_parts(|| None).await.unwrap();
            let TxInner::Sqlite(connection) = &mut tx.inner else {
                unreachable!("a SQLite transaction")
            };
            assert_eq!(autocheckpoint(connection).await, 0, "off during a batch");
            tx.commit().await.unwrap();
            checkpointer.after_commit().await.unwrap();
            let between = autocheckpoint_of_every_connection(&store).await;
            assert!(
                between.iter().all(|&pages| pages == expected),
                "{between:?}"
            );
        }
        checkpointer.finish().await.unwrap();
        let after = autocheckpoint_of_every_connection(&store).await;
        assert!(
            after.len() >= 2,
            "the batch and checkpoint connections: {after:?}"
        );
        assert!(after.iter().all(|&pages| pages == expected), "{after:?}");
    }
}
