//! The edits: the named consistent rewrites, then for one seeded row of every table
//! each single-cell edit, the row's delete and its duplicate insert.

use super::build::Built;
use super::database::{identifier, Table, Value};
use super::mutate::{changed, changed_text, Random};
use super::named;
use crate::support::Backend;

/// One tamper case: an edit of a fresh copy of the built ledger.
pub struct Case {
    /// What kind of edit: a named rewrite's title, "cell edit", "row delete", "duplicate insert".
    pub kind: String,
    /// The table(s) edited.
    pub table: String,
    /// The column and row, or the row.
    pub target: String,
    /// The column a cell edit changed.
    pub column: Option<String>,
    /// `audit verify` gets the built ledger's anchor: the edit leaves a database that is
    /// exactly an earlier valid state, which only something kept outside it can tell.
    pub anchored: bool,
    /// The change, in words (old → new).
    pub change: String,
    pub edit: Edit,
    /// Every row the edit changed, as `(table, id)` the way `ledger verify` names rows: a finding
    /// naming any of them names the edit.
    pub rows: Vec<(String, String)>,
}

pub enum Edit {
    /// SQL run on the copy; a single statement must change exactly `rows_changed` rows.
    Sql {
        sql: String,
        rows_changed: Option<u64>,
    },
    /// Nothing to edit (a table without rows): a gap in the build, reported as a failure.
    Uncovered(String),
}

pub fn all(tables: &[Table], built: &Built, seed: u64, backend: Backend) -> Vec<Case> {
    let mut cases = named::all(tables, built);
    let mut random = Random::new(seed);
    for table in tables {
        if table.rows.is_empty() {
            cases.push(Case {
                kind: "cell edit".into(),
                table: table.name.clone(),
                target: "(no rows)".into(),
                column: None,
                anchored: false,
                change: String::new(),
                edit: Edit::Uncovered("the built ledger has no row in this table".into()),
                rows: Vec::new(),
            });
            continue;
        }
        let row = &table.rows[random.below(table.rows.len())];
        cases.extend(cell_edits(table, row, backend));
        cases.push(delete(table, row, backend));
        cases.push(duplicate(table, row, backend));
    }
    cases
}

pub fn sql(sql: String, rows_changed: Option<u64>) -> Edit {
    Edit::Sql { sql, rows_changed }
}

pub fn row_id(table: &str, id: impl ToString) -> (String, String) {
    (table.to_string(), id.to_string())
}

/// Each column's edits: a changed value, and NULL ↔ a value where the column allows NULL.
fn cell_edits(table: &Table, row: &[Value], backend: Backend) -> Vec<Case> {
    let mut cases = Vec::new();
    for (index, column) in table.columns.iter().enumerate() {
        let old = &row[index];
        let news = match old {
            Value::Null => vec![value_for_null(table, index)],
            _ if column.nullable => vec![changed_cell(table, index, old), Value::Null],
            _ => vec![changed_cell(table, index, old)],
        };
        for new in news {
            cases.push(cell_edit(table, row, index, new, backend));
        }
    }
    cases
}

/// Column `index` of `row` set to `new`; a key edit names the row under both keys.
fn cell_edit(table: &Table, row: &[Value], index: usize, new: Value, backend: Backend) -> Case {
    let column = &table.columns[index].name;
    let key = table.key_of(row);
    let mut rows = vec![row_id(&table.name, &key)];
    if *column == table.key && new != Value::Null {
        rows.push(row_id(&table.name, new.as_id()));
    }
    Case {
        kind: "cell edit".into(),
        table: table.name.clone(),
        target: format!("{column} of {key}"),
        column: Some(column.clone()),
        anchored: false,
        change: format!("{} → {}", short(&row[index]), short(&new)),
        edit: sql(
            format!(
                "UPDATE {} SET {} = {} WHERE {}",
                identifier(&table.name),
                identifier(column),
                new.literal(backend),
                table.row_filter(row, backend)
            ),
            Some(1),
        ),
        rows,
    }
}

