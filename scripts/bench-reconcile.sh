#!/usr/bin/env bash
# Reconciliation benchmark (release build): a deterministic 1,000,000-line statement against
# about 1,000,000 internal settlement movements, about 1 % of each break kind (the engine's
# generator, `fincore-workload statement`). Imports the movements, then times `reconcile run`
# end to end (median of RUNS, default 3) with peak RSS from /usr/bin/time -v, and checks the
# run's counts against the generator's ground truth and its items against the engine's own.
# Wall time depends on what else the machine runs: the CPU time (user+sys) is printed too.
# Usage: scripts/bench-reconcile.sh [LINES]
# FINCORE_BENCH_DB=postgres://… runs against PostgreSQL instead of a fresh SQLite file (the
# database must be empty).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=${RUNS:-3}
cargo build --release --quiet --bins
cargo build --release --locked -p fincore-testkit --bin fincore-workload --quiet
bin=$PWD/target/release/fincore
work=${BENCH_DIR:-$PWD/bench-output/reconcile}
data="$work/data-$lines"
mkdir -p "$work"
[ -f "$data/expected.json" ] || target/release/fincore-workload statement --lines "$lines" --out "$data"
if [ -n "${FINCORE_BENCH_DB:-}" ]; then
  export FINCORE_DATABASE_URL=$FINCORE_BENCH_DB
else
  rm -f "$work"/bench.db*
  export FINCORE_DATABASE_URL="sqlite://$work/bench.db"
fi
export FINCORE_NOW=2026-11-21T06:00:00Z FINCORE_OPERATOR=bench
"$bin" --quiet account import "$data/accounts.csv" >/dev/null
start=$(date +%s%N)
"$bin" --quiet --format json transfer import "$data/transfers.csv" > "$work/import.json"
end=$(date +%s%N)
echo "import: $(python3 -c "import json; d=json.load(open('$work/import.json')); print(d['posted'], 'movements posted,', d['rejected'], 'rejected')") in $(( (end - start) / 1000000 )) ms"

read -r account date tolerance window < <(python3 -c "import json; d=json.load(open('$data/expected.json')); print(d['account'], d['date'], d['amount_tolerance'], d['date_window'])")
: > "$work/runs.txt"
for run in $(seq "$runs"); do
  status=0
  /usr/bin/time -v -o "$work/run-$run.time" "$bin" --quiet --format json reconcile run \
    --account "$account" --date "$date" --statement "$data/statement.csv" \
    --amount-tolerance "$tolerance" --date-window "$window" > "$work/run-$run.json" || status=$?
  [ "$status" -le 1 ] || { echo "reconcile run failed with exit $status"; exit 1; }
  elapsed=$(grep "Elapsed (wall clock)" "$work/run-$run.time" | awk '{print $NF}')
  rss_kib=$(grep "Maximum resident set size" "$work/run-$run.time" | awk '{print $NF}')
  cpu=$(awk -F': ' '/User time|System time/ {sum += $2} END {print sum}' "$work/run-$run.time")
  seconds=$(python3 -c "p='$elapsed'.split(':'); print(sum(float(x)*60**i for i,x in enumerate(reversed(p))))")
  echo "$seconds $rss_kib $cpu" >> "$work/runs.txt"
  echo "run $run: ${seconds} s wall, ${cpu} s CPU (user+sys), peak RSS $((rss_kib / 1024)) MiB, exit $status, load $(cut -d' ' -f1 /proc/loadavg)"
done

python3 - "$work" "$data" "$lines" <<'PY'
import csv, json, statistics, sys
work, data, lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
runs = [tuple(map(float, line.split())) for line in open(f"{work}/runs.txt")]
seconds = statistics.median(r[0] for r in runs)
rss_mib = statistics.median(r[1] for r in runs) / 1024
cpu = statistics.median(r[2] for r in runs)
expected = json.load(open(f"{data}/expected.json"))
run = json.load(open(f"{work}/run-{len(runs)}.json"))
keys = ["statement_lines", "internal_entries", "matched", "matched_fuzzy", "breaks"]
mismatches = [k for k in keys if run[k] != expected[k]]
want = sorted(tuple(row.values()) for row in csv.DictReader(open(f"{data}/expected-items.csv")))
got = sorted((i["kind"], i["reference"], i["internal_amount"] or "", i["external_amount"] or "",
              i["difference"] or "", str(i["statement_line"] or "")) for i in run["items"])
print(f"reconcile run: median {seconds:.2f} s over {len(runs)} runs = {lines / seconds:,.0f} statement lines/s, "
      f"peak RSS {rss_mib:.0f} MiB (median); CPU user+sys median {cpu:.2f} s")
print(f"breaks: {json.dumps(run['breaks'], sort_keys=True)}; matched {run['matched']}, fuzzy {run['matched_fuzzy']}, "
      f"internal entries {run['internal_entries']} of {expected['internal_movements']} movements")
print("ground truth counts:", "equal" if not mismatches else f"DIFFER in {mismatches}")
print("items vs engine:", "equal" if want == got else f"DIFFER ({len(got)} stored, {len(want)} expected)")
sys.exit(1 if mismatches or want != got else 0)
PY
