//! The four fixture formats, format detection and reader details.

use super::super::statement::{camt053, detect::detect_from_head, mt940};
use super::super::LineDetails;
use super::*;

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

#[test]
fn formats_read_the_same_lines() {
    let csv = read("statement.csv", InputFormat::Csv).unwrap();
    for (name, format) in FORMATS {
        let other = read(name, format).unwrap();
        assert_eq!(other.lines.len(), csv.lines.len(), "{name}");
        for (left, right) in csv.lines.iter().zip(&other.lines) {
            let fields = |line: &StatementLine| {
                (
                    line.line,
                    line.date,
                    line.reference.clone(),
                    line.amount_minor,
                    line.currency,
                )
            };
            assert_eq!(fields(left), fields(right), "{name}");
            assert_eq!(
                left.counterparty, right.counterparty,
                "{name} line {}",
                left.line
            );
            assert_eq!(
                left.description, right.description,
                "{name} line {}",
                left.line
            );
        }
    }
}

#[test]
fn camt053_reads_account_balances_and_entry_details() {
    for name in ["statement.camt053.v02.xml", "statement.camt053.v08.xml"] {
        let statement = read(name, InputFormat::Camt053).unwrap();
        assert_eq!(statement.account.as_deref(), Some("DE89370400440532013000"));
        let balances = statement.balances.unwrap();
        assert_eq!(
            (balances.opening_minor, balances.closing_minor),
            (1_000_000, 1_071_075)
        );
        assert_eq!(balances.closing_date, Some(date("2026-11-20")));
        // The pending entry after line 4 is not booked and not read.
        assert_eq!(statement.lines.len(), 11, "{name}");
        let delta = &statement.lines[3];
        assert_eq!(delta.counterparty, "Delta & Co Ltd");
        assert_eq!(
            statement.lines[6].reference, "BK-7007",
            "NOTPROVIDED falls back to AcctSvcrRef"
        );
        assert_eq!(statement.lines[9].description, "Account fee");
        assert_eq!(
            statement.lines[0].source_line, 36,
            "{name}: line of the first <Ntry>"
        );
    }
}

#[test]
fn mt940_reads_tags_and_details() {
    let statement = read("statement.mt940", InputFormat::Mt940).unwrap();
    assert_eq!(statement.account.as_deref(), Some("DE89370400440532013000"));
    assert_eq!(
        statement.lines[1].counterparty, "Beta Supplies",
        "?32 continues in ?33 on the next line"
    );
    assert_eq!(statement.lines[1].amount_minor, -30_000);
    assert_eq!(
        statement.lines[7].reference, "",
        "NONREF without bank reference"
    );
    assert_eq!(statement.lines[9].description, "Account fee");
    assert_eq!(statement.lines[10].description, "Invoice 1012");
    assert_eq!(statement.lines[0].source_line, 6);
    let balances = statement.balances.unwrap();
    assert_eq!(balances.closing_date, Some(date("2026-11-20")));
}

#[test]
fn mt940_marks_dates_and_funds_codes() {
    let text = b":20:X\n:25:ACC\n:60F:C251231EUR100,\n\
:61:2512310102RD10,NTRFREF-1\n\
:61:251231RCR5,5NCHGNONREF//BANK-2\n\
:61:0101C1,00S202A\n:62F:C260102EUR104,50\n";
    let statement = mt940::read(&text[..], LineDetails::Keep).unwrap_err();
    assert!(
        statement.message.contains("line 6"),
        "{}",
        statement.message
    );
    let valid = b":20:X\n:60F:C251231EUR100,\n\
:61:2512310102RD10,NTRFREF-1\n\
:61:251231RCR5,5NCHGNONREF//BANK-2\n\
:62F:C260102EUR104,50\n";
    let statement = mt940::read(&valid[..], LineDetails::Keep).unwrap();
    let first = &statement.lines[0];
    assert_eq!(
        (first.date, first.amount_minor, first.reference.as_str()),
        (date("2026-01-02"), 1000, "REF-1")
    );
    let second = &statement.lines[1];
    assert_eq!(
        (second.date, second.amount_minor, second.reference.as_str()),
        (date("2025-12-31"), -550, "BANK-2")
    );
}

