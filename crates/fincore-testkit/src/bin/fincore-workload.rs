//! Deterministic benchmark workloads in fincore's own file formats.
//!
//! `fincore-workload ledger --accounts 10000 --transfers 1000000 --out DIR` writes
//! `DIR/accounts.csv` (SPEC account import format) and `DIR/transfers.csv` (SPEC transfer import
//! format): the first rows fund every customer account from a settlement account, the rest move
//! random amounts between customers over 30 days. The same arguments always give the same bytes.
//!
//! `fincore-workload statement --lines 1000000 --out DIR` writes a reconciliation workload from
//! the engine's deterministic generator (`fincore_testkit::reconcile`): `DIR/accounts.csv`
//! (a EUR settlement account and its clearing counterpart), `DIR/transfers.csv` (the internal
//! movements as a transfer import into the settlement account), `DIR/statement.csv` (the spec
//! CSV statement, about 1 % of each break kind), `DIR/expected.json` (the ground truth: counts
//! by construction, plus the run options) and `DIR/expected-items.csv` (the engine's own break
//! items on the same data, without transfer ids, to compare a stored run item by item).
//!
//! `fincore-workload period --lines 1000000 --days 31 --peak-lines 248000 --out DIR` writes the
//! same kinds of files for a statement over a period (2026-10-21 to 2026-11-20): the month-end
//! 2026-10-31 holds `--peak-lines` lines, the other days share the rest. `DIR/statement.csv` is
//! the whole period, `DIR/statement-day.csv` the month-end's lines alone; `expected.json` (`day`,
//! `period`), `expected-day-items.csv` and `expected-period-items.csv` are the engine's results
//! for a run of the month-end alone and for a run over the whole period.
#![forbid(unsafe_code)]

use fincore_testkit::random::{Draw, XorShift64Star};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

const SETTLEMENT: &str = "9000000000000001";
const START_UNIX_SECONDS: i64 = 1_761_955_200; // 2025-11-01T00:00:00Z
const SPAN_SECONDS: i64 = 30 * 86_400;
const FUNDING_MINOR: i64 = 10_000_000;

fn customer_number(index: usize) -> String {
    format!("4{index:015}")
}

fn instant(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn write_ledger(
    accounts: usize,
    transfers: usize,
    out: &PathBuf,
    seed: u64,
) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut file = BufWriter::new(std::fs::File::create(out.join("accounts.csv"))?);
    writeln!(file, "number,holder,type,currency,overdraft_limit")?;
    writeln!(file, "{SETTLEMENT},Settlement bank,settlement,USD,")?;
    for index in 0..accounts {
        writeln!(
            file,
            "{},Holder {index},checking,USD,",
            customer_number(index)
        )?;
    }
    file.flush()?;
    let mut file =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(out.join("transfers.csv"))?);
    writeln!(file, "key,from,to,amount,currency,at,reference,description")?;
    let mut sequence = XorShift64Star::new(seed.max(1));
    let funding = accounts.min(transfers);
    for index in 0..funding {
        let at = instant(START_UNIX_SECONDS + index as i64);
        writeln!(
            file,
            "f{index},{SETTLEMENT},{},{}.00,USD,{at},FUND-{index},funding",
            customer_number(index),
            FUNDING_MINOR / 100
        )?;
    }
    let step = SPAN_SECONDS / (transfers.max(1) as i64);
    for index in funding..transfers {
        let from = sequence.below(accounts as u64) as usize;
        let to = (from + 1 + sequence.below(accounts as u64 - 1) as usize) % accounts;
        let amount_minor = 100 + sequence.below(50_000);
        let at = instant(START_UNIX_SECONDS + 86_400 + index as i64 * step);
        writeln!(
            file,
            "t{index},{},{},{}.{:02},USD,{at},REF-{index},",
            customer_number(from),
            customer_number(to),
            amount_minor / 100,
            amount_minor % 100
        )?;
    }
    file.flush()
}

