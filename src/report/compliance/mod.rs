//! Compliance engine: pure functions over posted transfers and accounts that produce
//! serialisable findings for `report compliance` (SPEC "Compliance").
//!
//! Nothing here touches the database or the command line: the caller loads [`TransferFact`]s
//! and [`AccountFact`]s, picks parameters, and renders the findings. Every finding carries the
//! transfer ids and sums that explain it, and raw account numbers; call `masked(unmask)` on a
//! finding (or on [`ComplianceFindings`]) before rendering so numbers are masked unless the
//! operator asked for `--unmask`.
//!
//! Money is integer minor units (i64 per transfer, i128 for sums); only name similarity uses
//! floating point.

pub mod ctr;
pub(crate) mod mask;
mod resolved_facts;
pub mod sanctions;
pub mod structuring;
pub mod suspicious;

#[cfg(test)]
mod test_support;

pub use ctr::{ctr, CtrFinding, CtrParams, DEFAULT_CTR_THRESHOLD};
pub use sanctions::{
    parse_list, parse_min_score, screen, SanctionsEntry, SanctionsHit, SanctionsList,
    DEFAULT_MIN_SCORE,
};
pub use structuring::{structuring, StructuringDeposit, StructuringFinding};
pub use suspicious::{suspicious, SuspiciousFinding, SuspiciousParams, SuspiciousPattern};

use crate::clock::{self, MICROS_PER_DAY};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::model::{AccountType, RiskLevel, TransferKind};
use crate::money::{format_minor_wide, Currency};
use chrono::NaiveDate;
use resolved_facts::{HolderIds, HolderKey, ResolvedFacts, FROM_SIDE, TO_SIDE};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;

/// One posted transfer as the compliance engine sees it.
///
/// Cash semantics: `Deposit` is cash-in (the settlement account `from` is debited, the
/// customer account `to` credited); `Withdrawal` is cash-out (customer `from`, settlement `to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferFact {
    pub id: i64,
    pub kind: TransferKind,
    pub from: String,
    pub to: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub at_us: i64,
}

/// One account; `risk_level` is the latest stored risk profile level, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFact {
    pub number: String,
    pub holder: String,
    pub account_type: AccountType,
    pub currency: Currency,
    pub created_at_us: i64,
    pub risk_level: Option<RiskLevel>,
}

impl AccountFact {
    /// Settlement and internal accounts are the bank's own books, not customers: they are
    /// neither profiled for suspicious patterns nor screened against sanctions lists.
    pub(crate) fn is_customer(&self) -> bool {
        !matches!(
            self.account_type,
            AccountType::Settlement | AccountType::Internal
        )
    }
}

/// A sum of money in minor units with its currency; serialises as a decimal string with
/// exactly the currency's decimals (`"10000.01"`), like every amount fincore prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub(crate) minor: i128,
    pub(crate) currency: Currency,
}

impl Amount {
    pub(crate) fn new(minor: impl Into<i128>, currency: Currency) -> Amount {
        Amount {
            minor: minor.into(),
            currency,
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&format_minor_wide(self.minor, self.currency.minor_units()))
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `Currency` lives in the read-only money module and has no serde support: print its code.
fn serialize_currency<S: Serializer>(
    currency: &Currency,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(currency.code())
}

/// Instants in findings are RFC 3339 text, as everywhere else in fincore's output.
fn instant_text(instant_us: i64) -> String {
    clock::format_instant(instant_us)
}

/// The UTC day number (days since the Unix epoch) of an instant.
fn utc_day(instant_us: i64) -> i64 {
    instant_us.div_euclid(MICROS_PER_DAY)
}

/// A UTC day number as `YYYY-MM-DD`.
fn utc_day_text(day: i64) -> String {
    clock::date_of_us(day * MICROS_PER_DAY)
        .format("%Y-%m-%d")
        .to_string()
}

fn utc_day_of_date(date: NaiveDate) -> i64 {
    utc_day(clock::date_start_us(date))
}

/// Resolves a decimal amount parameter (e.g. `"10000"`) to minor units once per currency.
struct AmountTable<'a> {
    text: &'a str,
    overrides: Option<&'a HashMap<Currency, i64>>,
    resolved: HashMap<Currency, i64>,
}

impl<'a> AmountTable<'a> {
    fn new(text: &'a str, overrides: Option<&'a HashMap<Currency, i64>>) -> AmountTable<'a> {
        AmountTable {
            text,
            overrides,
            resolved: HashMap::new(),
        }
    }

