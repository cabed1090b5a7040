#!/usr/bin/env bash
# Two fincore binaries side by side on the same workloads, in the same run, turn about
# (A B B A …), so a drift of the machine's speed hits both alike. Prints each one's median
# wall time and the median of the per-pair ratios B/A for:
#   import    `transfer import` of TRANSFERS transfers over 10,000 accounts (fresh database)
#   rescore   `risk rescore --all` over that ledger (a fresh copy of it each run)
#   reconcile `reconcile run` of a LINES-line statement (a fresh copy of its ledger each run)
# Usage: scripts/bench-compare.sh OLD_BINARY NEW_BINARY [TRANSFERS] [LINES]
# e.g. build the previous commit in a worktree and compare its target/release/fincore with ours.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY [TRANSFERS] [LINES]" >&2; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2")
transfers=${3:-1000000}; lines=${4:-1000000}; runs=${RUNS:-4}
cargo build --release --locked -p fincore-testkit --bin fincore-workload --quiet
work=${BENCH_DIR:-$PWD/bench-output/compare}
mkdir -p "$work"
export FINCORE_NOW=2025-12-15T00:00:00Z FINCORE_OPERATOR=bench FINCORE_LOG=error
[ -f "$work/ledger-$transfers/transfers.csv" ] || target/release/fincore-workload ledger --accounts 10000 --transfers "$transfers" --out "$work/ledger-$transfers" >/dev/null
[ -f "$work/statement-$lines/statement.csv" ] || target/release/fincore-workload statement --lines "$lines" --out "$work/statement-$lines" >/dev/null
read -r account date tolerance window < <(python3 -c "import json; d=json.load(open('$work/statement-$lines/expected.json')); print(d['account'], d['date'], d['amount_tolerance'], d['date_window'])")

millis() { # command… → wall milliseconds; exit codes 0 and 1 (findings) count as success
  local start end status=0
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || status=$?
  end=$(date +%s%N)
  [ "$status" -le 1 ] || { echo "failed with exit $status: $*" >&2; exit 1; }
  echo $(( (end - start) / 1000000 ))
}
fresh() { # binary name accounts.csv [transfers.csv] → a ledger database at $work/NAME.db
  rm -f "$work/$2".db*
  "$1" --quiet --db "sqlite://$work/$2.db" account import "$3" >/dev/null
  if [ -n "${4:-}" ]; then "$1" --quiet --db "sqlite://$work/$2.db" transfer import "$4" >/dev/null || [ $? -eq 1 ]; fi
}

: > "$work/times.txt"
# The ledgers rescoring and reconciliation read, built once by the new binary (same schema).
fresh "$new" rescore-base "$work/ledger-$transfers/accounts.csv" "$work/ledger-$transfers/transfers.csv"
fresh "$new" reconcile-base "$work/statement-$lines/accounts.csv" "$work/statement-$lines/transfers.csv"
for run in $(seq "$runs"); do
  # ABBA: who goes first alternates, so an order effect (the disk still writing back the
  # previous import, a warmer cache) does not land on one side; seen: +4.7 % on the second
  # of two identical import paths.
  order="old new"; [ $((run % 2)) -eq 0 ] && order="new old"
  for side in $order; do
    bin=${!side}
    rm -f "$work/import".db*
    "$bin" --quiet --db "sqlite://$work/import.db" account import "$work/ledger-$transfers/accounts.csv" >/dev/null
    echo "import $side $(millis "$bin" --quiet --db "sqlite://$work/import.db" transfer import "$work/ledger-$transfers/transfers.csv")" >> "$work/times.txt"
    cp "$work/rescore-base.db" "$work/rescore.db"
    echo "rescore $side $(millis "$bin" --quiet --db "sqlite://$work/rescore.db" risk rescore --all)" >> "$work/times.txt"
    cp "$work/reconcile-base.db" "$work/reconcile.db"
    echo "reconcile $side $(millis "$bin" --quiet --db "sqlite://$work/reconcile.db" reconcile run --account "$account" --date "$date" --statement "$work/statement-$lines/statement.csv" --amount-tolerance "$tolerance" --date-window "$window")" >> "$work/times.txt"
  done
  echo "run $run of $runs done (load $(cut -d' ' -f1 /proc/loadavg))"
done
python3 - "$work/times.txt" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for task in ["import", "rescore", "reconcile"]:
    old = [int(ms) for name, side, ms in rows if name == task and side == "old"]
    new = [int(ms) for name, side, ms in rows if name == task and side == "new"]
    ratios = [n / o for o, n in zip(old, new)]
    print(f"{task:<10} old median {statistics.median(old):>7.0f} ms   new median {statistics.median(new):>7.0f} ms"
          f"   new/old median {statistics.median(ratios):.3f} (pairs {', '.join(f'{r:.2f}' for r in ratios)})")
PY