/// `names`: holders with realistic names (some near-misses of list entries) and a sanctions list.
fn write_names(holders: usize, list_size: usize, out: &PathBuf, seed: u64) -> std::io::Result<()> {
    use fincore_testkit::compliance::{generate_list, generate_names};
    std::fs::create_dir_all(out)?;
    let mut file = BufWriter::new(std::fs::File::create(out.join("accounts.csv"))?);
    let mut writer = csv::Writer::from_writer(&mut file);
    writer.write_record(["number", "holder", "type", "currency", "overdraft_limit"])?;
    for (index, name) in generate_names(seed, holders).iter().enumerate() {
        writer.write_record([customer_number(index).as_str(), name, "checking", "USD", ""])?;
    }
    writer.flush()?;
    drop(writer);
    file.flush()?;
    let mut writer = csv::Writer::from_path(out.join("sanctions.csv"))?;
    writer.write_record(["name", "program", "list_id", "aliases"])?;
    for entry in generate_list(seed, list_size).entries() {
        writer.write_record([
            &entry.name,
            &entry.program,
            &entry.list_id,
            &entry.aliases.join(";"),
        ])?;
    }
    writer.flush()
}

fn names_command(args: &[String], usage: &str) -> std::process::ExitCode {
    let parse = |name: &str, default: &str| argument(args, name, default).parse::<usize>();
    let (Ok(holders), Ok(list_size), Ok(seed)) = (
        parse("--holders", "100000"),
        parse("--list", "10000"),
        parse("--seed", "7"),
    ) else {
        eprintln!("{usage}");
        return std::process::ExitCode::from(2);
    };
    let out = PathBuf::from(argument(args, "--out", "bench-output/names"));
    match write_names(holders, list_size, &out, seed as u64) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(4)
        }
    }
}

pub const STATEMENT_SETTLEMENT: &str = "DE89370400440532013000";
pub const STATEMENT_COUNTERPARTY: &str = "CLEARING0001";
const STATEMENT_DATE: &str = "2026-11-20";

fn write_statement_workload(lines: usize, seed: u64, out: &std::path::Path) -> Result<(), String> {
    use fincore::money::Currency;
    use fincore::reconcile::match_statement;
    use fincore_testkit::reconcile::{generate, GENERATED_TOLERANCE_MINOR, GENERATED_WINDOW_DAYS};
    std::fs::create_dir_all(out).map_err(|error| error.to_string())?;
    let currency = Currency::parse("EUR").map_err(|error| error.message)?;
    let date = fincore::clock::parse_date(STATEMENT_DATE).map_err(|error| error.message)?;
    let generated = generate(seed, lines, date, currency);
    write_statement_files(out, &generated.internal, &generated.statement)?;
    let result = match_statement(
        &generated.statement,
        &generated.internal,
        &generated.options,
    );
    let expected = generated.expected;
    let document = serde_json::json!({
        "account": STATEMENT_SETTLEMENT,
        "date": STATEMENT_DATE,
        "amount_tolerance": currency.format(GENERATED_TOLERANCE_MINOR),
        "date_window": GENERATED_WINDOW_DAYS,
        "statement_lines": expected.statement_lines,
        "internal_movements": generated.internal.len(),
        "internal_entries": expected.internal_entries,
        "matched": expected.matched,
        "matched_fuzzy": expected.matched_fuzzy,
        "breaks": {
            "missing_internal": expected.missing_internal,
            "missing_external": expected.missing_external,
            "amount_mismatch": expected.amount_mismatch,
            "duplicate_external": expected.duplicate_external,
            "ambiguous": expected.ambiguous,
            "currency_mismatch": expected.currency_mismatch,
            // A CSV statement states no balances: never a balance break.
            "balance_mismatch": 0,
        },
    });
    let text = serde_json::to_string_pretty(&document).map_err(|error| error.to_string())?;
    std::fs::write(out.join("expected.json"), text + "\n").map_err(|error| error.to_string())?;
    write_items(&out.join("expected-items.csv"), &result)
}

/// The engine's break items, without transfer ids, to compare a stored run item by item.
fn write_items(
    path: &std::path::Path,
    result: &fincore::reconcile::MatchResult,
) -> Result<(), String> {
    use fincore::money::Currency;
    let file = std::fs::File::create(path).map_err(|error| error.to_string())?;
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    let failed = |error: csv::Error| error.to_string();
    writer
        .write_record([
            "kind",
            "reference",
            "internal_amount",
            "external_amount",
            "difference",
            "statement_line",
        ])
        .map_err(failed)?;
    for item in &result.items {
        let amount = |minor: Option<i64>, currency: Currency| {
            minor
                .map(|minor| currency.format(minor))
                .unwrap_or_default()
        };
        writer
            .write_record([
                item.kind.as_str().to_string(),
                item.reference.clone(),
                amount(
                    item.internal_amount_minor,
                    item.internal_currency.unwrap_or(item.currency),
                ),
                amount(item.external_amount_minor, item.currency),
                amount(item.difference_minor, item.currency),
                item.statement_line
                    .map(|line| line.to_string())
                    .unwrap_or_default(),
            ])
            .map_err(failed)?;
    }
    writer.flush().map_err(|error| error.to_string())
}

