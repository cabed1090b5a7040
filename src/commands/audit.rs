//! `fincore audit list|verify`

use super::{Context, Output};
use crate::audit::AuditEvent;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::output::{to_json, Column, Record, View};
use crate::service::verify::audit_chain;
use crate::store::AuditFilter;
use clap::{Args, Subcommand};
use serde::{Serialize, Serializer};

const LIST_LIMIT_MAX: i64 = 100_000;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit events
    List(ListArgs),
    /// Check the hash chain; exit 1 naming the first broken seq
    Verify,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
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
    pub(crate) fn name(&self) -> &'static str {
        match self {
            AuditCommand::List(_) => "list",
            AuditCommand::Verify => "verify",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
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
    let events: Vec<EventView> = events.iter().map(EventView::from).collect();
    Ok(Output::view(View::of_records(
        &events,
        context.global.format,
    )))
}

/// One audit event. `details` is stored as text: the JSON shows it as the JSON it holds (as
/// text when it does not parse), tables show the text.
#[derive(Serialize)]
struct EventView {
    seq: i64,
    at: String,
    operator: String,
    action: String,
    entity: String,
    #[serde(serialize_with = "details_as_json")]
    details: String,
    trace_id: String,
    prev_hash: String,
    hash: String,
}

impl From<&AuditEvent> for EventView {
    fn from(event: &AuditEvent) -> EventView {
        EventView {
            seq: event.seq,
            at: clock::format_instant(event.at_us),
            operator: event.operator.clone(),
            action: event.action.clone(),
            entity: event.entity.clone(),
            details: event.details.clone(),
            trace_id: event.trace_id.clone(),
            prev_hash: event.prev_hash.clone(),
            hash: event.hash.clone(),
        }
    }
}

impl Record for EventView {
    const COLUMNS: &'static [Column<EventView>] = &[
        Column::field("seq"),
        Column::field("at"),
        Column::field("operator"),
        Column::field("action"),
        Column::field("entity"),
        Column::text("details", |event| event.details.clone()),
        Column::field("trace_id"),
        Column::field("prev_hash"),
        Column::field("hash"),
    ];
}

fn details_as_json<S: Serializer>(details: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(details) {
        Ok(value) => value.serialize(serializer),
        Err(_) => serializer.serialize_str(details),
    }
}

/// `audit verify`: how many events were checked and, when the chain is broken, where.
#[derive(Serialize)]
struct VerifyView {
    ok: bool,
    events_checked: u64,
    first_broken_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

async fn verify(context: &Context) -> AppResult<Output> {
    let (checked, problem) = audit_chain(context.store().await?).await?;
    let (note, exit_code) = match &problem {
        None => (format!("audit chain intact: {checked} events"), 0),
        Some((seq, detail)) => (format!("audit chain broken at seq {seq}: {detail}"), 1),
    };
    let json = to_json(&VerifyView {
        ok: problem.is_none(),
        events_checked: checked,
        first_broken_seq: problem.as_ref().map(|(seq, _)| *seq),
        detail: problem.as_ref().map(|(_, detail)| detail.clone()),
    });
    if let Some((seq, detail)) = &problem {
        crate::stderr_line!("audit chain broken at seq {seq}: {detail}");
    }
    Ok(Output::view(View::new(json, Vec::new()).with_note(note)).with_exit_code(exit_code))
}
