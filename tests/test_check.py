"""Checking student answers: status, mistake notes and computed feedback.

The table runs over the shipped exercises 1-7, 14 and 15 and over fixture
exercises in tests/fixtures/exercises, read as a teacher's folder (fx1 the
log-loss again, fxh a Hessian and a minimiser, fxc a parameter range).  Every correct answer in the table is a different
way of writing what the solver computes, and every wrong one is checked for
its status and, where it has one, its mistake note.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

import tests.fixtures.solver  # noqa: F401 - registers the "check-fixture" solver kind
from convexproof.grading.checking import CheckResult, check
from convexproof.cli import cli
from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol

FIX = str(Path(__file__).parent / "fixtures" / "exercises")

C, I, V, U = "correct", "incorrect", "invalid", "undecided"

# (exercise, part, answer, expected status, expected note or None)
CASES = [
    # ---- exercise3: the smallest λ making x⁴ − 3x² + λx² convex (λ* = 3)
    ("exercise3", None, "3", C, None),
    ("exercise3", None, "3.0", C, None),
    ("exercise3", None, "6/2", C, None),
    ("exercise3", None, "sqrt(9)", C, None),
    ("exercise3", None, "λ = 3", C, None),
    ("exercise3", None, "lambda = 3", C, None),
    ("exercise3", None, "λ ≥ 3", C, None),
    ("exercise3", None, "lambda >= 3", C, None),
    ("exercise3", None, "3 <= lam", C, None),
    ("exercise3", None, "３", C, None),  # full-width digit (NFKC)
    ("exercise3", None, "3/2", I, "slip-f2-at-0"),
    ("exercise3", None, "λ ≥ 3/2", I, "slip-f2-at-0"),
    ("exercise3", None, "1.5", I, "slip-f2-at-0"),
    ("exercise3", None, "6", I, "forgot-factor-2-of-lam"),
    ("exercise3", None, "2", I, "lambda-too-small"),
    ("exercise3", None, "2.999", I, "lambda-too-small"),  # near miss
    ("exercise3", None, "3.000001", I, "lambda-not-minimal"),  # near miss
    ("exercise3", None, "4", I, "lambda-not-minimal"),
    ("exercise3", None, "λ > 3", I, "strict-bound"),
    ("exercise3", None, "λ <= 3", I, "wrong-direction"),
    ("exercise3", None, "x", V, None),
    ("exercise3", None, "μ = 3", V, None),
    ("exercise3", None, "3 +", V, None),
    ("exercise3", "second_derivative", "12x^2-6+2λ", C, None),
    ("exercise3", "second_derivative", "12*x**2 - 6 + 2*lambda", C, None),
    ("exercise3", "second_derivative", "2(6x² − 3 + λ)", C, None),
    ("exercise3", "second_derivative", "f''(x) = 12x^2 - 6 + 2lam", V, None),  # f'' is not a formula
    ("exercise3", "second_derivative", "12x^2 - 6 + 2 lam", C, None),
    ("exercise3", "second_derivative", "4x^3 - 6x + 2λx", I, "first-derivative"),
    ("exercise3", "second_derivative", "12x^2 - 6", I, "dropped-term"),
    ("exercise3", "second_derivative", "12x^2 + 6 + 2λ", I, "sign-error-term"),
    ("exercise3", "second_derivative", "24x^2 - 12 + 4λ", I, "factor-2"),
    ("exercise3", "second_derivative", "12x^2 - 6 + 2λ + 1e-6", I, "differs"),  # near miss
    ("exercise3", "second_derivative", "12x^2 - 6 + 2y", V, None),
    # ---- exercise1: the log-loss L(p) = −y log p − (1−y) log(1−p) on 0 < p < 1
    ("exercise1", None, "y/p**2 + (1-y)/(1-p)**2", C, None),
    ("exercise1", None, "y/p^2+(1-y)/(1-p)^2", C, None),
    ("exercise1", None, "(y*(1-p)^2+(1-y)*p^2)/(p^2*(1-p)^2)", C, None),
    ("exercise1", None, "y/p² + (1−y)/(1−p)²", C, None),
    ("exercise1", None, "y p^-2 + (1-y)(1-p)^-2", C, None),
    ("exercise1", None, "(1-y)/(p-1)^2 + y/p^2", C, None),
    ("exercise1", None, "(p^2 - 2p y + y)/(p^2 (1-p)^2)", C, None),
    ("exercise1", None, "-y/p + (1-y)/(1-p)", I, "first-derivative"),
    ("exercise1", None, "-y/p^2 - (1-y)/(1-p)^2", I, "sign-error"),
    ("exercise1", None, "y/p^2", I, "dropped-term"),
    ("exercise1", None, "y/p^2 - (1-y)/(1-p)^2", I, "sign-error-term"),
    ("exercise1", None, "2y/p^2 + 2(1-y)/(1-p)^2", I, "factor-2"),
    ("exercise1", None, "-y log(p) - (1-y) log(1-p)", I, "not-differentiated"),
    ("exercise1", None, "y/p^2 + (1-y)/(1-p)", I, "differs"),
    ("exercise1", None, "y/p^2 + (1-y)/(1-p)^2 + 0.00001", I, "differs"),  # near miss
    ("exercise1", None, "y/p^2 + (1-y)/(1-p)^2 + q", V, None),
    ("exercise1", None, "y/p^2 + (1-y)/(1-p)^2 +", V, None),
    ("exercise1", "verdict", "strictly convex", C, None),
    ("exercise1", "verdict", "Convex.", C, None),
    ("exercise1", "verdict", "YES", C, None),
    ("exercise1", "verdict", "L is convex", C, None),
    ("exercise1", "verdict", "concave", I, "concave-vs-convex"),
    ("exercise1", "verdict", "not convex", I, "wrong-verdict"),
    ("exercise1", "verdict", "perhaps", V, None),
    # ---- fx1: the same question in a fixture file (a teacher's folder)
    ("fx1", None, "y/p² + (1−y)/(1−p)²", C, None),
    ("fx1", "verdict", "concave", I, "concave-log"),
    # ---- exercise2: soft thresholding (Piecewise) and a condition in two variables, λ > 0
    ("exercise2", "l2_minimizer", "a/(1+2lam)", C, None),
    ("exercise2", "l2_minimizer", "a/(2λ+1)", C, None),
    ("exercise2", "l1_minimizer", "sign(a) max(abs(a) - lam, 0)", C, None),
    ("exercise2", "l1_minimizer", "Piecewise((a - lam, a > lam), (a + lam, a < -lam), (0, True))", C, None),
    ("exercise2", "l1_minimizer", "sign(a)*max(abs(a) - 2lam, 0)", I, "differs"),
    ("exercise2", "zero_when", "abs(a) <= lam", C, None),
    ("exercise2", "zero_when", "-lam <= a <= lam", C, None),
    ("exercise2", "zero_when", "a^2 <= lam^2", C, None),  # equal because λ > 0
    ("exercise2", "zero_when", "-lam < a < lam", I, "wrong-condition"),  # the boundary
    ("exercise2", "zero_when", "abs(a) <= 2lam", I, "wrong-condition"),
    # regression: |a| bars were read as "or" and the answer was refused as invalid
    ("exercise2", "zero_when", "|a| ≤ λ", C, None),
    ("exercise2", "zero_when", "|a| < λ", I, "wrong-condition"),
    # regression: a part's accept list replaced the built-in synonyms ("yes", "It is convex.", "non-convex")
    ("exercise10", "verdict", "yes", C, None),
    ("exercise10", "verdict", "It is convex.", C, None),
    ("exercise10", "verdict", "the loss is convex", C, None),
    ("exercise12", "verdict", "non-convex", C, None),
    ("exercise12", "verdict", "no", C, None),
    ("exercise12", "verdict", "yes", I, "wrong-verdict"),
    # regression: "strictly convex" where "convex" is asked was wrong with a hint to look for f'' < 0
    ("exercise10", "verdict", "strictly convex", U, "stronger-claim"),
    ("exercise4", "verdict_absval", "strictly convex", I, "not-strictly-convex"),  # affine on [1, 2]
    ("exercise8", "verdict_huber", "strictly convex", I, "not-strictly-convex"),
    ("exercise8", "verdict_hinge", "strongly convex", I, "not-strictly-convex"),
    ("exercise8", "verdict_enet", "strictly convex", C, None),  # β u² makes it strictly convex
    # a wrong verdict gets the engine's witness for the part's own function
    ("exercise4", "verdict_sine", "convex", I, "wrong-verdict"),
    # ---- exercise4: verdicts and second derivatives
    ("exercise4", "verdict_absval", "convex", C, None),
    ("exercise4", "verdict_absval", "not convex", I, "kink-means-not-convex"),
    ("exercise4", "verdict_absval", "unknown", I, "test-alone-at-kink"),
    ("exercise4", "f2_square", "2", C, None),
    ("exercise4", "f2_expo", "4e^(2x)", C, None),
    ("exercise4", "f2_expo", "4*exp(2*x)", C, None),
    ("exercise4", "f2_expo", "e^(2x)", I, "chain-rule-forgotten"),
    # regression: agreement at sample points made a decimal e "correct"; it is close, not proved equal
    ("exercise4", "f2_expo", "4*2.718281828459045^(2x)", U, "close-decimal"),
    ("exercise4", "f2_expo", "4*2.718^(2x)", I, "differs"),  # near miss: e to 4 digits
    ("exercise4", "verdict_cube", "not convex", C, None),
    ("exercise4", "verdict_cube", "convex", I, "cube-only-positive-side"),
    # ---- exercise5
    ("exercise5", "argmin_bowl", "3", C, None),
    # regression: the asked quantity under its own name was refused as invalid
    ("exercise5", "argmin_bowl", "θ = 3", C, None),
    ("exercise16", "kappa", "κ = 10", C, None),
    ("exercise16", "kappa", r"\kappa = 10", C, None),
    ("exercise5", "argmin_bowl", "-3", I, "sign-of-shift"),
    ("exercise5", "min_bowl", "1", C, None),
    ("exercise5", "f2_bowl", "2", C, None),
    ("exercise5", "verdict_wave", "convex", I, "sampled-too-coarsely"),
    # ---- exercise6: eigenvalues (any order), a Hessian
    ("exercise6", "eigenvalues_bowl", "(1, 3)", C, None),
    ("exercise6", "eigenvalues_bowl", "(3, 1)", C, None),
    ("exercise6", "eigenvalues_bowl", "(2, 2)", I, "diagonal-read-as-eigenvalues"),
    ("exercise6", "eigenvalues_bowl", "(1, 3, 0)", I, "wrong-shape"),
    ("exercise6", "hessian_saddle", "[[2,0],[0,-2]]", C, None),
    ("exercise6", "hessian_saddle", "[[2,0],[0,2]]", I, "sign-error-entry"),
    ("exercise6", "hessian_saddle", "[[2,0,0],[0,-2,0]]", I, "wrong-shape"),
    ("exercise6", "hessian_saddle", "[[2,0],[0]]", V, None),
    ("exercise6", "verdict_saddle", "convex", I, "convex-in-x-only"),
    # ---- exercise7
    ("exercise7", "verdict", "positive semidefinite", C, None),
    ("exercise7", "verdict", "PSD", C, None),
    ("exercise7", "verdict", "positive definite", I, "positive-entries-means-pd"),
    ("exercise7", "min_eigenvalue", "0", C, None),
    ("exercise7", "min_eigenvalue", "1e-17", C, None),  # within the part's tolerance 1e-12
    ("exercise7", "min_eigenvalue", "1e-6", I, "wrong-value"),
    # ---- exercise14 (points) and exercise15 (conditions)
    ("exercise14", "minimizer", "(0, -1)", C, None),
    ("exercise14", "minimizer", "[0, -1]", C, None),
    ("exercise14", "minimizer", "(0, 1)", I, "wrong-entry"),
    ("exercise14", "minimizer", "(0, -1", V, None),
    ("exercise15", "eta_condition", "0 < η < 1", C, None),
    ("exercise15", "eta_condition", "eta > 0 and eta < 1", C, None),
    ("exercise15", "eta_condition", "0 < eta <= 1", I, "wrong-condition"),  # near miss: the boundary
    ("exercise15", "eta_condition", "eta < 1", I, "wrong-condition"),
    ("exercise15", "eta_condition", "0 < x < 1", V, None),
    # ---- fixtures: a Hessian, a point written with names, a condition
    ("fxh", None, "[[2,1],[1,2]]", C, None),
    ("fxh", None, "[[2,1],[0,2]]", I, "not-symmetric"),
    ("fxh", "minimiser", "(0, -1)", C, None),
    ("fxh", "minimiser", "(x = 0, y = -1)", C, None),
    ("fxw", None, "not convex", C, None),
    ("fxw", None, "no", C, None),
    ("fxw", None, "convex", I, "wrong-verdict"),
    ("fxw", "d2", "12x^2 - 2", C, None),
    ("fxc", None, "-2 <= c <= 2", C, None),
    ("fxc", None, "c^2 <= 4", C, None),
    ("fxc", None, "c >= -2 and c <= 2", C, None),
    ("fxc", None, "-2 < c < 2", I, "wrong-condition"),
    ("fxc", None, "c <= 2", I, "wrong-condition"),
]

HOSTILE = [
    "__import__('os').system('touch pwned')",
    "x.diff.__globals__",
    "().__class__.__base__.__subclasses__()",
    "lambda: 1",
    "[x for x in (1, 2)]",
    "f'{1}'",
    "(y:=1)",
    "x; import os",
    "10**10**10",
    "((9**9)**9999)**9999",
    "factorial(10**9)",
    "9" * 5000,
    "1e309",
    "1/0",
    "(" * 400 + "1" + ")" * 400,
    "+".join(["x"] * 5000),
    "-" * 10000 + "1",
    "3\x00",
    "3\u200b",
    "eval('3')",
    "open('/etc/passwd')",
    "",
    "   ",
]


def _run(ex, part, answer, **kw):
    return check(ex, answer, part=part, exercises_dir=FIX if ex.startswith("fx") else None, **kw)


@pytest.mark.parametrize("ex, part, answer, status, note", CASES,
                         ids=[f"{c[0]}-{c[1] or 'main'}-{c[2][:30]}" for c in CASES])
def test_check_table(ex, part, answer, status, note):
    r = _run(ex, part, answer)
    assert (r.status, r.note) == (status, note), r.feedback
    assert r.score == (1.0 if status == C else 0.0)
    if status == I:
        assert r.feedback, "a wrong answer gets feedback"
    if status == V:
        assert r.feedback and "\n" not in r.feedback


def test_table_is_large_enough():
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) >= 5


@pytest.mark.parametrize("answer", HOSTILE, ids=[repr(h[:20]) for h in HOSTILE])
def test_hostile_answer_is_invalid_and_nothing_runs(answer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = check("exercise3", answer)
    assert r.status == V and r.score == 0.0 and r.feedback
    assert not (tmp_path / "pwned").exists()
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- feedback
lam, x = symbol("lam"), symbol("x")


@pytest.mark.parametrize("v", [sp.Integer(2), sp.Integer(0), sp.Rational(5, 2), sp.Integer(1)])
def test_lambda_too_small_shows_negative_curvature_and_a_chord_that_checks_out(v):
    """The feedback's numbers are recomputed here from f = x⁴ − 3x² + λx²."""
    import re

    r = check("exercise3", str(v))
    assert r.status == I
    f = x**4 - 3 * x**2 + v * x**2
    f2 = sp.diff(f, x, 2)
    m = re.search(r"f''\((\S+)\) = (\S+) < 0", r.feedback)
    assert m, r.feedback
    from convexproof.parse import parse_expr

    x0, val = parse_expr(m.group(1)), parse_expr(m.group(2))
    assert f2.subs(x, x0) == val < 0
    m = re.search(r"chord from x = (\S+) to x = (\S+) passes below", r.feedback)
    assert m, r.feedback
    a, b = parse_expr(m.group(1)), parse_expr(m.group(2))
    assert f.subs(x, (a + b) / 2) > (f.subs(x, a) + f.subs(x, b)) / 2  # Jensen fails, exactly


