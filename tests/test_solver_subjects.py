"""Every solver kind with verdict parts records each part's own function (issue #9, item 1.6).

``solvers.toolkit.subjects`` puts ``functions`` (part -> SymPy function), ``variables`` and ``domains``
in the solution's facts; the checker reads them, so a wrong verdict gets a verified witness or the
engine's reason whatever the solver kind.
"""

from __future__ import annotations

import pytest
import sympy as sp

from convexproof.library import load_exercise
from convexproof.solvers import solve


def _x(name):
    return sp.Symbol(name, real=True)


@pytest.mark.parametrize("ex_id, part, expected", [
    ("exercise1", "verdict", -_x("y") * sp.log(_x("p")) - (1 - _x("y")) * sp.log(1 - _x("p"))),
    ("exercise4", "verdict_cube", _x("x") ** 3),
    ("exercise6", "verdict_saddle", _x("x") ** 2 - _x("y") ** 2),
    ("exercise9", "verdict", None),   # the least-squares loss: checked below by its Hessian 2XᵀX
    ("exercise12", "verdict", sp.sin(_x("x")) + sp.sin(_x("y")) + (_x("x") ** 2 + _x("y") ** 2) / 10),
    ("exercise13", "verdict", (_x("w1") * _x("w2") - 1) ** 2),
    ("exercise19", "verdict_recip", 1 / _x("x")),
])
def test_each_verdict_part_has_its_function(ex_id, part, expected):
    ex = load_exercise(ex_id)
    facts = solve(ex).facts
    f = facts["functions"][part]
    assert set(facts["variables"]) & f.free_symbols
    if expected is not None:
        assert sp.simplify(f - expected) == 0
    else:
        H = sp.hessian(f, facts["variables"])
        assert H == sp.Matrix([[6, 6], [6, 10]])


def test_domain_of_a_verdict_part_is_recorded():
    facts = solve(load_exercise("exercise19")).facts
    x = _x("x")
    assert facts["domains"]["verdict_recip"] == [sp.Lt(0, x)]


@pytest.mark.parametrize("ex_id, part, answer, needle", [
    # a kind without a functions table in its file: the witness comes from the solver's recorded function
    ("exercise13", "verdict", "convex", "curvature"),
    ("exercise9", "verdict", "not convex", "positive semidefinite"),
])
def test_wrong_verdict_gets_computed_feedback_for_kinds_without_a_functions_table(ex_id, part, answer, needle):
    from convexproof import check

    r = check(ex_id, answer, part=part)
    assert r.status == "incorrect"
    assert needle in r.feedback


def test_second_derivative_kinds_are_one_solver():
    from convexproof.solvers import solver_for

    assert solver_for("second-derivative-convexity") is solver_for("second_derivative_test")


_SOLVER_MODULES = ["calculus", "forms", "hessian", "kkt", "nonconvex", "penalised", "quadratic", "regression",
                   "strong", "teach", "toolkit", "univariate", "vector_models", "common"]


@pytest.mark.parametrize("module", _SOLVER_MODULES)
def test_solvers_decide_no_sign_themselves(module):
    """Signs, zero sets, eigenvalues and witnesses are the engine's (exact.certified_sign, onevar, matrices)."""
    import re
    from pathlib import Path

    import convexproof.solvers as pkg

    src = (Path(pkg.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    for pattern in (r"\.is_positive\b", r"\.is_negative\b", r"\.is_nonnegative\b", r"\bsolveset\(",
                    r"\.eigenvals\(", r"\.eigenvects\(", r"def (nonneg_on|convexity_1d|definiteness|jensen_witness)\b"):
        assert not re.search(pattern, src), f"solvers/{module}.py: {pattern}"
