"""The public API (issue #9): ``import convexproof`` offers the functions and result types, lazily, and every
result object displays itself in Jupyter as Markdown with $…$ mathematics and as a LaTeX body."""

from __future__ import annotations

import subprocess
import sys

import pytest

import convexproof

API_NAMES = ["prove", "regularize", "solve", "check", "grade", "load_exercise", "ProofResult", "RegularizeResult",
             "Solution", "CheckResult", "Exercise", "ConvexproofError"]


@pytest.mark.parametrize("name", API_NAMES)
def test_dir_lists_the_api(name):
    assert name in dir(convexproof)
    assert name in convexproof.__all__
    assert getattr(convexproof, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        convexproof.no_such_function  # noqa: B018


def _prove():
    return convexproof.prove("x**2")


def _regularize():
    return convexproof.regularize("x**4 - 3*x**2")


def _solve():
    return convexproof.solve("exercise3")


def _check():
    return convexproof.check("exercise3", "3")


def _exercise():
    return convexproof.load_exercise("exercise3")


# (make the object, its type name, what its Markdown and LaTeX must state: computed content, not wording)
RESULTS = [
    (_prove, "ProofResult", "x^{2}"),
    (_regularize, "RegularizeResult", "x^{4}"),
    (_solve, "Solution", "3 x^{2}"),
    (_check, "CheckResult", "$3$"),
    (_exercise, "Exercise", "x^{4} - 3 x^{2}"),
]


@pytest.mark.parametrize("make,type_name,content", RESULTS, ids=[r[1] for r in RESULTS])
def test_result_displays_as_markdown_with_math(make, type_name, content):
    obj = make()
    assert isinstance(obj, getattr(convexproof, type_name))
    md = obj._repr_markdown_()
    assert "$" in md
    assert content in md


@pytest.mark.parametrize("make,type_name,content", RESULTS, ids=[r[1] for r in RESULTS])
def test_result_latex_is_a_body_without_preamble(make, type_name, content):
    tex = make()._repr_latex_()
    assert content in tex
    for preamble in ("\\documentclass", "\\usepackage", "\\begin{document}", "\\end{document}", "\\newcommand"):
        assert preamble not in tex
    assert "\\cpexercise" not in tex  # the preamble's own macros are expanded


def test_results_carry_the_engines_values():
    assert _prove().verdict == "strongly convex"
    assert _regularize().lam_min == 3  # f'' = 12x² − 6 + 2λ ≥ 0 for all x iff λ ≥ 3
    assert _check().status == "correct"
    assert convexproof.check("exercise3", "2").status == "incorrect"
    assert set(_solve().answers) >= {"lambda_min"}


def test_prove_with_shapes_is_the_vector_prover():
    r = convexproof.prove("norm(X@w - y)**2", wrt=["w"], shapes={"X": ("n", "d"), "w": ("d",), "y": ("n",)})
    assert r.verdict == "convex"
    assert "$" in r._repr_markdown_()


def test_regularize_with_shapes():
    r = convexproof.regularize("norm([[1, 0], [0, 2]]@w)**2 - 3*norm(w)**2", wrt=["w"], shapes={"w": (2,)})
    assert r.lam_min == 2  # Hessian diag(2, 8) − 6I: λ_min = −4, so λ* = 2
    assert "$" in r._repr_markdown_()


@pytest.mark.parametrize("call", [
    lambda: convexproof.prove("__import__('os')"),
    lambda: convexproof.load_exercise("no-such-exercise"),
    lambda: convexproof.prove("x**2", timeout=0),
])
def test_bad_input_is_a_convexproof_error(call):
    with pytest.raises(convexproof.ConvexproofError):
        call()


def test_import_is_lazy():
    """``import convexproof`` loads neither SymPy nor the engine (the CLI's --help and list stay fast)."""
    code = ("import sys, convexproof; print(sorted(m for m in sys.modules if m.startswith(('sympy', "
            "'convexproof.engine', 'convexproof.api', 'jinja2'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("answer,status", [("3", "correct"), ("3/2", "incorrect"), ("x +", "invalid")])
def test_grade_a_csv(tmp_path, answer, status):
    path = tmp_path / "answers.csv"
    path.write_text(f"student,exercise,part,answer\nada,exercise3,lambda_min,{answer}\n", encoding="utf-8")
    report = convexproof.grade(str(path), jobs=1)
    assert [r["status"] for r in report.rows] == [status]
    shown = report._repr_markdown_()  # Jupyter: the Markdown report, one table row per graded answer
    assert shown == report.render("md") and "| ada " in shown and status in shown


@pytest.mark.parametrize("kind,expr,verdict", [("prove", "x**2", "strongly convex"), ("regularize", "x**4 - 3*x**2", None)])
def test_cli_documents_come_from_the_api(kind, expr, verdict):
    """The CLI prints what convexproof.api returns: the same document, computed once in a limited child."""
    from convexproof.api import proof_document

    text, note = proof_document(kind, expr, fmt="json")
    assert note is None
    import json

    data = json.loads(text)
    if verdict:
        assert data["verdict"] == verdict
    else:
        assert data["lam_min"] == "3"


def test_solution_document_figures_beside_the_output(tmp_path):
    from convexproof.api import solution_document

    text, figures = solution_document("exercise3", "md", output=str(tmp_path / "sol.md"))
    assert "$" in text
    assert sorted(figures) == [str(tmp_path / "sol-fig1.svg"), str(tmp_path / "sol-fig2.svg")]  # f'' and the chord
    assert all(svg.startswith("<svg") and path.rsplit("/", 1)[1] in text for path, svg in figures.items())


def test_timed_out_vector_regularisation_is_unknown_and_displays():
    """regularize(shapes=...) stopped at its limit: the formula was never read, so there is no penalty node."""
    from convexproof.engine.vector import VectorRegularizeResult, timed_out_vector

    unknown = timed_out_vector("norm(X@w)**2", "w", {"X": ("n", "d"), "w": ("d",)}, "ran over its time limit")
    r = VectorRegularizeResult(expr=unknown.expr, penalty=None, variables=unknown.variables, timed_out=True,
                               steps=unknown.steps)
    data = r.to_dict()
    assert (data["verdict"], data["penalty"], data["lam_min"], data["timed_out"]) == ("unknown", None, None, True)
    assert "unknown" in r._repr_markdown_()
    assert "\\documentclass" not in r._repr_latex_()
