//! The posting rules' pair assertions: what they accept and that they catch what they exist for.

use super::apply::{apply, assert_balanced, ApplyContext, Batch, Book, Outcome};
use crate::model::{
    Account, AccountStatus, AccountType, Actor, TransferIds, TransferKind, TransferRequest,
};
use crate::money::Currency;
use crate::risk::ApproveAll;
use std::collections::HashMap;

fn account(number: &str, account_type: AccountType, balance_minor: i64) -> Account {
    Account {
        number: number.to_string(),
        holder: format!("holder of {number}"),
        account_type,
        currency: Currency::parse("EUR").expect("EUR"),
        status: AccountStatus::Active,
        balance_minor,
        overdraft_limit_minor: 0,
        created_at_us: 0,
        updated_at_us: 0,
        identifiers: Default::default(),
    }
}

fn request(from: &str, to: &str, amount_minor: i64) -> TransferRequest {
    TransferRequest {
        kind: TransferKind::Transfer,
        key: None,
        from: from.to_string(),
        to: to.to_string(),
        amount_minor,
        currency: Currency::parse("EUR").expect("EUR"),
        reference: String::new(),
        description: String::new(),
        at_us: Some(1),
        reverses_id: None,
    }
}

/// Three transfers between two customers and a settlement account, one of them rejected.
fn applied_batch() -> (Book, Batch) {
    let accounts = [
        account("A1", AccountType::Checking, 10_000),
        account("B2", AccountType::Checking, 0),
        account("S3", AccountType::Settlement, 0),
    ];
    let accounts: HashMap<String, Account> = accounts
        .into_iter()
        .map(|account| (account.number.clone(), account))
        .collect();
    let mut book = Book::new(accounts, HashMap::new());
    let mut batch = Batch::default();
    let actor = Actor {
        operator: "test".to_string(),
        trace_id: String::new(),
        now_us: 1,
    };
    let mut ids = TransferIds::after(0);
    let mut assessor = ApproveAll;
    let mut context = ApplyContext {
        ids: &mut ids,
        actor: &actor,
        assessor: &mut assessor,
        sent: &[],
    };
    let outcomes = [
        apply(
            &mut book,
            &mut batch,
            &mut context,
            &request("A1", "B2", 2_500),
        ),
        apply(
            &mut book,
            &mut batch,
            &mut context,
            &request("B2", "A1", 99_999),
        ),
        apply(
            &mut book,
            &mut batch,
            &mut context,
            &request("S3", "B2", 700),
        ),
    ];
    assert!(matches!(outcomes[0], Outcome::Posted(_)));
    assert!(matches!(outcomes[1], Outcome::Rejected(_)));
    assert!(matches!(outcomes[2], Outcome::Posted(_)));
    (book, batch)
}

#[test]
fn an_applied_batch_passes_both_pair_assertions() {
    let (book, batch) = applied_batch();
    assert_eq!(batch.entries.len(), 4);
    assert_balanced(&batch.transfers, &batch.entries);
    batch.assert_balances_follow_entries(&book);
    assert_eq!(book.accounts["A1"].balance_minor, 7_500);
    assert_eq!(book.accounts["B2"].balance_minor, 3_200);
}

#[test]
#[should_panic(expected = "credit entry")]
fn an_entry_with_another_amount_is_caught() {
    let (_, mut batch) = applied_batch();
    batch.entries[1].amount_minor -= 1;
    assert_balanced(&batch.transfers, &batch.entries);
}

#[test]
#[should_panic(expected = "posted without two entries")]
fn a_posted_transfer_without_entries_is_caught() {
    let (_, mut batch) = applied_batch();
    batch.entries.truncate(2);
    assert_balanced(&batch.transfers, &batch.entries);
}

#[test]
#[should_panic(expected = "balance and entries disagree")]
fn a_balance_that_moved_without_entries_is_caught() {
    let (mut book, batch) = applied_batch();
    book.accounts.get_mut("B2").expect("B2").balance_minor += 1;
    batch.assert_balances_follow_entries(&book);
}
