"""The convexity engine: the labelled corpus, conditions, witnesses, strictness, regularize, time limits."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import tomllib
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from convexproof.engine import find_witness, prove, regularize, verify_witness
from convexproof.engine.domain import make_problem
from convexproof.render.proof import proof_document
from convexproof.cli import cli
from convexproof.parse import parse_condition, parse_expr, symbol

CORPUS = tomllib.loads((Path(__file__).parent / "data" / "convexity.toml").read_text())["case"]


def _samples(lo=-10, hi=10):
    vals = [sp.Rational(k, 4) for k in range(4 * lo, 4 * hi + 1)]
    return vals + [sp.Rational(29, 10), sp.Rational(301, 100), sp.Rational(-199, 100), sp.Rational(201, 100)]


def _same_condition(got, expected, problem) -> bool:
    params = sorted(got.free_symbols | expected.free_symbols, key=lambda s: s.name)
    assert len(params) == 1, params
    p = params[0]
    I = problem.interval(p)
    for v in _samples():
        if I.contains(v) is not sp.true:
            continue
        if bool(got.subs(p, v)) != bool(expected.subs(p, v)):
            return False
    return True


@pytest.mark.parametrize("case", CORPUS, ids=[c["expr"] for c in CORPUS])
def test_corpus(case):
    r = prove(case["expr"], wrt=case["wrt"], where=case["where"])
    problem = make_problem(case["expr"], wrt=case["wrt"], where=case["where"])
    assert not r.problems, r.problems
    if case["expect"] == "convex":
        assert r.convex is True, r.verdict
        assert r.verdict in ("convex", "strictly convex", "strongly convex")
        assert r.witness is None
    elif case["expect"] == "nonconvex":
        assert r.convex is False, r.verdict
        assert verify_witness(problem.expr, problem.variables, r.witness, problem)
    else:
        assert r.convex is None and r.condition is not None, r.verdict
        assert _same_condition(r.condition, parse_condition(case["expect"]), problem)
        assert r.verdict.startswith("convex iff")
    d = r.to_dict()
    json.dumps(d)
    assert d["convex"] == r.convex and d["verdict"] == r.verdict


# ------------------------------------------------------------------ verdicts
@pytest.mark.parametrize("expr, wrt, where, verdict, modulus", [
    ("x**2", None, [], "strongly convex", "2"),
    ("x**4", None, [], "strictly convex", None),
    ("exp(x)", None, [], "strictly convex", None),
    ("x**2 + cos(x)", None, [], "strongly convex", "1"),
    ("abs(x)", None, [], "convex", None),
    ("max(0, 1 - x)", None, [], "convex", None),
    ("2*x**2 + y**2 + 2*x*y", None, [], "strongly convex", "3 - sqrt(5)"),
    ("(x + y + z)**2", None, [], "convex", None),
    ("-x**2", None, [], "concave", None),
    ("x", None, [], "convex", None),
    ("log(x)", None, ["x > 0"], "concave", None),
])
def test_verdict_and_modulus(expr, wrt, where, verdict, modulus):
    r = prove(expr, wrt=wrt, where=where)
    assert r.verdict == verdict
    if modulus is None:
        assert r.modulus is None
    else:
        assert sp.simplify(r.modulus - parse_expr(modulus)) == 0


def test_sympy_false_certificate_on_piecewise_is_not_repeated():
    """SymPy's is_convex calls this convex; the slope drops from 0 to -1 at the kink."""
    r = prove("Piecewise((x**2, x <= 0), (-x, True))")
    assert r.convex is False
    p = make_problem("Piecewise((x**2, x <= 0), (-x, True))")
    assert verify_witness(p.expr, p.variables, r.witness, p)
    assert r.witness.get("chord")


@pytest.mark.parametrize("expr, wrt, where, expected", [
    ("x**2 + c*x*y + y**2", ["x", "y"], [], "(c >= -2) & (c <= 2)"),
    ("exp(a*x)", ["x"], [], None),
    ("-(y*log(p) + (1 - y)*log(1 - p))", ["p"], ["0 < p < 1", "0 <= y <= 1"], None),
    ("x**4 - 3*x**2 + lam*x**2", ["x"], [], "lam >= 3"),
    ("b*exp(x)", ["x"], ["b >= -5"], "b >= 0"),
])
def test_parameters(expr, wrt, where, expected):
    r = prove(expr, wrt=wrt, where=where)
    if expected is None:
        assert r.convex is True and r.condition is None, r.verdict
    else:
        assert r.convex is None
        assert _same_condition(r.condition, parse_condition(expected), make_problem(expr, wrt=wrt, where=where))


def test_convex_function_of_nonaffine_argument_is_not_assumed_convex():
    r = prove("exp(-x**2)")
    assert r.convex is False
    p = make_problem("exp(-x**2)")
    assert verify_witness(p.expr, p.variables, r.witness, p)


@pytest.mark.parametrize("expr, where", [("x**3", ["x >= 0"]), ("x**3", []), ("sqrt(x)", ["x > 0"])])
def test_domain_matters(expr, where):
    r = prove(expr, where=where)
    if expr == "x**3" and where:
        assert r.convex is True
    else:
        assert r.convex is False


