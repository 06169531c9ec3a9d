"""Round-2 methods of the engine (issue #10), tried when the standard methods leave f undecided.

Each method either proves what it claims or returns None:

* parameters that do not touch the curvature (``cos(x) + q·y²`` in x): the decision is the
  parameter-free one, for every parameter value;
* f'' = A(x) + c·B(x), affine in one parameter c: f is convex iff L ≤ c ≤ H, where each finite bound
  is *attained*: at an exact point x₀ with B(x₀) > 0 and A(x₀) + L·B(x₀) = 0 (so every c < L makes
  f''(x₀) < 0), and A + L·B ≥ 0 is proved on the whole domain (so L itself, and by convexity in c
  every c between the bounds, is fine).  A bound that cannot be shown attained gives no condition;
* separable sums f = g(x-group) + h(y-group) + … on a box: f is convex iff every part is; a witness of
  a part, with the other variables held fixed, is a witness for f;
* one-variable piecewise functions whose breakpoints do not depend on the parameters: convex iff
  every piece is (condition on its open interval), f is continuous, and the slope does not decrease at
  a breakpoint (a condition on the parameters);
* p-norm compositions (Σ cᵢ·hᵢᵖ + c₀)^(1/p) with p ≥ 1, cᵢ > 0, c₀ ≥ 0 and hᵢ ≥ 0 convex: convex
  (the p-norm is convex and nondecreasing in each nonnegative argument); sums of these and terms
  convex by the composition rules;
* a convex loss plus λ·(a positive definite quadratic): f convex iff λ ≥ 0 when the loss is convex for
  every value of its data and its Hessian is singular everywhere (identically zero determinant).
"""

from __future__ import annotations

import functools
import math

import sympy as sp

from convexproof.engine.atoms import AFFINE, CONST, CONVEX, DCP
from convexproof.engine.domain import Problem, is_smooth
from convexproof.engine.outcome import Outcome
from convexproof.engine.signs import NONNEG, POS, ZERO, SignOracle, exact_sign, prove_nonneg
from convexproof.runtime.limits import check_deadline
from convexproof.steps import said
from convexproof.steps.proof import CvxCondition, CvxDerivative, CvxHessian, CvxKink, CvxPiece, CvxSign


def decide_more(problem: Problem, analyse, hessian_outcome) -> Outcome | None:
    """A decision by one of the round-2 methods, or None.  ``analyse`` and ``hessian_outcome`` are the prover's
    entry point and Hessian method (passed in so that this module does not import the prover)."""
    check_deadline()
    for method in (lambda p: _param_free_curvature(p, hessian_outcome), _affine_parameter_1d, _piecewise_parameters_1d,
                   _symbolic_breakpoints, _pnorm_sum, _hessian_affine_parameter,
                   _regularised_loss, _vanishing_curvature_loss, lambda p: _separable(p, analyse),
                   lambda p: _perspective(p, analyse)):
        out = method(problem)
        if out is not None and (out.convex is not None or out.condition is not None):
            return out
    return None


# ------------------------------------------------------------------ parameters outside the curvature
def _param_free_curvature(problem: Problem, hessian_outcome) -> Outcome | None:
    """f'' (or the Hessian) does not involve the parameters: decide as without parameters."""
    if not problem.parameters or not is_smooth(problem.expr):
        return None
    from convexproof.engine.univariate import smooth_1d
    from convexproof.engine.witness import hessian

    vs = list(problem.variables)
    params = set(problem.parameters)
    if len(vs) == 1:
        g = sp.diff(problem.expr, vs[0], 2)
        if g.free_symbols & params:
            return None
        out = smooth_1d(problem)
    else:
        H = hessian(problem.expr, vs)
        if H.free_symbols & params:
            return None
        out = hessian_outcome(problem)
    if out.convex is True:
        out.for_all_params = True
        out.steps.append(CvxSign(sp.Tuple(*problem.parameters), "", "the curvature does not involve the "
                                 "parameters, so the conclusion holds for every value of them"))
    elif out.convex is False and out.witness is not None:
        from convexproof.engine.domain import sample_point
        from convexproof.engine.witness import chord_gap

        # the witness at one parameter value (any value works): its chord values are then numbers
        pv = {p: sample_point(problem.interval(p)) for p in problem.parameters}
        w = dict(out.witness)
        w["params"] = pv
        if w.get("chord"):
            ch = dict(w["chord"])
            ch["lhs"], ch["rhs"] = chord_gap(problem.expr.xreplace(pv), vs, ch["a"], ch["b"], ch["t"])
            w["chord"] = ch
        out.witness = w
        out.steps.append(CvxSign(sp.Tuple(*problem.parameters), "", "the curvature does not involve the "
                                 "parameters, so the witness works for every value of them"))
    return out


# ------------------------------------------------------------------ f'' affine in one parameter
def _floats(I: sp.Interval, n: int = 2001) -> list[float]:
    lo = float(I.inf) if I.inf != -sp.oo else -40.0
    hi = float(I.sup) if I.sup != sp.oo else 40.0
    if I.inf != -sp.oo and I.sup == sp.oo:
        hi = lo + 80.0
    if I.sup != sp.oo and I.inf == -sp.oo:
        lo = hi - 80.0
    step = (hi - lo) / (n + 1)
    return [lo + step * (k + 1) for k in range(n)]


def _golden(fn, a: float, b: float, iters: int = 80) -> float:
    """The maximiser of fn on [a, b] (unimodal near the grid maximum)."""
    r = (math.sqrt(5) - 1) / 2
    c, d = b - r * (b - a), a + r * (b - a)
    for _ in range(iters):
        if fn(c) > fn(d):
            b = d
        else:
            a = c
        c, d = b - r * (b - a), a + r * (b - a)
    return (a + b) / 2


def _exact_guesses(v: float, deep: bool = False) -> list:
    """Simple exact numbers near v: rationals with small denominators and rational multiples of π; with ``deep``,
    nsimplify's in terms of π or e instead (an integer-relation search: slower, tried last)."""
    out = []
    if not deep:
        for k in (1, 2, 3, 4, 6, 8, 12):
            for unit in (sp.Integer(1), sp.pi):
                q = sp.Rational(round(v * k / float(unit)), k) * unit
                if abs(float(q) - v) < 1e-6 * max(1.0, abs(v)) and q not in out:
                    out.append(q)
        return out
    for consts in ([sp.pi], [sp.E]):
        try:
            q = sp.nsimplify(v, consts, tolerance=1e-9)
        except Exception:  # noqa: BLE001
            continue
        if q not in out and q.is_number and sp.count_ops(q) < 12 and abs(float(q) - v) < 1e-6 * max(1.0, abs(v)):
            out.append(q)
    return out


def _finite(v) -> bool:
    return bool(v.is_number) and v.is_real is not False and not v.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I)


