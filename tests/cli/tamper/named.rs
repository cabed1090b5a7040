//! The named edits, each a consistent rewrite: balances still equal their entries,
//! every transfer stays balanced, debits still equal credits. Standard SQL, the same on both
//! backends.

use super::build::Built;
use super::cases::{row_id, sql, Case, Edit};
use super::database::{identifier, quote, Table};

/// What the named cases need of one transfer.
struct Transfer {
    id: i64,
    from: String,
    to: String,
    amount_minor: i64,
    risk_score: i64,
}

fn table<'a>(tables: &'a [Table], name: &str) -> &'a Table {
    tables
        .iter()
        .find(|table| table.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn transfer(tables: &[Table], id: i64) -> Transfer {
    let transfers = table(tables, "transfers");
    let row = transfers
        .rows
        .iter()
        .find(|row| transfers.key_of(row) == id.to_string())
        .unwrap_or_else(|| panic!("no transfer {id}"));
    let text = |column: &str| row[transfers.column_index(column)].as_id();
    Transfer {
        id,
        from: text("from_account"),
        to: text("to_account"),
        amount_minor: text("amount_minor").parse().expect("amount"),
        risk_score: text("risk_score").parse().expect("score"),
    }
}

/// Move an account's balance as an entry of `entry_minor` would (+ debit, − credit):
/// settlement accounts are debit-normal, all others credit-normal.
fn balance_moved(account: &str, entry_minor: i64) -> String {
    format!(
        "UPDATE accounts SET balance_minor = balance_minor + \
         CASE WHEN account_type = 'settlement' THEN {entry_minor} ELSE {} END \
         WHERE number = {};\n",
        -entry_minor,
        quote(account)
    )
}

/// The entries and balances of a transfer of `amount_minor` from → to, added (+1) or taken
/// back (−1).
fn postings(transfer: &Transfer, amount_minor: i64, sign: i64) -> String {
    balance_moved(&transfer.from, sign * amount_minor)
        + &balance_moved(&transfer.to, -sign * amount_minor)
}

fn in_transaction(statements: &str) -> Edit {
    sql(format!("BEGIN;\n{statements}COMMIT;"), None)
}

fn named_case(
    title: &str,
    tables: &str,
    target: String,
    change: &str,
    statements: String,
    rows: Vec<(String, String)>,
) -> Case {
    Case {
        kind: title.to_string(),
        table: tables.to_string(),
        target,
        column: None,
        anchored: false,
        change: change.to_string(),
        edit: in_transaction(&statements),
        rows,
    }
}

/// Rewrites of a single post, forged transfers, account edits, the cut tail.
pub fn all(tables: &[Table], built: &Built) -> Vec<Case> {
    let post = transfer(tables, built.single_post);
    let mut cases = post_rewrites(tables, &post);
    cases.extend(forgeries(tables, &post));
    cases.extend(account_edits());
    cases.extend(cut_tail(tables, &transfer(tables, built.newest_post)));
    cases
}

fn post_rows(post: &Transfer, accounts: &[&str]) -> Vec<(String, String)> {
    let mut rows = vec![row_id("transfers", post.id), row_id("entries", post.id)];
    rows.extend(accounts.iter().map(|account| row_id("accounts", account)));
    rows
}

fn post_rewrites(tables: &[Table], post: &Transfer) -> Vec<Case> {
    let id = post.id;
    let amount = post.amount_minor;
    let forged_amount = amount * 100;
    let redirect_to = "ACCT0002";
    let day_us: i64 = 86_400_000_000;
    let (score, level, decision) = if post.risk_score == 0 {
        (45, "medium", "review")
    } else {
        (0, "low", "approve")
    };
    let accounts = table(tables, "accounts");
    assert!(
        accounts
            .rows
            .iter()
            .any(|row| accounts.key_of(row) == redirect_to),
        "{redirect_to} exists"
    );
    let both = [post.from.as_str(), post.to.as_str()];
    vec![
        named_case(
            "single post: amount rewritten",
            "transfers+entries+accounts",
            format!("transfer {id}"),
            &format!("amount {amount} → {forged_amount} minor, entries and both balances with it"),
            format!(
                "UPDATE transfers SET amount_minor = {forged_amount} WHERE id = {id};\n\
                 UPDATE entries SET amount_minor = {forged_amount} WHERE transfer_id = {id} AND amount_minor > 0;\n\
                 UPDATE entries SET amount_minor = {} WHERE transfer_id = {id} AND amount_minor < 0;\n{}",
                -forged_amount,
                postings(post, forged_amount - amount, 1)
            ),
            post_rows(post, &both),
        ),
        named_case(
            "single post: erased",
            "transfers+entries+accounts",
            format!("transfer {id}"),
            "transfer and entries deleted, balances restored",
            format!(
                "DELETE FROM entries WHERE transfer_id = {id};\n\
                 DELETE FROM transfers WHERE id = {id};\n{}",
                postings(post, amount, -1)
            ),
            post_rows(post, &both),
        ),
        named_case(
            "single post: redirected",
            "transfers+entries+accounts",
            format!("transfer {id}"),
            &format!("payee {} → {redirect_to}, entries and balances with it", post.to),
            format!(
                "UPDATE transfers SET to_account = {r} WHERE id = {id};\n\
                 UPDATE entries SET account = {r} WHERE transfer_id = {id} AND account = {t};\n{}{}",
                balance_moved(&post.to, amount),
                balance_moved(redirect_to, -amount),
                r = quote(redirect_to),
                t = quote(&post.to),
            ),
            post_rows(post, &[&post.to, redirect_to]),
        ),
        named_case(
            "single post: moved a day back",
            "transfers+entries",
            format!("transfer {id}"),
            "at − 1 day on the transfer and its entries",
            format!(
                "UPDATE transfers SET at_us = at_us - {day_us} WHERE id = {id};\n\
                 UPDATE entries SET at_us = at_us - {day_us} WHERE transfer_id = {id};\n"
            ),
            post_rows(post, &[]),
        ),
        named_case(
            "single post: description edited",
            "transfers",
            format!("transfer {id}"),
            "description → 'refund, approved by phone'",
            format!("UPDATE transfers SET description = 'refund, approved by phone' WHERE id = {id};\n"),
            vec![row_id("transfers", id)],
        ),
        named_case(
            "single post: risk fields edited",
            "transfers",
            format!("transfer {id}"),
            &format!("risk {} → {score} {level} {decision}", post.risk_score),
            format!(
                "UPDATE transfers SET risk_score = {score}, risk_level = '{level}', \
                 risk_decision = '{decision}', risk_factors = '[]' WHERE id = {id};\n"
            ),
            vec![row_id("transfers", id)],
        ),
    ]
}

/// A forged transfer: a copy of the single post with the next id, no key, 10× the amount,
/// with its entries and balances; and the same with the ledger head's transfer counter bumped.
fn forgeries(tables: &[Table], post: &Transfer) -> Vec<Case> {
    let transfers = table(tables, "transfers");
    let forged = transfers
        .rows
        .iter()
        .filter_map(|row| transfers.key_of(row).parse::<i64>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let amount = post.amount_minor * 10;
    let overrides = [
        ("id", forged.to_string()),
        ("idempotency_key", "NULL".to_string()),
        ("amount_minor", amount.to_string()),
        ("reference", "'FORGED'".to_string()),
    ];
    let columns: Vec<&str> = transfers
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .collect();
    let selected: Vec<String> = columns
        .iter()
        .map(|column| {
            overrides
                .iter()
                .find(|(name, _)| name == column)
                .map(|(_, value)| value.clone())
                .unwrap_or_else(|| identifier(column))
        })
        .collect();
    let statements = format!(
        "INSERT INTO transfers ({}) SELECT {} FROM transfers WHERE id = {};\n\
         INSERT INTO entries (transfer_id, account, amount_minor, at_us) \
         SELECT {forged}, from_account, {amount}, at_us FROM transfers WHERE id = {forged};\n\
         INSERT INTO entries (transfer_id, account, amount_minor, at_us) \
         SELECT {forged}, to_account, {}, at_us FROM transfers WHERE id = {forged};\n{}",
        columns
            .iter()
            .map(|column| identifier(column))
            .collect::<Vec<_>>()
            .join(", "),
        selected.join(", "),
        post.id,
        -amount,
        postings(post, amount, 1)
    );
    let forged_post = Transfer {
        id: forged,
        from: post.from.clone(),
        to: post.to.clone(),
        amount_minor: amount,
        risk_score: post.risk_score,
    };
    let rows = post_rows(&forged_post, &[&post.from, &post.to]);
    let mut bumped_rows = rows.clone();
    bumped_rows.push(row_id("ledger_head", 1));
    vec![
        named_case(
            "forged transfer inserted",
            "transfers+entries+accounts",
            format!("transfer {forged}"),
            &format!("new transfer {} → {} of {amount} minor, balanced", post.from, post.to),
            statements.clone(),
            rows,
        ),
        named_case(
            "forged transfer inserted, head bumped",
            "transfers+entries+accounts+ledger_head",
            format!("transfer {forged}"),
            "as above, and ledger_head.transfer_seq + 1",
            format!("{statements}UPDATE ledger_head SET transfer_seq = transfer_seq + 1 WHERE id = 1;\n"),
            bumped_rows,
        ),
    ]
}

fn account_edits() -> Vec<Case> {
    let edit = |title: &str, number: &str, change: &str, statement: String| {
        named_case(
            title,
            "accounts",
            format!("account {number}"),
            change,
            statement,
            vec![row_id("accounts", number)],
        )
    };
    vec![
        edit(
            "account row deleted",
            "ACCT0003",
            "the account with its balance gone, entries left",
            "DELETE FROM accounts WHERE number = 'ACCT0003';\n".into(),
        ),
        edit(
            "overdraft limit raised",
            "ACCT0002",
            "overdraft limit → 1,000,000.00",
            "UPDATE accounts SET overdraft_limit_minor = 100000000 WHERE number = 'ACCT0002';\n"
                .into(),
        ),
        edit(
            "status frozen → active (account freeze)",
            "ACCT0004",
            "frozen → active",
            "UPDATE accounts SET status = 'active' WHERE number = 'ACCT0004';\n".into(),
        ),
        edit(
            "status frozen → active (risk freeze)",
            "MULE0001",
            "frozen → active",
            "UPDATE accounts SET status = 'active' WHERE number = 'MULE0001';\n".into(),
        ),
        edit(
            "holder renamed",
            "ACCT0005",
            "Frank Free → Frank Forger",
            "UPDATE accounts SET holder = 'Frank Forger' WHERE number = 'ACCT0005';\n".into(),
        ),
    ]
}

/// The newest audit event deleted and the head rewound to the one before; and the same with
/// the event's transfer (entries, balances, the head's transfer counter) gone too.
fn cut_tail(tables: &[Table], newest: &Transfer) -> Vec<Case> {
    let events = table(tables, "audit_events");
    let last = &events.rows[events.rows.len() - 1];
    let before = &events.rows[events.rows.len() - 2];
    let seq = events.key_of(last);
    let previous_seq = events.key_of(before);
    let previous_hash = before[events.column_index("hash")].as_id();
    assert_eq!(
        last[events.column_index("entity")].as_id(),
        format!("transfer:{}", newest.id),
        "the newest event posted the newest transfer"
    );
    let rewind = format!(
        "DELETE FROM audit_events WHERE seq = {seq};\n\
         UPDATE ledger_head SET audit_seq = {previous_seq}, audit_hash = {} WHERE id = 1;\n",
        quote(&previous_hash)
    );
    let rows = vec![row_id("audit_events", &seq), row_id("ledger_head", 1)];
    let mut with_transfer = rows.clone();
    with_transfer.extend(post_rows(newest, &[&newest.from, &newest.to]));
    let id = newest.id;
    let mut with_its_transfer = named_case(
        "newest event and its transfer cut (anchor)",
        "audit_events+ledger_head+transfers+entries+accounts",
        format!("seq {seq}, transfer {id}"),
        &format!(
            "as above, and transfer {id} with entries, balances and transfer_seq rewound; \
             audit verify --anchor of the built ledger"
        ),
        format!(
            "{rewind}DELETE FROM entries WHERE transfer_id = {id};\n\
             DELETE FROM transfers WHERE id = {id};\n\
             UPDATE ledger_head SET transfer_seq = transfer_seq - 1 WHERE id = 1;\n{}",
            postings(newest, newest.amount_minor, -1)
        ),
        with_transfer,
    );
    with_its_transfer.anchored = true;
    vec![
        named_case(
            "newest audit event deleted",
            "audit_events+ledger_head",
            format!("seq {seq}"),
            &format!("event {seq} deleted, head rewound to seq {previous_seq}"),
            rewind,
            rows,
        ),
        with_its_transfer,
    ]
}
