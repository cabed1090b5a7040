//! `account import`: a CSV of accounts read and validated whole before anything is written, a
//! bad row refused with its line and field (exit 4).

use super::accounts::{validate_holder, ImportRow, OpenRequest, ACCOUNT_IMPORT_ROWS_MAX};
use crate::error::{AppError, AppResult};
use crate::model::AccountType;
use crate::money::Currency;

/// Validate the whole file before anything is written: a bad row is exit 4 with its line.
pub(crate) fn read_rows(file: &std::path::Path) -> AppResult<Vec<ImportRow>> {
    let expected = ["number", "holder", "type", "currency", "overdraft_limit"];
    let mut file = crate::input::NamedColumns::open(file, &expected)?;
    let mut rows = Vec::new();
    while let Some((record, line)) = file.next_row()? {
        if rows.len() >= ACCOUNT_IMPORT_ROWS_MAX {
            return Err(AppError::invalid_input(format!(
                "{}: more than {ACCOUNT_IMPORT_ROWS_MAX} rows; split the file",
                file.place()
            )));
        }
        // Values go to the shared validators untrimmed: trimming is their rule (`crate::input`).
        let field = |slot: usize| file.field(&record, slot).to_string();
        let request = account_row_request(&field)
            .map_err(|e| e.context(format!("{}: line {line}", file.place())))?;
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