def _proved_nonneg(e: sp.Expr, x: sp.Symbol, I: sp.Interval, xs: list[float]):
    """prove_nonneg of e on I within a short budget, after a numeric look on the grid (None when unproved)."""
    from convexproof.runtime.errors import AnalysisTimeout
    from convexproof.runtime.limits import deadline, remaining

    try:
        fn = sp.lambdify(x, e, "math")
        for t in xs[:: max(1, len(xs) // 400)]:
            try:
                if fn(t) < -1e-9:
                    return None
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
    except Exception:  # noqa: BLE001
        return None
    try:
        with deadline(min(max(remaining() * 0.3, 0.05), BOUND_BUDGET)):
            r = prove_nonneg(e, {x: I}, search=False)
    except AnalysisTimeout:
        check_deadline()  # the outer limit, if that one has passed
        return None
    if r.status == "proved":
        return r
    return _monotone_nonneg(e, x, I)


def _monotone_nonneg(e: sp.Expr, x: sp.Symbol, I: sp.Interval):
    """e ≥ 0 on I from monotonicity: e' ≤ 0 on I and e ≥ 0 at the (finite) right end, or e' ≥ 0 and e ≥ 0 at
    the left end (e is smooth and finite there, so continuous up to the end)."""
    from convexproof.runtime.errors import AnalysisTimeout
    from convexproof.runtime.limits import deadline, remaining

    if not is_smooth(e):
        return None
    d = sp.diff(e, x)
    for end, sgn in ((I.sup, -1), (I.inf, 1)):
        if end in (sp.oo, -sp.oo):
            continue
        v = e.subs(x, end)
        if not _finite(v) or (v != 0 and exact_sign(v) != 1):
            continue
        try:
            with deadline(min(max(remaining() * 0.3, 0.05), BOUND_BUDGET)):
                r = prove_nonneg(sgn * d, {x: I}, search=False)
        except AnalysisTimeout:
            check_deadline()
            continue
        if r.status == "proved":
            word = "nonincreasing" if sgn < 0 else "nondecreasing"
            r.steps = [CvxSign(e, "≥ 0", f"it is {word} on the interval (its derivative has that sign, below) "
                                         "and ≥ 0 at the end it moves towards", children=r.steps)]
            return r
    return None


BOUND_BUDGET = 2.0  # seconds to prove f'' >= 0 at one candidate bound of the parameter


def attained_bound(A: sp.Expr, B: sp.Expr, x: sp.Symbol, I: sp.Interval, side: int):
    """For side = +1: (L, x₀, proof) with A + L·B ≥ 0 proved on I and, at x₀, B(x₀) > 0 and A(x₀) + L·B(x₀) = 0
    exactly, so that every c < L makes f'' = A + c·B negative at x₀ (or, when x₀ is an end of I where A and B are
    finite, or ±∞ where they have finite limits, at points of I near x₀).  side = −1: the same with B(x₀) < 0
    (an upper bound).  ("none", proof) when B never has that sign on I (proved); None when nothing is found."""
    check_deadline()
    try:
        fa = sp.lambdify(x, A, "math")
        fb = sp.lambdify(x, B, "math")
    except Exception:  # noqa: BLE001
        return None

    def ratio(t):
        try:
            b = fb(t)
            return -fa(t) / b if side * b > 1e-12 else -side * math.inf
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return -side * math.inf

    xs = _floats(I)
    vals = [ratio(t) for t in xs]
    ok = [i for i, v in enumerate(vals) if math.isfinite(v)]
    if not ok:
        r = _proved_nonneg(-side * B, x, I, xs)
        return ("none", r) if r is not None else None
    best = max(ok, key=lambda i: side * vals[i])
    top = side * vals[best]  # of the near-maximisers, the one nearest 0 is tried first (π rather than −5π)
    near = min((i for i in ok if side * vals[i] >= top - 1e-3 * max(1.0, abs(top))), key=lambda i: abs(xs[i]))

    def around(i):
        return _golden(lambda t: side * ratio(t), xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)])

    x0 = around(best)
    x_near = around(near) if near != best else x0
    ends, far_ends = [], []
    for end, edge in ((I.inf, ok[0]), (I.sup, ok[-1])):  # the bound may be approached at an end of the interval
        if end not in (sp.oo, -sp.oo) and (best == edge or abs(float(end) - x0) < 1e-3 * max(1.0, abs(x0))):
            ends.insert(0, end)
        elif end in (sp.oo, -sp.oo) and best == edge:
            far_ends.append(end)

    def candidates():  # the cheap guesses first; the integer-relation search only if none of them is the point
        yield from ends
        if near != best:
            yield from _exact_guesses(x_near) + _exact_guesses(xs[near])
        yield from _exact_guesses(x0) + _exact_guesses(xs[best])
        yield from far_ends
        if 0 < best < len(xs) - 1 and abs(x0) < 1e6:  # an interior maximiser may be transcendental (e^(3/2))
            yield from _exact_guesses(x0, deep=True) + _exact_guesses(xs[best], deep=True)

    closure = sp.Interval(I.inf, I.sup)
    seen: list = []
    for q in candidates():
        if q in seen:
            continue
        seen.append(q)
        check_deadline()
        if q in (sp.oo, -sp.oo):
            try:
                aq, bq = sp.limit(A, x, q), sp.limit(B, x, q)
                far = 1e4 if q == sp.oo else -1e4  # a numeric look at the limits SymPy found
                if not (_finite(aq) and _finite(bq)) or abs(fa(far) - float(aq)) > 1e-2 * (1 + abs(float(aq))) or \
                        abs(fb(far) - float(bq)) > 1e-2 * (1 + abs(float(bq))):
                    continue
            except Exception:  # noqa: BLE001
                continue
        else:
            if closure.contains(q) is not sp.true:
                continue
            aq, bq = A.subs(x, q), B.subs(x, q)
        if not (_finite(aq) and _finite(bq)) or exact_sign(bq) != side:
            continue
        L = sp.nsimplify(sp.simplify(-aq / bq)) if sp.count_ops(aq / bq) < 40 else sp.simplify(-aq / bq)
        if not _finite(L) or sp.simplify(aq + L * bq) != 0:
            continue
        r = _proved_nonneg(sp.expand(A + L * B), x, I, xs)
        if r is not None:
            return L, q, r
    return None


