"""Least squares and logistic regression (kinds ``least_squares`` and ``logistic``).

Both take a small data set in the solver table::

    [solver]
    kind = "least_squares"          # or "logistic"
    vars = ["w1", "w2"]
    X = "[[1, 0], [1, 1], [1, 2]]"  # one row per example
    y = "[1, 2, 4]"                 # targets (0/1 labels for logistic)

``least_squares`` answers: ``hessian`` (= 2XᵀX), ``minimizer``, ``min_value``,
``verdict``.  ``logistic`` answers: ``f2_sample`` (the per-example second
derivative in z = xᵀw), ``hessian_at_zero``, ``verdict``.
"""

from __future__ import annotations

import sympy as sp

from ..errors import ExerciseError
from ..parse import symbol
from ..steps import Section
from . import Solution, register
from .exkit import (
    E,
    P,
    answer_steps,
    definiteness,
    fn_at,
    formula,
    join_list,
    named,
    names_field,
    want,
)


def _data(ex, n_vars):
    X = formula(ex, "X")
    y = formula(ex, "y")
    if not isinstance(X, sp.MatrixBase) or X.shape[1] != n_vars or X.free_symbols:
        raise ExerciseError(f"{ex.path.name}: field 'solver.X': must be a matrix of numbers with {n_vars} columns")
    if not isinstance(y, sp.MatrixBase) or len(y) != X.shape[0] or y.free_symbols:
        raise ExerciseError(f"{ex.path.name}: field 'solver.y': must be a list of {X.shape[0]} numbers")
    return sp.Matrix(X), sp.Matrix(list(y))


@register("least_squares")
def solve_least_squares(ex) -> Solution:
    ws = names_field(ex, "vars", ["w1", "w2"])
    X, y = _data(ex, len(ws))
    w = sp.Matrix(ws)
    r = y - X * w
    loss = sp.expand(sum(ri ** 2 for ri in r))
    H = sp.hessian(loss, ws)
    G = 2 * X.T * X
    if sp.simplify(H - G) != sp.zeros(*H.shape):
        raise ExerciseError("internal: the Hessian differs from 2XᵀX")  # cannot happen
    vs = [symbol(f"v{i + 1}") for i in range(len(ws))]
    v = sp.Matrix(vs)
    Xv = X * v
    quad = sp.expand((v.T * X.T * X * v)[0])
    sumsq = sp.Add(*[sp.Pow(sp.expand(c), 2, evaluate=False) for c in Xv], evaluate=False)
    d = definiteness(G)
    rank = X.rank()
    steps = [Section(title="The loss", children=[
        P("With the rows of ", E(sp.Symbol("X"), sp.ImmutableMatrix(X)), " as inputs and targets ",
          E(sp.Symbol("y"), sp.Tuple(*y)), ", the squared-error loss is ",
          E(fn_at("L", *ws), loss), "."),
    ]), Section(title="Its Hessian is 2XᵀX", children=[
        P("Differentiating twice gives ", E(sp.Symbol("H"), sp.ImmutableMatrix(H)),
          ", which is exactly ", E(named("2XᵀX", r"2X^{\top}X"), sp.ImmutableMatrix(G)),
          ", the same at every w: the loss is a quadratic in w."),
        P("For any vector v, ", E(named("vᵀXᵀXv", r"v^{\top}X^{\top}Xv"), quad), ", which is ",
          E(named("‖Xv‖²", r"\|Xv\|^2"), sumsq), ", a sum of squares and so never negative."),
        P("Hence 2XᵀX is positive semidefinite (its eigenvalues are ", *join_list(d["eigenvalues"]),
          ") and the least-squares loss is convex."),
    ])]
    answers = {"hessian": sp.ImmutableMatrix(G), "verdict": "convex"}
    if rank == len(ws):
        wstar = (X.T * X).inv() * X.T * y
        lmin = sp.simplify(loss.subs(dict(zip(ws, wstar))))
        steps.append(Section(title="The minimiser", children=[
            P("X has full column rank ", rank, ", so XᵀX is invertible and positive definite: the loss is strictly "
              "convex and the normal equations ", E(named("XᵀX w", r"X^{\top}X\,w"), named("Xᵀy", r"X^{\top}y")),
              " have the single solution ", E(named("w⋆", "w^{*}"), sp.Tuple(*wstar)), "."),
            P("The smallest loss is ", E(fn_at("L", *wstar), lmin), "."),
        ]))
        answers.update(minimizer=sp.Tuple(*wstar), min_value=lmin)
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    return Solution(ex, steps, ans)


