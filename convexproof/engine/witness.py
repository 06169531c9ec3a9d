"""Witnesses of non-convexity, and the numerical chord check run before any "convex".

A witness is a dict (SymPy values, symbols as keys):

* ``point``, ``direction``: a point of the domain and a direction v with
  ``curvature`` = vᵀ H(point) v < 0 (f'' for one variable);
* ``chord``: ``{"a", "b", "t", "lhs", "rhs"}`` with
  lhs = f(t·a + (1−t)·b) > rhs = t·f(a) + (1−t)·f(b) (Jensen's inequality fails);
* ``params``: parameter values the witness is for (when there are parameters);
* ``verified``: "exact" (rational arithmetic) or "40 digits".

Every witness returned here has been checked: a curvature that is exactly
negative (or negative in 40-digit arithmetic, well away from 0), a chord gap
likewise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sympy as sp

from convexproof.engine.domain import Problem, make_problem
from convexproof.runtime.limits import check_deadline
from convexproof.engine.signs import _in, _sample_interval, exact_sign, lambdify_safe
from convexproof.parse import as_sympy


# ------------------------------------------------------------------ derivatives
def second_derivative(f: sp.Expr, x: sp.Symbol) -> sp.Expr:
    return sp.diff(f, x, 2)


def _quadratic_hessian(f: sp.Expr, variables) -> sp.Matrix | None:
    """Fast path for a quadratic polynomial with numeric coefficients, term by term."""
    index = {v: i for i, v in enumerate(variables)}
    n = len(variables)
    H = [[sp.Integer(0)] * n for _ in range(n)]
    for term in sp.Add.make_args(f):
        c, rest = term.as_coeff_Mul()
        if not c.is_Rational:
            return None
        if rest == 1 or rest in index:
            continue
        powers = rest.as_powers_dict()
        deg = 0
        idx = []
        for b, e in powers.items():
            if b not in index or not e.is_Integer or e < 0:
                return None
            deg += int(e)
            idx += [index[b]] * int(e)
        if deg > 2:
            return None
        if deg == 2:
            i, j = idx
            if i == j:
                H[i][i] += 2 * c
            else:
                H[i][j] += c
                H[j][i] += c
    return sp.Matrix(H)


def hessian(f: sp.Expr, variables) -> sp.Matrix:
    """The Hessian; polynomials go through ``Poly`` (fast for big quadratic forms)."""
    variables = list(variables)
    n = len(variables)
    H = _quadratic_hessian(f, variables)
    if H is not None:
        return H
    try:
        if f.is_polynomial(*variables):
            P = sp.Poly(f, *variables)
            if P.total_degree() <= 2:
                H = sp.zeros(n, n)
                for monom, coeff in P.terms():
                    idx = [i for i, k in enumerate(monom) for _ in range(k)]
                    if len(idx) == 2:
                        i, j = idx
                        if i == j:
                            H[i, i] += 2 * coeff
                        else:
                            H[i, j] += coeff
                            H[j, i] += coeff
                return H
            H = sp.zeros(n, n)
            for i in range(n):
                Pi = P.diff(variables[i])
                for j in range(i, n):
                    H[i, j] = H[j, i] = Pi.diff(variables[j]).as_expr()
            return H
    except sp.PolynomialError:
        pass
    first = [sp.diff(f, v) for v in variables]
    H = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            check_deadline()
            H[i, j] = H[j, i] = sp.diff(first[i], variables[j])
    return H


# ------------------------------------------------------------------- checking
def _value(expr: sp.Expr, point: dict) -> sp.Expr:
    v = expr.xreplace(point) if all(isinstance(k, sp.Symbol) for k in point) else expr.subs(point)
    if v.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs):
        v = v.doit()
    return v


def curvature(f: sp.Expr, variables, point: dict, direction: dict) -> sp.Expr:
    """vᵀ H(point) v, computed exactly (d²/ds² f(point + s·v) at s = 0)."""
    variables = [x for x in variables if direction.get(x, 0) != 0]
    total = sp.Integer(0)
    firsts = {x: sp.diff(f, x) for x in variables}
    for i, xi in enumerate(variables):
        for xj in variables[i:]:
            h = _value(sp.diff(firsts[xi], xj), point)
            total += (1 if xi == xj else 2) * direction[xi] * direction[xj] * h
    return total


def chord_gap(f: sp.Expr, variables, a: dict, b: dict, t, params: dict | None = None):
    """(lhs, rhs) = (f(t a + (1-t) b), t f(a) + (1-t) f(b))."""
    params = params or {}
    m = {x: t * a[x] + (1 - t) * b[x] for x in variables}
    fa = _value(f, {**a, **params})
    fb = _value(f, {**b, **params})
    fm = _value(f, {**m, **params})
    return fm, t * fa + (1 - t) * fb  # exact values: never rounded to a 'simpler' rational


def verify_witness(f: sp.Expr, variables, w: dict, problem: Problem | None = None) -> bool:
    """Check a witness independently (exactly or to 40 digits); True if every part holds."""
    if not w:
        return False
    if w.get("domain"):
        return verify_domain_witness(f, variables, w, problem)
    params = w.get("params") or {}
    g = f.xreplace(params) if params else f
    ok = False
    if w.get("point") is not None and w.get("direction") is not None:
        pt = w["point"]
        if problem is not None and not problem.satisfies({**pt, **params}):
            return False
        c = curvature(g, variables, pt, w["direction"])
        if exact_sign(c) != -1:
            return False
        ok = True
    if w.get("chord"):
        ch = w["chord"]
        if problem is not None and not (problem.satisfies({**ch["a"], **params}) and problem.satisfies({**ch["b"], **params})):
            return False
        if not (0 < ch["t"] < 1):
            return False
        lhs, rhs = chord_gap(g, variables, ch["a"], ch["b"], ch["t"])
        if exact_sign(lhs - rhs) != 1:
            return False
        ok = True
    return ok


def domain_witness(problem: Problem) -> dict | None:
    """Two points of the domain whose segment leaves it, where f is defined, verified exactly; or None.

    For a variable whose allowed values form a union of intervals (x ≠ 0,
    x² > 1): a and b on either side of a gap, and the point of the segment in
    the gap.  A function whose domain is not convex is not convex.
    """
    from convexproof.engine.domain import condition_set, sample_point

    f = problem.expr
    for x in problem.nonconvex:
        S = problem.interval(x)
        for c in problem.extra:
            if c.free_symbols == {x}:
                cs = condition_set(c, x)
                if cs is None:
                    return None
                S = S.intersect(cs)
        pieces = list(S.args) if isinstance(S, sp.Union) else [S]
        pieces = [P for P in pieces if isinstance(P, sp.Interval) and P.measure > 0]
        pieces.sort(key=lambda P: sp.N(P.inf) if P.inf != -sp.oo else -sp.oo)
        others = {v: sample_point(problem.interval(v)) for v in problem.variables if v != x}
        params = {p: sample_point(problem.interval(p)) for p in problem.parameters}
        for P, Q in zip(pieces, pieces[1:]):
            gap = (P.sup + Q.inf) / 2
            a = {**others, x: sample_point(P)}
            b = {**others, x: sample_point(Q)}
            t = (b[x] - gap) / (b[x] - a[x])
            w = {"domain": {"a": a, "b": b, "t": t, "m": {**others, x: gap}}, "verified": "exact"}
            if params:
                w["params"] = params
            if verify_domain_witness(f, problem.variables, w, problem):
                return w
    return None


def verify_domain_witness(f, variables, w: dict, problem: Problem) -> bool:
    """a and b satisfy every condition and f is finite there; t·a + (1−t)·b does not satisfy them."""
    d = w.get("domain")
    if not d or problem is None:
        return False
    params = w.get("params") or {}
    a, b, t, m = d["a"], d["b"], d["t"], d["m"]
    if not (0 < t < 1) or any(m[x] != t * a[x] + (1 - t) * b[x] for x in variables):
        return False
    if not (problem.satisfies({**a, **params}) and problem.satisfies({**b, **params})):
        return False
    if problem.satisfies({**m, **params}):
        return False
    for pt in (a, b):
        v = _value(f.xreplace(params) if params else f, pt)
        if not v.is_number or v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or exact_sign(v) is None and v != 0:
            return False
    return True


def flat_chord(f, x, accept=None) -> dict | None:
    """Two points a ≠ b with f((a + b)/2) = (f(a) + f(b))/2 exactly (one variable), or None.

    For a convex f this is a segment where f is affine, so f is not strictly
    convex (nor strongly).  Small rational pairs are tried; equality is exact.
    """
    for a, b in ((1, 2), (-2, -1), (2, 3), (-3, -2), (0, 1), (-1, 0), (3, 5), (-5, -3), (5, 9), (-9, -5)):
        a, b = sp.Integer(a), sp.Integer(b)
        if accept is not None and not (accept({x: a}) and accept({x: b})):
            continue
        lhs, rhs = chord_gap(f, [x], {x: a}, {x: b}, sp.Rational(1, 2))
        if lhs.is_Rational and rhs.is_Rational and lhs == rhs:
            return {"a": {x: a}, "b": {x: b}, "t": sp.Rational(1, 2), "lhs": lhs, "rhs": rhs}
    return None


def _kind(*vals) -> str:
    return "exact" if all(as_sympy(v).is_Rational for v in vals) else "40 digits"


def curvature_witness(f, variables, point, direction, problem: Problem, params=None) -> dict | None:
    """A verified curvature witness (with a verified chord when one is found near the point)."""
    params = params or {}
    g = f.xreplace(params) if params else f
    if not problem.satisfies({**point, **params}):
        return None
    c = curvature(g, variables, point, direction)
    if exact_sign(c) != -1:
        return None
    w = {"point": dict(point), "direction": dict(direction), "curvature": c, "verified": _kind(c)}
    if params:
        w["params"] = dict(params)
    ch = chord_near(g, variables, point, direction, problem)
    if ch is not None:
        w["chord"] = ch
    return w


def chord_near(f, variables, point, direction, problem: Problem) -> dict | None:
    """A verified violating chord (point ± h·v, t = 1/2) for a shrinking h."""
    for h in (sp.Integer(1), sp.Rational(1, 2), sp.Rational(1, 10), sp.Rational(1, 100), sp.Rational(1, 1000)):
        check_deadline()
        a = {x: point[x] - h * direction.get(x, 0) for x in variables}
        b = {x: point[x] + h * direction.get(x, 0) for x in variables}
        if not (problem.satisfies(a) and problem.satisfies(b)):
            continue
        t = sp.Rational(1, 2)
        lhs, rhs = chord_gap(f, variables, a, b, t)
        if exact_sign(lhs - rhs) == 1:
            return {"a": a, "b": b, "t": t, "lhs": lhs, "rhs": rhs}
    return None


def chord_from(f, variables, start: dict, direction: dict, problem: Problem) -> dict | None:
    """A verified violating chord from ``start`` to start + h·v (t = 1/2), for h = 1, 1/2, 1/4, …, 2⁻⁴⁰.

    This finds the witness at a jump: a value that drops at an end of the domain
    or at an isolated point, where a random chord almost never lands.
    """
    a = {x: start[x] for x in variables}
    if not problem.satisfies(a):
        return None
    t = sp.Rational(1, 2)
    for k in range(41):
        check_deadline()
        h = sp.Rational(1, 2**k)
        b = {x: start[x] + h * direction.get(x, 0) for x in variables}
        if not problem.satisfies(b):
            continue
        lhs, rhs = chord_gap(f, variables, a, b, t)
        if exact_sign(lhs - rhs) == 1:
            return {"a": a, "b": b, "t": t, "lhs": lhs, "rhs": rhs}
    return None


def jump_witness(f, x, p, problem: Problem) -> dict | None:
    """A verified chord witness at a point p where f jumps (one variable), or None."""
    for ch in (chord_from(f, [x], {x: p}, {x: sp.Integer(1)}, problem),
               chord_from(f, [x], {x: p}, {x: sp.Integer(-1)}, problem),
               chord_near(f, [x], {x: p}, {x: sp.Integer(1)}, problem)):
        if ch is not None:
            return {"chord": ch, "verified": _kind(ch["lhs"], ch["rhs"])}
    return None


# ---------------------------------------------------------------- numerics
def _lambdify(variables, f):
    return lambdify_safe(list(variables), f)


def _samples(problem: Problem, syms, rng, n):
    import numpy as np

    return [np.array(_sample_interval(problem.interval(s), rng, n)) for s in syms]


def numeric_chords(f, problem: Problem, *, n: int = 400, seed: int = 1, params_fixed: dict | None = None):
    """Random chords on the box: (samples, violations, best violating chord as floats or None)."""
    import numpy as np

    variables = list(problem.variables)
    params = [p for p in problem.parameters if not params_fixed or p not in params_fixed]
    g = f.xreplace(params_fixed) if params_fixed else f
    syms = variables + params
    try:
        fn = _lambdify(syms, g)
    except Exception:  # noqa: BLE001
        return 0, 0, None
    rng = random.Random(seed)
    A = _samples(problem, syms, rng, n)
    B = _samples(problem, variables, rng, n)
    # half the chords are short (local curvature), half long
    short = np.array([rng.random() < 0.5 for _ in range(n)])
    for i in range(len(variables)):
        B[i] = np.where(short, A[i] + (B[i] - A[i]) * 10.0 ** np.array([rng.uniform(-3, -1) for _ in range(n)]), B[i])
    T = np.array([rng.uniform(0.05, 0.95) for _ in range(n)])
    P = A[len(variables):]
    M = [T * a + (1 - T) * b for a, b in zip(A, B)]
    with np.errstate(all="ignore"):
        try:
            fa = np.asarray(fn(*A[:len(variables)], *P), dtype=float) * np.ones(n)
            fb = np.asarray(fn(*B, *P), dtype=float) * np.ones(n)
            fm = np.asarray(fn(*M, *P), dtype=float) * np.ones(n)
        except Exception:  # noqa: BLE001
            return 0, 0, None
    with np.errstate(all="ignore"):  # inf - inf and overflow are expected here (masked by ok): no warning on stderr
        rhs = T * fa + (1 - T) * fb
        ok = np.isfinite(fa) & np.isfinite(fb) & np.isfinite(fm)
        # only chords whose ends (and so midpoints) satisfy the extra conditions
        gap = fm - rhs
        tol = 1e-9 * (1 + np.abs(fa) + np.abs(fb) + np.abs(fm))
        bad = ok & (gap > tol)
        count = int(ok.sum())
        if not bad.any():
            return count, 0, None
        idx = int(np.argmax(np.where(bad, gap / (tol + 1e-300), -np.inf)))
    chord = {"a": {x: float(A[i][idx]) for i, x in enumerate(variables)},
             "b": {x: float(B[i][idx]) for i, x in enumerate(variables)},
             "t": float(T[idx]),
             "params": {p: float(P[i][idx]) for i, p in enumerate(params)}}
    return count, int(bad.sum()), chord


def exact_chord(f, problem: Problem, chord: dict, params_fixed: dict | None = None) -> dict | None:
    """Turn a float chord into a verified rational one (or None)."""
    variables = list(problem.variables)
    for d in (1, 2, 10, 100, 10**4, 10**8, None):
        def q(v):
            if d is None:
                return sp.Rational(v)  # the float itself, exactly
            return sp.Rational(round(v * d), d)
        a = {x: q(v) for x, v in chord["a"].items()}
        b = {x: q(v) for x, v in chord["b"].items()}
        t = q(chord["t"]) if d is not None and d >= 10 else sp.Rational(round(chord["t"] * 20), 20)
        if not (0 < t < 1) or a == b:
            continue
        params = {p: q(v) for p, v in chord.get("params", {}).items()}
        params.update(params_fixed or {})
        if not (problem.satisfies({**a, **params}) and problem.satisfies({**b, **params})):
            continue
        check_deadline()
        lhs, rhs = chord_gap(f, variables, a, b, t, params)
        if exact_sign(lhs - rhs) == 1:
            w = {"chord": {"a": a, "b": b, "t": t, "lhs": lhs, "rhs": rhs}, "verified": _kind(lhs, rhs)}
            if params:
                w["params"] = params
            return w
    return None


def search_curvature(f, problem: Problem, *, n: int = 200, seed: int = 3, H=None) -> dict | None:
    """Sample points, look for vᵀ H v < 0 numerically, then verify exactly."""
    import numpy as np

    variables = list(problem.variables)
    if problem.parameters:
        return None
    if H is None:
        H = hessian(f, variables)
    n_var = len(variables)
    rng = random.Random(seed)
    pts = _samples(problem, variables, rng, n)
    try:
        fns = [[_lambdify(variables, H[i, j]) for j in range(n_var)] for i in range(n_var)]
    except Exception:  # noqa: BLE001
        return None
    with np.errstate(all="ignore"):
        try:
            vals = np.zeros((n, n_var, n_var))
            for i in range(n_var):
                for j in range(n_var):
                    vals[:, i, j] = np.asarray(fns[i][j](*pts), dtype=float) * np.ones(n)
        except Exception:  # noqa: BLE001
            return None
    good = np.all(np.isfinite(vals.reshape(n, -1)), axis=1)
    if not good.any():
        return None
    vals[~good] = 0
    eig, vec = np.linalg.eigh(vals)
    order = np.argsort(eig[:, 0])
    for k in order[:6]:
        if not good[k] or eig[k, 0] >= 0:
            break
        v = vec[k][:, 0]
        v = v / np.max(np.abs(v))
        for d in (1, 2, 10, 100, 10**4):
            point = {x: sp.Rational(round(float(pts[i][k]) * d), d) for i, x in enumerate(variables)}
            direction = {x: sp.Rational(round(float(v[i]) * max(d, 4)), max(d, 4)) for i, x in enumerate(variables)}
            if all(c == 0 for c in direction.values()):
                continue
            if not all(_in(problem.interval(x), point[x]) for x in variables):
                continue
            check_deadline()
            w = curvature_witness(f, variables, point, direction, problem)
            if w is not None:
                return w
    return None


def search_witness(f, problem: Problem, *, smooth: bool = True, params_fixed: dict | None = None) -> dict | None:
    """Curvature witness (smooth f) or a chord witness, verified; None if none found."""
    g = f.xreplace(params_fixed) if params_fixed else f
    if smooth and not (set(problem.parameters) - set(params_fixed or {})):
        w = search_curvature(g, problem)
        if w is not None:
            if params_fixed:
                w["params"] = dict(params_fixed)
            return w
    for seed in (1, 7):
        count, bad, chord = numeric_chords(f, problem, seed=seed, params_fixed=params_fixed)
        if chord is not None:
            w = exact_chord(g if not chord.get("params") else f, problem, chord, params_fixed)
            if w is not None:
                return w
    return None


def find_witness(expr, var_symbols, where=()) -> dict | None:
    """A verified witness that ``expr`` is not convex in ``var_symbols`` on ``where`` (or None).

    For computed feedback: the dict has ``point``/``direction``/``curvature``
    (vᵀHv < 0) and/or ``chord`` {a, b, t, lhs, rhs} with lhs > rhs, and
    ``verified``.  Points, directions and chord ends map symbols to values.
    """
    from convexproof.engine.domain import is_smooth

    problem = make_problem(expr, wrt=list(var_symbols), where=where)
    if problem.parameters:
        return None
    f = problem.expr
    if len(problem.variables) == 1 and is_smooth(f):
        from convexproof.engine.signs import prove_nonneg

        x = problem.variables[0]
        r = prove_nonneg(sp.diff(f, x, 2), problem.domain_box, variables=[x], accept=problem.satisfies)
        if r.status == "disproved":
            w = curvature_witness(f, [x], r.point, {x: sp.Integer(1)}, problem)
            if w is not None:
                return w
    return search_witness(f, problem, smooth=is_smooth(f))


# ------------------------------------------------------------------ simple points
_SIMPLE_VALUES = (sp.Integer(1), sp.Integer(2), sp.Integer(-1), sp.Rational(1, 2), sp.Integer(3), sp.Rational(1, 3),
                  sp.Integer(-2), sp.Rational(3, 4), sp.Rational(1, 4), sp.Integer(5), sp.Rational(-1, 2),
                  sp.Integer(0))


def simple_values(I: sp.Interval) -> tuple:
    """Up to ten simple rationals of the interval I (1, 2, −1, 1/2, …, then fractions of a bounded I), never empty."""
    return _simple_values(I)


@lru_cache(maxsize=256)
def _simple_values(I) -> tuple:
    out = [c for c in _SIMPLE_VALUES if I.contains(c) is sp.true]
    if I.inf.is_finite and I.sup.is_finite:
        for k in (2, 3, 4, 5):
            c = I.inf + (I.sup - I.inf) / k
            if c.is_Rational and I.contains(c) is sp.true:
                out.append(c)
    return tuple(out[:10] or [sp.Integer(0)])


def simple_point(g, box: dict, signs, *, syms=None, limit: int = 80) -> dict | None:
    """The first point of a grid of simple rationals of the box where g has a certified sign in ``signs``, or None.

    For readable counterexamples (g < 0 at x = 1/2: ``signs=(-1,)``) and
    points where two expressions differ (``signs=(-1, 1)``).  ``box`` maps
    symbols to Intervals (the whole line when absent); at most ``limit``
    points are tried; every sign is :func:`convexproof.engine.exact.certified_sign`'s.
    """
    import itertools

    from convexproof.engine.exact import certified_sign

    syms = sorted(g.free_symbols, key=lambda s: s.name) if syms is None else list(syms)
    if not syms:
        return {} if certified_sign(g) in signs else None
    grid = itertools.product(*[simple_values(box.get(s, sp.Interval(-sp.oo, sp.oo))) for s in syms])
    for combo in itertools.islice(grid, limit):
        pt = dict(zip(syms, combo))
        try:
            v = g.subs(pt)
        except Exception:  # noqa: BLE001 - not defined there
            continue
        if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I) or v.free_symbols:
            continue
        if certified_sign(v) in signs:
            return pt
    return None


# ------------------------------------------------------------------- the record
@dataclass
class Witness:
    """A certificate of non-convexity as a record (what :class:`convexproof.steps.proof.WitnessStep` shows),
    checked exactly or to 40 digits.

    Negative curvature ``vᵀ∇²f(point)v = curvature < 0``; a chord ``lhs = f(t·a + (1−t)·b) > rhs = t·f(a) +
    (1−t)·f(b)`` (``chord`` = {"a", "b", "t", "lhs", "rhs"}, optionally "fa" = f(a), "fb" = f(b) and "m" = the
    point t·a + (1−t)·b); or a domain that is not convex (``domain`` = {"a", "b", "m", "t"}); for the parameter
    values ``params``.  Points are {variable: value}.  ``function`` and ``variables`` are what it is about, so
    :meth:`verify` can check it again with the engine's one checker.
    """

    function: Any = None
    variables: list = field(default_factory=list)
    point: Any = None
    direction: Any = None
    curvature: Any = None
    chord: Any = None
    params: Any = None
    domain: Any = None
    verified: str = "exact"  # or "40 digits"
    # the problem (domain) it was found on: a domain witness, and the points' membership, are checked against it
    problem: Any = field(default=None, repr=False, compare=False, metadata={"json": False})

    @classmethod
    def from_dict(cls, w: dict, function: Any = None, variables: Any = None, problem: Any = None) -> "Witness":
        """From the engine's witness dictionary (:mod:`convexproof.engine.witness`)."""
        return cls(problem=problem, function=function,
                   variables=list(variables if variables is not None else w.get("variables") or []),
                   point=w.get("point"), direction=w.get("direction"), curvature=w.get("curvature"),
                   chord=w.get("chord") or None, params=w.get("params") or None, domain=w.get("domain") or None,
                   verified="exact" if w.get("verified", "exact") == "exact" else "40 digits")

    def as_dict(self) -> dict:
        """The engine's witness dictionary."""
        out: dict = {"verified": self.verified}
        for k in ("point", "direction", "curvature", "chord", "params", "domain"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out

    def verify(self, problem: Any = None) -> bool:
        """Check the witness again, exactly (or to 40 digits), with :func:`convexproof.engine.witness.verify_witness`."""
        if self.function is None or not self.variables:
            return False
        problem = self.problem if problem is None else problem
        if self.domain is not None and problem is None:
            return False  # a domain witness needs the domain it is about
        return bool(verify_witness(self.function, self.variables, self.as_dict(), problem))
