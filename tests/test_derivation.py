"""Checking a derivation line by line (issue 14).

The table in tests/data/derivations.toml holds derivations over every exercise
with a derivation part: correct ones in several styles, the classic slips
(lost factor, sign, chain rule, one point only, a dropped domain, a wrong
direction of implication), slips followed by consistent work (error carried
forward), nonsense and hostile lines.  Each case asserts every line's status
and the first wrong line.  Then: the reasons, the derivative rule tree, the
API, grade, the CLI (exit codes 0/1/2) and the LaTeX report.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

import convexproof
from convexproof.engine import diffsteps as D
from convexproof.cli import cli
from convexproof.grading.derivation import MAX_LINES, check_derivation_text
from convexproof.runtime.errors import ExerciseError, ParseError
from convexproof.library import load_exercise, read_exercise
from convexproof.parse import parse_expr, symbol

DATA = Path(__file__).parent / "data" / "derivations.toml"
CASES = tomllib.loads(DATA.read_text(encoding="utf-8"))["case"]
X, P = symbol("x"), symbol("p")


def _run(exercise: str, text: str, seed: int | None = None):
    ex = load_exercise(exercise, seed=seed)
    return check_derivation_text(ex, ex.part("derivation"), text)


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------
def test_the_table_is_large_and_covers_every_derivation_exercise():
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert {c["exercise"] for c in CASES} >= {"exercise1", "exercise3", "exercise4", "exercise11", "exercise12",
                                              "exercise19"}
    statuses = {s for c in CASES for s in c["expect"]}
    assert statuses == {"follows", "implied", "wrong", "unclear"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_derivation_table(case):
    r = _run(case["exercise"], case["text"], case.get("seed"))
    got = [line.status for line in r.lines]
    assert got == case["expect"], "\n" + r.to_text()
    assert (r.first_error or 0) == case["first_error"], "\n" + r.to_text()
    for line in r.lines:
        if line.status != "follows":
            assert line.reason, f"line {line.n} ({line.status}) has no reason"
        if line.status == "implied":
            assert line.mark in ("⇒", "⇐")
    # the score is the mean credit, between 0 and 1
    assert 0.0 <= r.score <= 1.0
    if all(s == "follows" for s in got) and not any(line.carried for line in r.lines):
        assert r.score == 1.0


# --------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------
SLIP_32 = """
f(x) = x^4 - 3x^2 + λx^2
f'(x) = 4x^3 - 3x + 2λx
f''(x) = 12x^2 - 3 + 2λ
f''(x) ≥ 0 for all x ⇔ 2λ - 3 ≥ 0
⇔ λ ≥ 3/2
so λ* = 3/2
""".lstrip("\n")


def test_the_3_2_slip_names_the_rule_and_a_point():
    r = _run("exercise3", SLIP_32)
    assert r.first_error == 2
    reason = r.lines[1].reason
    assert "d/dx of −3x² is −6x, not −3x" in reason
    assert "power rule" in reason and "factor 2" in reason
    assert "At x = 1" in reason  # a point where the two sides differ, exactly
    # error carried forward: the rest follows from the student's own line 2, with partial credit
    for line in r.lines[2:]:
        assert line.status == "follows" and line.carried == 2 and "your line 2" in line.reason
        assert line.credit == 0.5
    assert r.score == pytest.approx((1 + 0 + 4 * 0.5) / 6, abs=1e-3)


def test_carry_forward_credit_is_the_exercise_policy():
    ex = load_exercise("exercise3")
    part = ex.part("derivation")
    part_full = type(part)(**{**part.__dict__, "carry_forward": 1.0})
    r = check_derivation_text(ex, part_full, SLIP_32)
    assert r.score == pytest.approx(5 / 6, abs=1e-3)


def test_chain_rule_reason():
    r = _run("exercise1", "L(p) = -y log(p) - (1 - y) log(1 - p)\nL'(p) = -y/p - (1 - y)/(1 - p)")
    assert "chain rule" in r.lines[1].reason and "1 − p" in r.lines[1].reason and "−1" in r.lines[1].reason


def test_one_point_only_is_named():
    case = next(c for c in CASES if c["id"] == "ex3-one-point")
    r = _run("exercise3", case["text"])
    assert "one point only (x = 0)" in r.lines[2].reason
    sine = next(c for c in CASES if c["id"] == "ex4-sine-one-point")
    r = _run("exercise4", sine["text"])
    assert "not convex" in r.lines[3].reason and "one point only" in r.lines[3].reason


def test_dropped_domain_is_named():
    case = next(c for c in CASES if c["id"] == "ex19-dropped-domain")
    r = _run("exercise19", case["text"])
    assert "x = −1" in r.lines[2].reason and "dropped the domain" in r.lines[2].reason


def test_direction_of_implication_is_named():
    r = _run("exercise3", "f''(x) = 12x^2 - 6 + 2λ\nf''(x) ≥ 0 for all x ⇔ λ ≥ 3\n⇒ λ ≥ 4")
    assert "other way (⇐)" in r.lines[2].reason and "λ = 7/2" in r.lines[2].reason


def test_unjudgeable_claims_are_unclear_never_follows():
    # a true but (for this checker) unprovable sign claim, and a made-up function
    r = _run("exercise19", "f(x) = x log(x)\nx^3 - x + 1 - log(x) > 0 for all x > 0\nf(x) = x^7")
    assert [line.status for line in r.lines] == ["follows", "unclear", "unclear"]


# --------------------------------------------------------------------------
# Limits and input
# --------------------------------------------------------------------------
def test_too_many_lines_is_one_error():
    text = "\n".join(["f(x) = x^4 - 3x^2 + λx^2"] * (MAX_LINES + 1))
    with pytest.raises(ParseError, match="limit is 60"):
        _run("exercise3", text)


def test_too_long_line_is_one_error():
    with pytest.raises(ParseError, match="too long"):
        _run("exercise3", "f(x) = " + "x + " * 600 + "x")


def test_blank_and_comment_lines_keep_the_numbering():
    r = _run("exercise3", "# my work\n\nf(x) = x^4 - 3x^2 + λx^2\n\nf'(x) = 4x^3 - 3x + 2λx\n")
    assert [line.n for line in r.lines] == [3, 5] and r.first_error == 5


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def test_text_output_aligns_the_marks():
    text = "\n".join(["f(x) = x^4 - 3x^2 + λx^2", "f'(x) = 4x^3 - 3x + 2λx"] + ["f''(x) = 12x^2 - 3 + 2λ"] * 9)
    r = _run("exercise3", text)
    lines = [ln for ln in r.to_text().splitlines()[1:] if ln[:3].strip().isdigit()]
    assert len(lines) == 11
    assert {ln.index(" ", ln.index(ln.strip()[0])) for ln in lines} == {2}  # numbers right-aligned
    assert {ln[3] for ln in lines} <= {"✓", "✗", "?", "⇒", "⇐"}


def test_json_shape():
    r = convexproof.check("exercise3", derivation=SLIP_32, isolate=False)
    d = r.to_dict()
    assert set(d) >= {"lines", "first_error", "score"}
    assert d["first_error"] == 2 and r.status == "incorrect"
    assert set(d["lines"][0]) == {"n", "text", "read_as", "status", "reason"}
    json.dumps(d)


# --------------------------------------------------------------------------
# The derivative rule tree
# --------------------------------------------------------------------------
EXPRESSIONS = [
    "x^4 - 3x^2 + lam x^2", "7", "x", "x^(-3)", "sqrt(x)", "1/x", "3x^5", "-2/x^2", "exp(x)", "exp(3x)",
    "exp(-x^2)", "log(x)", "log(1 - x)", "log(x^2 + 1)", "x log(x)", "x^2 exp(x)", "sin(x)", "cos(2x)",
    "tan(x)", "sin(x) cos(x)", "sin(x)^2", "sinh(x)", "cosh(x)", "tanh(2x)", "atan(x)", "asin(x/2)",
    "sigmoid(x)", "sigmoid(3x + 1)", "log(sigmoid(x))", "(x + 1)/(x^2 + 1)", "x/(1 - x)", "exp(x)/x",
    "x^x", "2^x", "(x^2 + 1)^(3/2)", "sqrt(1 + exp(x))", "log(1 + exp(-x))", "-(y log(x) + (1 - y) log(1 - x))",
    "abs(x)", "x abs(x)", "exp(sin(x))", "log(cos(x)^2 + 1)", "x^3 sin(x) exp(x)", "1/(1 + x^2)^2",
    "(x - 1)^2 (x + 2)", "sqrt(x) log(x)", "exp(x) sin(x) / (1 + x^2)", "lam x^2 + mu x", "cos(x)^3",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_rule_tree_agrees_with_sympy(text):
    e = parse_expr(text)
    tree = D.diff_steps(e, X)
    want = sp.diff(e, X)
    assert sp.simplify(tree.eval() - want) == 0
    assert sp.simplify(tree.result - want) == 0
    for node in D.walk(tree):  # every node agrees with SymPy on its own expression
        assert sp.simplify(node.eval() - sp.diff(node.expr, node.var)) == 0


def test_every_rule_has_a_one_line_docstring():
    rules = [c for c in vars(D).values() if isinstance(c, type) and issubclass(c, D.Rule) and c is not D.Rule]
    assert len(rules) >= 12
    for c in rules:
        assert c.__doc__ and "\n" not in c.__doc__.strip(), c.__name__


@pytest.mark.parametrize("base, got, kind", [
    ("x^4 - 3x^2", "4x^3 - 3x", "factor"),
    ("x^4 - 3x^2", "4x^3 + 6x", "sign"),
    ("exp(2x)", "exp(2x)", "chain-inner"),
    ("log(1 - x)", "1/(1 - x)", "chain-inner"),
    ("x log(x)", "1/x", "product-rule"),
    ("x log(x)", "log(x)", "product-term"),
    ("x/(1 + x)", "-1/(1 + x)^2", "quotient-sign"),
    ("x^2 + lam x", "2x", "dropped-term"),
    ("sin(x)", "sin(x)", "not-differentiated"),
    ("x^3 + 5", "3x^2 + 5", "constant-kept"),
])
def test_find_slip_kinds(base, got, kind):
    slip = D.find_slip(D.diff_steps(parse_expr(base), X), parse_expr(got))
    assert slip is not None and slip.kind == kind


def test_find_slip_of_a_right_derivative_is_none():
    assert D.find_slip(D.diff_steps(parse_expr("x^4 - 3x^2"), X), parse_expr("2x(2x^2 - 3)")) is None


# --------------------------------------------------------------------------
# The exercises: the parts, selftest's model derivations, validation
# --------------------------------------------------------------------------
@pytest.mark.parametrize("exercise", ["exercise1", "exercise3", "exercise4", "exercise11", "exercise12", "exercise19"])
def test_model_derivation_has_no_wrong_line(exercise):
    ex = load_exercise(exercise)
    part = ex.part("derivation")
    assert part.type == "derivation"
    r = check_derivation_text(ex, part, part.model)
    assert r.first_error is None and all(line.status == "follows" for line in r.lines), r.to_text()


@pytest.mark.parametrize("exercise, seed", [("exercise3", 2), ("exercise12", 3), ("exercise11", 4), ("exercise4", 5)])
def test_model_derivation_holds_for_seeded_variants(exercise, seed):
    ex = load_exercise(exercise, seed=seed)
    r = check_derivation_text(ex, ex.part("derivation"), ex.part("derivation").model)
    assert r.first_error is None and all(line.status == "follows" for line in r.lines), r.to_text()


def test_derivation_part_validation(tmp_path):
    src = (Path(__file__).parent.parent / "exercises" / "exercise3.toml").read_text(encoding="utf-8")
    bad = src.replace('parameter = "lam"\nassume = ["lam >= 0"]', 'parameter = "lam"\nextremum = "sideways"')
    (tmp_path / "exercise3.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ExerciseError, match="extremum"):
        read_exercise(tmp_path / "exercise3.toml")
    bad = src.replace('functions = ["x^4 - a x^2 + lam x^2"]', 'functions = ["__import__(1)"]')
    (tmp_path / "exercise3.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ExerciseError, match="functions"):
        read_exercise(tmp_path / "exercise3.toml")


def test_handout_without_solutions_does_not_show_the_model():
    r = CliRunner().invoke(cli, ["handout", "exercise3", "--no-solutions"])
    assert r.exit_code == 0
    assert "λ* = a" not in r.output and "4x^3 - 2a x" not in r.output


# --------------------------------------------------------------------------
# API and grade
# --------------------------------------------------------------------------
def test_api_check_with_derivation_and_with_a_derivation_part():
    r = convexproof.check("exercise3", derivation=SLIP_32)  # isolated in a child process
    assert r.status == "incorrect" and r.derivation.first_error == 2 and "Line 2" in r.feedback
    r = convexproof.check("exercise3", "f(x) = x^4 - 3x^2 + λx^2", part="derivation", isolate=False)
    assert r.status == "correct" and r.score == 1.0
    with pytest.raises(ExerciseError, match="not a derivation part"):
        convexproof.check("exercise3", derivation="f(x) = x", part="lambda_min")
    with pytest.raises(ExerciseError, match="no derivation part"):
        convexproof.check("exercise7", derivation="f(x) = x")


def test_one_line_derivation_for_grade_cells():
    one = "; ".join(SLIP_32.strip().splitlines())
    r = _run("exercise3", one)
    assert len(r.lines) == 6 and r.first_error == 2
    r = _run("exercise3", SLIP_32.strip().replace("\n", "\\n "))
    assert len(r.lines) == 6 and r.first_error == 2
    # a LaTeX \neq or \nabla is not a line break
    r = _run("exercise4", "f(x) = |x| \\n f''(x) = 0 for all x \\neq 0")
    assert [line.status for line in r.lines] == ["follows", "follows"]


def test_grade_reads_a_derivation_cell(tmp_path):
    from convexproof.grading.grade import grade_file

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "exercise", "part", "answer"])
    # grade reads one row per line, so the lines of a derivation cell are separated by ';'
    w.writerow(["ann", "exercise3", "derivation", "; ".join(SLIP_32.strip().splitlines())])
    model = load_exercise("exercise3").part("derivation").model.strip()
    w.writerow(["bob", "exercise3", "derivation", "; ".join(model.splitlines())])
    w.writerow(["cat", "exercise3", "lambda_min", "3"])
    path = tmp_path / "answers.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    rows = json.loads(grade_file(path, fmt="json", jobs=1))
    assert [r["status"] for r in rows] == ["incorrect", "correct", "correct"]
    assert rows[0]["note"] == "line-2" and "−3x" in rows[0]["feedback"]
    assert rows[0]["score"] == pytest.approx(0.5, abs=1e-3)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------
def _cli(args, input=None):
    return CliRunner().invoke(cli, args, input=input)


def test_cli_exit_codes(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(load_exercise("exercise3").part("derivation").model, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text(SLIP_32, encoding="utf-8")
    r = _cli(["check", "exercise3", "--derivation", str(good)])
    assert r.exit_code == 0, r.output
    assert "no wrong line" in r.output
    r = _cli(["check", "exercise3", "--derivation", str(bad)])
    assert r.exit_code == 1 and "first error in line 2" in r.output
    assert "d/dx of −3x² is −6x, not −3x" in r.output


def test_cli_reads_standard_input_and_prints_json():
    r = _cli(["check", "exercise3", "--derivation", "-", "--format", "json"], input=SLIP_32)
    assert r.exit_code == 1
    d = json.loads(r.output)
    assert d["first_error"] == 2 and [line["status"] for line in d["lines"]][:2] == ["follows", "wrong"]


@pytest.mark.parametrize("args, text", [
    (["--derivation", "/nonexistent/derivation.txt"], None),
    (["--derivation", "-"], "\n".join(["f(x) = x"] * 61)),
    (["--derivation", "-"], "f(x) = " + "x + " * 600 + "x"),
    (["--derivation", "-"], "   \n"),
    (["--derivation", "-", "--answer", "3"], "f(x) = x"),
    (["--derivation", "-", "--part", "lambda_min"], "f(x) = x"),
])
def test_cli_invalid_input_exits_2(args, text):
    r = _cli(["check", "exercise3", *args], input=text)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_cli_non_utf8_file_exits_2(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("f(x) = x⁴".encode("utf-16"))
    r = _cli(["check", "exercise3", "--derivation", str(p)])
    assert r.exit_code == 2


def test_cli_answer_still_works():
    r = _cli(["check", "exercise3", "--answer", "3"])
    assert r.exit_code == 0


def test_markdown_report():
    r = _cli(["check", "exercise3", "--derivation", "-", "--format", "md"], input=SLIP_32)
    assert r.exit_code == 1
    assert "| 2 | ✗ |" in r.output and "first wrong line is line 2" in r.output


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_report_compiles(tmp_path):
    hostile = SLIP_32 + "f''(0) = -3 + 2λ ≥ 0 ⇒ λ ≥ 3/2 for all x ≠ 0\n$\\frac{1}{2} \\iff$ # & % _ ^ ~ \\ {}\n" + (
        "f(x) = " + "(" * 45 + "x" + ")" * 45 + "\n")
    r = _cli(["check", "exercise3", "--derivation", "-", "--format", "latex"], input=hostile)
    assert r.exit_code == 1, r.output
    tex = tmp_path / "d.tex"
    tex.write_text(r.output, encoding="utf-8")
    p = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-2000:]
    assert (tmp_path / "d.pdf").exists()
    import re

    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide", p.stdout)]
    assert all(w < 30 for w in widths), widths  # nothing runs off the page


def test_derivative_lines_agree_with_sympy_on_random_slips():
    """A derivative line is 'follows' exactly when SymPy agrees, 'wrong' otherwise (never the other way)."""
    import random

    lam = symbol("lam")
    ex = load_exercise("exercise3")
    part = ex.part("derivation")
    rng = random.Random(3)
    f = X**4 - 3 * X**2 + lam * X**2
    for _ in range(40):
        terms = list(sp.Add.make_args(sp.diff(f, X)))
        if rng.random() < 0.5:
            i = rng.randrange(len(terms))
            terms[i] *= rng.choice([2, sp.Rational(1, 2), -1, 3])
        s1 = sp.Add(*terms)
        t2 = list(sp.Add.make_args(sp.diff(s1, X)))
        if rng.random() < 0.4:
            i = rng.randrange(len(t2))
            t2[i] *= rng.choice([2, sp.Rational(1, 2), -1])
        s2 = sp.Add(*t2)
        r = check_derivation_text(ex, part, f"f(x) = x^4 - 3x^2 + λx^2\nf'(x) = {sp.sstr(s1)}\nf''(x) = {sp.sstr(s2)}")
        ok1 = sp.simplify(s1 - sp.diff(f, X)) == 0
        ok2 = sp.simplify(s2 - sp.diff(s1, X)) == 0 or sp.simplify(s2 - sp.diff(f, X, 2)) == 0
        assert [line.status for line in r.lines] == ["follows", "follows" if ok1 else "wrong",
                                                     "follows" if ok2 else "wrong"], r.to_text()


def test_second_derivative_slip_without_first_derivative_names_the_term_of_f():
    r = _run("exercise3", "f(x) = x^4 - 3x^2 + λx^2\nf''(x) = 12x^2 - 3 + 2λ")
    assert "d²/dx² of −3x² is −6, not −3" in r.lines[1].reason and "factor 2" in r.lines[1].reason


def test_strict_convexity_of_the_log_loss_is_decided():
    r = _run("exercise1", "L''(p) = y/p^2 + (1 - y)/(1 - p)^2 > 0 for all p in (0, 1)\nL is strictly convex")
    assert [line.status for line in r.lines] == ["follows", "follows"]
    r = _run("exercise1", "L''(p) = y/p^2 - (1 - y)/(1 - p)^2\nL is strictly convex")
    assert r.lines[1].status == "wrong" and "p = 1/2, y = 1/2" in r.lines[1].reason


def test_convex_for_a_range_of_the_parameter():
    r = _run("exercise3", "f(x) = x^4 - 3x^2 + λx^2\nf is convex for λ ≥ 2")
    assert r.lines[1].status == "wrong" and "λ = 5/2" in r.lines[1].reason
    assert "λ ≥ 3" not in r.lines[1].reason  # regression: the reason gave the answer (the exact condition) away


@pytest.mark.parametrize("text", ["f(x) = x^4 - 3x^2 + λx^2\nλ* = 3/2", "f(x) = x^4 - 3x^2 + λx^2\nλ* = 5",
                                  "f(x) = x^4 - 3x^2 + λx^2\nf is convex for λ ≥ 1"])
def test_reasons_do_not_give_the_answer_away(text):
    """Regression: a wrong λ* was answered with 'convexity holds exactly when λ ≥ 3'."""
    r = _run("exercise3", text)
    assert r.lines[-1].status == "wrong"
    assert "λ ≥ 3" not in r.lines[-1].reason and "exactly when" not in r.lines[-1].reason

