"""The exercise library: every exercise solves in md, latex and json, with engine-computed answers."""

from __future__ import annotations

import json
import re

from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from convexproof.cli import cli
from convexproof.library import list_exercises, load_exercise
from convexproof.parse import parse_any, symbol
from convexproof.solvers import solve
from convexproof.engine.exact import is_negative
from convexproof.engine.matrices import definiteness
from convexproof.engine.onevar import convexity_1d

LIBRARY = [f"exercise{n}" for n in range(3, 20)]
RAW_SYMPY = ("Eq(", "Derivative(", "Piecewise(", "Matrix(", "Max(", "Interval", "ImmutableMatrix", "sqrt(", "exp(-")


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_list_json_has_at_least_18_exercises():
    res = run("list", "--format", "json")
    assert res.exit_code == 0, res.output
    items = json.loads(res.output)
    ids = [i["id"] for i in items]
    assert len(ids) >= 18
    assert set(LIBRARY) <= set(ids)
    assert all(i["title"] for i in items)


@pytest.mark.parametrize("ex_id", [e.id for e in list_exercises()])
def test_every_exercise_solves_in_every_format(ex_id):
    md = run("solve", ex_id)
    assert md.exit_code == 0, md.output
    for raw in RAW_SYMPY:
        assert raw not in md.output, f"raw SymPy {raw!r} in the Markdown of {ex_id}"
    for span in re.findall(r"`([^`]*)`", md.output):  # the typeset mathematics
        assert not re.search(r"\blam\b|\*\*|\bpi\b", span), span
    tex = run("solve", ex_id, "--format", "latex")
    assert tex.exit_code == 0, tex.output
    assert tex.output.count(r"\begin{document}") == 1
    assert all(ord(c) < 128 for c in tex.output), "non-ASCII in LaTeX output"
    js = run("solve", ex_id, "--format", "json")
    assert js.exit_code == 0, js.output
    data = json.loads(js.output)
    ex = load_exercise(ex_id)
    assert set(data["answers"]) == set(ex.parts)


def _eq(value, expected_text):
    if isinstance(value, str):
        return value == expected_text
    exp = parse_any(expected_text)
    if isinstance(value, sp.MatrixBase) or isinstance(exp, sp.MatrixBase):
        return sp.Matrix(value) == sp.Matrix(exp)
    if isinstance(value, sp.Tuple):
        return len(value) == len(exp) and all(sp.simplify(a - b) == 0 for a, b in zip(value, exp))
    if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr):
        return value == exp or sp.simplify(value) == sp.simplify(exp)
    diff = sp.simplify((value - exp).rewrite(sp.exp))
    if diff == 0:
        return True
    syms = sorted(diff.free_symbols, key=str)
    pts = [sp.Rational(k, 7) for k in (1, 3, 5, 11)]
    return all(abs(sp.N(diff.subs({v: p for v in syms}), 30)) < 1e-25 for p in pts)


# (exercise, seed, part, expected) -- the mathematics of the seed pages, checked on the engine's answers
CASES = [
    ("exercise4", None, "verdict_absval", "convex"),
    ("exercise4", None, "verdict_cube", "not convex"),
    ("exercise4", None, "verdict_sine", "not convex"),
    ("exercise4", None, "f2_square", "2"),
    ("exercise4", None, "f2_expo", "4*exp(2*x)"),
    ("exercise5", None, "argmin_bowl", "3"),
    ("exercise5", None, "min_bowl", "1"),
    ("exercise5", None, "verdict_wave", "not convex"),
    ("exercise6", None, "eigenvalues_bowl", "(1, 3)"),
    ("exercise6", None, "hessian_saddle", "[[2, 0], [0, -2]]"),
    ("exercise6", None, "verdict_saddle", "not convex"),
    ("exercise7", None, "verdict", "positive semidefinite"),
    ("exercise7", None, "min_eigenvalue", "0"),
    ("exercise8", None, "verdict_huber", "convex"),
    ("exercise8", None, "verdict_hinge", "convex"),
    ("exercise8", None, "f2_logistic", "sigmoid(u)*(1 - sigmoid(u))"),
    ("exercise9", None, "hessian", "[[6, 6], [6, 10]]"),
    ("exercise9", None, "minimizer", "(5/6, 3/2)"),
    ("exercise10", None, "hessian_at_zero", "[[3/2, 1/2], [1/2, 3/4]]"),
    ("exercise10", None, "f2_sample", "sigmoid(z)*(1 - sigmoid(z))"),
    ("exercise11", None, "modulus", "1"),
    ("exercise11", None, "shift", "2"),
    ("exercise11", None, "eigenvalues_regularized", "(1, 5)"),
    ("exercise12", None, "lambda_min", "2/5"),
    ("exercise12", None, "verdict", "not convex"),
    ("exercise13", None, "hessian_origin", "[[0, -2], [-2, 0]]"),
    ("exercise13", None, "midpoint_value", "1"),
    ("exercise14", None, "minimizer", "(0, -1)"),
    ("exercise14", None, "min_value", "-1"),
    ("exercise14", None, "contraction", "9/10"),
    ("exercise15", None, "eta_max", "1"),
    ("exercise15", None, "eta_condition", "0 < eta < 1"),
    ("exercise16", None, "kappa", "10"),
    ("exercise16", None, "rate_1_over_L", "9/10"),
    ("exercise16", None, "best_step", "2/11"),
    ("exercise16", None, "best_rate", "9/11"),
    ("exercise17", None, "newton_point", "(1, -1)"),
    ("exercise18", None, "minimizer", "(1/2, 1/2)"),
    ("exercise18", None, "multiplier", "1"),
    ("exercise18", None, "min_value", "1/2"),
    ("exercise19", None, "verdict_root", "not convex"),
    ("exercise19", None, "f2_negentropy", "1/x"),
]


