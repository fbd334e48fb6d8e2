#!/usr/bin/env bash
# Make sure Debian's Chromium is present for the browser test (tests/book).
# Installs it with apt-get when missing and allowed (root); otherwise explains what to do.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium is missing: install it with 'sudo apt-get install chromium' (Debian/Ubuntu)" >&2
echo "or the browser test will be skipped." >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
