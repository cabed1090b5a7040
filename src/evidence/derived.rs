//! Rows proven by what they derive from rather than by an event of their own: each
//! transfer's entries (its posting rule applied to the bound transfer row), each balance (the
//! sum of its entries), debits = credits per currency, and `risk_latest` (each account's
//! newest bound assessment).

use super::proof::Finding;
use crate::fast_map::FastMap;
use std::collections::HashMap;

/// A keyed hash of an entry (SipHash under a key drawn for each verify), so that entry sets
/// compare without sorting, and nobody can craft entries whose hashes add up to another
/// set's: the key is unknown until verify runs and never leaves it.
#[derive(Clone)]
pub(crate) struct EntryHasher(std::collections::hash_map::RandomState);

impl EntryHasher {
    /// A fresh random key (the caller draws it: this core reads no randomness itself).
    pub(crate) fn new(key: std::collections::hash_map::RandomState) -> EntryHasher {
        EntryHasher(key)
    }

    fn hash(&self, transfer_id: i64, account: &str, amount_minor: i64, at_us: i64) -> u64 {
        use std::hash::BuildHasher;
        self.0.hash_one((transfer_id, account, amount_minor, at_us))
    }
}

/// A set of entries folded without regard to order: how many, their net, and the wrapping sum
/// of their keyed hashes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct EntrySet {
    count: u64,
    net_minor: i64,
    hash_sum: u64,
}

