#!/usr/bin/env bash
# Builds the native binding of @tensorflow/tfjs-node 4.22.0 OFFLINE, against
# the TensorFlow C library inside a local TensorFlow CPU wheel, so that the
# `tensorflow`-backend tests of @gradtx/node-gpu can run on this machine.
#
# Why: tfjs-node's own install step downloads libtensorflow from a host that
# is unreachable here, and no npm or Debian package ships it. A TensorFlow
# CPU wheel (where a machine has one on disk) carries the same C API in
# libtensorflow_cc.so.2 + libtensorflow_framework.so.2, with its headers.
#
# What it does, in packages/node-gpu/.native/ (git-ignored, outside the
# workspace lockfile):
#   1. `npm install --ignore-scripts @tensorflow/tfjs-node@4.22.0`;
#   2. unzips the wheel's two libraries and the C API headers;
#   3. links them as tfjs-node's deps/lib (libtensorflow.so -> libtensorflow_cc.so.2,
#      the name binding.gyp links with) and deps/include;
#   4. `npm run build-addon-from-source` (node-gyp against Node's own headers);
#   5. loads the binding once and writes .native/status.json.
# Idempotent and cached: when the stamp matches (same wheel, same Node) and
# the binding loads, it does nothing. With no wheel on the machine it prints
# one plain line and exits 0; the tests then report themselves as not run.
# A build that fails is recorded in status.json (the node-gpu tests then
# fail loudly) and the script still exits 0 so the rest of CI runs; pass
# --strict to exit non-zero instead.
#
# Environment: TFJS_NODE_WHEEL=/path/to/tensorflow_cpu-*.whl picks the wheel.
# Needs npm (and the registry), python3, make and g++ (node-gyp); unzip if
# present, else python3's zipfile.
# Timing on this machine (2 cores): ~1 min from scratch (npm install ~10-15 s,
# unzip ~15 s, compile ~30 s); ~3 s when already built.
set -euo pipefail
strict=0
[ "${1:-}" = "--strict" ] && strict=1
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/packages/node-gpu/.native"
pkg="$dest/node_modules/@tensorflow/tfjs-node"
status="$dest/status.json"
version=4.22.0
start=$(date +%s)

say() { echo "build-tfjs-node: $*"; }

write_status() { # built(true|false) wheel message
  mkdir -p "$dest"
  node -e '
    const [file, built, wheel, message, seconds] = process.argv.slice(1);
    const s = { built: built === "true", wheel: wheel || null, tfjsNode: "'"$version"'", node: process.version, message, seconds: Number(seconds) };
    require("node:fs").writeFileSync(file, JSON.stringify(s, null, 2) + "\n");
  ' "$status" "$1" "$2" "$3" "$(($(date +%s) - start))"
}

fail() {
  say "FAILED: $*"
  write_status false "$wheel" "build failed: $*"
  [ "$strict" = 1 ] && exit 1
  exit 0
}

# ---- the wheel
wheel="${TFJS_NODE_WHEEL:-}"
if [ -z "$wheel" ]; then
  wheel="$(find / -name 'tensorflow_cpu-*.whl' -not -path '/proc/*' 2>/dev/null | head -1 || true)"
fi
if [ -z "$wheel" ] || [ ! -f "$wheel" ]; then
  say "no TensorFlow wheel on this machine: skipping (the tensorflow-backend tests of @gradtx/node-gpu will not run)"
  write_status false "" "no TensorFlow CPU wheel on this machine"
  exit 0
fi

# ---- cached?
stamp="$wheel|$(stat -c '%s %Y' "$wheel")|tfjs-node@$version|node $(node --version)"
load_check() {
  (cd "$dest" && node -e '
    const tf = require("@tensorflow/tfjs-node");
    if (tf.getBackend() !== "tensorflow") throw new Error("backend is " + tf.getBackend());
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.add(x, x).dataSync();
    if (y[2] !== 6) throw new Error("1+1 is not 2");
  ' 2>&1)
}
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ] && ls "$pkg"/lib/napi-v*/tfjs_binding.node >/dev/null 2>&1; then
  if out="$(load_check)"; then
    say "already built against $(basename "$wheel"): nothing to do"
    write_status true "$wheel" "built (cached)"
    exit 0
  fi
  say "cached binding does not load, rebuilding: $(echo "$out" | tail -1)"
fi
rm -f "$dest/.stamp"