    /// The parameter in `currency`'s minor units; an amount with more decimals than the
    /// currency has (e.g. `"0.5"` for JPY) is an error, never rounded.
    fn minor(&mut self, currency: Currency, parameter: &str) -> AppResult<i64> {
        if let Some(minor) = self.overrides.and_then(|map| map.get(&currency)) {
            if *minor <= 0 {
                return Err(AppError::new(
                    ErrorCode::AmountMustBePositive,
                    format!("{parameter} in {currency} must be greater than zero"),
                ));
            }
            return Ok(*minor);
        }
        if let Some(minor) = self.resolved.get(&currency) {
            return Ok(*minor);
        }
        let minor = currency
            .parse_positive(self.text)
            .map_err(|error| error.context(format_args!("{parameter} in {currency}")))?;
        self.resolved.insert(currency, minor);
        Ok(minor)
    }
}

/// Which kinds a report asks for (`--kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplianceKinds {
    pub(crate) ctr: bool,
    pub(crate) structuring: bool,
    pub(crate) sanctions: bool,
    pub(crate) suspicious: bool,
}

impl ComplianceKinds {
    pub const ALL: ComplianceKinds = ComplianceKinds {
        ctr: true,
        structuring: true,
        sanctions: true,
        suspicious: true,
    };
}

/// Every parameter of a full report; `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComplianceParams {
    pub ctr: CtrParams,
    pub suspicious: SuspiciousParams,
    /// Minimum sanctions similarity in 0..=1 (see [`DEFAULT_MIN_SCORE`]).
    pub min_score: Option<f64>,
}

/// All findings of one report, in the order of the SPEC's JSON document.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ComplianceFindings {
    pub ctr: Vec<CtrFinding>,
    pub structuring: Vec<StructuringFinding>,
    pub sanctions: Vec<SanctionsHit>,
    pub suspicious: Vec<SuspiciousFinding>,
}

impl ComplianceFindings {
    /// Mask every account number unless `unmask` (the `--unmask` flag).
    pub(crate) fn masked(self, unmask: bool) -> ComplianceFindings {
        ComplianceFindings {
            ctr: self.ctr.into_iter().map(|f| f.masked(unmask)).collect(),
            structuring: self
                .structuring
                .into_iter()
                .map(|f| f.masked(unmask))
                .collect(),
            sanctions: self
                .sanctions
                .into_iter()
                .map(|hit| hit.masked(unmask))
                .collect(),
            suspicious: self
                .suspicious
                .into_iter()
                .map(|f| f.masked(unmask))
                .collect(),
        }
    }
}

/// Run the requested kinds over one period (`from_date`..=`to_date`, UTC days).
///
/// `transfers` should hold every posted transfer up to `to_date` (dormancy needs 180 days of
/// history before the period; the other kinds ignore what lies outside it). Sanctions screen
/// the distinct holders of customer accounts against `sanctions_list` when one is given.
/// Cash kinds and suspicious patterns run side by side on rayon's pool (`join`).
pub fn analyse(
    transfers: &[TransferFact],
    accounts: &[AccountFact],
    params: &ComplianceParams,
    kinds: ComplianceKinds,
    sanctions_list: Option<&SanctionsList>,
    from_date: NaiveDate,
    to_date: NaiveDate,
) -> AppResult<ComplianceFindings> {
    let from_us = clock::date_start_us(from_date);
    let to_us = clock::date_start_us(to_date) + MICROS_PER_DAY - 1;
    let ledger = ResolvedFacts::new(transfers, accounts);
    let ledger = &ledger;
    let cash = || -> AppResult<ComplianceFindings> {
        let mut findings = ComplianceFindings::default();
        if kinds.ctr {
            findings.ctr = ctr::find(ledger, &params.ctr, from_date, to_date)?;
        }
        if kinds.structuring {
            findings.structuring = structuring::find(ledger, &params.ctr, from_date, to_date)?;
        }
        if let (true, Some(list)) = (kinds.sanctions, sanctions_list) {
            let holders = customer_holders(accounts);
            let min_score = params.min_score.unwrap_or(DEFAULT_MIN_SCORE);
            findings.sanctions = screen(&holders, list, min_score);
            for hit in &mut findings.sanctions {
                hit.accounts = accounts_of(accounts, &hit.holder);
            }
        }
        Ok(findings)
    };
    let suspicious = || {
        kinds
            .suspicious
            .then(|| suspicious::find(ledger, &params.suspicious, from_us, to_us))
            .transpose()
    };
    let (findings, suspicious) = rayon::join(cash, suspicious);
    let mut findings = findings?;
    if let Some(found) = suspicious? {
        findings.suspicious = found;
    }
    Ok(findings)
}

