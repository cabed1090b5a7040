//! Structuring: cash deposits kept just under the CTR threshold, spread over a few days.
//!
//! A deposit is *in band* when `80% × threshold ≤ amount ≤ threshold`, both ends inclusive:
//! a deposit of exactly the threshold is not itself reported by CTR (strictly over), so it
//! is exactly the amount someone avoiding the report would choose; one minor unit over is
//! reported by CTR instead. Deposits `d1 … dn` (by time) form a qualifying window when
//! `n ≥ 3`, `at(dn) − at(d1) < 7 days` (strictly: 7 × 24 h after the first is outside) and
//! their sum is strictly over the threshold. Overlapping qualifying windows of one holder
//! and currency merge into one cluster, reported once with every deposit in it, so a long
//! run of deposits is one finding rather than a flood of overlapping windows.

use super::mask::mask_unless;
use super::{
    instant_text, serialize_currency, utc_day, utc_day_of_date, AccountFact, Amount, CtrParams,
    HolderIds, HolderKey, ResolvedFacts, TransferFact, TO_SIDE,
};
use crate::clock::MICROS_PER_DAY;
use crate::error::AppResult;
use crate::model::TransferKind;
use crate::money::Currency;
use serde::Serialize;
use std::collections::HashMap;

/// SPEC: three or more deposits.
pub(crate) const STRUCTURING_DEPOSITS_MIN: usize = 3;
/// SPEC: within 7 days; a window holds deposits less than this apart (first to last).
pub(crate) const STRUCTURING_WINDOW_US: i64 = 7 * MICROS_PER_DAY;
/// SPEC: each deposit between 80% and 100% of the threshold (both inclusive).
pub(crate) const STRUCTURING_BAND_LOW_PERCENT: i128 = 80;
pub(crate) const STRUCTURING_BAND_HIGH_PERCENT: i128 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructuringDeposit {
    pub(crate) transfer_id: i64,
    pub(crate) account: String,
    pub(crate) amount: Amount,
    pub(crate) at: String,
}

/// One holder's cluster of in-band cash deposits in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructuringFinding {
    pub(crate) holder: String,
    #[serde(serialize_with = "serialize_currency")]
    pub(crate) currency: Currency,
    pub(crate) threshold: Amount,
    /// Smallest in-band amount (80% of the threshold, rounded up to a minor unit).
    pub(crate) band_low: Amount,
    pub(crate) deposit_count: usize,
    pub(crate) total: Amount,
    pub(crate) first_at: String,
    pub(crate) last_at: String,
    pub(crate) transfer_ids: Vec<i64>,
    pub(crate) deposits: Vec<StructuringDeposit>,
}

impl StructuringFinding {
    pub(crate) fn masked(mut self, unmask: bool) -> StructuringFinding {
        for deposit in &mut self.deposits {
            deposit.account = mask_unless(std::mem::take(&mut deposit.account), unmask);
        }
        self
    }
}

#[derive(Clone, Copy)]
struct BandDeposit<'a> {
    at_us: i64,
    transfer_id: i64,
    amount_minor: i64,
    account: &'a str,
}

/// Structuring clusters among cash deposits made on `from_date..=to_date` (UTC days); the
/// threshold comes from `params` exactly as for CTR.
pub fn structuring(
    transfers: &[TransferFact],
    accounts: &[AccountFact],
    params: &CtrParams,
    from_date: chrono::NaiveDate,
    to_date: chrono::NaiveDate,
) -> AppResult<Vec<StructuringFinding>> {
    find(
        &ResolvedFacts::new(transfers, accounts),
        params,
        from_date,
        to_date,
    )
}

/// [`structuring`] over an already resolved ledger.
pub(super) fn find(
    ledger: &ResolvedFacts<'_>,
    params: &CtrParams,
    from_date: chrono::NaiveDate,
    to_date: chrono::NaiveDate,
) -> AppResult<Vec<StructuringFinding>> {
    let transfers = ledger.transfers;
    let mut holders = HolderIds::new(ledger.accounts);
    let mut thresholds = params.thresholds();
    let mut threshold_by_currency = HashMap::new();
    for transfer in transfers.iter().filter(|t| t.kind == TransferKind::Deposit) {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            threshold_by_currency.entry(transfer.currency)
        {
            slot.insert(thresholds.minor(transfer.currency, "CTR threshold")?);
        }
    }
    let groups = band_deposits_by_holder(
        ledger,
        &mut holders,
        &threshold_by_currency,
        from_date,
        to_date,
    );
    let mut findings = Vec::new();
    for ((holder, currency), mut deposits) in groups {
        let holder = holders.key(holder);
        deposits.sort_unstable_by_key(|deposit| (deposit.at_us, deposit.transfer_id));
        let threshold_minor = i128::from(threshold_by_currency[&currency]);
        for cluster in clusters(&deposits, threshold_minor) {
            findings.push(finding(holder, currency, threshold_minor, cluster));
        }
    }
    findings.sort_by(|left, right| {
        (&left.first_at, &left.holder, left.currency).cmp(&(
            &right.first_at,
            &right.holder,
            right.currency,
        ))
    });
    Ok(findings)
}

