//! View types of accounts and transfers: each one serialises to the JSON object SPEC.md lists
//! and declares the table/CSV columns read from the same fields.

use crate::clock::format_instant;
use crate::model::{Account, Transfer};
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
    /// The instant `balance` was read at (`account show --as-of`); absent for the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    as_of: Option<String>,
}

impl AccountView {
    /// The balance was read as of this instant (the caller set it).
    pub(crate) fn read_at(mut self, instant: String) -> AccountView {
        self.as_of = Some(instant);
        self
    }

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
            as_of: None,
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

/// A transfer as every command prints it, with its history: what it reverses and what
/// reversed it (`reversed_by` is read separately, see `with_reversed_by`).
#[derive(Debug, Serialize)]
pub(crate) struct TransferView {
    id: i64,
    key: Option<String>,
    kind: &'static str,
    from: String,
    to: String,
    amount: String,
    currency: String,
    status: &'static str,
    error_code: Option<String>,
    reference: String,
    description: String,
    at: String,
    /// The transfer this one reverses.
    reverses: Option<i64>,
    /// The transfer that reversed this one.
    reversed_by: Option<i64>,
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
            kind: transfer.kind.as_str(),
            from: transfer.from.clone(),
            to: transfer.to.clone(),
            amount: transfer.currency.format(transfer.amount_minor),
            currency: transfer.currency.code().to_string(),
            status: transfer.status.as_str(),
            error_code: transfer.error_code.clone(),
            reference: transfer.reference.clone(),
            description: transfer.description.clone(),
            at: format_instant(transfer.at_us),
            reverses: transfer.reverses_id,
            reversed_by: None,
            risk: RiskView {
                score: transfer.risk.score,
                level: transfer.risk.level.as_str(),
                decision: transfer.risk.decision.as_str(),
            },
            trace_id: transfer.trace_id.clone(),
            replayed,
        }
    }

    /// The id of the transfer that reversed this one.
    pub(crate) fn with_reversed_by(mut self, reversal_id: Option<i64>) -> TransferView {
        self.reversed_by = reversal_id;
        self
    }

    /// Transfers read back from the store (none of them replayed), with the reversals found
    /// for them (`(original id, reversal id)` pairs).
    pub(crate) fn list(transfers: &[Transfer], reversals: &[(i64, i64)]) -> Vec<TransferView> {
        transfers
            .iter()
            .map(|transfer| {
                let reversal = reversals
                    .iter()
                    .find(|(original, _)| *original == transfer.id)
                    .map(|(_, reversal)| *reversal);
                TransferView::new(transfer, false).with_reversed_by(reversal)
            })
            .collect()
    }
}

impl Record for TransferView {
    const COLUMNS: &'static [Column<TransferView>] = &[
        Column::field("id"),
        Column::field("key").wide(),
        Column::field("kind").wide(),
        Column::field("from"),
        Column::field("to"),
        Column::field("amount"),
        Column::field("currency"),
        Column::field("status"),
        Column::field("error_code").wide(),
        Column::field("reference").wide(),
        Column::field("description").wide(),
        Column::field("at").wide(),
        Column::field("reverses").wide(),
        Column::field("reversed_by").wide(),
        Column::field_at("risk_score", "risk.score").wide(),
        Column::field_at("risk_decision", "risk.decision").wide(),
        Column::field("trace_id").wide(),
    ];
}