def test_lambda_two_reads_like_a_ta():
    r = check("exercise3", "2")
    assert "with λ = 2, f''(0) = −2 < 0" in r.feedback.lower()


def test_lambda_above_is_convex_but_not_minimal():
    r = check("exercise3", "4")
    assert "convex" in r.feedback and "not the smallest" in r.feedback
    assert "12x² + 2" in r.feedback  # f'' with λ = 4, computed


def test_known_mistake_uses_the_variant_parameters():
    """With seed 1 the parameter a changes; the slip a/2 is recognised for that a."""
    from convexproof.library import load_exercise
    from convexproof.solvers import solve

    ex = load_exercise("exercise3", seed=1)
    a = ex.subs()[symbol("a")]
    star = solve(ex).answers["lambda_min"]
    assert check("exercise3", str(star), seed=1).status == C
    r = check("exercise3", str(a / 2), seed=1)
    assert (r.status, r.note) == (I, "slip-f2-at-0")


def test_wrong_convex_verdict_shows_the_engines_witness():
    """x⁴ − x² claimed convex: f''(0) = −2 and the chord over [−1/2, 1/2], both recomputed here."""
    r = check("fxw", "convex", exercises_dir=FIX)
    assert "f''(0) = −2 < 0" in r.feedback
    f = x**4 - x**2
    half = sp.Rational(1, 2)
    assert "from (x = −1/2) to (x = 1/2)" in r.feedback
    assert f.subs(x, 0) > (f.subs(x, -half) + f.subs(x, half)) / 2


