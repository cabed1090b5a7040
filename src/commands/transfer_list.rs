//! `fincore transfer list`: newest first, filtered, with a footer when rows are left out, or
//! every row streamed with `--all`.

use super::lists::{self, Paging, RecordStream, Rows, STREAM_PAGE_ROWS};
use super::options::{transfer_kinds, transfer_statuses};
use super::present::TransferView;
use super::{account_argument, Context, Output};
use crate::error::{AppError, AppResult};
use crate::model::{Transfer, TransferKind, TransferStatus};
use crate::money::Currency;
use crate::output::View;
use crate::store::{Store, TransferCursor, TransferFilter};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only transfers debiting or crediting this account
    #[arg(long, value_name = "NUMBER")]
    account: Option<String>,
    /// Booked at or after this instant (RFC 3339) or date (YYYY-MM-DD, today, yesterday, -7d)
    #[arg(long, visible_alias = "since", value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    from: Option<String>,
    /// Booked at or before this instant or date (a date covers its whole day)
    #[arg(long, visible_alias = "until", value_name = "WHEN", value_parser = super::options::When, allow_hyphen_values = true)]
    to: Option<String>,
    /// Only transfers with this status
    #[arg(long, value_parser = transfer_statuses())]
    status: Option<String>,
    /// Only transfers of this kind
    #[arg(long, value_parser = transfer_kinds())]
    kind: Option<String>,
    /// Only transfers in this currency (ISO 4217 code)
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Only transfers of at least this amount, in each transfer's own currency
    #[arg(long = "min-amount", value_name = "AMOUNT", allow_hyphen_values = true)]
    min_amount: Option<String>,
    #[command(flatten)]
    paging: Paging,
}

pub(super) async fn list(context: &Context, arguments: ListArgs) -> AppResult<Output> {
    let rows = arguments.paging.rows()?;
    let (from_us, to_us) = super::period(arguments.from.as_deref(), arguments.to.as_deref())?;
    let currency = arguments
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()
        .map_err(|error| error.context("--currency"))?;
    let minimum = arguments
        .min_amount
        .as_deref()
        .map(MinimumAmount::parse)
        .transpose()
        .map_err(|error| error.context("--min-amount"))?;
    let account = arguments
        .account
        .as_deref()
        .map(|number| account_argument("--account", number))
        .transpose()?;
    let status = parsed::<TransferStatus>("--status", arguments.status.as_deref())?;
    let kind = parsed::<TransferKind>("--kind", arguments.kind.as_deref())?;
    let store = context.store().await?;
    let min_amount_minor = match minimum {
        Some(minimum) => Some(minimum.per_currency(&store.account_currencies().await?)),
        None => None,
    };
    let mut filter = TransferFilter {
        account,
        from_us,
        to_us,
        status,
        kind,
        currency: currency.map(|currency| currency.code().to_string()),
        min_amount_minor,
        limit: STREAM_PAGE_ROWS,
    };
    match rows {
        Rows::All => match RecordStream::new(context.global.format) {
            Some(stream) => lists::streamed(stream_all(store, &mut filter, stream).await?),
            None => {
                let transfers = read_all(store, &mut filter).await?;
                page_view(context, store, &transfers, None).await
            }
        },
        Rows::AtMost(limit) => {
            filter.limit = limit;
            let transfers = store.list_transfers(&filter, None).await?;
            let total = if transfers.len() as i64 == limit {
                store.count_transfers(&filter).await?
            } else {
                transfers.len() as i64
            };
            let footer = lists::truncation_footer(transfers.len(), total);
            page_view(context, store, &transfers, footer).await
        }
    }
}

/// A listed flag's value read by the model's parser (exit 4 naming the flag), as stored.
fn parsed<T>(flag: &str, text: Option<&str>) -> AppResult<Option<String>>
where
    T: std::str::FromStr<Err = AppError> + std::fmt::Display,
{
    text.map(|text| {
        text.parse::<T>()
            .map(|value| value.to_string())
            .map_err(|error| error.context(flag))
    })
    .transpose()
}

/// One page of transfers as a view, with the reversals that link them.
async fn page_view(
    context: &Context,
    store: &Store,
    transfers: &[Transfer],
    footer: Option<String>,
) -> AppResult<Output> {
    let views = with_reversals(store, transfers).await?;
    let view = View::of_records(&views, context.global.format);
    Ok(lists::with_footer(context, view, footer))
}

