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

from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol
from convexproof.solvers import Solution, register
from convexproof.solvers.teach import figure, lead, part
from convexproof.engine.matrices import definiteness
from convexproof.solvers.toolkit import E, P, fn_at, formula, join_list, named, names_field, subjects, want


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
    Xs, ys = sp.Symbol("X"), sp.Symbol("y")
    XtX = named("XᵀX", r"X^{\top}X")
    sec_a = [P("With the rows of ", E(Xs, sp.ImmutableMatrix(X)), " as inputs and targets ",
               E(ys, sp.Tuple(*y)), ", the loss is ", E(fn_at("L", *ws), named("‖y − Xw‖²", r"\|y - Xw\|^2")),
               ", here ", E(fn_at("L", *ws), loss), "."),
             P("Its gradient is ", E(named("∇L(w)", r"\nabla L(w)"), named("−2Xᵀ(y − Xw)", r"-2X^{\top}(y - Xw)")),
               " and differentiating once more gives the Hessian ", E(named("∇²L(w)", r"\nabla^2 L(w)"),
                                                                     named("2XᵀX", r"2X^{\top}X")),
               ", the same at every w. Entry by entry, ", E(sp.Symbol("H"), sp.ImmutableMatrix(H)), ", which is ",
               E(named("2XᵀX", r"2X^{\top}X"), sp.ImmutableMatrix(G)), ".")]
    steps = [part("a", "The Hessian is 2XᵀX", [E(sp.Symbol("H"), sp.ImmutableMatrix(G)), ", which is 2XᵀX."], sec_a)]
    vXXv = named("vᵀXᵀXv", r"v^{\top}X^{\top}Xv")
    sec_b = [P("For every matrix X and every vector v, ", E(vXXv, named("(Xv)ᵀ(Xv)", r"(Xv)^{\top}(Xv)")),
               " because the transpose of a product is the product of the transposes in reverse order, and ",
               E(named("(Xv)ᵀ(Xv)", r"(Xv)^{\top}(Xv)"), named("‖Xv‖²", r"\|Xv\|^2")),
               ", the sum of the squares of the entries of Xv. So ", named("vᵀXᵀXv ≥ 0", r"v^{\top}X^{\top}Xv \ge 0"),
               ": XᵀX, and with it the Hessian 2XᵀX, is positive semidefinite, and L is convex."),
             P("For this X the identity reads ", E(vXXv, quad), " = ", sumsq,
               "; the eigenvalues of 2XᵀX are ", *join_list(d["eigenvalues"]), ".")]
    steps.append(part("b", "Positive semidefinite, so convex",
                      [E(vXXv, named("‖Xv‖²", r"\|Xv\|^2")), " ≥ 0 for every v, so the Hessian is PSD and L is convex."],
                      sec_b))
    answers = {"hessian": sp.ImmutableMatrix(G), "verdict": "convex"}
    top = ["the Hessian is ", sp.ImmutableMatrix(G), " = 2XᵀX, positive semidefinite, so L is convex"]
    if rank == len(ws):
        wstar = (X.T * X).inv() * X.T * y
        lmin = sp.simplify(loss.subs(dict(zip(ws, wstar))))
        sec_c = [P("X has full column rank ", rank, ", so XᵀX is invertible and positive definite: the loss is strictly "
                   "convex and its only stationary point, the solution of the normal equations ",
                   E(named("XᵀX w", r"X^{\top}X\,w"), named("Xᵀy", r"X^{\top}y")), ", is ",
                   E(named("w⋆", "w^{*}"), sp.Tuple(*wstar)), "."),
                 P("The smallest loss is ", E(fn_at("L", *wstar), lmin), ".")]
        fig = _fit_figure(X, y, wstar)
        if fig is not None:
            sec_c.append(figure(fig))
        steps.append(part("c", "The minimiser", [E(named("w⋆", "w^{*}"), sp.Tuple(*wstar)), ", with the smallest loss ",
                                                 E(fn_at("L", *wstar), lmin), "."], sec_c))
        answers.update(minimizer=sp.Tuple(*wstar), min_value=lmin)
        top += ["; ", E(named("w⋆", "w^{*}"), sp.Tuple(*wstar)), " with loss ", lmin]
    ans = want(ex, answers)
    return Solution(ex, [lead(*top, "."), *steps], ans, facts={"part_sections": {
        "hessian": "(a)", "verdict": "(b)", "minimizer": "(c)", "min_value": "(c)"}, **subjects({"verdict": loss}, ws)})


