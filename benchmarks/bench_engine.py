"""Benchmark of the convexity engine (a plain script; prints figures).

1. The labelled corpus (tests/data/convexity.toml) in one process: time and
   correctness per function for ``prove`` (as users call it: in a child
   process with a time limit) side by side with SymPy's ``is_convex`` on the
   cases it supports (one variable, no parameters for SymPy; a multivariate
   call uses the Hessian's ``is_positive_semidefinite``, ignoring the domain).
2. A PSD proof of a dense n-variable quadratic form xᵀAx (A = BBᵀ + I with
   small random integers) for n = 5, 10, 20, 40: the whole ``prove`` call and
   the exact LDLᵀ certificate alone.

Run:  python3 benchmarks/bench_engine.py [--quick]
"""

from __future__ import annotations

import random
import signal
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sympy as sp  # noqa: E402

from convexproof.engine import prove  # noqa: E402
from convexproof.engine.domain import make_problem  # noqa: E402
from convexproof.engine.multivariate import ldl_psd  # noqa: E402
from convexproof.engine.witness import hessian  # noqa: E402
from convexproof.parse import parse_condition, symbol  # noqa: E402


def ours_correct(r, expect, problem) -> bool:
    if expect == "convex":
        return r.convex is True
    if expect == "nonconvex":
        return r.convex is False
    if r.condition is None:
        return False
    want = parse_condition(expect)
    p = sorted(want.free_symbols | r.condition.free_symbols, key=lambda s: s.name)[0]
    vals = [sp.Rational(k, 4) for k in range(-40, 41)]
    return all(bool(r.condition.subs(p, v)) == bool(want.subs(p, v)) for v in vals
               if problem.interval(p).contains(v) is sp.true)


class _Timeout(Exception):
    pass


def sympy_is_convex(problem, limit=10):
    """(verdict, seconds): True/False/None, 'error', 'unsupported' or 'timeout'."""
    from sympy.calculus.util import is_convex

    if problem.parameters:
        return "unsupported", 0.0
    vs = problem.variables
    dom = problem.interval(vs[0]) if len(vs) == 1 else sp.S.Reals

    def handler(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(limit)
    t = time.perf_counter()
    try:
        v = is_convex(problem.expr, *vs, domain=dom)
    except _Timeout:
        v = "timeout"
    except NotImplementedError:
        v = "unsupported"
    except Exception as exc:  # noqa: BLE001
        v = f"error ({type(exc).__name__})"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return v, time.perf_counter() - t


def corpus() -> None:
    cases = tomllib.loads((ROOT / "tests" / "data" / "convexity.toml").read_text())["case"]
    prove("x**2"), prove("x**2")  # warm up imports and caches (the 2nd call warms the parent once)
    rows, times = [], []
    for c in cases:
        problem = make_problem(c["expr"], wrt=c["wrt"], where=c["where"])
        t = time.perf_counter()
        r = prove(c["expr"], wrt=c["wrt"], where=c["where"])
        dt = time.perf_counter() - t
        times.append(dt)
        ok = ours_correct(r, c["expect"], problem)
        sv, st = sympy_is_convex(problem)
        if isinstance(sv, bool) or sv is None:
            s_ok = ("right" if (sv is True and c["expect"] == "convex") or (sv is False and c["expect"] == "nonconvex")
                    else "WRONG" if sv is not None and c["expect"] in ("convex", "nonconvex") else "undecided")
        else:
            s_ok = "n/a"
        rows.append((c["expr"], r.verdict, ok, dt, sv, s_ok, st))
    total = sum(times)
    print("== Corpus: convexproof.prove vs sympy.is_convex ==")
    print(f"{'function':44} {'ours':24} {'ok':>3} {'ms':>7}   {'sympy':14} {'':9} {'ms':>7}")
    for expr, v, ok, dt, sv, s_ok, st in rows:
        print(f"{expr[:44]:44} {v[:24]:24} {'✓' if ok else '✗':>3} {dt * 1000:7.1f}   {str(sv)[:14]:14} {s_ok:9} "
              f"{st * 1000:7.1f}")
    ours_right = sum(r[2] for r in rows)
    s_rows = [r for r in rows if r[5] != "n/a"]
    s_right = sum(r[5] == "right" for r in s_rows)
    s_wrong = sum(r[5] == "WRONG" for r in s_rows)
    print()
    print(f"ours : {ours_right}/{len(rows)} correct, {len(rows) - ours_right} wrong or undecided; "
          f"median {statistics.median(times) * 1000:.1f} ms, total {total:.2f} s, max {max(times) * 1000:.1f} ms")
    s_times = [r[6] for r in s_rows]
    if s_rows:
        print(f"sympy: supports {len(s_rows)}/{len(rows)}; {s_right} right, {s_wrong} WRONG, "
              f"{len(s_rows) - s_right - s_wrong} undecided; median {statistics.median(s_times) * 1000:.1f} ms, "
              f"total {sum(s_times):.2f} s")
    sup = [r for r in rows if r[5] != "n/a"]
    print(f"on the {len(sup)} cases SymPy supports: ours {sum(r[2] for r in sup)} right, "
          f"median {statistics.median([r[3] for r in sup]) * 1000:.1f} ms")


def quadratic_forms(ns=(5, 10, 20, 40)) -> None:
    print()
    print("== PSD proof of a dense quadratic form x^T A x, A = B B^T + I ==")
    print(f"{'n':>4} {'terms':>6} {'prove (s)':>10} {'LDL only (s)':>13} {'verdict':>16}")
    rng = random.Random(0)
    for n in ns:
        xs = [symbol(f"x{i}") for i in range(n)]
        B = sp.Matrix(n, n, lambda i, j: rng.randint(-3, 3))
        A = B * B.T + sp.eye(n)
        v = sp.Matrix(xs)
        f = sp.expand((v.T * A * v)[0, 0])
        t = time.perf_counter()
        r = prove(f, wrt=xs, timeout=60)
        t_prove = time.perf_counter() - t
        H = hessian(f, xs)
        t = time.perf_counter()
        cert = ldl_psd(H)
        t_ldl = time.perf_counter() - t
        assert cert.psd and r.convex is True, r.verdict
        print(f"{n:>4} {len(f.args):>6} {t_prove:>10.3f} {t_ldl:>13.4f} {r.verdict:>16}")


if __name__ == "__main__":
    corpus()
    quadratic_forms((5, 10) if "--quick" in sys.argv else (5, 10, 20, 40))