@pytest.mark.parametrize("ex_id,seed,part,expected", CASES)
def test_engine_answers(ex_id, seed, part, expected):
    sol = solve(load_exercise(ex_id, seed=seed))
    assert _eq(sol.answers[part], expected), (sol.answers[part], expected)


# seeded variants follow their parameters (the answers are formulas of the parameters)
VARIANT_RULES = [
    ("exercise12", "lambda_min", lambda v: sp.Rational(1, 2) - v["c"]),
    ("exercise15", "eta_max", lambda v: 2 / v["a"]),
    ("exercise16", "best_step", lambda v: sp.Rational(2) / (v["kappa"] + 1)),
    ("exercise11", "shift", lambda v: 2 * v["lam"]),
    ("exercise13", "min_eigenvalue", lambda v: -2 * v["t"]),
    ("exercise18", "multiplier", lambda v: 2 * v["k"] * v["b"] / (1 + v["k"])),
    ("exercise5", "argmin_bowl", lambda v: v["c"]),
]


@pytest.mark.parametrize("ex_id,part,rule", VARIANT_RULES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_variants_follow_parameters(ex_id, part, rule, seed):
    ex = load_exercise(ex_id, seed=seed)
    vals = {k: sp.Rational(v.numerator, v.denominator) for k, v in ex.values.items()}
    assert sp.simplify(solve(ex).answers[part] - rule(vals)) == 0


def test_exercise3_seeds_give_three_lambdas_and_check_accepts_each():
    from convexproof.grading.checking import check

    lams = {}
    for seed in range(1, 6):
        res = run("solve", "exercise3", "--seed", str(seed), "--format", "json")
        assert res.exit_code == 0, res.output
        lams[seed] = json.loads(res.output)["answers"]["lambda_min"]
    assert len(set(lams.values())) >= 3, lams
    for seed, lam in lams.items():
        assert check("exercise3", lam, seed=seed).status == "correct"


# the one-variable decision procedure behind the second-derivative exercises
x = symbol("x")
ONE_VAR = [
    (x ** 2, sp.S.Reals, True), (sp.exp(x), sp.S.Reals, True), (x ** 3, sp.S.Reals, False),
    (sp.Abs(x), sp.S.Reals, True), (-sp.Abs(x), sp.S.Reals, False), (sp.sin(x), sp.S.Reals, False),
    (sp.Max(0, 1 - x), sp.S.Reals, True), (sp.Abs(x) + x ** 2, sp.S.Reals, True),
    (sp.Abs(x) - x ** 2 / 2, sp.S.Reals, False), (x ** 4 - 3 * x ** 2, sp.S.Reals, False),
    (sp.sqrt(x), sp.Interval.open(0, sp.oo), False), (-sp.log(x), sp.Interval.open(0, sp.oo), True),
    (1 / x, sp.Interval.open(0, sp.oo), True), (sp.Abs(x - 1) + sp.Abs(x + 1), sp.S.Reals, True),
    (sp.Piecewise((x ** 2 / 2, sp.Abs(x) <= 1), (sp.Abs(x) - sp.Rational(1, 2), True)), sp.S.Reals, True),
]


@pytest.mark.parametrize("f,dom,convex", ONE_VAR)
def test_convexity_1d_is_sound(f, dom, convex):
    v = convexity_1d(f, x, dom)
    assert v.convex is convex
    if convex is False:
        if v.witness is not None:  # the curvature witness is re-checked here, independently
            assert is_negative(sp.diff(f, x, 2).subs(x, v.witness)) or v.pieces
        assert v.chord is not None or v.witness is not None
        if v.chord:
            a, b, fa, fb, fc, gap = v.chord
            mid = (a[0] + b[0]) / 2
            assert sp.N(f.subs(x, mid) - (f.subs(x, a[0]) + f.subs(x, b[0])) / 2, 50) > 0


@pytest.mark.parametrize("matrix,cls", [
    ("[[1, 1], [1, 1]]", "positive semidefinite"), ("[[2, 1], [1, 2]]", "positive definite"),
    ("[[1, 2], [2, 1]]", "indefinite"), ("[[0, 0], [0, 0]]", "positive semidefinite"),
])
def test_definiteness_from_exact_eigenvalues(matrix, cls):
    assert definiteness(parse_any(matrix))["class"] == cls


@pytest.mark.parametrize("field,text,message", [
    ("functions", 'functions = { cube = "x**3" }\nplot = { cube = "[2, 1]" }', "solver.plot.cube"),
    ("functions", 'plot = { cube = "[1, 2]" }', "solver.functions"),
    ("functions", 'functions = { cube = "x**3 + q" }', "solver.functions.cube"),
])
def test_malformed_exercise_names_file_and_field(tmp_path, field, text, message):
    (tmp_path / "exercise99.toml").write_text(
        'id = "exercise99"\ntitle = "t"\nstatement = "s"\n[solver]\nkind = "second_derivative_test"\n'
        f'var = "x"\n{text}\n[[parts]]\nname = "verdict_cube"\ntype = "verdict"\n', encoding="utf-8")
    res = run("solve", "exercise99", "--exercises", str(tmp_path))
    assert res.exit_code == 2
    assert "exercise99.toml" in res.output and message in res.output
    assert "Traceback" not in res.output


def test_part_the_solver_does_not_compute_is_reported(tmp_path):
    (tmp_path / "exercise98.toml").write_text(
        'id = "exercise98"\ntitle = "t"\nstatement = "s"\n[solver]\nkind = "quadratic"\nvars = ["x"]\n'
        'f = "x**2"\n[[parts]]\nname = "nonsense"\ntype = "number"\n', encoding="utf-8")
    res = run("solve", "exercise98", "--exercises", str(tmp_path))
    assert res.exit_code == 2
    assert "exercise98.toml" in res.output and "nonsense" in res.output


@pytest.mark.parametrize("extra,field", [
    ('statement = "Compute {id}."', "statement"),
    ('statement = "s"\nhints = ["ok", "see {nowhere}"]', "hints[1]"),
])
def test_unknown_prose_reference_names_the_field(tmp_path, extra, field):
    """Regression: '{id}' in prose failed at render time with no field named."""
    (tmp_path / "exercise97.toml").write_text(
        f'id = "exercise97"\ntitle = "t"\n{extra}\n[solver]\nkind = "quadratic"\nvars = ["x"]\n'
        'f = "x**2"\n[[parts]]\nname = "argmin"\ntype = "point"\n', encoding="utf-8")
    res = run("show", "exercise97", "--exercises", str(tmp_path))
    assert res.exit_code == 2
    assert "exercise97.toml" in res.output and f"field '{field}'" in res.output and "refers to nothing" in res.output


@pytest.mark.parametrize("matrix,cls", [
    ("[[-2, 0], [0, -1]]", "negative definite"),  # regression: was reported as negative semidefinite
    ("[[-1, 0], [0, 0]]", "negative semidefinite"),
    ("[[2, 1], [1, 3]]", "positive definite"),  # irrational eigenvalues (5 ± √5)/2, kept exact
])
def test_definiteness_classes(matrix, cls):
    d = definiteness(parse_any(matrix))
    assert d["class"] == cls
    assert sp.simplify(parse_any(matrix).det() - sp.prod(d["eigenvalues"])) == 0  # exact eigenvalues


@pytest.mark.parametrize("old, new", [
    ('name = "lam"\ntype = "number"', 'name = "lam"\ntype = "number"\naccept = ["yes"]'),
    ('name = "f2"\ntype = "expression"', 'name = "f2"\ntype = "expression"\nreject = ["no"]'),
    ('name = "lam"\ntype = "number"', 'name = "lam"\ntype = "point"'),  # keeps accept_condition = true
])
def test_part_options_without_effect_are_refused(tmp_path, old, new):
    """Regression: options that a part type ignores were accepted silently."""
    import tests.fixtures.solver  # noqa: F401 - registers the "check-fixture" solver kind
    from convexproof.runtime.errors import ExerciseError
    from convexproof.library import load_exercise

    fix = Path(__file__).parent / "fixtures" / "exercises" / "fxp.toml"
    text = fix.read_text()
    assert old in text
    (tmp_path / "fxp.toml").write_text(text.replace(old, new))
    with pytest.raises(ExerciseError, match="has no effect"):
        load_exercise("fxp", exercises_dir=str(tmp_path))
