//! Real camt files from other projects' test suites (`statements/real/camt/<project>/`, see its
//! MANIFEST): every complete file reads, and what it reads agrees with an independent reader;
//! every file listed as broken is refused with the line and the field named.
//!
//! The corpus is found at `$FINCORE_STATEMENT_CORPUS`, else `fixtures/statements/real`, else
//! `../shared/statements/real` beside the checkout. Without a corpus the test says so and
//! passes, unless `FINCORE_REQUIRE_CORPUS=1`.
//!
//! Independent readers, in order of preference:
//! 1. the source project's own expected values (genkgo/camt's `.json` dumps beside the file:
//!    every booked entry's amount and sign);
//! 2. a second, minimal reader below (`tally_entries`): booked `<Ntry>` amounts with their
//!    `CdtDbtInd`, summed with `rust_decimal`, not with the money module;
//! 3. the file's own balances: `read_statement` refuses a part whose opening balance plus its
//!    booked lines is not its closing balance.

use super::*;
use crate::error::ErrorCode;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Files that are not complete, valid statements, and why (each checked by hand against the
/// file). Each must be refused with `invalid_input`, `amount_precision_exceeded` or
/// `invalid_currency`, naming the line and element, the statement part, or the document.
const KNOWN_BROKEN: &[(&str, &str)] = &[
    (
        "genkgo-camt/camt053.v2.all-balance-types.xml",
        "OPBD 1.01 + 8.85 booked is not CLBD 4.04 (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v2.five.decimals.xml",
        "OPBD 18.150 + 8.850 booked is not CLBD 27.050",
    ),
    (
        "genkgo-camt/camt053.v2.minimal.ultimate.xml",
        "opening balance in EUR, closing in SEK (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v2.minimal.xml",
        "opening balance in EUR, closing in SEK (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v2.with-party-ids.xml",
        "opening balance in EUR, closing in SEK (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v3.xml",
        "opening balance in EUR, closing in SEK (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v4.xml",
        "opening balance in EUR, closing in SEK (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v8.xml",
        "opening balance in EUR, closing in SEK (parser test stub)",
    ),
    (
        "genkgo-camt/camt053.v2.wrong.xml",
        "no <Stmt> (deliberately wrong)",
    ),
    (
        "hbci4java/test-camt-parse-5200108-invalid-saldo.xml",
        "balance 100.0000000000005 EUR (deliberately invalid)",
    ),
    (
        "hbci4java/test-camt-parse-invalid.xml",
        "namespace names no message or version",
    ),
    ("hbci4java/test-camt-parse-none.xml", "not a camt document"),
    (
        "hbci4java/test-camt-ruecklastschrift.xml",
        "PRCD 100.00 - 53.00 booked is not CLBD 100.00",
    ),
    (
        "iso20022-js/bank_of_montreal__camt053_v2_2.xml",
        "malformed XML: mismatched end tag",
    ),
    (
        "iso20022-js/bank_of_montreal__camt053_v2_3.xml",
        "malformed XML: mismatched end tag",
    ),
    (
        "iso20022-js/goldman_sachs__camt_053_uk_v2_1.xml",
        "second statement: OPBD + booked is 108.35 off CLBD",
    ),
    (
        "iso20022-js/goldman_sachs__camt_053_us_v2_sample.xml",
        "EUR entries in a USD statement that does not balance",
    ),
    (
        "moov-iso20022/200519_camt.052_P_CH2909000000250094239_1110092686_0_2019042416072347.xml",
        "OPBD + booked is 103.00 off ITBD",
    ),
    (
        "moov-iso20022/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml",
        "CLBD is 1537.00 short of OPBD + booked (that sum is FWAV)",
    ),
    (
        "oca-bank-statement-import/test-camt053.xml",
        "OPBD + booked is 434.16 off CLBD",
    ),
    (
        "ofxstatement-iso20022/gcamp6.xml",
        "currency XXX (the code for no currency)",
    ),
    (
        "ofxstatement-iso20022/unsupported.xml",
        "not a camt document",
    ),
];

/// Least share of complete files that must read correctly.
const PASS_RATE_MIN: f64 = 0.97;

fn xml_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            xml_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "xml") {
            found.push(path);
        }
    }
}

/// `camt.053.001.08` from the first namespace that names one.
fn message_version(text: &str) -> String {
    let Some(start) = text.find("xsd:camt.05") else {
        return "unknown".to_string();
    };
    text[start + 4..]
        .chars()
        .take(15)
        .collect::<String>()
        .trim_end_matches(|character: char| !character.is_ascii_digit())
        .to_string()
}

