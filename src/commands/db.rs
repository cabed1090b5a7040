//! `fincore db migrate|status`

use super::{Context, Output};
use crate::error::AppResult;
use crate::output::{Section, View};
use crate::store::{SchemaStatus, Store};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations
    Migrate,
    /// Show the schema version
    Status,
}

impl DbCommand {
    pub fn name(&self) -> &'static str {
        match self {
            DbCommand::Migrate => "migrate",
            DbCommand::Status => "status",
        }
    }

    pub async fn run(self, context: &Context) -> AppResult<Output> {
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
    let section = Section::record(&[
        ("database", status.database.clone()),
        ("backend", status.backend.to_string()),
        ("applied_version", status.applied_version.to_string()),
        ("binary_version", status.binary_version.to_string()),
        ("pending", status.pending.to_string()),
    ]);
    View::new(
        serde_json::to_value(status).expect("status serialises"),
        vec![section],
    )
}
