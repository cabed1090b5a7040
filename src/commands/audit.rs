//! `fincore audit list|verify`

use super::{Context, Output};
use crate::audit::{
    Anchor, AnchorCheck, AuditEvent, ANCHOR_BYTES_MAX, ANCHOR_FORMAT, GENESIS_HASH,
};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::output::{to_json, Column, Record, View};
use crate::service::verify::audit_chain;
use crate::store::AuditFilter;
use clap::{Args, Subcommand};
use serde::{Serialize, Serializer};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const LIST_LIMIT_MAX: i64 = 100_000;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit events
    List(ListArgs),
    /// Check the hash chain (and that anchors taken earlier still hold); exit 1 naming the first broken seq
    Verify(VerifyArgs),
    /// Print the chain's head (seq, hash, time) as a JSON anchor to keep outside the database, or write it to --out
    Anchor(AnchorArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Anchor files written by `audit anchor`: the chain must still hold each anchored seq with its hash
    #[arg(long = "anchor", value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    anchors: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AnchorArgs {
    /// Write the anchor to this file (created; an existing file is not overwritten) instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Events at or after this instant (RFC 3339) or date (YYYY-MM-DD, today, yesterday, -Nd)
    #[arg(long, value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    from: Option<String>,
    /// Events at or before this instant or date (a date covers its whole day)
    #[arg(long, value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    to: Option<String>,
    /// An account number or entity (`transfer:42`); account numbers also match their transfers
    #[arg(long)]
    entity: Option<String>,
    /// Show the newest N events (in chain order)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1_000,
        conflicts_with = "all"
    )]
    limit: i64,
    /// Show every matching event
    #[arg(long)]
    all: bool,
}

impl AuditCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            AuditCommand::List(_) => "list",
            AuditCommand::Verify(_) => "verify",
            AuditCommand::Anchor(_) => "anchor",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            AuditCommand::List(arguments) => list(context, arguments).await,
            AuditCommand::Verify(arguments) => verify(context, arguments).await,
            AuditCommand::Anchor(arguments) => anchor(context, arguments).await,
        }
    }
}

