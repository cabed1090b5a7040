//! Which account: a file of several accounts' statements restricted to one account's parts
//! (`select_account`), lines pointing into the file, balances and the skipped parts.

use super::super::{check_balances, select_account, Selection, SkippedPart};
use super::*;
use crate::error::ErrorCode;
use crate::model::BankIdentifiers;

const IBAN_A: &str = "DE89370400440532013000";

fn iban(text: &str) -> BankIdentifiers {
    BankIdentifiers {
        iban: Some(text.to_string()),
        bank_account: None,
    }
}

fn bank_account(text: &str) -> BankIdentifiers {
    BankIdentifiers {
        iban: None,
        bank_account: Some(text.to_string()),
    }
}

fn select(name: &str, identifiers: &BankIdentifiers) -> AppResult<Selection> {
    let statement = read(name, InputFormat::Auto).unwrap();
    select_account(statement, "SETT", identifiers, name)
}

/// (line, source line, reference) of each kept line.
fn kept_lines(statement: &Statement) -> Vec<(u64, u64, &str)> {
    statement
        .lines
        .iter()
        .map(|line| (line.line, line.source_line, line.reference.as_str()))
        .collect()
}

fn opening_closing(statement: &Statement) -> Option<(i64, i64)> {
    statement
        .balances
        .map(|balances| (balances.opening_minor, balances.closing_minor))
}

fn skipped(account: &str, lines: u64) -> SkippedPart {
    SkippedPart {
        account: Some(account.to_string()),
        lines,
    }
}

#[test]
fn a_two_account_camt_file_gives_each_account_its_own_block() {
    let selection = select("two_accounts.camt053.xml", &iban(IBAN_A)).unwrap();
    let statement = &selection.statement;
    // Lines keep their numbers in the file: the other account's block came first.
    assert_eq!(
        kept_lines(statement),
        [(2, 56, "INV-1001"), (3, 64, "INV-1002")]
    );
    assert_eq!(statement.parts.len(), 1);
    assert_eq!(statement.parts[0].lines, 0..2);
    assert_eq!(statement.account.as_deref(), Some(IBAN_A));
    assert_eq!(opening_closing(statement), Some((1_000_000, 1_095_000)));
    assert_eq!(statement.format, InputFormat::Camt053);
    check_balances(statement).unwrap();
    assert_eq!(selection.skipped, [skipped("0000202051", 1)]);

    let selection = select("two_accounts.camt053.xml", &bank_account("0000202051")).unwrap();
    let statement = &selection.statement;
    assert_eq!(kept_lines(statement), [(1, 28, "INV-2001")]);
    assert_eq!(statement.account.as_deref(), Some("0000202051"));
    assert_eq!(opening_closing(statement), Some((50_000, 90_000)));
    check_balances(statement).unwrap();
    assert_eq!(selection.skipped, [skipped(IBAN_A, 2)]);
}

#[test]
fn a_two_account_mt940_file_keeps_every_page_of_the_account() {
    let selection = select("two_accounts_pages.mt940", &iban(IBAN_A)).unwrap();
    let statement = &selection.statement;
    assert_eq!(
        kept_lines(statement),
        [(1, 6, "INV-1001"), (3, 20, "INV-1002")]
    );
    let ranges: Vec<_> = statement
        .parts
        .iter()
        .map(|part| part.lines.clone())
        .collect();
    assert_eq!(ranges, [0..1, 1..2]);
    // The pages span: the first page's opening, the last page's closing.
    assert_eq!(opening_closing(statement), Some((1_000_000, 1_095_000)));
    assert_eq!(statement.account.as_deref(), Some(IBAN_A));
    check_balances(statement).unwrap();
    assert_eq!(selection.skipped, [skipped("12030000/0000202051", 1)]);

    // `:25:BLZ/ACCOUNT`: the account after the slash is the bank account string.
    let selection = select("two_accounts_pages.mt940", &bank_account("0000202051")).unwrap();
    let statement = &selection.statement;
    assert_eq!(kept_lines(statement), [(2, 13, "INV-2001")]);
    assert_eq!(statement.parts[0].lines, 0..1);
    assert_eq!(statement.account.as_deref(), Some("12030000/0000202051"));
    assert_eq!(opening_closing(statement), Some((50_000, 90_000)));
    check_balances(statement).unwrap();
    assert_eq!(selection.skipped, [skipped(IBAN_A, 1), skipped(IBAN_A, 1)]);
    // The whole string as the bank writes it matches too.
    let whole = select(
        "two_accounts_pages.mt940",
        &bank_account("12030000/0000202051"),
    )
    .unwrap();
    assert_eq!(whole.statement, selection.statement);
}

