#!/usr/bin/env bash
# The batch worker's tests (packages/worker, apps/cli) start Debian's redis-server on a random loopback port.
# Installs it when missing and we are root; otherwise says how.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -n "${REDIS_SERVER:-}" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian redis-server for the batch worker tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # Only the binary is used: each test starts its own server; the packaged service is not needed.
  apt-get install -y -qq --no-install-recommends redis-server >&2
else
  echo "[setup] redis-server is missing: install it (Debian: sudo apt-get install redis-server) or set REDIS_SERVER to its path" >&2
  exit 1
fi
