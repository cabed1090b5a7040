#!/usr/bin/env bash
# Ledger-core benchmark (release build): import throughput and peak RSS for 1,000,000
# transfers among 10,000 accounts, `report balances` time, and the median whole-process time of
# one `transfer post`. Usage: scripts/bench-ledger.sh [TRANSFERS] [ACCOUNTS]
# FINCORE_BENCH_DB=postgres://… runs against PostgreSQL instead of a fresh SQLite file (the
# database must be empty).
set -euo pipefail
cd "$(dirname "$0")/.."
transfers=${1:-1000000}
accounts=${2:-10000}
runs=${RUNS:-15}
cargo build --release --quiet --bins
bin=$PWD/target/release/fincore
work=${BENCH_DIR:-$PWD/bench-output/ledger}
mkdir -p "$work"
[ -f "$work/transfers-$transfers-$accounts.csv" ] || {
  target/release/fincore-workload ledger --accounts "$accounts" --transfers "$transfers" --out "$work/gen"
  mv "$work/gen/transfers.csv" "$work/transfers-$transfers-$accounts.csv"
  mv "$work/gen/accounts.csv" "$work/accounts-$accounts.csv"
}
if [ -n "${FINCORE_BENCH_DB:-}" ]; then
  export FINCORE_DATABASE_URL=$FINCORE_BENCH_DB
else
  rm -f "$work"/bench.db*
  export FINCORE_DATABASE_URL="sqlite://$work/bench.db"
fi
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench
"$bin" --quiet account import "$work/accounts-$accounts.csv" >/dev/null

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(f"{statistics.median(v):.1f}")'; }
millis() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }

/usr/bin/time -v -o "$work/import.time" "$bin" --quiet --format json transfer import "$work/transfers-$transfers-$accounts.csv" > "$work/import.json" || true
elapsed=$(grep "Elapsed (wall clock)" "$work/import.time" | awk '{print $NF}')
seconds=$(python3 -c "p='$elapsed'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
rss_kib=$(grep "Maximum resident set size" "$work/import.time" | awk '{print $NF}')
posted=$(python3 -c "import json; d=json.load(open('$work/import.json')); print(d['posted'], d['rejected'])")
echo "import: $transfers rows in ${seconds}s = $(python3 -c "print(int($transfers/$seconds))") transfers/s, peak RSS $((rss_kib / 1024)) MiB (posted, rejected: $posted)"

balances=$(for _ in $(seq 5); do millis "$bin" --format json report balances; done | median)
echo "report balances: median ${balances} ms over 5 runs"

posts=$(for i in $(seq "$runs"); do millis "$bin" transfer post --from 4000000000000001 --to 4000000000000002 --amount 1.00 --currency USD --key "bench-post-$i-$$"; done | median)
echo "transfer post: median ${posts} ms whole process over $runs runs"