def test_natural_domain_is_used_for_log():
    r = prove("-log(x)")
    assert r.convex is True
    assert any("x > 0" in sp.sstr(c) or "0 < x" in sp.sstr(c) for c in r.domain)


# --------------------------------------------------------------- witnesses
@pytest.mark.parametrize("expr, vars_, convex", [
    ("x**4 - 3*x**2", ["x"], False),
    ("x**2*y**2", ["x", "y"], False),
    ("min(0, x)", ["x"], False),
    ("x**2 + y**2", ["x", "y"], True),
])
def test_find_witness(expr, vars_, convex):
    syms = [symbol(v) for v in vars_]
    w = find_witness(expr, syms)
    if convex:
        assert w is None
    else:
        assert w is not None
        assert verify_witness(parse_expr(expr), syms, w)


# -------------------------------------------------------------- regularize
@pytest.mark.parametrize("expr, penalty, lam_min", [
    ("x**4 - 3*x**2", None, "3"),
    ("sin(x) + sin(y) + (x**2 + y**2)/10", None, "2/5"),
    ("x**2 + exp(x)", None, "0"),
    ("x**2 - 3*x*y + y**2", None, "1/2"),
    ("x**4 - 3*x**2", "lam*x**2/2", "6"),
    ("x**3", None, None),
])
def test_regularize(expr, penalty, lam_min):
    r = regularize(expr, penalty=penalty)
    if lam_min is None:
        assert r.lam_min is None and r.verdict == "no finite lam"
    else:
        assert r.lam_min == parse_expr(lam_min)
    json.dumps(r.to_dict())


# ----------------------------------------------------------------- timeouts
def test_timeout_turns_a_hang_into_unknown(monkeypatch):
    from convexproof.engine import prover as engine

    monkeypatch.setattr(engine, "analyse", lambda problem: time.sleep(60))
    t = time.monotonic()
    r = prove("x**2", timeout=0.5)
    assert time.monotonic() - t < 3
    assert r.verdict == "unknown" and r.convex is None and r.timed_out


def test_timeout_works_from_a_thread(monkeypatch):
    from convexproof.engine import prover as engine

    monkeypatch.setattr(engine, "analyse", lambda problem: time.sleep(60))
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", prove("x**2", timeout=0.5)))
    t = time.monotonic()
    th.start()
    th.join(10)
    assert not th.is_alive() and time.monotonic() - t < 5
    assert out["r"].verdict == "unknown"


# ------------------------------------------------------------ CLI / render
@pytest.mark.parametrize("args, key, value", [
    (["prove", "x**4 - 3*x**2", "--format", "json"], "convex", False),
    (["prove", "x**4 - 3*x**2 + lam*x**2", "--wrt", "x", "--format", "json"], "condition", "lam >= 3"),
    (["prove", "--wrt", "p", "--where", "0 < p < 1", "--where", "0 <= y <= 1", "--format", "json", "--",
      "-(y*log(p) + (1-y)*log(1-p))"], "convex", True),
    (["regularize", "x**4 - 3*x**2", "--format", "json"], "lam_min", "3"),
    (["regularize", "sin(x) + sin(y) + (x**2+y**2)/10", "--format", "json"], "lam_min", "2/5"),
])
def test_cli_json(args, key, value):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)[key] == value


@pytest.mark.parametrize("args", [
    ["prove", "__import__('os')"], ["prove", "x**2", "--where", "x <"], ["prove", "x**2", "--wrt", "1x"],
    ["regularize", "x**2", "--penalty", "x**2"],
])
def test_cli_bad_input(args):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2
    assert "Traceback" not in res.output


@pytest.mark.parametrize("expr, where", [("x**4 - 3*x**2", []), ("abs(x) + abs(y) + (x**2+y**2)/2", []),
                                         ("x**4 - 3*x**2 + lam*x**2", []),
                                         ("Piecewise((x**2/2, abs(x) <= 2), (2*abs(x) - 2, True))", [])])
def test_markdown_proof_explains_itself(expr, where):
    md = proof_document(prove(expr, where=where), "md")
    assert "## Verdict:" in md and "Rule:" in md
    assert "&gt;" not in md and "Interval(" not in md


LATEX_CASES = ["x**4 - 3*x**2", "log(exp(x) + exp(2*y))", "-(y*log(p) + (1-y)*log(1-p))",
               "Piecewise((x**2/2, abs(x) <= 2), (2*abs(x) - 2, True))", "x**2 + c*x*y + y**2",
               "abs(x) + abs(y) + (x**2 + y**2)/2", "sqrt(x**2 + 4) + exp(x)/10"]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_proofs_compile(tmp_path):
    for i, expr in enumerate(LATEX_CASES):
        wrt = ["p"] if "log(p)" in expr else (["x", "y"] if "c*x" in expr else None)
        where = ["0 < p < 1", "0 <= y <= 1"] if "log(p)" in expr else []
        tex = proof_document(prove(expr, wrt=wrt, where=where), "latex")
        f = tmp_path / f"p{i}.tex"
        f.write_text(tex, encoding="utf-8")
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f.name], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, expr + "\n" + run.stdout[-2000:]
    tex = proof_document(regularize("x**4 - 3*x**2"), "latex")
    (tmp_path / "r.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "r.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
