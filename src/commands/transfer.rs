//! `fincore transfer …`

use super::present::TransferView;
pub(super) use super::transfer_import::import_for_demo;
use super::transfer_import::{import, ImportArgs};
use super::transfer_list::{list, ListArgs};
use super::{account_argument, Context, Output};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::model::{Transfer, TransferKind};
use crate::model::{TransferRequest, TEXT_LENGTH_MAX};
use crate::money::Currency;
use crate::output::{to_json, Section, View};
use crate::service::post::{self, require_settlement, PostResult};
use crate::service::risk_rules::RiskOptions;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub(crate) enum TransferCommand {
    /// Post a transfer: debit --from, credit --to
    Post(PostArgs),
    /// Money in through a settlement account (debits the settlement account)
    Deposit {
        /// The customer account credited
        #[arg(long)]
        to: String,
        #[command(flatten)]
        cash: CashArgs,
    },
    /// Money out through a settlement account (credits the settlement account)
    Withdraw {
        /// The customer account debited
        #[arg(long)]
        from: String,
        #[command(flatten)]
        cash: CashArgs,
    },
    /// Post every row of CSV `key,from,to,amount,currency,at,reference,description`
    Import(ImportArgs),
    /// Show one transfer by id or idempotency key
    Show {
        /// The transfer's id, or the idempotency key it was posted with
        id_or_key: String,
    },
    /// List transfers
    List(ListArgs),
    /// Post the opposite transfer, linked to the original (once only)
    Reverse {
        /// The id of the transfer to reverse
        id: i64,
        /// Why, recorded on the reversal and its audit event
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PostArgs {
    /// The account debited (money leaves it)
    #[arg(long, value_name = "NUMBER")]
    from: String,
    /// The account credited (money arrives)
    #[arg(long, value_name = "NUMBER")]
    to: String,
    /// Decimal amount with at most the currency's decimals (25.00; never rounded)
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: String,
    /// ISO 4217 code; both accounts must hold it
    #[arg(long, value_name = "CODE")]
    currency: String,
    #[command(flatten)]
    details: Details,
    #[command(flatten)]
    risk: RulesArg,
}

/// `--rules FILE`: assess with this rules file instead of the database's active set.
#[derive(Debug, Args, Default)]
pub(crate) struct RulesArg {
    /// Risk rules TOML file to assess with (default: the active set from `risk rules import`, else built-in)
    #[arg(long = "rules", value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
}

impl RulesArg {
    pub(crate) fn options(&self) -> AppResult<RiskOptions> {
        RiskOptions::from_file(self.rules.as_deref()).map_err(|error| error.context("--rules"))
    }
}

#[derive(Debug, Args)]
pub(crate) struct CashArgs {
    /// Decimal amount in the customer account's currency (at most its decimals)
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    amount: String,
    /// Settlement account the cash moves through
    #[arg(long)]
    via: String,
    #[command(flatten)]
    details: Details,
    #[command(flatten)]
    risk: RulesArg,
}

/// The flags every posting command shares (`post`, `deposit`, `withdraw`): one definition, so
/// they mean the same on each.
#[derive(Debug, Args)]
pub(crate) struct Details {
    /// Idempotency key: the same key and payload returns the original transfer
    #[arg(long)]
    key: Option<String>,
    /// Your reference (an invoice number); reconciliation matches the bank's on it
    #[arg(long, value_name = "TEXT")]
    reference: Option<String>,
    /// Free text shown on statements
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Booking instant (RFC 3339); default now
    #[arg(long)]
    at: Option<String>,
}

/// `Details` read by the shared validators (`crate::input`), as an import row's fields are.
struct ValidDetails {
    key: Option<String>,
    reference: String,
    description: String,
    at_us: Option<i64>,
}

impl Details {
    /// The key, reference, description and instant, validated (exit 4 naming the flag).
    fn validated(&self) -> AppResult<ValidDetails> {
        let text = |flag: &str, value: &Option<String>| {
            input::text(value.as_deref().unwrap_or(""), TEXT_LENGTH_MAX)
                .map_err(|e| e.context(flag))
        };
        Ok(ValidDetails {
            key: self
                .key
                .as_deref()
                .map(input::key)
                .transpose()
                .map_err(|e| e.context("--key"))?,
            reference: text("--reference", &self.reference)?,
            description: text("--description", &self.description)?,
            at_us: self
                .at
                .as_deref()
                .map(clock::parse_instant)
                .transpose()
                .map_err(|e| e.context("--at"))?,
        })
    }
}

impl TransferCommand {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            TransferCommand::Post(_) => "post",
            TransferCommand::Deposit { .. } => "deposit",
            TransferCommand::Withdraw { .. } => "withdraw",
            TransferCommand::Import(_) => "import",
            TransferCommand::Show { .. } => "show",
            TransferCommand::List(_) => "list",
            TransferCommand::Reverse { .. } => "reverse",
        }
    }

    pub(crate) async fn run(self, context: &Context) -> AppResult<Output> {
        match self {
            TransferCommand::Post(arguments) => post_transfer(context, arguments).await,
            TransferCommand::Deposit {
                to,
                cash: arguments,
            } => cash(context, &to, arguments, TransferKind::Deposit).await,
            TransferCommand::Withdraw {
                from,
                cash: arguments,
            } => cash(context, &from, arguments, TransferKind::Withdrawal).await,
            TransferCommand::Import(arguments) => import(context, arguments).await,
            TransferCommand::Show { id_or_key } => show(context, &id_or_key).await,
            TransferCommand::List(arguments) => list(context, arguments).await,
            TransferCommand::Reverse { id, reason } => reverse(context, id, &reason).await,
        }
    }
}

