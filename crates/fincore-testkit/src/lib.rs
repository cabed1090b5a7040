//! fincore-testkit: what fincore's tests, benchmarks and benchmark scripts need and the shipped
//! crate must not carry. Dev only (`publish = false`); `cargo install --path .` at the
//! repository root installs `fincore` alone.
//!
//! - `random`: the seeded generators every synthetic data set draws from.
//! - `reconcile`: statements and ledger movements whose reconciliation outcome is known by
//!   construction, and their CSV writers and reader.
//! - `compliance`: holder names, sanctions lists and year-long ledgers with injected patterns.
//! - `risk`: account histories for rescoring and the window assessor.
//! - `cpu_time`: process and thread CPU time for the benchmarks.
//!
//! The binary `fincore-workload` writes these workloads in fincore's own file formats for the
//! `scripts/bench-*.sh` scripts (`cargo build --release --locked -p fincore-testkit --bin
//! fincore-workload`; it lands in `target/release/`). The benchmarks are ignored tests under
//! `tests/`, run in release:
//! - risk and compliance: `cargo test -p fincore-testkit --release -- --ignored --nocapture
//!   --test-threads=1 bench_`
//! - reconciliation, 1,000,000 lines: `cargo test -p fincore-testkit --release --test reconcile
//!   -- --ignored --nocapture --test-threads=1 benchmark_`
//!
//! `scripts/test.sh` (`cargo test --workspace`) runs the tests that are not ignored.

pub mod compliance;
pub mod cpu_time;
pub mod random;
pub mod reconcile;
pub mod risk;
