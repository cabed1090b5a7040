//! Currency transaction reports: cash-in and cash-out per holder per UTC day per currency,
//! each side summed separately, reported when either sum is strictly over the threshold.

use super::mask::mask_unless;
use super::{
    serialize_currency, utc_day, utc_day_of_date, utc_day_text, AccountFact, Amount, AmountTable,
    HolderIds, ResolvedFacts, TransferFact, FROM_SIDE, TO_SIDE,
};
use crate::error::AppResult;
use crate::model::TransferKind;
use crate::money::Currency;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// SPEC default reporting threshold, read in each currency's own units (10,000.00 USD,
/// 10,000 JPY): the CLI's `--ctr-threshold` replaces it, per-currency overrides beat both.
pub const DEFAULT_CTR_THRESHOLD: &str = "10000";

/// Threshold settings shared by CTR and structuring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtrParams {
    /// Per-currency thresholds in minor units; win over `default_threshold`.
    pub(crate) threshold_minor_by_currency: HashMap<Currency, i64>,
    /// Decimal threshold applied in any currency without an override (default `"10000"`).
    pub(crate) default_threshold: String,
}

impl Default for CtrParams {
    fn default() -> CtrParams {
        CtrParams {
            threshold_minor_by_currency: HashMap::new(),
            default_threshold: DEFAULT_CTR_THRESHOLD.to_string(),
        }
    }
}

impl CtrParams {
    pub(super) fn thresholds(&self) -> AmountTable<'_> {
        AmountTable::new(
            &self.default_threshold,
            Some(&self.threshold_minor_by_currency),
        )
    }
}

/// One holder's cash on one UTC day in one currency, at least one side over the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CtrFinding {
    pub(crate) holder: String,
    /// UTC day, `YYYY-MM-DD`.
    pub(crate) date: String,
    #[serde(serialize_with = "serialize_currency")]
    pub(crate) currency: Currency,
    pub(crate) threshold: Amount,
    pub(crate) cash_in: Amount,
    pub(crate) cash_out: Amount,
    /// Which side is strictly over the threshold (one or both).
    pub(crate) cash_in_over: bool,
    pub(crate) cash_out_over: bool,
    pub(crate) cash_in_transfer_ids: Vec<i64>,
    pub(crate) cash_out_transfer_ids: Vec<i64>,
    /// The holder's customer accounts that moved cash that day (raw until `masked`).
    pub(crate) accounts: Vec<String>,
}

impl CtrFinding {
    pub(crate) fn masked(mut self, unmask: bool) -> CtrFinding {
        self.accounts = self
            .accounts
            .into_iter()
            .map(|number| mask_unless(number, unmask))
            .collect();
        self
    }
}

/// One cash transfer reduced to what grouping needs. `key` packs holder id, UTC day,
/// currency slot and transfer index, most significant first, so sorting makes each run of
/// equal (holder, day, currency) one group: no per-group allocation for the many groups that
/// stay under the threshold, and sums never go back to the (large, randomly accessed)
/// transfer records.
#[derive(Clone, Copy)]
struct CashRow {
    key: u128,
    amount_minor: i64,
    is_cash_in: bool,
}

/// Days are stored offset so that days before 1970 still sort correctly as unsigned.
const DAY_OFFSET: i64 = 1 << 31;

impl CashRow {
    fn new(
        holder: u32,
        day: i64,
        currency_slot: usize,
        transfer: usize,
        source: &TransferFact,
    ) -> CashRow {
        let day = (day + DAY_OFFSET) as u32;
        let key = (u128::from(holder) << 96)
            | (u128::from(day) << 64)
            | ((currency_slot as u128) << 32)
            | (transfer as u128);
        CashRow {
            key,
            amount_minor: source.amount_minor,
            is_cash_in: source.kind == TransferKind::Deposit,
        }
    }

    /// Holder, day and currency: rows of one group share these bits.
    fn group(&self) -> u128 {
        self.key >> 32
    }

    fn holder(&self) -> u32 {
        (self.key >> 96) as u32
    }

    fn day(&self) -> i64 {
        i64::from((self.key >> 64) as u32) - DAY_OFFSET
    }

    fn currency_slot(&self) -> usize {
        (self.key >> 32) as u32 as usize
    }

    fn transfer(&self) -> usize {
        self.key as u32 as usize
    }
}

