//! Posting: the rules that turn a transfer request into balanced entries or a recorded
//! rejection. Requests are applied to an in-memory book of the accounts they touch (loaded
//! under the write lock), then the batch is written in the same transaction.

mod apply;
#[cfg(test)]
mod apply_tests;

pub(crate) use apply::{
    account_not_found, apply, apply_in_place, assert_balanced, rejection_error, tally_transfers,
    touched_balances, Applied, ApplyContext, Batch, Book, Outcome,
};
