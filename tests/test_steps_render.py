"""Every step kind renders in every format from one step tree (issue #9, items 3 and 4).

The registry (``convexproof.steps.REGISTRY``) holds every ``Step`` subclass by its ``kind``; each kind has a
sample instance here, and each sample must render in md (Markdown with ``$…$`` TeX mathematics), text
(Unicode for a terminal) and tex, with its mathematics typeset the format's way.  A new step kind without
a sample fails ``test_every_registered_kind_has_a_sample``.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess

import pytest
import sympy as sp
from click.testing import CliRunner

import convexproof.solvers.common  # noqa: F401 - registers the solver step kinds
import convexproof.solvers.teach  # noqa: F401
import convexproof.solvers.toolkit  # noqa: F401
import convexproof.solvers.vector_models  # noqa: F401
from convexproof.cli import cli
from convexproof.render import render_step
from convexproof.solvers import Figure
from convexproof.solvers.common import Cases, Minimum, SignArgument
from convexproof.solvers.teach import DiffLine, FigureStep
from convexproof.solvers.toolkit import Table
from convexproof.steps import REGISTRY, Answer, Equation, Section, Sentence, said
from convexproof.steps.proof import (CvxBound, CvxConclusion, CvxCondition, CvxDCP, CvxDerivative, CvxHessian, CvxKink,
                                     CvxLDL, CvxMinors, CvxModulus, CvxNumericCheck, CvxPiece, CvxPolySign, CvxSetup,
                                     CvxSign, CvxSquare, CvxVecConstants, CvxVecGradient, CvxVecHessian, CvxVecTerm,
                                     WitnessStep)
from convexproof.engine.witness import Witness

for _m in pkgutil.iter_modules(convexproof.solvers.__path__):  # every module that may define a step kind
    importlib.import_module(f"convexproof.solvers.{_m.name}")

x, y, lam = sp.symbols("x y lam", real=True)
E = x**2 + 7  # the mathematics every sample shows: x² + 7 (text), x^{2} + 7 (md, tex)
NEEDLE = {"text": "x² + 7", "md": "x^{2} + 7", "tex": "x^{2} + 7"}
MATRIX_NEEDLE = {"text": "x² + 7", "md": "7 + x^{2}", "tex": "7 + x^{2}"}  # SymPy's LaTeX orders matrix entries so
F = x**4 - 3 * x**2
W1 = Witness(function=F, variables=[x], point={x: sp.Integer(0)}, direction={x: sp.Integer(1)},
             curvature=sp.Integer(-6),
             chord={"a": {x: sp.Integer(-1)}, "b": {x: sp.Integer(1)}, "t": sp.Rational(1, 2), "m": {x: sp.Integer(0)},
                    "lhs": sp.Integer(0), "rhs": sp.Integer(-2), "fa": sp.Integer(-2), "fb": sp.Integer(-2)})

SAMPLES = {
    "section": lambda: Section("The minimum", children=[Sentence([("text", "so "), ("math", E)])]),
    "sentence": lambda: Sentence([("text", "f is convex since "), ("math", sp.GreaterThan(E, 0, evaluate=False)), ("text", ".")]),
    "equation": lambda: Equation(sp.Function("f")(x), E, "by the sum rule"),
    "answer": lambda: Answer("a", E),
    "cases": lambda: Cases(sp.Function("g")(x), [(E, x > 0), (-x, True)]),
    "minimum": lambda: Minimum(E, x, [sp.Integer(0)], sp.Integer(0), sp.Integer(7)),
    "sign_argument": lambda: SignArgument(sp.GreaterThan(E, 0, evaluate=False), [sp.GreaterThan(x**2, 0, evaluate=False)]),
    "table": lambda: Table(["λ", "f''(0)"], [[("math", lam), ("math", E)]]),
    "diff_line": lambda: DiffLine(sp.Derivative(sp.Function("f")(x), x), None, E, "the sum rule"),
    "figure_step": lambda: FigureStep(figure=Figure(title="the graph and its chord",
                                                    curves=[{"label": "f", "expr": E, "var": x}])),
    "witness": lambda: WitnessStep(W1, children=[Sentence([("math", E)])]),
    "vector_proof": lambda: convexproof.solvers.vector_models.VectorProof(children=[CvxVecGradient(E, "the chain rule")]),
    "cvx_setup": lambda: CvxSetup(E, [x], [], []),
    "cvx_derivative": lambda: CvxDerivative("f''(x)", E, said("so ", sp.GreaterThan(E, 0, evaluate=False), " on the domain")),
    "cvx_hessian": lambda: CvxHessian(sp.Matrix([[E, 0], [0, 2]]), "the Hessian"),
    "cvx_sign": lambda: CvxSign(E, "> 0", said("a square plus ", sp.Integer(7))),
    "cvx_poly_sign": lambda: CvxPolySign(E, x, sp.Interval(0, 1), 0, sp.Integer(0), sp.Integer(7),
                                         said("no real root, and ", E, " is 7 at 0")),
    "cvx_square": lambda: CvxSquare(E, E, "already a square plus a constant"),
    "cvx_bound": lambda: CvxBound(E, sp.Integer(7), "each term"),
    "cvx_ldl": lambda: CvxLDL(sp.Matrix([[E]]), sp.Matrix([[1]]), [E], "one pivot"),
    "cvx_minors": lambda: CvxMinors(sp.Matrix([[E]]), [("1", E)], "all minors"),
    "cvx_dcp": lambda: CvxDCP(E, "convex", said("a square of an affine function plus ", E)),
    "cvx_piece": lambda: CvxPiece(E, sp.Interval(0, 1), said("second derivative ", E)),
    "cvx_kink": lambda: CvxKink(sp.Integer(0), sp.Integer(7), sp.Integer(7), -E, E, True, var=x, value=sp.Integer(7)),
    "cvx_condition": lambda: CvxCondition(sp.GreaterThan(lam, 3), said("f is convex if and only if ", E, " ≥ 0")),
    "cvx_modulus": lambda: CvxModulus(sp.Integer(2), said("the infimum of f'' is ", E)),
    "cvx_numeric_check": lambda: CvxNumericCheck(300, 0, said("no chord below ", E)),
    "cvx_conclusion": lambda: CvxConclusion("convex", said("f is convex since ", E, " ≥ 0")),
    "cvx_vec_term": lambda: CvxVecTerm(E, "quadratic", curvature="convex", text=said("a square ", E)),
    "cvx_vec_gradient": lambda: CvxVecGradient(E, "term by term"),
    "cvx_vec_hessian": lambda: CvxVecHessian(E, [], "constant"),
    "cvx_vec_constants": lambda: CvxVecConstants(modulus=E, smoothness=E),
}


def test_every_registered_kind_has_a_sample():
    assert set(REGISTRY) - {"step"} <= set(SAMPLES), sorted(set(REGISTRY) - set(SAMPLES) - {"step"})
    assert set(SAMPLES) <= set(REGISTRY), sorted(set(SAMPLES) - set(REGISTRY))


@pytest.mark.parametrize("fmt", ["md", "text", "tex"])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_renders_in_every_format(kind, fmt):
    step = SAMPLES[kind]()
    assert step.kind == kind and isinstance(step, REGISTRY[kind])
    out = str(render_step(step, fmt))
    assert out.strip(), "empty rendering"
    assert "{{" not in out and "<<" not in out and "\\textsuperscript" not in out
    if kind != "figure_step":  # a figure's curves are drawn, not written
        assert (MATRIX_NEEDLE if kind == "cvx_hessian" else NEEDLE)[fmt] in out, out
    if fmt == "md":
        assert "`x" not in out and "x²" not in out  # TeX mathematics between $…$, never Unicode code spans
    if fmt == "text":
        assert "$" not in out and "\\frac" not in out


@pytest.mark.parametrize("fmt", ["md", "text", "tex"])
def test_sentence_is_the_one_prose_kind(fmt):
    """Answer lines are sentences with role "answer"; math and equation parts typeset per format."""
    s = Sentence([("text", "λ* = "), ("math", sp.Integer(3)), ("text", ": "), ("eq", (sp.Function("f")(x), E, "="))],
                 role="answer")
    out = str(render_step(s, fmt))
    want = {"text": "**Answer.** λ* = `3`: `f(x) = x² + 7`", "md": r"**Answer.** λ* = $3$: $f\left(x\right) = x^{2} + 7$",
            "tex": r"\textbf{Answer.} $\lambda$* = $3$: $f\left(x\right) = x^{2} + 7$"}[fmt]
    assert want in out, out


def test_witness_step_verifies_with_the_engine():
    """The one witness step re-checks its record exactly with engine.witness.verify_witness."""
    assert WitnessStep(W1).verify()
    wrong = Witness(function=F, variables=[x], point={x: sp.Integer(2)}, direction={x: sp.Integer(1)},
                    curvature=sp.Integer(-6))  # f''(2) = 42 > 0: not a witness
    assert not WitnessStep(wrong).verify()
    assert not Witness(variables=[x], point={x: 0}, direction={x: 1}, curvature=-1).verify()  # no function: no check


def test_witness_step_json_is_data():
    d = WitnessStep(W1).to_dict()
    assert d["kind"] == "witness" and d["witness"]["curvature"] == "-6" and d["witness"]["point"] == {"x": "0"}


# --------------------------------------------------------------- regressions
def test_latex_witness_is_math_mode_not_textsuperscript(tmp_path):
    """`prove "x**4 - 3*x**2" --format latex` printed `v\\textsuperscript{T}$\\nabla$\\textsuperscript{2}f v = -6`."""
    res = CliRunner().invoke(cli, ["prove", "x**4 - 3*x**2", "--format", "latex"])
    assert res.exit_code == 0, res.output
    assert "\\textsuperscript" not in res.output
    assert r"$v^{\top} \nabla^2 f \, v$ = $-6$ is negative" in res.output
    if shutil.which("pdflatex"):
        (tmp_path / "p.tex").write_text(res.output, encoding="utf-8")
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "p.tex"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:]


@pytest.mark.parametrize("fmt", ["text", "md", "latex"])
def test_parameter_condition_has_no_plus_zero(fmt):
    """`prove "x**4 - 3*x**2 + lam*x**2" --wrt x` printed `2λ − 6 + (0) ≥ 0`."""
    res = CliRunner().invoke(cli, ["prove", "x**4 - 3*x**2 + lam*x**2", "--wrt", "x", "--format", fmt])
    assert res.exit_code == 0, res.output
    assert "+ (0)" not in res.output and "+ 0" not in res.output
    want = {"text": "2λ − 6 ≥ 0", "md": r"$2 \lambda - 6 \geq 0$", "latex": r"$2 \lambda - 6 \geq 0$"}[fmt]
    assert want in res.output


@pytest.mark.parametrize("fmt, want", [
    ("text", "continuous (both sides give 0); the slope goes from 1 to −1, which decreases: a concave kink"),
    ("md", "continuous (both sides give $0$); the slope goes from $1$ to $-1$, which decreases: a concave kink"),
])
def test_kink_template_uses_its_fields(fmt, want):
    res = CliRunner().invoke(cli, ["prove", "Piecewise((x, x < 0), (-x, True))", "--format", fmt])
    assert res.exit_code == 0, res.output
    assert want in res.output


@pytest.mark.parametrize("fmt, want, unwanted", [
    ("text", "f''(x) = 12x² − 6", "$"),
    ("md", r"$f''\left(x\right) = 12 x^{2} - 6$", "12x²"),
])
def test_prove_format_text_is_unicode_and_md_is_tex_math(fmt, want, unwanted):
    res = CliRunner().invoke(cli, ["prove", "x**4 - 3*x**2", "--format", fmt])
    assert res.exit_code == 0, res.output
    assert want in res.output and unwanted not in res.output


@pytest.mark.parametrize("args", [["prove", "x**2"], ["regularize", "x**4 - 3*x**2"], ["solve", "exercise3"],
                                  ["show", "exercise3"]])
def test_default_format_is_text(args):
    """A bare command prints --format text, whatever stdout is (stable for pipes and tests)."""
    bare = CliRunner().invoke(cli, args)
    text = CliRunner().invoke(cli, args + ["--format", "text"])
    assert bare.exit_code == 0 and bare.output == text.output


@pytest.mark.parametrize("expr, fmt, want", [
    ("x**2 + y**2 + x*y", "text", "f is strongly convex with modulus μ = 1: the smallest eigenvalue of the constant "
                                  "Hessian is 1"),
    ("x**2 + y**2 + x*y", "md", r"f is strongly convex with modulus $\mu = 1$"),
    ("x**2 + y**2 + x*y", "latex", r"$f$ is strongly convex with modulus $\mu = 1$"),
    ("2*x**2 + 3*y**2 + exp(x + y)", "text", "modulus μ ≥ 4: f = Q + R with Q = 2x² + 3y²"),
])
def test_modulus_template_uses_its_fields(expr, fmt, want):
    """The modulus step's template writes μ = (tight) or μ ≥ (a bound) from its modulus and tight fields."""
    res = CliRunner().invoke(cli, ["prove", expr, "--format", fmt])
    assert res.exit_code == 0, res.output
    assert want in res.output