#[test]
fn an_iban_matches_in_any_case_and_spacing() {
    let paper = iban(IBAN_A);
    for written in [
        "DE89 3704 0044 0532 0130 00",
        " de89370400440532013000 ",
        "DEUTDEFF/DE89370400440532013000",
    ] {
        assert!(super::super::part_belongs_to(written, &paper), "{written}");
    }
    assert!(!super::super::part_belongs_to(
        "DE02120300000000202051",
        &paper
    ));
    // A bank account string compares as written (trimmed), not as an IBAN.
    assert!(super::super::part_belongs_to(
        " 0000202051 ",
        &bank_account("0000202051")
    ));
    assert!(!super::super::part_belongs_to(
        "00 00202051",
        &bank_account("0000202051")
    ));
    assert!(!super::super::part_belongs_to(
        "12030000/",
        &bank_account("12030000")
    ));
}

#[test]
fn a_file_with_no_part_for_the_account_names_what_it_holds() {
    let identifiers = BankIdentifiers {
        iban: Some("DE02120300000000202051".to_string()),
        bank_account: Some("999".to_string()),
    };
    let error = select("two_accounts_pages.mt940", &identifiers).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidInput);
    assert_eq!(
        error.message,
        "statement two_accounts_pages.mt940 has no part for account SETT (IBAN DE02120300000000202051, bank account 999); it holds: DE89370400440532013000, 12030000/0000202051"
    );
    // One account in the file, but not this one: refused as well.
    let error = select("statement.mt940", &identifiers).unwrap_err();
    assert!(
        error.message.contains("it holds: DE89370400440532013000"),
        "{}",
        error.message
    );
}

#[test]
fn an_account_without_identifiers_takes_a_single_account_file_as_it_is() {
    let none = BankIdentifiers::default();
    for name in [
        "statement.mt940",
        "statement.camt053.v08.xml",
        "statement.csv",
    ] {
        let statement = read(name, InputFormat::Auto).unwrap();
        let selection = select_account(statement.clone(), "SETT", &none, name).unwrap();
        assert_eq!(selection.statement, statement, "{name}");
        assert!(selection.skipped.is_empty());
    }
    let error = select("two_accounts.camt053.xml", &none).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidInput);
    assert!(
        error
            .message
            .contains("several accounts (0000202051, DE89370400440532013000)")
            && error
                .message
                .contains("fincore account update SETT --iban IBAN"),
        "{}",
        error.message
    );
}

#[test]
fn a_file_of_the_account_alone_or_without_account_ids_is_unchanged() {
    // Every part is the account's: nothing to restrict.
    let statement = read("statement.mt940", InputFormat::Auto).unwrap();
    let selection =
        select_account(statement.clone(), "SETT", &iban(IBAN_A), "statement.mt940").unwrap();
    assert_eq!(selection.statement, statement);
    assert!(selection.skipped.is_empty());
    // CSV names no account: nothing to choose by.
    let statement = read("statement.csv", InputFormat::Auto).unwrap();
    let selection =
        select_account(statement.clone(), "SETT", &iban(IBAN_A), "statement.csv").unwrap();
    assert_eq!(selection.statement, statement);
}
