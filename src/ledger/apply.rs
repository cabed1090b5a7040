//! Apply transfer requests to an in-memory book, then write the batch.

use crate::error::{AppError, AppResult, ErrorCode};
use crate::metrics::Tally;
use crate::model::TransferRequest;
use crate::model::{
    Account, AccountStatus, Actor, Entry, RiskResult, Transfer, TransferIds, TransferKind,
    TransferStatus,
};
use crate::risk::Assessor;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The accounts a batch may touch, as read under the write lock, plus transfers already bound
/// to the batch's keys.
#[derive(Debug, Default)]
pub(crate) struct Book {
    pub(crate) accounts: HashMap<String, Account>,
    /// Transfers already stored under the batch's keys.
    pub(crate) keyed: HashMap<String, Transfer>,
    /// Keys first used inside this batch: position among the batch's transfers (those
    /// already sent first, see `Batch::take_unsent`).
    keyed_in_batch: HashMap<String, usize>,
}

impl Book {
    pub(crate) fn new(
        accounts: HashMap<String, Account>,
        keyed: HashMap<String, Transfer>,
    ) -> Book {
        Book {
            accounts,
            keyed,
            keyed_in_batch: HashMap::new(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Transfers not yet handed to the database.
    pub(crate) transfers: Vec<Transfer>,
    pub(crate) entries: Vec<Entry>,
    /// Every account whose balance the batch changed, with how it changed.
    touched: BTreeMap<String, BalanceChange>,
    /// Transfers taken out by `take_unsent` so far (they come first).
    sent_count: usize,
    /// Risk assessments made for this batch, counted when it commits.
    pub(crate) tally: Tally,
}

impl Batch {
    /// Move out the transfers and entries applied since the last call, to be written while
    /// the batch goes on (`ApplyContext::sent` must then hold them, in order).
    pub(crate) fn take_unsent(&mut self) -> (Vec<Transfer>, Vec<Entry>) {
        self.sent_count += self.transfers.len();
        // The next part is probably as large: sized now rather than grown (and copied) row by row.
        let transfers = Vec::with_capacity(self.transfers.len());
        let entries = Vec::with_capacity(self.entries.len());
        (
            std::mem::replace(&mut self.transfers, transfers),
            std::mem::replace(&mut self.entries, entries),
        )
    }

    /// The transfer recorded last.
    pub(crate) fn last(&self) -> &Transfer {
        self.transfers.last().expect("a transfer was just recorded")
    }

    /// Accounts whose balance the batch changed.
    pub(crate) fn touched(&self) -> impl Iterator<Item = &String> {
        self.touched.keys()
    }

    /// Pair assertion, before anything is written: every touched account's balance in the book
    /// moved from its opening balance by exactly the effect of the batch's entries on it. The
    /// balance is computed once by the posting rules and once from the entries.
    pub(crate) fn assert_balances_follow_entries(&self, book: &Book) {
        for (number, change) in &self.touched {
            let balance_minor = book.accounts.get(number).map(|a| a.balance_minor);
            assert_eq!(
                balance_minor.map(i128::from),
                Some(i128::from(change.opening_minor) + change.entries_effect_minor),
                "account {number}: balance and entries disagree"
            );
        }
    }

    /// The transfer at `position` among all of the batch's transfers.
    fn transfer_at<'b>(&'b self, sent: &'b [Arc<Vec<Transfer>>], position: usize) -> &'b Transfer {
        if let Some(unsent) = position.checked_sub(self.sent_count) {
            return &self.transfers[unsent];
        }
        let mut remaining = position;
        for chunk in sent {
            if remaining < chunk.len() {
                return &chunk[remaining];
            }
            remaining -= chunk.len();
        }
        panic!("transfer position {position} is in neither the sent nor the unsent transfers")
    }
}

/// One account's balance in a batch: where it started and the sum of its entries' effects.
#[derive(Debug, Clone, Copy)]
struct BalanceChange {
    opening_minor: i64,
    entries_effect_minor: i128,
}

#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Posted(Transfer),
    /// The key was seen before with the same payload: the original (posted or rejected).
    Replayed(Transfer),
    /// A business rule said no; recorded as a rejected transfer bound to its key.
    Rejected(Transfer),
    /// Not recorded: unknown account, conflicting key, out-of-range balance.
    Invalid(AppError),
}

impl Outcome {
    /// The error this outcome means for the caller, if any.
    pub(crate) fn error(&self) -> Option<AppError> {
        match self {
            Outcome::Posted(_) => None,
            Outcome::Replayed(transfer) | Outcome::Rejected(transfer) => rejection_error(transfer),
            Outcome::Invalid(error) => Some(error.clone()),
        }
    }
}

pub(crate) fn rejection_error(transfer: &Transfer) -> Option<AppError> {
    if transfer.status != TransferStatus::Rejected {
        return None;
    }
    let code = transfer
        .error_code
        .as_deref()
        .and_then(ErrorCode::parse)
        .unwrap_or(ErrorCode::InvalidState);
    let message = transfer.error_message.clone().unwrap_or_default();
    Some(AppError::new(
        code,
        format!("transfer {} rejected: {message}", transfer.id),
    ))
}

/// Everything `apply` needs besides the book: nothing that touches the database, so an
/// import can apply rows while its transaction writes earlier ones.
pub(crate) struct ApplyContext<'a> {
    pub(crate) ids: &'a mut TransferIds,
    pub(crate) actor: &'a Actor,
    pub(crate) assessor: &'a mut dyn Assessor,
    /// The batch's transfers already taken out with `Batch::take_unsent`, in order.
    pub(crate) sent: &'a [Arc<Vec<Transfer>>],
}

/// What `apply_in_place` did with a request.
pub(crate) enum Applied {
    /// Recorded with this status: the transfer is the batch's last (`Batch::last`).
    Recorded(TransferStatus),
    /// The key was seen before with the same payload: the original (boxed: replays are rare).
    Replayed(Box<Transfer>),
    /// Not recorded: unknown account, conflicting key, out-of-range balance.
    Invalid(AppError),
}

/// Apply one request and say what happened, with the recorded transfer left in the batch.
pub(crate) fn apply(
    book: &mut Book,
    batch: &mut Batch,
    context: &mut ApplyContext<'_>,
    request: &TransferRequest,
) -> Outcome {
    match apply_in_place(book, batch, context, request) {
        Applied::Recorded(TransferStatus::Posted) => Outcome::Posted(batch.last().clone()),
        Applied::Recorded(TransferStatus::Rejected) => Outcome::Rejected(batch.last().clone()),
        Applied::Replayed(original) => Outcome::Replayed(*original),
        Applied::Invalid(error) => Outcome::Invalid(error),
    }
}

/// `apply` without copying the recorded transfer out of the batch (imports: a million rows).
pub(crate) fn apply_in_place(
    book: &mut Book,
    batch: &mut Batch,
    context: &mut ApplyContext<'_>,
    request: &TransferRequest,
) -> Applied {
    let payload_hash = request.payload_hash();
    if let Some(key) = &request.key {
        let existing = book.keyed.get(key).or_else(|| {
            book.keyed_in_batch
                .get(key)
                .map(|&position| batch.transfer_at(context.sent, position))
        });
        if let Some(existing) = existing {
            if existing.payload_hash == payload_hash {
                return Applied::Replayed(Box::new(existing.clone()));
            }
            return Applied::Invalid(AppError::new(
                ErrorCode::IdempotencyConflict,
                format!(
                    "key '{key}' was used for transfer {} with a different payload",
                    existing.id
                ),
            ));
        }
    }
    let at_us = request.at_us.unwrap_or(context.actor.now_us);
    for number in [&request.from, &request.to] {
        if !book.accounts.contains_key(number) {
            return Applied::Invalid(account_not_found(number));
        }
    }
    let mut transfer = new_transfer(context, request, payload_hash, at_us);
    let verdict = {
        let from = &book.accounts[&request.from];
        let to = &book.accounts[&request.to];
        evaluate(
            request,
            from,
            to,
            &mut transfer,
            context.assessor,
            &mut batch.tally,
            at_us,
        )
    };
    let (from_balance, to_balance) = match verdict {
        Ok(balances) => balances,
        Err(Verdict::Reject(error)) => return reject(book, batch, context, transfer, error),
        Err(Verdict::Invalid(error)) => return Applied::Invalid(error),
    };
    let debit = Entry {
        transfer_id: transfer.id,
        account: request.from.clone(),
        amount_minor: request.amount_minor,
        at_us,
    };
    let credit = Entry {
        transfer_id: transfer.id,
        account: request.to.clone(),
        amount_minor: -request.amount_minor,
        at_us,
    };
    set_balance(book, batch, &debit, from_balance);
    set_balance(book, batch, &credit, to_balance);
    batch.entries.push(debit);
    batch.entries.push(credit);
    context.assessor.observe(&transfer);
    record(book, batch, transfer);
    Applied::Recorded(TransferStatus::Posted)
}

enum Verdict {
    /// A business rule said no: recorded.
    Reject(AppError),
    /// Not recordable (balance out of range).
    Invalid(AppError),
}

/// Rules, risk and limits for one request, on borrowed accounts: the new balances or why not.
fn evaluate(
    request: &TransferRequest,
    from: &Account,
    to: &Account,
    transfer: &mut Transfer,
    assessor: &mut dyn Assessor,
    tally: &mut Tally,
    at_us: i64,
) -> Result<(i64, i64), Verdict> {
    check_rules(request, from, to).map_err(Verdict::Reject)?;
    if !matches!(
        request.kind,
        TransferKind::Reversal | TransferKind::Adjustment
    ) {
        transfer.risk = assessor.assess(request, from, to, at_us);
        tally.risk_assessment(transfer.risk.level);
        if transfer.risk.decision.stops_transfer() {
            return Err(Verdict::Reject(risk_error(&transfer.risk)));
        }
    }
    new_balances(from, to, request.amount_minor).map_err(|error| {
        if error.code == ErrorCode::InsufficientFunds {
            Verdict::Reject(error)
        } else {
            Verdict::Invalid(error)
        }
    })
}

fn new_transfer(
    context: &mut ApplyContext<'_>,
    request: &TransferRequest,
    payload_hash: String,
    at_us: i64,
) -> Transfer {
    let actor = context.actor;
    Transfer {
        id: context.ids.allocate(),
        key: request.key.clone(),
        payload_hash,
        kind: request.kind,
        from: request.from.clone(),
        to: request.to.clone(),
        amount_minor: request.amount_minor,
        currency: request.currency,
        status: TransferStatus::Posted,
        error_code: None,
        error_message: None,
        reference: request.reference.clone(),
        description: request.description.clone(),
        at_us,
        created_at_us: actor.now_us,
        risk: RiskResult::approve(),
        reverses_id: request.reverses_id,
        operator: actor.operator.clone(),
        trace_id: actor.trace_id.clone(),
    }
}

fn check_rules(request: &TransferRequest, from: &Account, to: &Account) -> AppResult<()> {
    if from.number == to.number {
        return Err(AppError::new(
            ErrorCode::AccountsMustBeDifferent,
            "--from and --to must be different accounts",
        ));
    }
    for account in [from, to] {
        if account.currency != request.currency {
            return Err(AppError::new(
                ErrorCode::CurrencyMismatch,
                format!(
                    "account {} is in {}, the transfer is in {}",
                    account.number, account.currency, request.currency
                ),
            ));
        }
    }
    let operator_correction = matches!(
        request.kind,
        TransferKind::Reversal | TransferKind::Adjustment
    );
    for account in [from, to] {
        match account.status {
            AccountStatus::Closed => {
                return Err(AppError::new(
                    ErrorCode::AccountClosed,
                    format!("account {} is closed", account.number),
                ))
            }
            AccountStatus::Frozen if !operator_correction => {
                return Err(AppError::new(
                    ErrorCode::AccountFrozen,
                    format!("account {} is frozen", account.number),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Balances after debiting `from` and crediting `to` by `amount_minor`, or why not.
fn new_balances(from: &Account, to: &Account, amount_minor: i64) -> AppResult<(i64, i64)> {
    let out_of_range = || {
        AppError::new(
            ErrorCode::AmountOutOfRange,
            "the resulting balance is beyond the supported range",
        )
    };
    let from_balance = from
        .balance_minor
        .checked_add(from.balance_effect(amount_minor))
        .ok_or_else(out_of_range)?;
    let to_balance = to
        .balance_minor
        .checked_add(to.balance_effect(-amount_minor))
        .ok_or_else(out_of_range)?;
    for (account, balance) in [(from, from_balance), (to, to_balance)] {
        if account.account_type.is_constrained() && balance < -account.overdraft_limit_minor {
            return Err(AppError::new(
                ErrorCode::InsufficientFunds,
                format!(
                    "account {} has {} {} available",
                    account.number,
                    account
                        .currency
                        .format(account.balance_minor + account.overdraft_limit_minor),
                    account.currency
                ),
            ));
        }
    }
    Ok((from_balance, to_balance))
}

/// The account of `entry` gets its new balance; the batch remembers its opening balance and
/// adds the entry's effect (checked against the balance before writing).
fn set_balance(book: &mut Book, batch: &mut Batch, entry: &Entry, balance_minor: i64) {
    let Some(account) = book.accounts.get_mut(&entry.account) else {
        unreachable!("accounts are checked before a transfer is applied");
    };
    let effect_minor = i128::from(account.balance_effect(entry.amount_minor));
    match batch.touched.get_mut(&entry.account) {
        Some(change) => change.entries_effect_minor += effect_minor,
        None => {
            let change = BalanceChange {
                opening_minor: account.balance_minor,
                entries_effect_minor: effect_minor,
            };
            batch.touched.insert(entry.account.clone(), change);
        }
    }
    account.balance_minor = balance_minor;
}

fn record(book: &mut Book, batch: &mut Batch, transfer: Transfer) {
    if let Some(key) = &transfer.key {
        book.keyed_in_batch
            .insert(key.clone(), batch.sent_count + batch.transfers.len());
    }
    batch.transfers.push(transfer);
}

fn reject(
    book: &mut Book,
    batch: &mut Batch,
    context: &mut ApplyContext<'_>,
    mut transfer: Transfer,
    error: AppError,
) -> Applied {
    transfer.status = TransferStatus::Rejected;
    transfer.error_code = Some(error.code.as_str().to_string());
    transfer.error_message = Some(error.message);
    context.assessor.observe(&transfer);
    record(book, batch, transfer);
    Applied::Recorded(TransferStatus::Rejected)
}

fn risk_error(risk: &RiskResult) -> AppError {
    let reasons: Vec<String> = risk
        .factors
        .iter()
        .map(|factor| format!("{} (+{})", factor.rule, factor.points))
        .collect();
    AppError::new(
        ErrorCode::RiskRejected,
        format!(
            "risk score {} ({}) → {}: {}",
            risk.score,
            risk.level.as_str(),
            risk.decision.as_str(),
            reasons.join(", ")
        ),
    )
}

/// The one wording of a missing account, wherever it is looked up.
pub(crate) fn account_not_found(number: &str) -> AppError {
    AppError::new(
        ErrorCode::AccountNotFound,
        format!("account {number} does not exist"),
    )
}

/// The balance of every account the batch touched, as the book holds it now.
pub(crate) fn touched_balances(book: &Book, batch: &Batch) -> Vec<(String, i64)> {
    batch
        .touched()
        .filter_map(|number| {
            book.accounts
                .get(number)
                .map(|a| (number.clone(), a.balance_minor))
        })
        .collect()
}

/// Pair assertion: every posted transfer has exactly two entries, in order, debiting `from`
/// and crediting `to` by its amount, so each currency's entries net to zero; rejected
/// transfers have none. Holds for a whole batch and for every part `Batch::take_unsent`
/// hands out (a transfer's entries are pushed together with it).
pub(crate) fn assert_balanced(transfers: &[Transfer], entries: &[Entry]) {
    let mut pairs = entries.chunks(2);
    let mut net_by_currency: BTreeMap<&str, i128> = BTreeMap::new();
    let posted = transfers
        .iter()
        .filter(|transfer| transfer.status == TransferStatus::Posted);
    for transfer in posted {
        let Some([debit, credit]) = pairs.next() else {
            panic!("transfer {}: posted without two entries", transfer.id);
        };
        assert!(
            transfer.amount_minor > 0,
            "transfer {}: amount",
            transfer.id
        );
        assert!(
            debit.transfer_id == transfer.id && credit.transfer_id == transfer.id,
            "transfer {}: entries of another transfer",
            transfer.id
        );
        assert!(
            debit.account == transfer.from && debit.amount_minor == transfer.amount_minor,
            "transfer {}: debit entry",
            transfer.id
        );
        assert!(
            credit.account == transfer.to && credit.amount_minor == -transfer.amount_minor,
            "transfer {}: credit entry",
            transfer.id
        );
        *net_by_currency.entry(transfer.currency.code()).or_default() +=
            i128::from(debit.amount_minor) + i128::from(credit.amount_minor);
    }
    assert!(pairs.next().is_none(), "entries without a posted transfer");
    for (currency, net) in net_by_currency {
        assert_eq!(net, 0, "{currency} entries must balance");
    }
}

/// The transfers counted for the commit's metrics.
pub(crate) fn tally_transfers(transfers: &[Transfer]) -> Tally {
    let mut tally = Tally::default();
    for transfer in transfers {
        tally.transfer(transfer.currency, transfer.status);
    }
    tally
}