@register("logistic")
def solve_logistic(ex) -> Solution:
    ws = names_field(ex, "vars", ["w1", "w2"])
    X, y = _data(ex, len(ws))
    if any(v not in (0, 1) for v in y):
        raise ExerciseError(f"{ex.path.name}: field 'solver.y': labels must be 0 or 1")
    z, ylab = symbol("z"), symbol("y")
    sig = 1 / (1 + sp.exp(-z))
    sigma = fn_at("σ", z)
    ell = -ylab * sp.log(sig) - (1 - ylab) * sp.log(1 - sig)
    d1 = sp.simplify(sp.diff(ell, z))
    d2 = sp.simplify(sp.diff(ell, z, 2))
    target = sig * (1 - sig)
    if sp.simplify(d2 - target) != 0:
        raise ExerciseError("internal: the per-example second derivative is not σ(1 − σ)")
    steps = [Section(title="One example", children=[
        P("Write ", E(sigma, sig), " and ", E(sp.Symbol("z"), named("xᵀw", r"x^{\top}w")),
          ". The cross-entropy of one example with label y is ",
          E(fn_at("ℓ", z), named("−y log σ(z) − (1 − y) log(1 − σ(z))",
                                  r"-y\log\sigma(z) - (1-y)\log(1-\sigma(z))")), "."),
        P("Differentiating in z: ", E(fn_at("ℓ'", z), d1), " and ", E(fn_at("ℓ''", z), d2),
          ", which simplifies to ", E(fn_at("ℓ''", z), named("σ(z)(1 − σ(z))", r"\sigma(z)\,(1-\sigma(z))")),
          " whatever the label. Since ", named("0 < σ(z) < 1", r"0 < \sigma(z) < 1"),
          ", this is positive for every z."),
    ])]
    # the Hessian in w by the chain rule, checked against SymPy's own differentiation
    w = sp.Matrix(ws)
    loss = 0
    Hsum = sp.zeros(len(ws))
    for i in range(X.shape[0]):
        xi = X[i, :].T
        zi = (xi.T * w)[0]
        loss += ell.subs({z: zi, ylab: y[i]})
        Hsum += target.subs(z, zi) * xi * xi.T
    Hdirect = sp.hessian(loss, ws)
    zero = {v: 0 for v in ws}
    H0 = sp.ImmutableMatrix(sp.simplify(Hdirect.subs(zero)))
    probe = {v: sp.Rational(k + 1, 3) for k, v in enumerate(ws)}
    if (sp.simplify(H0 - Hsum.subs(zero)) != sp.zeros(len(ws))
            or any(abs(sp.N(e, 30)) > 1e-25 for e in (Hdirect - Hsum).subs(probe))):
        raise ExerciseError("internal: the Hessian does not match the chain rule")
    steps.append(Section(title="All examples", children=[
        P("By the chain rule each example contributes ", named("ℓ''(xᵀw) x xᵀ", r"\ell''(x^{\top}w)\, x x^{\top}"),
          " to the Hessian, so ", E(named("∇²L(w)", r"\nabla^2 L(w)"),
                                    named("Σᵢ σ(zᵢ)(1 − σ(zᵢ)) xᵢxᵢᵀ", r"\sum_i \sigma(z_i)(1-\sigma(z_i))\, x_i x_i^{\top}")),
          " (SymPy's direct differentiation of the loss agrees)."),
        P("Each ", named("xxᵀ", r"x x^{\top}"), " is positive semidefinite because ",
          E(named("vᵀxxᵀv", r"v^{\top}x x^{\top} v"), named("(xᵀv)²", r"(x^{\top}v)^2")),
          " is never negative, and each weight σ(1 − σ) is positive. A positive combination of PSD matrices is "
          "PSD, so the Hessian is PSD at every w and the loss is convex in w."),
        P("At ", E(sp.Symbol("w"), sp.Tuple(*[0] * len(ws))), " every σ equals 1/2, so the Hessian is a quarter of ",
          named("XᵀX", r"X^{\top}X"), ": ", E(named("∇²L(0)", r"\nabla^2 L(0)"), H0), "."),
    ]))
    answers = {"f2_sample": sp.exp(-z) / (1 + sp.exp(-z)) ** 2, "hessian_at_zero": H0, "verdict": "convex"}
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    return Solution(ex, steps, ans)
