#!/usr/bin/env bash
# Browser tests drive Debian's chromium through playwright-core (which downloads no browser).
# Installs it when missing and we are root; otherwise says how.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian chromium for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
else
  echo "[setup] chromium is missing: install it (Debian: sudo apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi
