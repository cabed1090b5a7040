//! Every call into the SQLite library that bypasses sqlx, and the only module of the crate
//! allowed `unsafe` (the crate root denies it, `main.rs` forbids it).
//!
//! Why bypass sqlx at all: sqlx runs each SQLite connection on a worker thread and hands every
//! row over a channel; for a million-row read the handover costs several microseconds a row,
//! ten times the read itself. Its bulk INSERTs copy each bound text three times and need a
//! statement journal. So the bulk reads (reconciliation's movements, rescoring's full scan)
//! and `transfer import`'s writes lock a pooled connection and step statements here, on the
//! calling thread. Transactions, their locks and commits stay with sqlx.
//!
//! The unsafe calls sit behind a safe API: a `RawConnection` can only be made from sqlx's lock
//! guard on the connection and borrows it, so the statements it prepares cannot outlive the
//! lock, and nothing else (sqlx's worker included) can use the handle meanwhile.
#![allow(unsafe_code)]

use super::columns::Value;
use super::rows::StoredRow;
use crate::error::{AppError, AppResult};
use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;
use std::ffi::{c_char, c_int, CStr};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

/// A connection handle locked out of its sqlx worker, used by one thread at a time.
pub(crate) struct RawConnection<'lock> {
    database: NonNull<ffi::sqlite3>,
    /// The lock guard stays mutably borrowed (so alive and unused) while this exists.
    _lock: PhantomData<&'lock mut ()>,
}

// SAFETY: sqlx opens connections in multi-thread mode (SQLITE_OPEN_NOMUTEX): a handle may be
// used from any thread, one thread at a time. A `RawConnection` is neither `Clone` nor `Sync`
// (its pointer field makes it `!Sync`), so moving it is the only way another thread gets it.
unsafe impl Send for RawConnection<'_> {}

impl<'lock> RawConnection<'lock> {
    pub(crate) fn new(locked: &'lock mut LockedSqliteHandle<'_>) -> RawConnection<'lock> {
        RawConnection {
            database: locked.as_raw_handle(),
            _lock: PhantomData,
        }
    }

    /// Prepare `sql` to run once or many times (bulk inserts).
    pub(crate) fn prepare(&self, sql: &str) -> AppResult<Prepared<'_>> {
        let length = c_int::try_from(sql.len())
            .map_err(|_| AppError::storage("SQL statement too long for SQLite"))?;
        let mut raw = ptr::null_mut();
        // SAFETY: `database` is an open connection only this thread uses (see the type); the
        // SQL pointer and its length in bytes come from one live `&str`.
        let code = unsafe {
            ffi::sqlite3_prepare_v3(
                self.database.as_ptr(),
                sql.as_ptr().cast::<c_char>(),
                length,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut raw,
                ptr::null_mut(),
            )
        };
        let statement = Statement(raw);
        if code != ffi::SQLITE_OK {
            return Err(self.error(code));
        }
        Ok(Prepared {
            connection: self,
            statement,
        })
    }

    /// Run one statement that returns nothing of interest (a PRAGMA).
    pub(crate) fn execute(&self, sql: &str) -> AppResult<()> {
        self.for_each_row(sql, &[], |_| Ok(()))
    }

    /// Prepare `sql`, bind `parameters` (in order) and call `visit` per result row.
    pub(crate) fn for_each_row(
        &self,
        sql: &str,
        parameters: &[Value<'_>],
        visit: impl FnMut(&Row<'_>) -> AppResult<()>,
    ) -> AppResult<()> {
        self.prepare(sql)?.for_each_row(parameters, visit)
    }

    fn error(&self, code: c_int) -> AppError {
        // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the connection,
        // copied here before anything else runs on it.
        let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.database.as_ptr())) }
            .to_string_lossy()
            .into_owned();
        AppError::storage(format!("SQLite error {code}: {message}"))
    }
}

struct Statement(*mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: finalizing a prepared statement (or null, a no-op) exactly once, while the
        // connection it belongs to is still locked (`Prepared` borrows the `RawConnection`).
        unsafe {
            ffi::sqlite3_finalize(self.0);
        }
    }
}

/// A prepared statement of a `RawConnection`, finalized when dropped.
pub(crate) struct Prepared<'c> {
    connection: &'c RawConnection<'c>,
    statement: Statement,
}