@pytest.mark.parametrize("expr, wrt, where", [
    ("x**4 - 3*x**2", None, ()),  # curvature and chord
    ("log(x**2 - 1)", None, ()),  # a domain that is not an interval: a domain witness
    ("x**4 - 3*x**2 + lam*x**2", "x", ("lam <= 1",)),  # a witness at a parameter value
    ("x**2 - y**2 + x*y", None, ()),  # two variables
])
def test_proof_witness_steps_verify_again(expr, wrt, where):
    """The witness step a proof carries re-checks itself with the engine's verify_witness (its domain included)."""
    from convexproof.engine.prover import prove

    r = prove(expr, wrt=wrt, where=where)
    steps = [s for s in r.steps if s.kind == "witness"]
    assert r.convex is False and steps
    assert all(s.verify() for s in steps)


def test_an_evaluated_expression_reads_as_such_in_text():
    """regression: the attained-bound steps printed SymPy's Subs(−cos(x), x, −5π) in the text format."""
    import sympy as sp

    from convexproof.render import mathtext

    x, y = sp.symbols("x y", real=True)
    assert mathtext.unicode(sp.Subs(-sp.cos(x), x, sp.pi)) == "[−cos(x)] at x = π"
    assert mathtext.unicode(sp.Subs(x * y, (x, y), (1, 2))) == "[x·y] at (x, y) = (1, 2)"


def test_the_attained_bound_is_shown_at_the_point_nearest_zero():
    """x² + c·cos(x): f'' = 2 − c·cos(x) vanishes at every odd multiple of π for c = −2; the proof names ±π."""
    from convexproof.engine import prove
    from convexproof.render.proof import render_proof

    text = render_proof(prove("x**2 + c*cos(x)", wrt="x"), "text")
    assert "at x = −π" in text or "at x = π" in text, text
    assert "Subs(" not in text
