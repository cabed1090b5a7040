#!/usr/bin/env bash
# scripts/check-json-identical.sh OLD_BIN NEW_BIN
#
# Proves that a refactor changed no output (issue 12, criterion 4). Both binaries run the same
# script of commands — the demo ledger first, then every command of SPEC.md that has output
# (reads in json, table and csv; writes in json, on the same ledger state in the same order),
# error cases and help texts — and for every command the normalised stdout bytes, stderr bytes
# and exit code of OLD and NEW are compared. One line per command (`same` / `DIFFERENT`), then a
# summary and the diffs; exit 0 when everything is the same, 1 on any difference, 2 on misuse.
#
#   scripts/check-json-identical.sh /tmp/bins/before-12 target/release/fincore
#   KEEP=1 scripts/check-json-identical.sh A B     # keep the work dir (kept anyway on a difference)
#
# Needs bash, coreutils, sed, grep, diff, cmp: nothing that a fresh Debian lacks (no jq, no
# python). Takes about a minute: two x ~300 short runs of the binary.
#
# Same input, same environment. Each side runs in the SAME absolute directory ($work/run, cleaned
# and re-created for the side), so absolute paths the binary prints (`db status` prints the
# database path) are identical without normalising them. The binary is reached through a symlink
# named `fincore` (clap prints argv[0]'s file name in usage lines). The environment is emptied
# (`env -i`, as tests/cli/support does with env_clear) and set to:
#   PATH, HOME=<run dir>, TZ=UTC, LC_ALL=C, NO_COLOR=1, FINCORE_OPERATOR=tester,
#   FINCORE_NOW=2026-11-21T06:00:00Z (the demo's own clock, just after its fixtures' week),
#   FINCORE_DATABASE_URL=sqlite://demo/demo.db (relative: the demo ledger of that side), and
#   TRACEPARENT=00-<step number as 32 hex digits>-<step number as 16 hex digits>-01.
# No OTEL_* variable is set: no OTLP endpoint, nothing exported, nothing waits.
#
# Why TRACEPARENT: without it every command starts a random trace, and its trace id is stored on
# transfers, runs and audit events — and in the audit hash chain, so every later `hash` and
# `prev_hash` would differ between two runs. A per-step W3C parent (SPEC: "TRACEPARENT makes the
# command's span a child of that trace") makes the trace id a function of the step, so trace ids
# and hashes are compared byte for byte, not hidden.
#
# What is normalised (sed), and only in the few steps marked `rnd` below, which exercise the
# random paths on a throwaway copy of the ledger (so the main ledger stays deterministic):
#   - `"trace_id": "<32 hex>"`           -> `"trace_id": "<random trace id>"` (no TRACEPARENT there)
#   - a JSON string of 16 digits on a line with no demo-style number (4000000000000xxx,
#     9000000000000xxx): `"<16 digits>"` -> `"<generated number>"` (account numbers generated
#     with a random body and a Luhn check digit by `account open` / `account import` without one)
# Nothing else is normalised anywhere: span ids never appear in output (no exporter), durations
# are not printed, dates come from FINCORE_NOW, demo files go to a fixed relative --dir.
#
# Coverage. The script walks OLD's clap command tree (`--help` recursively) and fails unless
# every leaf command was run at least once; it also prints the `--help` of every node, so a lost
# doc comment or flag shows as a difference. When SPEC.md is found ($SPEC, default
# /work/shared/SPEC.md, else ./SPEC.md) every command it names must be run or listed in
# LEFT_OUT below with the reason.
#
# Left out / run only as "not implemented" (usage error, exit 2, compared anyway; if NEW starts
# implementing one, that shows as a difference — as it should):
#   alerts check, events export, man, audit anchor, reconcile inspect, transfer hold / capture /
#   void / expire-holds / exchange — named by SPEC.md, not implemented by either binary yet.
#   PostgreSQL: only SQLite is compared (the demo ledger is SQLite; the suite covers postgres).
#   Progress bars: only drawn on a terminal; stdin/stdout/stderr are never a terminal here.
#   `-v` / `--log-format json` logs: they carry wall-clock timestamps; not compared.
# `completions SHELL` prints no JSON, but all five shells are compared (cheap).
set -uo pipefail

