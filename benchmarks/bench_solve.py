"""Wall time of `convexproof solve exercise3` against `python -c "import sympy"`.

SymPy's import is the floor for any command that does mathematics; the target
is a ratio of at most 1.25.  The two commands are run side by side in one
session, interleaved (A B A B ...), after one warm-up run each, and the median
of each is reported.

    python3 benchmarks/bench_solve.py [--repeat N] [--exercise ID] [--format md|latex|json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--exercise", default="exercise3")
    ap.add_argument("--format", default="md", choices=["md", "latex", "json"])
    args = ap.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    # Measure what a user gets: .pyc files are written and reused (as in an installed wheel).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    baseline = [sys.executable, "-c", "import sympy"]
    # For information: SymPy's first Add imports sympy.tensor (and combinatorics)
    # lazily; any program that adds two SymPy expressions pays for it.
    first_add = [sys.executable, "-c", "import sympy; sympy.Symbol('x') + 1"]
    command = [sys.executable, "-m", "convexproof", "solve", args.exercise, "--format", args.format]
    run(baseline, env)
    run(first_add, env)
    run(command, env)  # warm-up: page cache, .pyc files
    base_times, add_times, cmd_times = [], [], []
    for _ in range(args.repeat):
        base_times.append(run(baseline, env))
        add_times.append(run(first_add, env))
        cmd_times.append(run(command, env))
    b, c = statistics.median(base_times), statistics.median(cmd_times)
    a = statistics.median(add_times)
    print(f"python -c 'import sympy'            median {b * 1000:7.1f} ms  (n={args.repeat}, "
          f"min {min(base_times) * 1000:.1f}, max {max(base_times) * 1000:.1f})")
    print(f"convexproof solve {args.exercise} --format {args.format:<5} median {c * 1000:7.1f} ms  "
          f"(n={args.repeat}, min {min(cmd_times) * 1000:.1f}, max {max(cmd_times) * 1000:.1f})")
    print(f"python -c 'import sympy; x + 1'     median {a * 1000:7.1f} ms  (SymPy's own first-Add imports)")
    print(f"ratio {c / b:.3f}  (target <= 1.25); against import sympy + first Add: {c / a:.3f}")
    # This machine is shared and its timings drift; two steadier views of the same runs:
    paired = statistics.median(ci / bi for ci, bi in zip(cmd_times, base_times))
    print(f"  median of the paired ratios (each solve over the import sympy run just before it): {paired:.3f}")
    print(f"  ratio of the fastest runs (the least disturbed): {min(cmd_times) / min(base_times):.3f}")


if __name__ == "__main__":
    main()
