#!/usr/bin/env bash
# Telemetry overhead on a release build, against a live OTLP receiver (examples/otlp_sink.rs,
# the test suite's receiver as a process):
#   1. median whole-process time of `transfer post` with telemetry over gRPC and over
#      HTTP/protobuf vs OTEL_SDK_DISABLED=true (target: at most +5 ms);
#   2. a 1,000,000-row `transfer import` (accounts imported first) with telemetry on vs off
#      (target: at most 5% slower).
# Uses hyperfine when installed (`apt-get install hyperfine`), else a timed loop (date +%s%N
# for wall time, /usr/bin/time for CPU). Variants are interleaved in rotating rounds; prints
# medians of wall and CPU time (CPU time is the steadier figure on a loaded machine).
#
# Knobs: BENCH_POST_RUNS (100), BENCH_IMPORT_ROWS (1000000), BENCH_IMPORT_RUNS (3),
#        BENCH_ACCOUNTS (1000), BENCH_SKIP_IMPORT=1, BENCH_DIR (default /dev/shm),
#        BENCH_NO_HYPERFINE=1 (use the loop).
set -euo pipefail
cd "$(dirname "$0")/.."

POST_RUNS=${BENCH_POST_RUNS:-100}
POST_ROUNDS=10
ROWS=${BENCH_IMPORT_ROWS:-1000000}
IMPORT_RUNS=${BENCH_IMPORT_RUNS:-3}
ACCOUNTS=${BENCH_ACCOUNTS:-1000}

echo "building release binaries…" >&2
cargo build --release --quiet --bin fincore --example otlp_sink
BIN=$PWD/target/release/fincore
SINK=$PWD/target/release/examples/otlp_sink