const PERIOD_LAST_DAY: &str = "2026-11-20";
const PERIOD_PEAK_DAY: &str = "2026-10-31";

/// `period`: `lines` statement lines over `days` days ending 2026-11-20, `peak_lines` of them
/// on the month-end 2026-10-31 and the rest spread evenly over the other days, with their
/// ledger movements; plus the peak day's lines alone as a one-day statement and the engine's
/// own result for a one-day run of that day.
fn write_period_workload(
    lines: usize,
    days: usize,
    peak_lines: usize,
    seed: u64,
    out: &std::path::Path,
) -> Result<(), String> {
    use chrono::{NaiveDate, TimeDelta};
    use fincore::money::Currency;
    use fincore::reconcile::{
        match_statement, BreakKind, InternalMovement, MatchOptions, MatchResult, RunDays,
    };
    use fincore_testkit::reconcile::{
        generate_period, number_lines, write_csv, GENERATED_TOLERANCE_MINOR, GENERATED_WINDOW_DAYS,
    };
    let parse = |text: &str| fincore::clock::parse_date(text).map_err(|error| error.message);
    let (last, peak) = (parse(PERIOD_LAST_DAY)?, parse(PERIOD_PEAK_DAY)?);
    let first = last - TimeDelta::days(days as i64 - 1);
    if days < 2 || peak < first || peak_lines > lines {
        return Err(format!(
            "--days must be at least 2 and reach back to {PERIOD_PEAK_DAY}; --peak-lines at most --lines"
        ));
    }
    let others = days - 1;
    let mut plan = Vec::with_capacity(days);
    let mut rest_index = 0;
    for offset in 0..days {
        let day = first + TimeDelta::days(offset as i64);
        let day_lines = if day == peak {
            peak_lines
        } else {
            // The remainder goes to the first days, one line each.
            let rest = lines - peak_lines;
            let share = rest / others + usize::from(rest_index < rest % others);
            rest_index += 1;
            share
        };
        plan.push((day, day_lines));
    }
    std::fs::create_dir_all(out).map_err(|error| error.to_string())?;
    let currency = Currency::parse("EUR").map_err(|error| error.message)?;
    let generated = generate_period(seed, &plan, currency);
    write_statement_files(out, &generated.internal, &generated.statement)?;
    let mut day_lines: Vec<_> = generated
        .statement
        .iter()
        .filter(|line| line.date == peak)
        .cloned()
        .collect();
    number_lines(&mut day_lines);
    write_csv(&out.join("statement-day.csv"), &day_lines).map_err(|error| error.message)?;
    // What a one-day run of the peak day reads from the ledger: its date window.
    let window = TimeDelta::days(GENERATED_WINDOW_DAYS);
    let in_window = |from: NaiveDate, to: NaiveDate| -> Vec<InternalMovement> {
        generated
            .internal
            .iter()
            .filter(|movement| movement.date >= from - window && movement.date <= to + window)
            .cloned()
            .collect()
    };
    let day_options = MatchOptions::one_day(peak, GENERATED_TOLERANCE_MINOR, GENERATED_WINDOW_DAYS);
    let day = match_statement(&day_lines, &in_window(peak, peak), &day_options);
    let period_options = MatchOptions {
        run_days: RunDays::period(first, last),
        amount_tolerance_minor: GENERATED_TOLERANCE_MINOR,
        date_window_days: GENERATED_WINDOW_DAYS,
    };
    let period = match_statement(
        &generated.statement,
        &in_window(first, last),
        &period_options,
    );
    let counts = |result: &MatchResult| {
        let breaks: serde_json::Map<String, serde_json::Value> = BreakKind::ALL
            .iter()
            .map(|kind| (kind.as_str().to_string(), result.count(*kind).into()))
            .collect();
        serde_json::json!({
            "statement_lines": result.statement_lines,
            "internal_entries": result.internal_entries,
            "matched": result.matched,
            "matched_fuzzy": result.matched_fuzzy,
            "matched_grouped": result.matched_grouped,
            "breaks": breaks,
        })
    };
    let document = serde_json::json!({
        "account": STATEMENT_SETTLEMENT,
        "period_from": first.to_string(),
        "period_to": last.to_string(),
        "date": peak.to_string(),
        "amount_tolerance": currency.format(GENERATED_TOLERANCE_MINOR),
        "date_window": GENERATED_WINDOW_DAYS,
        "internal_movements": generated.internal.len(),
        "day": counts(&day),
        "period": counts(&period),
    });
    let text = serde_json::to_string_pretty(&document).map_err(|error| error.to_string())?;
    std::fs::write(out.join("expected.json"), text + "\n").map_err(|error| error.to_string())?;
    write_items(&out.join("expected-day-items.csv"), &day)?;
    write_items(&out.join("expected-period-items.csv"), &period)
}