fn one_transfer(transfer: &Transfer, replayed: bool) -> Output {
    let transfer = TransferView::new(transfer, replayed);
    let view = View::new(to_json(&transfer), vec![Section::of_record(&transfer)]);
    if replayed {
        return Output::view(
            view.with_note("replayed: this key was already used with the same payload"),
        );
    }
    Output::view(view)
}

/// A posted (or replayed) transfer, saying what was committed.
fn posted(transfer: &Transfer, replayed: bool) -> Output {
    let sentence = if replayed {
        format!(
            "transfer {} was already recorded under this key (replayed, nothing new written)",
            transfer.id
        )
    } else {
        format!("transfer {} was {}", transfer.id, transfer.status.as_str())
    };
    one_transfer(transfer, replayed).committed(sentence)
}

async fn post_transfer(context: &Context, arguments: PostArgs) -> AppResult<Output> {
    let currency = Currency::parse(&arguments.currency).map_err(|e| e.context("--currency"))?;
    let details = arguments.details.validated()?;
    let request = TransferRequest {
        kind: TransferKind::Transfer,
        key: details.key,
        from: account_argument("--from", &arguments.from)?,
        to: account_argument("--to", &arguments.to)?,
        amount_minor: currency
            .parse_positive(&arguments.amount)
            .map_err(|e| e.context("--amount"))?,
        currency,
        reference: details.reference,
        description: details.description,
        at_us: details.at_us,
        reverses_id: None,
    };
    let risk = arguments.risk.options()?;
    let store = context.store().await?;
    let PostResult { transfer, replayed } =
        post::post(store, &context.actor, &request, &risk).await?;
    Ok(posted(&transfer, replayed))
}

async fn cash(
    context: &Context,
    customer: &str,
    arguments: CashArgs,
    kind: TransferKind,
) -> AppResult<Output> {
    let flag = if kind == TransferKind::Deposit {
        "--to"
    } else {
        "--from"
    };
    let customer = account_argument(flag, customer)?;
    let via = account_argument("--via", &arguments.via)?;
    // Every flag that needs no account is checked before the database is opened.
    let details = arguments.details.validated()?;
    let risk = arguments.risk.options()?;
    let store = context.store().await?;
    let settlement = require_settlement(store, &via).await?;
    let currency = match store.account(&customer).await? {
        Some(account) => account.currency,
        None => return Err(crate::ledger::account_not_found(&customer).context(flag)),
    };
    let (from, to) = if kind == TransferKind::Deposit {
        (settlement.number, customer)
    } else {
        (customer, settlement.number)
    };
    let request = TransferRequest {
        kind,
        key: details.key,
        from,
        to,
        amount_minor: currency
            .parse_positive(&arguments.amount)
            .map_err(|e| e.context("--amount"))?,
        currency,
        reference: details.reference,
        description: details.description,
        at_us: details.at_us,
        reverses_id: None,
    };
    let PostResult { transfer, replayed } =
        post::post(store, &context.actor, &request, &risk).await?;
    Ok(posted(&transfer, replayed))
}

async fn show(context: &Context, id_or_key: &str) -> AppResult<Output> {
    // Keys are stored trimmed (`input::key`); look them up the same way.
    let id_or_key = crate::text::trim(id_or_key);
    let store = context.store().await?;
    let by_id = match id_or_key.parse::<i64>() {
        Ok(id) => store.transfer(id).await?,
        Err(_) => None,
    };
    let transfer = match by_id {
        Some(transfer) => transfer,
        None => store.transfer_by_key(id_or_key).await?.ok_or_else(|| {
            AppError::not_found(format!("no transfer with id or key '{id_or_key}'"))
        })?,
    };
    let reversal = store
        .reversals_of(&[transfer.id])
        .await?
        .first()
        .map(|pair| pair.1);
    let view = TransferView::new(&transfer, false).with_reversed_by(reversal);
    Ok(Output::view(View::new(
        to_json(&view),
        vec![Section::of_record(&view)],
    )))
}

async fn reverse(context: &Context, id: i64, reason: &str) -> AppResult<Output> {
    if reason.trim().is_empty() {
        return Err(AppError::usage("--reason must not be empty"));
    }
    let store = context.store().await?;
    let reversal = post::reverse(store, &context.actor, id, reason.trim()).await?;
    Ok(posted(&reversal, false).committed(format!(
        "transfer {} was posted, reversing transfer {id}",
        reversal.id
    )))
}
