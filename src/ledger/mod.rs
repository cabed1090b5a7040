//! Posting: the rules that turn a transfer request into balanced entries or a recorded
//! rejection. Requests are applied to an in-memory book of the accounts they touch (loaded
//! under the write lock), then the batch is written in the same transaction.

pub mod accounts;
mod apply;
pub mod import;
mod import_batch;
pub mod post;
pub mod risk;
pub mod verify;

pub use apply::{
    apply, apply_in_place, assert_balanced, audit_transfers, rejection_error, tally_transfers,
    write_balances, write_batch, Applied, ApplyContext, Batch, Book, Outcome,
};
