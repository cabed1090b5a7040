//! MT940 as banks write it: each variant the real-file corpus showed, in a small statement
//! written here (the corpus itself is third-party data kept outside the repository).

use super::super::statement::mt940;
use super::super::{check_balances, LineDetails, Statement};
use super::*;
use crate::error::ErrorCode;

fn read_mt940(text: &[u8]) -> AppResult<Statement> {
    let statement = mt940::read(text, LineDetails::Keep)?;
    check_balances(&statement)?;
    Ok(statement)
}

fn error_message(text: &[u8]) -> String {
    let error = read_mt940(text).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidInput, "{}", error.message);
    error.message
}

#[test]
fn swift_envelopes_hold_several_accounts_one_part_each() {
    // SOH before the first block, the trailer and the next message's header on one line,
    // ETX after the last; two accounts in one file.
    let text = b"\x01{1:F01ABNANL2AXXX0000000000}{2:I940ABNANL2AXXXXN3020}{4:\r
:20:A1\r
:25:NL01BANK0123456789\r
:28C:1/1\r
:60F:C261119EUR100,00\r
:61:2611201120D20,00NONREF\r
:86:/TRTP/SEPA OVERBOEKING/IBAN/NL02BANK0987654321/BIC/BANKNL2A/NAME/Shop\r
 B.V./REMI/Invoice 7/EREF/E2E-7\r
:62F:C261120EUR80,00\r
-}{5:{CHK:123456789ABC}}{1:F01ABNANL2AXXX0000000000}{2:I940ABNANL2AXXXXN3020}{4:\r
:20:A2\r
:25:NL03BANK0000000001\r
:28C:1/1\r
:60F:C261119EUR0,\r
:61:261120C5,NTRFREF-2\r
:62F:C261120EUR5,\r
-}\x03";
    let statement = read_mt940(text).unwrap();
    assert_eq!(statement.lines.len(), 2);
    assert_eq!(statement.parts.len(), 2);
    let accounts: Vec<_> = statement
        .parts
        .iter()
        .map(|part| (part.account.as_deref(), part.lines.clone()))
        .collect();
    assert_eq!(
        accounts,
        [
            (Some("NL01BANK0123456789"), 0..1),
            (Some("NL03BANK0000000001"), 1..2)
        ]
    );
    assert_eq!(
        statement.part_accounts(),
        ["NL01BANK0123456789", "NL03BANK0000000001"]
    );
    // Two accounts: no whole-file account or balances.
    assert_eq!(
        (statement.account.as_deref(), statement.balances),
        (None, None)
    );
    let balances = statement.parts[0].balances.unwrap();
    assert_eq!(
        (balances.opening_minor, balances.closing_minor),
        (10_000, 8_000)
    );

    // `D20,00NONREF`: no type code, and NONREF is not read as type `NONR`.
    let shop = &statement.lines[0];
    assert_eq!(shop.amount_minor, -2_000);
    assert_eq!(shop.reference, "E2E-7", "NONREF falls back to /EREF/");
    assert_eq!(shop.counterparty, "Shop B.V.");
    assert_eq!(shop.description, "Invoice 7");
    assert_eq!(statement.lines[1].reference, "REF-2");
}

#[test]
fn bank_header_lines_and_pages_with_a_gap_are_read() {
    // A byte order mark, ABN AMRO's header lines, ING's between pages, SUB at the end; a lone
    // `-` inside `:86:` is text, one before the next header ends the message.
    let text =
        "\u{feff}ABNANL2A\n940\nABNANL2A\n:20:ABN AMRO BANK NV\n:25:517852257\n:28:19201/1\n\
:60F:C261119EUR100,00\n:61:261120C1,00NOV NONREF\n:86:first\n-\nsecond\n:62F:C261120EUR101,00\n-\n\
0000 01INGBNL2AXXXX00001\n940 00\n:20:P2\n:25:517852257\n:28C:2\n:60F:C261121EUR200,00\n\
:61:261121D000000000000000050,00 NTRFREF-9\n:62F:C261121EUR150,00\n-\n\x1a";
    let statement = read_mt940(text.as_bytes()).unwrap();
    assert_eq!(statement.parts.len(), 2);
    assert_eq!(statement.account.as_deref(), Some("517852257"));
    // Each page balances on its own; the file runs from the first opening to the last closing.
    let balances = statement.balances.unwrap();
    assert_eq!(
        (balances.opening_minor, balances.closing_minor),
        (10_000, 15_000)
    );
    assert_eq!(balances.closing_date, Some(date("2026-11-21")));
    let first = &statement.lines[0];
    assert_eq!((first.amount_minor, first.reference.as_str()), (100, ""));
    assert_eq!(first.description, "first - second");
    // Zero padding past 15 characters and a blank before the type code.
    let second = &statement.lines[1];
    assert_eq!(
        (second.amount_minor, second.reference.as_str()),
        (-5_000, "REF-9")
    );
}

