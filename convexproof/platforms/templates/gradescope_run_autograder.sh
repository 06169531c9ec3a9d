#!/usr/bin/env bash
# convexproof autograder: Gradescope runs this for every submission.
# It reads $ROOT/submission/answers.toml and writes $ROOT/results/results.json.
# CONVEXPROOF_AUTOGRADER_ROOT moves /autograder (tests); CONVEXPROOF_PYTHON picks the interpreter.
ROOT="${CONVEXPROOF_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
export CONVEXPROOF_AUTOGRADER_ROOT="$ROOT"
PY="${CONVEXPROOF_PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x "$ROOT/convexproof-venv/bin/python" ]; then PY="$ROOT/convexproof-venv/bin/python"; else PY=python3; fi
fi
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
# the copy of convexproof in this zip comes first, whatever else is installed
PYTHONPATH="$SOURCE/convexproof-dist${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m convexproof.platforms.gradescope
if [ ! -s "$ROOT/results/results.json" ]; then
  cp "$SOURCE/fallback-results.json" "$ROOT/results/results.json"
fi
exit 0