#[test]
fn mt940_latin1_lines_are_read() {
    let text = b":20:X\n:60F:C261120EUR0,\n:61:261120C1,NTRFR1\n:86:M\xfcller\n:62F:C261120EUR1,\n";
    let statement = mt940::read(&text[..], LineDetails::Keep).unwrap();
    assert_eq!(statement.lines[0].description, "Müller");
}

fn camt(version: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"><BkToCstmrStmt><Stmt><Acct><Id><Othr><Id>12345</Id></Othr></Id></Acct>{body}</Stmt></BkToCstmrStmt></Document>"#
    )
}

#[test]
fn camt053_batch_entry_takes_the_bank_reference() {
    let body = r#"<Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-20</Dt></BookgDt><AcctSvcrRef>BATCH-1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E1</EndToEndId></Refs></TxDtls><TxDtls><Refs><EndToEndId>E2</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>"#;
    let statement = camt053::read(camt("02", body).as_bytes(), LineDetails::Keep).unwrap();
    assert_eq!(statement.account.as_deref(), Some("12345"));
    assert_eq!(statement.lines[0].reference, "BATCH-1");
    assert_eq!(statement.balances, None);
}

#[test]
fn camt053_prefixed_namespace_and_value_date() {
    let text = r#"<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><c:BkToCstmrStmt><c:Stmt>
<c:Ntry><c:Amt Ccy="JPY">1500</c:Amt><c:CdtDbtInd>DBIT</c:CdtDbtInd><c:ValDt><c:DtTm>2026-11-19T23:00:00Z</c:DtTm></c:ValDt>
<c:NtryDtls><c:TxDtls><c:RltdPties><c:Cdtr><c:Pty><c:Nm>Tanaka &#x26; Sons</c:Nm></c:Pty></c:Cdtr></c:RltdPties></c:TxDtls></c:NtryDtls></c:Ntry>
</c:Stmt></c:BkToCstmrStmt></c:Document>"#;
    let statement = camt053::read(text.as_bytes(), LineDetails::Keep).unwrap();
    let line = &statement.lines[0];
    assert_eq!((line.amount_minor, line.date), (-1500, date("2026-11-19")));
    assert_eq!(line.currency, currency("JPY"));
    assert_eq!(line.counterparty, "Tanaka & Sons");
}

#[test]
fn camt_party_names_are_read_in_either_shape_whatever_the_version() {
    // `Dbtr/Nm` (up to 001.07) and `Dbtr/Pty/Nm` (001.08 on): banks mix them.
    for version in ["02", "08"] {
        for party in ["<Nm>Flat</Nm>", "<Pty><Nm>Flat</Nm></Pty>"] {
            let body = format!(
                r#"<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-20</Dt></BookgDt>
<NtryDtls><TxDtls><RltdPties><Dbtr>{party}</Dbtr></RltdPties></TxDtls></NtryDtls></Ntry>"#
            );
            let statement =
                camt053::read(camt(version, &body).as_bytes(), LineDetails::Keep).unwrap();
            assert_eq!(statement.lines[0].counterparty, "Flat", "{version} {party}");
        }
    }
}

#[test]
fn camt053_rejects_other_versions_and_documents() {
    let unsupported = camt053::read(camt("14", "").as_bytes(), LineDetails::Keep).unwrap_err();
    assert!(
        unsupported.message.contains("camt.053.001.14"),
        "{}",
        unsupported.message
    );
    let other = camt053::read(
        &b"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.03\"/>"[..],
        LineDetails::Keep,
    )
    .unwrap_err();
    assert!(
        other
            .message
            .contains("not a camt.052, camt.053 or camt.054"),
        "{}",
        other.message
    );
    let signed = camt(
        "02",
        r#"<Ntry><Amt Ccy="EUR">-1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-20</Dt></BookgDt></Ntry>"#,
    );
    let error = camt053::read(signed.as_bytes(), LineDetails::Keep).unwrap_err();
    assert!(error.message.contains("unsigned"), "{}", error.message);
}

