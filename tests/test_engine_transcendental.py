"""Issue #10: the sign of a transcendental f'' on an interval, from its exact zeros.

Every "not convex" comes with a verified witness; every "convex" is checked
by the engine's own random chords as well.
"""

from __future__ import annotations

import pytest

from convexproof.engine import prove
from convexproof.engine.domain import make_problem
from convexproof.engine.witness import verify_witness

CONVEX = {"convex", "strictly convex", "strongly convex"}
NOT = {"not convex", "concave"}

CASES = [
    ("1/cos(x)", ["x > -pi/2", "x < pi/2"], CONVEX),
    ("cos(x)", ["x > pi/2", "x < 3*pi/2"], CONVEX),
    ("cos(x)", ["x > 0", "x < pi"], NOT),
    ("log(x)/x", ["x >= exp(3/2)"], CONVEX),
    ("log(x)/x", ["x > 0"], NOT),
    ("-log(cos(x))", ["x > -pi/2", "x < pi/2"], CONVEX),
    ("tan(x)", ["x > 0", "x < pi/2"], CONVEX),
    ("tan(x)", ["x > -pi/2", "x < pi/2"], NOT),
    ("1/sin(x)", ["x > 0", "x < pi"], CONVEX),
    ("-log(sin(x))", ["x > 0", "x < pi"], CONVEX),
    ("exp(x)/x", ["x > 0"], CONVEX),
    ("sin(x)", ["x > 0", "x < pi"], {"concave"}),
]


@pytest.mark.parametrize("expr, where, allowed", CASES)
def test_transcendental_curvature_on_an_interval(expr, where, allowed):
    r = prove(expr, where=where, timeout=20)
    assert r.verdict in allowed, (r.verdict, r.method, r.to_dict().get("notes"))
    if r.convex is False:
        p = make_problem(expr, where=where)
        assert verify_witness(p.expr, p.variables, r.witness, p)


DOMAINS = [
    ("1/(1 - x**2 - y**2)", ["x**2 + y**2 < 1"], CONVEX),
    ("-log(1 - x**2 - y**2)", ["x**2 + y**2 < 1"], CONVEX),
    ("-log(x - y**2)", ["x > y**2"], CONVEX),
    ("x**2/(1 - x - y)", ["x + y < 1"], CONVEX),
    ("1/(1 - x - y)", ["x + y < 1"], CONVEX),
    ("-log(x) - log(y) - log(1 - x - y)", ["x > 0", "y > 0", "x + y < 1"], CONVEX),  # the triangle's barrier
    ("x*y", ["x + y < 1"], NOT),
    ("-(1 - x**2 - y**2)", ["x**2 + y**2 < 1"], CONVEX),
    ("1/(x*y - 1)", ["x*y > 1"], {"unknown", *NOT}),  # {xy > 1} has two branches: not a convex set
]


@pytest.mark.parametrize("expr, where, allowed", DOMAINS)
def test_domains_that_are_not_boxes(expr, where, allowed):
    """The domain's own conditions are facts: denominators and logs are positive there, and the Hessian is
    proved PSD with each positive slack as a positive symbol (a relaxation, hence sound)."""
    r = prove(expr, where=where, timeout=20)
    assert r.verdict in allowed, (r.verdict, r.method, r.to_dict().get("notes"))
    if r.convex is False:
        p = make_problem(expr, where=where)
        assert verify_witness(p.expr, p.variables, r.witness, p)


@pytest.mark.parametrize("expr, where, cond", [
    ("x**p", ["x > 0"], "p <= 0 or p >= 1"),
    ("x**(p + 1)", ["x > 0"], "p <= -1 or p >= 0"),
    ("x**p/p", ["x > 0", "p > 0"], "p >= 1"),
])
def test_parametric_exponents(expr, where, cond):
    """Issue #10: x**p on x > 0 is convex iff p <= 0 or p >= 1 (a positive power x**(p-2) is > 0 for every p)."""
    import sympy as sp

    from convexproof.parse import parse_condition

    r = prove(expr, wrt=["x"], where=where, timeout=20)
    assert r.condition is not None, r.verdict
    p = sp.Symbol("p", real=True)
    want = parse_condition(cond)
    for v in [sp.Rational(k, 4) for k in range(-12, 13)]:
        if all(parse_condition(w).subs(p, v) is not sp.false for w in where if "p" in w):
            assert bool(r.condition.subs(p, v)) == bool(want.subs(p, v)), v
