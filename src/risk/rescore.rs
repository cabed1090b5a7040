//! `risk rescore`: every account's profile and profile-level risk, on several threads.
//!
//! Input is a compact `Movement` per transfer with interned account numbers (`Movements`),
//! built while reading from the database (or from `Transfer`s by `rescore_all`). The
//! movements are split into contiguous chunks; each chunk is grouped into per-account events
//! (a counting sort) on rayon's pool. The accounts are then profiled in parallel, in tasks of
//! a few dozen accounts that idle threads steal, each from the small contiguous pieces the
//! chunks hold for it. Nothing depends on the core count but the speed.

use super::movement::{Movement, Movements};
use super::profile::{profile_from_events, score_profile, AccountEvent, Profile, Side};
use super::rules::RuleSet;
use crate::model::{Account, RiskResult, Transfer};
use rayon::prelude::*;
use std::collections::HashSet;

/// Accounts in one profiling task: small enough for work stealing to balance uneven accounts
/// (a busy settlement account next to quiet savings), large enough that a task pays for itself.
const ACCOUNTS_PER_TASK: usize = 64;
/// Fewer movements than this are grouped in one chunk: a chunk costs a count array per account.
const MOVEMENTS_PER_CHUNK_MIN: usize = 65_536;
/// At most this many grouping chunks whatever the core count: each holds an offset per listed
/// account, so chunks times accounts bounds the memory, and grouping is a small part of the time.
const GROUPING_CHUNKS_MAX: usize = 16;
/// Marks a transfer that touches no listed account.
const NO_ACCOUNT: u32 = u32::MAX;

/// An account number with its profile and risk.
type ScoredAccount = (String, Profile, RiskResult);

/// Profiles and risk of `accounts` (numbers are unique) from `transfers` (any order; those
/// touching no listed account are ignored), in account-number order whatever the core count.
pub fn rescore_all(
    accounts: &[Account],
    transfers: &[Transfer],
    as_of_us: i64,
    rules: &RuleSet,
    blacklist: &HashSet<String>,
) -> Vec<ScoredAccount> {
    let movements = Movements::of_transfers(transfers);
    rescore_movements(accounts, &movements, as_of_us, rules, blacklist)
}

/// `rescore_all` over movements already interned. Runs on rayon's pool (work stealing sized
/// by the machine); the result does not depend on how many threads it has.
pub fn rescore_movements(
    accounts: &[Account],
    movements: &Movements,
    as_of_us: i64,
    rules: &RuleSet,
    blacklist: &HashSet<String>,
) -> Vec<ScoredAccount> {
    let mut order: Vec<usize> = (0..accounts.len()).collect();
    order.sort_unstable_by(|left, right| accounts[*left].number.cmp(&accounts[*right].number));
    let grouped = group_by_account(accounts, movements);
    order
        .par_chunks(ACCOUNTS_PER_TASK)
        .map_init(Vec::new, |counterparty_counts, task| {
            task.iter()
                .map(|account_index| {
                    let account = &accounts[*account_index];
                    let events = grouped.events_of(*account_index);
                    let profile = profile_from_events(
                        account,
                        events,
                        &grouped.names,
                        counterparty_counts,
                        as_of_us,
                    );
                    let result = score_profile(&profile, rules, blacklist);
                    (account.number.clone(), profile, result)
                })
                .collect::<Vec<_>>()
        })
        .flatten_iter()
        .collect()
}

/// The events of one chunk of movements, grouped by listed account.
struct ChunkGroups {
    /// Events of listed account `a` are `events[offsets[a]..offsets[a + 1]]`.
    offsets: Vec<usize>,
    events: Vec<AccountEvent>,
}

struct Grouped<'a> {
    /// Counterparty numbers: counterparty ids are indexes into `Movements::names`.
    names: Vec<&'a str>,
    chunks: Vec<ChunkGroups>,
}

impl Grouped<'_> {
    /// All events of listed account `account`.
    fn events_of(&self, account: usize) -> Vec<AccountEvent> {
        let pieces = self
            .chunks
            .iter()
            .map(|chunk| &chunk.events[chunk.offsets[account]..chunk.offsets[account + 1]]);
        let mut events = Vec::with_capacity(pieces.clone().map(<[AccountEvent]>::len).sum());
        for piece in pieces {
            events.extend_from_slice(piece);
        }
        events
    }
}

/// Parallel tasks rescoring `accounts` over `movements` splits into (to size its pool).
pub fn rescore_tasks(accounts: usize, movements: usize) -> usize {
    accounts
        .div_ceil(ACCOUNTS_PER_TASK)
        .max(movements / MOVEMENTS_PER_CHUNK_MIN)
}

/// Chunks to group `movements` in: enough to keep every thread busy, few enough to bound memory.
fn grouping_chunks(movements: usize) -> usize {
    (movements / MOVEMENTS_PER_CHUNK_MIN)
        .min(rayon::current_num_threads())
        .clamp(1, GROUPING_CHUNKS_MAX)
}

fn group_by_account<'a>(accounts: &[Account], movements: &'a Movements) -> Grouped<'a> {
    let listed = accounts.len();
    // Name id → listed account index (or NO_ACCOUNT).
    let mut listed_of = vec![NO_ACCOUNT; movements.names.len()];
    for (index, account) in accounts.iter().enumerate() {
        if let Some(id) = movements.id_of(account.number.as_str()) {
            listed_of[id as usize] = index as u32;
        }
    }
    let chunk_length = movements
        .len()
        .div_ceil(grouping_chunks(movements.len()))
        .max(1);
    // Chunks stay in movement order (collect keeps it), so an account's events do too.
    let chunks: Vec<ChunkGroups> = movements
        .movements
        .par_chunks(chunk_length)
        .map(|chunk| group_chunk(chunk, &listed_of, listed))
        .collect();
    Grouped {
        names: movements.names.iter().map(String::as_str).collect(),
        chunks,
    }
}

/// Counting sort of one chunk's movements into per-account events.
fn group_chunk(movements: &[Movement], listed_of: &[u32], listed: usize) -> ChunkGroups {
    let mut counts = vec![0usize; listed];
    for movement in movements {
        let from = listed_of[movement.from as usize];
        let to = listed_of[movement.to as usize];
        if from != NO_ACCOUNT {
            counts[from as usize] += 1;
        }
        if to != NO_ACCOUNT && movement.to != movement.from {
            counts[to as usize] += 1;
        }
    }
    let mut offsets = Vec::with_capacity(listed + 1);
    let mut total = 0;
    for count in &counts {
        offsets.push(total);
        total += count;
    }
    offsets.push(total);
    let mut cursors = offsets[..listed].to_vec();
    let mut events = vec![AccountEvent::placeholder(); total];
    for movement in movements {
        let entries = [
            (movement.from, Side::Outgoing, movement.to, true),
            (
                movement.to,
                Side::Incoming,
                movement.from,
                movement.to != movement.from,
            ),
        ];
        for (account, side, counterparty, wanted) in entries {
            let slot = listed_of[account as usize];
            if wanted && slot != NO_ACCOUNT {
                let cursor = &mut cursors[slot as usize];
                events[*cursor] = AccountEvent::of_movement(movement, side, counterparty);
                *cursor += 1;
            }
        }
    }
    ChunkGroups { offsets, events }
}
