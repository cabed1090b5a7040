//! One column map per table written in bulk: each column's name, SQL type and how its value is
//! taken from the record. Every writer of the table binds from its map — SQLite's multi-row
//! `VALUES` (`sqlite.rs`) and raw bulk path (`sqlite_bulk.rs`), PostgreSQL's `COPY` and
//! `UNNEST` arrays (`postgres.rs`) — and the reads select the same names, so a new column is
//! one line here (plus its migrations and the row decoder in `rows.rs`).

use crate::audit::AuditEvent;
use crate::model::{Entry, Transfer};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlType {
    Integer,
    Text,
}

impl SqlType {
    /// The PostgreSQL array type an `UNNEST` parameter of this column is cast to.
    pub(crate) fn pg_array(self) -> &'static str {
        match self {
            SqlType::Integer => "BIGINT[]",
            SqlType::Text => "TEXT[]",
        }
    }
}

/// One value as stored (also a bind parameter of the raw SQLite path). Text is borrowed from
/// the record where it can be: the bulk paths bind millions of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Integer(i64),
    Text(Cow<'a, str>),
    Null,
}

impl<'a> Value<'a> {
    pub(crate) fn text(text: &'a str) -> Value<'a> {
        Value::Text(Cow::Borrowed(text))
    }

    fn optional_text(text: Option<&'a str>) -> Value<'a> {
        text.map_or(Value::Null, Value::text)
    }

    fn optional_integer(value: Option<i64>) -> Value<'a> {
        value.map_or(Value::Null, Value::Integer)
    }

    /// The value of an integer column (None for NULL).
    pub(crate) fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(value) => Some(*value),
            Value::Null => None,
            Value::Text(_) => unreachable!("text in an integer column (see `columns_agree`)"),
        }
    }

    /// The value of a text column (None for NULL).
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            Value::Null => None,
            Value::Integer(_) => unreachable!("an integer in a text column (see `columns_agree`)"),
        }
    }
}

pub(crate) struct Column<T> {
    pub(crate) name: &'static str,
    pub(crate) sql_type: SqlType,
    pub(crate) value: for<'a> fn(&'a T) -> Value<'a>,
}

impl<T> Column<T> {
    const fn integer(name: &'static str, value: for<'a> fn(&'a T) -> Value<'a>) -> Column<T> {
        Column {
            name,
            sql_type: SqlType::Integer,
            value,
        }
    }

    const fn text(name: &'static str, value: for<'a> fn(&'a T) -> Value<'a>) -> Column<T> {
        Column {
            name,
            sql_type: SqlType::Text,
            value,
        }
    }
}

/// The column names of a map, comma-separated, for SQL text (`SELECT {TRANSFER_NAMES} …`).
pub(crate) struct Names<'c, T>(pub(crate) &'c [Column<T>]);

impl<T> fmt::Display for Names<'_, T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, column) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str(", ")?;
            }
            formatter.write_str(column.name)?;
        }
        Ok(())
    }
}

/// A row's values in column order, without a heap allocation (the bulk paths' inner loop).
pub(crate) fn row_values<'r, T, const N: usize>(
    columns: &[Column<T>; N],
    row: &'r T,
) -> [Value<'r>; N] {
    std::array::from_fn(|index| (columns[index].value)(row))
}

/// Almost every transfer has no risk factors: no list to serialise, nor a string to allocate.
fn risk_factors(transfer: &Transfer) -> Value<'_> {
    if transfer.risk.factors.is_empty() {
        return Value::text("[]");
    }
    let json = serde_json::to_string(&transfer.risk.factors).expect("risk factors serialise");
    Value::Text(Cow::Owned(json))
}

pub(crate) const TRANSFER: [Column<Transfer>; 22] = [
    Column::integer("id", |t| Value::Integer(t.id)),
    Column::text("idempotency_key", |t| {
        Value::optional_text(t.key.as_deref())
    }),
    Column::text("payload_hash", |t| Value::text(&t.payload_hash)),
    Column::text("kind", |t| Value::text(t.kind.as_str())),
    Column::text("from_account", |t| Value::text(&t.from)),
    Column::text("to_account", |t| Value::text(&t.to)),
    Column::integer("amount_minor", |t| Value::Integer(t.amount_minor)),
    Column::text("currency", |t| Value::text(t.currency.code())),
    Column::text("status", |t| Value::text(t.status.as_str())),
    Column::text("error_code", |t| {
        Value::optional_text(t.error_code.as_deref())
    }),
    Column::text("error_message", |t| {
        Value::optional_text(t.error_message.as_deref())
    }),
    Column::text("reference", |t| Value::text(&t.reference)),
    Column::text("description", |t| Value::text(&t.description)),
    Column::integer("at_us", |t| Value::Integer(t.at_us)),
    Column::integer("created_at_us", |t| Value::Integer(t.created_at_us)),
    Column::integer("risk_score", |t| Value::Integer(i64::from(t.risk.score))),
    Column::text("risk_level", |t| Value::text(t.risk.level.as_str())),
    Column::text("risk_decision", |t| Value::text(t.risk.decision.as_str())),
    Column::text("risk_factors", risk_factors),
    Column::integer("reverses_id", |t| Value::optional_integer(t.reverses_id)),
    Column::text("operator", |t| Value::text(&t.operator)),
    Column::text("trace_id", |t| Value::text(&t.trace_id)),
];