/// Parallel tasks `analyse` splits into (to size its pool): the lookup pass over the
/// transfers, sanctions screening of the holders, and cash kinds beside suspicious patterns.
pub(crate) fn analysis_tasks(transfers: usize, accounts: usize) -> usize {
    2 + transfers / resolved_facts::TRANSFERS_PER_TASK_MIN
        + accounts / sanctions::screen::HOLDERS_PER_TASK_MIN
}

/// The customer accounts held under `holder`, sorted.
fn accounts_of(accounts: &[AccountFact], holder: &str) -> Vec<String> {
    let mut numbers: Vec<String> = accounts
        .iter()
        .filter(|account| account.is_customer() && account.holder == holder)
        .map(|account| account.number.clone())
        .collect();
    numbers.sort_unstable();
    numbers
}

/// Distinct holder names of customer accounts, sorted.
pub fn customer_holders(accounts: &[AccountFact]) -> Vec<String> {
    let mut holders: Vec<String> = accounts
        .iter()
        .filter(|account| account.is_customer())
        .map(|account| account.holder.clone())
        .collect();
    holders.sort_unstable();
    holders.dedup();
    holders
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    fn bank() -> Vec<AccountFact> {
        vec![
            settlement(),
            customer("ACC0000000000001", "Jon Smiht"),
            customer("ACC0000000000002", "Ann Lee"),
        ]
    }

    fn report(kinds: ComplianceKinds, list: Option<&SanctionsList>) -> ComplianceFindings {
        let transfers = [
            deposit(1, "ACC0000000000001", "12000.00", "2026-03-01T10:00:00Z"),
            withdrawal(2, "ACC0000000000001", "11000.00", "2026-03-01T12:00:00Z"),
        ];
        let params = ComplianceParams::default();
        analyse(
            &transfers,
            &bank(),
            &params,
            kinds,
            list,
            date("2026-03-01"),
            date("2026-03-01"),
        )
        .unwrap()
    }

    #[test]
    fn analyse_runs_the_requested_kinds_and_masks_on_request() {
        let list = parse_list("John Smith,SDGT,SDN-1\n".as_bytes()).unwrap();
        let findings = report(ComplianceKinds::ALL, Some(&list));
        assert_eq!(findings.ctr.len(), 1);
        assert_eq!(findings.suspicious.len(), 2, "{:?}", findings.suspicious);
        assert_eq!(findings.sanctions[0].holder, "Jon Smiht");

        let masked = findings.clone().masked(false);
        assert_eq!(masked.ctr[0].accounts, vec!["ACC0********0001"]);
        assert!(masked
            .suspicious
            .iter()
            .all(|f| f.account == "ACC0********0001"));
        assert_eq!(findings.clone().masked(true), findings);

        let json = serde_json::to_value(&masked).unwrap();
        assert_eq!(json["ctr"][0]["cash_in"], "12000.00");
        assert_eq!(json["sanctions"][0]["score"].as_str().unwrap().len(), 5);
    }

    #[test]
    fn analyse_skips_kinds_not_asked_for() {
        let only_ctr = ComplianceKinds {
            ctr: true,
            structuring: false,
            sanctions: false,
            suspicious: false,
        };
        let findings = report(only_ctr, None);
        assert_eq!(findings.ctr.len(), 1);
        assert!(findings.suspicious.is_empty() && findings.sanctions.is_empty());
    }

    #[test]
    fn amounts_print_with_the_currency_decimals() {
        assert_eq!(Amount::new(123_456_i64, usd()).to_string(), "1234.56");
        let yen = crate::money::Currency::parse("JPY").unwrap();
        assert_eq!(Amount::new(-5_i64, yen).to_string(), "-5");
        let huge = Amount::new(i128::from(i64::MAX) * 4, usd());
        assert_eq!(huge.to_string(), "368934881474191032.28");
    }

    #[test]
    fn customer_holders_are_distinct_and_exclude_bank_accounts() {
        let mut accounts = bank();
        accounts.push(customer("ACC0000000000003", "Ann Lee"));
        assert_eq!(customer_holders(&accounts), vec!["Ann Lee", "Jon Smiht"]);
    }
}
