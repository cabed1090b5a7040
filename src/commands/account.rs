//! `fincore account …`

use super::present::{AccountDetailView, AccountView};
use super::{account_argument, Context, Output};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::ledger::account_not_found;
use crate::model::bank_identifiers;
use crate::model::{AccountStatus, AccountType, BankIdentifiers};
use crate::money::{format_minor, Currency};
use crate::output::{to_json, Column, Record, Section, View};
use crate::service::account_import;
use crate::service::accounts::{self, Change, OpenRequest, StatusChange, UpdateRequest};
use crate::store::AccountFilter;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Open an account
    Open(OpenArgs),
    /// Show one account
    Show {
        /// The account number
        number: String,
        /// Its balance at the end of this date (YYYY-MM-DD, today, yesterday, -Nd) or at this instant (RFC 3339)
        #[arg(long = "as-of", value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
        as_of: Option<String>,
    },
    /// List accounts
    List(ListArgs),
    /// Freeze an account: no transfers in or out
    Freeze(ReasonArgs),
    /// Lift a freeze
    Unfreeze(ReasonArgs),
    /// Close an account (zero balance only)
    Close {
        /// The account number
        number: String,
    },
    /// Entries with running balance
    Statement(StatementArgs),
    /// Import accounts from CSV `number,holder,type,currency,overdraft_limit`
    Import {
        /// CSV with the header number,holder,type,currency,overdraft_limit
        file: PathBuf,
    },
    /// Set or clear a settlement account's bank identifiers (IBAN, MT940 `:25:` account)
    Update(UpdateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    /// The holder's name as it appears on statements and compliance reports
    #[arg(long, value_name = "NAME")]
    holder: String,
    /// What the account is for (settlement: our account at a bank; internal: fees, suspense)
    #[arg(long = "type", value_name = "TYPE", value_parser = super::options::account_types())]
    account_type: String,
    /// ISO 4217 code (USD, EUR, JPY…); amounts take its decimals
    #[arg(long, value_name = "CODE")]
    currency: String,
    /// 4–34 characters A–Z 0–9 (default: 16 generated digits with a Luhn check digit)
    #[arg(long)]
    number: Option<String>,
    /// How far below zero a checking or savings account may go (default 0)
    #[arg(
        long = "overdraft-limit",
        value_name = "AMOUNT",
        allow_hyphen_values = true
    )]
    overdraft_limit: Option<String>,
    /// How far below zero a credit account may go (required for credit accounts)
    #[arg(
        long = "credit-limit",
        value_name = "AMOUNT",
        allow_hyphen_values = true
    )]
    credit_limit: Option<String>,
    /// Deposit this amount right after opening, through --via
    #[arg(
        long = "initial-deposit",
        value_name = "AMOUNT",
        requires = "via",
        allow_hyphen_values = true
    )]
    initial_deposit: Option<String>,
    /// Settlement account the initial deposit comes through
    #[arg(long, value_name = "SETTLEMENT", requires = "initial_deposit")]
    via: Option<String>,
    #[command(flatten)]
    identifiers: IdentifierArgs,
}

/// The bank's identifiers of a settlement account.
#[derive(Debug, Args)]
pub(crate) struct IdentifierArgs {
    /// Settlement accounts: the account's IBAN (spaces allowed; validated, stored upper case without spaces)
    #[arg(long)]
    iban: Option<String>,
    /// Settlement accounts: the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)
    #[arg(long = "bank-account")]
    bank_account: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("change").required(true).multiple(true).args(["iban", "clear_iban", "bank_account", "clear_bank_account"])))]
