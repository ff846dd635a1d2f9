#!/usr/bin/env bash
# The README's test command: set up on a fresh machine and run every test of every package.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TURBO_TELEMETRY_DISABLED=1
bash tooling/scripts/ensure-browser.sh
bash tooling/scripts/ensure-redis.sh
bash tooling/scripts/install.sh
# Two cores: build and test two packages at a time.
pnpm exec turbo run build --concurrency=2 --output-logs=errors-only
# Format and lint (Biome, its rules in biome.json), then each package's typecheck and lint (publint, attw, repo checks).
pnpm run lint:biome
pnpm exec turbo run typecheck lint --concurrency=2 --output-logs=errors-only
log=$(mktemp)
status=0
pnpm exec turbo run test --concurrency=2 --continue --output-logs=full 2>&1 | tee "$log" || status=$?
node tooling/scripts/summarize-tests.mjs "$log"
rm -f "$log"
exit "$status"
