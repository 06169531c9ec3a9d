"""Issue #10 (order and speed): the composition rules come before the symbolic Hessian.

Regression: log-sum-exp of 4 variables ran its 10 s limit out in the Hessian
(the composition rules decide it at once); the average of 3 logistic terms
plus ridge took 17 s.  Strictness is still shown where a cheap Hessian shows it.
"""

from __future__ import annotations

import pytest

from convexproof.engine import prove

CASES = [
    ("log(exp(x) + exp(y) + exp(z) + exp(w))", {"convex"}),
    ("log(exp(x) + exp(y) + exp(z) + exp(w) + exp(v))", {"convex"}),
    ("(log(1 + exp(-x - 2*y)) + log(1 + exp(x - y)) + log(1 + exp(2*x + y)))/3 + x**2 + y**2", {"strongly convex"}),
    ("exp(x) + exp(y)", {"strictly convex"}),
    ("x**2 + y**2 + x*y", {"strongly convex"}),
    ("log(1 + exp(x + y + z)) + x**2 + y**2 + z**2", {"strongly convex"}),
    ("abs(x - y) + max(x, y, z)", {"convex"}),
]


@pytest.mark.parametrize("expr, verdicts", CASES)
def test_cheap_certificates_first(expr, verdicts):
    r = prove(expr, timeout=10)
    assert not r.timed_out and r.verdict in verdicts, (r.verdict, r.method)
