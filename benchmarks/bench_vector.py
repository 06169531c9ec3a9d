"""Benchmark: deciding each vector case of tests/test_vector.py (issue 11; target ≤ 2 s each).

Times ``convexproof.engine.vector.prove_vector`` (in process: reading, the term
analysis, the Hessian and constants, the sanity chords or the witness search)
on every case of the table in ``tests/test_vector.py``, ``--repeat`` times
each after one warm-up call, and prints each case's first (cold caches) and median time, then the median
and the worst over all cases.  Also times one whole ``convexproof prove
--shape`` command (a new process).

    python3 benchmarks/bench_vector.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from test_vector import CASES

    from convexproof.engine.vector import prove_vector

    prove_vector("norm(w)**2", "w", [], {"w": ("d",)})  # warm up imports
    medians, firsts = [], []
    print(f"{'case':64} {'verdict':22} {'first s':>8} {'median s':>9}")
    for expr, shapes, where, verdict, _ in CASES:
        times = []
        got = None
        for _ in range(max(args.repeat, 1)):
            t = time.perf_counter()
            got = prove_vector(expr, "w", where, shapes).verdict
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        medians.append(med)
        firsts.append(times[0])
        label = expr + (f"  [{', '.join(where)}]" if where else "")
        flag = "" if got == verdict else f"  (expected {verdict})"
        print(f"{label[:64]:64} {got:22} {times[0]:8.3f} {med:9.3f}{flag}")
    print(f"\n{len(medians)} cases: median {statistics.median(medians):.3f} s, worst {max(medians):.3f} s; "
          f"first calls: median {statistics.median(firsts):.3f} s, worst {max(firsts):.3f} s (target ≤ 2 s each)")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "convexproof", "prove", "norm(X@w - y)**2 + lam*norm(w)**2", "--wrt", "w",
                    "--shape", "X=n,d", "--shape", "w=d", "--shape", "y=n", "--where", "lam > 0", "--format", "json"],
                   check=True, capture_output=True, cwd=ROOT)
    print(f"whole command (new process, ridge): {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
