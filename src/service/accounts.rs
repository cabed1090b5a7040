//! Account lifecycle: open (with an optional initial deposit), freeze, unfreeze, close, import.

use super::post::post_in;
use super::write_batch;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::evidence::ACCOUNTS;
use crate::ledger::Outcome;
use crate::model::account_number as number;
use crate::model::TransferRequest;
use crate::model::{Account, AccountStatus, AccountType, BankIdentifiers, TransferKind};
use crate::money::Currency;
use crate::store::{with_retry, Actor, Store, WriteTx};
use tracing::Instrument;

pub(crate) const HOLDER_LENGTH_MAX: usize = 200;
/// Account imports run in one transaction; bigger files should be split.
pub(crate) const ACCOUNT_IMPORT_ROWS_MAX: usize = 100_000;
/// Attempts to find an unused generated number before giving up.
const NUMBER_ATTEMPTS_MAX: u32 = 8;

#[derive(Debug, Clone)]
pub(crate) struct OpenRequest {
    pub(crate) holder: String,
    pub(crate) account_type: AccountType,
    pub(crate) currency: Currency,
    pub(crate) number: Option<String>,
    pub(crate) overdraft_limit_minor: i64,
    pub(crate) initial_deposit: Option<(i64, String)>,
    /// Validated; settlement accounts only.
    pub(crate) identifiers: BankIdentifiers,
}

pub(crate) fn validate_holder(holder: &str) -> AppResult<String> {
    let trimmed = holder.trim();
    if trimmed.is_empty() || trimmed.chars().count() > HOLDER_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "holder must be 1–{HOLDER_LENGTH_MAX} characters"
        )));
    }
    Ok(trimmed.to_string())
}

fn new_account(request: &OpenRequest, number: String, now_us: i64) -> Account {
    Account {
        number,
        holder: request.holder.clone(),
        account_type: request.account_type,
        currency: request.currency,
        status: AccountStatus::Active,
        balance_minor: 0,
        overdraft_limit_minor: request.overdraft_limit_minor,
        created_at_us: now_us,
        updated_at_us: now_us,
        identifiers: request.identifiers.clone(),
    }
}

pub(crate) async fn open(
    store: &Store,
    actor: &Actor,
    request: &OpenRequest,
) -> AppResult<Account> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let account = insert_new(&mut tx, request).await?;
        if let Some((amount_minor, via)) = &request.initial_deposit {
            deposit_initial(&mut tx, &account, *amount_minor, via).await?;
        }
        tx.commit().await?;
        Ok(account)
    })
    .await
}

async fn insert_new(tx: &mut WriteTx, request: &OpenRequest) -> AppResult<Account> {
    let now_us = tx.actor.now_us;
    if !request.identifiers.is_empty() {
        check_identifiers_allowed(request.account_type, request.number.as_deref())?;
        // A generated number is new: no account but itself can be `except`.
        let except = request.number.as_deref().unwrap_or_default();
        check_identifiers_free(tx, &request.identifiers, except).await?;
    }
    let mut attempts = 0;
    let account = loop {
        attempts += 1;
        let number = request.number.clone().unwrap_or_else(number::generate);
        let account = new_account(request, number, now_us);
        match tx.insert_account(&account).await {
            Ok(()) => break account,
            Err(error)
                if error.code == ErrorCode::AccountExists
                    && request.number.is_none()
                    && attempts < NUMBER_ATTEMPTS_MAX => {}
            Err(error) => return Err(error),
        }
    };
    let row = tx.bind_row(&ACCOUNTS, &account.number).await?;
    tx.audit_rows(
        "account.opened",
        &account.number,
        account_details(&account),
        vec![row],
    );
    Ok(account)
}

async fn deposit_initial(
    tx: &mut WriteTx,
    account: &Account,
    amount_minor: i64,
    via: &str,
) -> AppResult<()> {
    let settlement = tx.account(via).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::AccountNotFound,
            format!("--via account {via} does not exist"),
        )
    })?;
    if settlement.account_type != AccountType::Settlement {
        return Err(AppError::invalid_input(format!(
            "--via {via}: not a settlement account"
        )));
    }
    let request = TransferRequest {
        kind: TransferKind::Deposit,
        key: None,
        from: via.to_string(),
        to: account.number.clone(),
        amount_minor,
        currency: account.currency,
        reference: "initial deposit".to_string(),
        description: String::new(),
        at_us: None,
        reverses_id: None,
    };
    let (outcome, book, batch) =
        post_in(tx, &request, &super::risk_rules::RiskOptions::default()).await?;
    match outcome {
        Outcome::Posted(_) => write_batch(tx, &book, batch).await,
        other => Err(other
            .error()
            .unwrap_or_else(|| AppError::invalid_input("initial deposit failed"))),
    }
}

