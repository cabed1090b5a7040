//! Unreadable statements: each gives `invalid_input` with the place of the problem, or the
//! money module's own code for an amount or currency (`crate::input`: one code everywhere).

use super::*;
use crate::error::ErrorCode;

fn error_of(name: &str, format: InputFormat) -> String {
    error_with_code(name, format, ErrorCode::InvalidInput)
}

fn error_with_code(name: &str, format: InputFormat, code: ErrorCode) -> String {
    let error = read(name, format).unwrap_err();
    assert_eq!(error.code, code, "{name}: {}", error.message);
    assert!(
        error.message.contains(name),
        "{name}: message names the file: {}",
        error.message
    );
    error.message
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "'{part}' missing from: {message}");
    }
}

#[test]
fn bad_amount_names_line_and_field() {
    for format in [InputFormat::Csv, InputFormat::Auto] {
        let message = error_with_code("bad_amount.csv", format, ErrorCode::AmountPrecisionExceeded);
        assert_mentions(&message, &["line 3", "field 'amount'", "-300.005"]);
    }
}

#[test]
fn bad_header_names_the_missing_column() {
    let message = error_of("bad_header.csv", InputFormat::Auto);
    assert_mentions(&message, &["header", "'date'"]);
}

#[test]
fn truncated_camt053_names_line_and_element() {
    let message = error_of("truncated.camt053.xml", InputFormat::Auto);
    assert_mentions(&message, &["truncated", "line 118", "Ntry"]);
}

#[test]
fn bad_tag_names_line_and_tag() {
    let message = error_of("bad_tag.mt940", InputFormat::Auto);
    assert_mentions(&message, &["line 5", ":99:"]);
}

#[test]
fn unbalanced_statement_names_both_figures() {
    let message = error_of("unbalanced.mt940", InputFormat::Mt940);
    assert_mentions(&message, &["10710.75", "10710.76", "does not balance"]);
}

#[test]
fn empty_and_garbage_files_are_invalid() {
    let cases: [(&str, &[u8], InputFormat); 6] = [
        ("empty.csv", b"", InputFormat::Csv),
        ("empty.auto", b"", InputFormat::Auto),
        (
            "garbage.bin",
            b"\x00\x01\x02\xff\xfe binary \x00",
            InputFormat::Auto,
        ),
        (
            "garbage.xml",
            b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><Stmt></Ntry>",
            InputFormat::Camt053,
        ),
        ("not-mt940.txt", b"hello\nworld\n", InputFormat::Mt940),
        (
            "short-row.csv",
            b"date,reference,amount,currency\n2026-11-20,R,1.00\n",
            InputFormat::Csv,
        ),
    ];
    for (name, content, format) in cases {
        let path = write_scratch(name, content);
        let error = read_statement(&path, format, &CsvOptions::default(), &mut |_| {}).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            error.code,
            ErrorCode::InvalidInput,
            "{name}: {}",
            error.message
        );
    }
}

#[test]
fn line_errors_in_csv_name_line_and_field() {
    let cases = [
        (
            "2026-13-01,R,1.00,EUR",
            "field 'date'",
            ErrorCode::InvalidInput,
        ),
        (
            "2026-11-20,R,1.00,XYZ",
            "field 'currency'",
            ErrorCode::InvalidCurrency,
        ),
        (
            "2026-11-20,R,1e3,EUR",
            "field 'amount'",
            ErrorCode::InvalidInput,
        ),
        (
            "2026-11-20,R,99999999999999999,EUR",
            "field 'amount'",
            ErrorCode::AmountOutOfRange,
        ),
    ];
    for (row, field, code) in cases {
        let content = format!("date,reference,amount,currency\n2026-11-20,OK,1.00,EUR\n{row}\n");
        let path = write_scratch("line-error.csv", content.as_bytes());
        let error = read_statement(&path, InputFormat::Csv, &CsvOptions::default(), &mut |_| {})
            .unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(error.code, code, "{row}");
        assert_mentions(&error.message, &["line 3", field]);
    }
}

#[test]
fn oversized_fields_are_refused_not_truncated() {
    let long = "x".repeat(super::super::FIELD_LENGTH_MAX + 1);
    let content =
        format!("date,reference,amount,currency,description\n2026-11-20,R,1.00,EUR,{long}\n");
    let path = write_scratch("long.csv", content.as_bytes());
    let error =
        read_statement(&path, InputFormat::Csv, &CsvOptions::default(), &mut |_| {}).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_mentions(&error.message, &["line 2", "description"]);
}

#[test]
fn mt940_structure_errors_name_the_line() {
    let cases: [(&[u8], &str); 4] = [
        (b":20:X\n:61:261120C1,NTRFR\n", ":60F:"),
        (b":20:X\n:25:A\nstray text\n", "line 3"),
        (
            b":20:X\n:60F:C261120EUR1,\n:61:261120X1,NTRFR\n:62F:C261120EUR1,\n",
            "line 3",
        ),
        (
            b":20:X\n:60F:C261120EUR1,\n:61:261120C1,5X\n:62F:C261120EUR1,\n",
            "transaction type",
        ),
    ];
    for (content, expected) in cases {
        let error = super::super::statement::mt940::read(content, super::super::LineDetails::Keep)
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidInput);
        assert_mentions(&error.message, &[expected]);
    }
}

#[test]
fn csv_line_numbers_count_blank_lines_and_quoted_newlines() {
    let content = "date,reference,amount,currency,description\n\
2026-11-20,A,1.00,EUR,\"two\nlines\"\n\n\n2026-11-20,B,x,EUR,last";
    let path = write_scratch("line-numbers.csv", content.as_bytes());
    let error =
        read_statement(&path, InputFormat::Csv, &CsvOptions::default(), &mut |_| {}).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_mentions(&error.message, &["line 6", "field 'amount'"]);
}

#[test]
fn csv_unclosed_quote_names_the_line_it_opened() {
    // The csv crate would read lines 3 to 5 as one description and report two lines.
    let content = "date,reference,amount,currency,description\n\
2026-11-20,A,1.00,EUR,first\n\
2026-11-20,B,2.00,EUR,\"Payment, INV-1\n\
2026-11-20,C,3.00,EUR,third\n\
2026-11-20,D,4.00,EUR,fourth\n";
    let path = write_scratch("unclosed-quote.csv", content.as_bytes());
    for format in [InputFormat::Csv, InputFormat::Auto] {
        let error = read_statement(&path, format, &CsvOptions::default(), &mut |_| {}).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidInput);
        assert_mentions(
            &error.message,
            &["unclosed-quote.csv", "line 3", "never closed"],
        );
    }
    std::fs::remove_file(&path).unwrap();
}
