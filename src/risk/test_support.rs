//! Builders for tests: explicit instants, no system clock.

use crate::clock::parse_instant;
use crate::model::TransferRequest;
use crate::model::{
    Account, AccountStatus, AccountType, RiskResult, Transfer, TransferKind, TransferStatus,
};
use crate::money::Currency;

pub(crate) const SECOND_US: i64 = 1_000_000;
pub(crate) const MINUTE_US: i64 = 60 * SECOND_US;
pub(crate) const HOUR_US: i64 = 60 * MINUTE_US;
pub(crate) const DAY_US: i64 = 24 * HOUR_US;

pub(crate) fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

pub(crate) fn instant(text: &str) -> i64 {
    parse_instant(text).unwrap()
}

/// 2026-11-20T12:00:00Z, the "now" of most tests.
pub(crate) fn noon() -> i64 {
    instant("2026-11-20T12:00:00Z")
}

pub(crate) fn account_of(number: &str, account_type: AccountType, created_at_us: i64) -> Account {
    Account {
        number: number.to_string(),
        holder: format!("Holder of {number}"),
        account_type,
        currency: usd(),
        status: AccountStatus::Active,
        balance_minor: 0,
        overdraft_limit_minor: 0,
        created_at_us,
        updated_at_us: created_at_us,
        identifiers: Default::default(),
    }
}

/// A checking account opened 2025-01-01.
pub(crate) fn customer(number: &str) -> Account {
    account_of(
        number,
        AccountType::Checking,
        instant("2025-01-01T00:00:00Z"),
    )
}

pub(crate) fn request(from: &str, to: &str, amount_minor: i64, at_us: i64) -> TransferRequest {
    TransferRequest {
        kind: TransferKind::Transfer,
        key: None,
        from: from.to_string(),
        to: to.to_string(),
        amount_minor,
        currency: usd(),
        reference: String::new(),
        description: String::new(),
        at_us: Some(at_us),
        reverses_id: None,
    }
}

pub(crate) fn transfer(
    id: i64,
    from: &str,
    to: &str,
    amount_minor: i64,
    at_us: i64,
    status: TransferStatus,
) -> Transfer {
    Transfer {
        id,
        key: None,
        payload_hash: String::new(),
        kind: TransferKind::Transfer,
        from: from.to_string(),
        to: to.to_string(),
        amount_minor,
        currency: usd(),
        status,
        error_code: (status == TransferStatus::Rejected).then(|| "insufficient_funds".to_string()),
        error_message: None,
        reference: String::new(),
        description: String::new(),
        at_us,
        created_at_us: at_us,
        risk: RiskResult::approve(),
        reverses_id: None,
        operator: String::from("tester"),
        trace_id: String::new(),
    }
}

pub(crate) fn posted(id: i64, from: &str, to: &str, amount_minor: i64, at_us: i64) -> Transfer {
    transfer(id, from, to, amount_minor, at_us, TransferStatus::Posted)
}

pub(crate) fn rejected(id: i64, from: &str, to: &str, amount_minor: i64, at_us: i64) -> Transfer {
    transfer(id, from, to, amount_minor, at_us, TransferStatus::Rejected)
}

/// Fisher–Yates with a fixed LCG: a reproducible shuffle without a random crate.
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for index in (1..items.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let other = ((state >> 33) % (index as u64 + 1)) as usize;
        items.swap(index, other);
    }
}

pub(crate) fn rule_names(result: &RiskResult) -> Vec<&str> {
    result
        .factors
        .iter()
        .map(|factor| factor.rule.as_str())
        .collect()
}
