//! Rows proven by what they derive from rather than by an event of their own: each
//! transfer's entries (its posting rule applied to the bound transfer row), each balance (the
//! sum of its entries), debits = credits per currency, and `risk_latest` (each account's
//! newest bound assessment).

use super::proof::Finding;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A transfer's entries folded without regard to order: how many, their net, and the
/// wrapping sum of each entry's 128-bit hash (account, amount, time).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct EntrySet {
    count: u32,
    net_minor: i64,
    hash_sum: u128,
}

impl EntrySet {
    fn add(&mut self, account: &str, amount_minor: i64, at_us: i64) {
        let mut hasher = Sha256::new();
        hasher.update((account.len() as u64).to_be_bytes());
        hasher.update(account.as_bytes());
        hasher.update(amount_minor.to_be_bytes());
        hasher.update(at_us.to_be_bytes());
        let digest: [u8; 32] = hasher.finalize().into();
        let mut half = [0u8; 16];
        half.copy_from_slice(&digest[..16]);
        self.count += 1;
        self.net_minor = self.net_minor.wrapping_add(amount_minor);
        self.hash_sum = self.hash_sum.wrapping_add(u128::from_be_bytes(half));
    }
}

/// One transfer's fields its posting reads.
pub(crate) struct Posting<'a> {
    pub(crate) id: i64,
    pub(crate) posted: bool,
    pub(crate) from: &'a str,
    pub(crate) to: &'a str,
    pub(crate) amount_minor: i64,
    pub(crate) at_us: i64,
}

/// Entry sets by transfer id: dense for ids `1..=dense_max` (the ledger's transfers), in a map
/// beyond (stray ids an edit may have written; a map, so a huge id costs no memory).
struct EntrySets {
    dense: Vec<EntrySet>,
    stray: HashMap<i64, EntrySet>,
}

impl EntrySets {
    fn new(dense_max: i64) -> EntrySets {
        let dense = usize::try_from(dense_max).unwrap_or(0).min(DENSE_IDS_MAX);
        EntrySets {
            dense: vec![EntrySet::default(); dense],
            stray: HashMap::new(),
        }
    }

    fn get_mut(&mut self, id: i64) -> &mut EntrySet {
        let index = usize::try_from(id.wrapping_sub(1)).ok();
        match index {
            Some(index) if index < self.dense.len() => &mut self.dense[index],
            _ => self.stray.entry(id).or_default(),
        }
    }

    fn get(&self, id: i64) -> EntrySet {
        let index = usize::try_from(id.wrapping_sub(1)).ok();
        match index {
            Some(index) if index < self.dense.len() => self.dense[index],
            _ => self.stray.get(&id).copied().unwrap_or_default(),
        }
    }

    /// Every id with a set (dense ones from 1, then the stray ones in order).
    fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        let mut stray: Vec<i64> = self.stray.keys().copied().collect();
        stray.sort_unstable();
        (1..=self.dense.len() as i64).chain(stray)
    }
}

/// Most transfer ids the entries' proof keeps in a dense table (32 bytes each).
const DENSE_IDS_MAX: usize = 100_000_000;

/// What each stored transfer's posting makes.
pub(crate) struct ExpectedEntries {
    sets: EntrySets,
    /// Which transfer ids exist (an entry may name one that does not).
    exists: std::collections::HashSet<i64>,
    dense_seen: Vec<bool>,
}

impl ExpectedEntries {
    /// For a ledger whose transfer ids run up to about `dense_max`.
    pub(crate) fn new(dense_max: i64) -> ExpectedEntries {
        let sets = EntrySets::new(dense_max);
        let dense_seen = vec![false; sets.dense.len()];
        ExpectedEntries {
            sets,
            exists: std::collections::HashSet::new(),
            dense_seen,
        }
    }

    /// A transfer as stored: the entries its posting makes (none unless posted).
    pub(crate) fn transfer(&mut self, posting: &Posting<'_>) {
        match usize::try_from(posting.id.wrapping_sub(1)) {
            Ok(index) if index < self.dense_seen.len() => self.dense_seen[index] = true,
            _ => {
                self.exists.insert(posting.id);
            }
        }
        let expected = self.sets.get_mut(posting.id);
        if posting.posted {
            expected.add(posting.from, posting.amount_minor, posting.at_us);
            expected.add(
                posting.to,
                posting.amount_minor.wrapping_neg(),
                posting.at_us,
            );
        }
    }

    fn has_transfer(&self, id: i64) -> bool {
        match usize::try_from(id.wrapping_sub(1)) {
            Ok(index) if index < self.dense_seen.len() => self.dense_seen[index],
            _ => self.exists.contains(&id),
        }
    }
}

/// The stored entries, by transfer and by account.
pub(crate) struct FoundEntries {
    sets: EntrySets,
    /// Sum of the entries of each account.
    pub(crate) account_sums: HashMap<String, i64>,
}

impl FoundEntries {
    pub(crate) fn new(dense_max: i64) -> FoundEntries {
        FoundEntries {
            sets: EntrySets::new(dense_max),
            account_sums: HashMap::new(),
        }
    }

    /// One stored entry.
    pub(crate) fn entry(&mut self, transfer_id: i64, account: &str, amount_minor: i64, at_us: i64) {
        match self.account_sums.get_mut(account) {
            Some(sum) => *sum = sum.wrapping_add(amount_minor),
            None => {
                self.account_sums.insert(account.to_string(), amount_minor);
            }
        }
        self.sets
            .get_mut(transfer_id)
            .add(account, amount_minor, at_us);
    }
}

