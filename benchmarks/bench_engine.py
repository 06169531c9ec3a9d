"""Benchmark of the convexity engine (a plain script; prints figures).

1. The labelled corpora (tests/data/convexity.toml, the round-1 cases, and
   tests/data/round2.toml) in ONE process at the default limit: ``prove`` as
   users call it (a child process with the time limit) side by side with
   SymPy's ``is_convex`` on the cases where it applies (no parameters; the
   domain is the box, so SymPy sees the same domain; one variable gets its
   interval, several variables the whole space).  Each verdict is judged
   against its label by ``tests/test_corpus_round2.judge`` (right / WRONG /
   undecided); per system: correct, wrong, undecided, total time, median,
   slowest; then the 10 slowest cases and the count decided per class.
2. A PSD proof of a dense n-variable quadratic form xᵀAx (A = BBᵀ + I with
   small random integers) for n = 5, 10, 20, 40: the whole ``prove`` call and
   the exact LDLᵀ certificate alone.

Run:  python3 benchmarks/bench_engine.py [--quick] [--no-forms] [--only round2] [--profile FILE]

``--profile FILE`` runs the corpus in process (CONVEXPROOF_NO_FORK=1, so the
analysis is visible to cProfile; only the cooperative deadline applies) and
writes the cProfile statistics to FILE (and the top 25 by cumulative time).
"""

from __future__ import annotations

import os
import random
import resource
import signal
import statistics
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import sympy as sp  # noqa: E402

from convexproof.engine import prove  # noqa: E402
from convexproof.engine.domain import make_problem  # noqa: E402
from convexproof.engine.multivariate import ldl_psd  # noqa: E402
from convexproof.engine.witness import hessian  # noqa: E402
from convexproof.parse import symbol  # noqa: E402
from test_corpus_round2 import RIGHT, UNDECIDED, WRONG, judge  # noqa: E402


def load_cases(only: str | None = None) -> list[dict]:
    out = []
    for name, default_class in (("convexity.toml", "round1"), ("round2.toml", None)):
        if only and only not in name:
            continue
        for c in tomllib.loads((ROOT / "tests" / "data" / name).read_text())["case"]:
            out.append({**c, "class": c.get("class", default_class)})
    return out


class _Timeout(Exception):
    pass


def sympy_is_convex(problem, limit=10):
    """(verdict, seconds): True/False/None, 'error', 'n/a' or 'timeout'."""
    from sympy.calculus.util import is_convex

    if problem.parameters or not problem.exact_box or problem.nonconvex:
        return "n/a", 0.0
    vs = problem.variables
    dom = problem.interval(vs[0]) if len(vs) == 1 else sp.S.Reals
    if len(vs) > 1 and any(problem.interval(v) != sp.S.Reals for v in vs):
        return "n/a", 0.0  # SymPy's multivariate test has no domain

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
        v = "n/a"
    except Exception as exc:  # noqa: BLE001
        v = f"error ({type(exc).__name__})"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return v, time.perf_counter() - t


def _worker_cpu() -> float:
    """CPU seconds of the engine's warm worker process (0 if none runs)."""
    from convexproof.runtime.limits import worker_pid

    pid = worker_pid()
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _cpu() -> tuple:
    """CPU seconds of this process, its ended children and the warm worker (the machine may be shared: wall time is not ours alone).

    The worker is identified by its pid: when a call replaces it, the new worker's time starts from 0.
    """
    from convexproof.runtime.limits import worker_pid

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime, worker_pid(), _worker_cpu()


def _cpu_since(before: tuple) -> float:
    """CPU seconds since ``before`` (from :func:`_cpu`); a one-off child is counted once it is reaped (up to 0.5 s wait)."""
    own0, pid0, w0 = before
    end = time.monotonic() + 0.5
    while True:
        own, pid, w = _cpu()
        worker = w - (w0 if pid == pid0 else 0.0)
        if own > own0 or worker > 0 or time.monotonic() > end or os.environ.get("CONVEXPROOF_NO_FORK"):
            return own - own0 + worker
        time.sleep(0.002)


def sympy_status(v, expect) -> str:
    if not isinstance(v, bool):
        return UNDECIDED
    if expect not in ("convex", "nonconvex"):
        return UNDECIDED
    return RIGHT if v == (expect == "convex") else WRONG


def _system_line(name, rows) -> str:
    if not rows:
        return f"{name:12} (no cases)"
    st = Counter(r["status"] for r in rows)
    ts = [r["t"] for r in rows]
    return (f"{name:12} {len(rows):>5} {st[RIGHT]:>7} {st[WRONG]:>5} {st[UNDECIDED]:>9} {sum(ts):>9.2f} "
            f"{statistics.median(ts) * 1000:>9.1f} {max(ts) * 1000:>9.1f}")


