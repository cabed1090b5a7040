//! `ledger verify` proves every row of money and state against the audit chain: consistent
//! rewrites of the business tables (that keep balances equal to entries) are found, and each
//! finding names the table, the row, the audit seq that recorded it and what differs.
//! (The exhaustive cell-by-cell suite is `tamper.rs`.)

use crate::support::Ledger;
use serde_json::Value;

crate::both_backends! {
    rewritten_amount_is_named_in_words => rewritten_amount_is_named_in_words;
    erased_post_is_found => erased_post_is_found;
    account_state_is_bound => account_state_is_bound;
    forged_transfer_is_found => forged_transfer_is_found;
}

/// A settlement account, two customers (one funded with 100.00 USD), and one post of 10.00.
/// Returns (payer, payee, the post's transfer id).
fn small_ledger(ledger: &Ledger) -> (String, String, i64) {
    let (_, payer) = ledger.funded("USD", "100.00");
    let payee = ledger.open("Payee", "checking", "USD", &[]);
    let post = ledger.json(&[
        "transfer",
        "post",
        "--from",
        &payer,
        "--to",
        &payee,
        "--amount",
        "10.00",
        "--currency",
        "USD",
    ]);
    ledger.assert_verified();
    (payer, payee, post["id"].as_i64().unwrap())
}

/// `ledger verify` exit 1 and its discrepancies.
fn findings(ledger: &Ledger) -> Vec<Value> {
    let run = ledger.run(&["--format", "json", "ledger", "verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    run.json()["discrepancies"].as_array().unwrap().clone()
}

/// The audit seq of the event of `entity` with `action`.
fn seq_of(ledger: &Ledger, entity: &str, action: &str) -> i64 {
    let events = ledger.json(&["audit", "list", "--entity", entity]);
    let event = events
        .as_array()
        .unwrap()
        .iter()
        .rfind(|event| event["action"] == action)
        .unwrap_or_else(|| panic!("no {action} for {entity}: {events:#}"));
    event["seq"].as_i64().unwrap()
}

fn named<'a>(found: &'a [Value], table: &str, id: &str) -> &'a Value {
    found
        .iter()
        .find(|finding| finding["table"] == table && finding["id"] == id)
        .unwrap_or_else(|| panic!("no finding names {table} {id}: {found:#?}"))
}

/// The transfer's amount rewritten with its entries and both balances: the books still
/// balance, but the row differs from its event.
fn rewritten_amount_is_named_in_words(ledger: &Ledger) {
    let (payer, payee, id) = small_ledger(ledger);
    ledger.execute_sql(&format!(
        "UPDATE transfers SET amount_minor = 100000 WHERE id = {id};
         UPDATE entries SET amount_minor = CASE WHEN amount_minor > 0 THEN 100000 ELSE -100000 END WHERE transfer_id = {id};
         UPDATE accounts SET balance_minor = balance_minor - 99000 WHERE number = '{payer}';
         UPDATE accounts SET balance_minor = balance_minor + 99000 WHERE number = '{payee}'"
    ));
    let found = findings(ledger);
    assert_eq!(found.len(), 1, "{found:#?}");
    let finding = named(&found, "transfers", &id.to_string());
    assert_eq!(finding["check"], "row_matches_audit");
    let seq = seq_of(ledger, &format!("transfer:{id}"), "transfer.posted");
    assert_eq!(finding["seq"], seq);
    assert_eq!(
        finding["detail"],
        format!("transfers {id}: amount_minor is '100000', recorded '1000' (recorded at audit seq {seq})")
    );
    assert_eq!(finding["entity"], format!("transfers:{id}"));
    let table = ledger.run(&["ledger", "verify"]);
    assert_eq!(table.code, 1);
    assert!(
        table.stdout.contains("amount_minor is '100000'"),
        "{}",
        table.stdout
    );
}

/// The post deleted with its entries and both balances restored.
fn erased_post_is_found(ledger: &Ledger) {
    let (payer, payee, id) = small_ledger(ledger);
    ledger.execute_sql(&format!(
        "DELETE FROM transfers WHERE id = {id};
         DELETE FROM entries WHERE transfer_id = {id};
         UPDATE accounts SET balance_minor = balance_minor + 1000 WHERE number = '{payer}';
         UPDATE accounts SET balance_minor = balance_minor - 1000 WHERE number = '{payee}'"
    ));
    let found = findings(ledger);
    let finding = named(&found, "transfers", &id.to_string());
    assert_eq!(finding["check"], "row_exists");
    assert!(
        finding["detail"].as_str().unwrap().contains("deleted"),
        "{finding}"
    );
}

/// An account's status, limit and holder are bound to its newest event; a deleted account
/// and an account inserted behind fincore's back are found.
fn account_state_is_bound(ledger: &Ledger) {
    let (payer, payee, _) = small_ledger(ledger);
    ledger.json(&["account", "freeze", &payee, "--reason", "check"]);
    let frozen_at = seq_of(ledger, &payee, "account.frozen");
    ledger.execute_sql(&format!(
        "UPDATE accounts SET status = 'active' WHERE number = '{payee}';
         UPDATE accounts SET overdraft_limit_minor = 500000, holder = 'Mallory' WHERE number = '{payer}';
         INSERT INTO accounts (number, holder, account_type, currency, status, balance_minor, overdraft_limit_minor, created_at_us, updated_at_us)
         VALUES ('4999000000000009', 'Ghost', 'checking', 'USD', 'active', 0, 0, 0, 0)"
    ));
    let found = findings(ledger);
    let status = named(&found, "accounts", &payee);
    assert_eq!(status["seq"], frozen_at);
    assert!(
        status["detail"]
            .as_str()
            .unwrap()
            .contains("status is 'active', recorded 'frozen'"),
        "{status}"
    );
    let payer_detail = named(&found, "accounts", &payer)["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        payer_detail.contains("holder is 'Mallory'"),
        "{payer_detail}"
    );
    assert!(
        payer_detail.contains("overdraft_limit_minor is '500000', recorded '0'"),
        "{payer_detail}"
    );
    assert_eq!(
        named(&found, "accounts", "4999000000000009")["check"],
        "row_recorded"
    );
}

/// A transfer inserted with balancing entries and balances, the head's counter bumped too.
fn forged_transfer_is_found(ledger: &Ledger) {
    let (payer, payee, id) = small_ledger(ledger);
    let forged = id + 1;
    ledger.execute_sql(&format!(
        "INSERT INTO transfers (id, idempotency_key, payload_hash, kind, from_account, to_account, amount_minor, currency, status, reference, description, at_us, created_at_us, operator)
         SELECT {forged}, NULL, payload_hash, kind, from_account, to_account, 500, currency, status, reference, description, at_us, created_at_us, operator FROM transfers WHERE id = {id};
         INSERT INTO entries (transfer_id, account, amount_minor, at_us) SELECT {forged}, account, CASE WHEN amount_minor > 0 THEN 500 ELSE -500 END, at_us FROM entries WHERE transfer_id = {id};
         UPDATE accounts SET balance_minor = balance_minor - 500 WHERE number = '{payer}';
         UPDATE accounts SET balance_minor = balance_minor + 500 WHERE number = '{payee}';
         UPDATE ledger_head SET transfer_seq = {forged}"
    ));
    let found = findings(ledger);
    assert_eq!(
        named(&found, "transfers", &forged.to_string())["check"],
        "row_recorded"
    );
    assert_eq!(
        named(&found, "ledger_head", "1")["check"],
        "head_matches_audit"
    );
}
