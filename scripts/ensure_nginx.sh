#!/usr/bin/env bash
# The deployment tests put Debian's nginx, with the shipped site (deploy/nginx-tts.conf), in front of the app.
# They run their own nginx on loopback ports; the package's own service is not needed and is left stopped.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing nginx for the deployment tests (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nginx >/dev/null
  (systemctl disable --now nginx || service nginx stop || true) >/dev/null 2>&1
elif [ "${CI:-}" = "true" ]; then
  echo "nginx is missing and cannot be installed without root: the deployment tests need it." >&2
  exit 1
else
  echo "NOTE: nginx is not installed and this is not root; the deployment tests will be skipped." >&2
  echo "      Install it with: sudo apt-get install nginx" >&2
fi
