//! `fincore report balances` (and, with the compliance issue, `report compliance`).

use super::{Context, Output};
use crate::clock;
use crate::error::AppResult;
use crate::money::{format_minor_wide, Currency};
use crate::output::{to_json, Column, Record, Section, View};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Trial balance: per currency, total debits = total credits
    Balances(BalancesArgs),
    /// CTR, structuring, sanctions, suspicious activity and audit summary for a period
    Compliance(Box<super::compliance::ComplianceArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct BalancesArgs {
    /// Balances as of this instant (RFC 3339) or the end of this date (YYYY-MM-DD, today, yesterday, -Nd)
    #[arg(long = "as-of", value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    as_of: Option<String>,
    /// Only accounts in this currency (ISO 4217 code)
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Only this account (its balance as of --as-of equals its statement's closing balance)
    #[arg(long, value_name = "NUMBER")]
    account: Option<String>,
}

impl ReportCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ReportCommand::Balances(_) => "balances",
            ReportCommand::Compliance(_) => "compliance",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            ReportCommand::Balances(arguments) => balances(context, arguments).await,
            ReportCommand::Compliance(arguments) => {
                super::compliance::run_command(context, *arguments).await
            }
        }
    }
}

/// `report balances` as JSON.
#[derive(Serialize)]
struct TrialBalanceView {
    as_of: String,
    /// Every currency balances.
    balanced: bool,
    currencies: Vec<CurrencyTotalView>,
    accounts: Vec<TrialBalanceRowView>,
}

/// One account's entries summed to one side of the trial balance.
#[derive(Serialize)]
struct TrialBalanceRowView {
    number: String,
    holder: String,
    #[serde(rename = "type")]
    account_type: String,
    currency: String,
    debit: String,
    credit: String,
    /// The balance in the account's normal direction (as `account show` prints it), only
    /// for `--account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<String>,
}

impl Record for TrialBalanceRowView {
    const COLUMNS: &'static [Column<TrialBalanceRowView>] = &[
        Column::field("number"),
        Column::field("holder"),
        Column::field("type").wide(),
        Column::field("currency"),
        Column::field("debit"),
        Column::field("credit"),
    ];
}

/// One currency's total debits and credits.
#[derive(Serialize)]
struct CurrencyTotalView {
    currency: String,
    total_debits: String,
    total_credits: String,
    balanced: bool,
}

impl Record for CurrencyTotalView {
    const COLUMNS: &'static [Column<CurrencyTotalView>] = &[
        Column::field("currency"),
        Column::field("total_debits"),
        Column::field("total_credits"),
        Column::field("balanced"),
    ];
}

#[derive(Default)]
struct Totals {
    debits_minor: i128,
    credits_minor: i128,
}

pub(super) async fn balances_for_demo(context: &Context) -> AppResult<Output> {
    balances(
        context,
        BalancesArgs {
            as_of: None,
            currency: None,
            account: None,
        },
    )
    .await
}

async fn balances(context: &Context, arguments: BalancesArgs) -> AppResult<Output> {
    let as_of_us = arguments
        .as_of
        .as_deref()
        .map(clock::parse_date_or_instant_end)
        .transpose()
        .map_err(|e| e.context("--as-of"))?;
    let currency = arguments
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()
        .map_err(|e| e.context("--currency"))?;
    let account = arguments
        .account
        .as_deref()
        .map(|number| super::account_argument("--account", number))
        .transpose()?;
    let store = context.store().await?;
    if let Some(number) = &account {
        store
            .account(number)
            .await?
            .ok_or_else(|| crate::ledger::account_not_found(number).context("--account"))?;
    }
    let rows = store
        .trial_balance(
            as_of_us,
            currency.as_ref().map(Currency::code),
            account.as_deref(),
        )
        .await?;
    let mut totals: BTreeMap<String, Totals> = BTreeMap::new();
    let mut accounts = Vec::with_capacity(rows.len());
    for row in &rows {
        let minor_units = Currency::parse(&row.currency)?.minor_units();
        let total = totals.entry(row.currency.clone()).or_default();
        let (debit, credit) = match row.entry_sum_minor {
            sum if sum > 0 => {
                total.debits_minor += i128::from(sum);
                (
                    format_minor_wide(i128::from(sum), minor_units),
                    format_minor_wide(0, minor_units),
                )
            }
            sum => {
                total.credits_minor += -i128::from(sum);
                (
                    format_minor_wide(0, minor_units),
                    format_minor_wide(-i128::from(sum), minor_units),
                )
            }
        };
        accounts.push(TrialBalanceRowView {
            number: row.number.clone(),
            holder: row.holder.clone(),
            account_type: row.account_type.clone(),
            currency: row.currency.clone(),
            debit,
            credit,
            balance: account.is_some().then(|| {
                let normal = if row.account_type == crate::model::AccountType::Settlement.as_str() {
                    row.entry_sum_minor
                } else {
                    -row.entry_sum_minor
                };
                format_minor_wide(i128::from(normal), minor_units)
            }),
        });
    }
    let mut currencies = Vec::new();
    let mut all_balanced = true;
    for (code, total) in &totals {
        let minor_units = Currency::parse(code)?.minor_units();
        let balanced = total.debits_minor == total.credits_minor;
        all_balanced &= balanced;
        currencies.push(CurrencyTotalView {
            currency: code.clone(),
            total_debits: format_minor_wide(total.debits_minor, minor_units),
            total_credits: format_minor_wide(total.credits_minor, minor_units),
            balanced,
        });
    }
    let accounts_with_balance: Vec<String> = accounts
        .iter()
        .filter_map(|row| {
            let balance = row.balance.as_ref()?;
            Some(format!(
                "balance of {}: {balance} {}",
                row.number, row.currency
            ))
        })
        .collect();
    let sections = if context.global.format.prints_sections() {
        vec![
            Section::of_records(&accounts).titled("Trial balance"),
            Section::of_records(&currencies).titled("Totals"),
        ]
    } else {
        Vec::new()
    };
    // One account's side does not balance by itself: the check is the whole ledger's.
    let balanced = all_balanced || account.is_some();
    let json = to_json(&TrialBalanceView {
        as_of: clock::format_instant(as_of_us.unwrap_or(context.actor.now_us)),
        balanced,
        currencies,
        accounts,
    });
    let mut view = View::new(json, sections);
    // One account: its balance in its normal direction, as `account show` prints it.
    for row in accounts_with_balance {
        view = view.with_note(row);
    }
    Ok(Output::view(view).with_exit_code(if balanced { 0 } else { 1 }))
}
