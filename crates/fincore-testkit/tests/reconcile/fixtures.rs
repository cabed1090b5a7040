//! The fixture statement in every format against the fixture ledger side
//! (`fixtures/reconcile/internal.csv`, read with `fincore_testkit::reconcile::read_internal_csv`).

use super::*;
use fincore::reconcile::{
    match_statement, BreakKind, FuzzyMatch, InternalMovement, MatchOptions, MatchResult,
};
use fincore_testkit::reconcile::read_internal_csv;

fn fixture_internal() -> Vec<InternalMovement> {
    read_internal_csv(&fixture("internal.csv")).unwrap()
}

/// The options the fixtures are documented with.
fn fixture_options() -> MatchOptions {
    MatchOptions::one_day(date("2026-11-20"), 2, 2)
}

fn semicolon_options() -> CsvOptions {
    CsvOptions {
        columns: CsvOptions::parse_map(
            "date=Buchungstag,reference=Verwendungszweck,amount=Betrag,currency=Waehrung,counterparty=Name,description=Text",
        )
        .unwrap(),
        date_format: "%d.%m.%Y".to_string(),
        decimal_separator: ',',
        delimiter: b';',
    }
}

const FORMATS: [(&str, InputFormat); 4] = [
    ("statement.csv", InputFormat::Csv),
    ("statement.camt053.v02.xml", InputFormat::Camt053),
    ("statement.camt053.v08.xml", InputFormat::Camt053),
    ("statement.mt940", InputFormat::Mt940),
];

fn reconcile(statement: &Statement) -> MatchResult {
    match_statement(&statement.lines, &fixture_internal(), &fixture_options())
}

#[test]
fn every_format_gives_the_same_result() {
    let expected = reconcile(&read("statement.csv", InputFormat::Csv).unwrap());
    for (name, format) in FORMATS {
        let explicit = read(name, format).unwrap();
        let detected = read(name, InputFormat::Auto).unwrap();
        assert_eq!(
            explicit, detected,
            "{name}: auto detection read something else"
        );
        assert_eq!(detected.format, format, "{name}");
        assert_eq!(reconcile(&explicit), expected, "{name}");
    }
    let semicolon = read_with(
        "statement.semicolon.csv",
        InputFormat::Auto,
        &semicolon_options(),
    )
    .unwrap();
    assert_eq!(reconcile(&semicolon), expected, "statement.semicolon.csv");
}

/// Kind, reference, statement line, transfer id, difference.
type ItemSummary<'a> = (BreakKind, &'a str, Option<u64>, Option<i64>, Option<i64>);

#[test]
fn fixture_covers_every_outcome() {
    let result = reconcile(&read("statement.csv", InputFormat::Csv).unwrap());
    assert_eq!(result.statement_lines, 11);
    assert_eq!(result.internal_entries, 11);
    assert_eq!(result.matched, 5);
    assert_eq!(result.matched_fuzzy, 1);
    for kind in BreakKind::ALL {
        // Matching compares lines and movements; balances are compared by the run.
        let expected = match kind {
            BreakKind::MissingExternal => 3,
            BreakKind::BalanceMismatch => 0,
            _ => 1,
        };
        assert_eq!(result.count(kind), expected, "{kind}");
    }
    let summary: Vec<ItemSummary<'_>> = result
        .items
        .iter()
        .map(|item| {
            (
                item.kind,
                item.reference.as_str(),
                item.statement_line,
                item.transfer_id,
                item.difference_minor,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                BreakKind::MissingInternal,
                "FEE-2026-11",
                Some(10),
                None,
                Some(-1250)
            ),
            (
                BreakKind::MissingExternal,
                "INV-1009",
                None,
                Some(109),
                Some(-15000)
            ),
            (
                BreakKind::MissingExternal,
                "SUB-0077",
                None,
                Some(107),
                Some(-9900)
            ),
            (
                BreakKind::MissingExternal,
                "SUB-0078",
                None,
                Some(108),
                Some(-9900)
            ),
            (
                BreakKind::AmountMismatch,
                "INV-1004",
                Some(4),
                Some(104),
                Some(9000)
            ),
            (
                BreakKind::DuplicateExternal,
                "INV-1005",
                Some(6),
                None,
                Some(-4550)
            ),
            (BreakKind::Ambiguous, "", Some(8), None, Some(9900)),
            (
                BreakKind::CurrencyMismatch,
                "INV-1010",
                Some(9),
                Some(110),
                None
            ),
        ]
    );
    let currency_item = result.items.last().unwrap();
    assert_eq!(currency_item.currency, currency("EUR"));
    assert_eq!(currency_item.internal_currency, Some(currency("USD")));
    let fuzzy = FuzzyMatch {
        statement_line: 7,
        transfer_id: 106,
    };
    assert_eq!(result.fuzzy_matches, [fuzzy]);
}

#[test]
fn items_do_not_depend_on_input_order() {
    let internal = fixture_internal();
    let statement = read("statement.csv", InputFormat::Csv).unwrap();
    let forward = match_statement(&statement.lines, &internal, &fixture_options());
    // The slice order changes, the statement (line numbers) does not.
    let mut reversed_lines = statement.lines.clone();
    reversed_lines.reverse();
    let mut reversed_internal = internal.clone();
    reversed_internal.reverse();
    let backward = match_statement(&reversed_lines, &reversed_internal, &fixture_options());
    assert_eq!(forward, backward);
}
