//! The report's input resolved once for all kinds: account positions per transfer side,
//! holder ids, and a helper to spread a pass over the cores.

use super::{AccountFact, TransferFact};
use crate::fast_map::FastMap;

/// Who owns a customer-side account. Transfers naming an account missing from the account
/// facts are still reported, grouped under that account alone with an empty holder name, so
/// a gap in the data never hides cash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum HolderKey<'a> {
    Named(&'a str),
    UnknownAccount(&'a str),
}

impl HolderKey<'_> {
    pub(super) fn holder_name(&self) -> String {
        match self {
            HolderKey::Named(name) => (*name).to_string(),
            HolderKey::UnknownAccount(_) => String::new(),
        }
    }
}

/// Marks a transfer side whose account is not among the account facts.
pub(super) const UNRESOLVED: u32 = u32::MAX;

/// The report's input with every transfer's `from` and `to` resolved once to positions in
/// `accounts`: the kinds then compare integers instead of looking up strings, and a report
/// running several kinds pays for the (cache-missing) string lookups only once.
pub(super) struct ResolvedFacts<'a> {
    pub(super) transfers: &'a [TransferFact],
    pub(super) accounts: &'a [AccountFact],
    /// Positions in `accounts` of each transfer's `from` and `to`, or `UNRESOLVED`.
    pub(super) sides: Vec<[u32; 2]>,
}

/// Index of `from` and of `to` in `ResolvedFacts::sides`.
pub(super) const FROM_SIDE: usize = 0;
pub(super) const TO_SIDE: usize = 1;

impl<'a> ResolvedFacts<'a> {
    pub(super) fn new(
        transfers: &'a [TransferFact],
        accounts: &'a [AccountFact],
    ) -> ResolvedFacts<'a> {
        assert!(
            accounts.len() < UNRESOLVED as usize,
            "fewer than 4 billion accounts"
        );
        assert!(
            transfers.len() <= u32::MAX as usize,
            "fewer than 4 billion transfers"
        );
        let position_by_number: FastMap<&str, u32> = accounts
            .iter()
            .enumerate()
            .map(|(position, account)| (account.number.as_str(), position as u32))
            .collect();
        let position = |number: &str| {
            position_by_number
                .get(number)
                .copied()
                .unwrap_or(UNRESOLVED)
        };
        let sides = parallel_map(transfers, |transfer| {
            [position(&transfer.from), position(&transfer.to)]
        });
        ResolvedFacts {
            transfers,
            accounts,
            sides,
        }
    }

    pub(super) fn account(&self, position: u32) -> Option<&'a AccountFact> {
        self.accounts.get(position as usize)
    }
}

/// Small integer ids for holders, so grouping compares integers instead of names. Account
/// numbers missing from the account facts get an id of their own (`UnknownAccount`).
pub(super) struct HolderIds<'a> {
    id_by_position: Vec<u32>,
    id_by_unknown_account: FastMap<&'a str, u32>,
    keys: Vec<HolderKey<'a>>,
}

impl<'a> HolderIds<'a> {
    pub(super) fn new(accounts: &'a [AccountFact]) -> HolderIds<'a> {
        let mut id_by_holder: FastMap<&'a str, u32> = FastMap::default();
        let mut keys = Vec::new();
        let id_by_position = accounts
            .iter()
            .map(|account| {
                *id_by_holder
                    .entry(account.holder.as_str())
                    .or_insert_with(|| {
                        keys.push(HolderKey::Named(account.holder.as_str()));
                        (keys.len() - 1) as u32
                    })
            })
            .collect();
        HolderIds {
            id_by_position,
            id_by_unknown_account: FastMap::default(),
            keys,
        }
    }

    /// The holder of the account at `position`, or of the unknown account `number`.
    pub(super) fn id(&mut self, position: u32, number: &'a str) -> u32 {
        if let Some(id) = self.id_by_position.get(position as usize) {
            return *id;
        }
        if let Some(id) = self.id_by_unknown_account.get(number) {
            return *id;
        }
        self.keys.push(HolderKey::UnknownAccount(number));
        let id = (self.keys.len() - 1) as u32;
        self.id_by_unknown_account.insert(number, id);
        id
    }

    pub(super) fn key(&self, id: u32) -> HolderKey<'a> {
        self.keys[id as usize]
    }
}

/// Below this many transfers a lookup pass is not worth splitting.
pub(super) const TRANSFERS_PER_TASK_MIN: usize = 16_384;

/// `items.iter().map(map).collect()`, in order, on rayon's pool (work stealing, sized by the
/// machine) in pieces of at least `TRANSFERS_PER_TASK_MIN` items.
pub(super) fn parallel_map<T: Sync, R: Send>(items: &[T], map: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    items
        .par_iter()
        .with_min_len(TRANSFERS_PER_TASK_MIN)
        .map(&map)
        .collect()
}