for tool in npm node python3 make g++; do
  command -v "$tool" >/dev/null 2>&1 || fail "\`$tool\` is not installed"
done

# ---- 1. tfjs-node's JS, without its install script (which would download libtensorflow)
mkdir -p "$dest"
if [ ! -f "$pkg/package.json" ] || [ "$(node -p "require('$pkg/package.json').version")" != "$version" ]; then
  say "npm install --ignore-scripts @tensorflow/tfjs-node@$version (into packages/node-gpu/.native)"
  printf '{\n  "name": "gradtx-tfjs-node-native",\n  "private": true,\n  "description": "Scratch install of tfjs-node built by scripts/build-tfjs-node.sh (git-ignored)"\n}\n' >"$dest/package.json"
  (cd "$dest" && npm install --ignore-scripts --no-audit --no-fund --no-package-lock --loglevel=error "@tensorflow/tfjs-node@$version") ||
    fail "npm install @tensorflow/tfjs-node@$version (is the npm registry reachable?)"
fi

# ---- 2. the C library and headers from the wheel
lib="$dest/tensorflow"
if [ ! -f "$lib/.from" ] || [ "$(cat "$lib/.from")" != "$stamp" ]; then
  say "unzipping libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers from $(basename "$wheel")"
  rm -rf "$lib" && mkdir -p "$lib"
  members=('tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2'
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/*'
    'tensorflow/include/tsl/*' 'tensorflow/include/xla/tsl/*')
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$wheel" "${members[@]}" -d "$lib.tmp" 2>&1 | grep -v 'caution: filename not matched' || true
  else # python3 is there (node-gyp needs it)
    python3 -c '
import fnmatch, sys, zipfile
wheel, dest, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [n for n in z.namelist() if any(fnmatch.fnmatch(n, p) for p in patterns)])
' "$wheel" "$lib.tmp" "${members[@]}" || true
  fi
  [ -f "$lib.tmp/tensorflow/libtensorflow_cc.so.2" ] || { rm -rf "$lib.tmp"; fail "the wheel has no tensorflow/libtensorflow_cc.so.2"; }
  [ -f "$lib.tmp/tensorflow/include/tensorflow/c/eager/c_api.h" ] || { rm -rf "$lib.tmp"; fail "the wheel has no C API headers (include/tensorflow/c/eager/c_api.h)"; }
  mv "$lib.tmp/tensorflow/libtensorflow_cc.so.2" "$lib.tmp/tensorflow/libtensorflow_framework.so.2" "$lib.tmp/tensorflow/include" "$lib/"
  rm -rf "$lib.tmp"
  echo "$stamp" >"$lib/.from"
fi

# ---- 3. deps/lib and deps/include as binding.gyp expects them (-ltensorflow -ltensorflow_framework)
rm -rf "$pkg/deps" "$pkg/build" "$pkg"/lib/napi-v*
mkdir -p "$pkg/deps/lib"
ln -s "$lib/include" "$pkg/deps/include"
ln -s "$lib/libtensorflow_cc.so.2" "$pkg/deps/lib/libtensorflow_cc.so.2"
ln -s "$lib/libtensorflow_framework.so.2" "$pkg/deps/lib/libtensorflow_framework.so.2"
ln -s libtensorflow_cc.so.2 "$pkg/deps/lib/libtensorflow.so"
ln -s libtensorflow_cc.so.2 "$pkg/deps/lib/libtensorflow.so.2"
ln -s libtensorflow_framework.so.2 "$pkg/deps/lib/libtensorflow_framework.so"

# ---- 4. compile against Node's own headers (no download): nodedir = Node's install prefix
nodedir="$(dirname "$(dirname "$(command -v node)")")"
[ -f "$nodedir/include/node/node_api.h" ] || fail "Node's headers are not at $nodedir/include/node (node-gyp would try to download them)"
say "compiling the addon (node-gyp, nodedir $nodedir)"
if ! out="$(cd "$pkg" && npm_config_nodedir="$nodedir" npm run build-addon-from-source 2>&1)"; then
  echo "$out" | tail -30
  fail "npm run build-addon-from-source"
fi

# ---- 5. check that it loads
if ! out="$(load_check)"; then
  echo "$out" | tail -10
  fail "the built binding does not load"
fi
echo "$stamp" >"$dest/.stamp"
say "built and loaded the tensorflow backend in $(($(date +%s) - start)) s ($(ls "$pkg"/lib/napi-v*/tfjs_binding.node))"
write_status true "$wheel" "built"
