#!/usr/bin/env bash
# Runs the whole suite on SQLite, then again on PostgreSQL (a fresh database per run).
# CI (CI=true) fails when PostgreSQL is unreachable; locally that pass is skipped with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
export TTS_SCREENSHOT_DIR="${TTS_SCREENSHOT_DIR:-$PWD/test-artifacts/screenshots}"

echo "== Lint (pyflakes rules: unused imports, undefined names) =="
.venv/bin/ruff check --select F,E9 tts tests config.py wsgi.py scripts bench || exit 1

bash scripts/security_checks.sh || exit 1

echo "== Test suite on SQLite =="
env -u TEST_DATABASE_URL "$PY" -m pytest "$@"
sqlite_rc=$?

if "$PY" scripts/pg_ready.py "$PG_URL"; then
  echo "== Test suite on PostgreSQL =="
  TEST_DATABASE_URL="$PG_URL" "$PY" -m pytest "$@"
  pg_rc=$?
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL: CI must run the suite on PostgreSQL." >&2
  pg_rc=1
else
  echo "SKIPPED: the PostgreSQL pass (nothing reachable at $PG_URL). Set TEST_DATABASE_URL to run it."
  pg_rc=0
fi

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
  echo "FAILED: SQLite pass exit $sqlite_rc, PostgreSQL pass exit $pg_rc" >&2
  exit 1
fi
