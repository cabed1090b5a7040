//! View types of accounts and transfers: each one serialises to the JSON object SPEC.md lists
//! and declares the table/CSV columns read from the same fields.

use crate::clock::format_instant;
use crate::model::{Account, Transfer, TransferKind};
use crate::output::{Column, Record};
use serde::Serialize;

/// An account as every command prints it.
#[derive(Debug, Serialize)]
pub(crate) struct AccountView {
    number: String,
    holder: String,
    #[serde(rename = "type")]
    account_type: &'static str,
    currency: String,
    status: &'static str,
    balance: String,
    overdraft_limit: String,
    created_at: String,
    updated_at: String,
    /// A settlement account's IBAN, only when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    iban: Option<String>,
    /// A settlement account's bank account string (MT940 `:25:`), only when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_account: Option<String>,
}

impl AccountView {
    /// Whether the account carries bank identifiers (the detail table then shows them).
    pub(crate) fn has_identifiers(&self) -> bool {
        self.iban.is_some() || self.bank_account.is_some()
    }
}

impl From<&Account> for AccountView {
    fn from(account: &Account) -> AccountView {
        AccountView {
            number: account.number.clone(),
            holder: account.holder.clone(),
            account_type: account.account_type.as_str(),
            currency: account.currency.code().to_string(),
            status: account.status.as_str(),
            balance: account.currency.format(account.balance_minor),
            overdraft_limit: account.currency.format(account.overdraft_limit_minor),
            created_at: format_instant(account.created_at_us),
            updated_at: format_instant(account.updated_at_us),
            iban: account.identifiers.iban.clone(),
            bank_account: account.identifiers.bank_account.clone(),
        }
    }
}

impl Record for AccountView {
    const COLUMNS: &'static [Column<AccountView>] = &[
        Column::field("number"),
        Column::field("holder"),
        Column::field("type"),
        Column::field("currency"),
        Column::field("status"),
        Column::field("balance"),
        Column::field("overdraft_limit").wide(),
        Column::field("created_at").wide(),
        Column::field("updated_at").wide(),
    ];
}

/// One account with its bank identifiers as two more columns (`account show`, `open`,
/// `update` of a settlement account that has them; lists keep the plain columns).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct AccountDetailView(pub(crate) AccountView);

impl Record for AccountDetailView {
    const COLUMNS: &'static [Column<AccountDetailView>] = &[
        Column::field("number"),
        Column::field("holder"),
        Column::field("type"),
        Column::field("currency"),
        Column::field("status"),
        Column::field("balance"),
        Column::field("overdraft_limit"),
        Column::field("created_at"),
        Column::field("updated_at"),
        Column::text("iban", |view| view.0.iban.clone().unwrap_or_default()),
        Column::text("bank_account", |view| {
            view.0.bank_account.clone().unwrap_or_default()
        }),
    ];
}

/// A transfer as every command prints it. The table also shows the kind and a rejected
/// transfer's error code, which the JSON does not carry.
#[derive(Debug, Serialize)]
pub(crate) struct TransferView {
    id: i64,
    key: Option<String>,
    #[serde(skip)]
    kind: TransferKind,
    from: String,
    to: String,
    amount: String,
    currency: String,
    status: &'static str,
    #[serde(skip)]
    error_code: Option<String>,
    reference: String,
    description: String,
    at: String,
    risk: RiskView,
    trace_id: String,
    replayed: bool,
}

#[derive(Debug, Serialize)]
struct RiskView {
    score: u32,
    level: &'static str,
    decision: &'static str,
}

impl TransferView {
    /// `replayed`: this transfer was returned for a key already used with the same payload.
    pub(crate) fn new(transfer: &Transfer, replayed: bool) -> TransferView {
        TransferView {
            id: transfer.id,
            key: transfer.key.clone(),
            kind: transfer.kind,
            from: transfer.from.clone(),
            to: transfer.to.clone(),
            amount: transfer.currency.format(transfer.amount_minor),
            currency: transfer.currency.code().to_string(),
            status: transfer.status.as_str(),
            error_code: transfer.error_code.clone(),
            reference: transfer.reference.clone(),
            description: transfer.description.clone(),
            at: format_instant(transfer.at_us),
            risk: RiskView {
                score: transfer.risk.score,
                level: transfer.risk.level.as_str(),
                decision: transfer.risk.decision.as_str(),
            },
            trace_id: transfer.trace_id.clone(),
            replayed,
        }
    }

    /// Transfers read back from the store (none of them replayed).
    pub(crate) fn list(transfers: &[Transfer]) -> Vec<TransferView> {
        transfers
            .iter()
            .map(|transfer| TransferView::new(transfer, false))
            .collect()
    }
}

impl Record for TransferView {
    const COLUMNS: &'static [Column<TransferView>] = &[
        Column::field("id"),
        Column::field("key").wide(),
        Column::text("kind", |transfer: &TransferView| transfer.kind.to_string()).wide(),
        Column::field("from"),
        Column::field("to"),
        Column::field("amount"),
        Column::field("currency"),
        Column::text("status", |transfer| match &transfer.error_code {
            Some(code) => format!("{} ({code})", transfer.status),
            None => transfer.status.to_string(),
        }),
        Column::field("reference").wide(),
        Column::field("description").wide(),
        Column::field("at").wide(),
        Column::field_at("risk_score", "risk.score").wide(),
        Column::field_at("risk_decision", "risk.decision").wide(),
        Column::field("trace_id").wide(),
    ];
}
