#!/usr/bin/env bash
# The whole test suite (both workspace members: fincore and the dev-only fincore-testkit), on
# SQLite and on a throwaway PostgreSQL the tests start themselves.
# Installs the PostgreSQL server binaries when they are missing (Debian/Ubuntu, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${FINCORE_TEST_POSTGRES_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are missing: apt-get install -y postgresql" >&2
  fi
fi
# PostgreSQL tests fail rather than skip when the server cannot start.
export FINCORE_REQUIRE_POSTGRES="${FINCORE_REQUIRE_POSTGRES:-1}"
cargo test --locked --workspace "$@"