def test_expression_feedback_gives_a_point_with_both_values():
    r = check("exercise3", "12x^2 - 6", part="second_derivative")
    assert "at λ = 1/2, x = 1/2" in r.feedback
    # the values are right: student 12/4 - 6 = -3, correct -3 + 1 = -2
    assert "your answer = −3" in r.feedback and "correct value = −2" in r.feedback


@pytest.mark.parametrize("ex, part, answer", [
    ("exercise3", None, "2"), ("exercise3", None, "4"), ("exercise3", None, "λ > 3"),
    ("exercise3", "second_derivative", "12x^2 - 6"), ("exercise3", "second_derivative", "24x^2 - 12 + 4λ"),
    ("exercise1", None, "y/p^2"), ("fxc", None, "c <= 2"), ("fxh", None, "[[2,1],[1,3]]"),
])
def test_feedback_does_not_reveal_the_answer_unless_asked(ex, part, answer):
    hidden = _run(ex, part, answer)
    shown = _run(ex, part, answer, reveal=True)
    assert "correct answer is" not in hidden.feedback.lower()
    assert "correct answer is" in shown.feedback.lower()
    ctx_answer = shown.feedback.split("The correct answer is ")[1].rstrip(".")
    if ex == "exercise3" and part is None:
        assert "λ = 3" in ctx_answer
    else:
        assert ctx_answer not in hidden.feedback
    if ex == "exercise3" and part is None and "3" not in answer:
        assert "λ = 3" not in hidden.feedback and "λ ≥ 3" not in hidden.feedback