usage() {
    echo "usage: $0 OLD_BIN NEW_BIN" >&2
    exit 2
}
[ $# -eq 2 ] || usage
resolve_bin() {
    local bin=$1
    [ -f "$bin" ] && [ -x "$bin" ] || { echo "error: not an executable file: $bin" >&2; exit 2; }
    (cd "$(dirname "$bin")" && echo "$PWD/$(basename "$bin")")
}
OLD=$(resolve_bin "$1")
NEW=$(resolve_bin "$2")
REPO=$(cd "$(dirname "$0")/.." && pwd)
FIXTURES=$REPO/fixtures
[ -d "$FIXTURES/reconcile" ] || { echo "error: no fixtures/ beside scripts/ ($FIXTURES)" >&2; exit 2; }
SPEC=${SPEC:-/work/shared/SPEC.md}
[ -f "$SPEC" ] || SPEC=$REPO/SPEC.md

NOW=2026-11-21T06:00:00Z
LEDGER=sqlite://demo/demo.db
work=$(mktemp -d "${TMPDIR:-/tmp}/check-json.XXXXXX")
started=$SECONDS

# ---------------------------------------------------------------------------------------------
# Inputs, written once and copied into each side's run dir (relative paths from there).
make_inputs() {
    local in=$1
    mkdir -p "$in"
    cp -r "$FIXTURES/reconcile" "$FIXTURES/risk" "$FIXTURES/compliance" "$in/"
    # account import: two new rows and one identical to an account opened earlier in the script
    # (unchanged); a conflicting row comes in a file of its own (it fails the whole import).
    cat >"$in/accounts-extra.csv" <<'EOF'
number,holder,type,currency,overdraft_limit
IMP0001,Imported One,checking,USD,250.00
IMP0002,Imported Two,savings,EUR,
ZED0001,Zed Fixture,checking,USD,100.00
EOF
    printf 'number,holder,type,currency,overdraft_limit\nZED0001,Somebody Else,checking,USD,100.00\n' \
        >"$in/accounts-conflict.csv"
    printf 'number,holder\nX1,only two columns\n' >"$in/accounts-bad.csv"
    printf 'number,holder,type,currency,overdraft_limit\n,Generated Number,checking,USD,\n' \
        >"$in/accounts-generated.csv"
    # transfer import: posted rows, a replayable duplicate key, and one rejection per kind.
    cat >"$in/transfers-extra.csv" <<'EOF'
key,from,to,amount,currency,at,reference,description
imp-1,9000000000000001,IMP0001,1000.00,USD,2026-11-21T01:00:00Z,IMP-1,"opening, with a comma"
imp-2,IMP0001,4000000000000010,150.25,USD,2026-11-21T02:00:00Z,IMP-2,
imp-3,IMP0001,4000000000000010,99999.00,USD,2026-11-21T02:10:00Z,IMP-3,insufficient funds
imp-4,IMP0001,4000000000000036,10.00,USD,2026-11-21T02:20:00Z,IMP-4,currency mismatch
imp-5,IMP0001,4000000000000010,1.001,USD,2026-11-21T02:30:00Z,IMP-5,precision
imp-6,IMP0001,NOPE0001,1.00,USD,2026-11-21T02:40:00Z,IMP-6,not found
imp-7,IMP0001,IMP0001,1.00,USD,2026-11-21T02:50:00Z,IMP-7,same account
imp-8,IMP0001,4000000000000069,1.00,USD,2026-11-21T03:00:00Z,IMP-8,frozen
imp-9,9000000000000027,IMP0002,700.00,EUR,2026-11-21T03:10:00Z,,
imp-2,IMP0001,4000000000000010,150.25,USD,2026-11-21T02:00:00Z,IMP-2,
imp-10,IMP0001,4000000000000010,0,USD,not-a-date,IMP-10,bad row
EOF
    cat >"$in/transfers-batches.csv" <<'EOF'
key,from,to,amount,currency,at,reference,description
bat-1,9000000000000001,IMP0001,10.00,USD,2026-11-21T04:00:00Z,BAT-1,
bat-2,9000000000000001,IMP0001,20.00,USD,2026-11-21T04:01:00Z,BAT-2,
bat-3,9000000000000001,IMP0001,30.00,USD,2026-11-21T04:02:00Z,BAT-3,
bat-4,IMP0001,4000000000000085,5.00,USD,2026-11-21T04:03:00Z,BAT-4,
bat-5,IMP0001,4000000000000085,5.00,XXX,2026-11-21T04:04:00Z,BAT-5,
EOF
    printf 'key,from,to,amount\nk,1,2,3\n' >"$in/transfers-bad-header.csv"
    printf 'key,from,to,amount,currency,at,reference,description\nq-1,9000000000000001,IMP0001,"1.00,USD,2026-11-21T04:00:00Z,,\n' \
        >"$in/transfers-unclosed-quote.csv"
    # The reconciliation fixture ledger, built as tests/cli/reconcile.rs builds it.
    cat >"$in/recon-accounts.csv" <<'EOF'
number,holder,type,currency,overdraft_limit
DE89370400440532013000,Bank EUR,settlement,EUR,
CLEARINGEUR,Clearing EUR,internal,EUR,
US0000000000000001,Bank USD,settlement,USD,
CLEARINGUSD,Clearing USD,internal,USD,
SUSPENSEEUR,Suspense EUR,internal,EUR,
CHECKINGEUR,Customer EUR,checking,EUR,
EOF
    {
        echo "key,from,to,amount,currency,at,reference,description"
        echo "mopen,DE89370400440532013000,CLEARINGEUR,10000.00,EUR,2026-11-01T12:00:00Z,OPENING,"
        local id date ref amount cur settlement clearing
        while IFS=, read -r id date ref amount cur; do
            [ "$id" = transfer_id ] && continue
            if [ "$cur" = USD ]; then
                settlement=US0000000000000001 clearing=CLEARINGUSD
            else
                settlement=DE89370400440532013000 clearing=CLEARINGEUR
            fi
            if [ "${amount#-}" != "$amount" ]; then
                echo "m$id,$clearing,$settlement,${amount#-},$cur,${date}T12:00:00Z,$ref,"
            else
                echo "m$id,$settlement,$clearing,$amount,$cur,${date}T12:00:00Z,$ref,"
            fi
        done <"$FIXTURES/reconcile/internal.csv"
    } >"$in/recon-movements.csv"
}

# ---------------------------------------------------------------------------------------------
# Running one side. Every step writes out/NNN.{cmd,out,err,rc}; NNN.cmd is the line printed.
STEP=0
COVERED=()

# run_fincore TRACE(yes|no) NOW(yes|no) ARGS... — one invocation in the side's run dir.
run_fincore() {
    local trace=$1 now=$2
    shift 2
    STEP=$((STEP + 1))
    local id
    id=$(printf '%03d' "$STEP")
    local -a env=(PATH="$PATH" HOME="$PWD" TZ=UTC LC_ALL=C NO_COLOR=1 FINCORE_OPERATOR=tester
        FINCORE_DATABASE_URL="$LEDGER")
    [ "$now" = yes ] && env+=(FINCORE_NOW="$NOW")
    [ "$trace" = yes ] && env+=(TRACEPARENT="$(printf '00-%032x-%016x-01' "$STEP" "$STEP")")
    env -i "${env[@]}" ./fincore "$@" >"out/$id.out" 2>"out/$id.err" </dev/null
    echo $? >"out/$id.rc"
    printf '%s\n' "$*" >"out/$id.cmd"
    LAST=out/$id.out
}

# j ARGS — a command with --format json (writes and reads alike).
j() { run_fincore yes yes --format json "$@"; }
# r ARGS — a read: json, table and csv (the refactor renders all three from one view type).
r() {
    local format
    for format in json table csv; do run_fincore yes yes --format "$format" "$@"; done
}
# t ARGS — as given (help, completions, usage errors): no --format added.
t() { run_fincore yes yes "$@"; }
# rnd ARGS — a random path: on a fresh copy of the ledger (demo/scratch.db), no TRACEPARENT;
# its output is normalised (see the header).
rnd() {
    # A fincore process may exit leaving its -wal (committed pages not yet checkpointed into the
    # main file) and -shm beside the database: copy the -wal too, and never leave the previous
    # scratch copy's -wal/-shm beside the new one (SQLite would replay its stale frames: seen as
    # a transfer id one higher in one run out of two).
    rm -f demo/scratch.db demo/scratch.db-wal demo/scratch.db-shm
    cp demo/demo.db demo/scratch.db
    if [ -f demo/demo.db-wal ]; then cp demo/demo.db-wal demo/scratch.db-wal; fi
    LEDGER=sqlite://demo/scratch.db run_fincore no yes --format json "$@"
    echo "$STEP" >>out/random-steps
}
# outfile PATH — compare a file a previous command wrote (rejects, --out reports); a directory
# is compared file by file in name order.
outfile() {
    STEP=$((STEP + 1))
    local id
    id=$(printf '%03d' "$STEP")
    if [ -d "$1" ]; then
        (cd "$1" && for f in $(ls); do echo "== $f"; cat "$f"; done) >"out/$id.out"
    elif [ -f "$1" ]; then
        cat "$1" >"out/$id.out"
    else
        echo "(no such file)" >"out/$id.out"
    fi
    : >"out/$id.err"
    echo 0 >"out/$id.rc"
    printf 'file %s\n' "$1" >"out/$id.cmd"
}
# last_json_number KEY [N] — the Nth (default 1st) `"KEY": <number>` of the previous step's stdout.
last_json_number() {
    grep -o "\"$1\": [0-9]*" "$LAST" | sed -n "${2:-1}p" | grep -o '[0-9]*$' || true
}

# The command tree of a binary: one path per line ("" is the root), from `--help`'s Commands.
command_tree() {
    local bin=$1 path=$2
    echo "$path"
    local sub
    # shellcheck disable=SC2086 # path is words on purpose
    for sub in $("$bin" $path --help 2>/dev/null | sed -n '/^Commands:/,/^$/p' |
        sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p' | grep -vx help); do
        command_tree "$bin" "${path:+$path }$sub"
    done
}

steps() {
    local tree=$1 path

    # --- help and version: every node of the tree, and the tree's leaves are checked below.
    t --version
    while IFS= read -r path; do
        # shellcheck disable=SC2086
        t $path --help
    done <"$tree"
    t help transfer import

    # --- the demo ledger (json), and the demo in table and csv in folders of their own.
    j demo --dir demo
    run_fincore yes yes --format table demo --dir demo-table
    run_fincore yes yes --format csv demo --dir demo-csv
    outfile demo/rejects.csv
    outfile demo/risk_rejects.csv

    # --- reads on the demo ledger, every format.
    r db status
    r account list
    r account list --status frozen
    r account list --type settlement
    r account list --currency EUR
    r account list --holder AN
    r account show 4000000000000010
    r account show 9000000000000001
    r account show 4000000000000051
    r account statement 4000000000000010
    r account statement 4000000000000010 --from 2026-11-19 --to 2026-11-20
    r account statement 9000000000000001 --from 2026-11-20T00:00:00Z --to 2026-11-20T12:00:00Z
    r transfer list
    r transfer list --limit 5
    r transfer list --account 4000000000000010
    r transfer list --from 2026-11-19 --to 2026-11-19
    r transfer show 1
    r transfer show dep-005
    r transfer show 16
    r transfer show 35
    r report balances
    r report balances --as-of 2026-11-19
    r report balances --as-of 2026-11-20T12:00:00Z --currency USD
    r report balances --currency EUR
    local period=(--from 2026-11-14 --to 2026-11-21)
    local sanctions=(--sanctions-list demo/sanctions.csv)
    r report compliance "${period[@]}" "${sanctions[@]}"
    local kind
    for kind in ctr structuring sanctions suspicious audit ctr,audit; do
        r report compliance "${period[@]}" "${sanctions[@]}" --kind "$kind"
    done
    j report compliance "${period[@]}" --kind ctr,structuring --ctr-threshold USD=5000,EUR=1000
    j report compliance "${period[@]}" --kind ctr --ctr-threshold 9000
    j report compliance "${period[@]}" "${sanctions[@]}" --kind sanctions --min-score 0.8
    j report compliance "${period[@]}" --kind sanctions --sanctions-list compliance/sanctions.csv
    j report compliance "${period[@]}" --kind suspicious --rapid-out-percent 50 \
        --rapid-window-hours 48 --rapid-inbound-min 100 --dormant-days 1 \
        --dormant-large-amount 100 --round-unit 100 --round-min 100 --round-count 2
    j report compliance "${period[@]}" "${sanctions[@]}" --out report.json
    outfile report.json
    run_fincore yes yes --format csv report compliance "${period[@]}" "${sanctions[@]}" --out report-csv
    outfile report-csv
    run_fincore yes yes --format csv report compliance "${period[@]}" --kind ctr --out ctr.csv
    outfile ctr.csv
    r ledger verify
    r audit verify
    r audit list
    r audit list --limit 3
    r audit list --entity 4000000000000010
    r audit list --entity transfer:5
    r audit list --from 2026-11-21 --to 2026-11-21
    r reconcile list
    r reconcile list --account 9000000000000001 --date 2026-11-20
    r reconcile show 1
    r risk show 4000000000000051
    r risk show 4000000000000093 --history
    r risk show 4000000000000028 --history --limit 1
    r risk rules show
    r risk rules show --rules risk/strict.toml
    r risk blacklist list

    # --- read errors.
    j account show 4999999999999999
    j transfer show 99999
    j transfer show no-such-key
    j reconcile show 999
    j risk show 4999999999999999
    j report compliance --from 2026-11-21 --to 2026-11-14
    j report compliance "${period[@]}" --kind sanctions
    j report compliance "${period[@]}" --kind nonsense
    j report compliance "${period[@]}" "${sanctions[@]}" --kind sanctions --min-score 1.5
    j report compliance "${period[@]}" --kind sanctions --sanctions-list compliance/bad_sanctions.csv
    j account statement 4000000000000010 --from yesterday
    j transfer list --limit -1
    j --db sqlite://missing.db account list
    run_fincore yes yes --format table --db sqlite://missing.db account list
    j audit verify --anchor nowhere

    # --- writes, in order, on the demo ledger.
    j db migrate
    j account open --holder "Zed Fixture" --type checking --currency USD --number ZED0001 \
        --overdraft-limit 100.00 --initial-deposit 500.00 --via 9000000000000001
    j account open --holder "Credit Line" --type credit --currency USD --number CRD0001 \
        --credit-limit 1000.00
    j account open --holder "Saver" --type savings --currency EUR --number SAV0001
    j account open --holder "Yen" --type checking --currency JPY --number JPY0001
    j account open --holder "No limit" --type credit --currency USD --number CRD0002
    j account open --holder "Bad" --type checking --currency XXX --number BAD0001
    j account open --holder "Bad" --type checking --currency USD --number ab
    j account open --holder "Bad" --type wallet --currency USD --number BAD0002
    j account open --holder "Dup" --type checking --currency USD --number ZED0001
    j account open --holder "Yen2" --type checking --currency JPY --number JPY0002 \
        --initial-deposit 1000.5 --via 9000000000000001
    j account open --holder "Via" --type checking --currency USD --number VIA0001 \
        --initial-deposit 10.00 --via 4000000000000010
    j account import accounts-extra.csv
    j account import accounts-extra.csv
    j account import accounts-conflict.csv
    j account import accounts-bad.csv
    j account import missing.csv
    j account freeze SAV0001 --reason "kyc review"
    j account freeze SAV0001 --reason "again"
    j account unfreeze SAV0001 --reason "kyc done"
    j account unfreeze SAV0001 --reason "not frozen"
    j account close SAV0001
    j account close SAV0001
    j account close ZED0001
    j account freeze 4999999999999999 --reason x
    r account show SAV0001

    local post=(transfer post --from ZED0001 --to 4000000000000010)
    j "${post[@]}" --amount 100.00 --currency USD --key zed-1 --reference R-1 --description "first post" \
        --at 2026-11-21T05:00:00Z
    local zed1
    zed1=$(last_json_number id)
    j "${post[@]}" --amount 100.00 --currency USD --key zed-1 --reference R-1 --description "first post" \
        --at 2026-11-21T05:00:00Z
    j "${post[@]}" --amount 101.00 --currency USD --key zed-1 --reference R-1 --description "first post" \
        --at 2026-11-21T05:00:00Z
    j "${post[@]}" --amount 5000.00 --currency USD --key zed-insufficient
    j "${post[@]}" --amount 5000.00 --currency USD --key zed-insufficient
    j "${post[@]}" --amount 1.001 --currency USD
    j "${post[@]}" --amount 0 --currency USD
    j "${post[@]}" --amount -5.00 --currency USD
    j "${post[@]}" --amount abc --currency USD
    j "${post[@]}" --amount 100000000000000000000000000000.00 --currency USD
    j "${post[@]}" --amount 1.00 --currency usd1
    j "${post[@]}" --amount 1.00 --currency EUR
    j transfer post --from ZED0001 --to ZED0001 --amount 1.00 --currency USD
    j transfer post --from ZED0001 --to 4999999999999999 --amount 1.00 --currency USD
    j transfer post --from ZED0001 --to 4000000000000069 --amount 1.00 --currency USD
    j transfer post --from ZED0001 --to 4000000000000036 --amount 1.00 --currency USD
    j transfer post --from ZED0001 --to SAV0001 --amount 1.00 --currency EUR
    j transfer post --from 4000000000000044 --to 4000000000000028 --amount 60000.00 \
        --currency USD --key big-z --at 2026-11-21T05:30:00Z
    j transfer post --from 4000000000000044 --to 4000000000000085 --amount 1.00 \
        --currency USD --rules risk/strict.toml
    j transfer post --from 4000000000000044 --to 4000000000000085 --amount 1.00 \
        --currency USD --rules risk/bad_window.toml
    j transfer post --from ZED0001 --to 4000000000000010 --amount 1.00 --currency USD --at yesterday
    j transfer deposit --to ZED0001 --amount 250.00 --via 9000000000000001 --key dep-z1 \
        --reference D-1 --description "cash in" --at 2026-11-21T05:40:00Z
    j transfer deposit --to ZED0001 --amount 250.00 --via 4000000000000010
    j transfer withdraw --from ZED0001 --amount 50.00 --via 9000000000000001 --key wdr-z1
    j transfer withdraw --from ZED0001 --amount 50000.00 --via 9000000000000001
    j transfer reverse "${zed1:-0}" --reason "entered twice"
    j transfer reverse "${zed1:-0}" --reason "again"
    j transfer reverse 16 --reason "a rejected transfer"
    j transfer reverse 99999 --reason "none"
    r transfer show zed-1

    j transfer import transfers-extra.csv --rejects rejects-extra.csv
    outfile rejects-extra.csv
    j transfer import transfers-extra.csv --rejects rejects-extra.csv
    j transfer import transfers-extra.csv --rejects rejects-extra.csv --force
    outfile rejects-extra.csv
    j transfer import transfers-batches.csv --dry-run
    j transfer import transfers-batches.csv --batch-rows 2 --rejects rejects-batches.csv
    outfile rejects-batches.csv
    j transfer import transfers-bad-header.csv
    j transfer import transfers-unclosed-quote.csv
    j transfer import missing.csv
    r account statement IMP0001

    # Reconciliation: the fixture ledger of fixtures/reconcile, every statement format.
    j account import recon-accounts.csv
    j transfer import recon-movements.csv
    local recon=(reconcile run --account DE89370400440532013000 --date 2026-11-20
        --amount-tolerance 0.02 --date-window 2)
    j "${recon[@]}" --statement reconcile/statement.csv
    j "${recon[@]}" --statement reconcile/statement.csv --input-format csv
    j "${recon[@]}" --statement reconcile/statement.semicolon.csv --delimiter ';' \
        --decimal-separator , --date-format %d.%m.%Y \
        --map date=Buchungstag,reference=Verwendungszweck,amount=Betrag,currency=Waehrung,counterparty=Name,description=Text
    j "${recon[@]}" --statement reconcile/statement.camt053.v02.xml
    j "${recon[@]}" --statement reconcile/statement.camt053.v08.xml --input-format camt053
    j "${recon[@]}" --statement reconcile/statement.mt940
    run_fincore yes yes --format table "${recon[@]}" --statement reconcile/statement.mt940
    run_fincore yes yes --format csv "${recon[@]}" --statement reconcile/statement.mt940
    local bad
    for bad in bad_amount.csv bad_header.csv truncated.camt053.xml bad_tag.mt940 \
        unbalanced.mt940 unbalanced.camt053.xml bad_amount.camt053.xml missing.csv; do
        j "${recon[@]}" --statement "reconcile/$bad"
    done
    j "${recon[@]}" --statement reconcile/statement.mt940 --input-format csv
    j reconcile run --account 4000000000000010 --date 2026-11-20 --statement demo/statement.csv
    j reconcile run --account 9000000000000001 --date 2026-11-20 --statement demo/statement.csv
    local run item1 item2
    run=$(last_json_number run_id)
    j reconcile show "${run:-0}"
    item1=$(last_json_number id 1)
    item2=$(last_json_number id 2)
    j reconcile resolve "${item1:-0}" --post-to 9000000000000035 --note "bank fee booked"
    j reconcile resolve "${item2:-0}" --accept --note "explained by the bank"
    j reconcile resolve "${item2:-0}" --accept --note "twice"
    j reconcile resolve 99999 --accept --note "none"
    r reconcile show "${run:-0}"
    r reconcile list
    r reconcile list --account DE89370400440532013000

    # Risk.
    j risk rules import risk/strict.toml
    r risk rules show
    local rules
    for rules in bad_comparison bad_missing_threshold bad_money_threshold bad_negative_points \
        bad_unknown_feature bad_window; do
        j risk rules import "risk/$rules.toml"
    done
    j risk rules import risk/builtin.toml
    j risk blacklist add 4000000000000093 --reason "screening"
    j risk blacklist add 4000000000000093 --reason "again"
    j risk blacklist add 4999999999999999
    j transfer post --from 4000000000000010 --to 4000000000000093 --amount 1.00 --currency USD
    j risk blacklist remove 4000000000000093
    j risk blacklist remove 4000000000000093
    r risk blacklist list
    j risk rescore --as-of 2026-11-21T06:00:00Z
    j risk rescore --account 4000000000000028 --as-of 2026-11-20
    j risk rescore --all --rules risk/strict.toml
    j risk rescore --apply
    j risk rescore --account 4999999999999999
    r risk show 4000000000000101 --history

    j report compliance "${period[@]}" "${sanctions[@]}" --unmask

    # --- the whole state after the writes, every format.
    r account list
    r transfer list --limit 100000
    r audit list --limit 100000
    r audit verify
    r ledger verify
    r report balances
    r account statement ZED0001

    # --- usage errors and commands SPEC.md names that neither binary implements yet.
    t
    t nonsense
    t --format yaml account list
    t account open --holder X
    t --format json account show
    t --format json transfer post --from A
    t completions tcsh
    t --format json reconcile resolve 1 --note x
    t --format json alerts check
    t --format json events export
    t man
    t --format json audit anchor
    t --format json reconcile inspect reconcile/statement.csv
    t --format json transfer hold --from 4000000000000010 --amount 1.00
    t --format json transfer capture 1
    t --format json transfer void 1 --reason x
    t --format json transfer expire-holds
    t --format json transfer exchange --rate 1.1 --via-pair A:B

    local shell
    for shell in bash zsh fish powershell elvish; do t completions "$shell"; done

    # --- random paths, on a copy of the ledger, normalised (see the header).
    rnd account open --holder "Generated" --type checking --currency USD
    rnd account open --holder "Generated" --type checking --currency USD \
        --initial-deposit 5.00 --via 9000000000000001
    rnd account import accounts-generated.csv
    rnd transfer post --from 4000000000000010 --to 4000000000000028 --amount 1.00 --currency USD
    rnd transfer import transfers-batches.csv
    rnd reconcile run --account 9000000000000001 --date 2026-11-20 --statement demo/statement.csv
    # The demo on its own clock (no FINCORE_NOW) and a random trace.
    run_fincore no no --format json demo --dir demo-own-clock
    echo "$STEP" >>out/random-steps
}

# run_side NAME BIN TREE — all steps for one binary, results into $work/NAME.
run_side() {
    local name=$1 bin=$2 tree=$3
    rm -rf "$work/run"
    mkdir -p "$work/run/out"
    cp -r "$work/inputs/." "$work/run/"
    ln -s "$bin" "$work/run/fincore"
    (
        cd "$work/run" || exit 2
        STEP=0
        steps "$tree"
    )
    mv "$work/run" "$work/$name"
}

# Normalise the random steps' output in place (see the header for the list).
normalise() {
    local dir=$1 step id f
    [ -f "$dir/out/random-steps" ] || return 0
    while read -r step; do
        id=$(printf '%03d' "$step")
        for f in "$dir/out/$id.out" "$dir/out/$id.err"; do
            sed -i -E \
                -e 's/"trace_id": "[0-9a-f]{32}"/"trace_id": "<random trace id>"/g' \
                -e '/[49]000000000000[0-9]{3}/!s/"[0-9]{16}"/"<generated number>"/g' \
                "$f"
        done
    done <"$dir/out/random-steps"
}

# ---------------------------------------------------------------------------------------------
make_inputs "$work/inputs"
command_tree "$OLD" "" >"$work/tree"
# The root and groups get --help like every node; the leaves must each be run.
run_side old "$OLD" "$work/tree"
run_side new "$NEW" "$work/tree"
normalise "$work/old"
normalise "$work/new"

status=0
same=0
different=0
diffs=$work/diffs
: >"$diffs"
if ! cmp -s <(cat "$work/old/out/"*.cmd) <(cat "$work/new/out/"*.cmd); then
    echo "error: the two sides ran different steps" >&2
    status=1
fi
for cmdfile in "$work/old/out/"*.cmd; do
    id=$(basename "$cmdfile" .cmd)
    cmd=$(cat "$cmdfile")
    verdict=same
    for part in rc out err; do
        if ! cmp -s "$work/old/out/$id.$part" "$work/new/out/$id.$part"; then
            verdict=DIFFERENT
            {
                echo "=== $id fincore $cmd: ${part/out/stdout}"
                [ "$part" = err ] && echo "(stderr)"
                diff -u --label "OLD $id.$part" --label "NEW $id.$part" \
                    "$work/old/out/$id.$part" "$work/new/out/$id.$part" | head -n 40
            } >>"$diffs"
        fi
    done
    if [ "$verdict" = same ]; then
        same=$((same + 1))
    else
        different=$((different + 1))
    fi
    printf '%-9s %s exit=%s  %s\n' "$verdict" "$id" "$(cat "$work/old/out/$id.rc")" "$cmd"
done

# Coverage: every leaf of OLD's command tree was run (help aside).
missing=()
while IFS= read -r path; do
    [ -z "$path" ] && continue
    # a leaf: no other path starts with "$path "
    grep -q "^$path " "$work/tree" && continue
    ran=no
    for cmdfile in "$work/old/out/"*.cmd; do
        line=$(sed -E 's/^(--(format|db) [^ ]+ )*//' "$cmdfile")
        case "$line" in
        "$path --help") ;;
        "$path" | "$path "*) ran=yes && break ;;
        esac
    done
    [ "$ran" = yes ] || missing+=("$path")
