//! `fincore report compliance`: CTR, structuring, sanctions, suspicious activity and the audit
//! summary for a period. Account numbers are masked unless `--unmask`, which is audited.

use super::{Context, Output};
use crate::clock::{self, MICROS_PER_DAY};
use crate::error::{AppError, AppResult};
use crate::money::Currency;
use crate::output::Format;
use crate::output::{self, Section, View};
use crate::report::compliance::{
    parse_list, parse_min_score, ComplianceFindings, ComplianceParams, CtrParams, SanctionsList,
    SuspiciousParams,
};
use crate::service::compliance::{self, ComplianceRequest};
use crate::store::AuditSummary;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

const KINDS: [&str; 5] = ["ctr", "structuring", "sanctions", "suspicious", "audit"];
/// Longest period one report covers; bigger audits are split by the operator.
const PERIOD_DAYS_MAX: i64 = 3_660;

fn compliance_kinds() -> super::options::Listed {
    super::options::listed(&KINDS)
}

#[derive(Debug, Args)]
pub(crate) struct ComplianceArgs {
    /// First day of the period (YYYY-MM-DD, today, yesterday, -7d; UTC)
    #[arg(long, value_name = "DATE", value_parser = super::options::When, allow_hyphen_values = true)]
    from: String,
    /// Last day of the period, inclusive
    #[arg(long, value_name = "DATE", value_parser = super::options::When, allow_hyphen_values = true)]
    to: String,
    /// Comma-separated kinds (default: all)
    #[arg(long, value_name = "KIND,…", value_parser = compliance_kinds())]
    kind: Option<String>,
    /// CTR threshold: `10000` for every currency, or per currency `USD=10000,JPY=1000000`
    #[arg(long = "ctr-threshold")]
    ctr_threshold: Option<String>,
    /// Sanctions list CSV `name,program,list_id[,aliases]` (required for the sanctions kind)
    #[arg(long = "sanctions-list")]
    sanctions_list: Option<PathBuf>,
    /// Minimum Jaro-Winkler similarity for a sanctions hit (0–1, default 0.90)
    #[arg(long = "min-score")]
    min_score: Option<String>,
    /// Write the report to this file; with --format csv and several kinds (or a path ending in /), this directory, one KIND.csv per kind (ctr.csv, audit.csv, …)
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Show full account numbers (recorded in the audit chain)
    #[arg(long)]
    unmask: bool,
    #[command(flatten)]
    suspicious: SuspiciousFlags,
}

/// Overrides of the suspicious-activity parameters (defaults documented in the README).
#[derive(Debug, Args)]
pub(crate) struct SuspiciousFlags {
    /// rapid_in_out: share of an inflow that leaves within the window (percent, default 90)
    #[arg(long = "rapid-out-percent")]
    rapid_out_percent: Option<u32>,
    /// rapid_in_out: window in hours (default 24)
    #[arg(long = "rapid-window-hours")]
    rapid_window_hours: Option<i64>,
    /// rapid_in_out: smallest inflow considered (default 5000)
    #[arg(long = "rapid-inbound-min")]
    rapid_inbound_min: Option<String>,
    /// dormant_reactivation: days without activity (default 180)
    #[arg(long = "dormant-days")]
    dormant_days: Option<i64>,
    /// dormant_reactivation: movement size that counts as large (default 10000)
    #[arg(long = "dormant-large-amount")]
    dormant_large_amount: Option<String>,
    /// round_amount: unit amounts must be multiples of (default 1000)
    #[arg(long = "round-unit")]
    round_unit: Option<String>,
    /// round_amount: smallest round amount (default 5000)
    #[arg(long = "round-min")]
    round_min: Option<String>,
    /// round_amount: round movements needed per account (default 3)
    #[arg(long = "round-count")]
    round_count: Option<usize>,
}

impl ComplianceArgs {
    /// The demo's report: every kind over the demo week, masked.
    pub(super) fn for_demo(from: &str, to: &str, sanctions_list: &Path) -> ComplianceArgs {
        ComplianceArgs {
            from: from.to_string(),
            to: to.to_string(),
            kind: None,
            ctr_threshold: None,
            sanctions_list: Some(sanctions_list.to_path_buf()),
            min_score: None,
            out: None,
            unmask: false,
            suspicious: SuspiciousFlags {
                rapid_out_percent: None,
                rapid_window_hours: None,
                rapid_inbound_min: None,
                dormant_days: None,
                dormant_large_amount: None,
                round_unit: None,
                round_min: None,
                round_count: None,
            },
        }
    }
}