#[test]
fn detection_by_content() {
    assert_eq!(detect_from_head(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">").unwrap(), InputFormat::Camt053);
    assert_eq!(
        detect_from_head(b"\r\n:20:STMT\r\n:25:X").unwrap(),
        InputFormat::Mt940
    );
    assert_eq!(
        detect_from_head(b"{1:F01BANK}{2:O940}{4:\n:20:X").unwrap(),
        InputFormat::Mt940
    );
    assert_eq!(
        detect_from_head(b"date,reference,amount\n").unwrap(),
        InputFormat::Csv
    );
    assert!(detect_from_head(b"<html><body/></html>").is_err());
    assert!(detect_from_head(b"  \n").is_err());
}

#[test]
fn csv_headers_are_found_by_name_in_any_order_and_case() {
    let path = write_scratch(
        "reordered.csv",
        b"Amount , CURRENCY,Reference,Date\n 12.50 ,eur, ref-1 ,2026-11-20\n\n-3,EUR,,2026-11-21\n",
    );
    let statement =
        read_statement(&path, InputFormat::Csv, &CsvOptions::default(), &mut |_| {}).unwrap();
    std::fs::remove_file(&path).unwrap();
    let first = &statement.lines[0];
    assert_eq!(
        (first.amount_minor, first.reference.as_str(), first.currency),
        (1250, "ref-1", currency("EUR"))
    );
    assert_eq!(
        (first.counterparty.as_str(), first.description.as_str()),
        ("", "")
    );
    assert_eq!(
        statement.lines[1].source_line, 4,
        "blank line skipped, physical line kept"
    );
    assert_eq!(statement.lines[1].line, 2);
}

#[test]
fn csv_map_parsing() {
    let map = CsvOptions::parse_map(" date = Booking Date ,amount=Betrag").unwrap();
    assert_eq!(map.get("date").map(String::as_str), Some("Booking Date"));
    assert_eq!(map.get("amount").map(String::as_str), Some("Betrag"));
    let unknown = CsvOptions::parse_map("value=Betrag").unwrap_err();
    assert_eq!(unknown.code, crate::error::ErrorCode::InvalidInput);
    assert!(unknown.message.contains("value"));
    assert!(CsvOptions::parse_map("date").is_err());
    assert!(CsvOptions::parse_map("date=A,date=B").is_err());
    assert!(CsvOptions::parse_map("date=").is_err());
    assert_eq!("MT940".parse::<InputFormat>().unwrap(), InputFormat::Mt940);
    assert!("xml".parse::<InputFormat>().is_err());
}

#[test]
fn csv_mapped_column_that_is_missing_is_an_error() {
    let mut options = semicolon_options();
    options
        .columns
        .insert("counterparty".to_string(), "Gegenkonto".to_string());
    let error = read_with("statement.semicolon.csv", InputFormat::Csv, &options).unwrap_err();
    assert!(error.message.contains("Gegenkonto"), "{}", error.message);
}

#[test]
fn comma_decimals_reject_thousands_separators() {
    let path = write_scratch(
        "thousands.csv",
        "date;reference;amount;currency\n2026-11-20;R;1.250,00;EUR\n".as_bytes(),
    );
    let options = CsvOptions {
        decimal_separator: ',',
        delimiter: b';',
        ..CsvOptions::default()
    };
    let error = read_statement(&path, InputFormat::Csv, &options, &mut |_| {}).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(error.message.contains("line 2"), "{}", error.message);
    assert!(error.message.contains("'1.250,00'"), "{}", error.message);
}

#[test]
fn progress_reports_every_byte() {
    let path = fixture("statement.camt053.v02.xml");
    let size = std::fs::metadata(&path).unwrap().len();
    let mut reports = Vec::new();
    read_statement(
        &path,
        InputFormat::Auto,
        &CsvOptions::default(),
        &mut |bytes| reports.push(bytes),
    )
    .unwrap();
    assert_eq!(reports.last(), Some(&size));
    assert!(reports.windows(2).all(|pair| pair[0] <= pair[1]));
}