done <"$work/tree"
# Coverage: every command SPEC.md names was run or is a known left-out one.
LEFT_OUT="alerts check|events export|man|audit anchor|reconcile inspect|transfer hold|transfer capture|transfer void|transfer expire-holds|transfer exchange"
spec_checked=no
if [ -f "$SPEC" ]; then
    spec_checked=yes
    while IFS= read -r path; do
        grep -qx -- "$path" "$work/tree" && continue
        case "|$LEFT_OUT|" in *"|$path|"*) continue ;; esac
        missing+=("$path (named by SPEC.md)")
    done < <(
        grep -oE '`(account|transfer|report|ledger|reconcile|risk|audit|db|alerts|events|demo|completions|man)( [a-z-]+)?' "$SPEC" |
            tr -d '`' | sort -u
        for hold in capture void expire-holds; do
            grep -q "\`$hold" "$SPEC" && echo "transfer $hold"
        done
    )
fi

echo
echo "summary: $((same + different)) commands, $same same, $different DIFFERENT" \
    "($(wc -l <"$work/tree") help nodes walked; SPEC.md checked: $spec_checked;" \
    "$((SECONDS - started)) s)"
if [ ${#missing[@]} -gt 0 ]; then
    echo "error: commands never run: ${missing[*]}" >&2
    status=1
fi
if [ "$different" -gt 0 ]; then
    status=1
    echo
    cat "$diffs"
fi
if [ "$status" -ne 0 ] || [ -n "${KEEP:-}" ]; then
    echo "work dir kept: $work (old/ and new/: out/NNN.{cmd,out,err,rc})"
else
    rm -rf "$work"
fi
exit "$status"
