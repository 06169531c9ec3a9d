"""Perspectives: f(x, y) = y·g(x/y) on a cone with y > 0 is convex exactly when g = f(·, 1) is.

Rows are (function, domain, expected); every "convex" and every condition is checked here without the
engine: midpoint inequalities at sampled points of the domain, for parameter values on both sides.
"""

from __future__ import annotations

import itertools
import random

import pytest
import sympy as sp

from convexproof.engine import prove
from convexproof.engine.cases import _homogeneous_of_degree_one

x, y, p = sp.symbols("x y p", real=True)
POS = sp.Interval.open(0, sp.oo)


def _midpoint_gaps(f, n=300, seed=3):
    """The smallest (f(a) + f(b))/2 − f((a + b)/2) over random pairs of points with x, y > 0."""
    rng = random.Random(seed)
    pts = [(sp.Rational(rng.randint(1, 400), 37), sp.Rational(rng.randint(1, 400), 41)) for _ in range(40)]
    worst = sp.oo
    for (a1, a2), (b1, b2) in itertools.islice(itertools.combinations(pts, 2), n):
        fa, fb = f.subs({x: a1, y: a2}), f.subs({x: b1, y: b2})
        fm = f.subs({x: (a1 + b1) / 2, y: (a2 + b2) / 2})
        worst = min(worst, sp.N((fa + fb) / 2 - fm, 30))
    return worst


@pytest.mark.parametrize("expr, convex", [
    ("x*log(x/y)", True),            # relative entropy
    ("x**2/y", True),                # quad-over-lin
    ("-sqrt(x*y)", True),            # minus the geometric mean
    ("sqrt(x*y)", False),
    ("x**3/y**2", True),
    ("x*y/(x + y)", False),          # the harmonic-mean kernel is concave
])
def test_perspective_verdicts_hold(expr, convex):
    r = prove(expr, wrt=["x", "y"], where=["x > 0", "y > 0"])
    assert r.convex is convex
    gap = _midpoint_gaps(sp.sympify(expr, locals={"x": x, "y": y}))
    assert (gap >= -1e-25) if convex else (gap < 0)


def test_geometric_mean_power_condition_is_exact():
    """x^p·y^(1−p) on x, y > 0 is convex exactly when p ≤ 0 or p ≥ 1 (round-2 class c)."""
    r = prove("x**p*y**(1 - p)", wrt=["x", "y"], where=["x > 0", "y > 0"])
    assert r.condition is not None and r.method == "parameters"
    f = x**p * y**(1 - p)
    for value in (sp.Rational(-1, 2), 0, sp.Rational(1, 3), sp.Rational(1, 2), 1, 2):
        holds = bool(r.condition.subs(p, value))
        assert holds == (value <= 0 or value >= 1)
        gap = _midpoint_gaps(f.subs(p, value))
        assert (gap >= -1e-25) if holds else (gap < 0), value


@pytest.mark.parametrize("expr, homogeneous", [
    ("x**p*y**(1 - p)", True), ("x*log(x/y)", True), ("x**2/y", True), ("x**2 + y**2", False),
    ("x*log(x) - x*log(y) + y", True), ("x*log(x)", False), ("x**2/y + 1", False),
])
def test_homogeneity_is_shown_not_assumed(expr, homogeneous):
    f = sp.sympify(expr, locals={"x": x, "y": y, "p": p})
    assert _homogeneous_of_degree_one(f, x, y, {x: POS, y: POS, p: sp.Interval(-sp.oo, sp.oo)}) is homogeneous


def test_not_a_cone_is_left_to_the_other_methods():
    """x on (1, 2) is not a cone: the perspective rule does not apply (the verdict comes from elsewhere or not)."""
    r = prove("x**p*y**(1 - p)", wrt=["x", "y"], where=["x > 1", "x < 2", "y > 0"])
    assert r.method != "perspective"