def affine_parameter_condition(g: sp.Expr, x: sp.Symbol, I: sp.Interval, c: sp.Symbol):
    """(condition, steps) with g ≥ 0 on I ⇔ condition, for g = A(x) + c·B(x); or (None, [])."""
    ge = sp.expand(g)
    B = sp.expand(sp.diff(ge, c))
    if B.has(c) or B == 0:
        return None, []
    A = sp.expand(ge - c * B)
    if A.has(c):
        return None, []
    lo = attained_bound(A, B, x, I, +1)
    hi = attained_bound(A, B, x, I, -1)
    if lo is None or hi is None:
        return None, []
    steps = [CvxSign(B, "", "f'' = A + c·B is affine in the parameter: where B > 0 it needs c ≥ −A/B, where "
                            "B < 0 it needs c ≤ −A/B")]
    parts = []
    for bound, rel, word in ((lo, sp.GreaterThan, "lower"), (hi, sp.LessThan, "upper")):
        if bound[0] == "none":
            steps.append(CvxSign(B, "≤ 0" if rel is sp.GreaterThan else "≥ 0",
                                 f"B never has the other sign, so there is no {word} bound",
                                 children=bound[1].steps))
            continue
        L, q, r = bound
        parts.append(rel(c, L))
        steps.append(CvxCondition(rel(c, L), f"the {word} bound is attained (at the point below, or approached at "
                                             "an end of the domain): B ≠ 0 there and A + c·B = 0 for this c, so a "
                                             "parameter beyond it makes f'' negative there; at the bound itself "
                                             "f'' ≥ 0 is proved"))
        at = (lambda e: sp.Limit(e, x, q)) if q in (sp.oo, -sp.oo) else (lambda e: sp.Subs(e, x, q))
        r.steps[0:0] = [CvxSign(at(B), "> 0" if rel is sp.GreaterThan else "< 0",
                                "the coefficient of the parameter where the bound is attained"),
                        CvxSign(at(A + L * B), "= 0", "f'' at the bound vanishes there, so beyond the bound f'' is "
                                                      "negative at (or, at an end, near) that point")]
        steps[-1].children = r.steps
    if not parts:
        return None, []
    return sp.And(*parts), steps


def _affine_parameter_1d(problem: Problem) -> Outcome | None:
    if len(problem.variables) != 1 or not problem.parameters or not is_smooth(problem.expr):
        return None
    if not problem.exact_box:
        return None
    x = problem.variables[0]
    g = sp.diff(problem.expr, x, 2)
    ps = g.free_symbols & set(problem.parameters)
    if len(ps) != 1:
        return None
    c = next(iter(ps))
    cond, steps = affine_parameter_condition(g, x, problem.interval(x), c)
    if cond is None:
        return None
    return _conditional(problem, cond, [CvxDerivative(f"f''({x})", g, "f is convex on the interval if and only "
                                                                       "if f'' ≥ 0 there"), *steps])


def _tidy(cond):
    """e ≥ 0 with e = a − b written a ≥ b (terms with a negative coefficient on the right); an equivalent form."""
    if isinstance(cond, (sp.And, sp.Or)):
        return cond.func(*[_tidy(a) for a in cond.args])
    if isinstance(cond, (sp.GreaterThan, sp.StrictGreaterThan)) and cond.rhs == 0 and isinstance(cond.lhs, sp.Add):
        neg = [t for t in cond.lhs.args if t.could_extract_minus_sign()]
        pos = [t for t in cond.lhs.args if not t.could_extract_minus_sign()]
        if neg and pos:
            return cond.func(sp.Add(*pos), -sp.Add(*neg))
    return cond


def _conditional(problem: Problem, cond, steps) -> Outcome | None:
    from convexproof.engine.parametric import simplify_condition

    cond = simplify_condition(cond, problem)
    if cond not in (sp.true, sp.false) and len(cond.free_symbols) == 1:
        cond = simplify_condition(cond, problem)  # one parameter left once the others' ranges were used
    cond = _tidy(cond)
    out = Outcome(None, steps, method="parameters")
    if cond is sp.true:
        out.convex, out.for_all_params = True, True
        out.steps.append(CvxCondition(cond, "the condition holds for every parameter value in range"))
        return out
    if cond is sp.false:
        return None
    out.condition = cond
    out.steps.append(CvxCondition(cond, "f is convex if and only if this condition holds"))
    return out


# ------------------------------------------------------------------ piecewise with parameters
def _piecewise_parameters_1d(problem: Problem) -> Outcome | None:
    from convexproof.engine.parametric import condition_1d
    from convexproof.engine.univariate import Uncovered, _NoSplit, _intervals, _limit, split_pieces

    f = problem.expr
    if len(problem.variables) != 1 or not problem.parameters or is_smooth(f) or not problem.exact_box:
        return None
    x = problem.variables[0]
    I = problem.interval(x)
    params = set(problem.parameters)
    try:
        pairs = split_pieces(f, x, I)
    except (_NoSplit, Uncovered):
        return None
    pieces, points = [], []
    for e, S in pairs:
        for J in _intervals(S):
            if isinstance(J, sp.FiniteSet):
                points.extend(J)  # a value of its own at a point: the continuity check below reads f there
                continue
            if not isinstance(J, sp.Interval) or J.measure == 0 or not is_smooth(e):
                return None
            pieces.append((e, J))
    pieces.sort(key=lambda t: float(t[1].inf) if t[1].inf != -sp.oo else -math.inf)
    breaks = {J1.sup for (_, J1), (_, J2) in zip(pieces, pieces[1:]) if J1.sup == J2.inf}
    if any(q not in breaks for q in points):
        return None
    conds, steps = [], []
    box = problem.full_box()
    for e, J in pieces:
        check_deadline()
        interior = sp.Interval.open(J.inf, J.sup)
        g = sp.diff(e, x, 2)
        r = prove_nonneg(g, {**box, x: interior}, search=False)
        if r.status == "proved":
            steps.append(CvxPiece(e, interior, "its second derivative is ≥ 0 for every parameter value"))
            steps[-1].children = r.steps
            continue
        sub = problem.with_expr(e, box={**problem.box, x: interior})
        c, st = condition_1d(g, x, sub)
        if c is None:
            ps = g.free_symbols & params
            if len(ps) == 1:
                c, st = affine_parameter_condition(g, x, interior, next(iter(ps)))
        if c is None:
            return None
        conds.append(c)
        steps.append(CvxPiece(e, interior, "convex on its open interval if and only if the condition below holds"))
        steps[-1].children = st
    try:
        kinks = _kinks(f, x, pieces, params, conds, steps)
    except (NotImplementedError, ValueError, TypeError):
        kinks = None
    if kinks is None:
        return _necessary_then_sufficient(problem, conds, steps)
    cond = sp.And(*conds) if conds else sp.true
    out = _conditional(problem, cond, [CvxSign(f, "", "f is piecewise smooth with breakpoints that do not depend "
                                                      "on the parameters: it is convex if and only if every piece is "
                                                      "convex and the slope does not decrease at any breakpoint"),
                                       *steps])
    if out is not None:
        out.method = "piecewise analysis"
    return out


