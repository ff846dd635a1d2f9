#!/usr/bin/env bash
# Makes sure the pinned pnpm is on PATH. A fresh machine has only Node and npm.
# The global pnpm must equal the pin in package.json: pnpm 12 refuses to switch versions when the
# registry serves no signatures (see DEPENDENCIES notes in the repository README).
set -euo pipefail
pinned=$(node -p "require('./package.json').packageManager.split('@')[1]")
current=$(pnpm --version 2>/dev/null || true)
if [ "$current" != "$pinned" ]; then
  echo "[setup] installing pnpm@$pinned (found: ${current:-none})" >&2
  npm install --global --no-fund --no-audit "pnpm@$pinned" >&2
fi
