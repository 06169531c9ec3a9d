"""The worked solutions' one-variable analysis (engine.onevar.convexity_1d, which lays out pieces and kinks for
teaching) and the prover must never disagree: where both decide, the verdicts are the same."""

from __future__ import annotations

import pytest
import sympy as sp

from convexproof.engine import prove
from convexproof.engine.onevar import convexity_1d

x = sp.Symbol("x", real=True)
R = sp.S.Reals
POS = sp.Interval.open(0, sp.oo)

CASES = [
    (x**4 - 3 * x**2, R), (x**4 + 3 * x**2, R), (sp.exp(x) + x**2, R), (sp.log(1 + sp.exp(x)), R),
    (x * sp.log(x), POS), (-sp.log(x), POS), (sp.log(x), POS), (1 / x, POS), (x**3, R), (x**3, POS),
    (sp.Abs(x) + x**2, R), (sp.Max(0, 1 - x), R), (sp.sin(x), R), (sp.cosh(x), R), (sp.sqrt(1 + x**2), R),
    (sp.Piecewise((x**2 / 2, sp.Abs(x) <= 1), (sp.Abs(x) - sp.Rational(1, 2), True)), R),   # Huber
    (sp.Piecewise((-x, x < 0), (x**2, True)), R), (sp.Piecewise((x, x < 0), (-x, True)), R),
    (x**2 * sp.exp(-x), POS), (sp.exp(-x**2), R),
]


@pytest.mark.parametrize("f, dom", CASES, ids=[str(c[0]) for c in CASES])
def test_the_solution_analysis_and_the_prover_agree(f, dom):
    v = convexity_1d(f, x, dom)
    where = [] if dom == R else [dom.as_relational(x)]
    r = prove(f, wrt=[x], where=where)
    if v.convex is not None and r.convex is not None:
        assert v.convex == r.convex, (v.convex, r.verdict)
    assert v.convex is not None or r.convex is not None  # at least one of them decides these textbook cases