def _kinks(f, x, pieces, params, conds, steps):
    """Append the slope conditions at the breakpoints (to conds) and their steps; None when undecided."""
    from convexproof.engine.univariate import _limit

    for (e1, J1), (e2, J2) in zip(pieces, pieces[1:]):
        check_deadline()
        b = J1.sup
        if b != J2.inf:
            return None
        L, R, V = _limit(e1, x, b, "-"), _limit(e2, x, b, "+"), f.subs(x, b)
        if any(v.has(sp.oo, -sp.oo, sp.zoo, sp.nan) for v in (L, R, V)):
            return None
        if sp.simplify(L - R) != 0 or sp.simplify(L - V) != 0:
            return None  # continuity for every parameter value is needed here; a jump is left to the others
        sl, sr = _limit(sp.diff(e1, x), x, b, "-"), _limit(sp.diff(e2, x), x, b, "+")
        if any(v.has(sp.oo, -sp.oo, sp.zoo, sp.nan) for v in (sl, sr)):
            return None
        jump = sp.simplify(sr - sl)
        if not (jump.free_symbols - params):
            if jump.free_symbols:
                conds.append(sp.GreaterThan(jump, 0))
            else:
                s = exact_sign(jump) if jump != 0 else 0
                if s not in (0, 1):
                    return None
        else:
            return None
        steps.append(CvxKink(b, L, R, sl, sr, True, "f is continuous here for every parameter value; the slope "
                                                    "must not decrease"))
    return True


def _necessary_then_sufficient(problem: Problem, conds, steps) -> Outcome | None:
    """The pieces' conditions are necessary; when they leave one parameter an interval, prove convexity for
    every value in it (sum of convex terms with the parameter's range narrowed): then they are also sufficient."""
    from convexproof.engine.parametric import cond_to_set, simplify_condition

    if not conds:
        return None
    cond = simplify_condition(sp.And(*conds), problem)
    if cond in (sp.true, sp.false) or len(cond.free_symbols) != 1:
        return None
    p = next(iter(cond.free_symbols))
    try:
        S = cond_to_set(cond, p).intersect(problem.interval(p))
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(S, sp.Interval):
        return None
    narrowed = problem.with_expr(problem.expr, box={**problem.box, p: S})
    kids = convex_terms(problem.expr, list(problem.variables), narrowed.full_box())
    if kids is None:
        return None
    out = Outcome(None, [CvxSign(problem.expr, "", "each piece must be convex on its open interval, which gives "
                                                   "a necessary condition"), *steps,
                         CvxSign(problem.expr, "", "for every parameter value satisfying it, f is a sum of convex "
                                                   "terms, so the condition is also sufficient", children=kids)],
                  method="piecewise analysis")
    out.condition = cond
    out.steps.append(CvxCondition(cond, "f is convex if and only if this condition holds"))
    return out


# ------------------------------------------------------------------ breakpoints that depend on parameters
def _symbolic_branches(a, x):
    """The engine's own branches of a non-smooth atom (|u|, max, min, Piecewise), or None."""
    from convexproof.engine.univariate import _NoSplit, _branches

    try:
        return _branches(a, x)
    except _NoSplit:
        return None


def _ge(a, b):
    """a ≥ b for interval ends that may involve positive symbols: True, False or None."""
    if a == b or a == sp.oo or b == -sp.oo:
        return True
    if a == -sp.oo or b == sp.oo:
        return False
    d = a - b
    return True if d.is_nonnegative else False if d.is_negative else None


def _meet(P: sp.Interval, Q: sp.Interval):
    """P ∩ Q for intervals with symbolic ends (None when the ends cannot be ordered)."""
    g1, g2 = _ge(P.inf, Q.inf), _ge(P.sup, Q.sup)
    if g1 is None or g2 is None:
        return None
    lo, lo_open = (P.inf, P.left_open) if g1 else (Q.inf, Q.left_open)
    if P.inf == Q.inf:
        lo_open = P.left_open or Q.left_open
    hi, hi_open = (Q.sup, Q.right_open) if g2 else (P.sup, P.right_open)
    if P.sup == Q.sup:
        hi_open = P.right_open or Q.right_open
    order = _ge(hi, lo)
    if order is None:
        return None
    if not order or (hi == lo and (lo_open or hi_open)):
        return sp.EmptySet
    return sp.Interval(lo, hi, lo_open, hi_open)


def _minus(P: sp.Interval, S: sp.Interval) -> list:
    """P minus S, for S ⊆ P (intervals with symbolic ends): the pieces left and right of S."""
    out = []
    if S.inf != P.inf:
        out.append(sp.Interval(P.inf, S.inf, P.left_open, not S.left_open))
    elif P.left_open != S.left_open and not P.left_open:
        out.append(sp.FiniteSet(P.inf))
    if S.sup != P.sup:
        out.append(sp.Interval(S.sup, P.sup, not S.right_open, P.right_open))
    elif P.right_open != S.right_open and not P.right_open:
        out.append(sp.FiniteSet(P.sup))
    return [Q for Q in out if Q is not sp.EmptySet]


def _symbolic_split(e, x, J, depth=0):
    """[(smooth expression, interval)] covering the interval J (ends may involve positive parameters)."""
    check_deadline()
    if depth > 6:
        return None
    a = next((b for b in sp.postorder_traversal(e) if isinstance(b, (sp.Abs, sp.Max, sp.Min, sp.Piecewise))), None)
    if a is None:
        return [(e, J)]
    branches = _symbolic_branches(a, x)
    if branches is None:
        return None
    out, rest = [], [J]
    for rep, cond in branches:
        if cond is sp.true:
            S0 = sp.Interval(-sp.oo, sp.oo)
        else:
            try:
                S0 = sp.solve_univariate_inequality(cond, x, relational=False)
            except Exception:  # noqa: BLE001
                return None
        if not isinstance(S0, sp.Interval):
            return None
        new_rest = []
        for R in rest:
            if isinstance(R, sp.FiniteSet):
                new_rest.append(R)
                continue
            P = _meet(R, S0)
            if P is None:
                return None
            if P is sp.EmptySet:
                new_rest.append(R)
                continue
            new_rest.extend(_minus(R, P))
            if P.inf == P.sup:
                continue
            if not (P.inf == -sp.oo or P.sup == sp.oo or (P.sup - P.inf).is_positive):
                return None
            sub = _symbolic_split(e.xreplace({a: rep}), x, P, depth + 1)
            if sub is None:
                return None
            out.extend(sub)
        rest = new_rest
        if all(isinstance(R, sp.FiniteSet) for R in rest):
            break
    if not all(isinstance(R, sp.FiniteSet) for R in rest):
        return None
    return out


