#!/usr/bin/env bash
# Installs the workspace on a fresh machine: pnpm 10.34.9 (the version the
# lockfile was made with) if it is missing, then the locked dependencies.
# Sourced by demo.sh and test.sh.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "10.34.9" ]; then
  echo "installing pnpm 10.34.9 (npm install -g)"
  npm install -g pnpm@10.34.9 >/dev/null
fi
pnpm install --frozen-lockfile
