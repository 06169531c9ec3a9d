#!/usr/bin/env bash
# convexproof autograder: Gradescope runs this once, when it builds the image.
# It creates a virtual environment with Python >= 3.11 and installs the copy of
# convexproof shipped in this zip (convexproof-dist/) with its dependencies.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${CONVEXPROOF_AUTOGRADER_ROOT:-/autograder}"
VENV="$ROOT/convexproof-venv"
export DEBIAN_FRONTEND=noninteractive

pick_python() {
  for p in python3.13 python3.12 python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$p"; return 0
    fi
  done
  return 1
}

PY="$(pick_python || true)"
if [ -z "$PY" ]; then
  apt-get update -q && apt-get install -y -q python3.11 python3.11-venv
  PY=python3.11
fi
if ! "$PY" -m venv "$VENV"; then
  apt-get update -q && apt-get install -y -q "$(basename "$PY")-venv" || apt-get install -y -q python3-venv
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
if ! "$VENV/bin/python" -m pip install -q "$HERE/convexproof-dist"; then
  # run_autograder puts convexproof-dist on PYTHONPATH anyway: the dependencies are enough
  "$VENV/bin/python" -m pip install -q -r "$HERE/requirements.txt"
fi
PYTHONPATH="$HERE/convexproof-dist" "$VENV/bin/python" -c "import convexproof.grading.checking, convexproof.platforms.gradescope"
echo "convexproof autograder installed in $VENV"
