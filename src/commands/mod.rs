//! Commands parse flags and present results; the work happens in `ledger/`, `store/` and the
//! other domain modules. Each command group is one file with a `#[derive(Subcommand)]` enum
//! and a `run` method.

pub(crate) mod account;
pub(crate) mod alerts;
pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod compliance;
pub(crate) mod db;
pub(crate) mod demo;
pub(crate) mod events;
pub(crate) mod help;
pub(crate) mod ledger;
pub(crate) mod lists;
pub(crate) mod man;
pub(crate) mod present;
pub(crate) mod reconcile;
pub(crate) mod report;
pub(crate) mod risk;
mod statement_inspect;
pub(crate) mod transfer;
mod transfer_import;
mod transfer_list;

mod options;
mod progress;
pub(crate) use options::{GlobalOptions, LogFormat};

use crate::error::AppResult;
use crate::output::View;
use crate::store::{Actor, OpenOptions, Store};
use std::io::IsTerminal;
use std::time::Duration;
use tokio::sync::OnceCell;

/// What a command hands back to the dispatcher.
pub(crate) struct Output {
    pub(crate) view: Option<View>,
    /// Bytes printed as they are instead of a view (shell completion scripts).
    pub(crate) raw: Option<Vec<u8>>,
    /// 0, or 1 for "completed with findings".
    pub(crate) exit_code: u8,
    /// What the command committed, as a sentence (`transfer 3006 was posted`): printed on
    /// stderr when stdout cannot be written, so the operator knows not to run it again blindly.
    /// Commands that write and leave it empty get a generic sentence (see `app::present`).
    pub(crate) committed: Option<String>,
}

impl Output {
    pub(crate) fn view(view: View) -> Output {
        Output {
            view: Some(view),
            raw: None,
            exit_code: 0,
            committed: None,
        }
    }

    /// Nothing more to print (the command wrote its output itself, streaming).
    pub(crate) fn empty() -> Output {
        Output {
            view: None,
            raw: None,
            exit_code: 0,
            committed: None,
        }
    }

    pub(crate) fn raw(bytes: Vec<u8>) -> Output {
        Output {
            view: None,
            raw: Some(bytes),
            exit_code: 0,
            committed: None,
        }
    }

    pub(crate) fn with_exit_code(mut self, exit_code: u8) -> Output {
        self.exit_code = exit_code;
        self
    }

    pub(crate) fn committed(mut self, sentence: impl Into<String>) -> Output {
        self.committed = Some(sentence.into());
        self
    }
}

pub(crate) struct Context {
    pub(crate) global: GlobalOptions,
    pub(crate) actor: Actor,
    /// Whether a missing SQLite file may be created: only for commands that write
    /// (`Command::writes`); reads on a missing file fail with exit 7 naming it.
    pub(crate) creates_database: bool,
    /// `FINCORE_AUDIT_KEY` / `FINCORE_AUDIT_KEY_FILE`, read once at the edge.
    audit_key: Option<crate::audit::AuditKey>,
    store: OnceCell<Store>,
}

/// The audit key from the environment: `FINCORE_AUDIT_KEY` (the key's text) or
/// `FINCORE_AUDIT_KEY_FILE` (a file holding it; one trailing newline is not part of it). Never
/// a flag: a flag's value shows in the process list.
fn audit_key_from_environment() -> AppResult<Option<crate::audit::AuditKey>> {
    let (bytes, source) = match (
        std::env::var_os("FINCORE_AUDIT_KEY"),
        std::env::var_os("FINCORE_AUDIT_KEY_FILE"),
    ) {
        (Some(_), Some(_)) => {
            return Err(crate::error::AppError::usage(
                "set FINCORE_AUDIT_KEY or FINCORE_AUDIT_KEY_FILE, not both",
            ))
        }
        (Some(text), None) => (text.into_encoded_bytes(), "FINCORE_AUDIT_KEY"),
        (None, Some(path)) => {
            let mut bytes = std::fs::read(&path).map_err(|error| {
                crate::error::AppError::invalid_input(format!(
                    "FINCORE_AUDIT_KEY_FILE {}: {error}",
                    std::path::Path::new(&path).display()
                ))
            })?;
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
            }
            (bytes, "FINCORE_AUDIT_KEY_FILE")
        }
        (None, None) => return Ok(None),
    };
    crate::audit::AuditKey::new(bytes)
        .map(Some)
        .map_err(|error| crate::error::AppError::usage(format!("{source}: {error}")))
}

impl Context {
    pub(crate) fn new(
        global: GlobalOptions,
        operator: String,
        trace_id: String,
    ) -> AppResult<Context> {
        let now_us = crate::clock::now_us()?;
        Ok(Context {
            global,
            actor: Actor {
                operator,
                trace_id,
                now_us,
            },
            creates_database: false,
            audit_key: audit_key_from_environment()?,
            store: OnceCell::new(),
        })
    }

    pub(crate) fn open_options(&self, migrate: bool) -> OpenOptions {
        OpenOptions {
            url: self.global.database_url.clone(),
            connect_timeout: Duration::from_secs(self.global.db_timeout_seconds.max(1)),
            migrate,
            create_if_missing: self.creates_database,
            audit_key: self.audit_key.clone(),
        }
    }

    /// The store, opened and migrated on first use.
    pub(crate) async fn store(&self) -> AppResult<&Store> {
        self.store
            .get_or_try_init(|| async { Store::open(&self.open_options(true)).await })
            .await
    }

    pub(crate) fn progress_enabled(&self) -> bool {
        !self.global.quiet && !self.global.no_progress && std::io::stderr().is_terminal()
    }

    pub(crate) async fn close(self) {
        if let Some(store) = self.store.into_inner() {
            store.close().await;
        }
    }
}

/// Parse an account number given on the command line (upper-cased, validated).
pub(crate) fn account_argument(flag: &str, number: &str) -> AppResult<String> {
    crate::model::account_number::validate(number).map_err(|error| error.context(flag))
}

/// `--from`/`--to` as instants (microseconds): a bare date `--to` covers that whole day.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<(Option<i64>, Option<i64>)> {
    let from_us = from
        .map(crate::clock::parse_date_or_instant)
        .transpose()
        .map_err(|e| e.context("--from"))?;
    let to_us = to
        .map(crate::clock::parse_date_or_instant_end)
        .transpose()
        .map_err(|e| e.context("--to"))?;
    Ok((from_us, to_us))
}
