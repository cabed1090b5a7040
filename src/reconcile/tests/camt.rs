//! camt.052/053/054 in every version: booked entries only, batch entries split into grouped
//! lines, the reference order, exact amounts with extra zeros, several accounts in one file.

use super::super::statement::camt053;
use super::super::{check_balances, LineDetails};
use super::*;
use crate::error::ErrorCode;

/// A document of `message` (052, 053, 054) version `version` holding `blocks`.
fn document(message: &str, version: u8, prefix: &str, blocks: &str) -> String {
    let (root, _) = elements(message);
    let colon = if prefix.is_empty() { "" } else { ":" };
    let body = blocks
        .replace('<', &format!("<{prefix}{colon}"))
        .replace(&format!("<{prefix}{colon}/"), &format!("</{prefix}{colon}"));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{prefix}{colon}Document xmlns{colon}{prefix}="urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.{version:02}">
<{prefix}{colon}{root}>{body}</{prefix}{colon}{root}></{prefix}{colon}Document>"#
    )
}

fn elements(message: &str) -> (&'static str, &'static str) {
    match message {
        "052" => ("BkToCstmrAcctRpt", "Rpt"),
        "053" => ("BkToCstmrStmt", "Stmt"),
        _ => ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
    }
}

fn status(version: u8, code: &str) -> String {
    if version >= 8 {
        format!("<Sts><Cd>{code}</Cd></Sts>")
    } else {
        format!("<Sts>{code}</Sts>")
    }
}

fn entry(amount: &str, sign: &str, status: &str, details: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd>{status}<BookgDt><Dt>2026-11-20</Dt></BookgDt><NtryDtls>{details}</NtryDtls></Ntry>"#
    )
}

fn balance(code: &str, amount: &str) -> String {
    format!(
        r#"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>"#
    )
}

fn block(message: &str, account: &str, content: &str) -> String {
    let (_, block) = elements(message);
    format!("<{block}><Id>S1</Id><Acct><Id><IBAN>{account}</IBAN></Id></Acct>{content}</{block}>")
}

fn read_text(text: &str) -> AppResult<Statement> {
    let statement = camt053::read(text.as_bytes(), LineDetails::Keep)?;
    check_balances(&statement)?;
    Ok(statement)
}

#[test]
fn every_version_of_the_three_messages_reads_booked_entries() {
    for message in ["052", "053", "054"] {
        for version in 1..=13u8 {
            for prefix in ["", "camt"] {
                let booked = entry("8.850", "CRDT", &status(version, "BOOK"), "");
                let pending = entry("99.00", "CRDT", &status(version, "PDNG"), "");
                let debit = entry("1.35", "DBIT", &status(version, "BOOK"), "");
                let balances = if message == "054" {
                    String::new()
                } else {
                    balance("OPBD", "10.00") + &balance("CLBD", "17.50")
                };
                let content = format!("{balances}{booked}{pending}{debit}");
                let text = document(
                    message,
                    version,
                    prefix,
                    &block(message, "DE89370400440532013000", &content),
                );
                let statement = read_text(&text).unwrap_or_else(|error| {
                    panic!("camt.{message}.001.{version:02} '{prefix}': {error}")
                });
                let amounts: Vec<i64> = statement
                    .lines
                    .iter()
                    .map(|line| line.amount_minor)
                    .collect();
                assert_eq!(amounts, [885, -135], "camt.{message}.001.{version:02}");
                assert_eq!(statement.pending_entries, 1);
                assert_eq!(statement.parts.len(), 1);
                assert_eq!(statement.parts[0].pending_entries, 1);
                assert_eq!(statement.parts[0].lines, 0..2);
                assert_eq!(statement.account.as_deref(), Some("DE89370400440532013000"));
                assert_eq!(statement.balances.is_some(), message != "054");
            }
        }
    }
}

#[test]
fn a_non_zero_digit_beyond_the_currency_is_refused_naming_line_and_field() {
    let content = format!("\n{}", entry("8.855", "CRDT", "", ""));
    let text = document("053", 8, "", &block("053", "X", &content));
    let error = read_text(&text).unwrap_err();
    assert_eq!(
        error.code,
        ErrorCode::AmountPrecisionExceeded,
        "{}",
        error.message
    );
    for part in ["line 4", "Ntry/Amt", "8.855"] {
        assert!(
            error.message.contains(part),
            "'{part}' missing: {}",
            error.message
        );
    }
    // Zero-decimal currencies: `1500.000` JPY is 1500.
    let yen = entry("1500.000", "DBIT", "", "").replace("EUR", "JPY");
    let statement = read_text(&document("053", 2, "", &block("053", "X", &yen))).unwrap();
    assert_eq!(statement.lines[0].amount_minor, -1500);
}

