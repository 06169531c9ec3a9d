"""Issue #9 item 1: the checker's mathematics is the engine's.

Feedback about λ takes its witness from :func:`convexproof.engine.witness.find_witness`
and its f'' ≥ 0 from :func:`convexproof.engine.signs.prove_nonneg`; every sign in
grading goes through :func:`convexproof.engine.exact.certified_sign`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

from convexproof.engine.signs import prove_nonneg
from convexproof.engine.witness import find_witness, simple_point
from convexproof.grading.answers import Domain, same_number
from convexproof.grading.checking import check
from convexproof.parse import parse_condition, parse_expr, symbol

x, lam = symbol("x"), symbol("lam")
F = x**4 - 3 * x**2 + lam * x**2  # exercise3 (seed 0)
GRADING = Path(__file__).parent.parent / "convexproof" / "grading"


@pytest.mark.parametrize("v", ["2", "0", "5/2", "2.999"])
def test_lambda_too_small_states_the_engines_witness(v):
    r = check("exercise3", v, isolate=False)
    assert r.note == "lambda-too-small"
    w = find_witness(F.subs(lam, parse_expr(v)), [x])
    assert w is not None and w["direction"] == {x: 1}
    m = re.search(r"f''\((\S+)\) = (\S+) < 0", r.feedback)
    assert m and (parse_expr(m.group(1)), parse_expr(m.group(2))) == (w["point"][x], w["curvature"]), r.feedback
    m = re.search(r"chord from x = (\S+) to x = (\S+) passes below", r.feedback)
    assert m and (parse_expr(m.group(1)), parse_expr(m.group(2))) == (w["chord"]["a"][x], w["chord"]["b"][x])


@pytest.mark.parametrize("v, f2", [("4", 12 * x**2 + 2), ("7/2", 12 * x**2 + 1)])
def test_lambda_not_minimal_states_what_the_engine_proves(v, f2):
    r = check("exercise3", v, isolate=False)
    assert r.note == "lambda-not-minimal" and "≥ 0 for every x" in r.feedback
    assert prove_nonneg(f2, {}, variables=[x]).status == "proved"


def test_grading_decides_no_sign_by_itself():
    """Signs come from certified_sign (answers._sign), never from SymPy's assumptions or root counts here."""
    forbidden = re.compile(r"\.is_(?:negative|positive|nonnegative|nonpositive)\b|solveset\(|real_roots\(|"
                           r"count_roots\(|\bsp\.N\(.*[<>]")
    found = [f"{p.name}:{i}" for p in sorted(GRADING.glob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), 1) if forbidden.search(line)]
    assert not found, found


@pytest.mark.parametrize("conds, point, inside", [
    (["x > sqrt(2)"], sp.Rational(141421356237, 10**11), False),  # just below √2, decided in certified precision
    (["x > sqrt(2)"], sp.Rational(3, 2), True),
    (["x >= 0", "x > 0"], 0, False),  # the strict bound used to be dropped when the values were equal
    (["x > 0", "x >= 0"], 0, False),
    (["x >= 1", "x >= 2"], sp.Rational(3, 2), False),
    (["x != 1"], 1, False),
    (["x != 1"], 2, True),
    (["x^2 < 2"], sp.Rational(141421356237, 10**11), True),
    (["x^2 < 2"], sp.Rational(141421356238, 10**11), False),
])
def test_domain_membership_is_certified(conds, point, inside):
    assert Domain([parse_condition(c) for c in conds]).contains({x: sp.sympify(point)}) is inside


@pytest.mark.parametrize("a, b, rtol, tolerance, same", [
    (sp.sqrt(2), sp.Rational(1414213562373095, 10**15), 1e-12, True, True),
    (sp.sqrt(2), sp.Rational(1414213562373095, 10**15), 1e-20, True, False),
    (sp.Integer(3), 3 + sp.Rational(1, 10**40), 1e-50, True, False),
    (sp.Integer(1), 1 + sp.Rational(1, 10**20), 1e-15, False, False),
    (sp.pi, sp.pi, 0, False, True),
])
def test_same_number_decides_the_exact_difference(a, b, rtol, tolerance, same):
    assert same_number(a, b, rtol, tolerance=tolerance) is same


@pytest.mark.parametrize("g, box, signs, point", [
    (x**2 - 1, {}, (-1,), {x: sp.Rational(1, 2)}),
    (x**2 - 1, {x: sp.Interval(2, 3)}, (-1,), None),
    (x**2 - 1, {}, (0,), {x: 1}),
    (x**2 + 1, {}, (-1, 0), None),
])
def test_engine_simple_point(g, box, signs, point):
    assert simple_point(g, box, signs) == point


@pytest.mark.parametrize("mine, correct, paired", [
    ([3, 1], [1, 3], [1, 3]),
    ([2, 3], [2, 2], [2, 3]),  # one 2 matched, the 3 faces the other 2 (and is wrong there)
    ([sp.sqrt(2), 1 - sp.sqrt(2)], [1 - sp.sqrt(2), sp.sqrt(2)], [1 - sp.sqrt(2), sp.sqrt(2)]),
    ([sp.Integer(10)**40 + 1, sp.Integer(10)**40], [sp.Integer(10)**40, sp.Integer(10)**40 + 1],
     [sp.Integer(10)**40, sp.Integer(10)**40 + 1]),  # equal as floats: pairing by float order used to be blind to it
])
def test_eigenvalues_in_any_order_are_paired_by_proved_equality(mine, correct, paired):
    from convexproof.grading.checkers import _paired

    assert _paired([sp.sympify(v) for v in mine], [sp.sympify(v) for v in correct]) == paired


FLAT_OFF_THE_DOMAIN = '''id = "fxflat"
title = "Flat off the domain"
statement = "Is max(x, 1)^2 convex on x > 0?"

[solver]
kind = "second_derivative_test"
var = "x"
functions = { flat = "Max(x, 1)**2" }
domains = { flat = "x > 0" }

[[parts]]
name = "verdict_flat"
type = "verdict"
default = true
'''


def test_not_strictly_convex_is_never_shown_by_a_flat_piece_outside_the_domain(tmp_path):
    """max(x, 1)² on x > 0: the engine's flat chord on [−2, −1] lies outside the domain (it used to be the feedback)."""
    (tmp_path / "fxflat.toml").write_text(FLAT_OFF_THE_DOMAIN)
    r = check("fxflat", "strictly convex", exercises_dir=str(tmp_path), isolate=False)
    assert "−2" not in r.feedback and "-2" not in r.feedback
    assert (r.status, r.note) == ("undecided", "stronger-claim")
    assert check("fxflat", "convex", exercises_dir=str(tmp_path), isolate=False).status == "correct"


@pytest.mark.parametrize("answer", ["(2) + 10^-35*exp(x^2)", "(2) + 10^-51*exp(x^2)"])
def test_constant_factor_is_named_only_when_proved(answer):
    """A ratio that looks constant at three points to 12 digits used to be called 'off by a constant factor'."""
    r = check("exercise4", answer, part="f2_square", isolate=False)
    assert (r.status, r.note) == ("incorrect", "differs"), r.feedback
    assert "inf" not in r.feedback  # a value beyond a double is shown with SymPy's digits, not as inf
