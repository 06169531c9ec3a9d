"""Benchmark: checking a 10-line derivation line by line (issue 14; target ≤ 1 s).

Times ``convexproof.grading.derivation.check_derivation_text`` on 10-line derivations
of exercises 3, 1 and 12 (a correct one, the 3/2 slip with the error carried
forward, a one-point check), after the exercise is loaded and solved (as in
``check``, where the solution is cached).  Each derivation is checked
``--repeat`` times in a fresh checker; the first run (cold caches, as in a
single ``check`` command), the median and the worst run are printed.  Also times the whole ``convexproof check --derivation`` command
(a new process: imports, loading, solving and the check).

    python3 benchmarks/bench_derivation.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DERIVATIONS = {
    "exercise3 correct": ("exercise3", """f(x) = x^4 - 3x^2 + λx^2
f'(x) = 4x^3 - 6x + 2λx
f''(x) = 12x^2 - 6 + 2λ
= 2(6x^2 - 3 + λ)
f''(x) ≥ 0 for all x
⇔ 12x^2 - 6 + 2λ ≥ 0 for all x
⇔ 2λ - 6 ≥ 0
⇔ λ ≥ 3
f is convex ⇔ λ ≥ 3
so λ* = 3"""),
    "exercise3 3/2 slip": ("exercise3", """f(x) = x^4 - 3x^2 + λx^2
f'(x) = 4x^3 - 3x + 2λx
f''(x) = 12x^2 - 3 + 2λ
= 2(6x^2) - 3 + 2λ
f''(x) ≥ 0 for all x
⇔ -3 + 2λ ≥ 0
⇔ 2λ ≥ 3
⇔ λ ≥ 3/2
f''(0) = -3 + 2λ ≥ 0 ⇔ λ ≥ 3/2
so λ* = 3/2"""),
    "exercise1 chain-rule slip": ("exercise1", """L(p) = -y log(p) - (1 - y) log(1 - p)
L'(p) = -y/p - (1 - y)/(1 - p)
L''(p) = y/p^2 - (1 - y)/(1 - p)^2
L''(p) ≥ 0 for all p in (0, 1)
so L is convex
L(p) = -y log(p) - (1 - y) log(1 - p)
L'(p) = -y/p + (1 - y)/(1 - p)
L''(p) = y/p^2 + (1 - y)/(1 - p)^2
L''(p) ≥ 0 for all p in (0, 1)
so L is convex"""),
    "exercise12 Hessian": ("exercise12", """g(x, y) = sin(x) + sin(y) + (1/10)(x^2 + y^2) + λ(x^2 + y^2)
∇²g = [[-sin(x) + 1/5 + 2λ, 0], [0, -sin(y) + 1/5 + 2λ]]
-sin(x) + 1/5 + 2λ ≥ 0 for all x
⇔ -1 + 1/5 + 2λ ≥ 0
⇔ 2λ ≥ 4/5
⇔ λ ≥ 2/5
-sin(y) + 1/5 + 2λ ≥ 0 for all y
⇔ λ ≥ 2/5
g is convex ⇔ λ ≥ 2/5
so λ* = 2/5"""),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from convexproof.grading.checking import _context
    from convexproof.grading.derivation import check_derivation_text

    worst_median = 0.0
    for label, (exercise, text) in DERIVATIONS.items():
        assert len(text.splitlines()) == 10, label
        ctx = _context(exercise, None, None)  # loaded and solved once, as check() caches it
        part = ctx.ex.part("derivation")
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            r = check_derivation_text(ctx.ex, part, text)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        worst_median = max(worst_median, med)
        marks = "".join(line.mark for line in r.lines)
        print(f"{label:28s} first {times[0] * 1000:7.1f} ms   median {med * 1000:7.1f} ms   "
              f"worst {max(times) * 1000:7.1f} ms   first_error {r.first_error}   {marks}")
    print(f"slowest median: {worst_median * 1000:.0f} ms (target ≤ 1000 ms)")

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(DERIVATIONS["exercise3 3/2 slip"][1])
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "convexproof", "check", "exercise3", "--derivation", fh.name],
                       capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    Path(fh.name).unlink()
    print(f"whole command `convexproof check exercise3 --derivation FILE` (new process): {wall:.2f} s, "
          f"exit {p.returncode}")


if __name__ == "__main__":
    main()
