"""Benchmark: `convexproof grade` on 1,000 mixed rows.

Generates a CSV of 1,000 answers (several exercises and parts, correct
answers written in different ways, known mistakes, other wrong answers,
unparsable and hostile input, a few seeded variants), then runs the real
command in a child process and prints wall time, CPU time of the command and
all its worker processes (user + system; CPU / wall shows how many cores were
busy) and peak resident memory (the largest single process).

    python3 benchmarks/bench_grade.py [--rows 1000] [--jobs N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (exercise, part) -> answers; every exercise here ships in exercises/
POOL = {
    ("exercise1", "second_derivative"): ["y/p**2 + (1-y)/(1-p)**2", "y/p^2+(1-y)/(1-p)^2", "y/p² + (1−y)/(1−p)²",
                                         "(y*(1-p)^2+(1-y)*p^2)/(p^2*(1-p)^2)", "-y/p + (1-y)/(1-p)", "y/p^2",
                                         "-y/p^2 - (1-y)/(1-p)^2", "y/p^2 - (1-y)/(1-p)^2", "y/p^2 + (1-y)/(1-p)"],
    ("exercise1", "verdict"): ["convex", "strictly convex", "concave", "not convex", "yes"],
    ("exercise2", "l2_minimizer"): ["a/(1+2lam)", "a/(1+lam)", "a/(2λ+1)", "a"],
    ("exercise2", "zero_when"): ["abs(a) <= lam", "-lam <= a <= lam", "-lam < a < lam", "a <= lam"],
    ("exercise3", "lambda_min"): ["3", "3.0", "6/2", "sqrt(9)", "λ = 3", "λ ≥ 3", "lambda >= 3", "3/2", "1.5", "6",
                                  "2", "4", "λ > 3", "λ <= 3", "0", "x", "3 +", "__import__('os').system('id')"],
    ("exercise3", "second_derivative"): ["12x^2-6+2λ", "12*x**2 - 6 + 2*lambda", "2(6x² − 3 + λ)", "4x^3-6x+2λx",
                                         "12x^2-6", "12x^2+6+2λ", "24x^2-12+4λ", "12x^2 - 6 + 2λ + x", "12x^2-",
                                         "((x+1)^200 - 1)"],
    ("exercise4", "verdict_absval"): ["convex", "Convex.", "not convex", "unknown", "maybe"],
    ("exercise4", "f2_expo"): ["e^x", "exp(x)", "exp(2x)", "x e^x", "2.718^x"],
    ("exercise4", "verdict_cube"): ["not convex", "no", "convex"],
    ("exercise5", "argmin_bowl"): ["3", "-3", "θ = 3", "1"],
    ("exercise6", "eigenvalues_bowl"): ["(1, 3)", "(3, 1)", "(2, 2)", "(1, 3, 0)", "[1, 3]"],
    ("exercise6", "hessian_saddle"): ["[[2,0],[0,-2]]", "[[2,0],[0,2]]", "[[2,0],[0,-2]", "[[2,1],[1,2]]"],
    ("exercise7", "verdict"): ["positive semidefinite", "psd", "positive definite", "indefinite"],
    ("exercise7", "min_eigenvalue"): ["0", "1e-17", "-1e-16", "1"],
    ("exercise14", "minimizer"): ["(0, -1)", "[0, -1]", "(0, 1)", "(1, -1)"],
    ("exercise15", "eta_condition"): ["0 < η < 1", "eta > 0 and eta < 1", "0 < eta <= 1", "eta < 1", "eta < 2"],
}


def make_csv(path: Path, rows: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    keys = list(POOL)
    distinct = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "exercise", "part", "answer", "seed"])
        for i in range(rows):
            ex, part = rng.choice(keys)
            r = rng.random()
            if r < 0.15 and ex == "exercise3" and part == "lambda_min":
                answer = f"{rng.randint(0, 60) / 10:g}"  # a spread of λ values
            elif r < 0.2 and part == "second_derivative":
                answer = f"12x^2 - {rng.randint(1, 9)} + {rng.randint(1, 3)}λ"
            else:
                answer = rng.choice(POOL[(ex, part)])
            s = "" if rng.random() < 0.8 else str(rng.randint(1, 5))
            w.writerow([f"student{i % 150:03d}", ex, part, answer, s])
            distinct.add((ex, part, answer, s))
    return len(distinct)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--keep", default=None, help="also keep the generated CSV here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "answers.csv"
        out = Path(tmp) / "report.json"
        distinct = make_csv(src, args.rows)
        if args.keep:
            Path(args.keep).write_bytes(src.read_bytes())
        cmd = [sys.executable, "-m", "convexproof", "grade", "--answers", str(src), "--format", "json", "-o", str(out)]
        if args.jobs:
            cmd += ["--jobs", str(args.jobs)]
        load_before = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            sys.exit(f"grade failed with exit code {proc.returncode}")
        results = json.loads(out.read_text(encoding="utf-8"))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    peak_mb = after.ru_maxrss / 1024  # kB on Linux: the largest single descendant
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows graded        : {len(results)} ({distinct} distinct answers)")
    print("status             : " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"cores              : {os.cpu_count()} (1-min load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after: other work on the machine lowers CPU / wall)")
    print(f"wall time          : {wall:.2f} s (target <= 30 s)")
    print(f"CPU time (user+sys): {cpu:.2f} s over the command and its workers")
    print(f"CPU / wall         : {cpu / wall:.2f} (cores busy on average)")
    print(f"peak memory        : {peak_mb:.0f} MB (largest process: the command or one worker); "
          f"benchmark script {self_mb:.0f} MB")
    print(f"summary            : {proc.stderr.strip().splitlines()[0]}")


if __name__ == "__main__":
    main()