def _symbolic_breakpoints(problem: Problem) -> Outcome | None:
    """One variable; the breakpoints depend on parameters whose range is (0, ∞) or [0, ∞) (the Huber function
    with threshold d > 0): split with the parameters as positive symbols; convex for every parameter value when
    every piece has f'' ≥ 0 for every x and parameter, f is continuous, and the slope never decreases."""
    f = problem.expr
    if len(problem.variables) != 1 or not problem.parameters or is_smooth(f) or not problem.exact_box:
        return None
    x = problem.variables[0]
    reps = {}
    for p in problem.parameters:
        I = problem.interval(p)
        if I == sp.Interval.open(0, sp.oo):
            reps[p] = sp.Dummy(p.name, positive=True)
        elif I == sp.Interval(0, sp.oo):
            reps[p] = sp.Dummy(p.name, nonnegative=True)
    if not reps:
        return None
    back = {v: k for k, v in reps.items()}
    g = f.xreplace(reps)
    pieces = _symbolic_split(g, x, problem.interval(x))
    if not pieces or len(pieces) < 2:
        return None
    try:
        pieces.sort(key=functools.cmp_to_key(_cmp_inf))
    except TypeError:
        return None
    box = {**problem.full_box(), x: sp.Interval(-sp.oo, sp.oo)}
    steps = []
    for e, J in pieces:
        check_deadline()
        h = sp.diff(e, x, 2).xreplace(back)
        r = prove_nonneg(h, box, search=False)
        if r.status != "proved":
            return None
        steps.append(CvxPiece(e.xreplace(back), J.xreplace(back), "its second derivative is ≥ 0 for every x and "
                                                                  "every parameter value"))
        steps[-1].children = r.steps
    oracle = SignOracle(problem.full_box())
    for (e1, J1), (e2, J2) in zip(pieces, pieces[1:]):
        check_deadline()
        b = J1.sup
        if sp.simplify(b - J2.inf) != 0:
            return None
        L, R, V = e1.subs(x, b), e2.subs(x, b), g.subs(x, b)
        if not all(isinstance(v, sp.Expr) and not v.has(sp.Piecewise, sp.nan, sp.zoo) for v in (L, R, V)):
            return None
        if sp.simplify(L - R) != 0 or sp.simplify(L - V) != 0:
            return None
        sl, sr = sp.diff(e1, x).subs(x, b), sp.diff(e2, x).subs(x, b)
        jump = sp.simplify(sr - sl)
        if not (jump.is_nonnegative or oracle.sign(jump.xreplace(back)).sign in (POS, NONNEG, ZERO)):
            return None
        steps.append(CvxKink(b.xreplace(back), L.xreplace(back), R.xreplace(back), sl.xreplace(back),
                             sr.xreplace(back), True, "continuous, and the slope does not decrease"))
    out = Outcome(True, [CvxSign(f, "", "f is piecewise smooth with breakpoints that depend on the parameters; "
                                        "every piece is convex, f is continuous and its slope never decreases at a "
                                        "breakpoint, for every parameter value"), *steps],
                  method="piecewise analysis")
    out.for_all_params = True
    return out


def _cmp_inf(p, q) -> int:
    a, b = p[1].inf, q[1].inf
    if a == b:
        return 0
    d = (a - b)
    if a == -sp.oo or d.is_negative:
        return -1
    if b == -sp.oo or d.is_positive:
        return 1
    raise TypeError("breakpoints cannot be ordered")


# ------------------------------------------------------------------ p-norms
def _power_form(t: sp.Expr, p, vs) -> tuple | None:
    """(c, h) with t = c·h^p, c a positive number and h ≥ 0 (|u| for a power of u)."""
    c, rest = t.as_independent(*vs, as_Add=False)
    if not c.is_number or exact_sign(c) != 1:
        return None
    cands = [a.args[0] for a in rest.atoms(sp.Abs)]
    if isinstance(rest, sp.Pow):
        cands.append(rest.base)
    for u_ in cands:
        h = sp.Abs(u_)
        if sp.expand(rest - h ** p) == 0:
            return c, h
        if isinstance(rest, sp.Pow) and rest.exp == p and rest.base == u_:
            return c, u_
    return None


def pnorm_step(e: sp.Expr, vs, box) -> CvxSign | None:
    """A proof that e = (Σ cᵢ·hᵢᵖ + c₀)^(1/p) is convex (p ≥ 1: a number, or a parameter whose range gives it),
    or None."""
    if not isinstance(e, sp.Pow) or e.exp.free_symbols & set(vs):
        return None
    oracle = SignOracle(box)
    if e.exp.is_number:
        if not (0 < e.exp < 1):
            return None
    elif oracle.sign(1 / e.exp - 1).sign not in (POS, NONNEG, ZERO) or oracle.sign(e.exp).sign != POS:
        return None
    p = 1 / e.exp
    terms = sp.Add.make_args(e.base)
    dcp = DCP(vs, box)
    kids, n = [], 0
    for t in terms:
        if not (t.free_symbols & set(vs)):
            if oracle.sign(t).sign not in (POS, NONNEG, ZERO):
                return None
            continue
        form = _power_form(t, p, vs)
        if form is None:
            return None
        c, h = form
        k = dcp.analyse(h)
        if k.curvature not in (CONVEX, AFFINE, CONST) or oracle.sign(h).sign not in (POS, NONNEG, ZERO):
            return None
        kids.append(k)
        n += 1
    if n < 2:
        return None
    return CvxSign(e, "", "a p-norm with p ≥ 1 (weights > 0, a constant ≥ 0) of nonnegative convex functions: "
                          "the p-norm is convex and nondecreasing in each nonnegative argument, so the composition "
                          "is convex", children=kids)


def power_step(e: sp.Expr, vs, box) -> CvxSign | None:
    """e = h^p with p ≥ 1 on the parameters' range (a number or a parameter) and h ≥ 0 convex: convex."""
    if not isinstance(e, sp.Pow) or e.exp.free_symbols & set(vs) or e.base == sp.E:
        return None
    oracle = SignOracle(box)
    if oracle.sign(e.exp - 1).sign not in (POS, NONNEG, ZERO):
        return None
    k = DCP(vs, box).analyse(e.base)
    if k.curvature not in (CONVEX, AFFINE, CONST) or oracle.sign(e.base).sign not in (POS, NONNEG, ZERO):
        return None
    return CvxSign(e, "", "a power p ≥ 1 of a nonnegative convex function: t ↦ tᵖ is convex and nondecreasing "
                          "for t ≥ 0", children=[k])


def convex_terms(f: sp.Expr, vs, box) -> list | None:
    """Proofs that every additive term of f is convex (p-norm compositions, powers ≥ 1 of nonnegative convex
    functions, the composition rules), or None."""
    dcp = DCP(vs, box)
    oracle = SignOracle(box)
    kids = []
    for t in sp.Add.make_args(f):
        check_deadline()
        c, rest = t.as_independent(*vs, as_Add=False)
        if oracle.sign(c).sign in (POS, NONNEG, ZERO):
            step = pnorm_step(rest, vs, box) or power_step(rest, vs, box)
            if step is not None:
                kids.append(step)
                continue
        k = dcp.analyse(t)
        if k.curvature not in (CONVEX, AFFINE, CONST):
            return None
        kids.append(k)
    return kids


