//! Direct SQL on a ledger database, bypassing fincore: the catalogue (tables, columns, keys),
//! rows read as SQL values, and edits.

use crate::support::Backend;
use sqlx::{Connection, Row};

/// Migration bookkeeping: not ledger data, left out of the cell, delete and insert cases.
pub const MIGRATION_TABLE: &str = "_sqlx_migrations";

/// The column whose value names a row in `ledger verify`'s findings (the lead's contract for
/// the `id` field). Tables not listed are named by their primary key, else their first column.
const ROW_KEYS: &[(&str, &str)] = &[
    ("accounts", "number"),
    ("audit_events", "seq"),
    ("entries", "transfer_id"),
    ("ledger_head", "id"),
    ("reconcile_items", "id"),
    ("reconcile_runs", "id"),
    ("risk_assessments", "id"),
    ("risk_blacklist", "number"),
    ("risk_latest", "account"),
    ("risk_rule_sets", "version"),
    ("risk_runs", "id"),
    ("transfers", "id"),
];

/// One stored value, as read back from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
    /// Any other type (none today): SQLite's `quote()` literal, PostgreSQL's text form.
    Other(String),
}

impl Value {
    /// The value as `ledger verify` writes a row id: the integer or the text itself.
    pub fn as_id(&self) -> String {
        match self {
            Value::Null => "NULL".to_string(),
            Value::Integer(number) => number.to_string(),
            Value::Text(text) | Value::Other(text) => text.clone(),
        }
    }

    pub fn literal(&self, backend: Backend) -> String {
        match (self, backend) {
            (Value::Null, _) => "NULL".to_string(),
            (Value::Integer(number), _) => number.to_string(),
            (Value::Text(text), _) | (Value::Other(text), Backend::Postgres) => quote(text),
            (Value::Other(literal), Backend::Sqlite) => literal.clone(),
        }
    }
}

pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub nullable: bool,
    pub integer: bool,
    pub textual: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// The column naming a row (see `ROW_KEYS`).
    pub key: String,
    /// Every primary or unique key (partial unique indexes too), as column lists.
    pub unique_keys: Vec<Vec<String>>,
    /// Every row, in a stable order (by key, then by the whole row).
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn column_index(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|column| column.name == name)
            .unwrap_or_else(|| panic!("{} has no column {name}", self.name))
    }

    pub fn key_of(&self, row: &[Value]) -> String {
        row[self.column_index(&self.key)].as_id()
    }

    pub fn is_unique(&self, column: &str) -> bool {
        self.unique_keys
            .iter()
            .any(|key| key.first().map(String::as_str) == Some(column))
    }

    /// `WHERE` matching exactly this row by every column (entries have no key).
    pub fn row_filter(&self, row: &[Value], backend: Backend) -> String {
        let same = match backend {
            Backend::Sqlite => "IS",
            Backend::Postgres => "IS NOT DISTINCT FROM",
        };
        self.columns
            .iter()
            .zip(row)
            .map(|(column, value)| {
                format!(
                    "{} {same} {}",
                    identifier(&column.name),
                    value.literal(backend)
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// Why the database refused an edit (a constraint), or the edit's SQL was wrong (a bug here).
pub enum EditError {
    Refused(String),
    Broken(String),
}

enum Connected {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// One connection with its own small runtime, so worker threads need no shared executor.
pub struct Database {
    runtime: tokio::runtime::Runtime,
    connected: Connected,
    pub backend: Backend,
}

impl Database {
    pub fn connect(backend: Backend, url: &str) -> Database {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let connected = runtime.block_on(async {
            match backend {
                Backend::Sqlite => Connected::Sqlite(
                    sqlx::SqliteConnection::connect(url)
                        .await
                        .unwrap_or_else(|error| panic!("connect {url}: {error}")),
                ),
                Backend::Postgres => Connected::Postgres(
                    sqlx::PgConnection::connect(url)
                        .await
                        .unwrap_or_else(|error| panic!("connect {url}: {error}")),
                ),
            }
        });
        Database {
            runtime,
            connected,
            backend,
        }
    }

    /// Rows of a query whose every column is text (or NULL).
    pub fn text_rows(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        let Database {
            runtime, connected, ..
        } = self;
        runtime.block_on(async {
            let decode = |width: usize, row: &dyn Fn(usize) -> Option<String>| {
                (0..width).map(row).collect::<Vec<_>>()
            };
            match connected {
                Connected::Sqlite(connection) => sqlx::query(sql)
                    .fetch_all(connection)
                    .await
                    .unwrap_or_else(|error| panic!("{sql}: {error}"))
                    .iter()
                    .map(|row| decode(row.len(), &|index| row.get(index)))
                    .collect(),
                Connected::Postgres(connection) => sqlx::query(sql)
                    .fetch_all(connection)
                    .await
                    .unwrap_or_else(|error| panic!("{sql}: {error}"))
                    .iter()
                    .map(|row| decode(row.len(), &|index| row.get(index)))
                    .collect(),
            }
        })
    }

    /// Run one or more statements; rows affected (summed).
    pub fn execute(&mut self, sql: &str) -> Result<u64, EditError> {
        let Database {
            runtime, connected, ..
        } = self;
        let result = runtime.block_on(async {
            match connected {
                Connected::Sqlite(connection) => sqlx::raw_sql(sql)
                    .execute(connection)
                    .await
                    .map(|done| done.rows_affected()),
                Connected::Postgres(connection) => sqlx::raw_sql(sql)
                    .execute(connection)
                    .await
                    .map(|done| done.rows_affected()),
            }
        });
        result.map_err(classify)
    }

    pub fn close(self) {
        let Database {
            runtime, connected, ..
        } = self;
        runtime.block_on(async {
            let _ = match connected {
                Connected::Sqlite(connection) => connection.close().await,
                Connected::Postgres(connection) => connection.close().await,
            };
        });
    }

    /// Every table but migration bookkeeping, with its columns, keys and rows.
    pub fn catalogue(&mut self) -> Vec<Table> {
        let mut names: Vec<String> = self
            .text_rows(match self.backend {
                Backend::Sqlite => {
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                }
                Backend::Postgres => {
                    "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                }
            })
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .filter(|name| name != MIGRATION_TABLE)
            .collect();
        names.sort();
        names.into_iter().map(|name| self.table(name)).collect()
    }

    fn table(&mut self, name: String) -> Table {
        let (columns, primary_key) = self.columns(&name);
        let unique_keys = self.unique_keys(&name);
        let key = ROW_KEYS
            .iter()
            .find(|(table, _)| *table == name)
            .map(|(_, column)| column.to_string())
            .or(primary_key)
            .unwrap_or_else(|| columns[0].name.clone());
        let mut table = Table {
            name,
            columns,
            key,
            unique_keys,
            rows: Vec::new(),
        };
        table.rows = self.rows(&table);
        table
    }

    /// Columns, and the primary key when it is one column.
    fn columns(&mut self, table: &str) -> (Vec<Column>, Option<String>) {
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "SELECT name, type, CAST(\"notnull\" AS TEXT), CAST(pk AS TEXT) \
                 FROM pragma_table_info({}) ORDER BY cid",
                quote(table)
            ),
            Backend::Postgres => format!(
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT), \
                 CASE WHEN is_nullable = 'NO' THEN '1' ELSE '0' END, '0' \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = {} ORDER BY ordinal_position",
                quote(table)
            ),
        };
        let mut primary = Vec::new();
        let columns = self
            .text_rows(&sql)
            .into_iter()
            .map(|row| {
                let text = |index: usize| row[index].clone().unwrap_or_default();
                let declared = text(1).to_ascii_lowercase();
                if text(3) != "0" {
                    primary.push(text(0));
                }
                Column {
                    name: text(0),
                    nullable: text(2) == "0",
                    integer: declared.contains("int"),
                    textual: declared.contains("text") || declared.contains("char"),
                }
            })
            .collect();
        let primary = match self.backend {
            Backend::Sqlite if primary.len() == 1 => primary.pop(),
            Backend::Sqlite => None,
            Backend::Postgres => self.postgres_primary_key(table),
        };
        (columns, primary)
    }

    fn postgres_primary_key(&mut self, table: &str) -> Option<String> {
        let rows = self.text_rows(&format!(
            "SELECT CAST(a.attname AS TEXT) FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = CAST({} AS regclass) AND i.indisprimary",
            quote(table)
        ));
        match rows.as_slice() {
            [only] => only[0].clone(),
            _ => None,
        }
    }

    /// Column lists of every unique index (and INTEGER PRIMARY KEY on SQLite, which has none).
    fn unique_keys(&mut self, table: &str) -> Vec<Vec<String>> {
        let sql = match self.backend {
            Backend::Sqlite => format!(
                "SELECT il.name, ii.name FROM pragma_index_list({t}) il \
                 JOIN pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 \
                 UNION ALL SELECT '(rowid)', name FROM pragma_table_info({t}) \
                 WHERE pk = 1 AND lower(type) = 'integer' \
                 AND (SELECT COUNT(*) FROM pragma_table_info({t}) WHERE pk > 0) = 1",
                t = quote(table)
            ),
            Backend::Postgres => format!(
                "SELECT CAST(i.indexrelid AS TEXT), CAST(a.attname AS TEXT) FROM pg_index i \
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 WHERE i.indrelid = CAST({} AS regclass) AND i.indisunique \
                 ORDER BY i.indexrelid, k.position",
                quote(table)
            ),
        };
        let mut keys: Vec<(String, Vec<String>)> = Vec::new();
        for row in self.text_rows(&sql) {
            let (index, column) = (row[0].clone().unwrap_or_default(), row[1].clone());
            let column = column.unwrap_or_default();
            match keys.iter_mut().find(|(name, _)| *name == index) {
                Some((_, columns)) => columns.push(column),
                None => keys.push((index, vec![column])),
            }
        }
        keys.into_iter().map(|(_, columns)| columns).collect()
    }

    fn rows(&mut self, table: &Table) -> Vec<Vec<Value>> {
        let select = table
            .columns
            .iter()
            .map(|column| match self.backend {
                Backend::Sqlite => format!("quote({})", identifier(&column.name)),
                Backend::Postgres => format!("CAST({} AS TEXT)", identifier(&column.name)),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let backend = self.backend;
        let mut rows: Vec<Vec<Value>> = self
            .text_rows(&format!("SELECT {select} FROM {}", identifier(&table.name)))
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(&table.columns)
                    .map(|(text, column)| value_of(backend, column, text))
                    .collect()
            })
            .collect();
        let key = table.column_index(&table.key);
        rows.sort_by(|left, right| {
            order_key(&left[key])
                .cmp(&order_key(&right[key]))
                .then_with(|| format!("{left:?}").cmp(&format!("{right:?}")))
        });
        rows
    }
}

fn order_key(value: &Value) -> (u8, i64, String) {
    match value {
        Value::Null => (0, 0, String::new()),
        Value::Integer(number) => (1, *number, String::new()),
        Value::Text(text) | Value::Other(text) => (2, 0, text.clone()),
    }
}

fn value_of(backend: Backend, column: &Column, text: Option<String>) -> Value {
    match (backend, text) {
        (_, None) => Value::Null,
        (Backend::Sqlite, Some(literal)) => sqlite_value(literal),
        (Backend::Postgres, Some(text)) if column.integer => {
            Value::Integer(text.parse().expect("integer column"))
        }
        (Backend::Postgres, Some(text)) if column.textual => Value::Text(text),
        (Backend::Postgres, Some(text)) => Value::Other(text),
    }
}

/// SQLite's `quote()`: NULL, an integer, 'text' with '' for ', or another literal.
fn sqlite_value(literal: String) -> Value {
    if literal == "NULL" {
        Value::Null
    } else if let Ok(number) = literal.parse::<i64>() {
        Value::Integer(number)
    } else if literal.starts_with('\'') && literal.ends_with('\'') && literal.len() >= 2 {
        Value::Text(literal[1..literal.len() - 1].replace("''", "'"))
    } else {
        Value::Other(literal)
    }
}

fn classify(error: sqlx::Error) -> EditError {
    match &error {
        sqlx::Error::Database(database) => {
            let refused = !matches!(database.kind(), sqlx::error::ErrorKind::Other)
                || database.message().contains("datatype mismatch");
            if refused {
                EditError::Refused(database.message().to_string())
            } else {
                EditError::Broken(error.to_string())
            }
        }
        _ => EditError::Broken(error.to_string()),
    }
}