/// A changed value (see `changed`). An empty JSON list or object becomes another row's
/// non-empty one (a well-formed forgery); a key another row already has becomes a fresh one,
/// so that the database does not refuse the edit for that reason.
fn changed_cell(table: &Table, index: usize, old: &Value) -> Value {
    let column: Vec<&Value> = table.rows.iter().map(|row| &row[index]).collect();
    let new = match old {
        Value::Text(text) if text == "[]" || text == "{}" => column
            .iter()
            .find(|value| match value {
                Value::Text(other) => other.starts_with(&text[..1]) && other.len() > 2,
                _ => false,
            })
            .map(|value| (*value).clone())
            .unwrap_or_else(|| changed(old)),
        _ => changed(old),
    };
    if table.is_unique(&table.columns[index].name) && column.contains(&&new) {
        fresh(table, index, old)
    } else {
        new
    }
}

/// A value for a NULL cell: another row's value (changed where the column is a unique key, so
/// the database does not refuse it for that reason), else 1 or a text.
fn value_for_null(table: &Table, index: usize) -> Value {
    let column = &table.columns[index];
    let other = table
        .rows
        .iter()
        .map(|row| &row[index])
        .find(|value| **value != Value::Null)
        .cloned();
    match other {
        Some(value) if table.is_unique(&column.name) => fresh(table, index, &value),
        Some(value) => value,
        None if column.integer => Value::Integer(1),
        None => Value::Text("tampered".into()),
    }
}

/// A value of the column no row has: max + 1, or a changed text.
fn fresh(table: &Table, index: usize, like: &Value) -> Value {
    let taken: Vec<&Value> = table.rows.iter().map(|row| &row[index]).collect();
    match like {
        Value::Integer(_) | Value::Null if table.columns[index].integer => {
            let max = taken
                .iter()
                .filter_map(|value| match value {
                    Value::Integer(number) => Some(*number),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            Value::Integer(max + 1)
        }
        _ => {
            let mut text = like.as_id();
            loop {
                text = changed_text(&text);
                let candidate = Value::Text(text.clone());
                if !taken.contains(&&candidate) {
                    return candidate;
                }
            }
        }
    }
}

fn delete(table: &Table, row: &[Value], backend: Backend) -> Case {
    let key = table.key_of(row);
    Case {
        kind: "row delete".into(),
        table: table.name.clone(),
        target: format!("row {key}"),
        column: None,
        anchored: false,
        change: "deleted".into(),
        edit: sql(
            format!(
                "DELETE FROM {} WHERE {}",
                identifier(&table.name),
                table.row_filter(row, backend)
            ),
            Some(1),
        ),
        rows: vec![(table.name.clone(), key)],
    }
}

/// The row inserted again; every primary or unique key gets a value no row has.
fn duplicate(table: &Table, row: &[Value], backend: Backend) -> Case {
    let mut copy = row.to_vec();
    let mut changes = Vec::new();
    for unique in &table.unique_keys {
        let all_set = unique
            .iter()
            .all(|column| row[table.column_index(column)] != Value::Null);
        let first = table.column_index(&unique[0]);
        if all_set && copy[first] == row[first] {
            copy[first] = fresh(table, first, &row[first]);
            changes.push(format!(
                "{} {} → {}",
                unique[0],
                short(&row[first]),
                short(&copy[first])
            ));
        }
    }
    let columns = table
        .columns
        .iter()
        .map(|column| identifier(&column.name))
        .collect::<Vec<_>>()
        .join(", ");
    let values = copy
        .iter()
        .map(|value| value.literal(backend))
        .collect::<Vec<_>>()
        .join(", ");
    let new_key = table.key_of(&copy);
    Case {
        kind: "duplicate insert".into(),
        table: table.name.clone(),
        target: format!("row {}", table.key_of(row)),
        column: None,
        anchored: false,
        change: if changes.is_empty() {
            "inserted again as is".into()
        } else {
            format!("inserted again with {}", changes.join(", "))
        },
        edit: sql(
            format!(
                "INSERT INTO {} ({columns}) VALUES ({values})",
                identifier(&table.name)
            ),
            Some(1),
        ),
        rows: vec![(table.name.clone(), new_key)],
    }
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::Null => "NULL".to_string(),
        Value::Integer(number) => number.to_string(),
        Value::Text(text) | Value::Other(text) => format!("{text:?}"),
    };
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(39).collect::<String>())
    } else {
        text
    }
}
