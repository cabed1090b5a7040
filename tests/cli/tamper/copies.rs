//! Fresh copies of the built ledger, one per case.

use super::database::{identifier, Database, Table};
use crate::support::{postgres, Backend};
use std::path::{Path, PathBuf};

/// Where each case gets its own copy of the built ledger.
pub enum Source {
    /// The built file, checkpointed; each case copies it.
    Sqlite { built: PathBuf, dir: PathBuf },
    /// The built database. Each worker gets its own database made once from it (`CREATE
    /// DATABASE … TEMPLATE`: about half a second, too slow for every case), and before each
    /// case every table is reloaded with the built rows in one transaction (`reset`).
    Postgres { built: String, reset: String },
}

/// A worker's place for its cases: on PostgreSQL its own database.
pub struct Workspace {
    database: Option<String>,
}

impl Source {
    /// Checkpoint the built ledger so that its one file holds everything (SQLite); the
    /// statements that put the built rows back (PostgreSQL).
    pub fn of(backend: Backend, url: &str, dir: &Path, tables: &[Table]) -> Source {
        match backend {
            Backend::Sqlite => {
                let mut database = Database::connect(backend, url);
                database
                    .execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    .unwrap_or_else(|_| panic!("checkpoint {url}"));
                database.close();
                let built = PathBuf::from(url.trim_start_matches("sqlite://"));
                Source::Sqlite {
                    built,
                    dir: dir.to_path_buf(),
                }
            }
            Backend::Postgres => Source::Postgres {
                built: url.rsplit('/').next().expect("database name").to_string(),
                reset: reset_sql(tables),
            },
        }
    }

    pub fn workspace(&self, worker: usize) -> Workspace {
        let Source::Postgres { built, .. } = self else {
            return Workspace { database: None };
        };
        let name = format!("{built}_worker{worker}");
        let mut admin = postgres_admin();
        admin
            .execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                identifier(&name),
                identifier(built)
            ))
            .unwrap_or_else(|_| panic!("CREATE DATABASE {name} TEMPLATE {built}"));
        admin.close();
        Workspace {
            database: Some(name),
        }
    }

    /// The URL of a copy of the built ledger for case `index`.
    pub fn fresh(&self, workspace: &Workspace, index: usize) -> String {
        match (self, &workspace.database) {
            (Source::Sqlite { built, dir }, _) => {
                let file = dir.join(format!("case-{index}.db"));
                std::fs::copy(built, &file).expect("copy the built ledger");
                format!("sqlite://{}", file.display())
            }
            (Source::Postgres { reset, .. }, Some(name)) => {
                let url = postgres::url_for(name).expect("PostgreSQL is running");
                let mut database = Database::connect(Backend::Postgres, &url);
                database
                    .execute(reset)
                    .unwrap_or_else(|_| panic!("reset {name} to the built ledger"));
                database.close();
                url
            }
            (Source::Postgres { .. }, None) => panic!("a PostgreSQL workspace has a database"),
        }
    }

    /// Remove case `index`'s copy (SQLite; PostgreSQL resets before the next case).
    pub fn finish(&self, index: usize) {
        if let Source::Sqlite { dir, .. } = self {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("case-{index}.db{suffix}")));
            }
        }
    }

    pub fn close(&self, workspace: Workspace) {
        if let Some(name) = workspace.database {
            let mut admin = postgres_admin();
            let _ = admin.execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                identifier(&name)
            ));
            admin.close();
        }
    }
}

/// Empty every table and insert the built rows again, in one transaction.
fn reset_sql(tables: &[Table]) -> String {
    let names: Vec<String> = tables.iter().map(|table| identifier(&table.name)).collect();
    let mut sql = format!("BEGIN;\nTRUNCATE {};\n", names.join(", "));
    for table in tables.iter().filter(|table| !table.rows.is_empty()) {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|column| identifier(&column.name))
            .collect();
        let rows: Vec<String> = table
            .rows
            .iter()
            .map(|row| {
                let values: Vec<String> = row
                    .iter()
                    .map(|value| value.literal(Backend::Postgres))
                    .collect();
                format!("({})", values.join(", "))
            })
            .collect();
        sql.push_str(&format!(
            "INSERT INTO {} ({}) VALUES {};\n",
            identifier(&table.name),
            columns.join(", "),
            rows.join(",\n")
        ));
    }
    sql.push_str("COMMIT;");
    sql
}

/// A connection to the server's `postgres` database.
fn postgres_admin() -> Database {
    Database::connect(
        Backend::Postgres,
        &postgres::url_for("postgres").expect("PostgreSQL is running"),
    )
}