fn is_in_band(amount_minor: i64, threshold_minor: i64) -> bool {
    let amount = i128::from(amount_minor) * 100;
    let threshold = i128::from(threshold_minor);
    amount >= threshold * STRUCTURING_BAND_LOW_PERCENT
        && amount <= threshold * STRUCTURING_BAND_HIGH_PERCENT
}

/// In-band deposits grouped by holder id and currency.
fn band_deposits_by_holder<'a>(
    ledger: &ResolvedFacts<'a>,
    holders: &mut HolderIds<'a>,
    threshold_by_currency: &HashMap<Currency, i64>,
    from_date: chrono::NaiveDate,
    to_date: chrono::NaiveDate,
) -> HashMap<(u32, Currency), Vec<BandDeposit<'a>>> {
    let first_day = utc_day_of_date(from_date);
    let last_day = utc_day_of_date(to_date);
    let mut groups: HashMap<(u32, Currency), Vec<BandDeposit<'a>>> = HashMap::new();
    for (index, transfer) in ledger.transfers.iter().enumerate() {
        if transfer.kind != TransferKind::Deposit {
            continue;
        }
        let day = utc_day(transfer.at_us);
        let threshold_minor = threshold_by_currency[&transfer.currency];
        if day < first_day || day > last_day || !is_in_band(transfer.amount_minor, threshold_minor)
        {
            continue;
        }
        let key = (
            holders.id(ledger.sides[index][TO_SIDE], &transfer.to),
            transfer.currency,
        );
        groups.entry(key).or_default().push(BandDeposit {
            at_us: transfer.at_us,
            transfer_id: transfer.id,
            amount_minor: transfer.amount_minor,
            account: &transfer.to,
        });
    }
    groups
}

/// Merge qualifying windows (sliding over deposits sorted by time) into clusters: a window
/// ending at deposit `r` starts at the earliest deposit less than 7 days before it; windows
/// that share a deposit belong to the same cluster.
fn clusters<'d, 'a>(
    deposits: &'d [BandDeposit<'a>],
    threshold_minor: i128,
) -> Vec<&'d [BandDeposit<'a>]> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    let mut window_start = 0;
    let mut window_sum_minor: i128 = 0;
    for (window_end, deposit) in deposits.iter().enumerate() {
        window_sum_minor += i128::from(deposit.amount_minor);
        while deposit.at_us - deposits[window_start].at_us >= STRUCTURING_WINDOW_US {
            window_sum_minor -= i128::from(deposits[window_start].amount_minor);
            window_start += 1;
        }
        let count = window_end - window_start + 1;
        if count < STRUCTURING_DEPOSITS_MIN || window_sum_minor <= threshold_minor {
            continue;
        }
        current = match current {
            Some((start, end)) if window_start <= end => Some((start, window_end)),
            Some((start, end)) => {
                found.push(&deposits[start..=end]);
                Some((window_start, window_end))
            }
            None => Some((window_start, window_end)),
        };
    }
    if let Some((start, end)) = current {
        found.push(&deposits[start..=end]);
    }
    found
}

