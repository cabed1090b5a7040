# Shared by the ledger and risk benchmarks (sourced). Expects `bin`, `work`, `transfers` and
# `accounts` to be set.

# The deterministic ledger workload, generated once per size into $work.
ensure_workload() {
  [ -f "$work/transfers-$transfers-$accounts.csv" ] && return
  # The generator lives in the dev-only workspace member, not in the shipped crate.
  cargo build --release --locked -p fincore-testkit --bin fincore-workload --quiet
  target/release/fincore-workload ledger --accounts "$accounts" --transfers "$transfers" --out "$work/gen"
  mv "$work/gen/transfers.csv" "$work/transfers-$transfers-$accounts.csv"
  mv "$work/gen/accounts.csv" "$work/accounts-$accounts.csv"
}

# A ledger with only the workload's accounts: a fresh SQLite file, or FINCORE_BENCH_DB (which
# must be empty) when set.
fresh_db() {
  if [ -n "${FINCORE_BENCH_DB:-}" ]; then
    export FINCORE_DATABASE_URL=$FINCORE_BENCH_DB
  else
    rm -f "$work"/bench.db*
    export FINCORE_DATABASE_URL="sqlite://$work/bench.db"
  fi
  "$bin" --quiet account import "$work/accounts-$accounts.csv" >/dev/null
}