def _pnorm_sum(problem: Problem) -> Outcome | None:
    f = problem.expr
    vs = list(problem.variables)
    if not any(isinstance(a, sp.Pow) and not (a.exp.is_number and a.exp.is_integer) and a.base != sp.E
               for a in sp.preorder_traversal(f)):
        return None
    kids = convex_terms(f, vs, problem.full_box())
    if kids is None:
        return None
    out = Outcome(True, [CvxSign(f, "", "a sum of convex terms (p-norm compositions, powers p ≥ 1 of nonnegative "
                                        "convex functions, terms convex by the composition rules) is convex",
                                 children=kids)],
                  method="composition rules (DCP)")
    if problem.parameters:
        out.for_all_params = True
    return out


# ------------------------------------------------------------------ loss + λ·regulariser
def _pd_regularisers(problem: Problem):
    """(λ, loss, H) for each parameter λ with f = loss + λ·q exactly, q having a constant positive definite
    Hessian H in the variables (f smooth, on a box, with at least two variables)."""
    from convexproof.engine.multivariate import ldl_psd
    from convexproof.engine.witness import hessian

    f = problem.expr
    vs = list(problem.variables)
    if len(vs) < 2 or not problem.parameters or not problem.exact_box or not is_smooth(f):
        return
    for lam in problem.parameters:
        fe = sp.expand(f) if sp.count_ops(f) < 200 else f
        q = sp.diff(fe, lam)
        if q.has(lam) or not q.free_symbols & set(vs):  # f is affine in λ, and λ multiplies the variables
            continue
        H = hessian(q, vs)
        if H.free_symbols:
            continue
        cert = ldl_psd(H)
        if cert is not None and cert.pd:
            yield lam, f.subs(lam, 0), H


def _regularised_loss(problem: Problem) -> Outcome | None:
    """f = loss + λ·q with q a positive definite quadratic, the loss convex for all data and its Hessian singular
    everywhere: f is convex iff λ ≥ 0 (sufficient: a sum of convex terms; necessary: along a kernel direction v
    of the loss's Hessian the curvature is λ·vᵀ∇²q v < 0 for λ < 0)."""
    from convexproof.engine.witness import hessian

    vs = list(problem.variables)
    for lam, loss, H1 in _pd_regularisers(problem):
        sub = problem.with_expr(loss, parameters=tuple(p for p in problem.parameters if p != lam))
        d = DCP(vs, sub.full_box()).analyse(loss)
        if d.curvature not in (CONVEX, AFFINE, CONST):
            continue
        check_deadline()
        H0 = hessian(loss, vs)
        if _det_nonzero_at_a_point(H0, problem):  # then not identically 0: skip the symbolic determinant and
            continue  # its simplify (two logistic terms with data symbols: 70 s, past the time limit)
        det = H0.det(method="berkowitz")
        if sp.simplify(det) != 0:
            continue
        cond = sp.GreaterThan(lam, 0)
        steps = [CvxSign(loss, "", "the loss (λ = 0) is convex for every value of the data by the composition "
                                   "rules", children=[d]),
                 CvxHessian(H0, "its Hessian has determinant identically 0: at every point there is a direction "
                                "v ≠ 0 with zero curvature"),
                 CvxHessian(H1, "the regulariser multiplying λ has a constant positive definite Hessian: for λ ≥ 0 "
                                "f is a sum of convex functions, for λ < 0 the curvature along v is λ·vᵀ∇²q v < 0")]
        return _conditional(problem, cond, steps)
    return None


def _softplus_argument(t: sp.Expr, vs: list) -> sp.Expr | None:
    """A for a term log(1 + exp(A)) with A affine in the variables (any constant coefficients), else None."""
    if not isinstance(t, sp.log):
        return None
    one, rest = t.args[0].as_independent(*vs, as_Add=True)
    if one != 1 or not isinstance(rest, sp.exp):
        return None
    A = sp.expand(rest.args[0])
    if any(sp.diff(A, v).free_symbols & set(vs) for v in vs):
        return None
    return A


def _vanishing_curvature_loss(problem: Problem) -> Outcome | None:
    """f = Σ log(1 + exp(Aᵢ(w))) + λ·q(w), Aᵢ affine in w (data symbols allowed), q a positive definite quadratic:
    f is convex iff λ ≥ 0, for every value of the data.

    Sufficient: for λ ≥ 0 a sum of convex terms.  Necessary: take a direction d off the hyperplanes ℓᵢ(d) = 0 of
    the linear parts ℓᵢ of the non-constant Aᵢ; along w = t·d every Aᵢ tends to ±∞ and the softplus curvature
    σ(Aᵢ)(1 − σ(Aᵢ)) to 0, so vᵀ∇²f v tends to λ·vᵀ∇²q v < 0 for λ < 0 and any v ≠ 0."""
    vs = list(problem.variables)
    for lam, loss, H1 in _pd_regularisers(problem):
        if problem.interval(lam).inf >= 0:
            continue  # λ ≥ 0 already: nothing to decide here
        args = [_softplus_argument(t, vs) for t in sp.Add.make_args(loss) if t.free_symbols & set(vs)]
        if not args or any(A is None for A in args):
            continue
        cond = sp.GreaterThan(lam, 0)
        steps = [CvxSign(loss, "", "each term of the loss (λ = 0) is log(1 + exp(A)) with A affine in the variables: "
                                   "convex for every value of the data (log-sum-exp of an affine map)"),
                 CvxHessian(H1, "the regulariser multiplying λ has a constant positive definite Hessian; for λ ≥ 0 f "
                                "is a sum of convex functions. For λ < 0: along w = t·d, with d off the hyperplanes "
                                "where the linear part of some A vanishes, every A tends to ±∞ and its curvature "
                                "σ(A)(1 − σ(A)) to 0, so the curvature of f in any direction v tends to "
                                "λ·vᵀ∇²q v < 0: f is not convex")]
        return _conditional(problem, cond, steps)
    return None


def _det_nonzero_at_a_point(H: sp.Matrix, problem: Problem) -> bool:
    """Is det H clearly non-zero at one point of the box (all of H's symbols, data included)? A speed gate only."""
    from convexproof.engine.domain import sample_point

    pt = {}
    for i, s in enumerate(sorted(H.free_symbols, key=lambda s: s.name)):
        v = sp.Rational((-1) ** i * (2 * i + 3), 7)
        pt[s] = v if problem.interval(s).contains(v) is sp.true else sample_point(problem.interval(s))
    try:  # entries to 30 digits first: the exact determinant of exponentials took seconds to expand
        d = complex(H.xreplace(pt).evalf(30).det(method="berkowitz"))
        return abs(d) > 1e-12
    except Exception:  # noqa: BLE001 - a speed gate only: when in doubt, the exact test below decides
        return False