impl SuspiciousFlags {
    fn params(&self) -> SuspiciousParams {
        let mut params = SuspiciousParams::default();
        if let Some(percent) = self.rapid_out_percent {
            params.rapid_out_share_percent = percent;
        }
        if let Some(hours) = self.rapid_window_hours {
            params.rapid_window_us = hours * 3_600 * clock::MICROS_PER_SECOND;
        }
        if let Some(amount) = &self.rapid_inbound_min {
            params.rapid_inbound_min = amount.clone();
        }
        if let Some(days) = self.dormant_days {
            params.dormant_gap_us = days * MICROS_PER_DAY;
        }
        if let Some(amount) = &self.dormant_large_amount {
            params.dormant_large_amount = amount.clone();
        }
        if let Some(amount) = &self.round_unit {
            params.round_unit = amount.clone();
        }
        if let Some(amount) = &self.round_min {
            params.round_amount_min = amount.clone();
        }
        if let Some(count) = self.round_count {
            params.round_count_min = count;
        }
        params
    }
}

fn parse_kinds(text: Option<&str>) -> AppResult<Vec<&'static str>> {
    let Some(text) = text else {
        return Ok(KINDS.to_vec());
    };
    let mut kinds = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let kind = KINDS.iter().find(|k| **k == part).ok_or_else(|| {
            AppError::usage(format!(
                "--kind: '{part}' is not one of {}",
                KINDS.join(",")
            ))
        })?;
        if !kinds.contains(kind) {
            kinds.push(*kind);
        }
    }
    if kinds.is_empty() {
        return Err(AppError::usage("--kind: name at least one kind"));
    }
    Ok(kinds)
}

fn parse_thresholds(text: Option<&str>) -> AppResult<CtrParams> {
    let mut params = CtrParams::default();
    let Some(text) = text else { return Ok(params) };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((code, amount)) => {
                let currency = Currency::parse(code).map_err(|e| e.context("--ctr-threshold"))?;
                let minor = currency
                    .parse_positive(amount.trim())
                    .map_err(|e| e.context(format!("--ctr-threshold {code}")))?;
                params.threshold_minor_by_currency.insert(currency, minor);
            }
            None => {
                // Validated per currency by the engine; check the grammar here.
                crate::money::parse_minor(part, 3).map_err(|e| e.context("--ctr-threshold"))?;
                params.default_threshold = part.to_string();
            }
        }
    }
    Ok(params)
}

fn read_sanctions(path: &Path) -> AppResult<SanctionsList> {
    let file = std::fs::File::open(path).map_err(|error| {
        AppError::invalid_input(format!("--sanctions-list {}: {error}", path.display()))
    })?;
    parse_list(std::io::BufReader::new(file))
        .map_err(|e| e.context(format!("--sanctions-list {}", path.display())))
}

fn request(arguments: &ComplianceArgs) -> AppResult<ComplianceRequest> {
    let from = clock::parse_date(&arguments.from).map_err(|e| e.context("--from"))?;
    let to = clock::parse_date(&arguments.to).map_err(|e| e.context("--to"))?;
    if to < from || (to - from).num_days() > PERIOD_DAYS_MAX {
        return Err(AppError::invalid_input(format!(
            "--from {from} --to {to}: the period must run forwards and span at most {PERIOD_DAYS_MAX} days"
        )));
    }
    let mut kinds = parse_kinds(arguments.kind.as_deref())?;
    let sanctions = arguments
        .sanctions_list
        .as_deref()
        .map(read_sanctions)
        .transpose()?;
    if sanctions.is_none() && kinds.contains(&"sanctions") {
        if arguments.kind.is_some() {
            return Err(AppError::usage(
                "--kind sanctions needs --sanctions-list FILE",
            ));
        }
        kinds.retain(|kind| *kind != "sanctions");
    }
    let min_score = arguments
        .min_score
        .as_deref()
        .map(parse_min_score)
        .transpose()
        .map_err(|e| e.context("--min-score"))?;
    Ok(ComplianceRequest {
        from,
        to,
        kinds,
        params: ComplianceParams {
            ctr: parse_thresholds(arguments.ctr_threshold.as_deref())?,
            suspicious: arguments.suspicious.params(),
            min_score,
        },
        sanctions,
        unmask: arguments.unmask,
    })
}

/// `report compliance` from the command line: as `run`, after checking that CSV output is
/// one table per file (the demo prints every kind under its own title instead).
pub(crate) async fn run_command(context: &Context, arguments: ComplianceArgs) -> AppResult<Output> {
    if context.global.format == Format::Csv {
        let kinds = request(&arguments)?.kinds;
        one_table_per_file(arguments.out.as_deref(), &kinds)?;
    }
    run(context, arguments).await
}