fn argument(args: &[String], name: &str, default: &str) -> String {
    args.windows(2)
        .find(|pair| pair[0] == name)
        .map_or(default.to_string(), |pair| pair[1].clone())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: fincore-workload ledger [--accounts N] [--transfers N] [--seed N] --out DIR\n       fincore-workload statement [--lines N] [--seed N] --out DIR\n       fincore-workload period [--lines N] [--days N] [--peak-lines N] [--seed N] --out DIR\n       fincore-workload names [--holders N] [--list N] [--seed N] --out DIR";
    if args.get(1).map(String::as_str) == Some("names") {
        return names_command(&args, usage);
    }
    if args.get(1).map(String::as_str) == Some("statement") {
        let parse = |name: &str, default: &str| argument(&args, name, default).parse::<u64>();
        let (Ok(lines), Ok(seed)) = (parse("--lines", "1000000"), parse("--seed", "20261120"))
        else {
            eprintln!("{usage}");
            return std::process::ExitCode::from(2);
        };
        let out = PathBuf::from(argument(&args, "--out", "bench-output/reconcile"));
        return match write_statement_workload(lines as usize, seed, &out) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::ExitCode::from(4)
            }
        };
    }
    if args.get(1).map(String::as_str) == Some("period") {
        let parse = |name: &str, default: &str| argument(&args, name, default).parse::<u64>();
        let (Ok(lines), Ok(days), Ok(peak_lines), Ok(seed)) = (
            parse("--lines", "1000000"),
            parse("--days", "31"),
            parse("--peak-lines", "248000"),
            parse("--seed", "20261031"),
        ) else {
            eprintln!("{usage}");
            return std::process::ExitCode::from(2);
        };
        let out = PathBuf::from(argument(&args, "--out", "bench-output/reconcile-period"));
        return match write_period_workload(
            lines as usize,
            days as usize,
            peak_lines as usize,
            seed,
            &out,
        ) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::ExitCode::from(4)
            }
        };
    }
    if args.get(1).map(String::as_str) != Some("ledger") {
        eprintln!("{usage}");
        return std::process::ExitCode::from(2);
    }
    let parse = |name: &str, default: &str| argument(&args, name, default).parse::<usize>();
    let (Ok(accounts), Ok(transfers), Ok(seed)) = (
        parse("--accounts", "10000"),
        parse("--transfers", "1000000"),
        parse("--seed", "7"),
    ) else {
        eprintln!("{usage}");
        return std::process::ExitCode::from(2);
    };
    let out = PathBuf::from(argument(&args, "--out", "bench-output/ledger"));
    if accounts < 2 {
        eprintln!("--accounts must be at least 2");
        return std::process::ExitCode::from(2);
    }
    match write_ledger(accounts, transfers, &out, seed as u64) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(4)
        }
    }
}

/// The files a statement workload always has: the two accounts, the ledger's movements as
/// transfers to import, and the statement.
fn write_statement_files(
    out: &std::path::Path,
    internal: &[fincore::reconcile::InternalMovement],
    statement: &[fincore::reconcile::StatementLine],
) -> Result<(), String> {
    std::fs::write(
        out.join("accounts.csv"),
        format!(
            "number,holder,type,currency,overdraft_limit\n\
             {STATEMENT_SETTLEMENT},Bank settlement EUR,settlement,EUR,\n\
             {STATEMENT_COUNTERPARTY},Clearing EUR,internal,EUR,\n"
        ),
    )
    .map_err(|error| error.to_string())?;
    fincore_testkit::reconcile::write_transfers_csv(
        &out.join("transfers.csv"),
        internal,
        STATEMENT_SETTLEMENT,
        STATEMENT_COUNTERPARTY,
    )
    .map_err(|error| error.message)?;
    fincore_testkit::reconcile::write_csv(&out.join("statement.csv"), statement)
        .map_err(|error| error.message)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            super::instant(super::START_UNIX_SECONDS),
            "2025-11-01T00:00:00Z"
        );
        assert_eq!(super::instant(951_782_400), "2000-02-29T00:00:00Z");
    }
}
