#!/usr/bin/env bash
# Ledger-core benchmark (release build): import throughput and peak RSS for 1,000,000
# transfers among 10,000 accounts (median of IMPORT_RUNS=3 fresh imports), `report balances` time, and the median whole-process time of
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
source scripts/bench-common.sh
ensure_workload
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(f"{statistics.median(v):.1f}")'; }
millis() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }

# One import into a fresh ledger: prints "seconds rss_kib".
import_once() {
  fresh_db
  /usr/bin/time -v -o "$work/import.time" "$bin" --quiet --format json transfer import "$work/transfers-$transfers-$accounts.csv" > "$work/import.json" || true
  python3 - "$work" "$transfers" <<'PY'
import json, sys
work, transfers = sys.argv[1], int(sys.argv[2])
lines = open(f"{work}/import.time").read().splitlines()
value = lambda name: next(l.split(": ", 1)[1] for l in lines if name in l)
seconds = sum(float(x) * 60**i for i, x in enumerate(reversed(value("Elapsed (wall clock)").split(":"))))
result = json.load(open(f"{work}/import.json"))
assert result["posted"] + result["rejected"] == transfers, result
print(seconds, value("Maximum resident set size"))
PY
}

# A PostgreSQL database must start empty, so it gets one import; SQLite gets a fresh file each run.
import_runs=${IMPORT_RUNS:-3}
[ -n "${FINCORE_BENCH_DB:-}" ] && import_runs=1
: > "$work/import.runs"
for _ in $(seq "$import_runs"); do import_once >> "$work/import.runs"; done
python3 - "$work/import.runs" "$transfers" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
transfers = int(sys.argv[2])
seconds = [float(s) for s, _ in runs]
rss_mib = [int(k) // 1024 for _, k in runs]
rates = ", ".join(f"{int(transfers / s):,}" for s in seconds)
median = statistics.median(seconds)
print(f"import: {transfers} rows, median of {len(runs)}: {median:.2f}s = {int(transfers / median):,} transfers/s "
      f"(each run: {rates}/s), peak RSS median {int(statistics.median(rss_mib))} MiB (max {max(rss_mib)})")
PY

balances=$(for _ in $(seq 5); do millis "$bin" --format json report balances; done | median)
echo "report balances: median ${balances} ms over 5 runs"

posts=$(for i in $(seq "$runs"); do millis "$bin" transfer post --from 4000000000000001 --to 4000000000000002 --amount 1.00 --currency USD --key "bench-post-$i-$$"; done | median)
echo "transfer post: median ${posts} ms whole process over $runs runs"
