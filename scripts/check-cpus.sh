#!/usr/bin/env bash
# Every parallel path on 1, 8, 16 and 64 CPUs against the machine's 2 (issue 11): `demo`,
# `risk rescore --all`, `report compliance` (every kind, sanctions list included) and
# `reconcile run` on generated ledgers, each under ../shared/tools/with-cpus N (the process
# believes it has N CPUs). Each run must exit as it does on 2 CPUs, print the same JSON
# (trace ids aside) and take at most SLOWDOWN_MAX times the 2-CPU median (or at most
# SLOWDOWN_SLACK_MS more, for runs too short to time by ratio). Prints every median.
# Each command runs RUNS times (default 5) per CPU count on a fresh copy of its database, so a
# stored run or rescoring never changes the next one's input; the counts take turns.
# Usage: scripts/check-cpus.sh [TRANSFERS]   (default 200,000 transfers, 2,000 accounts)
set -euo pipefail
cd "$(dirname "$0")/.."
transfers=${1:-200000}
runs=${RUNS:-5}
cpu_counts=${CPU_COUNTS:-"1 8 16 64"}
slowdown_max=${SLOWDOWN_MAX:-1.5}
# A whole process of ~50 ms (the demo) varies by tens of ms between runs of any kind; a slowdown
# counts only when it is also more than this many ms.
slack_ms=${SLOWDOWN_SLACK_MS:-40}
with_cpus=$(cd .. && pwd)/shared/tools/with-cpus
[ -x "$with_cpus" ] || { echo "missing $with_cpus (../shared beside the checkout)" >&2; exit 2; }
cargo build --release --locked --quiet --bins
cargo build --release --locked -p fincore-testkit --bin fincore-workload --quiet
bin=$PWD/target/release/fincore
work=$(mktemp -d "${TMPDIR:-/tmp}/fincore-cpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
export FINCORE_OPERATOR=cpus FINCORE_LOG=error
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT

# The inputs, generated once.
target/release/fincore-workload ledger --accounts 2000 --transfers "$transfers" --out "$work/ledger" >/dev/null
target/release/fincore-workload statement --lines "$((transfers / 2))" --out "$work/statement" >/dev/null
target/release/fincore-workload names --holders 20000 --list 5000 --out "$work/names" >/dev/null
build_db() { # name accounts.csv [transfers.csv]
  local url="sqlite://$work/$1.db"
  FINCORE_NOW=2025-12-15T00:00:00Z "$bin" --quiet --db "$url" account import "$2" >/dev/null
  if [ -n "${3:-}" ]; then
    FINCORE_NOW=2025-12-15T00:00:00Z "$bin" --quiet --db "$url" transfer import "$3" >/dev/null || [ $? -eq 1 ]
  fi
}
build_db ledger "$work/ledger/accounts.csv" "$work/ledger/transfers.csv"
build_db statement "$work/statement/accounts.csv" "$work/statement/transfers.csv"
# Sanctions screening of 20,000 holders rides along in the compliance report of their ledger.
build_db names "$work/names/accounts.csv"
read -r account date tolerance window < <(python3 -c "import json; d=json.load(open('$work/statement/expected.json')); print(d['account'], d['date'], d['amount_tolerance'], d['date_window'])")

# name: database to copy fresh (or "-" for none), then the fincore arguments.
declare -A database arguments
database[demo]=-;            arguments[demo]="demo --dir @DIR@"
database[rescore]=ledger;    arguments[rescore]="risk rescore --all --as-of 2025-12-15"
database[compliance]=ledger; arguments[compliance]="report compliance --from 2025-11-01 --to 2025-12-01 --sanctions-list $work/names/sanctions.csv"
database[sanctions]=names;   arguments[sanctions]="report compliance --from 2025-11-01 --to 2025-12-01 --kind sanctions --sanctions-list $work/names/sanctions.csv"
database[reconcile]=statement; arguments[reconcile]="reconcile run --account $account --date $date --statement $work/statement/statement.csv --amount-tolerance $tolerance --date-window $window"
names="demo rescore compliance sanctions reconcile"

# One run: prints "exit_code milliseconds" and leaves the normalised JSON in $work/out/NAME-CPUS.json.
run_once() { # name cpus
  local name=$1 cpus=$2 dir="$work/run" status=0 start end
  rm -rf "$dir" && mkdir -p "$dir" "$work/out"
  if [ "${database[$name]}" != "-" ]; then cp "$work/${database[$name]}.db" "$dir/db.db"; fi
  local args=${arguments[$name]//@DIR@/$dir/demo}
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  FINCORE_NOW=2025-12-15T00:00:00Z "$with_cpus" "$cpus" "$bin" --quiet --format json \
    --db "sqlite://$dir/db.db" $args > "$dir/out.json" 2> "$dir/err.txt" || status=$?
  end=$(date +%s%N)
  python3 -c '
import json, sys
def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k != "trace_id"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value
text = open(sys.argv[1]).read()
out = strip(json.loads(text)) if text.strip() else None
json.dump(out, open(sys.argv[2], "w"), sort_keys=True, indent=1)
' "$dir/out.json" "$work/out/$name-$cpus.json"
  echo "$status $(( (end - start) / 1000000 ))"
}

median() { python3 -c 'import sys,statistics; print(int(statistics.median(int(x) for x in sys.argv[1:])))' "$@"; }

failures=0
printf '%-11s %5s %6s %10s %8s  %s\n' command cpus exit median_ms ratio result
counts=(2 $cpu_counts)
for name in $names; do
  # Rounds: every CPU count once per round, the order rotated each round, so a drift of the
  # machine's speed during the runs hits every count alike (in blocks it once read as 1.5x).
  declare -A times=() exits=()
  for round in $(seq "$runs"); do
    for index in "${!counts[@]}"; do
      cpus=${counts[$(( (index + round) % ${#counts[@]} ))]}
      read -r status ms < <(run_once "$name" "$cpus")
      times[$cpus]="${times[$cpus]:-} $ms"
      previous=${exits[$cpus]:-}
      if [ -n "$previous" ] && [ "$status" != "$previous" ]; then exits[$cpus]=varies; else exits[$cpus]=$status; fi
      # The output of the 2-CPU runs is the reference; keep one.
      [ "$cpus" != 2 ] || cp "$work/out/$name-2.json" "$work/out/$name-base.json"
    done
  done
  base_exit=${exits[2]}
  # shellcheck disable=SC2086
  base_ms=$(median ${times[2]})
  for cpus in "${counts[@]}"; do
    exit_code=${exits[$cpus]}
    # shellcheck disable=SC2086
    ms=$(median ${times[$cpus]})
    verdict=ok
    if [ "$cpus" = 2 ]; then
      [ "$exit_code" -le 1 ] 2>/dev/null || { verdict="FAIL: exit $exit_code on 2 CPUs"; }
    else
      [ "$exit_code" = "$base_exit" ] || verdict="FAIL: exit $exit_code, 2 CPUs gave $base_exit"
      cmp -s "$work/out/$name-$cpus.json" "$work/out/$name-base.json" || verdict="FAIL: output differs from 2 CPUs"
      python3 -c "import sys; sys.exit(0 if $ms <= $slowdown_max * max($base_ms, 1) or $ms - $base_ms <= $slack_ms else 1)" \
        || verdict="FAIL: slower than ${slowdown_max}x (and ${slack_ms} ms) the 2-CPU run"
    fi
    ratio=$(python3 -c "print(f'{$ms / max($base_ms, 1):.2f}')")
    printf '%-11s %5s %6s %10s %8s  %s\n' "$name" "$cpus" "$exit_code" "$ms" "$ratio" "$verdict"
    [ "$verdict" = ok ] || failures=$((failures + 1))
  done
  unset times exits
done
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "every command exits alike, prints the same result and keeps its speed on 1 to 64 CPUs"