/// CSV is one flat table per output: several kinds go to a directory, one file per kind
/// (`--out DIR`), never one after another on stdout or in one file. Checked before anything
/// is read or written.
fn one_table_per_file(out: Option<&Path>, kinds: &[&str]) -> AppResult<()> {
    if kinds.len() < 2 {
        return Ok(());
    }
    match out {
        None => Err(AppError::usage(format!(
            "--format csv prints one table and this report has {} ({}): name one with --kind, \
             or write each to its own file with --out DIR",
            kinds.len(),
            kinds.join(", ")
        ))),
        Some(path) if path.extension().is_some() && !path.is_dir() => {
            Err(AppError::usage(format!(
                "--out {}: {} kinds make {} CSV files (KIND.csv); give a directory, or one --kind",
                path.display(),
                kinds.len(),
                kinds.len()
            )))
        }
        Some(_) => Ok(()),
    }
}

pub(crate) async fn run(context: &Context, arguments: ComplianceArgs) -> AppResult<Output> {
    let request = request(&arguments)?;
    let store = context.store().await?;
    let report = compliance::gather(store, &context.actor, &request).await?;
    let view = render(&request, &report.findings, report.audit.as_ref());
    match &arguments.out {
        Some(path) => write_out(path, &view, &request, context.global.format),
        None => Ok(Output::view(view)),
    }
}

fn json_rows<T: serde::Serialize>(items: &[T]) -> Vec<serde_json::Value> {
    items
        .iter()
        .map(|item| serde_json::to_value(item).expect("finding serialises"))
        .collect()
}

/// Finding columns a screen shows only with `--wide`: the lists of transfer ids, flags and
/// thresholds the other columns already imply, and times inside the finding's day.
const COMPLIANCE_WIDE_ONLY: &[&str] = &[
    "cash_in_over",
    "cash_in_transfer_ids",
    "cash_out_over",
    "cash_out_transfer_ids",
    "threshold",
    "band_low",
    "first_at",
    "last_at",
    "transfer_ids",
    "list_id",
    "matched_alias",
    "deposits",
    "at",
];

/// One CSV/table section per kind: one flat row per finding, columns from its JSON keys. A
/// list is one cell joined with `;`; a list of objects is one column per field
/// (`deposits.amount`), each joined with `;` in the same order; a nested object's fields are
/// `object.field`. No JSON in cells.
fn section(kind: &str, rows: &[serde_json::Value]) -> Section {
    let flattened: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|row| {
            let mut cells = Vec::new();
            flatten("", row, &mut cells);
            cells
        })
        .collect();
    let mut headers: Vec<String> = Vec::new();
    for (header, _) in flattened.iter().flatten() {
        if !headers.contains(header) {
            headers.push(header.clone());
        }
    }
    if headers.is_empty() {
        headers.push("finding".to_string());
    }
    let mut section = Section {
        title: Some(kind.to_string()),
        headers: headers.clone(),
        ..Section::default()
    };
    // Detail a screen shows with --wide only; CSV and JSON always have it (a list of
    // records' columns, `deposits.amount`, go with their list).
    section.wide_only = headers
        .iter()
        .map(|header| {
            let field = header.split('.').next().unwrap_or(header);
            COMPLIANCE_WIDE_ONLY.contains(&field)
        })
        .collect();
    for cells in flattened {
        section.rows.push(
            headers
                .iter()
                .map(|header| {
                    cells
                        .iter()
                        .find(|(name, _)| name == header)
                        .map(|(_, text)| text.clone())
                        .unwrap_or_default()
                })
                .collect(),
        );
    }
    section
}

/// Separates the items of a list inside one CSV or table cell.
const LIST_SEPARATOR: &str = ";";

/// `value`'s cells under `prefix` (see `section`).
fn flatten(prefix: &str, value: &serde_json::Value, cells: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let name = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(object) => {
            for (key, field) in object {
                flatten(&name(key), field, cells);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let mut fields: Vec<String> = Vec::new();
            for item in items.iter().filter_map(Value::as_object) {
                for key in item.keys() {
                    if !fields.contains(key) {
                        fields.push(key.clone());
                    }
                }
            }
            for field in fields {
                let texts: Vec<String> = items
                    .iter()
                    .map(|item| scalar_text(&item[&field]))
                    .collect();
                cells.push((name(&field), texts.join(LIST_SEPARATOR)));
            }
        }
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().map(scalar_text).collect();
            cells.push((prefix.to_string(), texts.join(LIST_SEPARATOR)));
        }
        scalar => cells.push((prefix.to_string(), scalar_text(scalar))),
    }
}

