//! Transfers as rescoring and profiles see them: compact movements with interned account
//! numbers, built while reading from the database or from `Transfer`s.

use crate::fast_map::FastMap;
use crate::model::{Transfer, TransferStatus};

/// One transfer as rescoring sees it: 40 bytes instead of a full `Transfer`, accounts as
/// indexes into `Movements::names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Movement {
    pub(crate) id: i64,
    pub(crate) at_us: i64,
    pub(crate) amount_minor: i64,
    pub(crate) from: u32,
    pub(crate) to: u32,
    /// Posted (a movement of money) rather than rejected (an attempt).
    pub(crate) posted: bool,
}

/// Movements with their account numbers interned.
#[derive(Debug, Default, Clone)]
pub struct Movements {
    pub(crate) names: Vec<String>,
    pub(crate) movements: Vec<Movement>,
    ids: FastMap<String, u32>,
}

impl Movements {
    pub(crate) fn with_capacity(movements: usize) -> Movements {
        Movements {
            movements: Vec::with_capacity(movements),
            ..Movements::default()
        }
    }

    /// The index of `number`, interned on first sight.
    pub(crate) fn intern(&mut self, number: &str) -> u32 {
        if let Some(id) = self.ids.get(number) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 4 billion accounts");
        self.names.push(number.to_string());
        self.ids.insert(number.to_string(), id);
        id
    }

    pub(crate) fn push(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        amount_minor: i64,
        at_us: i64,
        posted: bool,
    ) {
        let from = self.intern(from);
        let to = self.intern(to);
        self.movements.push(Movement {
            id,
            at_us,
            amount_minor,
            from,
            to,
            posted,
        });
    }

    pub(crate) fn of_transfers(transfers: &[Transfer]) -> Movements {
        let mut movements = Movements::with_capacity(transfers.len());
        for transfer in transfers {
            movements.push(
                transfer.id,
                &transfer.from,
                &transfer.to,
                transfer.amount_minor,
                transfer.at_us,
                transfer.status == TransferStatus::Posted,
            );
        }
        movements
    }

    /// Append `other` (read separately, e.g. on another thread), re-interning its names.
    pub(crate) fn append(&mut self, other: Movements) {
        let remap: Vec<u32> = other.names.iter().map(|name| self.intern(name)).collect();
        self.movements
            .extend(other.movements.into_iter().map(|mut movement| {
                movement.from = remap[movement.from as usize];
                movement.to = remap[movement.to as usize];
                movement
            }));
    }

    /// The index of `number` if it was interned.
    pub(crate) fn id_of(&self, number: &str) -> Option<u32> {
        self.ids.get(number).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.movements.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.movements.is_empty()
    }
}