fn finding(
    holder: HolderKey<'_>,
    currency: Currency,
    threshold_minor: i128,
    cluster: &[BandDeposit<'_>],
) -> StructuringFinding {
    let total_minor: i128 = cluster.iter().map(|d| i128::from(d.amount_minor)).sum();
    // Smallest amount with amount × 100 ≥ threshold × 80.
    let band_low_minor = (threshold_minor * STRUCTURING_BAND_LOW_PERCENT + 99) / 100;
    StructuringFinding {
        holder: holder.holder_name(),
        currency,
        threshold: Amount::new(threshold_minor, currency),
        band_low: Amount::new(band_low_minor, currency),
        deposit_count: cluster.len(),
        total: Amount::new(total_minor, currency),
        first_at: instant_text(cluster[0].at_us),
        last_at: instant_text(cluster[cluster.len() - 1].at_us),
        transfer_ids: cluster.iter().map(|d| d.transfer_id).collect(),
        deposits: cluster
            .iter()
            .map(|d| StructuringDeposit {
                transfer_id: d.transfer_id,
                account: d.account.to_string(),
                amount: Amount::new(d.amount_minor, currency),
                at: instant_text(d.at_us),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    const ANN_1: &str = "ACC0000000000001";
    const ANN_2: &str = "ACC0000000000002";
    const BOB: &str = "ACC0000000000003";

    fn bank() -> Vec<AccountFact> {
        vec![
            settlement(),
            customer(ANN_1, "Ann Lee"),
            customer(ANN_2, "Ann Lee"),
            customer(BOB, "Bob Roe"),
        ]
    }

    fn report(transfers: &[TransferFact]) -> Vec<StructuringFinding> {
        structuring(
            transfers,
            &bank(),
            &CtrParams::default(),
            date("2026-01-01"),
            date("2026-12-31"),
        )
        .unwrap()
    }

    #[test]
    fn three_band_deposits_within_a_week_are_reported() {
        let findings = report(&[
            deposit(1, ANN_1, "9500.00", "2026-03-01T10:00:00Z"),
            deposit(2, ANN_2, "9000.00", "2026-03-03T10:00:00Z"),
            deposit(3, ANN_1, "9900.00", "2026-03-05T10:00:00Z"),
        ]);
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!(finding.holder, "Ann Lee");
        assert_eq!(finding.transfer_ids, vec![1, 2, 3]);
        assert_eq!(finding.total.to_string(), "28400.00");
        assert_eq!(finding.band_low.to_string(), "8000.00");
        assert_eq!(finding.deposits[1].account, ANN_2);
        assert_eq!(finding.first_at, "2026-03-01T10:00:00Z");
    }

    #[test]
    fn two_deposits_are_not_enough() {
        assert!(report(&[
            deposit(1, BOB, "9500.00", "2026-03-01T10:00:00Z"),
            deposit(2, BOB, "9500.00", "2026-03-02T10:00:00Z"),
        ])
        .is_empty());
    }

    #[test]
    fn window_is_strictly_shorter_than_seven_days() {
        let inside = report(&[
            deposit(1, BOB, "9500.00", "2026-03-01T10:00:00Z"),
            deposit(2, BOB, "9500.00", "2026-03-04T10:00:00Z"),
            deposit(3, BOB, "9500.00", "2026-03-08T09:59:59.999999Z"),
        ]);
        assert_eq!(inside.len(), 1);
        let exactly_seven_days = report(&[
            deposit(1, BOB, "9500.00", "2026-03-01T10:00:00Z"),
            deposit(2, BOB, "9500.00", "2026-03-04T10:00:00Z"),
            deposit(3, BOB, "9500.00", "2026-03-08T10:00:00Z"),
        ]);
        assert!(exactly_seven_days.is_empty());
    }

    #[test]
    fn band_is_inclusive_at_eighty_and_one_hundred_percent() {
        let at = [
            "2026-03-01T10:00:00Z",
            "2026-03-02T10:00:00Z",
            "2026-03-03T10:00:00Z",
        ];
        let with_amounts = |amounts: [&str; 3]| {
            let transfers: Vec<_> = (0..3)
                .map(|i| deposit(i as i64 + 1, BOB, amounts[i], at[i]))
                .collect();
            report(&transfers)
        };
        assert_eq!(with_amounts(["8000.00", "10000.00", "8000.00"]).len(), 1);
        assert!(with_amounts(["7999.99", "10000.00", "8000.00"]).is_empty());
        assert!(with_amounts(["8000.00", "10000.01", "8000.00"]).is_empty());
    }

    #[test]
    fn overlapping_windows_are_one_cluster() {
        // Every two days for eight days: windows {1..4} and {2..5} overlap: one finding.
        let transfers: Vec<_> = (0..5)
            .map(|i| {
                deposit(
                    i + 1,
                    BOB,
                    "9000.00",
                    &format!("2026-03-{:02}T10:00:00Z", 1 + 2 * i),
                )
            })
            .collect();
        let findings = report(&transfers);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].transfer_ids, vec![1, 2, 3, 4, 5]);
        assert_eq!(findings[0].total.to_string(), "45000.00");
    }

    #[test]
    fn separate_clusters_are_separate_findings() {
        let findings = report(&[
            deposit(1, BOB, "9000.00", "2026-03-01T10:00:00Z"),
            deposit(2, BOB, "9000.00", "2026-03-02T10:00:00Z"),
            deposit(3, BOB, "9000.00", "2026-03-03T10:00:00Z"),
            deposit(4, BOB, "9000.00", "2026-04-01T10:00:00Z"),
            deposit(5, BOB, "9000.00", "2026-04-02T10:00:00Z"),
            deposit(6, BOB, "9000.00", "2026-04-03T10:00:00Z"),
        ]);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[1].transfer_ids, vec![4, 5, 6]);
    }

    #[test]
    fn holders_and_cash_out_do_not_mix() {
        assert!(report(&[
            deposit(1, BOB, "9000.00", "2026-03-01T10:00:00Z"),
            deposit(2, ANN_1, "9000.00", "2026-03-02T10:00:00Z"),
            withdrawal(3, BOB, "9000.00", "2026-03-03T10:00:00Z"),
            deposit(4, BOB, "9000.00", "2026-03-04T10:00:00Z"),
        ])
        .is_empty());
    }

    #[test]
    fn masked_hides_deposit_accounts() {
        let finding = report(&[
            deposit(1, BOB, "9000.00", "2026-03-01T10:00:00Z"),
            deposit(2, BOB, "9000.00", "2026-03-02T10:00:00Z"),
            deposit(3, BOB, "9000.00", "2026-03-03T10:00:00Z"),
        ])
        .remove(0)
        .masked(false);
        assert!(finding
            .deposits
            .iter()
            .all(|d| d.account == "ACC0********0003"));
    }
}
