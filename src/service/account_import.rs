//! `account import`: a CSV of accounts read and validated whole before anything is written, a
//! bad row refused with its line and field (exit 4).

use super::accounts::{validate_holder, ImportRow, OpenRequest, ACCOUNT_IMPORT_ROWS_MAX};
use crate::error::{AppError, AppResult};
use crate::model::AccountType;
use crate::money::Currency;

/// Validate the whole file before anything is written: a bad row is exit 4 with its line.
pub(crate) fn read_rows(file: &std::path::Path) -> AppResult<Vec<ImportRow>> {
    let place = file.display().to_string();
    let opened = std::fs::File::open(file)
        .map_err(|error| AppError::invalid_input(format!("{place}: {error}")))?;
    let mut reader = csv::ReaderBuilder::new().from_reader(crate::csv_input::Checked::new(
        std::io::BufReader::new(opened),
        b',',
    ));
    let csv_error = |error: csv::Error, what: &str| {
        crate::csv_input::quoting_error(&error)
            .unwrap_or_else(|| AppError::invalid_input(format!("{what}{error}")))
            .context(&place)
    };
    let expected = ["number", "holder", "type", "currency", "overdraft_limit"];
    let headers = reader
        .headers()
        .map_err(|e| csv_error(e, "header: "))?
        .clone();
    let positions: Vec<usize> = expected
        .iter()
        .map(|name| {
            headers
                .iter()
                .position(|h| h.trim() == *name)
                .ok_or_else(|| {
                    AppError::invalid_input(format!(
                        "{place}: header: missing column '{name}' (expected {})",
                        expected.join(",")
                    ))
                })
        })
        .collect::<AppResult<_>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        // A row with fewer or more fields than the header is refused by the csv reader (it is
        // not flexible), named as every CSV reader names it (`crate::input`).
        let record = record.map_err(|e| match crate::csv_input::quoting_error(&e) {
            Some(error) => error.context(&place),
            None => {
                let line = e.position().map_or(0, |p| p.line());
                crate::input::csv_record_error(&e, line).context(&place)
            }
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if rows.len() >= ACCOUNT_IMPORT_ROWS_MAX {
            return Err(AppError::invalid_input(format!(
                "{place}: more than {ACCOUNT_IMPORT_ROWS_MAX} rows; split the file"
            )));
        }
        // Values go to the shared validators untrimmed: trimming is their rule (`crate::input`).
        let field = |slot: usize| record.get(positions[slot]).unwrap_or("").to_string();
        let request =
            account_row_request(&field).map_err(|e| e.context(format!("{place}: line {line}")))?;
        rows.push(ImportRow { line, request });
    }
    Ok(rows)
}

fn account_row_request(field: &dyn Fn(usize) -> String) -> AppResult<OpenRequest> {
    // An empty number is generated (SPEC); anything else is validated like `--number`.
    let number = match crate::text::trim(&field(0)) {
        "" => None,
        text => Some(
            crate::model::account_number::validate(text)
                .map_err(|e| e.context("field 'number'"))?,
        ),
    };
    let account_type: AccountType = field(2)
        .parse()
        .map_err(|e: AppError| e.context("field 'type'"))?;
    let currency = Currency::parse(&field(3)).map_err(|e| e.context("field 'currency'"))?;
    let limit_text = crate::text::trim(&field(4)).to_string();
    if account_type == AccountType::Credit && limit_text.is_empty() {
        return Err(AppError::invalid_input(
            "field 'overdraft_limit': required for credit accounts (the credit limit)",
        ));
    }
    let overdraft_limit_minor = if limit_text.is_empty() {
        0
    } else {
        currency
            .parse_non_negative(&limit_text)
            .map_err(|e| e.context("field 'overdraft_limit'"))?
    };
    Ok(OpenRequest {
        holder: validate_holder(&field(1)).map_err(|e| e.context("field 'holder'"))?,
        account_type,
        currency,
        number,
        overdraft_limit_minor,
        initial_deposit: None,
        identifiers: crate::model::BankIdentifiers::default(),
    })
}
