#!/usr/bin/env bash
# Letters are drawn by WeasyPrint, which lays out text with Pango (a Debian package, not a Python one).
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0"; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Pango for the letters' PDFs (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
elif [ "${CI:-}" = "true" ]; then
  echo "Pango is missing and cannot be installed without root: letters (PDFs) need it." >&2
  exit 1
else
  echo "NOTE: Pango is not installed and this is not root; letters cannot be made until it is." >&2
  echo "      Install it with: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" >&2
fi