impl Prepared<'_> {
    /// Bind `parameters`, run the statement once, and reset it.
    pub(crate) fn run(&mut self, parameters: &[Value<'_>]) -> AppResult<()> {
        self.for_each_row(parameters, |_| Ok(()))
    }

    /// Bind `parameters`, call `visit` per result row, and reset the statement (its bindings
    /// cleared, so no borrowed text outlives this call).
    pub(crate) fn for_each_row(
        &mut self,
        parameters: &[Value<'_>],
        mut visit: impl FnMut(&Row<'_>) -> AppResult<()>,
    ) -> AppResult<()> {
        let statement = self.statement.0;
        let mut outcome = self.bind(parameters);
        let row = Row {
            statement,
            _statement: PhantomData,
        };
        while outcome.is_ok() {
            // SAFETY: `statement` is live and used by this thread only; the texts bound are
            // borrowed for this call and cleared below before it returns.
            match unsafe { ffi::sqlite3_step(statement) } {
                ffi::SQLITE_ROW => outcome = visit(&row),
                ffi::SQLITE_DONE => break,
                code => outcome = Err(self.connection.error(code)),
            }
        }
        // SAFETY: as above; resetting and clearing a live statement.
        unsafe {
            ffi::sqlite3_reset(statement);
            ffi::sqlite3_clear_bindings(statement);
        }
        outcome
    }

    /// Bind `parameters` (`?1`, `?2`, … in order) without copying text. Every text bound must
    /// stay valid until the bindings are cleared: `for_each_row`, the only caller, does that.
    fn bind(&mut self, parameters: &[Value<'_>]) -> AppResult<()> {
        let statement = self.statement.0;
        // SAFETY: a live statement.
        let expected = unsafe { ffi::sqlite3_bind_parameter_count(statement) };
        assert_eq!(
            usize::try_from(expected).ok(),
            Some(parameters.len()),
            "one value per parameter of the statement"
        );
        for (index, parameter) in parameters.iter().enumerate() {
            let position = c_int::try_from(index + 1).expect("fewer parameters than c_int holds");
            let code = match parameter {
                Value::Text(text) => {
                    let length = c_int::try_from(text.len())
                        .map_err(|_| AppError::storage("text value too long for SQLite"))?;
                    // SAFETY: SQLITE_STATIC: SQLite keeps the pointer, not a copy; the text is
                    // borrowed for the whole `for_each_row` call, which clears the bindings.
                    unsafe {
                        ffi::sqlite3_bind_text(
                            statement,
                            position,
                            text.as_ptr().cast::<c_char>(),
                            length,
                            ffi::SQLITE_STATIC(),
                        )
                    }
                }
                // SAFETY: a live statement and a position within its parameter count.
                Value::Integer(value) => unsafe {
                    ffi::sqlite3_bind_int64(statement, position, *value)
                },
                // SAFETY: as above.
                Value::Null => unsafe { ffi::sqlite3_bind_null(statement, position) },
            };
            if code != ffi::SQLITE_OK {
                return Err(self.connection.error(code));
            }
        }
        Ok(())
    }
}

/// One result row: columns are read by index, valid until the next step (the row is only
/// lent to `visit`, so nothing read from it outlives the step).
pub(crate) struct Row<'s> {
    statement: *mut ffi::sqlite3_stmt,
    _statement: PhantomData<&'s Statement>,
}

fn column_index(index: usize) -> AppResult<c_int> {
    c_int::try_from(index).map_err(|_| AppError::storage("column index out of range"))
}

impl StoredRow for Row<'_> {
    fn integer(&self, index: usize) -> AppResult<i64> {
        let column = column_index(index)?;
        // SAFETY: `statement` is a live statement positioned on a row (see `for_each_row`).
        Ok(unsafe { ffi::sqlite3_column_int64(self.statement, column) })
    }

    fn cell<'b>(&'b self, index: usize, buffer: &'b mut [u8; 20]) -> AppResult<Option<&'b str>> {
        let column = column_index(index)?;
        // SAFETY: a live statement positioned on a row (see `for_each_row`).
        let kind = unsafe { ffi::sqlite3_column_type(self.statement, column) };
        match kind {
            ffi::SQLITE_NULL => Ok(None),
            ffi::SQLITE_INTEGER => Ok(Some(crate::evidence::decimal(self.integer(index)?, buffer))),
            _ => self.text(index).map(Some),
        }
    }

    fn text(&self, index: usize) -> AppResult<&str> {
        let column = column_index(index)?;
        // SAFETY: as above; the text pointer stays valid until the next step, and this
        // borrow of `self` ends before that. The length is read after the text, as SQLite
        // asks (a conversion by `column_text` changes it).
        let (text, length) = unsafe {
            let text = ffi::sqlite3_column_text(self.statement, column);
            (text, ffi::sqlite3_column_bytes(self.statement, column))
        };
        let length = usize::try_from(length).unwrap_or(0);
        if text.is_null() || length == 0 {
            return Ok("");
        }
        // SAFETY: SQLite guarantees `length` readable bytes at `text` until the next step.
        let bytes = unsafe { std::slice::from_raw_parts(text, length) };
        std::str::from_utf8(bytes).map_err(|_| AppError::storage("stored text is not valid UTF-8"))
    }
}

static CONFIGURE: std::sync::Once = std::sync::Once::new();

/// Process-wide SQLite settings, before any connection opens: no global memory statistics
/// (SQLite otherwise takes a global mutex around every allocation, for a counter fincore
/// never reads). Runs once however often it is called.
pub(crate) fn configure_library() {
    CONFIGURE.call_once(|| {
        // SAFETY: `Once` makes this the process's only call; before the first open it takes
        // effect, after SQLite is initialised it only returns SQLITE_MISUSE and changes nothing.
        unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
        }
    });
}

/// Tell the connection not to checkpoint the WAL when it closes (`sqlite::connect_as_is`).
pub(crate) async fn no_checkpoint_on_close(
    connection: &mut sqlx::SqliteConnection,
) -> Result<(), sqlx::Error> {
    let mut locked = connection.lock_handle().await?;
    let handle = locked.as_raw_handle();
    // SAFETY: the handle is locked out of its sqlx worker while we use it; the option takes an
    // int and an optional int* to report the new value (none here).
    let code = unsafe {
        ffi::sqlite3_db_config(
            handle.as_ptr(),
            ffi::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            1 as c_int,
            ptr::null_mut::<c_int>(),
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (error {code})").into(),
        ));
    }
    Ok(())
}
