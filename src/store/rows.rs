//! Row shapes as stored, and their conversion to domain records.

use crate::error::{AppError, AppResult};
use crate::model::{
    Account, RiskDecision, RiskLevel, RiskResult, Transfer, TransferKind, TransferStatus,
};
use crate::money::Currency;

pub(crate) const ACCOUNT_COLUMNS: &str = "number, holder, account_type, currency, status, balance_minor, overdraft_limit_minor, created_at_us, updated_at_us";

pub(crate) const TRANSFER_COLUMNS: &str = "id, idempotency_key, payload_hash, kind, from_account, to_account, amount_minor, currency, status, error_code, error_message, reference, description, at_us, created_at_us, risk_score, risk_level, risk_decision, risk_factors, reverses_id, operator, trace_id";

pub(crate) const TRANSFER_COLUMN_COUNT: usize = 22;

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
}

impl AccountRow {
    pub(crate) fn into_account(self) -> AppResult<Account> {
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
                score: u32::try_from(self.risk_score).unwrap_or(0),
                level,
                decision,
                factors: serde_json::from_str(&self.risk_factors).unwrap_or_default(),
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