/// One entry as the independent reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tallied {
    amount: Decimal,
}

/// A minimal second reader: the booked `<Ntry>` of every block, in file order, each as its
/// signed amount. Status `BOOK` or none counts; anything else is pending.
fn tally_entries(text: &str) -> Result<Vec<Tallied>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut current: Option<(Option<String>, Option<String>, Option<String>)> = None;
    let mut text_buffer = String::new();
    loop {
        match reader.read_event().map_err(|error| error.to_string())? {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_string();
                path.push(name);
                text_buffer.clear();
                if path.len() == 4 && path[3] == "Ntry" {
                    current = Some((None, None, None));
                }
            }
            Event::Empty(start) => {
                let _ = start;
            }
            Event::Text(content) => {
                text_buffer.push_str(&content.xml10_content());
            }
            Event::GeneralRef(_) => {}
            Event::End(_) => {
                let value = text_buffer.trim().to_string();
                text_buffer.clear();
                if path.len() >= 4 && path[3] == "Ntry" {
                    let relative: Vec<&str> = path[4..].iter().map(String::as_str).collect();
                    if let Some((amount, sign, status)) = current.as_mut() {
                        match relative.as_slice() {
                            ["Amt"] => *amount = Some(value),
                            ["CdtDbtInd"] => *sign = Some(value),
                            ["Sts"] if !value.is_empty() => *status = Some(value),
                            ["Sts", "Cd"] => *status = Some(value),
                            [] => {
                                let (amount, sign, status) = current.take().unwrap_or_default();
                                if status.as_deref().is_none_or(|status| status == "BOOK") {
                                    let amount = Decimal::from_str(amount.as_deref().unwrap_or(""))
                                        .map_err(|error| format!("entry amount: {error}"))?;
                                    let amount = match sign.as_deref() {
                                        Some("DBIT") => -amount,
                                        _ => amount,
                                    };
                                    entries.push(Tallied { amount });
                                }
                            }
                            _ => {}
                        }
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(entries)
}

/// genkgo/camt's expected values: the booked entries of its JSON dump, in order.
fn genkgo_expected(json_path: &Path) -> Option<Vec<Tallied>> {
    let text = std::fs::read_to_string(json_path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    // Dumps of several records elide the later ones (`__RECURSIVITY__`): not usable.
    let records = value
        .get("getRecords")
        .and_then(|records| records.as_array());
    if records.is_some_and(|records| records.len() > 1) {
        return None;
    }
    let entries = value.get("getEntries")?.as_array()?;
    let mut expected = Vec::new();
    for entry in entries {
        let status = entry.get("getStatus").and_then(|status| status.as_str());
        if status.is_some_and(|status| status != "BOOK") {
            continue;
        }
        let money = entry.get("getAmount")?;
        let minor = Decimal::from_str(money.get("getAmount")?.as_str()?).ok()?;
        let code = money.get("getCurrency")?.get("getCode")?.as_str()?;
        let units = Currency::parse(code).ok()?.minor_units();
        let magnitude = minor.abs() / Decimal::from(10i64.pow(units));
        let amount = match entry.get("getCreditDebitIndicator")?.as_str()? {
            "DBIT" => -magnitude,
            _ => magnitude,
        };
        expected.push(Tallied { amount });
    }
    Some(expected)
}

/// The statement's lines folded back into entries: a batch's lines (one group) are one entry.
fn entries_of(statement: &Statement) -> Vec<Tallied> {
    let mut entries: Vec<Tallied> = Vec::new();
    let mut last_group = None;
    for line in &statement.lines {
        let amount = Decimal::new(line.amount_minor, line.currency.minor_units());
        match line.group {
            Some(group) if last_group == Some(group) => {
                if let Some(entry) = entries.last_mut() {
                    entry.amount += amount;
                }
            }
            group => {
                entries.push(Tallied { amount });
                last_group = group;
            }
        }
    }
    for entry in &mut entries {
        entry.amount = entry.amount.normalize();
    }
    entries
}

fn normalized(entries: Vec<Tallied>) -> Vec<Tallied> {
    entries
        .into_iter()
        .map(|entry| Tallied {
            amount: entry.amount.normalize(),
        })
        .collect()
}

/// What went wrong with one complete file, or which reader it agreed with.
fn check_complete(path: &Path, text: &str) -> Result<&'static str, String> {
    let statement = read_statement(path, InputFormat::Auto, &CsvOptions::default(), &mut |_| {})
        .map_err(|error| format!("refused: {error}"))?;
    let read = entries_of(&statement);
    let json = path.with_extension("json");
    if let Some(expected) = json.is_file().then(|| genkgo_expected(&json)).flatten() {
        let expected = normalized(expected);
        if read != expected {
            return Err(format!(
                "entries differ from the project's expected values: read {read:?}, expected {expected:?}"
            ));
        }
        return Ok("project's expected values");
    }
    let tallied = normalized(tally_entries(text).map_err(|error| format!("tally: {error}"))?);
    if read != tallied {
        return Err(format!(
            "entries differ from the independent tally: read {read:?}, tallied {tallied:?}"
        ));
    }
    let balanced = statement.parts.iter().any(|part| part.balances.is_some());
    Ok(if balanced {
        "independent tally and own balances"
    } else {
        "independent tally"
    })
}

#[test]
fn every_real_camt_file_reads_or_is_refused_with_a_place() {
    let Some(root) = super::corpus_folder("camt") else {
        assert!(
            std::env::var("FINCORE_REQUIRE_CORPUS").as_deref() != Ok("1"),
            "no statement corpus found (FINCORE_STATEMENT_CORPUS, fixtures/statements/real, ../shared/statements/real)"
        );
        eprintln!("camt corpus: not found; skipped (set FINCORE_STATEMENT_CORPUS)");
        return;
    };
    let mut files = Vec::new();
    xml_files(&root.join("camt"), &mut files);
    files.sort();
    // version -> (complete, passed, broken)
    let mut tally: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut checked_by: BTreeMap<&'static str, u32> = BTreeMap::new();
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let version = message_version(&text);
        let counts = tally.entry(version).or_default();
        if let Some((_, reason)) = KNOWN_BROKEN
            .iter()
            .find(|(name, _)| relative.ends_with(name))
        {
            counts.2 += 1;
            match read_statement(path, InputFormat::Auto, &CsvOptions::default(), &mut |_| {}) {
                Ok(_) => {
                    failures.push(format!("{relative}: listed as broken ({reason}) but reads"))
                }
                Err(error) => {
                    let code_ok = matches!(
                        error.code,
                        ErrorCode::InvalidInput
                            | ErrorCode::AmountPrecisionExceeded
                            | ErrorCode::InvalidCurrency
                    );
                    // The place: a line and element, a statement part, or the document.
                    let placed = ["line ", "statement part ", "camt document", "not a camt"]
                        .iter()
                        .any(|place| error.message.contains(place));
                    if !code_ok || !placed {
                        failures.push(format!(
                            "{relative}: broken ({reason}) but refused without code or line: {error}"
                        ));
                    }
                }
            }
            continue;
        }
        counts.0 += 1;
        match check_complete(path, &text) {
            Ok(reader) => {
                counts.1 += 1;
                *checked_by.entry(reader).or_default() += 1;
            }
            Err(reason) => failures.push(format!("{relative}: {reason}")),
        }
    }
    let (complete, passed, broken) = tally.values().fold((0, 0, 0), |sum, counts| {
        (sum.0 + counts.0, sum.1 + counts.1, sum.2 + counts.2)
    });
    eprintln!("camt corpus at {}: {} files", root.display(), files.len());
    eprintln!(
        "{:<18} {:>8} {:>6} {:>7} {:>6}",
        "version", "complete", "read", "rate", "broken"
    );
    for (version, (version_complete, version_passed, version_broken)) in &tally {
        let rate = f64::from(*version_passed) / f64::from((*version_complete).max(1));
        eprintln!(
            "{version:<18} {version_complete:>8} {version_passed:>6} {:>6.1}% {version_broken:>6}",
            rate * 100.0
        );
    }
    let rate = f64::from(passed) / f64::from(complete.max(1));
    eprintln!(
        "{:<18} {complete:>8} {passed:>6} {:>6.1}% {broken:>6}",
        "all",
        rate * 100.0
    );
    eprintln!("checked against: {checked_by:?}");
    for failure in &failures {
        eprintln!("FAIL {failure}");
    }
    assert!(complete > 0, "the corpus has no complete camt file");
    let broken_misread = failures
        .iter()
        .filter(|failure| failure.contains("broken ("))
        .count();
    assert_eq!(
        broken_misread, 0,
        "known-broken files misread: {failures:#?}"
    );
    assert!(
        rate >= PASS_RATE_MIN,
        "{passed} of {complete} complete camt files read correctly ({:.1}%), below {:.0}%",
        rate * 100.0,
        PASS_RATE_MIN * 100.0
    );
}
