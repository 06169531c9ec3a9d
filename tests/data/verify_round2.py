"""Check every label of round2.toml numerically, independently of the engine.

Run:  python tests/data/verify_round2.py [--seed N]

The formulas are read with ``sympy.sympify`` (not convexproof's parser) and
evaluated with NumPy; convexproof is not imported.  For each case and each
parameter value tried:

* points of the domain are sampled (boxes of several sizes, kept when every
  ``where`` condition holds);
* *midpoint chords* f((a+b)/2) <= (f(a)+f(b))/2 are tested for pairs a, b = m -/+ h v
  with random directions v and scales h from 1e-3 to 10 (both ends in the
  domain); a violation larger than the rounding tolerance proves non-convexity
  (up to float rounding);
* for a smooth function, the smallest eigenvalue of the Hessian (SymPy's diff,
  evaluated with NumPy) on every sample point.

"convex" needs no violation and no negative eigenvalue (beyond tolerance);
"nonconvex" needs a violation.  A parameter-free label is checked once; a
label on a parametric function is checked for every value of a grid of the
parameters (quarter steps, plus random data values for the other symbols),
and a condition is checked on both sides of its boundary: convex exactly where
the condition holds.  Prints one line per case and exits 1 if any label fails.
"""

from __future__ import annotations

import itertools
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import sympy as sp

warnings.filterwarnings("ignore")
HERE = Path(__file__).parent
LOCALS = {"abs": sp.Abs, "max": sp.Max, "min": sp.Min, "pi": sp.pi, "E": sp.E, "lam": sp.Symbol("lam", real=True)}
NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign)


def read(text):
    expr = sp.sympify(text, locals=dict(LOCALS))
    return expr.subs({s: sp.Symbol(s.name, real=True) for s in expr.free_symbols})


def read_condition(text):
    """'p <= 0 or p >= 1', '-2 <= c <= 2', 'a >= b' as a SymPy boolean."""
    def one(t):
        parts = t.split("<=")
        if len(parts) == 3:  # chained a <= x <= b
            return sp.And(read(f"{parts[0]} <= {parts[1]}"), read(f"{parts[1]} <= {parts[2]}"))
        return read(t)

    return sp.Or(*[sp.And(*[one(b) for b in a.split(" and ")]) for a in text.split(" or ")])


def rel_fun(c, syms):
    return sp.lambdify(syms, c, "numpy")