#[test]
fn skipping_details_keeps_everything_matching_needs() {
    use super::super::{read_statement_with, FIELD_LENGTH_MAX};
    for (name, format) in [
        ("statement.csv", InputFormat::Csv),
        ("statement.camt053.v02.xml", InputFormat::Camt053),
        ("statement.camt053.v08.xml", InputFormat::Camt053),
        ("statement.mt940", InputFormat::Mt940),
    ] {
        let full = read(name, format).unwrap();
        let lean = read_statement_with(
            &fixture(name),
            format,
            &CsvOptions::default(),
            LineDetails::Skip,
            &mut |_| {},
        )
        .unwrap();
        assert!(full.lines.iter().any(|line| !line.description.is_empty()));
        let stripped: Vec<StatementLine> = full
            .lines
            .iter()
            .cloned()
            .map(|mut line| {
                line.counterparty.clear();
                line.description.clear();
                line
            })
            .collect();
        assert_eq!(lean.lines, stripped, "{name}");
        assert_eq!(lean.balances, full.balances, "{name}");
        assert_eq!(lean.account, full.account, "{name}");
    }
    // Skipped fields are still checked: both modes refuse the same files.
    let text = format!(
        "date,reference,amount,currency,description\n2026-11-20,R-1,1.00,EUR,{}\n",
        "x".repeat(FIELD_LENGTH_MAX + 1)
    );
    let path = write_scratch("long-description.csv", text.as_bytes());
    for details in [LineDetails::Keep, LineDetails::Skip] {
        let error = read_statement_with(
            &path,
            InputFormat::Csv,
            &CsvOptions::default(),
            details,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(error.message.contains("description"), "{}", error.message);
        assert!(error.message.contains("line 2"), "{}", error.message);
    }
    std::fs::remove_file(&path).unwrap();
}

/// The shared amount and currency rules (`crate::input`) in the XML and SWIFT formats: `+`,
/// surrounding spaces and lower-case codes are read as everywhere; precision keeps its code;
/// a sign where the format puts it elsewhere (CdtDbtInd, the D/C mark) is refused.
#[test]
fn camt053_and_mt940_amounts_follow_the_shared_rules() {
    let entry = |amount: &str, currency: &str| {
        camt(
            "02",
            &format!(
                r#"<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-20</Dt></BookgDt></Ntry>"#
            ),
        )
    };
    for (amount, currency) in [("+1.50", "EUR"), (" 1.50 ", "eur"), ("1.5", " EUR ")] {
        let statement = camt053::read(entry(amount, currency).as_bytes(), LineDetails::Keep)
            .unwrap_or_else(|error| panic!("{amount} {currency}: {error}"));
        assert_eq!(statement.lines[0].amount_minor, 150, "{amount}");
        assert_eq!(statement.lines[0].currency, self::currency("EUR"));
    }
    let code = |amount: &str, currency: &str| {
        camt053::read(entry(amount, currency).as_bytes(), LineDetails::Keep)
            .unwrap_err()
            .code
    };
    use crate::error::ErrorCode;
    assert_eq!(code("1.505", "EUR"), ErrorCode::AmountPrecisionExceeded);
    assert_eq!(code("1,50", "EUR"), ErrorCode::InvalidInput);
    assert_eq!(code("-1.50", "EUR"), ErrorCode::InvalidInput);
    assert_eq!(code("1.50", "XYZ"), ErrorCode::InvalidCurrency);

    let swift =
        |balance: &str| format!(":20:X\n:60F:{balance}\n:61:261120C1,NTRFR1\n:62F:C261120EUR2,\n");
    let statement = mt940::read(swift("C261120eur1,").as_bytes(), LineDetails::Keep).unwrap();
    assert_eq!(statement.lines[0].currency, self::currency("EUR"));
    let error = mt940::read(swift("C261120EUR-1,").as_bytes(), LineDetails::Keep).unwrap_err();
    assert!(error.message.contains("unsigned"), "{}", error.message);
    let error = mt940::read(swift("C261120EUR1,005").as_bytes(), LineDetails::Keep).unwrap_err();
    assert_eq!(error.code, ErrorCode::AmountPrecisionExceeded);
}
