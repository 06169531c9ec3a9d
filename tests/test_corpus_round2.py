"""Issue #10, round 2: the engine on tests/data/round2.toml (labels checked by tests/data/verify_round2.py).

Strict about WRONG, tolerant of unknown: a decided verdict that disagrees with
the label, a condition that disagrees with the label's condition at a sampled
parameter value, a sufficient condition that holds where the label says "not
convex", or a proof the engine itself caught as a bug fails the test; "unknown"
passes (and is counted by ``benchmarks/bench_engine.py``).
"""

from __future__ import annotations

import itertools
import json
import random
import tomllib
from pathlib import Path

import pytest
import sympy as sp

from convexproof.engine import prove, verify_witness
from convexproof.engine.domain import make_problem
from convexproof.parse import parse_condition

DATA = Path(__file__).parent / "data"
ROUND2 = tomllib.loads((DATA / "round2.toml").read_text())["case"]

RIGHT, WRONG, UNDECIDED = "right", "WRONG", "undecided"


def _values():
    return [sp.Rational(k, 4) for k in range(-24, 25)] + [sp.Rational(1, 10), sp.Rational(-1, 10), sp.Rational(29, 10)]


def parameter_points(symbols, problem, limit=400):
    """Parameter values in their range (box and parameter-only conditions): a grid, sampled when large."""
    symbols = sorted(symbols, key=lambda s: s.name)
    vals = _values()
    if len(symbols) <= 2:
        combos = itertools.product(vals, repeat=len(symbols))
    else:
        rng = random.Random(7)
        combos = (tuple(rng.choice(vals) for _ in symbols) for _ in range(limit))
    out = []
    for combo in combos:
        pt = dict(zip(symbols, combo))
        if all(problem.interval(s).contains(v) is sp.true for s, v in pt.items()) and problem.satisfies(pt):
            out.append(pt)
    return out[:: max(1, len(out) // limit)]


def _holds(cond, pt) -> bool | None:
    v = cond.subs(pt)
    return True if v is sp.true else False if v is sp.false else None


def judge(case, r, problem) -> tuple[str, str]:
    """(RIGHT / WRONG / UNDECIDED, why) for the result ``r`` of ``prove`` on a labelled case."""
    expect = case["expect"]
    if any(p.startswith("BUG") for p in r.problems):
        return WRONG, "; ".join(r.problems)
    want = None if expect in ("convex", "nonconvex") else parse_condition(expect)
    if r.convex is True:
        if expect == "convex":
            return RIGHT, r.verdict
        if expect == "nonconvex":
            return WRONG, f"said {r.verdict}, label nonconvex"
        bad = [pt for pt in parameter_points(want.free_symbols, problem) if _holds(want, pt) is not True]
        return (WRONG, f"said {r.verdict}, but the label's condition fails at {bad[0]}") if bad else (RIGHT, r.verdict)
    if r.convex is False:
        if not verify_witness(problem.expr, problem.variables, r.witness, problem):
            return WRONG, "a witness that does not verify"
        if expect == "nonconvex":
            return RIGHT, r.verdict
        if expect == "convex":
            return WRONG, f"said {r.verdict}, label convex"
        # "not convex" with parameters: no parameter value makes f convex; the label's condition is satisfiable
        good = [pt for pt in parameter_points(want.free_symbols, problem) if _holds(want, pt)]
        return (WRONG, f"said {r.verdict}, but the label holds at {good[0]}") if good else (RIGHT, r.verdict)
    for cond, necessary in ((r.condition, True), (r.sufficient_condition, False)):
        if cond is None:
            continue
        syms = cond.free_symbols | (want.free_symbols if want is not None else set())
        for pt in parameter_points(syms, problem):
            got = _holds(cond, pt)
            truth = True if expect == "convex" else False if expect == "nonconvex" else _holds(want, pt)
            if got is None or truth is None:
                return WRONG, f"condition {cond} undecidable at {pt}"
            if (got != truth) if necessary else (got and not truth):
                return WRONG, f"condition {cond} gives {got} at {pt}, the label {truth}"
        if necessary:
            return RIGHT, r.verdict
    return UNDECIDED, r.verdict


@pytest.mark.parametrize("case", ROUND2, ids=[f"{c['class']}:{c['expr']}|{','.join(c['where'])}" for c in ROUND2])
def test_round2_never_wrong(case):
    r = prove(case["expr"], wrt=case["wrt"], where=case["where"])
    problem = make_problem(case["expr"], wrt=case["wrt"], where=case["where"])
    status, why = judge(case, r, problem)
    assert status != WRONG, why
    d = r.to_dict()
    json.dumps(d)
    assert d["convex"] == r.convex and d["verdict"] == r.verdict


def test_round2_corpus_is_large_and_labelled():
    """At least 70 cases, every class present, every label one of the three forms."""
    assert len(ROUND2) >= 70
    assert {c["class"] for c in ROUND2} == set("abcdef")
    for c in ROUND2:
        assert c["expect"] in ("convex", "nonconvex") or parse_condition(c["expect"]).free_symbols


@pytest.mark.parametrize("expect, verdict, status", [
    ("convex", "not convex", WRONG),
    ("nonconvex", "convex", WRONG),
    ("convex", "unknown", UNDECIDED),
])
def test_judge_catches_a_wrong_verdict(expect, verdict, status):
    """The judge itself: a decided verdict that contradicts the label is WRONG, unknown is not."""
    case = {"expr": "x**2", "wrt": ["x"], "where": [], "expect": expect}
    problem = make_problem("x**2", wrt=["x"])

    class Fake:
        problems, condition, sufficient_condition = [], None, None

    r = Fake()
    r.verdict = verdict
    r.convex = {"convex": True, "not convex": False, "unknown": None}[verdict]
    r.witness = {"point": {problem.variables[0]: 0}, "direction": {problem.variables[0]: 1}, "curvature": -1}
    assert judge(case, r, problem)[0] == status


def test_judge_compares_conditions_by_sampling():
    case = {"expr": "x**2 + c*cos(x)", "wrt": ["x"], "where": [], "expect": "-2 <= c <= 2"}
    problem = make_problem(case["expr"], wrt=["x"])
    c = [s for s in problem.parameters if s.name == "c"][0]

    class Fake:
        problems, convex, sufficient_condition, verdict = [], None, None, "convex iff"

    r = Fake()
    r.condition = (c >= -2) & (c <= 2)
    assert judge(case, r, problem)[0] == RIGHT
    r.condition = c <= 2
    assert judge(case, r, problem)[0] == WRONG
    r.condition, r.sufficient_condition = None, (c >= 0) & (c <= 1)
    assert judge(case, r, problem)[0] == UNDECIDED
    r.sufficient_condition = c >= 0
    assert judge(case, r, problem)[0] == WRONG
