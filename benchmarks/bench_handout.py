"""Time the full handout with solutions (all exercises), Markdown and LaTeX, as a user runs it.

Each figure is the wall time of a fresh `python -m convexproof handout --all ...` process
(imports included), best of N runs.  Target: under 10 s each.

    python3 benchmarks/bench_handout.py [runs]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def best_of(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    n = subprocess.run([sys.executable, "-m", "convexproof", "list"], cwd=ROOT, capture_output=True,
                       text=True, check=True).stdout.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("md", "latex"):
            out = os.path.join(tmp, f"h.{fmt}")
            t = best_of([sys.executable, "-m", "convexproof", "handout", "--all", "--solutions", "--format", fmt,
                         "-o", out], runs)
            print(f"handout --all --solutions --format {fmt:5s}: {t:6.2f} s  ({n} exercises, best of {runs}; "
                  f"{os.path.getsize(out) // 1024} KiB)")
    t = best_of([sys.executable, "-c", "import sympy"], runs)
    print(f"python -c 'import sympy' (floor)            : {t:6.2f} s")


if __name__ == "__main__":
    main()
