"""Regularised losses whose curvature vanishes at infinity: Σ log(1 + exp(Aᵢ(w))) + λ·q(w) is convex iff λ ≥ 0.

The necessity is an argument (the loss's curvature tends to 0 along a ray), so these tests check it with numbers:
for λ < 0 and sampled data, a point far along a ray where the curvature in some direction is negative.
"""

from __future__ import annotations

import random

import pytest
import sympy as sp

from convexproof.engine import prove

W1, W2 = sp.symbols("w1 w2", real=True)


@pytest.mark.parametrize("expr", [
    "log(1 + exp(-y1*(a1*w1 + b1*w2))) + log(1 + exp(-y2*(a2*w1 + b2*w2))) + lam*(w1**2 + w2**2)",
    "log(1 + exp(w1)) + log(1 + exp(w2 - w1)) + lam*(w1**2 + 2*w2**2)",
    "log(1 + exp(a*w1 + b*w2 + c)) + lam*(w1**2 + w1*w2 + w2**2)",
])
def test_convex_iff_lambda_nonnegative(expr):
    r = prove(expr, wrt=["w1", "w2"])
    lam = sp.Symbol("lam", real=True)
    assert r.condition is not None and r.condition.free_symbols == {lam}
    assert bool(r.condition.subs(lam, 0)) and not bool(r.condition.subs(lam, sp.Rational(-1, 100)))
    # the mathematics: for λ < 0 and random data, negative curvature far along a ray; for λ ≥ 0 none at samples
    f = sp.sympify(expr, locals={"lam": lam, "w1": W1, "w2": W2})
    data = sorted(f.free_symbols - {lam, W1, W2}, key=lambda s: s.name)
    H = sp.hessian(f, (W1, W2))

    def min_eig(lv, pt, vals):  # the smaller eigenvalue of the 2×2 Hessian, in 50 digits (no overflow)
        a, b, c = (H[i, j].subs({lam: lv, W1: pt[0], W2: pt[1], **dict(zip(data, vals))}).evalf(50)
                   for i, j in ((0, 0), (0, 1), (1, 1)))
        return (a + c) / 2 - sp.sqrt(((a - c) / 2) ** 2 + b**2)

    rng = random.Random(11)
    for _ in range(5):
        vals = [rng.choice([-2, -1, 1, 3]) for _ in data]
        far = (sp.Rational(7, 10) * 60, sp.Rational(13, 10) * 60)  # far along a ray off the data's hyperplanes
        assert min_eig(sp.Rational(-1, 100), far, vals) < 0
        for pt in ((sp.Rational(1, 10), sp.Rational(-2, 5)), (2, 1), (-3, sp.Rational(1, 2))):
            assert min_eig(0, pt, vals) > -1e-40


def test_a_term_without_vanishing_curvature_is_not_taken_for_one():
    """exp(w2) has curvature that grows: the softplus argument does not apply (another method may decide)."""
    r = prove("log(1 + exp(w1)) + exp(w2) + lam*(w1**2 + w2**2)", wrt=["w1", "w2"])
    assert r.method != "vanishing curvature"
    if r.condition is not None:
        lam = sp.Symbol("lam", real=True)
        assert bool(r.condition.subs(lam, 0)) and not bool(r.condition.subs(lam, -1))
