"""One real variable: signs on boxes and intervals, verified witnesses, and a sound convexity decision.

Prose-free and import-light (SymPy and :mod:`convexproof.engine.exact`; the engine's exact
univariate sign analysis is imported on first use), so the exercise solvers use it without
loading the rest of the engine.  Every sign is decided by
:func:`convexproof.engine.exact.certified_sign`; what cannot be decided is ``None`` ("unknown").

* :func:`box`, :func:`affine_range`, :func:`factor_sign`, :func:`can_vanish`: bounds from
  conditions such as ``0 < p < 1`` and the sign of a factor over that box.
* :func:`nonneg_on`: ``expr >= 0`` on an interval proved, refuted or unknown.
* :func:`find_negative_point`, :func:`jensen_witness`, :func:`midpoint_chord`: witnesses,
  each verified exactly or in certified precision before it is returned.
* :func:`convexity_1d`: a proof (each smooth piece has f'' >= 0, the function is continuous
  and its slope only jumps upwards at the kinks) or a verified witness; otherwise unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from convexproof.engine.exact import certified_sign, is_negative, is_nonnegative, is_positive
from convexproof.parse import as_sympy


def numeric(expr) -> bool:
    return isinstance(expr, sp.Expr) and not expr.free_symbols


# ------------------------------------------------------- signs on a box domain


@dataclass
class Bound:
    lo: Any = -sp.oo
    lo_open: bool = True
    hi: Any = sp.oo
    hi_open: bool = True


def box(conditions) -> dict[sp.Symbol, Bound]:
    """Bounds per symbol from conditions such as ``0 < p < 1`` and ``0 <= y <= 1``."""
    out: dict[sp.Symbol, Bound] = {}
    rels = []
    for c in conditions:
        rels.extend(c.args if isinstance(c, sp.And) else [c])
    for r in rels:
        if not isinstance(r, sp.core.relational.Relational) or isinstance(r, (sp.Eq, sp.Ne)):
            continue
        # normalise to  lhs < rhs  or  lhs <= rhs
        lhs, rhs = (r.lhs, r.rhs) if r.rel_op in ("<", "<=") else (r.rhs, r.lhs)
        strict = r.rel_op in ("<", ">")
        if lhs.is_Symbol and numeric(rhs):
            b = out.setdefault(lhs, Bound())
            d = _sign_of_difference(rhs, b.hi)
            if d == -1 or (d == 0 and strict):  # undecided: the looser bound is kept
                b.hi, b.hi_open = rhs, strict
        elif rhs.is_Symbol and numeric(lhs):
            b = out.setdefault(rhs, Bound())
            d = _sign_of_difference(lhs, b.lo)
            if d == 1 or (d == 0 and strict):
                b.lo, b.lo_open = lhs, strict
    return out


def _sign_of_difference(a, b) -> int | None:
    """The certified sign of a - b (infinite ends included)."""
    if a == b:
        return 0
    return certified_sign(a - b)


def affine_range(expr: sp.Expr, bounds: dict) -> tuple | None:
    """(lo, lo_open, hi, hi_open) of an affine expression over the box, or None."""
    syms = sorted(expr.free_symbols, key=sp.default_sort_key)
    try:
        poly = sp.Poly(expr, *syms) if syms else None
    except sp.PolynomialError:
        return None
    if poly is not None and poly.total_degree() > 1:
        return None
    lo, hi = expr.subs({s: 0 for s in syms}), expr.subs({s: 0 for s in syms})
    lo_open = hi_open = False
    for s in syms:
        c = expr.coeff(s)
        if not numeric(c):
            return None
        sc = certified_sign(c)
        if sc is None:
            return None
        if sc == 0:
            continue
        b = bounds.get(s, Bound())
        small, small_open, big, big_open = (b.lo, b.lo_open, b.hi, b.hi_open) if sc > 0 else (
            b.hi, b.hi_open, b.lo, b.lo_open)
        lo, hi = lo + c * small, hi + c * big
        lo_open, hi_open = lo_open or small_open, hi_open or big_open
    return lo, lo_open, hi, hi_open


def factor_sign(factor: sp.Expr, bounds: dict) -> tuple[str, str] | None:
    """The sign of one factor over the box: ("pos"|"nonneg"|"neg"|"nonpos", reason), or None."""
    if numeric(factor):
        s = certified_sign(factor)
        if s == 1:
            return "pos", "a positive number"
        if s == -1:
            return "neg", "a negative number"
        return None
    if factor.is_Pow and factor.exp.is_Integer and factor.exp % 2 == 0:
        inner = affine_range(factor.base, bounds)
        if inner is not None and _excludes_zero(inner):
            return "pos", "an even power of a non-zero number"
        return "nonneg", "an even power"
    rng = affine_range(factor, bounds)
    if rng is None:
        return None
    lo, lo_open, hi, hi_open = rng
    slo, shi = certified_sign(lo), certified_sign(hi)
    if slo == 1 or (slo == 0 and lo_open):
        return "pos", "on the domain"
    if slo == 0:
        return "nonneg", "on the domain"
    if shi == -1 or (shi == 0 and hi_open):
        return "neg", "on the domain"
    if shi == 0:
        return "nonpos", "on the domain"
    return None


def _excludes_zero(rng) -> bool:
    lo, lo_open, hi, hi_open = rng
    slo, shi = certified_sign(lo), certified_sign(hi)
    return slo == 1 or (slo == 0 and lo_open) or shi == -1 or (shi == 0 and hi_open)


def can_vanish(factor: sp.Expr, bounds: dict) -> bool:
    """Whether a factor classified "nonneg"/"nonpos" can be 0 on the box (conservative: True)."""
    rng = affine_range(factor, bounds)
    if rng is None:
        return True
    return not _excludes_zero(rng)

# ------------------------------------------------------- the sign rule for a sum of products


_SIGN_PRODUCT = {("pos", "pos"): "pos", ("pos", "nonneg"): "nonneg", ("nonneg", "nonneg"): "nonneg",
                 ("pos", "neg"): "neg", ("pos", "nonpos"): "nonpos", ("neg", "neg"): "pos",
                 ("neg", "nonpos"): "nonneg", ("nonpos", "nonpos"): "nonneg", ("nonneg", "neg"): "nonpos",
                 ("nonneg", "nonpos"): "nonpos"}


def product_sign(a: str, b: str) -> str:
    """The sign rule for a product of two factors of known sign ("pos", "nonneg", "neg", "nonpos")."""
    return _SIGN_PRODUCT.get((a, b)) or _SIGN_PRODUCT[(b, a)]


def term_sign(term: sp.Expr, bounds: dict):
    """(sign, [(factor, factor_sign)], vanishing numerator factors) of one term, or None."""
    num, den = term.as_numer_denom()
    sign = "pos"
    facts = []
    vanish = []
    for where, part in (("num", num), ("den", den)):
        for factor in sp.Mul.make_args(part):
            if factor == 1:
                continue
            fs = factor_sign(factor, bounds)
            if fs is None:
                return None
            s, _reason = fs
            if where == "den" and s not in ("pos", "neg"):
                return None  # a denominator that may vanish: not our business here
            if s in ("nonneg", "nonpos") and can_vanish(factor, bounds):
                vanish.append(factor)
            sign = product_sign(sign, s)
            facts.append((factor, s))
    return sign, facts, vanish


def never_all_zero(vanishing: list[list[sp.Expr]], conditions, bounds) -> bool:
    """True when no choice of one vanishing factor per term can vanish simultaneously on the domain."""
    import itertools

    for choice in itertools.product(*vanishing):
        syms = sorted(set().union(*(c.free_symbols for c in choice)), key=sp.default_sort_key)
        sols = sp.solve(list(choice), syms, dict=True)
        for sol in sols:
            if any(not numeric(v) for v in sol.values()) or len(sol) < len(syms):
                return False  # a family of common zeros: cannot exclude it cheaply
            ok = True
            for s, v in sol.items():
                b = bounds.get(s)
                if b is None:
                    continue
                if v < b.lo or v > b.hi or (v == b.lo and b.lo_open) or (v == b.hi and b.hi_open):
                    ok = False
            if ok:
                return False
    return True


# ------------------------------------------------------- witnesses


def midpoint_chord(f: sp.Expr, var: sp.Symbol, x0, domain=None, tries: int = 40) -> dict | None:
    """Points x0 - h, x0 + h (t = 1/2) where Jensen's inequality fails for ``f``, checked exactly.

    Tries h = 1, 1/2, 1/4, ...; the first h whose midpoint value lies strictly above the chord wins.
    ``domain`` (a condition in ``var``) must hold at both ends.  Returns ``{"x1", "x2", "t", "point",
    "f_point", "chord", "f1", "f2"}`` or None.
    """
    x0 = as_sympy(x0)
    t = sp.Rational(1, 2)
    try:
        poly = sp.Poly(f, var)
        if poly.free_symbols - {var} or not all(c.is_Rational for c in poly.coeffs()):
            poly = None
    except sp.PolynomialError:
        poly = None

    def value(v):
        if poly is not None and v.is_Rational:
            return poly.eval(v)  # exact rational arithmetic
        return sp.simplify(f.subs(var, v))

    for k in range(tries):
        h = sp.Rational(1, 2**k)
        x1, x2 = x0 - h, x0 + h
        if domain is not None and not all(bool(domain.subs(var, v)) is True for v in (x1, x2)):
            continue
        f1, f2, fm = (value(v) for v in (x1, x2, x0))
        chord = t * f1 + (1 - t) * f2
        if is_negative(chord - fm):  # the graph lies above the chord
            return {"x1": x1, "x2": x2, "t": t, "point": x0, "f_point": fm, "chord": chord, "f1": f1, "f2": f2}
    return None


def nonneg_on(expr, x: sp.Symbol, interval: sp.Interval) -> bool | None:
    """Prove ``expr >= 0`` for x in ``interval``: True (proved), False (refuted), None (unknown)."""
    expr = sp.simplify(expr)
    if not expr.has(x):
        if is_nonnegative(expr):
            return True
        return False if is_negative(expr) else None
    if interval == sp.S.Reals and is_nonnegative(expr):
        return True
    from convexproof.engine.signs import prove_nonneg  # the engine's one non-negativity prover

    r = prove_nonneg(expr, {x: interval})
    if r.status == "proved":
        return True
    if r.status == "disproved":
        return False
    return None


def find_negative_point(expr, x: sp.Symbol, interval: sp.Interval, candidates=None):
    """A point of ``interval`` where ``expr`` is verified negative, or None."""
    pts = candidates or [sp.Rational(p, q) for q in (1, 2, 4) for p in range(-16, 17)]
    pts = sorted(set(pts), key=lambda v: (sp.Rational(v).q, abs(v), v))
    for p in pts:
        if not interval.contains(p) == sp.true:
            continue
        try:
            val = expr.subs(x, p)
        except (ValueError, TypeError, ZeroDivisionError):
            continue
        if val.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            continue
        if is_negative(val):
            return p
    return None


def jensen_witness(f, point_vars: list[sp.Symbol], centre: list, direction: list, interval_ok=None):
    """Points a = c - h d, b = c + h d with f(c) > (f(a) + f(b))/2, verified; or None."""
    for h in [sp.Rational(1, 2**k) for k in range(0, 8)]:
        a = [c - h * d for c, d in zip(centre, direction)]
        b = [c + h * d for c, d in zip(centre, direction)]
        if interval_ok is not None and not (interval_ok(a) and interval_ok(b)):
            continue
        fa = f.subs(dict(zip(point_vars, a)))
        fb = f.subs(dict(zip(point_vars, b)))
        fc = f.subs(dict(zip(point_vars, centre)))
        gap = sp.simplify(fc - (fa + fb) / 2)
        if is_positive(gap):
            return a, b, fa, fb, fc, gap
    return None


# ---------------------------------------------------------------- one variable
@dataclass
class Piece:
    lo: Any
    hi: Any
    expr: Any
    d1: Any
    d2: Any
    nonneg: bool | None


@dataclass
class Verdict1D:
    """The outcome of :func:`convexity_1d` (everything computed, nothing assumed)."""

    convex: bool | None  # True proved, False refuted with a witness, None unknown
    f: Any
    d1: Any
    d2: Any  # second derivative where f is smooth (None for a piecewise function)
    pieces: list[Piece]
    kinks: list[tuple[Any, Any, Any]]  # (point, left slope, right slope)
    witness: Any = None  # point where f'' < 0
    witness_d2: Any = None
    chord: Any = None  # (a, b, f(a), f(b), f(mid), gap)
    strict: bool = False


def _as_piecewise(f, x):
    g = f.rewrite(sp.Piecewise) if f.has(sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign) else f
    return sp.piecewise_fold(g)


def _breakpoints(g, x) -> list:
    pts = set()
    for pw in g.atoms(sp.Piecewise):
        for _e, c in pw.args:
            for rel in (c.atoms(sp.core.relational.Relational) if c not in (sp.true, sp.false) else []):
                sol = sp.solve(sp.Eq(rel.lhs, rel.rhs), x)
                pts.update(s for s in sol if s.is_real)
    return sorted(pts, key=lambda v: float(v))


def convexity_1d(f, x: sp.Symbol, domain: sp.Interval = sp.S.Reals) -> Verdict1D:
    """Decide convexity of f on ``domain`` soundly (see the module docstring)."""
    g = _as_piecewise(f, x)
    d1 = sp.diff(f, x)
    if not g.has(sp.Piecewise):
        d2 = sp.simplify(sp.diff(f, x, 2))
        ok = nonneg_on(d2, x, domain)
        piece = Piece(domain.left, domain.right, f, sp.simplify(d1), d2, ok)
        v = Verdict1D(None, f, sp.simplify(d1), d2, [piece], [])
        if ok:
            v.convex = True
            # strict: f'' > 0 except at isolated points (polynomial or positive expression)
            # strict: f'' > 0 except at finitely many points
            v.strict = bool(is_positive(d2) if not d2.has(x) else
                            is_positive(d2) or (d2.is_polynomial(x) and not d2.is_zero))
            return v
        w = find_negative_point(d2, x, domain)
        if w is not None:
            v.convex, v.witness, v.witness_d2 = False, w, sp.simplify(d2.subs(x, w))
            v.chord = jensen_witness(f, [x], [w], [1], lambda p: domain.contains(p[0]) == sp.true)
        return v
    # piecewise: split the domain at the breakpoints
    pts = [p for p in _breakpoints(g, x) if domain.contains(p) == sp.true and p not in (domain.left, domain.right)]
    edges = [domain.left, *pts, domain.right]
    pieces: list[Piece] = []
    for lo, hi in zip(edges, edges[1:]):
        probe = _probe(lo, hi)
        e = _piece_at(g, x, probe)
        d2 = sp.simplify(sp.diff(e, x, 2))
        pieces.append(Piece(lo, hi, e, sp.simplify(sp.diff(e, x)), d2, nonneg_on(d2, x, sp.Interval.open(lo, hi))))
    # merge neighbouring pieces given by the same formula (a breakpoint that is no kink)
    merged: list[Piece] = []
    for p in pieces:
        if merged and sp.simplify(merged[-1].expr - p.expr) == 0:
            merged[-1] = Piece(merged[-1].lo, p.hi, merged[-1].expr, merged[-1].d1, merged[-1].d2,
                               nonneg_on(merged[-1].d2, x, sp.Interval.open(merged[-1].lo, p.hi)))
            pts = [c for c in pts if c != p.lo]
        else:
            merged.append(p)
    pieces = merged
    kinks = []
    v = Verdict1D(None, f, d1, None, pieces, kinks)
    continuous = True
    for c, left, right in zip(pts, pieces, pieces[1:]):
        if sp.simplify(left.expr.subs(x, c) - right.expr.subs(x, c)) != 0:
            continuous = False
        kinks.append((c, sp.simplify(left.d1.subs(x, c)), sp.simplify(right.d1.subs(x, c))))
    if continuous and all(p.nonneg for p in pieces) and all(is_nonnegative(r - l) for _c, l, r in kinks):
        v.convex = True
        return v
    for p in pieces:
        if p.nonneg is False:
            w = find_negative_point(p.d2, x, sp.Interval.open(p.lo, p.hi))
            if w is not None:
                v.convex, v.witness, v.witness_d2 = False, w, sp.simplify(p.d2.subs(x, w))
                v.chord = jensen_witness(f, [x], [w], [1], lambda q: domain.contains(q[0]) == sp.true)
                return v
    for c, l, r in kinks:
        if is_negative(r - l):
            ch = jensen_witness(f, [x], [c], [1], lambda q: domain.contains(q[0]) == sp.true)
            if ch is not None:
                v.convex, v.chord = False, ch
                return v
    return v


def _probe(lo, hi):
    if lo == -sp.oo and hi == sp.oo:
        return sp.S.Zero
    if lo == -sp.oo:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def _piece_at(g, x, probe):
    """The smooth expression g equals on the open piece containing ``probe``."""
    def pick(e):
        if isinstance(e, sp.Piecewise):
            for val, cond in e.args:
                if cond == sp.true or bool(cond.subs(x, probe)):
                    return pick(val)
            raise ValueError("no piece")
        if e.args and e.has(sp.Piecewise):
            return e.func(*[pick(a) for a in e.args])
        return e
    return sp.simplify(pick(g))


def zeros_on(g, x: sp.Symbol, interval: sp.Interval):
    """The zeros of ``g`` in ``interval`` (a SymPy set: EmptySet, a FiniteSet, or what solveset leaves)."""
    return sp.solveset(g, x, interval)


def isolated_zeros(g, x: sp.Symbol, interval: sp.Interval) -> bool:
    """Whether ``g`` vanishes only at finitely many points of ``interval`` (then f'' >= 0 gives strict convexity)."""
    zeros = zeros_on(g, x, interval)
    return zeros == sp.S.EmptySet or isinstance(zeros, sp.FiniteSet)


def concavity_1d(d2, x: sp.Symbol, interval: sp.Interval):
    """"strict" if f'' < 0 on the interval except at isolated points, True if f'' <= 0, else False."""
    if not nonneg_on(-d2, x, interval):
        return False
    return "strict" if isolated_zeros(d2, x, interval) else True


def minimum_on_reals(h, x: sp.Symbol, window=(-4, 4)):
    """(min over the real line, the points of ``window`` where it is attained) of h(x); None if not found.

    A constant h is attained at 0.  The minimum must be a finite number.
    """
    lo = sp.minimum(h, x, sp.S.Reals)
    if lo is None or not lo.is_number or lo == -sp.oo:
        return None
    if not h.has(x):
        return lo, [sp.Integer(0)]
    crit = [c for c in sp.solveset(sp.diff(h, x), x, sp.Interval(*window)) if sp.simplify(h.subs(x, c) - lo) == 0]
    return lo, crit