# ------------------------------------------------------------------ a Hessian affine in one parameter
def _hessian_affine_parameter(problem: Problem) -> Outcome | None:
    """H = H₀ + c·H₁ (2 or 3 variables, one parameter c): f is convex iff L ≤ c ≤ U, each finite bound proved
    sufficient (the principal minors of H at c = L are ≥ 0 on the domain; between the bounds H is a convex
    combination) and tight (an exact point x₀ and direction v with vᵀH(L)v = 0 and vᵀH₁v > 0, so every c < L
    has vᵀH(c)v < 0 there).  The bounds are found numerically and only then checked exactly."""
    import numpy as np

    from convexproof.engine.multivariate import prove_minors
    from convexproof.engine.witness import hessian
    from convexproof.runtime.errors import AnalysisTimeout
    from convexproof.runtime.limits import deadline, remaining

    f = problem.expr
    vs = list(problem.variables)
    if not 2 <= len(vs) <= 3 or not problem.exact_box or not is_smooth(f) or len(problem.parameters) != 1:
        return None
    c = problem.parameters[0]
    H = hessian(f, vs)
    if not H.has(c):
        return None
    H1 = H.diff(c)
    if H1.has(c):
        return None
    H0 = H.subs(c, 0)
    try:
        n0, n1 = sp.lambdify(vs, H0, "numpy"), sp.lambdify(vs, H1, "numpy")
        ticks = [np.linspace(*(_ends(problem.interval(v))), 25 if len(vs) == 2 else 9) for v in vs]
        pts = np.array(np.meshgrid(*ticks)).reshape(len(vs), -1).T
        M0 = np.array([np.array(n0(*q), dtype=float) for q in pts])
        M1 = np.array([np.array(n1(*q), dtype=float) for q in pts])
    except Exception:  # noqa: BLE001
        return None
    good = np.all(np.isfinite(M0), axis=(1, 2)) & np.all(np.isfinite(M1), axis=(1, 2))
    M0, M1, pts = M0[good], M1[good], pts[good]
    scale = 1.0 + np.abs(M0).max() + np.abs(M1).max()

    def feasible(cv):
        return np.linalg.eigvalsh(M0 + cv * M1).min() >= -1e-9 * scale

    c0 = next((v for v in (0.0, 1.0, -1.0, 3.0, -3.0, 10.0, -10.0, 100.0) if feasible(v)), None)
    if c0 is None:
        return None
    steps, parts = [], []
    for side in (-1, 1):  # the lower bound, then the upper bound
        far = next((c0 + side * 2.0 ** k for k in range(0, 24) if not feasible(c0 + side * 2.0 ** k)), None)
        if far is None:
            r = prove_minors(side * H1, problem.domain_box)  # moving c towards ±∞ adds (c − c₀)·H₁ ⪰ 0
            if r[0] != "proved":
                return None
            continue  # H₁ has that sign: no bound on this side
        lo, hi = c0, far
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if feasible(mid) else (lo, mid)
        found = None
        for L in _exact_guesses(lo):
            check_deadline()
            HL = H0 + L * H1
            # tight: a grid point where H(L) is (numerically) singular, and its null direction, made exact
            ev, vec = np.linalg.eigh(M0 + float(L) * M1)
            k = int(np.argmin(ev[:, 0]))
            v = vec[k][:, 0]
            v = v / v[np.argmax(np.abs(v))]
            x0 = {s: sp.nsimplify(float(t), rational=True, tolerance=1e-9) for s, t in zip(vs, pts[k])}
            vv = sp.Matrix([sp.nsimplify(float(t), rational=True, tolerance=1e-6) for t in v])
            if not problem.satisfies(x0) or any(sp.Interval.open(problem.interval(s_).inf, problem.interval(s_).sup)
                                                .contains(x0[s_]) is not sp.true for s_ in vs):
                continue  # an interior point of the domain
            q0 = sp.simplify((vv.T * HL.subs(x0) * vv)[0])
            q1 = (vv.T * H1.subs(x0) * vv)[0]
            if q0 != 0 or exact_sign(q1) != -side:
                continue
            try:
                with deadline(min(max(remaining() * 0.3, 0.05), 3 * BOUND_BUDGET)):
                    status, st, _, _ = prove_minors(sp.expand(HL), problem.domain_box)
            except AnalysisTimeout:
                check_deadline()
                continue
            if status == "proved":
                found = (L, x0, vv, st)
                break
        if found is None:
            return None
        L, x0, vv, st = found
        rel = sp.GreaterThan(c, L) if side < 0 else sp.LessThan(c, L)
        parts.append(rel)
        steps.append(CvxCondition(rel, "at this bound the Hessian is PSD on the whole domain (its principal minors "
                                       "are ≥ 0, below); at the point and direction below the curvature is 0 at the "
                                       "bound and changes sign beyond it"))
        steps[-1].children = [
            CvxSign(sp.Subs((vv.T * HL * vv)[0], vs, list(x0.values())), "= 0",
                    "the curvature vᵀ∇²f v at the bound, at this point and direction v, is 0"),
            CvxSign(sp.Subs((vv.T * H1 * vv)[0], vs, list(x0.values())), "> 0" if side < 0 else "< 0",
                    "and the parameter's coefficient in it has this sign, so beyond the bound the curvature there "
                    "is negative"),
            *st]
    if not parts:
        return None
    return _conditional(problem, sp.And(*parts), [CvxHessian(H, "the Hessian is affine in the parameter: the values "
                                                                "making it PSD everywhere form an interval"), *steps])


def _ends(I: sp.Interval) -> tuple[float, float]:
    lo = float(I.inf) if I.inf != -sp.oo else -3.0
    hi = float(I.sup) if I.sup != sp.oo else 3.0
    if I.inf == -sp.oo and I.sup != sp.oo:
        lo = hi - 6.0
    if I.sup == sp.oo and I.inf != -sp.oo:
        hi = lo + 6.0
    pad = (hi - lo) / 1000 if (I.left_open or I.right_open) else 0.0
    return lo + (pad if I.inf != -sp.oo else 0.0), hi - (pad if I.sup != sp.oo else 0.0)


# ------------------------------------------------------------------ separable sums
def _groups(f: sp.Expr, vs) -> list[tuple[list, sp.Expr]]:
    parent = {v: v for v in vs}

    def find(v):
        while parent[v] != v:
            v = parent[v]
        return v

    terms = sp.Add.make_args(f)
    for t in terms:
        s = [v for v in vs if v in t.free_symbols]
        for a in s[1:]:
            parent[find(a)] = find(s[0])
    groups: dict = {}
    for t in terms:
        s = [v for v in vs if v in t.free_symbols]
        key = find(s[0]) if s else None
        groups.setdefault(key, []).append(t)
    const = groups.pop(None, [])
    out = []
    for key, ts in groups.items():
        out.append(([v for v in vs if find(v) == key], sp.Add(*ts)))
    if out and const:
        out[0] = (out[0][0], out[0][1] + sp.Add(*const))
    return out


