#!/usr/bin/env bash
# Regenerates the conformance fixtures in packages/core/fixtures/ and
# packages/contrib/fixtures/ from real optax 0.2.8 (jax, cpu) and torch 1.13
# (Debian's python3-torch). Offline:
# the optax environment is installed from local wheels. CI never runs this;
# it only reads the committed JSON.
#
#   scripts/fixtures.sh            # set up .venv (if missing) and regenerate
#
# Needs:
#   - python3 (3.11) with venv, and a folder of wheels holding jax, jaxlib,
#     optax 0.2.8 and their dependencies (numpy, scipy, ml_dtypes, opt_einsum,
#     absl-py). It is found with `find / -name 'optax-*.whl'`, or give it as
#     WHEELS=/path/to/wheels. Set OPTAX_PYTHON=/path/to/python to use a Python
#     that already has optax 0.2.8 instead of creating .venv.
#   - /usr/bin/python3 with torch 1.13 (Debian: apt-get install python3-torch).
#     Set TORCH_PYTHON to use another Python with torch.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FIX="$ROOT/packages/core/fixtures"

die() { echo "fixtures.sh: $*" >&2; exit 1; }

# --- optax
if [ -n "${OPTAX_PYTHON:-}" ]; then
  PY="$OPTAX_PYTHON"
else
  VENV="$ROOT/.venv"
  PY="$VENV/bin/python"
  if ! "$PY" -c 'import optax' >/dev/null 2>&1; then
    if [ -z "${WHEELS:-}" ]; then
      WHL="$(find / -name 'optax-*.whl' -not -path '/proc/*' 2>/dev/null | head -n 1 || true)"
      [ -n "$WHL" ] || die "no optax wheel found: set WHEELS to a folder of wheels with jax, jaxlib and optax==0.2.8 (and their dependencies), or OPTAX_PYTHON to a Python that has them"
      WHEELS="$(dirname "$WHL")"
    fi
    command -v python3 >/dev/null || die "python3 is needed to create $VENV"
    echo "creating $VENV from the wheels in $WHEELS"
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet --no-index --find-links "$WHEELS" jax jaxlib optax==0.2.8 \
      || die "pip could not install jax, jaxlib and optax==0.2.8 from $WHEELS (offline)"
  fi
fi
V="$("$PY" -c 'import optax; print(optax.__version__)' 2>/dev/null)" || die "$PY cannot import optax"
[ "$V" = "0.2.8" ] || die "$PY has optax $V; the fixtures are made with optax 0.2.8"

# --- torch
TPY="${TORCH_PYTHON:-/usr/bin/python3}"
"$TPY" -c 'import torch' >/dev/null 2>&1 \
  || die "$TPY cannot import torch: install Debian's python3-torch (apt-get install python3-torch) or set TORCH_PYTHON"

echo "== optax fixtures ($PY)"
"$PY" "$FIX/generate_optax.py" 2>&1 | grep -v -e '^WARNING' -e 'has no attribute `fast`' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax.py failed"
echo "== optax fixtures: more optimizers ($PY)"
"$PY" "$FIX/generate_optax_more.py" 2>&1 | grep -v '^WARNING' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_more.py failed"
echo "== optax fixtures: L-BFGS and line searches ($PY)"
"$PY" "$FIX/generate_optax_linesearch.py" 2>&1 | grep -v '^WARNING' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_linesearch.py failed"
echo "== optax fixtures: projections ($PY)"
"$PY" "$FIX/generate_optax_projections.py" 2>&1 | grep -v '^WARNING' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_projections.py failed"
echo "== optax fixtures: monitoring, per-example and unit-wise clipping, tree moments ($PY)"
"$PY" "$FIX/generate_optax_functions.py" 2>&1 | grep -v '^WARNING' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_functions.py failed"
echo "== optax fixtures: microbatching, multi_normal, matrix_inverse_pth_root, safe_int32_increment ($PY)"
"$PY" "$FIX/generate_optax_helpers.py" 2>&1 | grep -v '^WARNING' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_helpers.py failed"
echo "== optax fixtures: losses ($PY)"
"$PY" "$ROOT/packages/losses/fixtures/generate_optax_losses.py" 2>&1 | grep -v '^WARNING' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_losses.py failed"
echo "== optax.contrib fixtures ($PY)"
"$PY" "$ROOT/packages/contrib/fixtures/generate_optax_contrib.py" 2>&1 | grep -v -e '^WARNING' -e 'has no attribute `fast`' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || die "generate_optax_contrib.py failed"
echo "== torch fixtures ($TPY)"
"$TPY" "$FIX/generate_torch.py"
echo "== torch mappings checked against optax"
"$PY" "$FIX/check_torch.py" 2>&1 | grep -v '^WARNING'
[ "${PIPESTATUS[0]}" -eq 0 ] || die "check_torch.py: a tested torch mapping does not agree with optax"
ls -l "$FIX"/*.json "$ROOT"/packages/losses/fixtures/*.json "$ROOT"/packages/contrib/fixtures/*.json
