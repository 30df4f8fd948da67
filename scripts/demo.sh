#!/usr/bin/env bash
# Installs everything on a fresh machine and runs the main demo: logistic
# regression on the UCI digits data trained with a gradtx chain.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pnpm run demo