/// A scalar as a cell: strings as they are, null empty, numbers and booleans as JSON writes
/// them (a nested list or object, which findings do not have, as its items joined).
fn scalar_text(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items
            .iter()
            .map(scalar_text)
            .collect::<Vec<_>>()
            .join(LIST_SEPARATOR),
        Value::Object(object) => object
            .iter()
            .map(|(key, field)| format!("{key}={}", scalar_text(field)))
            .collect::<Vec<_>>()
            .join(LIST_SEPARATOR),
        other => other.to_string(),
    }
}

/// The audit summary as `measure,key,count` rows, read from its JSON so every measure the
/// JSON has (reconciliation breaks included) is in the table and the CSV too.
fn audit_section(summary: &AuditSummary) -> Section {
    let mut section = Section::new(&["measure", "key", "count"]).titled("audit");
    let document = serde_json::to_value(summary).expect("summary serialises");
    let Some(measures) = document.as_object() else {
        return section;
    };
    for (measure, value) in measures {
        match value.as_object() {
            Some(counts) => {
                for (key, count) in counts {
                    section.push(vec![measure.clone(), key.clone(), scalar_text(count)]);
                }
            }
            None => section.push(vec![measure.clone(), String::new(), scalar_text(value)]),
        }
    }
    section
}

fn render(
    request: &ComplianceRequest,
    findings: &ComplianceFindings,
    audit: Option<&AuditSummary>,
) -> View {
    let lists = [
        ("ctr", json_rows(&findings.ctr)),
        ("structuring", json_rows(&findings.structuring)),
        ("sanctions", json_rows(&findings.sanctions)),
        ("suspicious", json_rows(&findings.suspicious)),
    ];
    let mut document =
        json!({ "period": { "from": request.from.to_string(), "to": request.to.to_string() } });
    let mut sections = Vec::new();
    for (kind, rows) in &lists {
        document[*kind] = json!(rows);
        if request.kinds.contains(kind) {
            sections.push(section(kind, rows));
        }
    }
    document["audit"] = audit.map_or(json!({}), |summary| {
        serde_json::to_value(summary).expect("summary serialises")
    });
    if let Some(summary) = audit {
        sections.push(audit_section(summary));
    }
    let counts: Vec<String> = lists
        .iter()
        .filter(|(k, _)| request.kinds.contains(k))
        .map(|(k, rows)| format!("{k} {}", rows.len()))
        .collect();
    View::new(document, sections).with_note(format!("findings: {}", counts.join(", ")))
}

/// `--out`: with CSV, a directory of `KIND.csv` files when several kinds are asked for or the
/// path is a directory (or ends in `/`); anything else one file.
fn write_out(
    path: &Path,
    view: &View,
    request: &ComplianceRequest,
    format: Format,
) -> AppResult<Output> {
    let fail = |error: std::io::Error| {
        AppError::invalid_input(format!("--out {}: {error}", path.display()))
    };
    let mut written = Vec::new();
    let names_directory = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
    if format == Format::Csv && (view.sections.len() > 1 || names_directory) {
        std::fs::create_dir_all(path).map_err(fail)?;
        for section in &view.sections {
            let file = path.join(format!(
                "{}.csv",
                section.title.as_deref().unwrap_or("report")
            ));
            let mut bytes = Vec::new();
            output::render(
                &View::new(json!(null), vec![section.clone()]),
                Format::Csv,
                &mut bytes,
            )
            .map_err(fail)?;
            std::fs::write(&file, bytes).map_err(fail)?;
            let kind = section.title.clone().unwrap_or_default();
            written.push((kind, file.display().to_string()));
        }
    } else {
        let mut bytes = Vec::new();
        output::render(view, format, &mut bytes).map_err(fail)?;
        std::fs::write(path, bytes).map_err(fail)?;
        written.push((request.kinds.join(";"), path.display().to_string()));
    }
    let files: Vec<&String> = written.iter().map(|(_, file)| file).collect();
    let summary =
        json!({ "period": view.json["period"], "kinds": request.kinds, "written": files });
    let mut section = Section::new(&["kind", "file"]).titled("written");
    for (kind, file) in written {
        section.push(vec![kind, file]);
    }
    Ok(Output::view(View::new(summary, vec![section])))
}
