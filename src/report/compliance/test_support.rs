//! Builders shared by the unit tests of the compliance kinds.

use super::{AccountFact, TransferFact};
use crate::clock;
use crate::model::{AccountType, TransferKind};
use crate::money::Currency;

pub(crate) const SETTLEMENT: &str = "SETTLEUSD0000001";

pub(crate) fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

pub(crate) fn instant(text: &str) -> i64 {
    clock::parse_instant(text).unwrap()
}

pub(crate) fn date(text: &str) -> chrono::NaiveDate {
    clock::parse_date(text).unwrap()
}

pub(crate) fn customer(number: &str, holder: &str) -> AccountFact {
    AccountFact {
        number: number.to_string(),
        holder: holder.to_string(),
        account_type: AccountType::Checking,
        currency: usd(),
        created_at_us: instant("2020-01-01T00:00:00Z"),
        risk_level: None,
    }
}

pub(crate) fn settlement() -> AccountFact {
    AccountFact {
        account_type: AccountType::Settlement,
        ..customer(SETTLEMENT, "Fincore Bank")
    }
}

pub(crate) fn transfer(
    id: i64,
    kind: TransferKind,
    from: &str,
    to: &str,
    amount: &str,
    at: &str,
) -> TransferFact {
    TransferFact {
        id,
        kind,
        from: from.to_string(),
        to: to.to_string(),
        amount_minor: usd().parse_positive(amount).unwrap(),
        currency: usd(),
        at_us: instant(at),
    }
}

/// Cash-in to `account` through the settlement account.
pub(crate) fn deposit(id: i64, account: &str, amount: &str, at: &str) -> TransferFact {
    transfer(id, TransferKind::Deposit, SETTLEMENT, account, amount, at)
}

/// Cash-out from `account` through the settlement account.
pub(crate) fn withdrawal(id: i64, account: &str, amount: &str, at: &str) -> TransferFact {
    transfer(
        id,
        TransferKind::Withdrawal,
        account,
        SETTLEMENT,
        amount,
        at,
    )
}
