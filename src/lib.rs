//! fincore: the back office of a small bank or payment company.
//!
//! Layout tells the architecture: `commands/` parse and present, `ledger/` posts,
//! `reconcile/` matches, `risk/` scores, `report/` renders, `store/` persists,
//! `telemetry.rs` traces.

// `unsafe` is denied everywhere but `store::sqlite_raw` (the raw SQLite fast paths), which
// allows it for itself. `forbid` here could not be lifted there; `main.rs` forbids it outright.
#![deny(unsafe_code)]

pub mod alerts;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod cpu_pool;
pub mod csv_input;
pub mod error;
pub mod events;
pub mod evidence;
pub mod fast_map;
pub mod input;
pub mod ledger;
pub mod metrics;
pub mod model;
pub mod money;
pub mod output;
pub mod reconcile;
pub mod report;
pub mod risk;
pub mod rule_table;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod text;