def corpus(only: str | None = None, verbose: bool = False, with_sympy: bool = True) -> list[dict]:
    cases = load_cases(only)
    prove("x**2"), prove("x**2")  # warm up imports and caches (the 2nd call warms the parent once)
    rows = []
    t_all = time.perf_counter()
    for c in cases:
        problem = make_problem(c["expr"], wrt=c["wrt"], where=c["where"])
        cpu0 = _cpu()
        t = time.perf_counter()
        r = prove(c["expr"], wrt=c["wrt"], where=c["where"])
        dt = time.perf_counter() - t
        cpu = _cpu_since(cpu0)
        status, why = judge(c, r, problem)
        sv, st = sympy_is_convex(problem) if with_sympy else ("n/a", 0.0)
        rows.append({"case": c, "verdict": r.verdict, "method": r.method, "timed_out": r.timed_out, "t": dt, "cpu": cpu,
                     "status": status, "why": why, "sympy": sv, "sympy_t": st,
                     "sympy_status": None if sv == "n/a" else sympy_status(sv, c["expect"])})
        if verbose:
            print(f"  {dt * 1000:8.1f} ms (cpu {cpu * 1000:7.1f})  {status:9} {c['expr'][:50]:50} {r.verdict}", flush=True)
    wall = time.perf_counter() - t_all
    print(f"== Corpus: {len(rows)} functions in one process, default limit; wall {wall:.1f} s "
          "(SymPy's is_convex included) ==")
    print(f"{'system':12} {'cases':>5} {'correct':>7} {'wrong':>5} {'undecided':>9} {'total s':>9} "
          f"{'median ms':>9} {'max ms':>9}")
    print(_system_line("convexproof", rows))
    sup = [r for r in rows if r["sympy_status"] is not None]
    print(_system_line("sympy", [{"status": r["sympy_status"], "t": r["sympy_t"]} for r in sup]))
    print(_system_line("convexproof*", [r for r in sup]) + "   (* on the cases SymPy applies to)")
    cpus = sorted(r["cpu"] for r in rows)
    print(f"convexproof CPU time (this process and its children; the machine is shared, load average "
          f"{os.getloadavg()[0]:.1f}): total {sum(cpus):.2f} s, median {statistics.median(cpus) * 1000:.1f} ms, "
          f"max {cpus[-1] * 1000:.1f} ms, per 100 functions {sum(cpus) / len(cpus) * 100:.1f} s")
    print()
    print("slowest 10 (convexproof):")
    for r in sorted(rows, key=lambda r: -r["t"])[:10]:
        print(f"  {r['t'] * 1000:8.1f} ms (cpu {r['cpu'] * 1000:7.1f})  [{r['case']['class']}] {r['case']['expr'][:56]:56} -> {r['verdict']}"
              f"{' (timed out)' if r['timed_out'] else ''}")
    print()
    print("decided per class (convexproof; sympy where it applies):")
    by = defaultdict(list)
    for r in rows:
        by[r["case"]["class"]].append(r)
    for cls in sorted(by):
        rs = by[cls]
        s = [r for r in rs if r["sympy_status"] is not None]
        print(f"  {cls:7} {sum(r['status'] == RIGHT for r in rs):>3}/{len(rs):<3} decided right, "
              f"{sum(r['status'] == WRONG for r in rs)} wrong, median {statistics.median([r['t'] for r in rs]) * 1000:.0f} ms"
              f"   | sympy {sum(r['sympy_status'] == RIGHT for r in s)}/{len(s)} right, "
              f"{sum(r['sympy_status'] == WRONG for r in s)} WRONG")
    wrong = [r for r in rows if r["status"] == WRONG]
    swrong = [r for r in rows if r["sympy_status"] == WRONG]
    if wrong:
        print("\nconvexproof WRONG:")
        for r in wrong:
            print(f"  {r['case']['expr']} {r['case']['where']}: {r['why']}")
    if swrong:
        print("\nsympy WRONG:")
        for r in swrong:
            print(f"  {r['case']['expr']} {r['case']['where']}: said {r['sympy']}, label {r['case']['expect']}")
    ts = sorted(r["t"] for r in rows)
    per100 = sum(ts) / len(ts) * 100
    print(f"\ntargets: median {statistics.median(ts) * 1000:.1f} ms (<= 50), slowest {ts[-1]:.2f} s (<= 2), "
          f"100 functions {per100:.1f} s (<= 5)")
    from convexproof.runtime.limits import WORKER_STATS

    print(f"warm worker: {WORKER_STATS['calls']} calls, {WORKER_STATS['started']} worker processes started")
    return rows


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


def _arg(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


if __name__ == "__main__":
    only = _arg("--only")
    prof = _arg("--profile")
    if prof:
        import cProfile
        import pstats

        os.environ["CONVEXPROOF_NO_FORK"] = "1"
        pr = cProfile.Profile()
        pr.enable()
        corpus(only, with_sympy=False)
        pr.disable()
        pr.dump_stats(prof)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    else:
        corpus(only, verbose="-v" in sys.argv)
        if "--no-forms" not in sys.argv:
            quadratic_forms((5, 10) if "--quick" in sys.argv else (5, 10, 20, 40))
