//! Report builders: compliance findings over the ledger.

pub mod compliance;
