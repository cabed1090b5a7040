#!/usr/bin/env bash
# scripts/check-install.sh [OLD_BIN]
#
# Issue 12, criterion 3: `cargo install --path .` installs only `fincore`, and the release binary
# is smaller than before the redesign. Installs this checkout into a temporary root (reusing the
# release artefacts in target/, so a second run only links), lists what was installed, and
# prints the size in bytes of the installed `fincore`, of OLD_BIN (default
# /tmp/bins/before-12, the pre-redesign release build) and the difference in percent.
#
# Exit 0 when exactly `fincore` was installed and it is smaller than OLD_BIN; 1 otherwise
# (both checks are printed either way); 2 on misuse or when the install itself fails.
# Plain bash + coreutils + cargo. Compiles in release mode: minutes on a busy machine.
set -uo pipefail

OLD_BIN=${1:-/tmp/bins/before-12}
[ $# -le 1 ] || { echo "usage: $0 [OLD_BIN]" >&2; exit 2; }
compare=1
if [ ! -f "$OLD_BIN" ]; then
    # Named on the command line: it must exist. The default exists only where the redesign was
    # made; elsewhere (CI) only what is installed is checked.
    [ $# -eq 0 ] || { echo "error: no such file: $OLD_BIN" >&2; exit 2; }
    echo "no $OLD_BIN here: checking what is installed, not the size"
    compare=0
fi
cd "$(dirname "$0")/.." || exit 2

root=$(mktemp -d "${TMPDIR:-/tmp}/check-install.XXXXXX")
trap 'rm -rf "$root"' EXIT

started=$SECONDS
echo "cargo install --locked --path . --root $root --target-dir target"
if ! cargo install --locked --path . --root "$root" --target-dir target; then
    echo "error: cargo install failed" >&2
    exit 2
fi
echo "install took $((SECONDS - started)) s"

status=0
# Everything under bin/, files of any kind (a stray script or symlink counts too).
installed=$(cd "$root/bin" && ls -A | sort)
echo "installed binaries: $(echo "$installed" | tr '\n' ' ')"
if [ "$installed" = fincore ]; then
    echo "ok: exactly fincore is installed"
else
    echo "FAIL: cargo install must install exactly fincore" >&2
    status=1
fi

new_bin=$root/bin/fincore
if [ ! -f "$new_bin" ]; then
    echo "FAIL: no fincore installed" >&2
    exit 1
fi
new_size=$(stat -c %s "$new_bin")
if [ "$compare" = 0 ]; then
    printf '%-10s %12d bytes  %s\n' "installed" "$new_size" "fincore (this checkout, release profile)"
    exit "$status"
fi
old_size=$(stat -c %s "$OLD_BIN")
delta=$((new_size - old_size))
# Percent with two decimals in integer arithmetic (no bc on a fresh Debian): basis points,
# rounded half away from zero.
abs=${delta#-}
bp=$(((abs * 10000 + old_size / 2) / old_size))
sign=+
[ "$delta" -lt 0 ] && sign=-
[ "$delta" -eq 0 ] && sign=" "
percent=$(printf '%s%d.%02d' "$sign" $((bp / 100)) $((bp % 100)))
printf '%-10s %12d bytes  %s\n' "old" "$old_size" "$OLD_BIN"
printf '%-10s %12d bytes  %s\n' "installed" "$new_size" "fincore (this checkout, release profile)"
printf '%-10s %+12d bytes  %s%%\n' "difference" "$delta" "$percent"
if [ "$new_size" -lt "$old_size" ]; then
    echo "ok: the installed fincore is smaller than $OLD_BIN"
else
    echo "FAIL: the installed fincore is not smaller than $OLD_BIN" >&2
    status=1
fi
exit "$status"
