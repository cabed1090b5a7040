//! JSON and table shapes of accounts and transfers, exactly as SPEC.md lists their keys.

use crate::clock::format_instant;
use crate::model::{Account, Transfer};
use crate::output::Section;
use serde_json::{json, Value};

pub fn account_json(account: &Account) -> Value {
    json!({
        "number": account.number,
        "holder": account.holder,
        "type": account.account_type.as_str(),
        "currency": account.currency.code(),
        "status": account.status.as_str(),
        "balance": account.currency.format(account.balance_minor),
        "overdraft_limit": account.currency.format(account.overdraft_limit_minor),
        "created_at": format_instant(account.created_at_us),
        "updated_at": format_instant(account.updated_at_us),
    })
}

pub const ACCOUNT_HEADERS: [&str; 9] = [
    "number",
    "holder",
    "type",
    "currency",
    "status",
    "balance",
    "overdraft_limit",
    "created_at",
    "updated_at",
];

pub fn account_row(account: &Account) -> Vec<String> {
    vec![
        account.number.clone(),
        account.holder.clone(),
        account.account_type.to_string(),
        account.currency.to_string(),
        account.status.to_string(),
        account.currency.format(account.balance_minor),
        account.currency.format(account.overdraft_limit_minor),
        format_instant(account.created_at_us),
        format_instant(account.updated_at_us),
    ]
}

pub fn accounts_section(accounts: &[Account]) -> Section {
    let mut section = Section::new(&ACCOUNT_HEADERS);
    for account in accounts {
        section.push(account_row(account));
    }
    section
}

pub fn transfer_json(transfer: &Transfer, replayed: bool) -> Value {
    json!({
        "id": transfer.id,
        "key": transfer.key,
        "from": transfer.from,
        "to": transfer.to,
        "amount": transfer.currency.format(transfer.amount_minor),
        "currency": transfer.currency.code(),
        "status": transfer.status.as_str(),
        "reference": transfer.reference,
        "description": transfer.description,
        "at": format_instant(transfer.at_us),
        "risk": {
            "score": transfer.risk.score,
            "level": transfer.risk.level.as_str(),
            "decision": transfer.risk.decision.as_str(),
        },
        "trace_id": transfer.trace_id,
        "replayed": replayed,
    })
}

pub const TRANSFER_HEADERS: [&str; 14] = [
    "id",
    "key",
    "kind",
    "from",
    "to",
    "amount",
    "currency",
    "status",
    "reference",
    "description",
    "at",
    "risk_score",
    "risk_decision",
    "trace_id",
];

pub fn transfer_row(transfer: &Transfer) -> Vec<String> {
    vec![
        transfer.id.to_string(),
        transfer.key.clone().unwrap_or_default(),
        transfer.kind.to_string(),
        transfer.from.clone(),
        transfer.to.clone(),
        transfer.currency.format(transfer.amount_minor),
        transfer.currency.to_string(),
        match &transfer.error_code {
            Some(code) => format!("{} ({code})", transfer.status),
            None => transfer.status.to_string(),
        },
        transfer.reference.clone(),
        transfer.description.clone(),
        format_instant(transfer.at_us),
        transfer.risk.score.to_string(),
        transfer.risk.decision.as_str().to_string(),
        transfer.trace_id.clone(),
    ]
}

pub fn transfers_section(transfers: &[Transfer]) -> Section {
    let mut section = Section::new(&TRANSFER_HEADERS);
    for transfer in transfers {
        section.push(transfer_row(transfer));
    }
    section
}
