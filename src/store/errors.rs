//! Driver errors as the program's errors. Lives in `store/` so that `crate::error` stays at the
//! bottom of the crate (it imports nothing above it) and knows nothing of sqlx.

use super::{database_shown, lock_timeout, scrub, sqlite};
use crate::error::{AppError, ErrorCode};

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> AppError {
        classify_error(error)
    }
}

/// Map a driver error to the program's error codes. Callers that expect a specific constraint
/// violation (duplicate number, reused key) check for it before this.
pub(crate) fn classify_error(error: sqlx::Error) -> AppError {
    let mut message = scrub(&error.to_string()).replace(['\n', '\r'], " ");
    if let sqlx::Error::Database(db) = &error {
        if let Some(code) = db.code() {
            message = format!("{message} (SQLSTATE {code})");
        }
        if db.code().as_deref() == Some("55P03") {
            return AppError::storage(format!(
                "another writer held the ledger lock for more than {} s: {message}",
                lock_timeout().as_secs()
            ));
        }
        if let Some(described) = sqlite::describe_error(db.as_ref(), &database_shown()) {
            return AppError::storage(format!("{described} ({message})"));
        }
    }
    match &error {
        sqlx::Error::RowNotFound => AppError::not_found(message),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            AppError::storage(format!("stored data could not be read: {message}"))
        }
        _ => {
            let mut classified = AppError::new(ErrorCode::StorageUnavailable, message);
            classified.retryable = is_retryable(&error);
            classified
        }
    }
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Serialization failure or deadlock: the transaction may simply be tried again.
pub(crate) fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001") | Some("40P01")),
        _ => false,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A driver error carrying only a SQLSTATE, as PostgreSQL (or CockroachDB) reports it.
    #[derive(Debug)]
    struct FakeDatabaseError(&'static str);

    impl std::fmt::Display for FakeDatabaseError {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(formatter, "fake failure {}", self.0)
        }
    }

    impl std::error::Error for FakeDatabaseError {}

    impl sqlx::error::DatabaseError for FakeDatabaseError {
        fn message(&self) -> &str {
            "could not serialize access due to concurrent update"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    pub(in crate::store) fn database_error(code: &'static str) -> AppError {
        classify_error(sqlx::Error::Database(Box::new(FakeDatabaseError(code))))
    }

    #[test]
    fn serialization_failures_and_deadlocks_are_retryable() {
        for code in ["40001", "40P01"] {
            let error = database_error(code);
            assert!(error.retryable, "{code}");
            assert_eq!(error.code, ErrorCode::StorageUnavailable);
            assert!(error.message.contains(code), "{}", error.message);
        }
        assert!(!database_error("23505").retryable);
        assert!(!database_error("55P03").retryable);
        assert!(database_error("55P03").message.contains("ledger lock"));
        assert!(!classify_error(sqlx::Error::PoolTimedOut).retryable);
    }
}