impl EntrySet {
    fn add(&mut self, hash: u64, amount_minor: i64) {
        self.count += 1;
        self.net_minor = self.net_minor.wrapping_add(amount_minor);
        self.hash_sum = self.hash_sum.wrapping_add(hash);
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

/// Entry sets: all entries as one set (the summary pass: equal sets prove every transfer's
/// entries at once), and, when locating, one set per transfer id, dense for ids
/// `1..=dense_max` and in a map beyond (so a forged huge id costs no memory).
struct EntrySets {
    hasher: EntryHasher,
    all: EntrySet,
    by_transfer: Option<(Vec<EntrySet>, HashMap<i64, EntrySet>)>,
}

/// Most transfer ids the locating pass keeps in a dense table (24 bytes each).
const DENSE_IDS_MAX: usize = 100_000_000;

impl EntrySets {
    fn new(hasher: EntryHasher, locate_up_to: Option<i64>) -> EntrySets {
        let by_transfer = locate_up_to.map(|dense_max| {
            let dense = usize::try_from(dense_max).unwrap_or(0).min(DENSE_IDS_MAX);
            (vec![EntrySet::default(); dense], HashMap::new())
        });
        EntrySets {
            hasher,
            all: EntrySet::default(),
            by_transfer,
        }
    }

    fn add(&mut self, id: i64, account: &str, amount_minor: i64, at_us: i64) {
        let hash = self.hasher.hash(id, account, amount_minor, at_us);
        self.all.add(hash, amount_minor);
        if let Some((dense, stray)) = &mut self.by_transfer {
            let set = match usize::try_from(id.wrapping_sub(1)) {
                Ok(index) if index < dense.len() => &mut dense[index],
                _ => stray.entry(id).or_default(),
            };
            set.add(hash, amount_minor);
        }
    }

    fn get(&self, id: i64) -> EntrySet {
        let Some((dense, stray)) = &self.by_transfer else {
            return EntrySet::default();
        };
        match usize::try_from(id.wrapping_sub(1)) {
            Ok(index) if index < dense.len() => dense[index],
            _ => stray.get(&id).copied().unwrap_or_default(),
        }
    }

    /// Every id with a set (dense ones from 1, then the stray ones).
    fn ids(&self) -> Vec<i64> {
        let Some((dense, stray)) = &self.by_transfer else {
            return Vec::new();
        };
        (1..=dense.len() as i64)
            .chain(stray.keys().copied())
            .collect()
    }
}

/// What each stored transfer's posting makes.
pub(crate) struct ExpectedEntries {
    sets: EntrySets,
    /// Which transfer ids exist (an entry may name one that does not); when locating.
    exists: std::collections::HashSet<i64>,
}

impl ExpectedEntries {
    /// `locate_up_to`: None for the summary pass; Some(last transfer id) to keep one set per
    /// transfer and name the ones whose entries differ.
    pub(crate) fn new(hasher: EntryHasher, locate_up_to: Option<i64>) -> ExpectedEntries {
        ExpectedEntries {
            sets: EntrySets::new(hasher, locate_up_to),
            exists: std::collections::HashSet::new(),
        }
    }

    /// Add what another part of the transfers made (summary passes over key ranges).
    pub(crate) fn merge(&mut self, other: &ExpectedEntries) {
        let (all, part) = (&mut self.sets.all, other.sets.all);
        all.count += part.count;
        all.net_minor = all.net_minor.wrapping_add(part.net_minor);
        all.hash_sum = all.hash_sum.wrapping_add(part.hash_sum);
    }

    /// A transfer as stored: the entries its posting makes (none unless posted).
    pub(crate) fn transfer(&mut self, posting: &Posting<'_>) {
        if self.sets.by_transfer.is_some() {
            self.exists.insert(posting.id);
        }
        if posting.posted {
            let (id, amount_minor, at_us) = (posting.id, posting.amount_minor, posting.at_us);
            self.sets.add(id, posting.from, amount_minor, at_us);
            self.sets
                .add(id, posting.to, amount_minor.wrapping_neg(), at_us);
        }
    }
}

/// The stored entries, as a set (per transfer when locating) and summed by account.
pub(crate) struct FoundEntries {
    sets: EntrySets,
    /// Sum of the entries of each account.
    pub(crate) account_sums: FastMap<String, i64>,
    /// The account of the entries being summed and their sum so far (entries read in
    /// account order add up without a map lookup each).
    current: (String, i64),
}

impl FoundEntries {
    pub(crate) fn new(hasher: EntryHasher, locate_up_to: Option<i64>) -> FoundEntries {
        FoundEntries {
            sets: EntrySets::new(hasher, locate_up_to),
            account_sums: FastMap::default(),
            current: (String::new(), 0),
        }
    }

    /// One stored entry.
    pub(crate) fn entry(&mut self, transfer_id: i64, account: &str, amount_minor: i64, at_us: i64) {
        if self.current.0 != account {
            self.flush_account();
            self.current.0.push_str(account);
        }
        self.current.1 = self.current.1.wrapping_add(amount_minor);
        self.sets.add(transfer_id, account, amount_minor, at_us);
    }

    fn flush_account(&mut self) {
        let (account, sum) = &mut self.current;
        if *sum != 0 || !account.is_empty() {
            match self.account_sums.get_mut(account.as_str()) {
                Some(total) => *total = total.wrapping_add(*sum),
                None => {
                    self.account_sums.insert(account.clone(), *sum);
                }
            }
        }
        account.clear();
        *sum = 0;
    }

    /// After the last entry: the sums by account.
    pub(crate) fn finish(&mut self) {
        self.flush_account();
    }
}

/// Whether the stored entries are exactly what the transfers' postings make (as sets; when
/// not, a locating pass names the transfers).
pub(crate) fn entries_agree(expected: &ExpectedEntries, found: &FoundEntries) -> bool {
    expected.sets.all == found.sets.all
}

/// Every transfer whose stored entries are not what its posting makes, and entries of
/// transfers that do not exist (a locating pass).
pub(crate) fn entries_findings(expected: &ExpectedEntries, found: &FoundEntries) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut ids = expected.sets.ids();
    ids.extend(found.sets.ids());
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let (wanted, stored) = (expected.sets.get(id), found.sets.get(id));
        if wanted == stored {
            continue;
        }
        if !expected.exists.contains(&id) {
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
    account_sums: &FastMap<String, i64>,
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