def _separable(problem: Problem, analyse) -> Outcome | None:
    f = problem.expr
    vs = list(problem.variables)
    if len(vs) < 2 or not problem.exact_box or problem.nonconvex:
        return None
    parts = _groups(f, vs)
    if len(parts) < 2:
        return None
    from convexproof.engine.domain import sample_point

    results = []
    for pvs, g in parts:
        check_deadline()
        sub = problem.with_expr(g, variables=tuple(pvs))
        r = analyse(sub)
        results.append((pvs, g, r))
    intro = CvxSign(f, "", "f is a sum of functions of disjoint groups of variables on a box: it is convex if and "
                           "only if every part is (restrict f to one group with the others fixed)")
    kids = [_part_verdict("this part", g, r) for _, g, r in results]
    intro.children = kids
    for pvs, g, r in results:
        if r.convex is False and r.witness is not None and not r.witness.get("params"):
            fixed = {v: sample_point(problem.interval(v)) for v in vs if v not in pvs}
            w = _extend_witness(r.witness, fixed, f, vs)
            if w is not None:
                return Outcome(False, [intro], witness=w, method="separable sum")
    if all(r.convex is True for _, _, r in results):
        out = Outcome(True, [intro], method="separable sum")
        out.strict = all(r.verdict in ("strictly convex", "strongly convex") for _, _, r in results)
        out.for_all_params = bool(problem.parameters)
        return out
    if all(r.convex is True or r.condition is not None for _, _, r in results) and problem.parameters:
        cond = sp.And(*[r.condition for _, _, r in results if r.condition is not None])
        return _conditional(problem, cond, [intro])
    return None


def _part_verdict(name: str, g: sp.Expr, r) -> CvxSign:
    """A step: the verdict on a part g of f, with its proof's steps (its own setup left out) below."""
    why = said(name, " is convex if and only if ", r.condition) if r.condition is not None else f"{name} is {r.verdict}"
    return CvxSign(g, "", why, children=[st for st in r.steps if st.kind not in ("cvx_setup", "cvx_conclusion")])


def _extend_witness(w: dict, fixed: dict, f: sp.Expr, vs) -> dict | None:
    """A witness of one part of a separable sum, with the other variables fixed, as a witness for the sum."""
    from convexproof.engine.witness import chord_gap

    w = dict(w)
    if w.get("domain"):
        d = dict(w["domain"])
        for k in ("a", "b", "m"):
            d[k] = {**d[k], **fixed}
        w["domain"] = d
    if w.get("point") is not None:
        w["point"] = {**w["point"], **fixed}
        w["direction"] = {**w["direction"], **{v: sp.Integer(0) for v in fixed}}
    if w.get("chord"):
        ch = dict(w["chord"])
        ch["a"], ch["b"] = {**ch["a"], **fixed}, {**ch["b"], **fixed}
        ch["lhs"], ch["rhs"] = chord_gap(f.xreplace(w.get("params") or {}), vs, ch["a"], ch["b"], ch["t"])
        w["chord"] = ch
    return w


# ------------------------------------------------------------------ perspectives: f(x, y) = y·g(x/y)
def _is_cone(I: sp.Interval) -> bool:
    """An interval closed under positive scaling: its ends are among −∞, 0 and ∞."""
    return isinstance(I, sp.Interval) and I.inf in (-sp.oo, 0) and I.sup in (0, sp.oo) and I.measure != 0


def _homogeneous_of_degree_one(f: sp.Expr, x: sp.Symbol, y: sp.Symbol, box: dict) -> bool:
    """f(λx, λy) = λ·f(x, y) for every λ > 0, shown symbolically and checked at sampled points of the box."""
    from convexproof.engine.domain import sample_point

    lam = sp.Dummy("lam", positive=True)
    try:
        h = f.subs({x: lam * x, y: lam * y}, simultaneous=True) - lam * f
        if sp.simplify(sp.expand_power_base(h)) != 0:
            return False
        Ix = box.get(x, sp.S.Reals)
        others = {s: sample_point(box.get(s, sp.S.Reals)) for s in f.free_symbols - {x, y}}  # parameters
        p1 = {x: sample_point(Ix), y: sample_point(box.get(y, sp.S.Reals)), **others}
        p2 = {**p1, x: p1[x] + (1 if Ix.sup == sp.oo else -1), y: p1[y] + 2}  # another ray of the cone
        for pt, scale in ((p1, sp.Rational(3, 2)), (p2, sp.Integer(5))):  # a guard against a simplification slip
            lhs = f.subs({**pt, x: scale * pt[x], y: scale * pt[y]}, simultaneous=True)
            if exact_sign(lhs - scale * f.subs(pt)) not in (0, None) or not _finite(f.subs(pt)):
                return False
    except Exception:  # noqa: BLE001
        return False
    return True


def _perspective(problem: Problem, analyse) -> Outcome | None:
    """f of (x, y) on a cone with y > 0, positively homogeneous of degree 1: f(x, y) = y·g(x/y) with g = f(·, 1).
    f is convex exactly when g is: the perspective of a convex g is convex, and g is f on the line y = 1."""
    f = problem.expr
    vs = list(problem.variables)
    if len(vs) != 2 or not problem.exact_box or problem.nonconvex:
        return None
    for x, y in ((vs[0], vs[1]), (vs[1], vs[0])):
        Iy = problem.interval(y)
        if not (Iy.inf == 0 and Iy.sup == sp.oo and Iy.left_open) or not _is_cone(problem.interval(x)):
            continue
        if not _homogeneous_of_degree_one(f, x, y, problem.box):
            continue
        check_deadline()
        g = f.subs(y, 1)
        sub = problem.with_expr(g, variables=(x,), box={k: v for k, v in problem.box.items() if k != y})
        r = analyse(sub)
        intro = CvxSign(f, "", said("f(λ", x, ", λ", y, ") = λ·f(", x, ", ", y, ") for every λ > 0 and ", y,
                                    " > 0, so f(", x, ", ", y, ") = ", y, "·g(", x, "/", y, ") with g(", x, ") = f(",
                                    x, ", 1) = ", g, ": f is the perspective of g, convex on the cone if and only if "
                                    "g is (the perspective of a convex function is convex; g is f on the line ", y,
                                    " = 1)"),
                        children=[_part_verdict("g", g, r)])
        if r.convex is False and r.witness is not None:  # for every parameter value, as g (with a sample)
            w = _extend_witness(r.witness, {y: sp.Integer(1)}, f, vs)
            if w is not None:
                return Outcome(False, [intro], witness=w, method="perspective")
        if r.convex is True:
            out = Outcome(True, [intro], method="perspective")  # linear along each ray: convex, never strictly
            out.for_all_params = bool(problem.parameters)
            return out
        if r.condition is not None and problem.parameters:
            return _conditional(problem, r.condition, [intro])
    return None