#[test]
fn rabobank_message_type_line_and_decimal_point_are_read() {
    let text = b":940:\n:20:940A030107\n:25:0800003200000001610722 EUR\n:28:00000/00\n\
:60F:C030106EUR000000000100.00\n:61:030107D000000000025.50NMSCNONREF          SHOP\n\
:62F:C030107EUR000000000074.50\n";
    let statement = read_mt940(text).unwrap();
    let line = &statement.lines[0];
    assert_eq!(line.amount_minor, -2_550);
    // The 16-character reference is padded with blanks; the counterparty's name follows.
    assert_eq!(
        (line.reference.as_str(), line.counterparty.as_str()),
        ("", "SHOP")
    );
}

#[test]
fn dutch_reference_placeholders_point_into_the_details() {
    // Rabobank writes `EREF`/`MARF` where the reference goes, and the value in `:86:`; SNS
    // writes an 18-character IBAN there, kept whole.
    let text = b":20:940S130403
:25:NL50RABO0123456789
:28C:0
:60F:C130402EUR100,00
:61:130403D10,00N102EREF
:86:/EREF/E2E-5//MARF/M-1/NAME/Nespresso/REMI/674725433
:61:130403D20,00N103MARF//00000000001006
:86:/EREF/NOTPROVIDED/MARF/M-2/NAME/Energie BV/
:61:130403C5,00NOVBNL11RABO0987654321
:62F:C130403EUR75,00
";
    let statement = read_mt940(text).unwrap();
    let references: Vec<_> = statement
        .lines
        .iter()
        .map(|line| (line.reference.as_str(), line.counterparty.as_str()))
        .collect();
    assert_eq!(
        references,
        [
            ("E2E-5", "Nespresso"),
            ("M-2", "Energie BV"),
            ("NL11RABO0987654321", "")
        ]
    );
}

#[test]
fn german_structured_details_with_tag_like_lines_and_bank_calendar_dates() {
    // `:12:` and `:KO:` start continuation lines of `:86:`; 30 February is a bank date.
    let text = b":20:STARTUMSE\n:25:10020030/1234567\n:28C:00001/001\n:60F:C260227EUR1000,00\n\
:61:2602300230CR100,00N051NONREF\n\
:86:166?00GUTSCHRIFT?20EREF+E2E-99?21SVWZ+Rechnung 12\n:12: Teil 2?22\n:KO: 4711?30BANKDEFF\n\
?31DE02100100100006820101?32Max Muster\n?33mann\n:62F:C260230EUR1100,00\n";
    let statement = read_mt940(text).unwrap();
    let line = &statement.lines[0];
    assert_eq!(line.date, date("2026-02-28"));
    assert_eq!(line.amount_minor, 10_000, "C with funds code R");
    assert_eq!(line.reference, "E2E-99");
    assert_eq!(line.counterparty, "Max Mustermann");
    assert_eq!(
        line.description,
        "EREF+E2E-99SVWZ+Rechnung 12:12: Teil 2:KO: 4711"
    );
    let balances = statement.balances.unwrap();
    assert_eq!(balances.closing_date, Some(date("2026-02-28")));
}

#[test]
fn ing_counterparty_and_unstructured_remittance() {
    let text = b":20:MPBZ\n:25:NL08INGB0000000555EUR\n:28C:1\n:60F:C261119EUR0,\n\
:61:2611201120C12,50NTRFNONREF//ING-1\n\
:86:/CNTP/NL08INGB0000000555/INGBNL2A/Klant A/AMSTERDAM/REMI/USTD//Factuur 2026-01/EREF/NOTPR\n\
OVIDED/\n:62F:C261120EUR12,50\n";
    let statement = read_mt940(text).unwrap();
    let line = &statement.lines[0];
    assert_eq!(line.counterparty, "Klant A");
    assert_eq!(line.description, "Factuur 2026-01");
    assert_eq!(line.reference, "ING-1", "NOTPROVIDED is no reference");
}

