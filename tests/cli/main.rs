//! One integration-test target: every test runs the real binary (assert_cmd). Stories that
//! touch storage run on SQLite and on a throwaway PostgreSQL (`both_backends!`).

mod support;

mod account_identifiers;
mod accounts;
mod alerts;
mod amounts;
mod architecture;
mod audit;
mod compliance;
mod concurrency;
mod cores;
mod crash;
mod csv_input;
mod csv_properties;
mod errors;
mod events;
mod evidence;
mod failures;
mod idempotency;
mod import_ops;
mod lists;
mod misc;
mod postgres;
mod reconcile;
mod reconcile_periods;
mod reconcile_rules;
mod risk;
mod screens;
mod tamper;
mod telemetry;
mod transfers;
mod validation;
