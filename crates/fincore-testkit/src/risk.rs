//! Deterministic synthetic accounts and transfers for benchmarks and tests: the same seed
//! gives the same history on every machine (own PRNG, no clock, no floating point).

use crate::random::{Draw, SplitMix64};
use fincore::clock::MICROS_PER_DAY;
use fincore::model::{
    Account, AccountStatus, AccountType, RiskResult, Transfer, TransferKind, TransferStatus,
};
use fincore::money::Currency;

/// 2026-11-20T00:00:00Z: generated transfers happen in the days before this instant.
pub const GENERATED_HISTORY_END_US: i64 = 1_795_132_800_000_000;
/// Generated transfers spread over this many days before the end.
pub const GENERATED_HISTORY_DAYS: i64 = 90;
/// One account in this many is a settlement account (deposits and withdrawals go through them).
const SETTLEMENT_ONE_IN: usize = 100;
/// Accounts are opened between these many days before the end.
const OPENED_DAYS_MIN: u64 = 200;
const OPENED_DAYS_SPAN: u64 = 600;
/// Per-mille shares of transfer kinds and outcomes.
const DEPOSIT_PER_MILLE: u64 = 100;
const WITHDRAWAL_PER_MILLE: u64 = 50;
const REJECTED_PER_MILLE: u64 = 20;
/// A few busy customers send this share of the customer transfers (velocity rules fire).
const BUSY_SENDER_PER_MILLE: u64 = 200;
const BUSY_CUSTOMERS_ONE_IN: usize = 100;
/// Amount bands in minor units (USD cents): mostly small, some large, a few very large.
const AMOUNT_BANDS: [(u64, u64, u64); 3] = [
    (800, 100, 100_000),
    (150, 100_000, 2_000_000),
    (50, 2_000_000, 10_000_000),
];
const PER_MILLE: u64 = 1000;

/// `accounts` accounts (at least 2 customers and 1 settlement account are made) and
/// `transfers` transfers sorted by instant with ids 1, 2, …, all in USD.
pub fn generate_history(
    seed: u64,
    accounts: usize,
    transfers: usize,
) -> (Vec<Account>, Vec<Transfer>) {
    let mut random = SplitMix64::new(seed);
    let currency = Currency::parse("USD").expect("USD is an ISO 4217 currency");
    let generated_accounts: Vec<Account> = (0..accounts.max(3))
        .map(|index| generate_account(index, currency, &mut random))
        .collect();
    let (settlement, customers): (Vec<&Account>, Vec<&Account>) = generated_accounts
        .iter()
        .partition(|account| account.account_type == AccountType::Settlement);
    let busy: Vec<&Account> = customers
        .iter()
        .copied()
        .step_by(BUSY_CUSTOMERS_ONE_IN)
        .collect();
    let mut drafts: Vec<Draft> = (0..transfers)
        .map(|_| draft_transfer(&settlement, &customers, &busy, &mut random))
        .collect();
    // Sorted before the records are built, so that ids follow time (as in a database) and
    // each record's strings sit next to its neighbours' in memory (as when read from one).
    drafts.sort_by_key(|draft| draft.at_us);
    let generated = drafts
        .iter()
        .enumerate()
        .map(|(index, draft)| build_transfer(index as i64 + 1, draft, currency))
        .collect();
    (generated_accounts, generated)
}

/// A transfer before its record is built: small, cheap to sort.
struct Draft<'a> {
    at_us: i64,
    kind: TransferKind,
    from: &'a Account,
    to: &'a Account,
    amount_minor: i64,
    rejected: bool,
}

fn generate_account(index: usize, currency: Currency, random: &mut SplitMix64) -> Account {
    let account_type = match index % SETTLEMENT_ONE_IN {
        0 => AccountType::Settlement,
        remainder if remainder % 2 == 0 => AccountType::Savings,
        _ => AccountType::Checking,
    };
    let opened_days = OPENED_DAYS_MIN + random.below(OPENED_DAYS_SPAN);
    let created_at_us = GENERATED_HISTORY_END_US - opened_days as i64 * MICROS_PER_DAY;
    Account {
        number: luhn_number(index as u64),
        holder: format!("Holder {index}"),
        account_type,
        currency,
        status: AccountStatus::Active,
        balance_minor: 0,
        overdraft_limit_minor: 0,
        created_at_us,
        updated_at_us: created_at_us,
        identifiers: Default::default(),
    }
}

