#!/usr/bin/env bash
# Installs everything on a fresh machine and runs every test. This is the
# README's test command and exactly what CI (.ci/run) runs; the last line is
# `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pnpm run test