fn transaction(amount: &str, references: &str) -> String {
    format!(r#"<TxDtls><Refs>{references}</Refs><Amt Ccy="EUR">{amount}</Amt></TxDtls>"#)
}

#[test]
fn a_batch_entry_becomes_one_line_per_transaction_in_one_group() {
    let details = transaction("10.00", "<EndToEndId>E1</EndToEndId>")
        + &transaction(
            "20.00",
            "<EndToEndId>NOTPROVIDED</EndToEndId><AcctSvcrRef>A2</AcctSvcrRef>",
        )
        + r#"<TxDtls><Refs><InstrId>I3</InstrId></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">5.00</Amt></TxAmt></AmtDtls></TxDtls>"#;
    let batch = entry("35.00", "CRDT", "<Sts>BOOK</Sts>", &details)
        .replace("<NtryDtls>", "<AcctSvcrRef>BATCH</AcctSvcrRef><NtryDtls>");
    let single = entry(
        "1.00",
        "DBIT",
        "",
        &transaction("1.00", "<InstrId>I9</InstrId>"),
    );
    let text = document(
        "053",
        4,
        "",
        &block("053", "X", &format!("{single}{batch}")),
    );
    let statement = read_text(&text).unwrap();
    let lines: Vec<(i64, &str, Option<u64>)> = statement
        .lines
        .iter()
        .map(|line| (line.amount_minor, line.reference.as_str(), line.group))
        .collect();
    assert_eq!(
        lines,
        [
            (-100, "I9", None),
            (1000, "E1", Some(2)),
            (2000, "A2", Some(2)),
            // No transaction reference of its own: the entry's AcctSvcrRef comes before InstrId.
            (500, "BATCH", Some(2)),
        ]
    );
    // Transactions that do not add up to the entry leave it one line with its own reference.
    let uneven = entry("36.00", "CRDT", "", &details)
        .replace("<NtryDtls>", "<AcctSvcrRef>BATCH</AcctSvcrRef><NtryDtls>");
    let statement = read_text(&document("053", 4, "", &block("053", "X", &uneven))).unwrap();
    assert_eq!(statement.lines.len(), 1);
    assert_eq!(
        (
            statement.lines[0].reference.as_str(),
            statement.lines[0].group
        ),
        ("BATCH", None)
    );
}

#[test]
fn references_follow_the_documented_order() {
    let cases = [
        ("<Refs><EndToEndId>E</EndToEndId><AcctSvcrRef>A</AcctSvcrRef><InstrId>I</InstrId></Refs><RmtInf><Ustrd>U</Ustrd></RmtInf>", "E"),
        ("<Refs><EndToEndId>NOTPROVIDED</EndToEndId><AcctSvcrRef>A</AcctSvcrRef><InstrId>I</InstrId></Refs>", "A"),
        ("<Refs><EndToEndId>NOTPROVIDED</EndToEndId><InstrId>I</InstrId></Refs><RmtInf><Ustrd>U</Ustrd></RmtInf>", "I"),
        ("<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RmtInf><Ustrd>Invoice</Ustrd><Ustrd>42</Ustrd></RmtInf>", "Invoice 42"),
    ];
    for (details, expected) in cases {
        let text = document(
            "053",
            8,
            "",
            &block(
                "053",
                "X",
                &entry("1.00", "CRDT", "", &format!("<TxDtls>{details}</TxDtls>")),
            ),
        );
        let statement = read_text(&text).unwrap();
        assert_eq!(statement.lines[0].reference, expected, "{details}");
    }
}

#[test]
fn several_accounts_in_one_file_are_all_returned_each_balanced_on_its_own() {
    let first = block(
        "053",
        "DE11",
        &(balance("OPBD", "1.00") + &balance("CLBD", "3.00") + &entry("2.00", "CRDT", "", "")),
    );
    let second = block(
        "053",
        "DE22",
        &(balance("OPBD", "5.00") + &balance("CLBD", "4.00") + &entry("1.00", "DBIT", "", "")),
    )
    .replace("<Acct>", "<FrToDt><FrDtTm>2026-11-01T00:00:00</FrDtTm><ToDtTm>2026-11-30T23:59:59</ToDtTm></FrToDt><Acct>");
    let statement = read_text(&document("053", 2, "", &format!("{first}{second}"))).unwrap();
    assert_eq!(statement.account, None);
    assert_eq!(statement.balances, None);
    let parts: Vec<(Option<&str>, std::ops::Range<usize>)> = statement
        .parts
        .iter()
        .map(|part| (part.account.as_deref(), part.lines.clone()))
        .collect();
    assert_eq!(parts, [(Some("DE11"), 0..1), (Some("DE22"), 1..2)]);
    assert_eq!(
        statement.parts[1].period,
        Some((date("2026-11-01"), date("2026-11-30")))
    );
    assert_eq!(statement.parts[1].balances.unwrap().closing_minor, 400);
    // A part that does not balance is named.
    let broken = second.replace("5.00", "6.00");
    let error = read_text(&document("053", 2, "", &format!("{first}{broken}"))).unwrap_err();
    assert!(
        error.message.contains("statement part 2 (DE22)"),
        "{}",
        error.message
    );
}

#[test]
fn a_document_inside_an_envelope_with_its_application_header_is_read() {
    let document = document(
        "053",
        11,
        "",
        &block("053", "X", &entry("2.00", "DBIT", "", "")),
    );
    let document = document.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let text = format!(
        r#"<?xml version="1.0"?><BizMsgEnvlp><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"><MsgDefIdr>camt.053.001.11</MsgDefIdr></AppHdr>{document}</BizMsgEnvlp>"#
    );
    let statement = read_text(&text).unwrap();
    assert_eq!(statement.lines[0].amount_minor, -200);
    let elsewhere = read_text(r#"<BizMsgEnvlp><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"/></BizMsgEnvlp>"#)
        .unwrap_err();
    assert!(
        elsewhere.message.contains("<BizMsgEnvlp>"),
        "{}",
        elsewhere.message
    );
}
