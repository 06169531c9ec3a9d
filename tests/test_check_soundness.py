"""Regressions of issue #16 item 3: wrong answers marked correct by the numeric comparison.

A numeric test may only ever prove an answer wrong; "correct" needs an exact
argument; otherwise the status is "undecided" and a teacher reviews it.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from convexproof.grading.checking import check
from convexproof.cli import cli

WRONG = [
    # overflow: inf <= inf used to make these equal
    ("exercise3", None, "exp(710)"),
    ("exercise3", None, "lam >= exp(800)"),
    ("exercise16", "kappa", "exp(720)"),
    ("exercise3", "second_derivative", "exp(710)*x^2"),
    # fixed sample points k/997: a perturbation that vanishes on that grid
    ("exercise3", "second_derivative", "12x^2-6+2lam + 10^50*sin(997*pi*x)"),
    ("exercise1", "second_derivative", "y/p^2 + (1-y)/(1-p)^2 + 10^9*sin(997*pi*p)"),
    # a narrow window [-3, 3] for a variable on the whole line
    ("exercise3", "second_derivative", "12x^2-6+2lam + max(0, x^2-9)*10^6"),
    ("exercise3", "second_derivative", "12x^2-6+2lam + Piecewise((1, x > 10^7), (0, True))"),
    # below double precision
    ("exercise3", None, "3 + 10^-40"),
    ("exercise3", "second_derivative", "12x^2-6+2lam + 10^-40"),
    # a single point of difference
    ("exercise3", "second_derivative", "12x^2-6+2lam + sign(x - 1/3)^2 - 1"),
    # conditions that hold only on a discrete set
    ("exercise15", "eta_condition", "0 < eta < 1 and cos(4000*pi*eta) >= 1"),
    ("exercise15", "eta_condition", "0 < eta < 1 and sin(997*pi*eta) == 0"),
    ("exercise15", "eta_condition", "0 < eta < 1 or eta > 10^8"),
    ("exercise2", "zero_when", "abs(a) <= lam and cos(4000*pi*a) >= 1"),
]


@pytest.mark.parametrize("ex, part, answer", WRONG)
def test_wrong_answer_is_never_correct(ex, part, answer):
    r = check(ex, answer, part=part, isolate=False)
    assert r.status in ("incorrect", "undecided"), r.feedback


RIGHT = [
    ("exercise3", None, "3"),
    ("exercise3", None, "lam >= 3"),
    ("exercise3", "second_derivative", "2(6x^2 - 3 + lam)"),
    ("exercise8", "f2_logistic", "sigmoid(u)*(1 - sigmoid(u))"),
    ("exercise8", "f2_logistic", "exp(-u)/(1 + exp(-u))^2"),
    ("exercise10", "f2_sample", "exp(z)/(1 + exp(z))^2"),
    ("exercise2", "l1_minimizer", "sign(a)*max(abs(a) - lam, 0)"),
    ("exercise2", "l1_minimizer", "max(a - lam, 0) - max(-a - lam, 0)"),
    ("exercise2", "zero_when", "-lam <= a <= lam"),
    ("exercise2", "zero_when", "a^2 <= lam^2"),
    ("exercise15", "eta_condition", "eta > 0 and eta < 1"),
    ("exercise15", "eta_condition", "0 < 2*eta < 2"),
]


@pytest.mark.parametrize("ex, part, answer", RIGHT)
def test_right_answer_is_proved_correct(ex, part, answer):
    r = check(ex, answer, part=part, isolate=False)
    assert r.status == "correct", r.feedback


def test_undecided_answer_exits_1_with_its_status_on_stdout():
    res = CliRunner().invoke(cli, ["check", "exercise4", "--part", "f2_expo", "--answer", "4*2.718281828459045^(2x)"])
    assert res.exit_code == 1
    assert "undecided" in res.output
    res = CliRunner().invoke(cli, ["check", "exercise4", "--part", "f2_expo", "--answer", "4*2.718281828459045^(2x)",
                                   "--format", "json"])
    assert json.loads(res.output)["status"] == "undecided"
