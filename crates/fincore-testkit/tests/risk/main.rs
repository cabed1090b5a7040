//! The risk engine on generated histories, and its benchmarks.

mod bench;
mod rescore;

use fincore::clock::parse_instant;
use fincore::model::{RiskResult, Transfer, TransferKind, TransferStatus};
use fincore::money::Currency;

const DAY_US: i64 = 86_400_000_000;

/// 2026-11-20T12:00:00Z, the "now" of the tests.
fn noon() -> i64 {
    parse_instant("2026-11-20T12:00:00Z").unwrap()
}

fn transfer(
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
        currency: Currency::parse("USD").unwrap(),
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

fn posted(id: i64, from: &str, to: &str, amount_minor: i64, at_us: i64) -> Transfer {
    transfer(id, from, to, amount_minor, at_us, TransferStatus::Posted)
}

fn rejected(id: i64, from: &str, to: &str, amount_minor: i64, at_us: i64) -> Transfer {
    transfer(id, from, to, amount_minor, at_us, TransferStatus::Rejected)
}

/// Fisher–Yates with a fixed LCG: a reproducible shuffle without a random crate.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for index in (1..items.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let other = ((state >> 33) % (index as u64 + 1)) as usize;
        items.swap(index, other);
    }
}
