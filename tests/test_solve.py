"""Solving exercises 1-3: the mathematics in the answers, steps and documents (md, latex, json)."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import sympy as sp

from convexproof.render.documents import figure_context, solution_document, statement_document
from convexproof.library import load_exercise
from convexproof.parse import parse_any, symbol
from convexproof.solvers import solve
from convexproof.steps import walk

x, lam, p, y, a, w = (symbol(n) for n in ("x", "lam", "p", "y", "a", "w"))


def _steps(solution):
    return [s for top in solution.steps for s in walk(top)]


def _solve(ex_id, seed=None):
    ex = load_exercise(ex_id, seed=seed)
    return ex, solve(ex)


# ------------------------------------------------------------------ answers
@pytest.mark.parametrize("ex_id, part, expected", [
    ("exercise3", "lambda_min", "3"),
    ("exercise3", "second_derivative", "12 x^2 - 6 + 2 lam"),
    ("exercise1", "second_derivative", "y/p^2 + (1 - y)/(1 - p)^2"),
    ("exercise2", "l2_minimizer", "a/(1 + 2 lam)"),
])
def test_answer_is_mathematically_right(ex_id, part, expected):
    _, sol = _solve(ex_id)
    assert sp.simplify(sol.answers[part] - parse_any(expected)) == 0


@pytest.mark.parametrize("ex_id, part, expected", [
    ("exercise1", "verdict", "strictly convex"),
])
def test_verdict(ex_id, part, expected):
    _, sol = _solve(ex_id)
    assert sol.answers[part] == expected


@pytest.mark.parametrize("a_value, expected", [
    (Fraction(1, 2), 0), (Fraction(-1, 2), 0), (Fraction(1), 0), (Fraction(-1), 0),
    (Fraction(3, 2), Fraction(1, 2)), (Fraction(-5, 2), Fraction(-3, 2)),
])
def test_exercise2_soft_thresholding_at_lambda_1(a_value, expected):
    _, sol = _solve("exercise2")
    value = sol.answers["l1_minimizer"].subs({a: sp.Rational(a_value.numerator, a_value.denominator), lam: 1})
    assert value == sp.Rational(Fraction(expected).numerator, Fraction(expected).denominator)


@pytest.mark.parametrize("a_value, lam_value, inside", [(0, 1, True), (1, 1, True), (-1, 1, True),
                                                        (sp.Rational(11, 10), 1, False), (-2, 1, False)])
def test_exercise2_zero_when_is_the_threshold(a_value, lam_value, inside):
    _, sol = _solve("exercise2")
    assert bool(sol.answers["zero_when"].subs({a: a_value, lam: lam_value})) is inside


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 11])
def test_exercise3_variants_lambda_star_equals_a(seed):
    ex, sol = _solve("exercise3", seed)
    a_value = sp.Rational(ex.values["a"].numerator, ex.values["a"].denominator)
    assert sol.answers["lambda_min"] == a_value
    assert sp.expand(sol.answers["second_derivative"] - (12 * x**2 - 2 * a_value + 2 * lam)) == 0


def test_exercise3_facts_for_the_answer_checker():
    _, sol = _solve("exercise3")
    f = sol.facts
    assert f["variable"] == x and f["parameter"] == lam
    assert sp.expand(f["function"] - (x**4 - 3 * x**2 + lam * x**2)) == 0
    assert sp.expand(f["second_derivative"] - sp.diff(f["function"], x, 2)) == 0


# ---------------------------------------------------------- witnesses (exercise 3)
@pytest.mark.parametrize("seed", [None, 1, 2, 5])
def test_exercise3_slip_value_fails_with_verified_witnesses(seed):
    ex, sol = _solve("exercise3", seed)
    a_value = sp.Rational(ex.values["a"].numerator, ex.values["a"].denominator)
    slip = a_value / 2
    f_slip = sol.facts["function"].subs(lam, slip)
    witnesses = [s for s in _steps(sol) if s.kind == "witness"]
    curv = [s.witness for s in witnesses if s.witness.point is not None]
    chord = [s.witness for s in witnesses if s.witness.chord]
    assert curv and chord
    assert all(s.verify() for s in witnesses)  # the engine's checker, again
    # re-check independently, exactly
    assert sp.diff(f_slip, x, 2).subs(x, curv[0].point[x]) == curv[0].curvature < 0
    c = chord[0].chord
    x1, x2, t, m = c["a"][x], c["b"][x], c["t"], c["m"][x]
    fx = lambda v: f_slip.subs(x, v)  # noqa: E731
    assert m == t * x1 + (1 - t) * x2
    assert fx(m) > t * fx(x1) + (1 - t) * fx(x2)
    assert c["rhs"] == t * fx(x1) + (1 - t) * fx(x2) and c["lhs"] == fx(m)


def test_exercise3_check_at_lambda_star_is_nonnegative():
    _, sol = _solve("exercise3")
    eqs = [s for s in _steps(sol) if s.kind == "equation" and s.note == "λ = 3"]
    assert eqs and sp.expand(eqs[0].rhs - 12 * x**2) == 0


def test_exercise3_figure_has_the_three_curves_computed():
    _, sol = _solve("exercise3")
    (fig,) = sol.figures
    ctx = figure_context(fig)
    labels = [c["label"] for c in fig.curves]
    assert [lab.rhs for lab in labels] == [0, sp.Rational(3, 2), 3]
    for curve, lam_value in zip(ctx["curves"], [0, 1.5, 3]):
        at0 = dict(curve["points"])[0.0]
        assert at0 == pytest.approx(-6 + 2 * lam_value)


# ------------------------------------------------------------------ documents
@pytest.mark.parametrize("ex_id, needles", [
    ("exercise3", ["f''(x) = 12x² + 2λ − 6", "λ ≥ 3", "f''(x) = 12x²", "Why λ = 3/2 is not enough",
                   "f''(0) = −3 < 0", "f(0) = 0  >  −1/2", "**Answer.** λ* = `3`"]),
    ("exercise1", ["L''(p) = y/p² + (1 − y)/(1 − p)²", "`y/p² ≥ 0`, since `y ≥ 0` and `p² > 0`",
                   "vanishes only when `y = 0`", "vanishes only when `y = 1`", "`L''(p) > 0`",
                   "**Answer.** `L` is strictly convex"]),
    ("exercise2", ["w = a − λ", "w = a + λ", "`|a| ≤ λ`", "`w = a/(1 + 2λ)`", "This is 0 only when `a = 0`",
                   "diamond"]),
])
def test_text_solution(ex_id, needles):
    ex, sol = _solve(ex_id)
    text = solution_document(ex, sol, "text")
    for n in needles:
        assert n in text, n
    assert "{" + "{" not in text and "<<" not in text


@pytest.mark.parametrize("ex_id, needles, unicode", [
    ("exercise3", [r"$12 x^{2} + 2 \lambda - 6$", r"$\lambda \geq 3$", "**Answer.**",
                   r"$$f''\left(x\right) = 12 x^{2}$$", r"$f''(0) = -3 < 0$"], ["12x²", "`0`"]),
    ("exercise1", [r"$\frac{y}{p^{2}} \geq 0$", r"$L''\left(p\right) > 0$"], ["y/p²"]),
    ("exercise2", [r"\begin{cases}", r"$\left|{a}\right| \leq \lambda$"], ["|a| ≤ λ"]),
])
def test_markdown_solution_has_tex_math(ex_id, needles, unicode):
    """--format md is Markdown with $…$ / $$…$$ TeX mathematics (not the terminal's Unicode)."""
    ex, sol = _solve(ex_id)
    text = solution_document(ex, sol, "md")
    for n in needles:
        assert n in text, n
    for n in unicode:
        assert n not in text, n


@pytest.mark.parametrize("ex_id, needles", [
    ("exercise3", [r"\documentclass", r"\begin{axis}", r"\addlegendentry{$\lambda = \frac{3}{2}$}",
                   r"f''\left(x\right) = 12 x^{2} + 2 \lambda - 6", r"\lambda \geq 3", r"\end{document}"]),
    ("exercise1", [r"\frac{y}{p^{2}} + \frac{1 - y}{\left(1 - p\right)^{2}}", r"L''\left(p\right) > 0"]),
    ("exercise2", [r"\begin{cases}", r"\left|{a}\right| \leq \lambda", r"\frac{a}{1 + 2 \lambda}"]),
])
def test_latex_solution(ex_id, needles):
    ex, sol = _solve(ex_id)
    text = solution_document(ex, sol, "latex")
    for n in needles:
        assert n in text, n


@pytest.mark.parametrize("ex_id, part, expected", [
    ("exercise3", "lambda_min", "3"),
    ("exercise1", "second_derivative", "y/p**2 + (1 - y)/(1 - p)**2"),
    ("exercise2", "zero_when", "Abs(a) <= lam"),
])
def test_json_solution(ex_id, part, expected):
    ex, sol = _solve(ex_id)
    data = json.loads(solution_document(ex, sol, "json"))
    assert {"exercise", "title", "seed", "params", "statement", "steps", "answers"} <= set(data)
    assert data["exercise"] == ex_id
    got, want = parse_any(data["answers"][part]), parse_any(expected)
    assert got == want if isinstance(want, sp.core.relational.Relational) else sp.simplify(got - want) == 0
    assert all("kind" in s for s in data["steps"])


def test_json_exercise1_second_derivative_equals_formula():
    ex, sol = _solve("exercise1")
    got = parse_any(json.loads(solution_document(ex, sol, "json"))["answers"]["second_derivative"])
    assert sp.simplify(got - (y / p**2 + (1 - y) / (1 - p)**2)) == 0


@pytest.mark.parametrize("fmt", ["md", "latex", "json"])
@pytest.mark.parametrize("ex_id", ["exercise1", "exercise2", "exercise3"])
def test_statement_has_no_solution(ex_id, fmt):
    ex = load_exercise(ex_id)
    text = statement_document(ex, fmt)
    assert "Answer (" not in text and "Witness" not in text
    if ex_id == "exercise3":
        assert "3/2" in text or r"\frac{3}{2}" in text  # the slip value, from the a/2 formula


def test_variant_shows_its_parameters():
    ex = load_exercise("exercise3", seed=4)
    text = statement_document(ex, "md")
    assert f"a = {ex.values['a']}" in text


def test_exercise_prose_is_not_a_template(tmp_path):
    """Regression: statement text with Jinja syntax is printed, never run."""
    src = load_exercise("exercise3").path.read_text(encoding="utf-8")
    src = src.replace("The function {f0} is not convex.", "The function {f0} {% raw %}{{ 7*7 }}<< 7*7 >> is not convex.")
    (tmp_path / "exercise3.toml").write_text(src, encoding="utf-8")
    ex = load_exercise("exercise3", exercises_dir=tmp_path)
    md = statement_document(ex, "md")
    tex = statement_document(ex, "latex")
    assert "{{ 7*7 }}" in md and "49" not in md
    assert "49" not in tex and r"\{" in tex