def sample_points(variables, conds, rng, n=4000):
    """Points (n_vars x m) of the domain: random boxes of several sizes, filtered by the conditions."""
    k = len(variables)
    chunks = []
    for scale in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
        pts = rng.uniform(-scale, scale, size=(k, n // 6))
        chunks.append(pts)
    pts = np.concatenate(chunks, axis=1)
    ok = np.ones(pts.shape[1], dtype=bool)
    for c in conds:
        ok &= np.asarray(c(*pts), dtype=bool)
    return pts[:, ok]


def in_domain(conds, pts):
    ok = np.ones(pts.shape[1], dtype=bool)
    for c in conds:
        ok &= np.asarray(c(*pts), dtype=bool)
    return ok


def numeric_curvature(expr, variables, conds, rng, hess_fn=None):
    """(convex?, detail): False with a violation found, True when none was found."""
    f = sp.lambdify(variables, expr, "numpy")
    pts = sample_points(variables, conds, rng)
    if pts.shape[1] < 10:
        return None, "no points in the domain"
    k = len(variables)
    worst = 0.0
    for h in (1e-3, 1e-2, 1e-1, 0.5, 2.0, 10.0):
        v = rng.normal(size=pts.shape)
        v /= np.linalg.norm(v, axis=0)
        a, b = pts - h * v, pts + h * v
        ok = in_domain(conds, a) & in_domain(conds, b)
        if not ok.any():
            continue
        a, b, m = a[:, ok], b[:, ok], pts[:, ok]
        with np.errstate(all="ignore"):
            fa, fb, fm = (np.broadcast_to(np.asarray(f(*p), dtype=float), (p.shape[1],)) for p in (a, b, m))
        gap = fm - (fa + fb) / 2
        tol = 1e-9 * (np.abs(fa) + np.abs(fb) + np.abs(fm) + 1)
        good = np.isfinite(gap) & np.isfinite(tol)
        bad = good & (gap > tol)
        if bad.any():
            i = np.flatnonzero(bad)[0]
            return False, f"chord h={h}: midpoint {m[:, i].round(4).tolist()} gap {gap[i]:.3g}"
    if hess_fn is not None:
        with np.errstate(all="ignore"):
            for j in range(0, pts.shape[1], 1):
                if j > 1500:
                    break
                H = np.array(hess_fn(*pts[:, j]), dtype=float).reshape(k, k)
                if not np.isfinite(H).all():
                    continue
                lam = np.linalg.eigvalsh(H)[0]
                scale = 1e-8 * (1 + np.abs(H).max())
                if lam < -scale:
                    return False, f"Hessian eigenvalue {lam:.3g} at {pts[:, j].round(4).tolist()}"
                worst = min(worst, lam)
    return True, f"{pts.shape[1]} points, no violation"


def param_grid(params, conds_p, rng):
    """Values of the parameters: a quarter-step grid for those the condition names, random for data."""
    if not params:
        return [{}]
    grid_vals = [k / 4 for k in range(-16, 17)] + [0.1, -0.1, 0.3, 0.6, 1.3, 2.7, 7.0]
    if len(params) <= 2:
        combos = list(itertools.product(grid_vals, repeat=len(params)))
    else:
        combos = [tuple(rng.choice(grid_vals, size=len(params))) for _ in range(120)]
    out = []
    for vals in combos:
        d = dict(zip(params, vals))
        if all(bool(c.subs(d)) for c in conds_p):
            out.append(d)
    if len(out) > 160:
        idx = rng.choice(len(out), size=160, replace=False)
        out = [out[i] for i in sorted(idx)]
    return out


def check_case(case, rng):
    expr = read(case["expr"])
    variables = [sp.Symbol(v, real=True) for v in case["wrt"]]
    where = [read_condition(w) for w in case["where"]]
    expect = case["expect"]
    params = sorted(expr.free_symbols - set(variables) | {s for w in where for s in w.free_symbols} - set(variables),
                    key=lambda s: s.name)
    cond = None if expect in ("convex", "nonconvex") else read_condition(expect)
    # the condition's parameters go on the grid; data symbols get random values
    named = sorted(cond.free_symbols, key=lambda s: s.name) if cond is not None else params
    data = [p for p in params if p not in named]
    conds_p = [w for w in where if not (w.free_symbols & set(variables))]
    conds_x = [w for w in where if w.free_symbols & set(variables)]
    smooth = not expr.has(*NONSMOOTH)
    results = []
    for pv in param_grid(named, [w for w in conds_p if w.free_symbols <= set(named)], rng):
        for rep in range(3 if data else 1):
            dv = {d: float(np.round(rng.uniform(-3, 3), 2)) for d in data}
            allv = {**pv, **dv}
            if not all(bool(c.subs(allv)) for c in conds_p):
                continue
            e = expr.subs(allv)
            if e.has(sp.zoo, sp.nan, sp.oo, -sp.oo):  # e.g. a parameter value that divides by zero
                continue
            cx = [rel_fun(c.subs(allv), variables) for c in conds_x]
            hess = None
            if smooth:
                H = sp.hessian(e, variables)
                hess = sp.lambdify(variables, H, "numpy")
            ok, detail = numeric_curvature(e, variables, cx, rng, hess)
            if ok is None:
                continue
            want = {"convex": True, "nonconvex": False}.get(expect)
            if want is None:
                want = bool(cond.subs(pv))
            results.append((allv, ok, want, detail))
    if not results:
        return False, "no parameter value with a non-empty domain"
    bad = [r for r in results if r[1] != r[2]]
    if bad:
        allv, ok, want, detail = bad[0]
        return False, f"{len(bad)}/{len(results)} disagree; e.g. {allv}: numeric {'convex' if ok else 'not convex'} ({detail})"
    return True, f"{len(results)} parameter value(s) agree"


def main(argv):
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    rng = np.random.default_rng(seed)
    cases = tomllib.loads((HERE / "round2.toml").read_text())["case"]
    failures = 0
    for case in cases:
        ok, detail = check_case(case, rng)
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} [{case.get('class', '?')}] {case['expr'][:60]:60} {case['where']} -> {case['expect']}: {detail}")
    print(f"{len(cases) - failures}/{len(cases)} labels confirmed numerically")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
