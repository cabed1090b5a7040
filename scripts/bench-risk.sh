#!/usr/bin/env bash
# Risk benchmark (release build), on the ledger workload of scripts/bench-ledger.sh:
# - `transfer import` of TRANSFERS rows among ACCOUNTS accounts with assessment on (built-in
#   rules), and for comparison with an empty rules file (assessment does no work);
# - `risk rescore --all` over the imported ledger, median of RUNS (default 3) runs.
# Each figure is wall time and, since the machine may be shared, the process's CPU time.
# Usage: scripts/bench-risk.sh [TRANSFERS] [ACCOUNTS]
# FINCORE_BENCH_DB=postgres://… runs against PostgreSQL (the database must be empty; the
# comparison import is skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
transfers=${1:-1000000}
accounts=${2:-10000}
runs=${RUNS:-3}
cargo build --release --quiet --bins
bin=$PWD/target/release/fincore
work=${BENCH_DIR:-$PWD/bench-output/risk}
mkdir -p "$work"
csv="$work/transfers-$transfers-$accounts.csv"
source scripts/bench-common.sh
ensure_workload
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench

# "seconds cpu_seconds" of one command (output discarded, exit codes 0 and 1 accepted).
measure() {
  local out=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" > "$out" || [ $? -eq 1 ]
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$work/time.txt"
}

report_import() {
  local label=$1 wall cpu
  read -r wall cpu <<< "$2"
  local counts
  counts=$(python3 -c "import json; d=json.load(open('$work/import.json')); print(f\"posted {d['posted']}, rejected {d['rejected']}\")")
  echo "import ($label): $transfers rows in ${wall}s wall = $(python3 -c "print(int($transfers/$wall))") transfers/s; cpu ${cpu}s = $(python3 -c "print(int($transfers/max($cpu,0.01)))") transfers/cpu-s ($counts)"
}

if [ -z "${FINCORE_BENCH_DB:-}" ]; then
  printf '' > "$work/no-rules.toml"
  fresh_db
  report_import "empty rules file" "$(measure "$work/import.json" "$bin" --quiet --format json transfer import "$csv" --rules "$work/no-rules.toml")"
fi
fresh_db
report_import "built-in rules" "$(measure "$work/import.json" "$bin" --quiet --format json transfer import "$csv")"

walls=(); cpus=()
for _ in $(seq "$runs"); do
  read -r wall cpu <<< "$(measure "$work/rescore.json" "$bin" --quiet --format json risk rescore --all)"
  walls+=("$wall"); cpus+=("$cpu")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
summary=$(python3 -c "import json; d=json.load(open('$work/rescore.json')); print(f\"{d['accounts']} accounts, levels {d['levels']}\")")
echo "risk rescore --all: wall ${walls[*]} s, median $(median "${walls[@]}") s; cpu ${cpus[*]} s, median $(median "${cpus[@]}") s ($summary)"