/// Cash per holder, UTC day and currency over `from_date..=to_date`; a finding when cash-in
/// or cash-out is strictly over the currency's threshold (exactly the threshold is not).
///
/// Only `Deposit` (cash-in to `to`) and `Withdrawal` (cash-out from `from`) count; reversals
/// are not netted against them, because the cash did cross the counter. Errors only when the
/// threshold cannot be expressed in a currency (`invalid_input`-family codes).
pub fn ctr(
    transfers: &[TransferFact],
    accounts: &[AccountFact],
    params: &CtrParams,
    from_date: chrono::NaiveDate,
    to_date: chrono::NaiveDate,
) -> AppResult<Vec<CtrFinding>> {
    find(
        &ResolvedFacts::new(transfers, accounts),
        params,
        from_date,
        to_date,
    )
}

/// [`ctr`] over an already resolved ledger.
pub(super) fn find(
    ledger: &ResolvedFacts<'_>,
    params: &CtrParams,
    from_date: chrono::NaiveDate,
    to_date: chrono::NaiveDate,
) -> AppResult<Vec<CtrFinding>> {
    let transfers = ledger.transfers;
    let mut holders = HolderIds::new(ledger.accounts);
    let (mut rows, currency_slots) = cash_rows(ledger, &mut holders, from_date, to_date);
    rows.sort_unstable_by_key(|row| row.key);
    let mut thresholds = params.thresholds();
    let threshold_by_slot = currency_slots
        .iter()
        .map(|currency| thresholds.minor(*currency, "CTR threshold").map(i128::from))
        .collect::<AppResult<Vec<i128>>>()?;
    let mut findings = Vec::new();
    for group in rows.chunk_by(|left, right| left.group() == right.group()) {
        let currency = currency_slots[group[0].currency_slot()];
        let threshold_minor = threshold_by_slot[group[0].currency_slot()];
        let (cash_in_minor, cash_out_minor) = sum_sides(group);
        if cash_in_minor > threshold_minor || cash_out_minor > threshold_minor {
            findings.push(finding(
                transfers,
                &holders,
                group,
                currency,
                threshold_minor,
            ));
        }
    }
    findings.sort_by(|left, right| {
        (&left.date, &left.holder, left.currency, &left.accounts).cmp(&(
            &right.date,
            &right.holder,
            right.currency,
            &right.accounts,
        ))
    });
    Ok(findings)
}

fn cash_rows<'a>(
    ledger: &ResolvedFacts<'a>,
    holders: &mut HolderIds<'a>,
    from_date: chrono::NaiveDate,
    to_date: chrono::NaiveDate,
) -> (Vec<CashRow>, Vec<Currency>) {
    let first_day = utc_day_of_date(from_date);
    let last_day = utc_day_of_date(to_date);
    let mut rows = Vec::new();
    // A handful of currencies: a linear search beats hashing.
    let mut currency_slots: Vec<Currency> = Vec::new();
    for (index, transfer) in ledger.transfers.iter().enumerate() {
        let Some((customer, side)) = cash_customer(transfer) else {
            continue;
        };
        let day = utc_day(transfer.at_us);
        if day < first_day || day > last_day {
            continue;
        }
        let currency_slot = match currency_slots.iter().position(|c| *c == transfer.currency) {
            Some(slot) => slot,
            None => {
                currency_slots.push(transfer.currency);
                currency_slots.len() - 1
            }
        };
        let holder = holders.id(ledger.sides[index][side], customer);
        rows.push(CashRow::new(holder, day, currency_slot, index, transfer));
    }
    (rows, currency_slots)
}

/// The customer account of a cash transfer and its side, or none for other kinds.
fn cash_customer(transfer: &TransferFact) -> Option<(&str, usize)> {
    match transfer.kind {
        TransferKind::Deposit => Some((&transfer.to, TO_SIDE)),
        TransferKind::Withdrawal => Some((&transfer.from, FROM_SIDE)),
        _ => None,
    }
}

fn sum_sides(group: &[CashRow]) -> (i128, i128) {
    let mut cash_in_minor = 0i128;
    let mut cash_out_minor = 0i128;
    for row in group {
        if row.is_cash_in {
            cash_in_minor += i128::from(row.amount_minor);
        } else {
            cash_out_minor += i128::from(row.amount_minor);
        }
    }
    (cash_in_minor, cash_out_minor)
}

