#!/usr/bin/env bash
# Compliance benchmark (release build):
#  1. every kind over the 1,000,000-transfer / 10,000-account ledger workload, with a
#     10,000-entry sanctions list (median of 3 whole-process runs);
#  2. sanctions screening of 100,000 holders against a 10,000-entry list (median of 3).
# Reuses bench-output/ledger/bench.db from scripts/bench-ledger.sh when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins
cargo build --release --locked -p fincore-testkit --bin fincore-workload --quiet
bin=$PWD/target/release/fincore
work=$PWD/bench-output
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench
[ -f "$work/ledger/bench.db" ] || FINCORE_LOG=error ./scripts/bench-ledger.sh >/dev/null
[ -f "$work/names/sanctions.csv" ] || target/release/fincore-workload names --holders 100000 --list 10000 --out "$work/names"
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(f"{statistics.median(v):.0f}")'; }
millis() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }

export FINCORE_DATABASE_URL="sqlite://$work/ledger/bench.db"
all=$(for _ in 1 2 3; do millis "$bin" --format json report compliance --from 2025-11-01 --to 2025-12-01 --sanctions-list "$work/names/sanctions.csv"; done | median)
counts=$("$bin" --format json report compliance --from 2025-11-01 --to 2025-12-01 --sanctions-list "$work/names/sanctions.csv" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(", ".join(f"{k} {len(d[k])}" for k in ["ctr","structuring","sanctions","suspicious"]))')
echo "all kinds over 1,000,000 transfers: median ${all} ms ($counts)"

rm -f "$work/names/names.db"*
export FINCORE_DATABASE_URL="sqlite://$work/names/names.db"
"$bin" --quiet account import "$work/names/accounts.csv" >/dev/null
screen=$(for _ in 1 2 3; do millis "$bin" --format json report compliance --from 2025-11-01 --to 2025-12-01 --kind sanctions --sanctions-list "$work/names/sanctions.csv"; done | median)
hits=$("$bin" --format json report compliance --from 2025-11-01 --to 2025-12-01 --kind sanctions --sanctions-list "$work/names/sanctions.csv" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sanctions"]))')
echo "screening 100,000 holders against 10,000 names: median ${screen} ms ($hits hits)"
