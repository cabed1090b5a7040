//! SQLite specifics: WAL, a busy timeout long enough that concurrent fincore processes queue
//! rather than fail, and `BEGIN IMMEDIATE` so a writer takes the lock before it reads.

use super::OpenOptions;
use crate::error::{AppError, AppResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// The longest wait for a pooled connection (the wait for another writer's lock is
/// `store::lock_timeout()`, SQLite's busy timeout).
pub const BUSY_TIMEOUT: Duration = super::LOCK_TIMEOUT;

pub(super) const CONNECTIONS_MAX: u32 = 4;
/// Page cache per connection, in KiB.
pub const CACHE_SIZE_KIB: i64 = 65536;
const ROW_CHANNEL_ROWS: usize = 8_192;
/// A commit that leaves the WAL longer than this copies it back into the database file.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;

/// Open the pool; also returns the database as shown to the operator (the file's absolute
/// path). A missing file is created only when `options.create_if_missing` (commands that
/// write): a read on a missing file would otherwise leave an empty ledger behind and report
/// an empty bank.
pub async fn connect(options: &OpenOptions) -> AppResult<(sqlx::SqlitePool, String)> {
    if path_of(&options.url).is_empty() {
        return Err(AppError::usage(format!(
            "--db '{}' names no file: expected sqlite://PATH, e.g. sqlite://fincore.db",
            options.url
        )));
    }
    let connect_options = SqliteConnectOptions::from_str(&options.url)
        .map_err(|error| AppError::usage(format!("--db '{}': {error}", options.url)))?;
    let file = connect_options.get_filename().to_path_buf();
    let shown = std::path::absolute(&file)
        .unwrap_or_else(|_| file.clone())
        .display()
        .to_string();
    let in_memory = options.url.contains(":memory:") || options.url.contains("mode=memory");
    if !options.create_if_missing && !in_memory && !file.exists() {
        return Err(AppError::storage(format!(
            "database '{shown}' does not exist, and a command that only reads does not create \
             it: check --db / FINCORE_DATABASE_URL, or create the ledger with a command that \
             writes (e.g. `fincore db migrate`)"
        )));
    }
    let connect_options = connect_options
        .create_if_missing(options.create_if_missing)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(super::lock_timeout())
        .pragma("cache_size", format!("-{CACHE_SIZE_KIB}"))
        .pragma("temp_store", "memory")
        .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
        // Rows cross from the SQLite worker thread through this channel; a deep buffer lets
        // bulk reads (reconciliation, rescoring, reports) stream without a thread handoff per row.
        .row_buffer_size(ROW_CHANNEL_ROWS);
    let pool = SqlitePoolOptions::new()
        .max_connections(CONNECTIONS_MAX)
        .acquire_timeout(BUSY_TIMEOUT)
        .after_release(|connection, _| Box::pin(restore_autocheckpoint(connection)))
        .connect_with(connect_options)
        .await
        .map_err(|error| {
            let named = format!("database '{shown}'");
            match &error {
                sqlx::Error::Database(db) => match describe_error(db.as_ref(), &named) {
                    Some(described) => AppError::storage(format!("{described} ({error})")),
                    None => AppError::storage(format!("cannot open {named}: {error}")),
                },
                _ => AppError::storage(format!("cannot open {named}: {error}")),
            }
        })?;
    Ok((pool, shown))
}

/// The path part of a `sqlite:` URL (`sqlite://PATH?…`, `sqlite:PATH`), empty when none.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split('?').next().unwrap_or("")
}

/// SQLite's primary result codes fincore explains (extended codes keep them in the low byte).
const SQLITE_BUSY: i64 = 5;
const SQLITE_READONLY: i64 = 8;
const SQLITE_CANTOPEN: i64 = 14;