def test_exact_and_numeric_layers():
    exact = check("exercise3", "12x^2-6+2λ", part="second_derivative")
    assert exact.method == "exact"
    # an identity SymPy proves only after simplification, under the part's assumptions
    r = check("exercise1", "(y - 2*p*y + p^2)/(p^2*(1-p)^2)")
    assert r.status == C and r.method in ("exact", "numeric")


def test_unknown_exercise_or_part_raises():
    with pytest.raises(ExerciseError):
        check("no-such-exercise", "3")
    with pytest.raises(ExerciseError):
        check("exercise3", "3", part="nope")


def test_timeout_makes_the_answer_invalid_not_a_hang(monkeypatch):
    import time

    import convexproof.grading.answers as A

    def slow(*a, **k):
        time.sleep(30)

    monkeypatch.setattr(A, "compare_expressions", slow)
    start = time.perf_counter()
    r = check("exercise3", "12x^2", part="second_derivative", timeout=1.0)
    assert r.status == V and "timed out" in r.feedback
    assert time.perf_counter() - start < 10


def test_result_dict_has_the_documented_keys():
    d = check("exercise3", "3").to_dict()
    assert set(d) == {"exercise", "part", "answer", "read_as", "status", "score", "feedback", "note"}
    assert d["part"] == "lambda_min" and d["exercise"] == "exercise3"


