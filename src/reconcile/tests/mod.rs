//! Tests of the reconciliation engine. Fixtures live in `fixtures/reconcile/` (see its README).

mod camt;
mod corpus;
mod formats;
mod malformed;
mod matching;
mod mt940_variants;
mod real_corpus;
mod select;

use super::{
    read_statement, CsvOptions, InputFormat, InternalMovement, MatchOptions, Statement,
    StatementLine,
};
use crate::error::AppResult;
use crate::money::Currency;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// The real-statement corpus's folder of one format (`mt940`, `camt`): under
/// `FINCORE_STATEMENT_CORPUS`, else `fixtures/statements/real`, else `../shared/statements/real`
/// (the corpus is third-party data kept outside the repository; fixtures/statements/MANIFEST.md).
fn corpus_folder(format: &str) -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("FINCORE_STATEMENT_CORPUS").map(PathBuf::from),
        Some(manifest.join("fixtures/statements/real")),
        Some(manifest.join("../shared/statements/real")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|root| root.join(format).is_dir())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/reconcile")
        .join(name)
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn read_with(name: &str, format: InputFormat, options: &CsvOptions) -> AppResult<Statement> {
    read_statement(&fixture(name), format, options, &mut |_| {})
}

fn read(name: &str, format: InputFormat) -> AppResult<Statement> {
    read_with(name, format, &CsvOptions::default())
}

fn line(position: u64, reference: &str, amount_minor: i64, day: &str) -> StatementLine {
    StatementLine {
        line: position,
        source_line: position + 1,
        date: date(day),
        reference: reference.to_string(),
        amount_minor,
        currency: currency("EUR"),
        counterparty: String::new(),
        description: String::new(),
        group: None,
    }
}

fn movement(transfer_id: i64, reference: &str, amount_minor: i64, day: &str) -> InternalMovement {
    InternalMovement {
        transfer_id,
        date: date(day),
        reference: reference.to_string(),
        amount_minor,
        currency: currency("EUR"),
    }
}

/// A temporary file path unique to this process and test.
fn scratch_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("reconcile-test-{}-{name}", std::process::id()))
}

fn write_scratch(name: &str, content: &[u8]) -> PathBuf {
    let path = scratch_path(name);
    std::fs::write(&path, content).unwrap();
    path
}
