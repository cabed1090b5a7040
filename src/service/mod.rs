//! Use cases: each runs one transaction (retried on a serialization race) that reads what it
//! needs, asks the pure cores what to do, writes the change and its audit events together.
//! Commands call these; these call `store/` and the cores; nothing here parses flags or prints.

pub mod account_import;
pub mod accounts;
mod batch;
pub mod blacklist;
pub mod compliance;
pub mod post;
pub mod reconcile;
pub mod rescore;
pub mod risk_rules;
pub mod transfer_import;
mod transfer_import_batch;
pub mod verify;

pub use batch::{audit_transfers, write_balances, write_batch};

/// Where a long use case reports how far it got (a progress bar in a terminal, nothing in a
/// pipe).
pub trait Progress: Sync {
    fn stage(&self, message: &'static str);
    fn position(&self, count: u64);
}
