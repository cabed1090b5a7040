//! `fincore alerts check`: evaluate the alert rules, one Nagios-style line per rule (or JSON,
//! CSV), exit 0 OK, 1 warning, 2 critical (the monitoring-plugin convention; see the README).

use super::{Context, Output};
use crate::alerts;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::output::Format;
use crate::service::alerts::{self as check_service, AlertOutcome, CheckRequest};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;

/// Largest rules file read, in bytes.
const RULES_FILE_BYTES_MAX: u64 = 1 << 20;

#[derive(Debug, Subcommand)]
pub(crate) enum AlertsCommand {
    /// Evaluate the alert rules; exit 0 OK, 1 warning, 2 critical (monitoring-plugin style)
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Alert rules (TOML); default: the built-in set (fixtures/alerts/default.toml)
    #[arg(long = "rules", value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Evaluate at this instant (RFC 3339 or a date) without changing the stored alert state
    #[arg(long = "as-of", value_name = "TS")]
    as_of: Option<String>,
}

impl AlertsCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            AlertsCommand::Check(_) => "check",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            AlertsCommand::Check(arguments) => check(context, arguments).await,
        }
    }
}

async fn check(context: &Context, arguments: CheckArgs) -> AppResult<Output> {
    let rules = match &arguments.rules {
        Some(path) => {
            let shown = path.display();
            let too_big =
                std::fs::metadata(path).is_ok_and(|metadata| metadata.len() > RULES_FILE_BYTES_MAX);
            if too_big {
                return Err(AppError::invalid_input(format!(
                    "--rules {shown}: larger than {RULES_FILE_BYTES_MAX} bytes"
                )));
            }
            let text = std::fs::read_to_string(path)
                .map_err(|error| AppError::invalid_input(format!("--rules {shown}: {error}")))?;
            alerts::parse_rules(&text).map_err(|error| error.context(format!("--rules {shown}")))?
        }
        None => alerts::parse_rules(alerts::BUILTIN_RULES_TOML)?,
    };
    let as_of_us = arguments
        .as_of
        .as_deref()
        .map(clock::parse_date_or_instant)
        .transpose()
        .map_err(|error| error.context("--as-of"))?;
    let request = CheckRequest {
        rules,
        as_of_us: as_of_us.unwrap_or(context.actor.now_us),
        record: as_of_us.is_none(),
    };
    let as_of = clock::format_instant(request.as_of_us);
    let store = context.store().await?;
    let report = check_service::check(store, &context.actor, request).await?;
    let bytes = match context.global.format {
        Format::Table => lines(&report.alerts),
        Format::Json => json_document(&report.alerts, report.exit_code, &as_of),
        Format::Csv => csv_rows(&report.alerts)?,
    };
    Ok(Output::raw(bytes).with_exit_code(report.exit_code))
}

fn lines(outcomes: &[AlertOutcome]) -> Vec<u8> {
    let mut text = String::new();
    for outcome in outcomes {
        text.push_str(&alerts::line(
            &outcome.rule,
            &outcome.evaluation,
            outcome.state,
        ));
        text.push('\n');
    }
    text.into_bytes()
}

fn status_word(exit_code: u8) -> &'static str {
    match exit_code {
        0 => "ok",
        1 => "warning",
        _ => "critical",
    }
}

fn json_document(outcomes: &[AlertOutcome], exit_code: u8, as_of: &str) -> Vec<u8> {
    let alerts: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|outcome| {
            json!({
                "rule": outcome.rule.name,
                "kind": outcome.rule.kind(),
                "severity": outcome.rule.severity.as_str(),
                "status": alerts::status_of(&outcome.rule, outcome.state).to_lowercase(),
                "state": outcome.state.as_str(),
                "since": outcome.since_us.map(clock::format_instant),
                "value": outcome.evaluation.value,
                "unit": outcome.evaluation.unit.as_str(),
                "message": outcome.evaluation.message,
                "line": alerts::line(&outcome.rule, &outcome.evaluation, outcome.state),
            })
        })
        .collect();
    let document = json!({
        "status": status_word(exit_code),
        "exit_code": exit_code,
        "as_of": as_of,
        "alerts": alerts,
    });
    let mut bytes = serde_json::to_vec_pretty(&document).expect("JSON serialises");
    bytes.push(b'\n');
    bytes
}

fn csv_rows(outcomes: &[AlertOutcome]) -> AppResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| AppError::storage(format!("writing CSV: {error}"));
    writer
        .write_record([
            "rule", "kind", "severity", "status", "state", "since", "value", "unit", "message",
        ])
        .map_err(failed)?;
    for outcome in outcomes {
        let since = outcome
            .since_us
            .map(clock::format_instant)
            .unwrap_or_default();
        let status = alerts::status_of(&outcome.rule, outcome.state).to_lowercase();
        writer
            .write_record([
                outcome.rule.name.as_str(),
                outcome.rule.kind(),
                outcome.rule.severity.as_str(),
                &status,
                outcome.state.as_str(),
                &since,
                &outcome.evaluation.value.to_string(),
                outcome.evaluation.unit.as_str(),
                &outcome.evaluation.message,
            ])
            .map_err(failed)?;
    }
    writer
        .into_inner()
        .map_err(|error| AppError::storage(format!("writing CSV: {error}")))
}
