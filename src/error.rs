//! One error type for the whole program: a stable snake_case code (the spec's contract),
//! a human message, and the exit code derived from the code.

use std::fmt;

/// Stable error codes from SPEC.md "Exit codes and errors", plus a few the spec leaves to us
/// (`not_found`, `account_exists`, `balance_not_zero`, `invalid_state`, `usage_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InsufficientFunds,
    AccountFrozen,
    AccountClosed,
    AccountNotFound,
    AccountsMustBeDifferent,
    CurrencyMismatch,
    AmountMustBePositive,
    AmountPrecisionExceeded,
    AmountOutOfRange,
    InvalidCurrency,
    RiskRejected,
    IdempotencyConflict,
    ReversalExists,
    InvalidInput,
    StorageUnavailable,
    NotFound,
    AccountExists,
    BalanceNotZero,
    InvalidState,
    UsageError,
}

impl ErrorCode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::AccountFrozen => "account_frozen",
            ErrorCode::AccountClosed => "account_closed",
            ErrorCode::AccountNotFound => "account_not_found",
            ErrorCode::AccountsMustBeDifferent => "accounts_must_be_different",
            ErrorCode::CurrencyMismatch => "currency_mismatch",
            ErrorCode::AmountMustBePositive => "amount_must_be_positive",
            ErrorCode::AmountPrecisionExceeded => "amount_precision_exceeded",
            ErrorCode::AmountOutOfRange => "amount_out_of_range",
            ErrorCode::InvalidCurrency => "invalid_currency",
            ErrorCode::RiskRejected => "risk_rejected",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::ReversalExists => "reversal_exists",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::NotFound => "not_found",
            ErrorCode::AccountExists => "account_exists",
            ErrorCode::BalanceNotZero => "balance_not_zero",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::UsageError => "usage_error",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<ErrorCode> {
        ALL_CODES.iter().copied().find(|code| code.as_str() == text)
    }

    /// Exit code per SPEC.md: 2 usage, 3 business rule, 4 invalid input, 5 not found,
    /// 6 conflict, 7 storage.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            ErrorCode::UsageError => 2,
            ErrorCode::InsufficientFunds
            | ErrorCode::AccountFrozen
            | ErrorCode::AccountClosed
            | ErrorCode::AccountsMustBeDifferent
            | ErrorCode::CurrencyMismatch
            | ErrorCode::RiskRejected
            | ErrorCode::ReversalExists
            | ErrorCode::BalanceNotZero
            | ErrorCode::InvalidState => 3,
            ErrorCode::AmountMustBePositive
            | ErrorCode::AmountPrecisionExceeded
            | ErrorCode::AmountOutOfRange
            | ErrorCode::InvalidCurrency
            | ErrorCode::InvalidInput => 4,
            ErrorCode::AccountNotFound | ErrorCode::NotFound => 5,
            ErrorCode::IdempotencyConflict | ErrorCode::AccountExists => 6,
            ErrorCode::StorageUnavailable => 7,
        }
    }
}

pub(crate) const ALL_CODES: [ErrorCode; 20] = [
    ErrorCode::InsufficientFunds,
    ErrorCode::AccountFrozen,
    ErrorCode::AccountClosed,
    ErrorCode::AccountNotFound,
    ErrorCode::AccountsMustBeDifferent,
    ErrorCode::CurrencyMismatch,
    ErrorCode::AmountMustBePositive,
    ErrorCode::AmountPrecisionExceeded,
    ErrorCode::AmountOutOfRange,
    ErrorCode::InvalidCurrency,
    ErrorCode::RiskRejected,
    ErrorCode::IdempotencyConflict,
    ErrorCode::ReversalExists,
    ErrorCode::InvalidInput,
    ErrorCode::StorageUnavailable,
    ErrorCode::NotFound,
    ErrorCode::AccountExists,
    ErrorCode::BalanceNotZero,
    ErrorCode::InvalidState,
    ErrorCode::UsageError,
];

impl fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// A serialization failure or deadlock: the whole transaction may be run again.
    pub retryable: bool,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            retryable: false,
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::InvalidInput, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::NotFound, message)
    }

    pub(crate) fn storage(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::StorageUnavailable, message)
    }

    pub(crate) fn usage(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::UsageError, message)
    }

    pub(crate) fn exit_code(&self) -> u8 {
        self.code.exit_code()
    }

    /// Prefix the message with where the bad value came from (file, row, field).
    pub fn context(mut self, place: impl fmt::Display) -> AppError {
        self.message = format!("{place}: {}", self.message);
        self
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> AppError {
        AppError::invalid_input(error.to_string())
    }
}
