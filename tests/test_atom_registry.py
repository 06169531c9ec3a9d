"""Issue #9 item 2: the atom registry (engine/registry.py), one row per atom and case.

Each row states a fact of one record and the test checks it against the
mathematics, not against the table: claimed curvature by midpoint inequalities,
claimed monotonicity by ordered pairs, signs, definedness, enclosures and kinks
by the values of the function at sampled exact points (50 digits).
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from convexproof.engine.atoms import DCP
from convexproof.engine.registry import (AFFINE, ATOMS, CONCAVE, CONST, CONVEX, DECR, FINITE, INCR, NEG, NONE, NONNEG,
                                         NONPOS, NONSMOOTH, NONZERO, POS, REGISTRY, UNKNOWN, ZERO, compose, lookup,
                                         requirements, scale_atom)
from convexproof.engine.registry import ivctx
from convexproof.engine.signs import SignOracle, iv_eval

x, y, t = sp.symbols("x y t", real=True)
R = sp.Interval(-sp.oo, sp.oo)
iv = ivctx()
GRID = [sp.Rational(k, 4) for k in range(-16, 17)]  # -4 .. 4 step 1/4


def _val(f, pt):
    v = sp.N(f.subs(pt), 50)
    return v


def _region(needs):
    return {POS: lambda v: v > 0, NONNEG: lambda v: v >= 0, NEG: lambda v: v < 0, NONPOS: lambda v: v <= 0,
            None: lambda v: True}[needs]


# ----------------------------------------------------------------- curvature and monotonicity
# (atom, a function of t with that curvature fact)
CURVATURE_ROWS = [
    ("exp", sp.exp(t)),
    ("log", sp.log(t)),
    ("abs", sp.Abs(t)),
    ("cosh", sp.cosh(t)),
    ("even_power", t**4),
    ("power_ge1", t**3),
    ("power_ge1", t**sp.Rational(3, 2)),
    ("power_01", sp.sqrt(t)),
    ("power_neg", 1 / t),
    ("power_neg", t**sp.Rational(-1, 2)),
    ("power_neg_even_negarg", t**-2),
    ("power_odd_negarg", t**3),
    ("power_neg_odd_negarg", 1 / t),
    ("log_sum_exp", sp.log(1 + sp.exp(t))),
    ("norm2", sp.sqrt(t**2 + 1)),
    ("xlogx", t * sp.log(t)),
    ("scale_nonneg", 3 * t),
    ("scale_nonpos", -2 * t),
]


@pytest.mark.parametrize("name,f", CURVATURE_ROWS, ids=[f"{n}:{f}" for n, f in CURVATURE_ROWS])
def test_curvature_fact_holds(name, f):
    atom = ATOMS[name]
    pts = [p for p in GRID if _region(atom.needs)(p)]
    assert len(pts) >= 8
    for a, b in itertools.combinations(pts[::2], 2):
        m = (a + b) / 2
        fa, fb, fm = _val(f, {t: a}), _val(f, {t: b}), _val(f, {t: m})
        gap = (fa + fb) / 2 - fm  # >= 0 for convex, <= 0 for concave
        if atom.curvature in (CONVEX, AFFINE):
            assert gap >= -1e-40, (a, b)
        if atom.curvature in (CONCAVE, AFFINE):
            assert gap <= 1e-40, (a, b)
    for s, keep in ((POS, lambda v: v > 0), (NEG, lambda v: v < 0)):
        mono = atom.monotone(s)
        region = [p for p in pts if keep(p)]
        for a, b in zip(region, region[1:]):
            fa, fb = _val(f, {t: a}), _val(f, {t: b})
            if mono == INCR:
                assert fb >= fa, (s, a, b)
            elif mono == DECR:
                assert fb <= fa, (s, a, b)


@pytest.mark.parametrize("name,curvature,on_pos,on_neg,needs", [
    ("exp", CONVEX, INCR, INCR, None),
    ("log", CONCAVE, INCR, INCR, POS),
    ("abs", CONVEX, INCR, DECR, None),
    ("max", CONVEX, INCR, INCR, None),
    ("min", CONCAVE, INCR, INCR, None),
    ("cosh", CONVEX, INCR, DECR, None),
    ("even_power", CONVEX, INCR, DECR, None),
    ("power_ge1", CONVEX, INCR, INCR, NONNEG),
    ("power_01", CONCAVE, INCR, INCR, NONNEG),
    ("power_neg", CONVEX, DECR, DECR, POS),
    ("power_odd_negarg", CONCAVE, INCR, INCR, NONPOS),
    ("xlogx", CONVEX, NONE, NONE, POS),
    ("quad_over_lin", CONVEX, DECR, NONE, None),
    ("sum", AFFINE, INCR, INCR, None),
])
def test_atom_record(name, curvature, on_pos, on_neg, needs):
    a = ATOMS[name]
    assert (a.curvature, a.monotone(POS), a.monotone(NEG), a.needs) == (curvature, on_pos, on_neg, needs)
    assert a.text


@pytest.mark.parametrize("atom,curvs,signs,expected", [
    ("exp", [CONVEX], [None], CONVEX),
    ("exp", [CONCAVE], [None], UNKNOWN),            # exp(-x²) is not convex
    ("exp", [CONST], [POS], CONST),
    ("log", [CONCAVE], [POS], CONCAVE),
    ("log", [CONCAVE], [None], UNKNOWN),            # the domain is not shown
    ("abs", [CONVEX], [POS], CONVEX),
    ("abs", [CONVEX], [NEG], UNKNOWN),
    ("abs", [CONCAVE], [NEG], CONVEX),
    ("abs", [CONVEX], [None], UNKNOWN),
    ("power_neg", [CONCAVE], [POS], CONVEX),        # 1/g with g concave > 0
    ("max", [CONVEX, AFFINE], [None, None], CONVEX),
    ("min", [CONCAVE, CONST], [None, None], CONCAVE),
    ("min", [CONVEX, AFFINE], [None, None], UNKNOWN),
    ("sum", [CONVEX, AFFINE, CONST], [None] * 3, CONVEX),
    ("sum", [CONCAVE, CONCAVE], [None] * 2, CONCAVE),
    ("sum", [CONVEX, CONCAVE], [None] * 2, UNKNOWN),
    ("sum", [AFFINE, CONST], [None] * 2, AFFINE),
    ("sum", [CONST, CONST], [None] * 2, CONST),
    ("sum", [CONVEX, UNKNOWN], [None] * 2, UNKNOWN),
])
def test_composition_rule(atom, curvs, signs, expected):
    assert compose(ATOMS[atom], curvs, signs)[0] == expected


@pytest.mark.parametrize("coeff_sign,inner,expected", [
    (POS, CONVEX, CONVEX), (NONNEG, CONCAVE, CONCAVE), (NEG, CONVEX, CONCAVE), (NONPOS, CONCAVE, CONVEX),
    (None, CONVEX, UNKNOWN), (None, AFFINE, AFFINE), (NEG, AFFINE, AFFINE), (POS, UNKNOWN, UNKNOWN),
])
def test_scaling_is_the_composition_rule(coeff_sign, inner, expected):
    assert compose(scale_atom(coeff_sign), [inner], [None])[0] == expected


# end to end through DCP: the verdict and a midpoint check of it on the box
DCP_ROWS = [
    (sp.exp(x) + x**2 - 3 * sp.log(x + 1), {x: sp.Interval(0, sp.oo)}, CONVEX),
    (-sp.sqrt(x), {x: sp.Interval(0, sp.oo)}, CONVEX),
    (2 * sp.Abs(x - 1) + sp.Max(x, -x, 2), {}, CONVEX),
    (sp.log(x) - sp.exp(-x), {x: sp.Interval.open(0, sp.oo)}, CONCAVE),
    (sp.Min(x, 1 - x) - x**2, {}, CONCAVE),
    (sp.cosh(x) - 5 * x, {}, CONVEX),
    (x**3, {x: sp.Interval(-sp.oo, 0)}, CONCAVE),
    (1 / x, {x: sp.Interval.open(-sp.oo, 0)}, CONCAVE),
    (x**-2, {x: sp.Interval.open(-sp.oo, 0)}, CONVEX),
    (x * sp.log(x), {x: sp.Interval.open(0, sp.oo)}, CONVEX),
    (sp.exp(-x**2), {}, UNKNOWN),
    (x**3, {}, UNKNOWN),
    (3 * x - 2, {}, AFFINE),
]


@pytest.mark.parametrize("f,box,expected", DCP_ROWS, ids=[str(r[0]) for r in DCP_ROWS])
def test_dcp_through_registry(f, box, expected):
    assert DCP([x], box).analyse(f).curvature == expected
    if expected in (CONVEX, CONCAVE, AFFINE):
        I = box.get(x, R)
        pts = [p for p in GRID if I.contains(p) is sp.true]
        for a, b in itertools.combinations(pts[::3], 2):
            gap = (_val(f, {x: a}) + _val(f, {x: b})) / 2 - _val(f, {x: (a + b) / 2})
            assert gap >= -1e-40 if expected in (CONVEX, AFFINE) else gap <= 1e-40


# ----------------------------------------------------------------- value signs
SIGN_ROWS = [
    (sp.exp(x - 3), {}, POS),
    (sp.cosh(x), {}, POS),
    (sp.Abs(x), {}, NONNEG),
    (sp.Abs(x + 5), {x: sp.Interval(0, 1)}, POS),
    (x**2, {}, NONNEG),
    ((x - 1)**2, {x: sp.Interval(2, 3)}, POS),
    (x**-2, {}, POS),
    (x**3, {x: sp.Interval.open(-sp.oo, 0)}, NEG),
    (1 / x, {x: sp.Interval(0, 2)}, POS),          # defined, so x ≠ 0
    (sp.sqrt(x), {}, NONNEG),
    (x**sp.Rational(3, 2), {x: sp.Interval.open(0, 1)}, POS),
    (2**x, {}, POS),
    (sp.Max(x, 1), {}, POS),
    (sp.Max(x, 0), {}, NONNEG),
    (sp.log(x), {x: sp.Interval.open(1, sp.oo)}, POS),
    (sp.log(x), {x: sp.Interval.open(0, 1)}, NEG),
    (sp.log(x + 1), {x: sp.Interval(0, 1)}, NONNEG),
]


@pytest.mark.parametrize("e,box,expected", SIGN_ROWS, ids=[str(r[0]) for r in SIGN_ROWS])
def test_value_sign(e, box, expected):
    assert SignOracle(box).sign(e).sign == expected
    I = box.get(x, R)
    holds = {POS: lambda v: v > 0, NONNEG: lambda v: v >= 0, NEG: lambda v: v < 0}[expected]
    for p in GRID:
        if I.contains(p) is sp.true:
            v = _val(e, {x: p})
            if v.is_real and v.is_finite:  # where e is defined
                assert holds(v), (p, v)


# ----------------------------------------------------------------- definedness
DOMAIN_ROWS = [
    (sp.log(x - 1), [(x - 1, POS)], sp.Integer(1)),
    (sp.sqrt(x), [(x, NONNEG)], sp.Integer(-1)),
    (x**sp.Rational(-1, 2), [(x, POS)], sp.Integer(0)),
    (1 / (x - 2), [(x - 2, NONZERO)], sp.Integer(2)),
    (sp.tan(x), [(sp.cos(x), NONZERO)], sp.pi / 2),
    (sp.sec(x), [(sp.cos(x), NONZERO)], sp.pi / 2),
    (sp.cot(x), [(sp.sin(x), NONZERO)], sp.Integer(0)),
    (sp.csc(x), [(sp.sin(x), NONZERO)], sp.pi),
    (sp.asin(x), [(sp.asin(x), FINITE)], sp.Integer(2)),
    (sp.exp(x) + x**2 + sp.Abs(x), [], None),
    (sp.log(sp.sqrt(x) + 1), [(sp.sqrt(x) + 1, POS), (x, NONNEG)], sp.Integer(-1)),
]


@pytest.mark.parametrize("f,expected,bad", DOMAIN_ROWS, ids=[str(r[0]) for r in DOMAIN_ROWS])
def test_domain_requirement(f, expected, bad):
    got = [(e, need) for e, need, why in requirements(f)]
    assert got == expected
    assert all(why for _, _, why in requirements(f))
    if bad is not None:  # where a requirement fails, f is not a finite real number
        v = f.subs(x, bad)
        assert not (v.is_real and v.is_finite)
    # where every requirement holds, f is a finite real
    ok = [p for p in GRID if all(_meets(e.subs(x, p), need) for e, need in expected)]
    assert ok
    for p in ok[:6]:
        v = sp.N(f.subs(x, p), 30)
        assert v.is_real and v.is_finite, (p, v)


def _meets(v, need):
    v = sp.N(v, 30)
    if not (v.is_real and v.is_finite):
        return False
    if need == POS:
        return v > 0
    if need == NONNEG:
        return v >= 0
    if need == NONZERO:
        return abs(v) > 1e-20
    return v.is_real and v.is_finite


# ----------------------------------------------------------------- enclosures
ENCLOSURE_ROWS = [
    (sp.exp(x), sp.Interval(-2, 3)),
    (sp.log(x), sp.Interval(sp.Rational(1, 4), 4)),
    (sp.sqrt(x), sp.Interval(0, 4)),
    (x**sp.Rational(-3, 2), sp.Interval(1, 2)),
    (1 / x, sp.Interval(1, 3)),
    (x**-2, sp.Interval(-3, -1)),
    (x**3 - x, sp.Interval(-2, 2)),
    (sp.Abs(x - 1), sp.Interval(-2, 3)),
    (sp.Max(x, 1 - x), sp.Interval(-1, 2)),
    (sp.Min(x, x**2), sp.Interval(-1, 2)),
    (sp.cosh(x), sp.Interval(-2, 1)),
    (sp.sinh(x), sp.Interval(-2, 1)),
    (sp.tanh(x), sp.Interval(-3, 3)),
    (sp.atan(x), sp.Interval(-3, 3)),
    (sp.sin(x) + sp.cos(2 * x), sp.Interval(-4, 4)),
    (sp.exp(x) * sp.log(x + 5), sp.Interval(-4, 4)),
    (sp.exp(2 * x) + sp.pi * x, sp.Interval(-1, 1)),
    (sp.tanh(x) + sp.atan(x), sp.Interval(0, sp.oo)),
]


@pytest.mark.parametrize("e,I", ENCLOSURE_ROWS, ids=[str(r[0]) for r in ENCLOSURE_ROWS])
def test_enclosure_contains_sampled_values(e, I):
    r = iv_eval(e, {x: I})
    assert r is not None
    for p in [p for p in GRID if I.contains(p) is sp.true] + [v for v in (I.inf, I.sup) if v.is_finite]:
        V = iv.mpf(str(_val(e, {x: p})))  # the 50-digit value, enclosed at the registry's 80 bits
        assert r.a <= V.b and V.a <= r.b, (p, V, r)


@pytest.mark.parametrize("e,I", [
    (sp.log(x), sp.Interval(0, 1)),               # log 0 is not defined
    (1 / x, sp.Interval(-1, 1)),                  # may divide by 0
    (sp.sqrt(x), sp.Interval(-1, 1)),
    (sp.sign(x), sp.Interval(-1, 1)),             # no enclosure in the registry
    (sp.Piecewise((x, x > 0), (-x, True)), sp.Interval(-1, 1)),
    (sp.tan(x), sp.Interval(0, 1)),
    (2**x, sp.Interval(0, 1)),                    # c**t with c ≠ e: not enclosed (as before the registry)
])
def test_no_enclosure_where_none_is_sound_or_known(e, I):
    assert iv_eval(e, {x: I}) is None


# ----------------------------------------------------------------- kinks
KINK_ROWS = [
    (sp.Abs(x - 1), {1}),
    (sp.Max(x, 2 - x), {1}),
    (sp.Min(x, 0), {0}),
    (sp.sign(x + 2), {-2}),
    (sp.Heaviside(x - 3), {3}),
    (sp.Piecewise((x, x < 1), (2 - x, True)), {1}),
]


@pytest.mark.parametrize("e,where", KINK_ROWS, ids=[str(r[0]) for r in KINK_ROWS])
def test_kinks_and_branches(e, where):
    rec = lookup(e)
    assert not rec.smooth and isinstance(e, NONSMOOTH)
    zeros = set()
    for k in rec.kinks(e):
        zeros |= set(sp.solveset(k, x, sp.S.Reals))
    assert zeros == {sp.Integer(w) for w in where}
    # each branch is the function where its condition holds (the first true condition wins)
    branches = rec.branches(e)
    for p in GRID + [sp.Integer(w) for w in where]:
        rep = next(r for r, c in branches if c.subs(x, p) is sp.true or c is sp.true)
        assert sp.simplify(rep.subs(x, p) - e.subs(x, p)) == 0, (p, rep)
    # smooth off the kinks: away from them the branch formula does not change in a neighbourhood
    for p in GRID:
        if all(abs(p - w) > sp.Rational(1, 8) for w in where):
            near = {next(r for r, c in branches if c.subs(x, q) is sp.true or c is sp.true)
                    for q in (p - sp.Rational(1, 16), p, p + sp.Rational(1, 16))}
            assert len(near) == 1, p


@pytest.mark.parametrize("fn", [sp.exp, sp.log, sp.cosh, sp.sinh, sp.tanh, sp.atan, sp.sin, sp.cos, sp.tan, sp.asin])
def test_smooth_atoms_have_no_kinks(fn):
    rec = lookup(fn(x + 3))
    assert rec.smooth and rec.kinks is None and not isinstance(fn(x + 3), NONSMOOTH)


def test_registry_is_keyed_by_sympy_type():
    assert all(isinstance(k, type) and issubclass(k, sp.Basic) and r.type is k for k, r in REGISTRY.items())
    assert lookup(sp.exp(x)) is REGISTRY[sp.exp] and lookup(x**2) is REGISTRY[sp.Pow]
    assert lookup(x + y) is REGISTRY[sp.Add] and lookup(sp.Symbol("z")) is None
    assert set(NONSMOOTH) == {sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside, sp.Piecewise}
    assert all(r.text for r in REGISTRY.values())
    assert ZERO not in (ATOMS["exp"].needs,)


# ----------------------------------------------------------------- quad-over-lin: q/t with q = Σ uᵢ² (uᵢ affine), t > 0
POS_X = sp.Interval.open(0, sp.oo)
QOL_ROWS = [
    # (expression, box, curvature the rule gives)
    (x**2 / y, {x: R, y: POS_X}, CONVEX),
    ((x**2 + y**2) / (x + y), {x: POS_X, y: POS_X}, CONVEX),
    ((x + 2 * y) ** 2 / (3 + x + y), {x: POS_X, y: POS_X}, CONVEX),
    ((x**2 + 2 * x * y + 2 * y**2 + 1) / (x + 1), {x: POS_X, y: R}, CONVEX),   # (x + y)² + y² + 1: PSD with c > 0
    (3 * (x - y) ** 2 / (1 + x), {x: POS_X, y: R}, CONVEX),
    ((x - 1) ** 2 / sp.sqrt(y), {x: R, y: POS_X}, UNKNOWN),         # not t⁻¹: no quad-over-lin (the Hessian decides)
    ((x**2 - y**2) / (1 + x), {x: POS_X, y: R}, UNKNOWN),           # q indefinite: no square roots
    (x * y / (x + y), {x: POS_X, y: POS_X}, UNKNOWN),                # q = xy indefinite (the function is concave)
    (x**2 / (x - y), {x: R, y: R}, UNKNOWN),                         # the denominator's sign is not shown
    (x**2 / (x + y) ** 2, {x: POS_X, y: POS_X}, UNKNOWN),            # t⁻², not t⁻¹
]


@pytest.mark.parametrize("f,box,expected", QOL_ROWS, ids=[str(r[0]) for r in QOL_ROWS])
def test_quad_over_lin_rule(f, box, expected):
    got = DCP([x, y], box).analyse(f).curvature
    assert got == expected
    if got == CONVEX:  # the mathematics, not the table: midpoint inequalities on sampled points of the box
        lo = {v: (sp.Rational(1, 4) if I.inf == 0 else sp.Integer(-3)) for v, I in box.items()}
        pts = [{x: lo[x] + sp.Rational(i, 2), y: lo[y] + sp.Rational(j, 3)} for i in range(6) for j in range(6)]
        for p, q in itertools.combinations(pts[::5], 2):
            m = {v: (p[v] + q[v]) / 2 for v in (x, y)}
            assert (_val(f, p) + _val(f, q)) / 2 - _val(f, m) >= -1e-40, (p, q)


def test_quad_over_lin_square_roots_are_exact():
    """regression guard: the affine uᵢ must square-sum to q exactly (the rule checks its LDLᵀ by expansion)."""
    q = x**2 + 2 * x * y + 2 * y**2 + 1
    us = DCP([x, y], {x: R, y: R})._affine_squares(q)
    assert us is not None and sp.expand(sum(u**2 for u in us) - q) == 0
    assert all(sp.Poly(u, x, y).total_degree() <= 1 for u in us)
