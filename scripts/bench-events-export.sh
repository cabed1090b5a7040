#!/usr/bin/env bash
# Change-feed benchmark (release build): `events export` of a ledger of 1,000,000 imported
# transfers among 10,000 accounts (the ledger workload of bench-ledger.sh, imported once) to
# /dev/null: events/s (median of RUNS=5 runs, every event of the ledger each time) and peak RSS.
# Usage: scripts/bench-events-export.sh [TRANSFERS] [ACCOUNTS]
# FINCORE_BENCH_DB=postgres://… runs against PostgreSQL instead of a fresh SQLite file (the
# database must be empty).
set -euo pipefail
cd "$(dirname "$0")/.."
transfers=${1:-1000000}
accounts=${2:-10000}
runs=${RUNS:-5}
cargo build --release --quiet --bins
bin=$PWD/target/release/fincore
work=${BENCH_DIR:-$PWD/bench-output/events}
mkdir -p "$work"
source scripts/bench-common.sh
ensure_workload
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench
fresh_db
"$bin" --quiet transfer import "$work/transfers-$transfers-$accounts.csv" >/dev/null || [ $? -eq 1 ]
events=$("$bin" events export | wc -l)
echo "ledger: $transfers imported transfers, $accounts accounts: $events events in the feed"

# One export to /dev/null: prints "seconds rss_kib".
export_once() {
  /usr/bin/time -f "%e %M" -o "$work/export.time" "$bin" events export > /dev/null
  cat "$work/export.time"
}
: > "$work/export.runs"
for _ in $(seq "$runs"); do export_once >> "$work/export.runs"; done
python3 - "$work/export.runs" "$events" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
events = int(sys.argv[2])
seconds = [max(float(s), 0.001) for s, _ in runs]
rss_mib = [int(k) / 1024 for _, k in runs]
median = statistics.median(seconds)
each = ", ".join(f"{int(events / s):,}" for s in seconds)
print(f"events export: {events:,} events to /dev/null, median of {len(runs)}: {median:.2f}s = "
      f"{int(events / median):,} events/s (each run: {each}/s), peak RSS max {max(rss_mib):.0f} MiB")
PY
