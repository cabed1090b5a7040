//! Use cases: each runs one transaction (retried on a serialization race) that reads what it
//! needs, asks the pure cores what to do, writes the change and its audit events together.
//! Commands call these; these call `store/` and the cores; nothing here parses flags or prints.

pub(crate) mod account_import;
pub(crate) mod accounts;
pub(crate) mod alerts;
mod batch;
pub(crate) mod blacklist;
pub(crate) mod compliance;
pub(crate) mod events;
pub(crate) mod post;
pub(crate) mod reconcile;
pub(crate) mod reconcile_bulk;
pub(crate) mod reconcile_rules;
pub(crate) mod rescore;
pub(crate) mod risk_rules;
pub mod transfer_import;
mod transfer_import_batch;
pub(crate) mod verify;

pub(crate) use batch::{write_balances, write_batch};

/// Where a long use case reports how far it got (a progress bar in a terminal, nothing in a
/// pipe).
pub(crate) trait Progress: Sync {
    fn stage(&self, message: &'static str);
    fn position(&self, count: u64);
}
