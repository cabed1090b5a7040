//! Row shapes as stored, and their conversion to domain records.

use super::columns::{self, Names};
use crate::error::{AppError, AppResult};
use crate::model::bank_identifiers::{self, BankIdentifiers};
use crate::model::{
    Account, RiskDecision, RiskLevel, RiskResult, Transfer, TransferKind, TransferStatus,
};
use crate::money::Currency;

pub(crate) const ACCOUNT_COLUMNS: &str = "number, holder, account_type, currency, status, balance_minor, overdraft_limit_minor, created_at_us, updated_at_us, iban, bank_account";

/// The transfer columns as SQL text, from the one column map (`columns::TRANSFER`).
pub(crate) const TRANSFER_COLUMNS: Names<'static, Transfer> = Names(&columns::TRANSFER);

/// A result row of either backend read by column index: the bulk reads' visitors decode it
/// once for both (`backend::scan_parallel`).
pub(crate) trait StoredRow {
    fn integer(&self, index: usize) -> AppResult<i64>;
    fn text(&self, index: usize) -> AppResult<&str>;
    /// A cell as `CAST(… AS TEXT)` gives it: text as stored, an integer in decimal (written
    /// into `buffer` when the row holds it as an integer), NULL as None.
    fn cell<'b>(&'b self, index: usize, buffer: &'b mut [u8; 20]) -> AppResult<Option<&'b str>>;
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    number: String,
    holder: String,
    account_type: String,
    currency: String,
    status: String,
    balance_minor: i64,
    overdraft_limit_minor: i64,
    created_at_us: i64,
    updated_at_us: i64,
    iban: Option<String>,
    bank_account: Option<String>,
}

impl AccountRow {
    pub(crate) fn into_account(self) -> AppResult<Account> {
        let stored = |column: &str,
                      value: &Option<String>,
                      valid: fn(&str) -> AppResult<String>| {
            match value {
                Some(text) if valid(text).ok().as_ref() != Some(text) => Err(corrupt_value(
                    "accounts",
                    column,
                    &self.number,
                    format!("'{text}'"),
                )),
                _ => Ok(value.clone()),
            }
        };
        let identifiers = BankIdentifiers {
            iban: stored("iban", &self.iban, bank_identifiers::validate_iban)?,
            bank_account: stored(
                "bank_account",
                &self.bank_account,
                bank_identifiers::validate_bank_account,
            )?,
        };
        Ok(Account {
            account_type: self.account_type.parse().map_err(corrupt)?,
            currency: Currency::parse(&self.currency).map_err(corrupt)?,
            status: self.status.parse().map_err(corrupt)?,
            number: self.number,
            holder: self.holder,
            balance_minor: self.balance_minor,
            overdraft_limit_minor: self.overdraft_limit_minor,
            created_at_us: self.created_at_us,
            updated_at_us: self.updated_at_us,
            identifiers,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TransferRow {
    id: i64,
    idempotency_key: Option<String>,
    payload_hash: String,
    kind: String,
    from_account: String,
    to_account: String,
    amount_minor: i64,
    currency: String,
    status: String,
    error_code: Option<String>,
    error_message: Option<String>,
    reference: String,
    description: String,
    at_us: i64,
    created_at_us: i64,
    risk_score: i64,
    risk_level: String,
    risk_decision: String,
    risk_factors: String,
    reverses_id: Option<i64>,
    operator: String,
    trace_id: String,
}

impl TransferRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }

    pub(crate) fn into_transfer(self) -> AppResult<Transfer> {
        let level = RiskLevel::parse(&self.risk_level)
            .ok_or_else(|| corrupt(AppError::invalid_input("risk level")))?;
        let decision = RiskDecision::parse(&self.risk_decision)
            .ok_or_else(|| corrupt(AppError::invalid_input("risk decision")))?;
        Ok(Transfer {
            id: self.id,
            key: self.idempotency_key,
            payload_hash: self.payload_hash,
            kind: self.kind.parse::<TransferKind>().map_err(corrupt)?,
            from: self.from_account,
            to: self.to_account,
            amount_minor: self.amount_minor,
            currency: Currency::parse(&self.currency).map_err(corrupt)?,
            status: self.status.parse::<TransferStatus>().map_err(corrupt)?,
            error_code: self.error_code,
            error_message: self.error_message,
            reference: self.reference,
            description: self.description,
            at_us: self.at_us,
            created_at_us: self.created_at_us,
            risk: RiskResult {
                score: stored_score("transfers", "risk_score", self.id, self.risk_score)?,
                level,
                decision,
                factors: serde_json::from_str(&self.risk_factors)
                    .map_err(|error| corrupt_value("transfers", "risk_factors", self.id, error))?,
            },
            reverses_id: self.reverses_id,
            operator: self.operator,
            trace_id: self.trace_id,
        })
    }
}

fn corrupt(error: AppError) -> AppError {
    AppError::storage(format!("stored row is not valid: {}", error.message))
}

/// A stored value fincore cannot have written (exit 7, `storage_unavailable`, like every
/// unreadable row): named by table, column and row id so the operator can find it. Never
/// read as zero or empty: a silently zeroed score or count would be a wrong answer.
pub(crate) fn corrupt_value(
    table: &str,
    column: &str,
    row: impl std::fmt::Display,
    detail: impl std::fmt::Display,
) -> AppError {
    AppError::storage(format!(
        "stored row is not valid: {table}.{column} of row {row}: {detail}"
    ))
}

/// A stored risk score: never negative as written.
pub(crate) fn stored_score(
    table: &str,
    column: &str,
    row: impl std::fmt::Display,
    score: i64,
) -> AppResult<u32> {
    u32::try_from(score).map_err(|_| corrupt_value(table, column, row, score))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_transfer() -> TransferRow {
        TransferRow {
            id: 7,
            idempotency_key: None,
            payload_hash: String::new(),
            kind: "transfer".to_string(),
            from_account: "A".to_string(),
            to_account: "B".to_string(),
            amount_minor: 100,
            currency: "EUR".to_string(),
            status: "posted".to_string(),
            error_code: None,
            error_message: None,
            reference: String::new(),
            description: String::new(),
            at_us: 0,
            created_at_us: 0,
            risk_score: 0,
            risk_level: "low".to_string(),
            risk_decision: "approve".to_string(),
            risk_factors: "[]".to_string(),
            reverses_id: None,
            operator: String::new(),
            trace_id: String::new(),
        }
    }

    #[test]
    fn a_sound_row_decodes() {
        assert_eq!(stored_transfer().into_transfer().unwrap().id, 7);
    }

    #[test]
    fn corrupt_risk_values_are_storage_errors_naming_the_place() {
        let negative = TransferRow {
            risk_score: -3,
            ..stored_transfer()
        };
        let error = negative.into_transfer().unwrap_err();
        assert_eq!(error.exit_code(), 7);
        assert_eq!(
            error.message,
            "stored row is not valid: transfers.risk_score of row 7: -3"
        );
        let garbled = TransferRow {
            risk_factors: "[{".to_string(),
            ..stored_transfer()
        };
        let error = garbled.into_transfer().unwrap_err();
        assert_eq!(error.exit_code(), 7);
        assert!(
            error
                .message
                .starts_with("stored row is not valid: transfers.risk_factors of row 7: "),
            "{}",
            error.message
        );
    }
}
