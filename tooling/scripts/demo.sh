#!/usr/bin/env bash
# The README's first command: set up on a fresh machine and run the main job on the bundled tiny model.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TURBO_TELEMETRY_DISABLED=1
bash tooling/scripts/install.sh
pnpm exec turbo run build --filter=@video-llava/cli... --concurrency=2 --output-logs=errors-only >&2
node apps/cli/dist/bin.js info fixtures/video-llava-tiny/model