pub(crate) struct UpdateArgs {
    /// The settlement account number
    number: String,
    /// Record this IBAN (spaces allowed; validated, stored upper case without spaces)
    #[arg(long, conflicts_with = "clear_iban")]
    iban: Option<String>,
    /// Remove the recorded IBAN
    #[arg(long = "clear-iban")]
    clear_iban: bool,
    /// Record the account as the bank writes it in MT940 `:25:` or camt `Othr/Id` (≤ 35 characters)
    #[arg(long = "bank-account", conflicts_with = "clear_bank_account")]
    bank_account: Option<String>,
    /// Remove the recorded bank account string
    #[arg(long = "clear-bank-account")]
    clear_bank_account: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only accounts with this status
    #[arg(long, value_parser = super::options::account_statuses())]
    status: Option<String>,
    /// Only accounts of this type
    #[arg(long = "type", value_name = "TYPE", value_parser = super::options::account_types())]
    account_type: Option<String>,
    /// Only accounts in this currency (ISO 4217 code)
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Case-insensitive substring of the holder name
    #[arg(long)]
    holder: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ReasonArgs {
    /// The account number
    number: String,
    /// Why, recorded on the audit event
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct StatementArgs {
    /// The account number
    number: String,
    /// First day (YYYY-MM-DD, today, yesterday, -7d) or instant (RFC 3339)
    #[arg(long, value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    from: Option<String>,
    /// Last day (inclusive) or instant
    #[arg(long, value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    to: Option<String>,
}

impl AccountCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            AccountCommand::Open(_) => "open",
            AccountCommand::Show { .. } => "show",
            AccountCommand::List(_) => "list",
            AccountCommand::Freeze(_) => "freeze",
            AccountCommand::Unfreeze(_) => "unfreeze",
            AccountCommand::Close { .. } => "close",
            AccountCommand::Statement(_) => "statement",
            AccountCommand::Import { .. } => "import",
            AccountCommand::Update(_) => "update",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            AccountCommand::Open(arguments) => open(context, arguments).await,
            AccountCommand::Show { number, as_of } => {
                show(context, &number, as_of.as_deref()).await
            }
            AccountCommand::List(arguments) => list(context, arguments).await,
            AccountCommand::Freeze(arguments) => {
                change(context, arguments, StatusChange::Freeze).await
            }
            AccountCommand::Unfreeze(arguments) => {
                change(context, arguments, StatusChange::Unfreeze).await
            }
            AccountCommand::Close { number } => {
                change(
                    context,
                    ReasonArgs {
                        number,
                        reason: String::new(),
                    },
                    StatusChange::Close,
                )
                .await
            }
            AccountCommand::Statement(arguments) => statement(context, arguments).await,
            AccountCommand::Import { file } => import(context, &file).await,
            AccountCommand::Update(arguments) => update(context, arguments).await,
        }
    }
}

fn one_account(account: &crate::model::Account) -> Output {
    Output::view(account_view(AccountView::from(account)))
}

/// One account: its JSON, and a one-row table with its bank identifiers when it has any.
fn account_view(account: AccountView) -> View {
    let json = to_json(&account);
    let section = if account.has_identifiers() {
        Section::of_record(&AccountDetailView(account))
    } else {
        Section::of_record(&account)
    };
    View::new(json, vec![section])
}

fn iban_argument(flag: &str, text: &str) -> AppResult<String> {
    bank_identifiers::validate_iban(text).map_err(|error| error.context(flag))
}

fn bank_account_argument(flag: &str, text: &str) -> AppResult<String> {
    bank_identifiers::validate_bank_account(text).map_err(|error| error.context(flag))
}

fn identifiers_request(arguments: &IdentifierArgs) -> AppResult<BankIdentifiers> {
    Ok(BankIdentifiers {
        iban: arguments
            .iban
            .as_deref()
            .map(|text| iban_argument("--iban", text))
            .transpose()?,
        bank_account: arguments
            .bank_account
            .as_deref()
            .map(|text| bank_account_argument("--bank-account", text))
            .transpose()?,
    })
}

fn open_request(arguments: &OpenArgs) -> AppResult<OpenRequest> {
    let account_type: AccountType = arguments
        .account_type
        .parse()
        .map_err(|e: AppError| e.context("--type"))?;
    let currency = Currency::parse(&arguments.currency).map_err(|e| e.context("--currency"))?;
    let limit = |flag: &str, value: &Option<String>| -> AppResult<i64> {
        value.as_deref().map_or(Ok(0), |text| {
            currency
                .parse_non_negative(text)
                .map_err(|e| e.context(flag))
        })
    };
    let overdraft_limit_minor = match account_type {
        AccountType::Credit => {
            if arguments.credit_limit.is_none() {
                return Err(AppError::usage(
                    "--credit-limit is required for credit accounts",
                ));
            }
            limit("--credit-limit", &arguments.credit_limit)?
        }
        _ => limit("--overdraft-limit", &arguments.overdraft_limit)?,
    };
    let initial_deposit = match (&arguments.initial_deposit, &arguments.via) {
        (Some(amount), Some(via)) => Some((
            currency
                .parse_positive(amount)
                .map_err(|e| e.context("--initial-deposit"))?,
            account_argument("--via", via)?,
        )),
        _ => None,
    };
    Ok(OpenRequest {
        holder: accounts::validate_holder(&arguments.holder).map_err(|e| e.context("--holder"))?,
        account_type,
        currency,
        number: arguments
            .number
            .as_deref()
            .map(|n| account_argument("--number", n))
            .transpose()?,
        overdraft_limit_minor,
        initial_deposit,
        identifiers: identifiers_request(&arguments.identifiers)?,
    })
}

async fn open(context: &Context, arguments: OpenArgs) -> AppResult<Output> {
    let request = open_request(&arguments)?;
    let store = context.store().await?;
    let account = accounts::open(store, &context.actor, &request).await?;
    let account = store.account(&account.number).await?.unwrap_or(account);
    Ok(one_account(&account))
}

