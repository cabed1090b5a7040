//! `fincore db migrate|status`

use super::{Context, Output};
use crate::error::AppResult;
use crate::output::{to_json, Column, Record, Section, View};
use crate::store::{SchemaStatus, Store};
use clap::Subcommand;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Apply pending migrations
    Migrate,
    /// Show the schema version
    Status,
}

impl DbCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            DbCommand::Migrate => "migrate",
            DbCommand::Status => "status",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        let store = Store::open(&context.open_options(false)).await?;
        let status = match self {
            DbCommand::Migrate => store.migrate().await,
            DbCommand::Status => store.schema_status().await,
        };
        store.close().await;
        Ok(Output::view(status_view(&status?)))
    }
}

fn status_view(status: &SchemaStatus) -> View {
    let status = StatusView::from(status);
    View::new(to_json(&status), vec![Section::of_fields(&status)])
}

/// `db migrate` and `db status`: which database, and the schema versions it has and wants.
#[derive(Serialize)]
struct StatusView {
    database: String,
    backend: &'static str,
    applied_version: i64,
    binary_version: i64,
    pending: usize,
}

impl From<&SchemaStatus> for StatusView {
    fn from(status: &SchemaStatus) -> StatusView {
        StatusView {
            database: status.database.clone(),
            backend: status.backend,
            applied_version: status.applied_version,
            binary_version: status.binary_version,
            pending: status.pending,
        }
    }
}

impl Record for StatusView {
    const COLUMNS: &'static [Column<StatusView>] = &[
        Column::field("database"),
        Column::field("backend"),
        Column::field("applied_version"),
        Column::field("binary_version"),
        Column::field("pending"),
    ];
}