#[test]
fn mt942_interim_report_and_mt950_are_read() {
    let mt942 = b":20:INTRADAY1\n:25:PL29114010810000267002001002\n:28C:1/1\n:34F:PLND0,\n\
:13D:2611201815+0100\n:NS:22JOHN DOE\n23John Doe\n:61:2611201120CN0,01NTRFNONREF//MB1\n911-TRANSAKCJA\n\
:86:911 TRANSAKCJA\n:90D:0PLN0,00\n:90C:1PLN0,01\n-";
    let statement = read_mt940(mt942).unwrap();
    assert_eq!(statement.parts.len(), 1);
    assert_eq!(statement.parts[0].balances, None);
    assert_eq!(statement.balances, None);
    let line = &statement.lines[0];
    assert_eq!(line.currency, currency("PLN"));
    assert_eq!((line.amount_minor, line.reference.as_str()), (1, "MB1"));

    let mt950 = b":20:MT950-1\n:25:12345678\n:28C:1/1\n:60F:C261119USD500,\n\
:61:261120D100,S103REF-1//B-1\n:61:261120C50,NTRF//B-2\n:62F:C261120USD450,\n:64:C261120USD450,\n-";
    let statement = read_mt940(mt950).unwrap();
    let references: Vec<_> = statement
        .lines
        .iter()
        .map(|line| (line.reference.as_str(), line.amount_minor))
        .collect();
    assert_eq!(references, [("REF-1", -10_000), ("B-2", 5_000)]);
}

#[test]
fn broken_files_are_refused_with_line_and_field() {
    let cut_off = b":20:X\n:25:A\n:60F:C261120EUR1,\n:61:261120C1,NTRFR\n";
    let message = error_message(cut_off);
    assert!(message.contains("missing :62F:"), "{message}");
    assert!(message.contains("line 1: message :20:X"), "{message}");

    let fragment = b":60F:C261120EUR1,\n:61:261120C1,NTRFR\n";
    let message = error_message(fragment);
    assert!(message.contains("line 1: :60F:"), "{message}");
    assert!(message.contains(":20:"), "{message}");

    // The second page does not balance: its own line and reference are named.
    let unbalanced = b":20:P1\n:60F:C261120EUR1,\n:62F:C261120EUR1,\n-\n\
:20:P2\n:60F:C261121EUR1,\n:61:261121C1,NTRFR\n:62F:C261121EUR1,\n-\n";
    let message = error_message(unbalanced);
    assert!(message.contains("line 5: message :20:P2"), "{message}");
    assert!(message.contains("does not balance"), "{message}");

    // An unknown tag inside a message is still an error.
    let message = error_message(b":20:X\n:25:A\n:99:B\n:60F:C261120EUR1,\n:62F:C261120EUR1,\n");
    assert!(message.contains("line 3: unknown tag :99:"), "{message}");

    // A type code must start with a capital letter.
    let message =
        error_message(b":20:X\n:60F:C261120EUR0,\n:61:261120C1,5ntrf\n:62F:C261120EUR1,5\n");
    assert!(message.contains("line 3: :61:"), "{message}");
    assert!(message.contains("transaction type"), "{message}");
}

#[test]
fn withdrawn_euro_currencies_are_read_on_statements_only() {
    let text = b":20:STARTUMS\n:25:1222333444\n:28:1/1\n:60F:C020315DEM0,00\n\
:61:0203170320CM5000,00S05168790452\n:62M:C020315DEM5000,00\n:20:STARTUMS\n:25:1222333444\n\
:60M:C020315DEM5000,00\n:61:020322CM20000,00S051\n:62F:C02031525000,00\n";
    let statement = read_mt940(text).unwrap();
    assert_eq!(statement.lines[1].currency.code(), "DEM");
    assert_eq!(statement.balances.unwrap().closing_minor, 2_500_000);
    assert!(
        Currency::parse("DEM").is_err(),
        "no account can be opened in DEM"
    );
}
