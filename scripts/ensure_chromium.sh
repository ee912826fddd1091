#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright's own browser download cannot be used here).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
elif [ "${CI:-}" = "true" ]; then
  echo "Chromium is missing and cannot be installed without root: the browser tests need it." >&2
  exit 1
else
  echo "NOTE: Chromium is not installed and this is not root; browser tests will be skipped." >&2
  echo "      Install it with: sudo apt-get install chromium" >&2
fi