async fn show(context: &Context, number: &str, as_of: Option<&str>) -> AppResult<Output> {
    let number = account_argument("NUMBER", number)?;
    let as_of_us = as_of
        .map(clock::parse_date_or_instant_end)
        .transpose()
        .map_err(|e| e.context("--as-of"))?;
    let store = context.store().await?;
    let mut account = store
        .account(&number)
        .await?
        .ok_or_else(|| account_not_found(&number))?;
    let Some(as_of_us) = as_of_us else {
        return Ok(one_account(&account));
    };
    // The statement's closing balance to the same instant: entries up to and including it.
    let entries = store
        .entry_sum_between(&number, i64::MIN, as_of_us.saturating_add(1))
        .await?;
    account.balance_minor = account.balance_effect(entries);
    let as_of = clock::format_instant(as_of_us);
    let view = AccountView::from(&account).read_at(as_of.clone());
    Ok(Output::view(
        account_view(view).with_note(format!("balance as of {as_of}")),
    ))
}

async fn list(context: &Context, arguments: ListArgs) -> AppResult<Output> {
    let filter = AccountFilter {
        status: arguments
            .status
            .map(|s| {
                s.parse::<AccountStatus>()
                    .map(|s| s.as_str().to_string())
                    .map_err(|e| e.context("--status"))
            })
            .transpose()?,
        account_type: arguments
            .account_type
            .map(|t| {
                t.parse::<AccountType>()
                    .map(|t| t.as_str().to_string())
                    .map_err(|e| e.context("--type"))
            })
            .transpose()?,
        currency: arguments
            .currency
            .map(|c| {
                Currency::parse(&c)
                    .map(|c| c.code().to_string())
                    .map_err(|e| e.context("--currency"))
            })
            .transpose()?,
        holder: arguments.holder,
    };
    let accounts = context.store().await?.list_accounts(&filter).await?;
    let accounts: Vec<AccountView> = accounts.iter().map(AccountView::from).collect();
    Ok(Output::view(View::of_records(
        &accounts,
        context.global.format,
    )))
}

async fn change(
    context: &Context,
    arguments: ReasonArgs,
    change: StatusChange,
) -> AppResult<Output> {
    let number = account_argument("NUMBER", &arguments.number)?;
    if change != StatusChange::Close && arguments.reason.trim().is_empty() {
        return Err(AppError::usage("--reason must not be empty"));
    }
    let store = context.store().await?;
    let account = accounts::change_status(
        store,
        &context.actor,
        &number,
        change,
        arguments.reason.trim(),
    )
    .await?;
    Ok(one_account(&account))
}

async fn update(context: &Context, arguments: UpdateArgs) -> AppResult<Output> {
    let number = account_argument("NUMBER", &arguments.number)?;
    let change = |value: &Option<String>,
                  clear: bool,
                  check: &dyn Fn(&str) -> AppResult<String>| match (value, clear) {
        (Some(text), _) => check(text).map(Change::Set),
        (None, true) => Ok(Change::Clear),
        (None, false) => Ok(Change::Keep),
    };
    let request = UpdateRequest {
        iban: change(&arguments.iban, arguments.clear_iban, &|text| {
            iban_argument("--iban", text)
        })?,
        bank_account: change(
            &arguments.bank_account,
            arguments.clear_bank_account,
            &|text| bank_account_argument("--bank-account", text),
        )?,
        number,
    };
    let store = context.store().await?;
    let outcome = accounts::update(store, &context.actor, &request).await?;
    let number = &outcome.account.number;
    let note = if outcome.updated {
        let show = |identifiers: &BankIdentifiers| identifiers.describe();
        format!(
            "account {number} updated: {} → {}",
            show(&outcome.before),
            show(&outcome.account.identifiers)
        )
    } else {
        format!("account {number} already has these identifiers; nothing was written")
    };
    let account = AccountView::from(&outcome.account);
    let json = to_json(&UpdatedAccountView {
        account: AccountView::from(&outcome.account),
        updated: outcome.updated,
    });
    let mut view = account_view(account).with_note(note);
    view.json = json;
    let output = Output::view(view);
    Ok(if outcome.updated {
        output.committed(format!("account {number} was updated"))
    } else {
        output
    })
}

/// `account update`: the account as it now is, and whether anything was written (`false`
/// when it already had the identifiers asked for).
#[derive(Serialize)]
struct UpdatedAccountView {
    #[serde(flatten)]
    account: AccountView,
    updated: bool,
}

/// `account statement` as JSON: the account, its opening and closing balance, the entries.
#[derive(Serialize)]
struct StatementView {
    account: String,
    currency: String,
    opening_balance: String,
    closing_balance: String,
    entries: Vec<StatementLineView>,
}

