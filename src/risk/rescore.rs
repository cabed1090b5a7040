//! `risk rescore`: every account's profile and profile-level risk, on several threads.
//!
//! The transfers are split into one contiguous chunk per thread; each thread reads its large
//! `Transfer` records once, in memory order, and groups them into compact per-account events
//! (a counting sort). The accounts are then profiled in parallel, each from the small
//! contiguous pieces the chunks hold for it.

use super::fast_hash::FastMap;
use super::profile::{profile_from_events, score_profile, AccountEvent, Profile, Side};
use super::rules::RuleSet;
use crate::model::{Account, RiskResult, Transfer};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Accounts handed to a thread at a time: small enough to balance uneven accounts (a busy
/// settlement account next to quiet savings), large enough to keep the counter cold.
const ACCOUNTS_PER_TASK: usize = 64;
/// Marks a transfer that touches no listed account.
const NO_ACCOUNT: u32 = u32::MAX;

type Rescored = (String, Profile, RiskResult);

/// Profiles and risk of `accounts` (numbers are unique) from `transfers` (any order; those
/// touching no listed account are ignored), in account-number order whatever `threads` is.
pub fn rescore_all(
    accounts: &[Account],
    transfers: &[Transfer],
    as_of_us: i64,
    rules: &RuleSet,
    blacklist: &HashSet<String>,
    threads: usize,
) -> Vec<Rescored> {
    let threads = threads.max(1);
    let mut order: Vec<usize> = (0..accounts.len()).collect();
    order.sort_unstable_by(|left, right| accounts[*left].number.cmp(&accounts[*right].number));
    let grouped = group_by_account(accounts, transfers, threads);
    let next_task = AtomicUsize::new(0);
    let worker = || {
        let mut done: Vec<(usize, Rescored)> = Vec::new();
        let mut counterparty_counts = Vec::new();
        loop {
            let start = next_task.fetch_add(1, Ordering::Relaxed) * ACCOUNTS_PER_TASK;
            if start >= order.len() {
                return done;
            }
            for (position, account_index) in
                order.iter().enumerate().skip(start).take(ACCOUNTS_PER_TASK)
            {
                let account = &accounts[*account_index];
                let events = grouped.events_of(*account_index);
                let profile = profile_from_events(
                    account,
                    events,
                    &grouped.names,
                    &mut counterparty_counts,
                    as_of_us,
                );
                let result = score_profile(&profile, rules, blacklist);
                done.push((position, (account.number.clone(), profile, result)));
            }
        }
    };
    let batches: Vec<Vec<(usize, Rescored)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a rescoring thread panicked"))
            .collect()
    });
    let mut slots: Vec<Option<Rescored>> = (0..accounts.len()).map(|_| None).collect();
    for (position, rescored) in batches.into_iter().flatten() {
        slots[position] = Some(rescored);
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("every account is rescored exactly once"))
        .collect()
}

/// The events of one chunk of transfers, grouped by listed account.
struct ChunkGroups<'a> {
    /// Events of listed account `a` are `events[offsets[a]..offsets[a + 1]]`.
    offsets: Vec<usize>,
    events: Vec<AccountEvent>,
    /// Counterparties outside the list met in this chunk: counterparty `listed + k` of an
    /// event here is `unlisted[k]`.
    unlisted: Vec<&'a str>,
}

struct Grouped<'a> {
    listed: usize,
    /// Counterparty numbers: the accounts in input order, then unlisted counterparties.
    names: Vec<&'a str>,
    chunks: Vec<ChunkGroups<'a>>,
    /// Per chunk: global counterparty id of each of its unlisted counterparties.
    unlisted_ids: Vec<Vec<u32>>,
}

impl Grouped<'_> {
    /// All events of listed account `account`, with counterparties numbered globally.
    fn events_of(&self, account: usize) -> Vec<AccountEvent> {
        let pieces = self
            .chunks
            .iter()
            .map(|chunk| &chunk.events[chunk.offsets[account]..chunk.offsets[account + 1]]);
        let mut events = Vec::with_capacity(pieces.clone().map(<[AccountEvent]>::len).sum());
        for (piece, unlisted_ids) in pieces.zip(&self.unlisted_ids) {
            events.extend(piece.iter().map(|event| {
                let mut event = *event;
                if let Some(unlisted) = (event.counterparty as usize).checked_sub(self.listed) {
                    event.counterparty = unlisted_ids[unlisted];
                }
                event
            }));
        }
        events
    }
}