/// 16 digits: "40", the index on 13 digits, and a Luhn check digit.
pub fn luhn_number(index: u64) -> String {
    fincore::model::account_number::with_check_digit(&format!("40{index:013}"))
}

fn draft_transfer<'a>(
    settlement: &[&'a Account],
    customers: &[&'a Account],
    busy: &[&'a Account],
    random: &mut SplitMix64,
) -> Draft<'a> {
    let kind_roll = random.below(PER_MILLE);
    let (kind, from, to) = if kind_roll < DEPOSIT_PER_MILLE {
        (
            TransferKind::Deposit,
            *random.pick(settlement),
            *random.pick(customers),
        )
    } else if kind_roll < DEPOSIT_PER_MILLE + WITHDRAWAL_PER_MILLE {
        (
            TransferKind::Withdrawal,
            *random.pick(customers),
            *random.pick(settlement),
        )
    } else {
        let senders = if random.below(PER_MILLE) < BUSY_SENDER_PER_MILLE {
            busy
        } else {
            customers
        };
        let from = *random.pick(senders);
        let mut to = *random.pick(customers);
        while to.number == from.number {
            to = *random.pick(customers);
        }
        (TransferKind::Transfer, from, to)
    };
    let rejected = random.below(PER_MILLE) < REJECTED_PER_MILLE;
    let at_us = GENERATED_HISTORY_END_US
        - 1
        - random.below((GENERATED_HISTORY_DAYS * MICROS_PER_DAY) as u64) as i64;
    Draft {
        at_us,
        kind,
        from,
        to,
        amount_minor: generate_amount(random),
        rejected,
    }
}

fn build_transfer(id: i64, draft: &Draft, currency: Currency) -> Transfer {
    let (at_us, rejected) = (draft.at_us, draft.rejected);
    Transfer {
        id,
        key: None,
        payload_hash: String::new(),
        kind: draft.kind,
        from: draft.from.number.clone(),
        to: draft.to.number.clone(),
        amount_minor: draft.amount_minor,
        currency,
        status: if rejected {
            TransferStatus::Rejected
        } else {
            TransferStatus::Posted
        },
        error_code: rejected.then(|| "insufficient_funds".to_string()),
        error_message: None,
        reference: String::new(),
        description: String::new(),
        at_us,
        created_at_us: at_us,
        risk: RiskResult::approve(),
        reverses_id: None,
        operator: String::new(),
        trace_id: String::new(),
    }
}

fn generate_amount(random: &mut SplitMix64) -> i64 {
    let mut roll = random.below(PER_MILLE);
    for (share, low, high) in AMOUNT_BANDS {
        if roll < share {
            return (low + random.below(high - low)) as i64;
        }
        roll -= share;
    }
    unreachable!("the amount bands' shares add up to 1000 per mille")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_history() {
        let first = generate_history(7, 50, 2_000);
        let second = generate_history(7, 50, 2_000);
        assert_eq!(first, second);
        let other = generate_history(8, 50, 2_000);
        assert_ne!(first.1, other.1);
        assert_eq!(first.0.len(), 50);
        assert_eq!(first.1.len(), 2_000);
        assert!(first
            .1
            .windows(2)
            .all(|pair| pair[0].at_us <= pair[1].at_us));
        assert!(first.1.iter().all(|transfer| transfer.from != transfer.to));
        assert!(first
            .1
            .iter()
            .all(|transfer| transfer.at_us < GENERATED_HISTORY_END_US));
    }

    #[test]
    fn numbers_are_luhn_valid_and_unique() {
        assert_eq!(luhn_number(0).len(), 16);
        // Known-good Luhn number built with the same prefix scheme.
        assert_eq!(luhn_number(0), "4000000000000002");
        let numbers: std::collections::HashSet<String> = (0..1000).map(luhn_number).collect();
        assert_eq!(numbers.len(), 1000);
        for number in &numbers {
            let sum: u32 = number
                .bytes()
                .rev()
                .enumerate()
                .map(|(position, byte)| {
                    let digit = u32::from(byte - b'0');
                    let doubled = if position % 2 == 1 { digit * 2 } else { digit };
                    if doubled > 9 {
                        doubled - 9
                    } else {
                        doubled
                    }
                })
                .sum();
            assert_eq!(sum % 10, 0, "{number}");
        }
    }
}