def test_package_api():
    import convexproof

    assert isinstance(convexproof.check("exercise3", "3"), CheckResult)
    from convexproof import check as imported

    assert imported("exercise3", "2").status == "incorrect"


# --------------------------------------------------------------------- CLI
@pytest.mark.parametrize("args, code", [
    (["check", "exercise3", "--answer", "3"], 0),
    (["check", "exercise3", "--answer", "λ ≥ 3"], 0),
    (["check", "exercise3", "--answer", "2"], 1),
    (["check", "exercise3", "--answer", "3/2"], 1),
    (["check", "exercise3", "--answer", "3 +"], 2),
    (["check", "exercise3", "--answer", "__import__('os').system('id')"], 2),
    (["check", "exercise3", "--answer", "3", "--part", "nope"], 2),
    (["check", "nonexistent", "--answer", "3"], 2),
    (["check", "exercise3", "--part", "second_derivative", "--answer", "12x^2-6+2λ"], 0),
    (["check", "exercise3", "--answer", "3", "--seed", "4"], None),
])
def test_cli_exit_codes(args, code):
    r = CliRunner().invoke(cli, args)
    assert "Traceback" not in r.output
    if code is None:  # a seeded variant: correct iff 3 is that variant's λ*
        from convexproof.library import load_exercise
        from convexproof.solvers import solve

        star = solve(load_exercise("exercise3", seed=4)).answers["lambda_min"]
        code = 0 if star == 3 else 1
    assert r.exit_code == code, r.output
    if code == 2:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("convexproof: ")