fn finding(
    transfers: &[TransferFact],
    holders: &HolderIds<'_>,
    group: &[CashRow],
    currency: Currency,
    threshold_minor: i128,
) -> CtrFinding {
    let (cash_in_minor, cash_out_minor) = sum_sides(group);
    let mut cash_in_transfer_ids = Vec::new();
    let mut cash_out_transfer_ids = Vec::new();
    let mut accounts = BTreeSet::new();
    for row in group {
        let transfer = &transfers[row.transfer()];
        accounts.insert(cash_customer(transfer).map_or("", |(number, _)| number));
        if transfer.kind == TransferKind::Deposit {
            cash_in_transfer_ids.push(transfer.id);
        } else {
            cash_out_transfer_ids.push(transfer.id);
        }
    }
    cash_in_transfer_ids.sort_unstable();
    cash_out_transfer_ids.sort_unstable();
    CtrFinding {
        holder: holders.key(group[0].holder()).holder_name(),
        date: utc_day_text(group[0].day()),
        currency,
        threshold: Amount::new(threshold_minor, currency),
        cash_in: Amount::new(cash_in_minor, currency),
        cash_out: Amount::new(cash_out_minor, currency),
        cash_in_over: cash_in_minor > threshold_minor,
        cash_out_over: cash_out_minor > threshold_minor,
        cash_in_transfer_ids,
        cash_out_transfer_ids,
        accounts: accounts.into_iter().map(str::to_string).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::model::TransferKind;

    fn report(transfers: &[TransferFact], accounts: &[AccountFact]) -> Vec<CtrFinding> {
        let period = (date("2026-01-01"), date("2026-12-31"));
        ctr(
            transfers,
            accounts,
            &CtrParams::default(),
            period.0,
            period.1,
        )
        .unwrap()
    }

    fn bank() -> Vec<AccountFact> {
        vec![
            settlement(),
            customer("ACC0000000000001", "Ann Lee"),
            customer("ACC0000000000002", "Ann Lee"),
            customer("ACC0000000000003", "Bob Roe"),
        ]
    }

    #[test]
    fn exactly_the_threshold_is_not_reported() {
        let transfers = [deposit(
            1,
            "ACC0000000000003",
            "10000.00",
            "2026-03-01T10:00:00Z",
        )];
        assert!(report(&transfers, &bank()).is_empty());
    }

    #[test]
    fn one_minor_unit_over_is_reported() {
        let transfers = [deposit(
            1,
            "ACC0000000000003",
            "10000.01",
            "2026-03-01T10:00:00Z",
        )];
        let findings = report(&transfers, &bank());
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!(finding.holder, "Bob Roe");
        assert_eq!(finding.date, "2026-03-01");
        assert_eq!(finding.cash_in.to_string(), "10000.01");
        assert_eq!(finding.threshold.to_string(), "10000.00");
        assert!(finding.cash_in_over && !finding.cash_out_over);
        assert_eq!(finding.cash_in_transfer_ids, vec![1]);
    }

    #[test]
    fn sums_a_holders_accounts_and_keeps_sides_apart() {
        let transfers = [
            deposit(1, "ACC0000000000001", "6000.00", "2026-03-01T09:00:00Z"),
            deposit(2, "ACC0000000000002", "4000.01", "2026-03-01T17:00:00Z"),
            withdrawal(3, "ACC0000000000001", "9000.00", "2026-03-01T18:00:00Z"),
        ];
        let findings = report(&transfers, &bank());
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!(finding.holder, "Ann Lee");
        assert_eq!(finding.cash_in.to_string(), "10000.01");
        assert_eq!(finding.cash_out.to_string(), "9000.00");
        assert_eq!(finding.cash_out_transfer_ids, vec![3]);
        assert_eq!(
            finding.accounts,
            vec!["ACC0000000000001", "ACC0000000000002"]
        );
    }

    #[test]
    fn cash_in_and_out_are_not_netted_or_added() {
        // 6,000 in and 6,000 out: 12,000 of cash moved, but neither side is over.
        let transfers = [
            deposit(1, "ACC0000000000003", "6000.00", "2026-03-01T09:00:00Z"),
            withdrawal(2, "ACC0000000000003", "6000.00", "2026-03-01T10:00:00Z"),
        ];
        assert!(report(&transfers, &bank()).is_empty());
    }

    #[test]
    fn cash_out_alone_is_reported() {
        let transfers = [
            withdrawal(1, "ACC0000000000003", "5000.00", "2026-03-01T09:00:00Z"),
            withdrawal(2, "ACC0000000000003", "5000.01", "2026-03-01T23:59:59Z"),
        ];
        let findings = report(&transfers, &bank());
        assert_eq!(findings.len(), 1);
        assert!(findings[0].cash_out_over && !findings[0].cash_in_over);
        assert_eq!(findings[0].cash_out.to_string(), "10000.01");
    }

    #[test]
    fn utc_days_split_at_midnight() {
        let transfers = [
            deposit(
                1,
                "ACC0000000000003",
                "6000.00",
                "2026-03-01T23:59:59.999999Z",
            ),
            deposit(2, "ACC0000000000003", "6000.00", "2026-03-02T00:00:00Z"),
        ];
        assert!(report(&transfers, &bank()).is_empty());
    }

    #[test]
    fn ignores_non_cash_kinds_and_days_outside_the_period() {
        let transfers = [
            transfer(
                1,
                TransferKind::Transfer,
                "ACC0000000000001",
                "ACC0000000000003",
                "50000.00",
                "2026-03-01T10:00:00Z",
            ),
            deposit(2, "ACC0000000000003", "50000.00", "2025-12-31T23:59:59Z"),
            deposit(3, "ACC0000000000003", "50000.00", "2027-01-01T00:00:00Z"),
        ];
        assert!(report(&transfers, &bank()).is_empty());
    }

    #[test]
    fn threshold_overrides_and_per_currency_parsing() {
        let transfers = [deposit(
            1,
            "ACC0000000000003",
            "500.01",
            "2026-03-01T10:00:00Z",
        )];
        let mut params = CtrParams::default();
        params.threshold_minor_by_currency.insert(usd(), 50_000);
        let findings = ctr(
            &transfers,
            &bank(),
            &params,
            date("2026-03-01"),
            date("2026-03-01"),
        )
        .unwrap();
        assert_eq!(findings[0].threshold.to_string(), "500.00");

        let jpy = Currency::parse("JPY").unwrap();
        let yen = TransferFact {
            currency: jpy,
            amount_minor: 10_001,
            ..transfers[0].clone()
        };
        let findings = ctr(
            std::slice::from_ref(&yen),
            &bank(),
            &CtrParams::default(),
            date("2026-03-01"),
            date("2026-03-01"),
        )
        .unwrap();
        assert_eq!(findings[0].cash_in.to_string(), "10001");

        let mut zero = CtrParams::default();
        zero.threshold_minor_by_currency.insert(usd(), 0);
        let error = ctr(
            &transfers,
            &bank(),
            &zero,
            date("2026-03-01"),
            date("2026-03-01"),
        )
        .unwrap_err();
        assert_eq!(error.code, crate::error::ErrorCode::AmountMustBePositive);

        let fractional = CtrParams {
            default_threshold: "10000.5".into(),
            ..CtrParams::default()
        };
        let error = ctr(
            &[yen],
            &bank(),
            &fractional,
            date("2026-03-01"),
            date("2026-03-01"),
        )
        .unwrap_err();
        assert_eq!(error.code, crate::error::ErrorCode::AmountPrecisionExceeded);
        assert!(
            error.message.contains("CTR threshold in JPY"),
            "{}",
            error.message
        );
    }

    #[test]
    fn unknown_accounts_are_reported_under_the_account() {
        let transfers = [deposit(
            1,
            "UNKNOWN000000001",
            "20000.00",
            "2026-03-01T10:00:00Z",
        )];
        let findings = report(&transfers, &bank());
        assert_eq!(findings[0].holder, "");
        assert_eq!(findings[0].accounts, vec!["UNKNOWN000000001"]);
    }

    #[test]
    fn masking_hides_account_numbers_and_serialises_amounts_as_text() {
        let transfers = [deposit(
            1,
            "ACC0000000000003",
            "20000.00",
            "2026-03-01T10:00:00Z",
        )];
        let finding = report(&transfers, &bank()).remove(0).masked(false);
        assert_eq!(finding.accounts, vec!["ACC0********0003"]);
        let json = serde_json::to_value(&finding).unwrap();
        assert_eq!(json["cash_in"], "20000.00");
        assert_eq!(json["currency"], "USD");
    }
}
