//! `reconcile resolve --file DECISIONS.csv`: many break items resolved in one transaction, all
//! or nothing. Columns `item_id,decision,account,note` (by header name, in any order; other
//! columns are ignored): `decision` is `post` (with the `account` to post the difference to)
//! or `accept` (with `account` empty); `note` is required. Every row is read and checked
//! before the ledger is touched; then each is resolved exactly as `reconcile resolve` resolves
//! one item. The first bad row stops everything: nothing is written, the exit code is that
//! row's (4 a malformed field, 5 an unknown item or account, 3 an item already resolved or of a
//! superseded run, a posting refused), and the message names the file, the row's line and the
//! field.

use super::reconcile::NOTE_LENGTH_MAX;
use super::reconcile::{open_item, resolve_open_item, ResolveAction, ResolveOutcome};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::store::{with_retry, Actor, Store};
use std::path::Path;

/// Most rows in one decisions file (one transaction holds them all).
pub(crate) const DECISION_ROWS_MAX: usize = 100_000;

const COLUMNS: [&str; 4] = ["item_id", "decision", "account", "note"];

/// One checked row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The physical line of the row (the header is line 1).
    pub(crate) line: u64,
    pub(crate) item_id: i64,
    pub(crate) action: ResolveAction,
    pub(crate) note: String,
}

/// Read and check every row of a decisions file (exit 4 naming the line and field).
pub(crate) fn read_decisions(file: &Path) -> AppResult<Vec<Decision>> {
    let mut file = crate::input::NamedColumns::open(file, &COLUMNS)?;
    let place = file.place().to_string();
    let mut decisions = Vec::new();
    while let Some((record, line)) = file.next_row()? {
        if decisions.len() >= DECISION_ROWS_MAX {
            return Err(AppError::invalid_input(format!(
                "{place}: more than {DECISION_ROWS_MAX} rows; split the file"
            )));
        }
        let field = |slot: usize| file.field(&record, slot);
        let decision = decision_row(line, &field)
            .map_err(|error| error.context(format_args!("{place}: line {line}")))?;
        decisions.push(decision);
    }
    if decisions.is_empty() {
        return Err(AppError::invalid_input(format!(
            "{place}: no decisions (expected rows of {})",
            COLUMNS.join(",")
        )));
    }
    Ok(decisions)
}

fn decision_row<'a>(line: u64, field: &dyn Fn(usize) -> &'a str) -> AppResult<Decision> {
    let id_text = crate::text::trim(field(0));
    let item_id = id_text
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            let what = if id_text.is_empty() {
                "required (the item's id)".to_string()
            } else {
                format!("'{id_text}' is not an item id")
            };
            AppError::invalid_input(format!("field 'item_id': {what}"))
        })?;
    let account = crate::text::trim(field(2));
    let decision = crate::text::trim(field(1)).to_ascii_lowercase();
    let action = match decision.as_str() {
        "post" if account.is_empty() => return Err(AppError::invalid_input(
            "field 'account': required for decision 'post' (the account to post the difference to)",
        )),
        "post" => ResolveAction::PostTo(
            crate::model::account_number::validate(account)
                .map_err(|error| error.context("field 'account'"))?,
        ),
        "accept" if !account.is_empty() => {
            return Err(AppError::invalid_input(format!(
                "field 'account': must be empty for decision 'accept' (got '{account}')"
            )))
        }
        "accept" => ResolveAction::Accept,
        "" => {
            return Err(AppError::invalid_input(
                "field 'decision': required ('post' or 'accept')",
            ))
        }
        _ => {
            return Err(AppError::invalid_input(format!(
                "field 'decision': '{}' is not 'post' or 'accept'",
                crate::text::trim(field(1))
            )))
        }
    };
    let note = crate::text::trim(field(3));
    if note.is_empty() {
        return Err(AppError::invalid_input(
            "field 'note': required (why the item is resolved this way)",
        ));
    }
    if note.chars().count() > NOTE_LENGTH_MAX {
        return Err(AppError::invalid_input(format!(
            "field 'note': longer than {NOTE_LENGTH_MAX} characters"
        )));
    }
    Ok(Decision {
        line,
        item_id,
        action,
        note: note.to_string(),
    })
}

