#!/usr/bin/env bash
# `ledger verify` over a 1,000,000-transfer ledger (release build, SQLite): median whole-process
# wall time and peak RSS of ROUNDS=5 runs, against the targets of issue 14 (at most 2 s, under
# 300 MiB). The ledger is the ledger benchmark's workload (10,000 accounts), imported once by
# this binary into BENCH_DIR (default bench-output/verify) and reused while the binary is older.
# Usage: scripts/bench-verify.sh [TRANSFERS]
set -euo pipefail
cd "$(dirname "$0")/.."
transfers=${1:-1000000}
accounts=10000
rounds=${ROUNDS:-5}
cargo build --release --quiet --bins
bin=$PWD/target/release/fincore
work=${BENCH_DIR:-$PWD/bench-output/verify}
mkdir -p "$work"
source scripts/bench-common.sh
ensure_workload
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench FINCORE_LOG=error
db=$work/verify-$transfers.db
if [ ! -f "$db.imported" ] || [ "$bin" -nt "$db.imported" ]; then
  rm -f "$db" "$db-wal" "$db-shm" "$db.imported"
  "$bin" --quiet --db "sqlite://$db" account import "$work/accounts-$accounts.csv" >/dev/null
  "$bin" --quiet --db "sqlite://$db" transfer import "$work/transfers-$transfers-$accounts.csv" >/dev/null || [ $? -eq 1 ]
  python3 -c "import sqlite3; sqlite3.connect('$db').execute('PRAGMA wal_checkpoint(TRUNCATE)')"
  touch "$db.imported"
fi
: > "$work/verify.runs"
for _ in $(seq "$rounds"); do
  /usr/bin/time -v -o "$work/verify.time" "$bin" --db "sqlite://$db" --format json ledger verify >"$work/verify.json"
  python3 - "$work" >>"$work/verify.runs" <<'PY'
import json, sys
work = sys.argv[1]
fields = dict(l.strip().rsplit(": ", 1) for l in open(f"{work}/verify.time") if ": " in l)
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"))))
report = json.load(open(f"{work}/verify.json"))
assert report["ok"], report["discrepancies"][:5]
print(wall, int(fields["Maximum resident set size (kbytes)"]) // 1024, report["transfers"], report["rows_checked"])
PY
done
python3 - "$work/verify.runs" <<'PY'
import statistics, sys
runs = [line.split() for line in open(sys.argv[1])]
wall = statistics.median(float(r[0]) for r in runs)
rss = max(int(r[1]) for r in runs)
transfers, rows = runs[0][2], runs[0][3]
verdict = "ok" if wall <= 2.0 and rss < 300 else "FAIL"
print(f"ledger verify: {transfers} transfers, {rows} bound rows: median {wall:.2f} s of {len(runs)} "
      f"(each: {', '.join(r[0] for r in runs)}), peak RSS {rss} MiB  [{verdict}: target <= 2 s, < 300 MiB]")
PY