def _fit_figure(X, y, w):
    """The data points and the fitted line, when the first column of X is all ones (an intercept)."""
    from convexproof.solvers import Figure

    if X.shape[1] != 2 or any(X[i, 0] != 1 for i in range(X.shape[0])):
        return None
    t = sp.Symbol("t")
    ts = [X[i, 1] for i in range(X.shape[0])]
    lo, hi = float(min(ts)) - 0.5, float(max(ts)) + 0.5
    return Figure(title="the data and the least-squares line (the residuals are the vertical gaps)",
                  curves=[{"label": "data", "points": [(float(a), float(b)) for a, b in zip(ts, y)],
                           "style": "only marks, mark=*, black"},
                          {"label": "fitted line", "expr": w[0] + w[1] * t, "var": t}],
                  xmin=lo, xmax=hi, xlabel="t", samples=11)


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
    from convexproof.solvers.forms import sigma as _sigma

    sg = _sigma(z)
    sp_ = named("σ′(z)", r"\sigma'(z)")
    # sigma' = sigma (1 - sigma) and ell'' = sigma (1 - sigma), checked against sympy.diff before printing
    if sp.simplify(sp.diff(sig, z) - sig * (1 - sig)) != 0 or sp.simplify(sp.diff(ell, z) - (sig - ylab)) != 0:
        raise ExerciseError("internal: the logistic derivatives do not check")
    sec_a = [P("Here ", E(sg, sig), ", and one example with label y costs ",
               E(fn_at("ℓ", z), -ylab * sp.log(sg) - (1 - ylab) * sp.log(1 - sg)), "."),
             P("First the logistic function. By the chain rule, ",
               E(sp_, sp.exp(-z) / (1 + sp.exp(-z)) ** 2), ", and since ",
               E(1 - sg, sp.exp(-z) / (1 + sp.exp(-z))), " this is ", E(sp_, sp.Mul(sg, 1 - sg, evaluate=False)), "."),
             P("Then the loss, by the log rule and the chain rule: ",
               E(fn_at("ℓ'", z), sp.Add(-ylab * sp.Mul(sp_, 1 / sg, evaluate=False),
                                        (1 - ylab) * sp.Mul(sp_, 1 / (1 - sg), evaluate=False), evaluate=False)),
               " = ", sp.Add(-ylab * (1 - sg), (1 - ylab) * sg, evaluate=False), " = ", sg - ylab, "."),
             P("Differentiating once more, y is a constant: ", E(fn_at("ℓ''", z), sp_), " = ",
               sp.Mul(sg, 1 - sg, evaluate=False), ", whatever the label. Since ",
               named("0 < σ(z) < 1", r"0 < \sigma(z) < 1"), ", this is positive for every z.")]
    from convexproof.solvers import Figure

    sec_a.append(figure(Figure(
        title="the loss of one example for each label, and their common second derivative σ(z)(1 − σ(z)) > 0",
        curves=[{"label": sp.Eq(ylab, 1, evaluate=False), "expr": sp.log(1 + sp.exp(-z)), "var": z},
                {"label": sp.Eq(ylab, 0, evaluate=False), "expr": sp.log(1 + sp.exp(z)), "var": z},
                {"label": fn_at("ℓ''", z), "expr": sig * (1 - sig), "var": z}],
        xmin=-5, xmax=5, xlabel="z", ymin=0, ymax=4)))
    steps = [part("a", "One example", [E(fn_at("ℓ''", z), sp.Mul(sg, 1 - sg, evaluate=False)),
                                       " for both labels, since ", E(fn_at("ℓ'", z), sg - ylab), "."], sec_a)]
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
    Xs = sp.Symbol("X")
    sec_b = [P("Let X be the matrix whose rows are the inputs, ", E(Xs, sp.ImmutableMatrix(X)), ", and ",
               E(named("zᵢ", "z_i"), named("xᵢᵀw", r"x_i^{\top}w")), ". By the chain rule the example i contributes ",
               named("ℓ''(zᵢ) xᵢxᵢᵀ", r"\ell''(z_i)\, x_i x_i^{\top}"), " to the Hessian, so ",
               E(named("∇²L(w)", r"\nabla^2 L(w)"),
                 named("Σᵢ σ(zᵢ)(1 − σ(zᵢ)) xᵢxᵢᵀ", r"\sum_i \sigma(z_i)(1-\sigma(z_i))\, x_i x_i^{\top}")), "."),
             P("Each ", named("xxᵀ", r"x x^{\top}"), " is positive semidefinite, because ",
               E(named("vᵀxxᵀv", r"v^{\top}x x^{\top} v"), named("(xᵀv)²", r"(x^{\top}v)^2")),
               " ≥ 0 for every v, and each weight σ(1 − σ) is positive. A sum of PSD matrices with positive weights "
               "is PSD, so the Hessian is PSD at every w and L is convex in w.")]
    steps.append(part("b", "All examples", ["the Hessian is a positively weighted sum of the PSD matrices ",
                                            named("xᵢxᵢᵀ", r"x_i x_i^{\top}"), ", so it is PSD and L is convex."],
                      sec_b))
    sec_c = [P("At ", E(sp.Symbol("w"), sp.Tuple(*[0] * len(ws))), " every ", E(named("zᵢ", "z_i"), 0),
               " and σ(0) = 1/2, so every weight is 1/4 and the Hessian is ",
               E(named("XᵀX/4", r"\tfrac14 X^{\top}X"), H0), ".")]
    steps.append(part("c", "The Hessian at w = 0", [E(named("∇²L(0)", r"\nabla^2 L(0)"), H0), "."], sec_c))
    answers = {"f2_sample": sp.exp(-z) / (1 + sp.exp(-z)) ** 2, "hessian_at_zero": H0, "verdict": "convex"}
    ans = want(ex, answers)
    top = lead(E(fn_at("ℓ''", z), sp.Mul(sg, 1 - sg, evaluate=False)), " > 0; the Hessian ",
               named("Σᵢ σ(zᵢ)(1 − σ(zᵢ)) xᵢxᵢᵀ", r"\sum_i \sigma(z_i)(1-\sigma(z_i))\, x_i x_i^{\top}"),
               " is PSD, so L is convex; ", E(named("∇²L(0)", r"\nabla^2 L(0)"), H0), ".")
    return Solution(ex, [top, *steps], ans, facts={"part_sections": {
        "f2_sample": "(a)", "verdict": "(b)", "hessian_at_zero": "(c)"}, **subjects({"verdict": loss}, ws)})