/// Resolve every decision in one transaction, in file order; the first refusal rolls all back.
pub(crate) async fn resolve_all(
    store: &Store,
    actor: &Actor,
    place: &str,
    decisions: &[Decision],
) -> AppResult<Vec<ResolveOutcome>> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let mut outcomes = Vec::with_capacity(decisions.len());
        for decision in decisions {
            let at = |field: &str| format!("{place}: line {}: field '{field}'", decision.line);
            let resolved = match open_item(&mut tx, decision.item_id).await {
                Ok((run, item)) => {
                    resolve_open_item(&mut tx, &run, item, &decision.action, &decision.note, None)
                        .await
                        .map(|(item, transfer)| ResolveOutcome {
                            run,
                            item,
                            transfer,
                        })
                        .map_err(|error| {
                            if error.retryable || error.code == ErrorCode::StorageUnavailable {
                                return error;
                            }
                            // A posting refused for its account names the account; anything else
                            // (no difference to post) the decision.
                            let field = match error.code {
                                ErrorCode::AccountNotFound
                                | ErrorCode::AccountFrozen
                                | ErrorCode::AccountClosed
                                | ErrorCode::AccountsMustBeDifferent
                                | ErrorCode::CurrencyMismatch => "account",
                                _ => "decision",
                            };
                            error.context(at(field))
                        })
                }
                Err(error) if error.retryable || error.code == ErrorCode::StorageUnavailable => {
                    Err(error)
                }
                Err(error) => Err(error.context(at("item_id"))),
            };
            match resolved {
                Ok(outcome) => outcomes.push(outcome),
                Err(error) => {
                    tx.rollback().await?;
                    return Err(error);
                }
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: [&str; 4]) -> AppResult<Decision> {
        decision_row(2, &|slot| fields[slot])
    }

    fn refused(fields: [&str; 4], expected: &str) {
        let error = row(fields).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidInput);
        assert!(error.message.contains(expected), "{}", error.message);
    }

    fn read(text: &str) -> AppResult<Vec<Decision>> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("decisions.csv");
        std::fs::write(&path, text).unwrap();
        read_decisions(&path).map_err(|error| AppError {
            message: error.message.replace(&path.display().to_string(), "FILE"),
            ..error
        })
    }

    #[test]
    fn files_are_checked_whole() {
        let decisions =
            read("note,account,decision,item_id,extra\nok,,accept,5,x\nfee,FEESEUR,post,6,y\n")
                .unwrap();
        assert_eq!(
            decisions,
            [
                Decision {
                    line: 2,
                    item_id: 5,
                    action: ResolveAction::Accept,
                    note: "ok".to_string()
                },
                Decision {
                    line: 3,
                    item_id: 6,
                    action: ResolveAction::PostTo("FEESEUR".to_string()),
                    note: "fee".to_string()
                },
            ]
        );
        let message = |text: &str| read(text).unwrap_err().message;
        assert_eq!(
            message("item_id,decision,note\n1,accept,x\n"),
            "FILE: header: missing column 'account' (expected item_id,decision,account,note)"
        );
        assert_eq!(
            message("item_id,decision,account,note\n"),
            "FILE: no decisions (expected rows of item_id,decision,account,note)"
        );
        assert!(
            message("item_id,decision,account,note\n1,accept,,\"open\n2,accept,,x\n")
                .contains("line 2"),
            "an unclosed quote names its line"
        );
        assert_eq!(
            message("item_id,decision,account,note\n1,accept,,x\n2,accept,,x,y\n"),
            "FILE: line 3: 5 fields, but the header has 4"
        );
        let mut many = String::from("item_id,decision,account,note\n");
        for id in 1..=DECISION_ROWS_MAX + 1 {
            many.push_str(&format!("{id},accept,,n\n"));
        }
        assert_eq!(
            message(&many),
            format!("FILE: more than {DECISION_ROWS_MAX} rows; split the file")
        );
    }

    #[test]
    fn rows_are_checked_field_by_field() {
        let post = row([" 7 ", "POST", "feeseur", "bank fee"]).unwrap();
        assert_eq!(post.item_id, 7);
        assert_eq!(post.action, ResolveAction::PostTo("FEESEUR".to_string()));
        assert_eq!(post.note, "bank fee");
        let accept = row(["8", "accept", "", "rounding"]).unwrap();
        assert_eq!(accept.action, ResolveAction::Accept);
        refused(["", "accept", "", "x"], "field 'item_id': required");
        refused(
            ["x1", "accept", "", "x"],
            "field 'item_id': 'x1' is not an item id",
        );
        refused(
            ["0", "accept", "", "x"],
            "field 'item_id': '0' is not an item id",
        );
        refused(["1", "", "", "x"], "field 'decision': required");
        refused(
            ["1", "reject", "", "x"],
            "field 'decision': 'reject' is not",
        );
        refused(
            ["1", "post", "", "x"],
            "field 'account': required for decision 'post'",
        );
        refused(["1", "post", "a-b", "x"], "field 'account': account number");
        refused(
            ["1", "accept", "FEESEUR", "x"],
            "field 'account': must be empty",
        );
        refused(["1", "accept", "", " "], "field 'note': required");
        let long = "n".repeat(NOTE_LENGTH_MAX + 1);
        refused(["1", "accept", "", &long], "field 'note': longer than");
    }
}