fn account_details(account: &Account) -> serde_json::Value {
    let mut details = serde_json::json!({
        "number": account.number,
        "holder": account.holder,
        "type": account.account_type.as_str(),
        "currency": account.currency.code(),
        "overdraft_limit": account.currency.format(account.overdraft_limit_minor),
    });
    // Only when set, so the events of accounts without identifiers keep their shape.
    if let Some(object) = details.as_object_mut() {
        object.extend(identifier_details(&account.identifiers));
    }
    details
}

/// `iban` and `bank_account`, those that are set.
fn identifier_details(identifiers: &BankIdentifiers) -> serde_json::Map<String, serde_json::Value> {
    let mut details = serde_json::Map::new();
    if let Some(iban) = &identifiers.iban {
        details.insert("iban".to_string(), iban.as_str().into());
    }
    if let Some(bank_account) = &identifiers.bank_account {
        details.insert("bank_account".to_string(), bank_account.as_str().into());
    }
    details
}

/// Only settlement accounts (our accounts at a bank) carry the bank's identifiers.
fn check_identifiers_allowed(account_type: AccountType, number: Option<&str>) -> AppResult<()> {
    if account_type == AccountType::Settlement {
        return Ok(());
    }
    let subject = number.map_or_else(String::new, |number| format!("account {number}: "));
    Err(AppError::new(
        ErrorCode::InvalidState,
        format!(
            "{subject}only settlement accounts carry bank identifiers (--iban, --bank-account), not {account_type} accounts"
        ),
    ))
}

/// Each identifier names at most one account, whichever column holds it (exit 6 otherwise).
async fn check_identifiers_free(
    tx: &mut WriteTx,
    identifiers: &BankIdentifiers,
    except: &str,
) -> AppResult<()> {
    let named = [
        ("IBAN", identifiers.iban.as_deref()),
        ("bank account", identifiers.bank_account.as_deref()),
    ];
    for (what, value) in named {
        let Some(value) = value else { continue };
        if let Some(holder) = tx.account_with_identifier(value, except).await? {
            return Err(AppError::new(
                ErrorCode::AccountExists,
                format!("{what} {value} already belongs to account {holder}"),
            ));
        }
    }
    Ok(())
}

/// What `account update` changes: each identifier is kept, set or cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Keep,
    Set(String),
    Clear,
}

impl Change {
    fn apply(&self, current: &Option<String>) -> Option<String> {
        match self {
            Change::Keep => current.clone(),
            Change::Set(value) => Some(value.clone()),
            Change::Clear => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UpdateRequest {
    pub(crate) number: String,
    /// Validated IBAN (electronic form).
    pub(crate) iban: Change,
    /// Validated bank account string.
    pub(crate) bank_account: Change,
}

/// The account after `account update`, and whether anything was written.
#[derive(Debug, Clone)]
pub(crate) struct UpdateOutcome {
    pub(crate) account: Account,
    pub(crate) before: BankIdentifiers,
    pub(crate) updated: bool,
}

/// Set or clear a settlement account's bank identifiers, audited (`account.updated` with the
/// identifiers before and after) in the same transaction. Asking for what is already there
/// writes nothing (`updated: false`).
pub(crate) async fn update(
    store: &Store,
    actor: &Actor,
    request: &UpdateRequest,
) -> AppResult<UpdateOutcome> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let outcome = update_in(&mut tx, request).await;
        match outcome {
            Ok(outcome) if outcome.updated => {
                tx.commit().await?;
                Ok(outcome)
            }
            Ok(outcome) => {
                tx.rollback().await?;
                Ok(outcome)
            }
            Err(error) => {
                tx.rollback().await?;
                Err(error)
            }
        }
    })
    .await
}

async fn update_in(tx: &mut WriteTx, request: &UpdateRequest) -> AppResult<UpdateOutcome> {
    let number = &request.number;
    let mut account = tx.account(number).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::AccountNotFound,
            format!("account {number} does not exist"),
        )
    })?;
    check_identifiers_allowed(account.account_type, Some(number))?;
    let before = account.identifiers.clone();
    let after = BankIdentifiers {
        iban: request.iban.apply(&before.iban),
        bank_account: request.bank_account.apply(&before.bank_account),
    };
    if after == before {
        return Ok(UpdateOutcome {
            account,
            before,
            updated: false,
        });
    }
    if account.status == AccountStatus::Closed
        && !after
            .values()
            .all(|value| before.values().any(|old| old == value))
    {
        return Err(AppError::new(
            ErrorCode::AccountClosed,
            format!("account {number} is closed; its identifiers can only be cleared"),
        ));
    }
    let added = BankIdentifiers {
        iban: after
            .iban
            .clone()
            .filter(|iban| before.iban.as_ref() != Some(iban)),
        bank_account: after
            .bank_account
            .clone()
            .filter(|text| before.bank_account.as_ref() != Some(text)),
    };
    check_identifiers_free(tx, &added, number).await?;
    let now_us = tx.actor.now_us;
    tx.set_account_identifiers(number, &after, now_us).await?;
    let row = tx.bind_row(&ACCOUNTS, number).await?;
    tx.audit_rows(
        "account.updated",
        number,
        serde_json::json!({
            "number": number,
            "before": identifier_details(&before),
            "after": identifier_details(&after),
        }),
        vec![row],
    );
    account.identifiers = after;
    account.updated_at_us = now_us;
    Ok(UpdateOutcome {
        account,
        before,
        updated: true,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusChange {
    Freeze,
    Unfreeze,
    Close,
}

pub(crate) async fn change_status(
    store: &Store,
    actor: &Actor,
    number: &str,
    change: StatusChange,
    reason: &str,
) -> AppResult<Account> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let mut account = tx.account(number).await?.ok_or_else(|| {
            AppError::new(ErrorCode::AccountNotFound, format!("account {number} does not exist"))
        })?;
        let (status, action) = next_status(&account, change)?;
        tx.set_account_status(number, status, actor.now_us).await?;
        let row = tx.bind_row(&ACCOUNTS, number).await?;
        tx.audit_rows(
            action,
            number,
            serde_json::json!({ "number": number, "from": account.status.as_str(), "to": status.as_str(), "reason": reason }),
            vec![row],
        );
        tx.commit().await?;
        account.status = status;
        account.updated_at_us = actor.now_us;
        Ok(account)
    })
    .await
}

