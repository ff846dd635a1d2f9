#!/usr/bin/env bash
# pnpm + the locked dependencies. Offline-safe: nothing but the npm registry is contacted.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tooling/scripts/ensure-pnpm.sh
export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile --reporter=append-only >&2