/// Every transfer whose stored entries are not what its posting makes, and entries of
/// transfers that do not exist.
pub(crate) fn entries_findings(expected: &ExpectedEntries, found: &FoundEntries) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut ids: Vec<i64> = expected.sets.ids().collect();
    ids.extend(
        found
            .sets
            .stray
            .keys()
            .copied()
            .filter(|id| !expected.sets.stray.contains_key(id)),
    );
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let (wanted, stored) = (expected.sets.get(id), found.sets.get(id));
        if wanted == stored {
            continue;
        }
        if !expected.has_transfer(id) {
            findings.push(Finding::new(
                "entries_follow_transfer",
                "entries",
                id.to_string(),
                None,
                format!(
                    "entries of transfer {id}: {} entries netting to {} minor units, but there is no transfer {id}",
                    stored.count, stored.net_minor
                ),
            ));
            continue;
        }
        findings.push(entries_finding(id, &wanted, &stored));
    }
    findings
}

fn entries_finding(id: i64, expected: &EntrySet, found: &EntrySet) -> Finding {
    // A transfer whose entries do not net to zero is unbalanced; one whose entries net to zero
    // but are not its posting's was rewritten.
    let check = if found.net_minor != 0 {
        "transfer_balanced"
    } else {
        "entries_follow_transfer"
    };
    let detail = if found.count != expected.count || found.net_minor != expected.net_minor {
        format!(
            "entries of transfer {id}: {} entries netting to {} minor units, its posting makes {} netting to {}",
            found.count, found.net_minor, expected.count, expected.net_minor
        )
    } else {
        format!("entries of transfer {id}: an account, amount or time differs from the transfer's")
    };
    Finding::new(check, "entries", id.to_string(), None, detail)
}

/// One account's stored balance and what decides its sign.
pub(crate) struct StoredBalance {
    pub(crate) number: String,
    /// Settlement accounts hold the bank's side: their balance is the sum of their entries;
    /// every other account's is its negation.
    pub(crate) settlement: bool,
    pub(crate) currency: String,
    pub(crate) balance_minor: i64,
}

/// Every balance equals its entries, every entry names an account, and the entries of each
/// currency net to zero (debits = credits).
pub(crate) fn balance_findings(
    balances: &[StoredBalance],
    account_sums: &HashMap<String, i64>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut per_currency: HashMap<&str, i64> = HashMap::new();
    for account in balances {
        let sum = account_sums.get(&account.number).copied().unwrap_or(0);
        let expected = if account.settlement {
            sum
        } else {
            sum.wrapping_neg()
        };
        *per_currency.entry(&account.currency).or_default() += sum;
        if account.balance_minor != expected {
            findings.push(Finding::new(
                "balance_matches_entries",
                "accounts",
                account.number.as_str(),
                None,
                format!(
                    "accounts {}: balance_minor is {}, its entries make {expected}",
                    account.number, account.balance_minor
                ),
            ));
        }
    }
    let known: std::collections::HashSet<&str> = balances
        .iter()
        .map(|account| account.number.as_str())
        .collect();
    let mut unknown: Vec<_> = account_sums
        .keys()
        .filter(|number| !known.contains(number.as_str()))
        .collect();
    unknown.sort();
    for number in unknown {
        findings.push(Finding::new(
            "entry_account_exists",
            "accounts",
            number.as_str(),
            None,
            format!("accounts {number}: entries name this account, but it does not exist"),
        ));
    }
    let mut currencies: Vec<_> = per_currency
        .into_iter()
        .filter(|(_, net)| *net != 0)
        .collect();
    currencies.sort();
    for (currency, net) in currencies {
        findings.push(Finding::new(
            "debits_equal_credits",
            "entries",
            currency,
            None,
            format!("entries in {currency}: debits and credits differ by {net} minor units"),
        ));
    }
    findings
}

/// One account's current risk, as `risk_latest` stores it or as its newest assessment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LatestRisk {
    pub(crate) assessment_id: i64,
    pub(crate) as_of_us: i64,
    pub(crate) score: String,
    pub(crate) level: String,
    pub(crate) decision: String,
}

/// `risk_latest` rebuilt from the assessments, compared with what is stored.
#[derive(Default)]
pub(crate) struct LatestRiskProof {
    newest: HashMap<String, LatestRisk>,
}

impl LatestRiskProof {
    /// One assessment as stored (in any order): the newest `as_of`, then the highest id, wins.
    pub(crate) fn assessment(&mut self, account: &str, risk: LatestRisk) {
        match self.newest.get_mut(account) {
            Some(newest)
                if (newest.as_of_us, newest.assessment_id)
                    >= (risk.as_of_us, risk.assessment_id) => {}
            Some(newest) => *newest = risk,
            None => {
                self.newest.insert(account.to_string(), risk);
            }
        }
    }

    /// The stored rows (account, risk), compared with the rebuilt ones.
    pub(crate) fn findings(mut self, stored: Vec<(String, LatestRisk)>) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (account, risk) in stored {
            match self.newest.remove(&account) {
                Some(newest) if newest == risk => {}
                Some(newest) => findings.push(Finding::new(
                    "risk_latest_rebuilt",
                    "risk_latest",
                    account.as_str(),
                    None,
                    format!(
                        "risk_latest {account}: {risk:?} differs from its newest assessment {newest:?}"
                    ),
                )),
                None => findings.push(Finding::new(
                    "risk_latest_rebuilt",
                    "risk_latest",
                    account.as_str(),
                    None,
                    format!("risk_latest {account}: the account has no assessment"),
                )),
            }
        }
        let mut missing: Vec<_> = self.newest.into_keys().collect();
        missing.sort();
        for account in missing {
            findings.push(Finding::new(
                "risk_latest_rebuilt",
                "risk_latest",
                account.as_str(),
                None,
                format!("risk_latest {account}: missing, though the account has assessments"),
            ));
        }
        findings
    }
}