fn next_status(
    account: &Account,
    change: StatusChange,
) -> AppResult<(AccountStatus, &'static str)> {
    let number = &account.number;
    if account.status == AccountStatus::Closed {
        return Err(AppError::new(
            ErrorCode::AccountClosed,
            format!("account {number} is closed"),
        ));
    }
    match change {
        StatusChange::Freeze if account.status == AccountStatus::Frozen => Err(AppError::new(
            ErrorCode::InvalidState,
            format!("account {number} is already frozen"),
        )),
        StatusChange::Freeze => Ok((AccountStatus::Frozen, "account.frozen")),
        StatusChange::Unfreeze if account.status != AccountStatus::Frozen => Err(AppError::new(
            ErrorCode::InvalidState,
            format!("account {number} is not frozen"),
        )),
        StatusChange::Unfreeze => Ok((AccountStatus::Active, "account.unfrozen")),
        StatusChange::Close if account.balance_minor != 0 => Err(AppError::new(
            ErrorCode::BalanceNotZero,
            format!(
                "account {number} has balance {} {}; only a zero balance can be closed",
                account.currency.format(account.balance_minor),
                account.currency
            ),
        )),
        StatusChange::Close => Ok((AccountStatus::Closed, "account.closed")),
    }
}

/// One validated row of an account import file.
#[derive(Debug, Clone)]
pub(crate) struct ImportRow {
    pub(crate) line: u64,
    pub(crate) request: OpenRequest,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct AccountImportSummary {
    pub(crate) rows: usize,
    pub(crate) created: usize,
    pub(crate) unchanged: usize,
    pub(crate) numbers: Vec<String>,
}

/// All rows in one transaction: a conflicting row aborts the whole import (exit 6) so master
/// data is never half-loaded; identical rows are no-ops.
pub(crate) async fn import(
    store: &Store,
    actor: &Actor,
    rows: &[ImportRow],
) -> AppResult<AccountImportSummary> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let mut summary = AccountImportSummary {
            rows: rows.len(),
            ..Default::default()
        };
        // Per-row lookups and inserts stay out of the export: this one span stands for them.
        let span = tracing::info_span!(
            target: "fincore",
            "fincore.import.accounts",
            fincore.leaf = true,
            fincore.rows = rows.len() as i64,
        );
        async {
            for row in rows {
                let number = import_row(&mut tx, row)
                    .await
                    .map_err(|e| e.context(format!("line {}", row.line)))?;
                match number {
                    Some(number) => {
                        summary.created += 1;
                        summary.numbers.push(number);
                    }
                    None => summary.unchanged += 1,
                }
            }
            AppResult::Ok(())
        }
        .instrument(span)
        .await?;
        tx.commit().await?;
        Ok(summary)
    })
    .await
}

/// Some(number) when created, None when an identical account already exists.
async fn import_row(tx: &mut WriteTx, row: &ImportRow) -> AppResult<Option<String>> {
    let request = &row.request;
    let existing = match &request.number {
        Some(number) => tx.account(number).await?,
        None => {
            tx.account_like(&request.holder, request.account_type, request.currency)
                .await?
        }
    };
    if let Some(existing) = existing {
        let same = existing.holder == request.holder
            && existing.account_type == request.account_type
            && existing.currency == request.currency
            && existing.overdraft_limit_minor == request.overdraft_limit_minor;
        if same {
            return Ok(None);
        }
        return Err(AppError::new(
            ErrorCode::AccountExists,
            format!(
                "number: account {} exists with different details",
                existing.number
            ),
        ));
    }
    let account = insert_new(tx, request).await?;
    Ok(Some(account.number))
}