/// What to tell the operator about a SQLite error that is not a bug: a lock held past the
/// timeout, a file or directory that cannot be written. `database` names it
/// (`database '/path/ledger.db'`). None for other errors and other backends.
pub fn describe_error(error: &dyn sqlx::error::DatabaseError, database: &str) -> Option<String> {
    error.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code: i64 = error.code()?.parse().ok()?;
    match code & 0xff {
        SQLITE_BUSY => Some(format!(
            "{database} is locked: another process or connection held its write lock for more \
             than {} s (which one is not known: another fincore command, a backup, an open \
             sqlite3 shell; `fuser` on the file lists who has it open); let it finish and run \
             the command again, or wait longer with --lock-timeout SECONDS",
            super::lock_timeout().as_secs()
        )),
        SQLITE_READONLY => Some(format!(
            "{database} is read-only: fincore writes the file and creates its -wal and -shm \
             files beside it, so the file and its directory must be writable by this user"
        )),
        SQLITE_CANTOPEN => Some(format!(
            "cannot open {database}: its directory must exist, and the file and its directory \
             must be readable and writable by this user"
        )),
        _ => None,
    }
}

/// An import batch turns its connection's automatic checkpoints off (`store::sqlite_bulk`);
/// every connection gets them back on its way into the pool, so no later user of the pool
/// inherits a WAL that never shrinks. Done on release because the batch's connection leaves
/// the import inside sqlx's commit, and counting the pool's connections afterwards races
/// with that connection's return (seen on CI). One PRAGMA per release, about 10 µs.
async fn restore_autocheckpoint(
    connection: &mut sqlx::SqliteConnection,
) -> Result<bool, sqlx::Error> {
    let restore = format!("PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}");
    sqlx::query(&restore).execute(connection).await?;
    Ok(true)
}

pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Rows of one statement read on the calling thread straight from SQLite.
///
/// sqlx runs each SQLite connection on a worker thread and hands every row over a channel;
/// for a million-row read the handover (a thread wake-up per row when either side waits)
/// costs several microseconds a row, ten times the read itself. Bulk reads that must be fast
/// (reconciliation's movements) lock the pooled connection and step the statement here.
pub(crate) mod direct {
    use crate::error::{AppError, AppResult};
    use libsqlite3_sys as ffi;
    use std::ffi::{c_char, c_int, CStr};
    use std::ptr::{self, NonNull};

    pub enum Parameter<'a> {
        Text(&'a str),
        Integer(i64),
        Null,
    }

    /// A connection handle locked out of its sqlx worker (`LockedSqliteHandle`), to be used by
    /// one reading thread.
    pub struct Handle(pub NonNull<ffi::sqlite3>);

    // SAFETY: sqlx opens connections in multi-thread mode (SQLITE_OPEN_NOMUTEX): a handle may be
    // used from any thread, one at a time. The lock guard it came from keeps the sqlx worker
    // off it, and each `Handle` is used by a single thread.
    unsafe impl Send for Handle {}

    /// One result row: columns are read by index, valid until the next step.
    pub struct Row {
        statement: *mut ffi::sqlite3_stmt,
    }

    impl Row {
        pub fn integer(&self, column: c_int) -> i64 {
            // SAFETY: `statement` is a live statement positioned on a row (see `for_each_row`).
            unsafe { ffi::sqlite3_column_int64(self.statement, column) }
        }

        pub fn text(&self, column: c_int) -> AppResult<&str> {
            // SAFETY: as above; the text pointer stays valid until the next step, and this
            // borrow of `self` ends before that.
            let bytes = unsafe {
                let text = ffi::sqlite3_column_text(self.statement, column);
                let length = ffi::sqlite3_column_bytes(self.statement, column);
                if text.is_null() || length <= 0 {
                    return Ok("");
                }
                std::slice::from_raw_parts(text, length as usize)
            };
            std::str::from_utf8(bytes)
                .map_err(|_| AppError::storage("stored text is not valid UTF-8"))
        }
    }

    struct Statement(*mut ffi::sqlite3_stmt);