/// One entry of a statement with the running balance after it.
#[derive(Serialize)]
struct StatementLineView {
    at: String,
    transfer_id: i64,
    kind: String,
    counterparty: String,
    reference: String,
    description: String,
    /// Empty on a credit.
    debit: String,
    /// Empty on a debit.
    credit: String,
    balance: String,
}

impl Record for StatementLineView {
    const COLUMNS: &'static [Column<StatementLineView>] = &[
        Column::field("at"),
        Column::field("transfer_id"),
        Column::field("kind"),
        Column::field("counterparty"),
        Column::field("reference"),
        Column::field("description"),
        Column::field("debit"),
        Column::field("credit"),
        Column::field("balance"),
    ];
}

async fn statement(context: &Context, arguments: StatementArgs) -> AppResult<Output> {
    let number = account_argument("NUMBER", &arguments.number)?;
    let from_us = arguments
        .from
        .as_deref()
        .map(clock::parse_date_or_instant)
        .transpose()
        .map_err(|e| e.context("--from"))?;
    let to_us = arguments
        .to
        .as_deref()
        .map(clock::parse_date_or_instant_end)
        .transpose()
        .map_err(|e| e.context("--to"))?;
    let store = context.store().await?;
    let account = store
        .account(&number)
        .await?
        .ok_or_else(|| account_not_found(&number))?;
    let from_us = from_us.unwrap_or(i64::MIN);
    let opening_entries = if from_us == i64::MIN {
        0
    } else {
        store.entry_sum_before(&number, from_us).await?
    };
    let lines = store
        .statement_lines(&number, from_us, to_us.unwrap_or(i64::MAX))
        .await?;
    let currency = account.currency;
    let mut balance = account.balance_effect(opening_entries);
    let opening = balance;
    let mut entries = Vec::with_capacity(lines.len());
    for line in &lines {
        balance += account.balance_effect(line.entry_minor);
        let (debit, credit) = if line.entry_minor > 0 {
            (currency.format(line.entry_minor), String::new())
        } else {
            (String::new(), currency.format(-line.entry_minor))
        };
        entries.push(StatementLineView {
            at: clock::format_instant(line.at_us),
            transfer_id: line.transfer_id,
            kind: line.kind.clone(),
            counterparty: line.counterparty.clone(),
            reference: line.reference.clone(),
            description: line.description.clone(),
            debit,
            credit,
            balance: currency.format(balance),
        });
    }
    let sections = if context.global.format.prints_sections() {
        let title = format!("Statement of {} ({currency})", account.number);
        vec![Section::of_records(&entries).titled(title)]
    } else {
        Vec::new()
    };
    let json = to_json(&StatementView {
        account: account.number.clone(),
        currency: currency.code().to_string(),
        opening_balance: format_minor(opening, currency.minor_units()),
        closing_balance: format_minor(balance, currency.minor_units()),
        entries,
    });
    let view = View::new(json, sections).with_note(format!(
        "opening {}  closing {}",
        currency.format(opening),
        currency.format(balance)
    ));
    Ok(Output::view(view))
}

pub(super) async fn import_for_demo(
    context: &Context,
    file: &std::path::Path,
) -> AppResult<Output> {
    import(context, file).await
}

async fn import(context: &Context, file: &std::path::Path) -> AppResult<Output> {
    let rows = account_import::read_rows(file)?;
    let store = context.store().await?;
    let spinner = if context.progress_enabled() {
        super::progress::transaction_spinner(rows.len())
    } else {
        indicatif::ProgressBar::hidden()
    };
    let imported = accounts::import(store, &context.actor, &rows).await;
    let elapsed = spinner.elapsed();
    let shown = !spinner.is_hidden();
    spinner.finish_and_clear();
    let summary = imported?;
    if shown {
        crate::stderr_line!(
            "{}",
            super::progress::import_summary_line(
                summary.rows as u64,
                elapsed,
                &format!(
                    "{} created, {} unchanged",
                    summary.created, summary.unchanged
                ),
            )
        );
    }
    let summary = ImportView {
        rows: summary.rows,
        created: summary.created,
        unchanged: summary.unchanged,
        numbers: summary.numbers,
    };
    Ok(Output::view(View::new(
        to_json(&summary),
        vec![Section::of_fields(&summary)],
    )))
}

/// `account import`: how many rows, how many accounts were created or already there, and
/// every row's account number (tables show the counts only).
#[derive(Serialize)]
struct ImportView {
    rows: usize,
    created: usize,
    unchanged: usize,
    numbers: Vec<String>,
}

impl Record for ImportView {
    const COLUMNS: &'static [Column<ImportView>] = &[
        Column::field("rows"),
        Column::field("created"),
        Column::field("unchanged"),
    ];
}