async fn with_reversals(store: &Store, transfers: &[Transfer]) -> AppResult<Vec<TransferView>> {
    let ids: Vec<i64> = transfers.iter().map(|transfer| transfer.id).collect();
    let reversals = store.reversals_of(&ids).await?;
    Ok(TransferView::list(transfers, &reversals))
}

/// The cursor after the last transfer of a page; `None` when the page was the last.
fn next_cursor(page: &[Transfer], page_rows: i64) -> Option<TransferCursor> {
    let last = page.last()?;
    (page.len() as i64 == page_rows).then_some(TransferCursor {
        at_us: last.at_us,
        id: last.id,
    })
}

/// Every matching transfer written page by page. A database error is the command's error;
/// a write error is handed back for `lists::streamed`.
async fn stream_all(
    store: &Store,
    filter: &mut TransferFilter,
    mut stream: RecordStream,
) -> AppResult<std::io::Result<()>> {
    let mut cursor = None;
    loop {
        let page = store.list_transfers(filter, cursor).await?;
        let views = with_reversals(store, &page).await?;
        if let Err(error) = stream.page(&views) {
            return Ok(Err(error));
        }
        cursor = next_cursor(&page, filter.limit);
        if cursor.is_none() {
            return Ok(stream.finish::<TransferView>());
        }
    }
}

/// Every matching transfer in memory (a table sizes its columns from all rows).
async fn read_all(store: &Store, filter: &mut TransferFilter) -> AppResult<Vec<Transfer>> {
    let mut transfers = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_transfers(filter, cursor).await?;
        cursor = next_cursor(&page, filter.limit);
        transfers.extend(page);
        if cursor.is_none() {
            return Ok(transfers);
        }
    }
}

/// `--min-amount`: a non-negative decimal, read exactly as `digits / 10^decimals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MinimumAmount {
    digits: i64,
    decimals: u32,
}

impl MinimumAmount {
    fn parse(text: &str) -> AppResult<MinimumAmount> {
        let text = crate::text::trim(text);
        let decimals = text
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len());
        let decimals = u32::try_from(decimals)
            .ok()
            .filter(|decimals| *decimals <= 18)
            .ok_or_else(|| AppError::invalid_input(format!("'{text}' has too many decimals")))?;
        let digits = crate::money::parse_minor(text, decimals)?;
        if digits < 0 {
            return Err(AppError::invalid_input(format!(
                "'{text}' is negative; give the smallest amount to list"
            )));
        }
        Ok(MinimumAmount { digits, decimals })
    }

    /// The smallest amount in minor units that is at least this one in a currency with
    /// `minor_units` decimals (rounded up: 0.005 USD lists from 0.01).
    fn minor_at_least(self, minor_units: u32) -> i64 {
        if minor_units >= self.decimals {
            10i64
                .checked_pow(minor_units - self.decimals)
                .and_then(|factor| self.digits.checked_mul(factor))
                .unwrap_or(i64::MAX)
        } else {
            let divisor = 10i64.pow(self.decimals - minor_units);
            self.digits / divisor + i64::from(self.digits % divisor != 0)
        }
    }

    fn per_currency(self, currencies: &[String]) -> Vec<(String, i64)> {
        currencies
            .iter()
            .filter_map(|code| Currency::parse(code).ok())
            .map(|currency| {
                let minimum = self.minor_at_least(currency.minor_units());
                (currency.code().to_string(), minimum)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_amounts_round_up_to_the_currency() {
        let minimum = MinimumAmount::parse("100.005").unwrap();
        assert_eq!(minimum.minor_at_least(2), 10_001);
        assert_eq!(minimum.minor_at_least(0), 101);
        assert_eq!(minimum.minor_at_least(3), 100_005);
        let whole = MinimumAmount::parse("50").unwrap();
        assert_eq!(whole.minor_at_least(2), 5_000);
        assert_eq!(whole.minor_at_least(0), 50);
        assert_eq!(MinimumAmount::parse("0").unwrap().minor_at_least(2), 0);
    }

    #[test]
    fn minimum_amounts_refuse_what_is_not_an_amount() {
        for text in ["-1", "abc", "1e3", "", "1,000"] {
            assert!(MinimumAmount::parse(text).is_err(), "{text}");
        }
    }
}