    impl Drop for Statement {
        fn drop(&mut self) {
            // SAFETY: finalizing a prepared statement (or null) exactly once.
            unsafe {
                ffi::sqlite3_finalize(self.0);
            }
        }
    }

    fn error(database: *mut ffi::sqlite3, code: c_int) -> AppError {
        // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection.
        let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(database)) }
            .to_string_lossy()
            .into_owned();
        AppError::storage(format!("SQLite error {code}: {message}"))
    }

    /// A prepared statement: run once (`for_each_row` below) or many times (bulk inserts).
    pub struct Prepared {
        database: *mut ffi::sqlite3,
        statement: Statement,
    }

    impl Prepared {
        /// # Safety
        /// `database` must be an open connection used by nothing else while this statement
        /// lives (the caller holds sqlx's lock on the connection's handle), and the statement
        /// must be dropped before that lock is released.
        pub unsafe fn new(database: NonNull<ffi::sqlite3>, sql: &str) -> AppResult<Prepared> {
            let database = database.as_ptr();
            let mut raw = ptr::null_mut();
            let code = ffi::sqlite3_prepare_v3(
                database,
                sql.as_ptr() as *const c_char,
                sql.len() as c_int,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut raw,
                ptr::null_mut(),
            );
            let statement = Statement(raw);
            if code != ffi::SQLITE_OK {
                return Err(error(database, code));
            }
            Ok(Prepared {
                database,
                statement,
            })
        }

        /// Bind `parameters` (`?1`, `?2`, … in order) without copying text.
        ///
        /// # Safety
        /// Every text bound must stay valid until the bindings are cleared (`run` and
        /// `for_each_row` clear them before they return).
        unsafe fn bind(&mut self, parameters: &[Parameter<'_>]) -> AppResult<()> {
            let statement = self.statement.0;
            assert_eq!(
                parameters.len(),
                ffi::sqlite3_bind_parameter_count(statement) as usize,
                "one value per parameter of the statement"
            );
            for (index, parameter) in parameters.iter().enumerate() {
                let position = index as c_int + 1;
                let code = match parameter {
                    Parameter::Text(text) => ffi::sqlite3_bind_text(
                        statement,
                        position,
                        text.as_ptr() as *const c_char,
                        text.len() as c_int,
                        ffi::SQLITE_STATIC(),
                    ),
                    Parameter::Integer(value) => {
                        ffi::sqlite3_bind_int64(statement, position, *value)
                    }
                    Parameter::Null => ffi::sqlite3_bind_null(statement, position),
                };
                if code != ffi::SQLITE_OK {
                    return Err(error(self.database, code));
                }
            }
            Ok(())
        }

        /// Bind `parameters`, run the statement once, and reset it.
        pub fn run(&mut self, parameters: &[Parameter<'_>]) -> AppResult<()> {
            self.for_each_row(parameters, |_| Ok(()))
        }

        /// Bind `parameters`, call `visit` per result row, and reset the statement.
        pub fn for_each_row(
            &mut self,
            parameters: &[Parameter<'_>],
            mut visit: impl FnMut(&Row) -> AppResult<()>,
        ) -> AppResult<()> {
            let statement = self.statement.0;
            // SAFETY: `statement` is live and used by this thread only (see `new`); the texts
            // bound are borrowed for this call and the bindings are cleared before it returns.
            unsafe {
                let mut outcome = self.bind(parameters);
                let row = Row { statement };
                while outcome.is_ok() {
                    match ffi::sqlite3_step(statement) {
                        ffi::SQLITE_ROW => outcome = visit(&row),
                        ffi::SQLITE_DONE => break,
                        code => outcome = Err(error(self.database, code)),
                    }
                }
                ffi::sqlite3_reset(statement);
                ffi::sqlite3_clear_bindings(statement);
                outcome
            }
        }
    }

    /// Run one statement that returns nothing of interest (a PRAGMA).
    ///
    /// # Safety
    /// As `for_each_row`.
    pub unsafe fn execute(database: NonNull<ffi::sqlite3>, sql: &str) -> AppResult<()> {
        for_each_row(database, sql, &[], |_| Ok(()))
    }

    /// Prepare `sql`, bind `parameters` (`?1`, `?2`, … in order) and call `visit` per row.
    ///
    /// # Safety
    /// `database` must be an open connection that nothing else uses until this returns (the
    /// caller holds sqlx's lock on the connection's handle).
    pub unsafe fn for_each_row(
        database: NonNull<ffi::sqlite3>,
        sql: &str,
        parameters: &[Parameter<'_>],
        visit: impl FnMut(&Row) -> AppResult<()>,
    ) -> AppResult<()> {
        Prepared::new(database, sql)?.for_each_row(parameters, visit)
    }
}

/// Process-wide SQLite settings, before any connection opens: no global memory statistics
/// (SQLite otherwise takes a global mutex around every allocation, for a counter fincore
/// never reads).
pub fn configure_library() {
    // SAFETY: called once at start-up, before SQLite is initialised by the first open;
    // a call after initialisation only returns SQLITE_MISUSE and changes nothing.
    unsafe {
        libsqlite3_sys::sqlite3_config(
            libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
            0 as std::ffi::c_int,
        );
    }
}

/// A pool that looks at the database without changing its file (`transfer import --dry-run`):
/// no file is created, the journal mode is left as it is, and one connection is enough (the
/// dry run reads one batch at a time).
///
/// Closing the last connection to a WAL database normally checkpoints the WAL into the file and
/// deletes it. When there is no WAL yet, that is what we want: our empty WAL and its
/// shared-memory file go away and the file is not written. When a WAL is there already (left
/// by a process that exited without checkpointing), that checkpoint would rewrite the file
/// with changes that are not ours: each connection is then told not to checkpoint on close,
/// and the WAL stays as it was.
pub async fn connect_as_is(options: &OpenOptions) -> AppResult<(sqlx::SqlitePool, String)> {
    let connect_options = SqliteConnectOptions::from_str(&options.url)
        .map_err(|error| AppError::usage(format!("--db '{}': {error}", options.url)))?;
    let file = connect_options.get_filename().to_path_buf();
    let shown = std::path::absolute(&file)
        .unwrap_or_else(|_| file.clone())
        .display()
        .to_string();
    if path_of(&options.url).is_empty() || !file.exists() {
        return Err(AppError::storage(format!(
            "database '{shown}' does not exist; a command that changes nothing does not create it \
             (check --db / FINCORE_DATABASE_URL)"
        )));
    }
    let connect_options = connect_options
        .create_if_missing(false)
        .busy_timeout(super::lock_timeout())
        .pragma("cache_size", format!("-{CACHE_SIZE_KIB}"))
        .row_buffer_size(ROW_CHANNEL_ROWS);
    let mut wal = file.into_os_string();
    wal.push("-wal");
    let keep_wal = std::path::Path::new(&wal).exists();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(BUSY_TIMEOUT)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if keep_wal {
                    no_checkpoint_on_close(connection).await?;
                }
                Ok(())
            })
        })
        .connect_with(connect_options)
        .await
        .map_err(|error| AppError::storage(format!("cannot open database '{shown}': {error}")))?;
    Ok((pool, shown))
}

async fn no_checkpoint_on_close(
    connection: &mut sqlx::SqliteConnection,
) -> Result<(), sqlx::Error> {
    let mut locked = connection.lock_handle().await?;
    let handle = locked.as_raw_handle();
    // SAFETY: the handle is locked out of its sqlx worker while we use it; the option takes an
    // int and an optional int* to report the new value (none here).
    let code = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            handle.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if code != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (error {code})").into(),
        ));
    }
    Ok(())
}
