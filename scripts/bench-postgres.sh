#!/usr/bin/env bash
# PostgreSQL benchmark (release build):
#   1. scripts/bench-ledger.sh against PostgreSQL: import of TRANSFERS transfers among ACCOUNTS
#      accounts (transfers/s, peak RSS), `report balances`, one `transfer post` (median ms);
#   2. concurrent single posts: WORKERS processes each running POSTS `transfer post` commands
#      one after another (whole processes, as cron jobs or scripts would), RUNS times; prints
#      the median transfers/s and checks that every post exited 0 and `ledger verify` passes.
# Usage: scripts/bench-postgres.sh [TRANSFERS] [ACCOUNTS]
# Env: FINCORE_BENCH_POSTGRES_URL=postgres://user:pass@host:port uses an existing server (the
#      script creates and drops databases named fincore_bench_*); otherwise a throwaway server
#      is started in a temp dir (as the postgres user when root) and stopped at the end.
#      PG_BENCH_OPTIONS overrides the throwaway server's settings. WORKERS (8), POSTS (100),
#      POST_RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
transfers=${1:-1000000}
accounts=${2:-10000}
workers=${WORKERS:-8}
posts=${POSTS:-100}
post_runs=${POST_RUNS:-3}
cargo build --release --quiet --bins
bin=$PWD/target/release/fincore

server_dir=""
stop_server() {
  if [ -n "$server_dir" ]; then
    $as_postgres "$pg_bin/pg_ctl" -D "$server_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$server_dir"
  fi
}
trap stop_server EXIT

if [ -n "${FINCORE_BENCH_POSTGRES_URL:-}" ]; then
  base=${FINCORE_BENCH_POSTGRES_URL%/}
  admin() { psql "$base/postgres" -v ON_ERROR_STOP=1 -qc "$1"; }
  echo "server: $(echo "$base" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
else
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  as_postgres=""
  [ "$(id -u)" = 0 ] && as_postgres="runuser -u postgres --"
  server_dir=$(mktemp -d /tmp/fincore-bench-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$server_dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  options=${PG_BENCH_OPTIONS:-"-c fsync=off -c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min -c max_connections=100"}
  $as_postgres "$pg_bin/initdb" -D "$server_dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  $as_postgres "$pg_bin/pg_ctl" -D "$server_dir/data" -l "$server_dir/log" -w \
    -o "-p $port -k $server_dir -c listen_addresses=127.0.0.1 $options" start >/dev/null
  base="postgres://postgres@127.0.0.1:$port"
  admin() { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "$1"; }
  echo "server: throwaway PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($options)"
fi

admin "DROP DATABASE IF EXISTS fincore_bench_import"
admin "CREATE DATABASE fincore_bench_import"
FINCORE_BENCH_DB="$base/fincore_bench_import" RUNS=${RUNS:-15} scripts/bench-ledger.sh "$transfers" "$accounts"
admin "DROP DATABASE fincore_bench_import"

median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin.read().split()]; print(f"{statistics.median(v):.0f}")'; }
export FINCORE_OPERATOR=bench
rates=()
for run in $(seq "$post_runs"); do
  admin "DROP DATABASE IF EXISTS fincore_bench_posts"
  admin "CREATE DATABASE fincore_bench_posts"
  export FINCORE_DATABASE_URL="$base/fincore_bench_posts"
  settlement=$("$bin" --format json account open --holder Bank --type settlement --currency USD | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
  numbers=()
  for i in $(seq $((workers * 2))); do
    numbers+=("$("$bin" --format json account open --holder "Holder $i" --type checking --currency USD \
      --initial-deposit 1000000.00 --via "$settlement" | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')")
  done
  failures=$(mktemp)
  start=$(date +%s%N)
  for w in $(seq 0 $((workers - 1))); do
    (
      from=${numbers[$((w * 2))]} to=${numbers[$((w * 2 + 1))]}
      for p in $(seq "$posts"); do
        # Every worker also pays into the next worker's account, so writers contend.
        [ $((p % 2)) = 0 ] && to=${numbers[$(((w * 2 + 2) % (workers * 2)))]} || to=${numbers[$((w * 2 + 1))]}
        "$bin" --quiet transfer post --from "$from" --to "$to" --amount 1.00 --currency USD \
          --key "r$run-w$w-p$p" >/dev/null 2>>"$failures" || echo "exit $? in worker $w" >>"$failures"
      done
    ) &
  done
  wait
  end=$(date +%s%N)
  if [ -s "$failures" ]; then echo "concurrent posts: failures:" >&2; cat "$failures" >&2; exit 1; fi
  rm -f "$failures"
  "$bin" --quiet ledger verify >/dev/null || { echo "ledger verify failed after concurrent posts" >&2; exit 1; }
  rate=$(python3 -c "print(round($workers * $posts / (($end - $start) / 1e9)))")
  echo "concurrent posts run $run: $((workers * posts)) posts from $workers processes in $(python3 -c "print(round(($end - $start) / 1e9, 2))")s = $rate transfers/s"
  rates+=("$rate")
done
admin "DROP DATABASE fincore_bench_posts"
echo "concurrent posts: median $(printf '%s\n' "${rates[@]}" | median) transfers/s ($workers processes x $posts posts, $post_runs runs)"