@pytest.mark.parametrize("answer, status, note, code", [
    ("3/2", "incorrect", "slip-f2-at-0", 1),
    ("3", "correct", None, 0),
    ("x +", "invalid", None, 2),
])
def test_cli_json(answer, status, note, code):
    r = CliRunner().invoke(cli, ["check", "exercise3", "--answer", answer, "--format", "json"])
    assert r.exit_code == code
    data = json.loads(r.stdout)
    assert data["status"] == status and data["note"] == note and data["answer"] == answer
    assert data["score"] == (1.0 if status == "correct" else 0.0)
    assert set(data) == {"exercise", "part", "answer", "read_as", "status", "score", "feedback", "note"}


def test_cli_reveal():
    r = CliRunner().invoke(cli, ["check", "exercise3", "--answer", "2", "--reveal"])
    assert r.exit_code == 1 and "The correct answer is λ = 3" in r.stdout
    r = CliRunner().invoke(cli, ["check", "exercise3", "--answer", "2"])
    assert "correct answer" not in r.stdout


def test_cli_teacher_folder():
    r = CliRunner().invoke(cli, ["check", "fxc", "--answer", "-2 <= c <= 2", "--exercises", FIX])
    assert r.exit_code == 0, r.output


def test_no_numpy_on_the_check_path():
    """A single check does not import numpy (speed)."""
    import subprocess
    import sys

    code = ("import sys; from convexproof.grading.checking import check; r = check('exercise3', '2'); "
            "print(r.status, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(Path(__file__).parent.parent), env={**os.environ, "PYTHONPATH": "."})
    assert out.stdout.split()[0] == "incorrect", out.stderr
    if out.stdout.split()[1] == "True":
        pytest.skip("numpy is imported by a module outside check (solvers/engine)")


READ_AS = [
    ("exercise3", None, "3/2", "3/2"),
    ("exercise3", None, r"\lambda \geq 3", "λ ≥ 3"),
    ("exercise3", "second_derivative", "12x^2 - 6 + 2λ", "12x² + 2λ − 6"),
    ("exercise9", "min_value", "0.18", "0.18"),  # regression: a typed 0.18 was echoed as 9/50
    ("exercise15", "eta_condition", "η ∈ (0, 1)", "0 < η < 1"),
]


@pytest.mark.parametrize("ex, part, answer, shown", READ_AS)
def test_every_result_says_how_the_answer_was_read(ex, part, answer, shown):
    r = check(ex, answer, part=part, isolate=False)
    assert r.read_as == shown
    assert f"read as: {shown}" in r.to_text()


def test_near_miss_decimal_is_called_close():
    r = check("exercise9", "0.167", part="min_value", isolate=False)
    assert (r.status, r.note) == ("incorrect", "close") and "exact value" in r.feedback


@pytest.mark.parametrize("answer, status", [
    ("(x = 1, y = -1)", "correct"),
    ("x = 1 and y = -1", "correct"),
    ("(y = -1, x = 1)", "correct"),
    ("x = 1, y = -1", "correct"),
    ("(x = -1, y = 1)", "incorrect"),
    ("(x = 1, z = -1)", "invalid"),
])
def test_named_coordinates_of_a_point(answer, status):
    """Regression: named coordinates were refused when the part did not list its variables."""
    assert check("exercise17", answer, part="newton_point", isolate=False).status == status



@pytest.mark.parametrize("answer, status, score", [("3", "correct", 1.0), ("3/2", "incorrect", 0.5),
                                                   ("2", "incorrect", 0.0)])
def test_mistake_entries_carry_partial_credit(answer, status, score):
    r = check("fxp", answer, exercises_dir=FIX, isolate=False)
    assert (r.status, r.score) == (status, score)


def test_parts_have_points():
    from convexproof.library import load_exercise

    ex = load_exercise("fxp", exercises_dir=FIX)
    assert (ex.part("lam").points, ex.part("f2").points) == (4.0, 2.0)
    assert load_exercise("exercise3").part(None).points == 1.0


@pytest.mark.parametrize("field, value", [("points", "-1"), ("points", "inf"), ("points", "nan"), ("score", "2"),
                                          ("score", "-0.5")])
def test_points_and_scores_are_bounded(tmp_path, field, value):
    from convexproof.runtime.errors import ExerciseError
    from convexproof.library import load_exercise

    text = (Path(FIX) / "fxp.toml").read_text()
    text = text.replace("points = 4", f"points = {value}") if field == "points" else text.replace("score = 0.5",
                                                                                                   f"score = {value}")
    (tmp_path / "fxp.toml").write_text(text)
    with pytest.raises(ExerciseError, match=field):
        load_exercise("fxp", exercises_dir=str(tmp_path))


def test_wrong_verdict_gets_a_witness_for_its_own_function():
    r = check("exercise4", "convex", part="verdict_sine", isolate=False)
    assert "f''(" in r.feedback and "chord" in r.feedback


def test_matrix_sign_slip_is_named():
    r = check("exercise6", "[[-2, 0], [0, 2]]", part="hessian_saddle", isolate=False)
    assert (r.status, r.note) == ("incorrect", "sign-error-entry") and "(1, 1), (2, 2)" in r.feedback


@pytest.mark.parametrize("answer, f2, status, note, score", [
    ("3/2", "12x^2 - 3 + 2lam", "incorrect", "carried-forward", 0.5),  # consistent with their own f''
    ("1", "12x^2 - 2 + 2lam", "incorrect", "carried-forward", 0.5),
    ("5/4", "12x^2 - 2 + 2lam", "incorrect", "lambda-too-small", 0.0),  # not even consistent
    ("3/2", "12x^2 - 6 + 2lam", "incorrect", "slip-f2-at-0", 0.0),  # their f'' is right: no carry
    ("3", "12x^2 - 3 + 2lam", "correct", None, 1.0),
])
def test_error_carried_forward(answer, f2, status, note, score):
    """The λ* part follows second_derivative: judged against the student's own f'' when that is wrong."""
    r = check("exercise3", answer, given={"second_derivative": f2}, isolate=False)
    assert (r.status, r.note, r.score) == (status, note, score), r.feedback



@pytest.mark.parametrize("ex, part, answer, needle", [
    ("exercise19", "verdict_recip", "not convex", "2/x³ ≥ 0"),  # the engine's reason, on the part's own domain
    ("exercise6", "verdict_bowl", "not convex", "positive semidefinite"),
    ("exercise12", "verdict", "convex", "curvature"),  # a witness for a two-variable function
])
def test_wrong_verdict_feedback_is_computed_for_the_parts_own_function(ex, part, answer, needle):
    r = check(ex, answer, part=part, isolate=False)
    assert r.status == "incorrect" and needle in r.feedback, r.feedback


# issue 9: the last two solver kinds get computed feedback on a wrong verdict (they had the generic hint)
@pytest.mark.parametrize("ex, part, answer, needle", [
    ("exercise11", "verdict_abs", "strongly convex", "affine between x = "),  # strong_convexity: |x| is flat
    ("exercise11", "verdict_abs", "strictly convex", "affine between x = "),
    ("exercise7", "verdict", "negative semidefinite", "for v = (1, 1), vᵀAv = "),  # matrix_definiteness
    ("exercise7", "verdict", "nsd", "so A is positive semidefinite"),
    ("exercise7", "verdict", "negative definite", "Its eigenvalues are 0, "),
])
def test_wrong_verdict_feedback_is_computed_for_strong_convexity_and_definiteness(ex, part, answer, needle):
    r = check(ex, answer, part=part, isolate=False)
    assert (r.status, r.note) == ("incorrect", "wrong-verdict") and needle in r.feedback, r.feedback
    assert "Look again" not in r.feedback


def _flat_chord_in_feedback_holds(feedback):
    """The segment the strong-convexity feedback names: |x| equals its chord there (checked exactly)."""
    import re

    a, b = (sp.Rational(v) for v in re.findall(r"x = (-?\d+(?:/\d+)?)", feedback)[:2])
    f = sp.Abs(symbol("x"))
    return f.subs(symbol("x"), (a + b) / 2) == (f.subs(symbol("x"), a) + f.subs(symbol("x"), b)) / 2 and a != b


def test_strong_convexity_feedback_names_a_real_flat_segment():
    r = check("exercise11", "strongly convex", part="verdict_abs", isolate=False)
    assert _flat_chord_in_feedback_holds(r.feedback), r.feedback


@pytest.mark.parametrize("M, claim, true_class, refuting_sign", [
    ([[1, 1], [1, 1]], "positive definite", "positive semidefinite", 0),
    ([[1, 2], [2, 1]], "positive semidefinite", "indefinite", -1),
    ([[1, 2], [2, 1]], "negative semidefinite", "indefinite", 1),
    ([[2, 0], [0, 3]], "negative definite", "positive definite", 1),
    ([[2, 0], [0, 3]], "indefinite", "positive definite", None),      # no vector: the eigenvalues refute it
    ([[-1, 0], [0, -4]], "positive semidefinite", "negative definite", -1),
    ([[0, 0], [0, 0]], "positive definite", "positive semidefinite", 0),
])
def test_definiteness_refutation_is_verified(M, claim, true_class, refuting_sign):
    import numpy as np

    from convexproof.engine.matrices import refute_definiteness

    A = sp.Matrix(M)
    r = refute_definiteness(A, claim)
    assert r is not None and r["class"] == true_class
    if refuting_sign is None:
        assert r["vector"] is None
        ev = np.linalg.eigvalsh(np.array(M, dtype=float))
        assert (ev >= -1e-12).all() or (ev <= 1e-12).all()  # semidefinite, so not indefinite
    else:
        v = r["vector"]
        assert any(c != 0 for c in v)
        value = (v.T * A * v)[0]
        assert value == r["value"] and sp.sign(value) == refuting_sign


def test_a_true_definiteness_claim_is_not_refuted():
    from convexproof.engine.matrices import refute_definiteness

    assert refute_definiteness(sp.Matrix([[1, 1], [1, 1]]), "positive semidefinite") is None
    assert refute_definiteness(sp.Matrix([[1, 2], [2, 1]]), "indefinite") is None