async fn list(context: &Context, arguments: ListArgs) -> AppResult<Output> {
    if !(1..=LIST_LIMIT_MAX).contains(&arguments.limit) {
        return Err(AppError::usage(format!(
            "--limit must be 1–{LIST_LIMIT_MAX}; --all lists every event"
        )));
    }
    let (from_us, to_us) = super::period(arguments.from.as_deref(), arguments.to.as_deref())?;
    let limit = if arguments.all {
        i64::MAX
    } else {
        arguments.limit
    };
    // One more than shown tells whether older events were left out.
    let filter = AuditFilter {
        from_us,
        to_us,
        entity: arguments.entity.map(|entity| entity.trim().to_string()),
        limit: limit.saturating_add(1),
    };
    let store = context.store().await?;
    let mut events = store.audit_events(&filter).await?;
    let shown = usize::try_from(limit).unwrap_or(usize::MAX);
    let footer = if events.len() > shown {
        events.remove(0);
        Some(match filter.entity {
            None => {
                let total = store.count_audit_events(from_us, to_us).await?;
                super::lists::truncation_footer(shown, total).unwrap_or_default()
            }
            Some(_) => format!(
                "showing the newest {}; --limit N or --all",
                super::lists::group_thousands(limit)
            ),
        })
    } else {
        None
    };
    let events: Vec<EventView> = events.iter().map(EventView::from).collect();
    let view = View::of_records(&events, context.global.format);
    Ok(super::lists::with_footer(context, view, footer))
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
        Column::text("details", |event: &EventView| event.details.clone()).wide(),
        Column::field("trace_id").wide(),
        Column::field("prev_hash").wide(),
        Column::field("hash").wide(),
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
    /// Events whose MAC was checked under the audit key; events with a MAC left unchecked.
    macs_checked: u64,
    macs_unchecked: u64,
    anchors_checked: usize,
    first_broken_seq: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

async fn verify(context: &Context, arguments: VerifyArgs) -> AppResult<Output> {
    let mut anchors = Vec::new();
    for path in &arguments.anchors {
        anchors.push((read_anchor(path)?, path.display().to_string()));
    }
    let mut check = AnchorCheck::new(anchors);
    let chain = audit_chain(context.store().await?, &mut check).await?;
    let (checked, problem) = (chain.events_checked, chain.problem.clone());
    let (mut note, exit_code) = match &problem {
        None if check.len() > 0 => (
            format!(
                "audit chain intact: {checked} events; {} anchors hold",
                check.len()
            ),
            0,
        ),
        None => (format!("audit chain intact: {checked} events"), 0),
        Some((seq, detail)) => (format!("audit chain broken at seq {seq}: {detail}"), 1),
    };
    if problem.is_none() && chain.macs_checked > 0 {
        note.push_str(&format!(
            "; {} MACs hold under the audit key",
            chain.macs_checked
        ));
    }
    if chain.macs_unchecked > 0 {
        note.push_str(&format!(
            "; {} events carry a MAC not checked: set FINCORE_AUDIT_KEY (or FINCORE_AUDIT_KEY_FILE) to check them",
            chain.macs_unchecked
        ));
    }
    let json = to_json(&VerifyView {
        ok: problem.is_none(),
        events_checked: checked,
        macs_checked: chain.macs_checked,
        macs_unchecked: chain.macs_unchecked,
        anchors_checked: check.len(),
        first_broken_seq: problem.as_ref().map(|(seq, _)| *seq),
        detail: problem.as_ref().map(|(_, detail)| detail.clone()),
    });
    if let Some((seq, detail)) = &problem {
        crate::stderr_line!("audit chain broken at seq {seq}: {detail}");
    }
    Ok(Output::view(View::new(json, Vec::new()).with_note(note)).with_exit_code(exit_code))
}

/// An anchor file; unreadable or not an anchor is exit 4 naming the file (and the field).
fn read_anchor(path: &Path) -> AppResult<Anchor> {
    let place = path.display();
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| {
            file.take(ANCHOR_BYTES_MAX as u64 + 1)
                .read_to_string(&mut text)
        })
        .map_err(|error| {
            AppError::invalid_input(format!("--anchor {place}: cannot read it: {error}"))
        })?;
    Anchor::parse(&text)
        .map_err(|error| AppError::invalid_input(format!("--anchor {place}: {error}")))
}

/// `audit anchor`: the chain's head as stored, checked against its newest event.
async fn anchor(context: &Context, arguments: AnchorArgs) -> AppResult<Output> {
    let store = context.store().await?;
    let (seq, hash) = store.ledger_head().await?.ok_or_else(|| {
        AppError::storage("the ledger head row is missing; run `fincore ledger verify`")
    })?;
    let at = match store.audit_event(seq).await? {
        Some(event) if event.hash == hash => clock::format_instant(event.at_us),
        None if seq == 0 && hash == GENESIS_HASH => String::new(),
        _ => {
            return Err(AppError::storage(format!(
                "the ledger head records audit seq {seq}, which the chain does not hold with that hash; run `fincore audit verify` before anchoring"
            )))
        }
    };
    let anchor = Anchor {
        format: ANCHOR_FORMAT.to_string(),
        seq,
        hash,
        at,
        taken_at: clock::format_instant(context.actor.now_us),
    };
    let json = to_json(&anchor);
    let document = format!("{json:#}\n");
    // The anchor is a file format of its own: stdout gets the document whatever --format says,
    // so `fincore audit anchor > head.json` keeps a valid anchor.
    let Some(path) = &arguments.out else {
        return Ok(Output::raw(document.into_bytes()));
    };
    write_new_file(path, &document)?;
    let note = format!(
        "wrote the anchor of seq {} to {}; keep it outside this database",
        anchor.seq,
        path.display()
    );
    Ok(Output::view(View::new(json, Vec::new()).with_note(note)))
}

/// Create `path` with `text`, never replacing a file (an older anchor is evidence), synced
/// before returning so the anchor survives a crash.
fn write_new_file(path: &Path, text: &str) -> AppResult<()> {
    let place = path.display();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| AppError::invalid_input(format!("--out {place}: {error}")))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|error| AppError::invalid_input(format!("--out {place}: {error}")))
}
