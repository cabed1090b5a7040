//! `fincore audit list|verify`

use super::{Context, Output};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::output::{Section, View};
use crate::service::verify::audit_chain;
use crate::store::AuditFilter;
use clap::{Args, Subcommand};
use serde_json::json;

const LIST_LIMIT_MAX: i64 = 100_000;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events
    List(ListArgs),
    /// Check the hash chain; exit 1 naming the first broken seq
    Verify,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    from: Option<String>,
    #[arg(long)]
    to: Option<String>,
    /// An account number or entity (`transfer:42`); account numbers also match their transfers
    #[arg(long)]
    entity: Option<String>,
    #[arg(long, default_value_t = 1_000)]
    limit: i64,
}

impl AuditCommand {
    pub fn name(&self) -> &'static str {
        match self {
            AuditCommand::List(_) => "list",
            AuditCommand::Verify => "verify",
        }
    }

    pub async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            AuditCommand::List(arguments) => list(context, arguments).await,
            AuditCommand::Verify => verify(context).await,
        }
    }
}

async fn list(context: &Context, arguments: ListArgs) -> AppResult<Output> {
    if !(1..=LIST_LIMIT_MAX).contains(&arguments.limit) {
        return Err(AppError::usage(format!(
            "--limit must be 1–{LIST_LIMIT_MAX}"
        )));
    }
    let (from_us, to_us) = super::period(arguments.from.as_deref(), arguments.to.as_deref())?;
    let filter = AuditFilter {
        from_us,
        to_us,
        entity: arguments.entity.map(|entity| entity.trim().to_string()),
        limit: arguments.limit,
    };
    let events = context.store().await?.audit_events(&filter).await?;
    let mut section = Section::new(&[
        "seq",
        "at",
        "operator",
        "action",
        "entity",
        "details",
        "trace_id",
        "prev_hash",
        "hash",
    ]);
    let mut items = Vec::with_capacity(events.len());
    for event in &events {
        let at = clock::format_instant(event.at_us);
        section.push(vec![
            event.seq.to_string(),
            at.clone(),
            event.operator.clone(),
            event.action.clone(),
            event.entity.clone(),
            event.details.clone(),
            event.trace_id.clone(),
            event.prev_hash.clone(),
            event.hash.clone(),
        ]);
        items.push(json!({
            "seq": event.seq, "at": at, "operator": event.operator, "action": event.action, "entity": event.entity,
            "details": serde_json::from_str::<serde_json::Value>(&event.details).unwrap_or(json!(event.details)),
            "trace_id": event.trace_id, "prev_hash": event.prev_hash, "hash": event.hash,
        }));
    }
    Ok(Output::view(View::new(json!(items), vec![section])))
}

async fn verify(context: &Context) -> AppResult<Output> {
    let (checked, problem) = audit_chain(context.store().await?).await?;
    let (json, note, exit_code) = match &problem {
        None => (
            json!({ "ok": true, "events_checked": checked, "first_broken_seq": null }),
            format!("audit chain intact: {checked} events"),
            0,
        ),
        Some((seq, detail)) => (
            json!({ "ok": false, "events_checked": checked, "first_broken_seq": seq, "detail": detail }),
            format!("audit chain broken at seq {seq}: {detail}"),
            1,
        ),
    };
    if let Some((seq, detail)) = &problem {
        crate::stderr_line!("audit chain broken at seq {seq}: {detail}");
    }
    Ok(Output::view(View::new(json, Vec::new()).with_note(note)).with_exit_code(exit_code))
}