fn group_by_account<'a>(
    accounts: &'a [Account],
    transfers: &'a [Transfer],
    threads: usize,
) -> Grouped<'a> {
    let listed = accounts.len();
    let mut ids: FastMap<&'a str, u32> = FastMap::default();
    ids.reserve(listed);
    for (index, account) in accounts.iter().enumerate() {
        ids.insert(account.number.as_str(), index as u32);
    }
    let chunk_length = transfers.len().div_ceil(threads).max(1);
    let chunks: Vec<ChunkGroups<'a>> = std::thread::scope(|scope| {
        let ids = &ids;
        let handles: Vec<_> = transfers
            .chunks(chunk_length)
            .map(|chunk| scope.spawn(move || group_chunk(chunk, ids, listed)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a grouping thread panicked"))
            .collect()
    });
    let mut names: Vec<&'a str> = accounts
        .iter()
        .map(|account| account.number.as_str())
        .collect();
    let mut global_unlisted: FastMap<&'a str, u32> = FastMap::default();
    let unlisted_ids = chunks
        .iter()
        .map(|chunk| {
            let intern = |name: &&'a str| {
                *global_unlisted.entry(*name).or_insert_with(|| {
                    names.push(*name);
                    (names.len() - 1) as u32
                })
            };
            chunk.unlisted.iter().map(intern).collect()
        })
        .collect();
    Grouped {
        listed,
        names,
        chunks,
        unlisted_ids,
    }
}

/// Counting sort of one chunk's transfers into per-account events.
fn group_chunk<'a>(
    transfers: &'a [Transfer],
    ids: &FastMap<&str, u32>,
    listed: usize,
) -> ChunkGroups<'a> {
    let mut unlisted: Vec<&'a str> = Vec::new();
    let mut unlisted_ids: FastMap<&'a str, u32> = FastMap::default();
    let mut counts = vec![0usize; listed];
    let mut sides: Vec<(u32, u32)> = Vec::with_capacity(transfers.len());
    for transfer in transfers {
        let from = ids.get(transfer.from.as_str()).copied();
        let to = ids.get(transfer.to.as_str()).copied();
        if from.is_none() && to.is_none() {
            sides.push((NO_ACCOUNT, NO_ACCOUNT));
            continue;
        }
        // An unlisted counterparty still needs a name (blacklist screening).
        let mut id_of = |known: Option<u32>, number: &'a str| {
            known.unwrap_or_else(|| {
                *unlisted_ids.entry(number).or_insert_with(|| {
                    unlisted.push(number);
                    (listed + unlisted.len() - 1) as u32
                })
            })
        };
        let from_id = id_of(from, &transfer.from);
        let to_id = id_of(to, &transfer.to);
        for (account, counted) in [(from_id, true), (to_id, to_id != from_id)] {
            if counted && (account as usize) < listed {
                counts[account as usize] += 1;
            }
        }
        sides.push((from_id, to_id));
    }
    let mut offsets = Vec::with_capacity(listed + 1);
    let mut total = 0;
    for count in &counts {
        offsets.push(total);
        total += count;
    }
    offsets.push(total);
    let mut cursors = offsets[..listed].to_vec();
    let placeholder = AccountEvent::placeholder();
    let mut events = vec![placeholder; total];
    for (transfer, (from_id, to_id)) in transfers.iter().zip(&sides) {
        let entries = [
            (*from_id, Side::Outgoing, *to_id, true),
            (*to_id, Side::Incoming, *from_id, to_id != from_id),
        ];
        for (account, side, counterparty, wanted) in entries {
            if wanted && (account as usize) < listed {
                let cursor = &mut cursors[account as usize];
                events[*cursor] = AccountEvent::of(transfer, side, counterparty);
                *cursor += 1;
            }
        }
    }
    ChunkGroups {
        offsets,
        events,
        unlisted,
    }
}