pub(crate) const ENTRY: [Column<Entry>; 4] = [
    Column::integer("transfer_id", |e| Value::Integer(e.transfer_id)),
    Column::text("account", |e| Value::text(&e.account)),
    Column::integer("amount_minor", |e| Value::Integer(e.amount_minor)),
    Column::integer("at_us", |e| Value::Integer(e.at_us)),
];

pub(crate) const AUDIT_EVENT: [Column<AuditEvent>; 10] = [
    Column::integer("seq", |e| Value::Integer(e.seq)),
    Column::integer("at_us", |e| Value::Integer(e.at_us)),
    Column::text("operator", |e| Value::text(&e.operator)),
    Column::text("action", |e| Value::text(&e.action)),
    Column::text("entity", |e| Value::text(&e.entity)),
    Column::text("details", |e| Value::text(&e.details)),
    Column::text("trace_id", |e| Value::text(&e.trace_id)),
    Column::text("prev_hash", |e| Value::text(&e.prev_hash)),
    Column::text("hash", |e| Value::text(&e.hash)),
    Column::text("mac", |e| Value::optional_text(e.mac.as_deref())),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RiskResult, TransferKind, TransferStatus};
    use crate::money::Currency;

    fn transfer(key: Option<&str>, reverses_id: Option<i64>) -> Transfer {
        Transfer {
            id: 1,
            key: key.map(str::to_string),
            payload_hash: "h".to_string(),
            kind: TransferKind::Transfer,
            from: "A".to_string(),
            to: "B".to_string(),
            amount_minor: 5,
            currency: Currency::parse("EUR").unwrap(),
            status: TransferStatus::Posted,
            error_code: None,
            error_message: None,
            reference: String::new(),
            description: String::new(),
            at_us: 2,
            created_at_us: 3,
            risk: RiskResult::approve(),
            reverses_id,
            operator: "op".to_string(),
            trace_id: String::new(),
        }
    }

    fn agrees<T>(columns: &[Column<T>], row: &T) {
        for column in columns {
            match ((column.value)(row), column.sql_type) {
                (Value::Integer(_), SqlType::Integer) | (Value::Text(_), SqlType::Text) => {}
                (Value::Null, _) => {}
                (value, sql_type) => panic!("{}: {value:?} in a {sql_type:?} column", column.name),
            }
        }
    }

    /// Each column's values have the column's type (the PostgreSQL arrays rely on it).
    #[test]
    fn columns_agree() {
        agrees(&TRANSFER, &transfer(None, None));
        agrees(&TRANSFER, &transfer(Some("k"), Some(4)));
        let entry = Entry {
            transfer_id: 1,
            account: "A".to_string(),
            amount_minor: -5,
            at_us: 2,
        };
        agrees(&ENTRY, &entry);
    }

    /// The names, in the order the tables' readers and the migrations use.
    #[test]
    fn names_in_order() {
        assert_eq!(
            Names(&TRANSFER).to_string(),
            "id, idempotency_key, payload_hash, kind, from_account, to_account, amount_minor, \
             currency, status, error_code, error_message, reference, description, at_us, \
             created_at_us, risk_score, risk_level, risk_decision, risk_factors, reverses_id, \
             operator, trace_id"
        );
        assert_eq!(
            Names(&ENTRY).to_string(),
            "transfer_id, account, amount_minor, at_us"
        );
        assert_eq!(
            Names(&AUDIT_EVENT).to_string(),
            "seq, at_us, operator, action, entity, details, trace_id, prev_hash, hash, mac"
        );
    }

    #[test]
    fn risk_factors_serialise_as_before() {
        let plain = transfer(None, None);
        assert_eq!((TRANSFER[18].value)(&plain), Value::text("[]"));
    }
}
