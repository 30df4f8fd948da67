#!/usr/bin/env bash
# Installs everything on a fresh machine and runs every test. This is the
# README's test command and exactly what CI (.ci/run) runs; the last line is
# `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium (the docs-site and browser-demo tests, and the SwiftShader
# Vulkan driver for WebGPU in Node) comes from Debian's package.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed here (not root); the browser tests will fail" >&2
  fi
fi
source scripts/setup.sh
bash scripts/build-tfjs-node.sh
pnpm run test