# The databases live on tmpfs when there is one: fsync noise on a shared disk is tens of
# milliseconds and would drown the few milliseconds being measured.
BENCH_DIR=${BENCH_DIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
WORK=$(mktemp -d "$BENCH_DIR/fincore-bench.XXXXXX")
SINK_PID=""
cleanup() {
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A clean environment: only what each variant sets.
for name in $(env | grep -o '^OTEL_[A-Z_]*' || true); do unset "$name"; done
unset TRACEPARENT TRACESTATE FINCORE_LOG FINCORE_DATABASE_URL FINCORE_FORMAT
export FINCORE_OPERATOR=bench NO_COLOR=1

"$SINK" "$WORK/sink-stats" >"$WORK/sink-out" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$WORK/sink-out" ] && break; sleep 0.05; done
read -r grpc_part http_part <"$WORK/sink-out"
GRPC=${grpc_part#grpc=}
HTTP=${http_part#http=}
echo "receiver: grpc $GRPC, http $HTTP" >&2

OFF="env OTEL_SDK_DISABLED=true OTEL_EXPORTER_OTLP_ENDPOINT=$GRPC"
ON_GRPC="env OTEL_EXPORTER_OTLP_ENDPOINT=$GRPC OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
ON_HTTP="env OTEL_EXPORTER_OTLP_ENDPOINT=$HTTP OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"

# measure GROUP ROUNDS RUNS PREPARE NAME=COMMAND… — ROUNDS rounds of RUNS runs per command,
# the command order rotating each round, so load from other processes on a shared machine
# hits every variant alike. Appends "GROUP NAME wall_ms cpu_ms" per run to $WORK/runs.
measure() {
  local group=$1 rounds=$2 runs=$3 prepare=$4
  shift 4
  local specs=("$@") count=$#
  for round in $(seq "$rounds"); do
    for offset in $(seq 0 $((count - 1))); do
      local spec=${specs[$(((round + offset) % count))]}
      local name=${spec%%=*} command=${spec#*=}
      if [ "${BENCH_NO_HYPERFINE:-0}" != 1 ] && command -v hyperfine >/dev/null; then
        local args=(-N --style none --runs "$runs" --export-json "$WORK/round.json")
        if [ -n "$prepare" ]; then args+=(--prepare "$prepare"); else args+=(--warmup 3); fi
        hyperfine "${args[@]}" --command-name "$name" "$command" >/dev/null
        # Wall time per run; CPU (user + system) is hyperfine's mean for the round.
        awk -v g="$group" -v n="$name" '
          /"user":/ { gsub(/[^0-9.e-]/, "", $2); user = $2 }
          /"system":/ { gsub(/[^0-9.e-]/, "", $2); cpu = user + $2 }
          /"times":/ { inside = 1; next }
          inside && /\]/ { inside = 0 }
          inside { gsub(/[^0-9.e-]/, "", $1); wall[++k] = $1 }
          END { for (i = 1; i <= k; i++) printf "%s %s %.3f %.3f\n", g, n, wall[i] * 1000, cpu * 1000 }
        ' "$WORK/round.json" >>"$WORK/runs"
      else
        for _ in $(seq "$runs"); do
          if [ -n "$prepare" ]; then $prepare >/dev/null; fi
          local start end
          start=$(date +%s%N)
          /usr/bin/time -f "%U %S" -o "$WORK/cpu" $command >/dev/null
          end=$(date +%s%N)
          awk -v g="$group" -v n="$name" -v w=$(((end - start) / 1000)) \
            '{ printf "%s %s %.3f %.3f\n", g, n, w / 1000, ($1 + $2) * 1000 }' "$WORK/cpu" >>"$WORK/runs"
        done
      fi
    done
  done
}

# 1. transfer post ---------------------------------------------------------------------------
DB="sqlite://$WORK/post.db"
"$BIN" --db "$DB" --quiet account open --holder "Bench Settlement" --type settlement --currency USD --number 9000000000000001 >/dev/null
"$BIN" --db "$DB" --quiet account open --holder "Bench Payer" --type checking --currency USD --number 7000000000000001 \
  --initial-deposit 900000000.00 --via 9000000000000001 >/dev/null
"$BIN" --db "$DB" --quiet account open --holder "Bench Payee" --type checking --currency USD --number 7000000000000002 >/dev/null
POST="$BIN --db $DB transfer post --from 7000000000000001 --to 7000000000000002 --amount 1.00 --currency USD"
echo "transfer post: $POST_RUNS runs per variant in $POST_ROUNDS rounds" >&2
measure post "$POST_ROUNDS" "$((POST_RUNS / POST_ROUNDS))" "" "disabled=$OFF $POST" "grpc=$ON_GRPC $POST" "http=$ON_HTTP $POST"

# 2. 1,000,000-row import --------------------------------------------------------------------
if [ "${BENCH_SKIP_IMPORT:-0}" != "1" ]; then
  echo "generating $ACCOUNTS accounts and $ROWS transfers…" >&2
  awk -v n="$ACCOUNTS" 'BEGIN {
    print "number,holder,type,currency,overdraft_limit"
    for (i = 0; i < n; i++) printf "7%015d,Bench Holder %d,checking,USD,100000000.00\n", i, i
  }' >"$WORK/accounts.csv"
  # Deterministic: from/to walk the accounts with two strides, amounts cycle 0.01–99.99.
  awk -v rows="$ROWS" -v n="$ACCOUNTS" 'BEGIN {
    print "key,from,to,amount,currency,at,reference,description"
    for (i = 0; i < rows; i++) {
      from = (i * 7919) % n; to = (i * 104729 + 1) % n
      if (to == from) to = (to + 1) % n
      cents = i % 9999 + 1
      printf "k%d,7%015d,7%015d,%d.%02d,USD,,R%d,bench\n", i, from, to, int(cents / 100), cents % 100, i
    }
  }' >"$WORK/transfers.csv"
  "$BIN" --db "sqlite://$WORK/base.db" --quiet account import "$WORK/accounts.csv" >/dev/null
  # Each run imports into a fresh copy of the accounts-only ledger (the same keys would replay).
  cat >"$WORK/prepare.sh" <<PREPARE
rm -f "$WORK/run.db" "$WORK/run.db-wal" "$WORK/run.db-shm"
cp "$WORK/base.db" "$WORK/run.db"
if [ -f "$WORK/base.db-wal" ]; then cp "$WORK/base.db-wal" "$WORK/run.db-wal"; fi
PREPARE
  IMPORT="$BIN --db sqlite://$WORK/run.db --quiet --no-progress transfer import $WORK/transfers.csv"
  echo "transfer import of $ROWS rows: $IMPORT_RUNS runs per variant" >&2
  measure import "$IMPORT_RUNS" 1 "sh $WORK/prepare.sh" "disabled=$OFF $IMPORT" "grpc=$ON_GRPC $IMPORT"
fi

sleep 0.5
echo "receiver got: $(cat "$WORK/sink-stats" 2>/dev/null || echo nothing)" >&2
echo
echo "== medians over all runs: wall ms (cpu ms = user + system), change vs disabled =="
sort -k1,1 -k2,2 -k3,3n "$WORK/runs" | awk '
  function median(list, n,    sorted, i, j, t) {
    for (i = 1; i <= n; i++) sorted[i] = list[i]
    for (i = 2; i <= n; i++) { t = sorted[i]; for (j = i - 1; j >= 1 && sorted[j] > t; j--) sorted[j + 1] = sorted[j]; sorted[j + 1] = t }
    return (n % 2) ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
  }
  { key = $1 " " $2; if (!(key in n)) order[++keys] = key; n[key]++; wall[key, n[key]] = $3; cpu[key, n[key]] = $4 }
  END {
    for (k = 1; k <= keys; k++) {
      key = order[k]; split(key, part, " ")
      for (i = 1; i <= n[key]; i++) { w[i] = wall[key, i]; c[i] = cpu[key, i] }
      mw[key] = median(w, n[key]); mc[key] = median(c, n[key])
    }
    for (k = 1; k <= keys; k++) {
      key = order[k]; split(key, part, " "); base = part[1] " disabled"
      if (part[2] == "disabled")
        printf "%-7s %-9s %3d runs  %10.2f ms  (cpu %9.2f ms)\n", part[1], part[2], n[key], mw[key], mc[key]
      else {
        cpu_change = (mc[base] > 0) ? sprintf("%+6.1f%%", (mc[key] / mc[base] - 1) * 100) : "n/a"
        printf "%-7s %-9s %3d runs  %10.2f ms  (cpu %9.2f ms)   wall %+8.2f ms %+6.1f%%   cpu %s\n", part[1], part[2], n[key], mw[key], mc[key], mw[key] - mw[base], (mw[key] / mw[base] - 1) * 100, cpu_change
      }
    }
  }'
