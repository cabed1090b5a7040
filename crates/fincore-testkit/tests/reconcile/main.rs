//! The reconciliation engine on generated data (outcome known by construction), on the
//! fixtures' ledger side (`fixtures/reconcile/internal.csv`, read with the test kit's reader),
//! and its 1,000,000-line benchmark.

mod benchmark;
mod fixtures;
mod generated;

use chrono::NaiveDate;
use fincore::error::AppResult;
use fincore::money::Currency;
use fincore::reconcile::{read_statement, CsvOptions, InputFormat, Statement};
use std::path::{Path, PathBuf};

/// A file of the repository's `fixtures/reconcile/` (see its README).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/reconcile")
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

/// A temporary file path unique to this process and test.
fn scratch_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("reconcile-test-{}-{name}", std::process::id()))
}
