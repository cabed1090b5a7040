#!/usr/bin/env bash
# Reconciliation against DuckDB (issue 13, criterion 4), release build, same run, same machine.
#
# One ledger: a deterministic workload of 1,000,000 statement lines over 31 days (2026-10-21 to
# 2026-11-20) with their ~1,000,000 ledger movements (`fincore-workload period`: the month-end
# 2026-10-31 holds 248,000 lines, the other days about 25,000 each; the same case mix as
# `scripts/bench-reconcile.sh`), imported once with `transfer import` into a fresh SQLite file.
# Two cases:
#   day:    the month-end's 248,000 lines alone, `reconcile run --date 2026-10-31`
#   period: all 1,000,000 lines, `reconcile run` without `--date` (the statement's period)
# Each case has its own copy of the ledger (a run of the period would otherwise own the
# month-end, and the day's run would find its lines already reconciled). For each case, each
# round times (whole process, /usr/bin/time -v: wall, CPU user+sys, peak RSS):
#   fincore:        `fincore --format json reconcile run` as cron would run it (a re-run of the
#                   same day/period, superseding the previous run; an untimed warm-up run goes
#                   first), printing its run and items;
#   DuckDB parquet: a Python process (DuckDB from PyPI, in a venv under the work dir) reading
#                   the same statement file and the same ledger movements (the settlement
#                   account's movements in the run's date window, exported once from the
#                   database, untimed) from Parquet, running one FULL OUTER JOIN on the
#                   reference and counting matched and unmatched per side;
#   DuckDB csv:     the same with the movements exported as CSV.
# The query's own time (without starting Python and loading DuckDB) is printed too.
# Rounds alternate the three; medians, ratios and peak RSS are printed, with ok/FAIL against
# "fincore at least 2x faster than DuckDB (whole process each), peak RSS < 1 GiB". Both runs
# are checked against the engine's own result on the generated data (counts and items).
#
# Usage: scripts/bench-reconcile-duckdb.sh        ROUNDS=5 (default), BENCH_DIR=… (work dir)
# Needs python3 with venv and pip access to PyPI (first run only), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
cargo build --release --quiet --bins
cargo build --release --locked -p fincore-testkit --bin fincore-workload --quiet
bin=$PWD/target/release/fincore
work=${BENCH_DIR:-$PWD/bench-output/reconcile-duckdb}
data=$work/period
venv=$work/venv
mkdir -p "$work"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb
fi
duckdb_version=$("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)')
[ -f "$data/expected.json" ] || target/release/fincore-workload period --out "$data"

read -r account peak first last tolerance window < <(python3 -c "
import json; d = json.load(open('$data/expected.json'))
print(d['account'], d['date'], d['period_from'], d['period_to'], d['amount_tolerance'], d['date_window'])")

# The ledger, built once per workload (a marker says the import finished).
db=$work/ledger.db
export FINCORE_DATABASE_URL="sqlite://$db" FINCORE_NOW=2026-11-21T06:00:00Z FINCORE_OPERATOR=bench
if [ ! -f "$work/ledger.imported" ] || [ "$data/transfers.csv" -nt "$work/ledger.imported" ]; then
  rm -f "$db" "$db-wal" "$db-shm" "$work/ledger.imported"
  "$bin" --quiet account import "$data/accounts.csv" >/dev/null
  start=$(date +%s%N)
  "$bin" --quiet --format json transfer import "$data/transfers.csv" >"$work/import.json"
  end=$(date +%s%N)
  echo "ledger: $(python3 -c "import json; d=json.load(open('$work/import.json')); print(d['posted'], 'movements posted,', d['rejected'], 'rejected')") in $(((end - start) / 1000000)) ms"
  # One copy per case, each checkpointed whole into its file.
  python3 -c "import sqlite3; sqlite3.connect('$db').execute('PRAGMA wal_checkpoint(TRUNCATE)')"
  for case in day period; do
    rm -f "$work/ledger-$case.db" "$work/ledger-$case.db-wal" "$work/ledger-$case.db-shm"
    cp "$db" "$work/ledger-$case.db"
  done
  touch "$work/ledger.imported"
fi

# The movements each case reads, exported once (untimed): the settlement account's entries in
# the run's date window, as `reconcile run` selects them (adjustments excluded).
export_movements() { # name first_day last_day
  [ -f "$work/movements-$1.parquet" ] && [ "$work/movements-$1.parquet" -nt "$work/ledger.imported" ] && return 0
  python3 - "$db" "$account" "$2" "$3" "$window" "$work/movements-$1.csv" <<'PY'
import csv, datetime, sqlite3, sys
db, account, first, last, window, out = sys.argv[1:7]
day = datetime.timedelta(days=1)
start = datetime.date.fromisoformat(first) - int(window) * day
end = datetime.date.fromisoformat(last) + (int(window) + 1) * day
us = lambda d: int(datetime.datetime(d.year, d.month, d.day, tzinfo=datetime.timezone.utc).timestamp()) * 1_000_000
rows = sqlite3.connect(db).execute(
    "SELECT e.transfer_id, e.at_us, t.reference, e.amount_minor FROM entries e JOIN transfers t ON t.id = e.transfer_id "
    "WHERE e.account = ? AND e.at_us >= ? AND e.at_us < ? AND t.kind <> 'adjustment'", (account, us(start), us(end)))
with open(out, "w", newline="") as file:
    writer = csv.writer(file)
    writer.writerow(["transfer_id", "date", "reference", "amount_minor"])
    for transfer_id, at_us, reference, amount_minor in rows:
        date = datetime.datetime.fromtimestamp(at_us / 1e6, datetime.timezone.utc).date()
        writer.writerow([transfer_id, date.isoformat(), reference, amount_minor])
PY
  "$venv/bin/python" -c "
import duckdb, sys
duckdb.sql(\"COPY (SELECT * FROM read_csv('$work/movements-$1.csv', header = true, columns = {'transfer_id': 'BIGINT', 'date': 'DATE', 'reference': 'VARCHAR', 'amount_minor': 'BIGINT'})) TO '$work/movements-$1.parquet' (FORMAT parquet)\")"
}
export_movements day "$peak" "$peak"
export_movements period "$first" "$last"

cat >"$work/join.py" <<'PY'
# One FULL OUTER JOIN of a statement file and ledger movements on the reference.
import json, sys, time
import duckdb
statement, movements = sys.argv[1], sys.argv[2]
if movements.endswith(".parquet"):
    read_movements = f"read_parquet('{movements}')"
else:
    read_movements = (f"read_csv('{movements}', header = true, columns = {{'transfer_id': 'BIGINT', "
                      "'date': 'DATE', 'reference': 'VARCHAR', 'amount_minor': 'BIGINT'})")
started = time.perf_counter()
matched, statement_only, ledger_only = duckdb.sql(f"""
    WITH s AS (SELECT * FROM read_csv('{statement}', header = true, columns = {{
                 'date': 'DATE', 'reference': 'VARCHAR', 'amount': 'DECIMAL(18,2)',
                 'currency': 'VARCHAR', 'counterparty': 'VARCHAR', 'description': 'VARCHAR'}})),
         m AS (SELECT * FROM {read_movements})
    SELECT count(*) FILTER (WHERE s.date IS NOT NULL AND m.transfer_id IS NOT NULL),
           count(*) FILTER (WHERE m.transfer_id IS NULL),
           count(*) FILTER (WHERE s.date IS NULL)
    FROM s FULL OUTER JOIN m ON s.reference = m.reference""").fetchall()[0]
query_seconds = time.perf_counter() - started
print(json.dumps({"matched": matched, "statement_only": statement_only,
                  "ledger_only": ledger_only, "query_seconds": query_seconds}))
PY

# Whole-process figures of one timed command into PREFIX.fig: "wall_s cpu_s rss_kib"; an exit
# status above the given one stops the benchmark (fincore's 1 means breaks were found).
measure() { # out_prefix highest_exit_status_that_is_a_result command...
  local prefix=$1 highest=$2 status=0
  shift 2
  /usr/bin/time -v -o "$prefix.time" "$@" >"$prefix.out" || status=$?
  if [ "$status" -gt "$highest" ]; then
    echo "failed with exit $status: $*" >&2
    cat "$prefix.out" >&2
    exit 1
  fi
  python3 - "$prefix.time" >"$prefix.fig" <<'PY'
import sys
fields = dict(line.strip().rsplit(": ", 1) for line in open(sys.argv[1]) if ": " in line)
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"))))
cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
print(f"{wall:.3f} {cpu:.3f} {fields['Maximum resident set size (kbytes)']}")
PY
}

fincore_day=("$bin" --db "sqlite://$work/ledger-day.db" --quiet --format json reconcile run --account "$account" --date "$peak"
  --statement "$data/statement-day.csv" --amount-tolerance "$tolerance" --date-window "$window")
fincore_period=("$bin" --db "sqlite://$work/ledger-period.db" --quiet --format json reconcile run --account "$account"
  --statement "$data/statement.csv" --amount-tolerance "$tolerance" --date-window "$window")

cases="day period"
# A run over the statement's period needs `reconcile run` without --date.
status=0
"${fincore_period[@]}" >"$work/warmup-period.json" 2>"$work/warmup-period.err" || status=$?
if [ "$status" -gt 1 ]; then
  echo "period case skipped: this build's reconcile run cannot run without --date (exit $status: $(head -1 "$work/warmup-period.err"))"
  cases="day"
fi
"${fincore_day[@]}" >"$work/warmup-day.json" || [ $? -le 1 ]

echo "DuckDB $duckdb_version; $(nproc) CPUs; $rounds rounds; $("$bin" --version)"
: >"$work/results.txt"
for round in $(seq "$rounds"); do
  for case in $cases; do
    if [ "$case" = day ]; then
      statement=$data/statement-day.csv command=("${fincore_day[@]}")
    else
      statement=$data/statement.csv command=("${fincore_period[@]}")
    fi
    measure "$work/fincore-$case-$round" 1 "${command[@]}"
    read -r wall cpu rss <"$work/fincore-$case-$round.fig"
    echo "fincore $case $round $wall $cpu $rss" >>"$work/results.txt"
    echo "round $round $case: fincore        ${wall} s (CPU ${cpu} s, RSS $((rss / 1024)) MiB), load $(cut -d' ' -f1 /proc/loadavg)"
    for input in parquet csv; do
      measure "$work/duckdb_$input-$case-$round" 0 "$venv/bin/python" "$work/join.py" "$statement" "$work/movements-$case.$input"
      read -r wall cpu rss <"$work/duckdb_$input-$case-$round.fig"
      echo "duckdb_$input $case $round $wall $cpu $rss" >>"$work/results.txt"
      query=$(python3 -c "import json; print(round(json.load(open('$work/duckdb_$input-$case-$round.out'))['query_seconds'], 3))")
      echo "round $round $case: DuckDB $input $(printf '%-7s' '') ${wall} s (CPU ${cpu} s, RSS $((rss / 1024)) MiB, query ${query} s)"
    done
  done
done

python3 - "$work" "$data" "$rounds" "$cases" <<'PY'
import csv, json, statistics, sys
work, data, rounds, cases = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()
results = [line.split() for line in open(f"{work}/results.txt")]
expected = json.load(open(f"{data}/expected.json"))
failed = False
def figures(tool, case):
    rows = [r for r in results if r[0] == tool and r[1] == case]
    return (statistics.median(float(r[3]) for r in rows), statistics.median(float(r[4]) for r in rows),
            max(int(r[5]) for r in rows) / 1024)
print()
print("| case | lines | fincore wall (median) | CPU | peak RSS (max) | DuckDB input | DuckDB wall (median) | CPU | query alone | RSS | DuckDB / fincore | query / fincore | verdict |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for case in cases:
    f_wall, f_cpu, f_rss = figures("fincore", case)
    runs = [json.load(open(f"{work}/fincore-{case}-{n}.out")) for n in range(1, rounds + 1)]
    for input in ("parquet", "csv"):
        d_wall, d_cpu, d_rss = figures(f"duckdb_{input}", case)
        query = statistics.median(json.load(open(f"{work}/duckdb_{input}-{case}-{n}.out"))["query_seconds"]
                                  for n in range(1, rounds + 1))
        ratio = d_wall / f_wall
        verdict = "ok" if ratio >= 2 and f_rss < 1024 else "FAIL"
        failed |= verdict != "ok"
        print(f"| {case} | {runs[0]['statement_lines']:,} | {f_wall:.3f} s | {f_cpu:.2f} s | {f_rss:.0f} MiB | {input} "
              f"| {d_wall:.3f} s | {d_cpu:.2f} s | {query:.3f} s | {d_rss:.0f} MiB | {ratio:.2f}x | {query / f_wall:.2f}x | {verdict} |")
for case in cases:
    runs = [json.load(open(f"{work}/fincore-{case}-{n}.out")) for n in range(1, rounds + 1)]
    keys = ["statement_lines", "internal_entries", "matched", "matched_fuzzy", "matched_grouped", "breaks"]
    duck = json.load(open(f"{work}/duckdb_parquet-{case}-1.out"))
    print(f"{case}: fincore matched {runs[0]['matched']}, fuzzy {runs[0]['matched_fuzzy']}, grouped {runs[0]['matched_grouped']}, "
          f"breaks {json.dumps(runs[0]['breaks'], sort_keys=True)}; DuckDB join: matched {duck['matched']}, "
          f"statement only {duck['statement_only']}, ledger only {duck['ledger_only']}")
    want_counts = expected[case]
    mismatches = sorted({k for run in runs for k in keys if run[k] != want_counts[k]})
    want = sorted(tuple(row.values()) for row in csv.DictReader(open(f"{data}/expected-{case}-items.csv")))
    differ = 0
    for run in runs:
        got = sorted((i["kind"], i["reference"], i["internal_amount"] or "", i["external_amount"] or "",
                      i["difference"] or "", str(i["statement_line"] or "")) for i in run["items"])
        differ += got != want
    print(f"{case}: counts vs engine:", "equal" if not mismatches else f"DIFFER in {mismatches}",
          f"; items vs engine: {'equal' if not differ else f'DIFFER in {differ} of {len(runs)} rounds'} ({len(want)} items)")
    failed |= bool(mismatches) or differ > 0
print("overall:", "FAIL" if failed else "ok")
sys.exit(1 if failed else 0)
PY
