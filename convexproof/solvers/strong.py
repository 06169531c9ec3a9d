"""Strong convexity (kind ``strong_convexity``).

Solver table::

    [solver]
    kind = "strong_convexity"
    var = "x"
    mu = "mu"                       # the modulus added to |x|
    hessian = "[[1, 2], [2, 1]]"    # a Hessian to which L2 regularisation lam*||w||^2 is added
    lam = "lam"

Answers: ``verdict_abs`` ("not strongly convex"), ``modulus`` (the largest m with
|x| + (mu/2)x^2 m-strongly convex), ``shift`` (2 lam), ``eigenvalues_regularized``.
A function f is m-strongly convex when f - (m/2)x^2 is convex; every refutation
below is a chord checked exactly for a symbolic m > 0.
"""

from __future__ import annotations

import sympy as sp

from convexproof.engine.exact import is_positive
from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol
from convexproof.solvers import Solution, register
from convexproof.engine.matrices import definiteness
from convexproof.solvers.toolkit import E, P, fn_at, formula, join_list, named, subjects, want
from convexproof.solvers import Figure
from convexproof.solvers.teach import figure, lead, part
from convexproof.solvers.univariate import analyse_function


def _chord_gap(h, x, a, b):
    mid = (a + b) / 2
    return sp.simplify(h.subs(x, mid) - (h.subs(x, a) + h.subs(x, b)) / 2)


@register("strong_convexity")
def solve_strong_convexity(ex) -> Solution:
    x = symbol(ex.solver.get("var", "x")) if isinstance(ex.solver.get("var", "x"), str) else symbol("x")
    mu = formula(ex, "mu")
    lam = formula(ex, "lam")
    H = formula(ex, "hessian")
    if not (mu.is_Rational and mu > 0 and lam.is_Rational and lam > 0):
        raise ExerciseError(f"{ex.path.name}: fields 'solver.mu' and 'solver.lam' must be positive numbers")
    if not isinstance(H, sp.MatrixBase) or H != H.T or H.free_symbols:
        raise ExerciseError(f"{ex.path.name}: field 'solver.hessian': must be a symmetric matrix of numbers")
    m = sp.Symbol("m", positive=True)
    ms = symbol("m")
    steps = []
    # 1. |x| is convex but not strongly convex
    body, facts = analyse_function(sp.Abs(x), x, sp.S.Reals, "|x|", "f")
    if facts["verdict"] != "convex":
        raise ExerciseError("internal: |x| not proved convex")
    h = sp.Abs(x) - m / 2 * x ** 2
    a, b = sp.Integer(1), sp.Integer(3)
    gap = _chord_gap(h, x, a, b)
    if not is_positive(gap):
        raise ExerciseError("internal: no chord for |x| - (m/2)x^2")
    body.append(P("Strong convexity with modulus ", E(ms, named("m > 0", "m > 0")) if False else ms,
                  " would mean that ", E(fn_at("h", x), h.subs(m, ms)), " is convex. It is not, for any ",
                  named("m > 0", "m > 0"), ": on the chord from ", E(x, a), " to ", E(x, b),
                  " the midpoint value exceeds the chord's height by ",
                  E(named("h(2) − (h(1) + h(3))/2", r"h(2) - \tfrac{h(1)+h(3)}{2}"), gap.subs(m, ms)),
                  ", which is positive. So |x| is convex but not strongly convex: it is flat on each side of 0."))
    steps.append(part("a", "|x| is convex but not strongly convex",
                      ["|x| is convex, but |x| − (m/2)x² is not convex for any m > 0."], body))
    # 2. |x| + (mu/2) x^2 is exactly mu-strongly convex
    g = sp.Abs(x) + mu / 2 * x ** 2
    over = _chord_gap(sp.Abs(x) - (m - mu) / 2 * x ** 2, x, a, b)
    steps.append(part("b", "Adding a quadratic", ["the function g is μ-strongly convex with ", E(symbol("mu"), mu),
                                                  ", and no larger modulus works."], [
        P("Let ", E(fn_at("g", x), g), ". Then ", E(named("g(x) − (μ/2)x²", r"g(x) - \tfrac{\mu}{2}x^2"), sp.Abs(x)),
          " with ", E(symbol("mu"), mu), ", which is convex by (a); so g is ", mu, "-strongly convex."),
        P("No larger modulus works: for ", named("m > μ", r"m > \mu"), ", ", named("g(x) − (m/2)x²",
          r"g(x) - \tfrac{m}{2}x^2"), " is ", named("|x| − ((m − μ)/2)x²", r"|x| - \tfrac{m-\mu}{2}x^2"),
          ", and the same chord gives the gap ", over.subs(m, ms), ", positive whenever ", named("m > μ", r"m > \mu"),
          ". The best modulus is exactly ", E(symbol("mu"), mu), "."),
        figure(Figure(title="|x| (flat on each side of 0: not strongly convex) and |x| plus the quadratic, which "
                            "curves upwards everywhere", curves=[
            {"label": sp.Abs(x), "expr": sp.Abs(x), "var": x, "breaks": [0]},
            {"label": g, "expr": g, "var": x, "breaks": [0]}], xmin=-2, xmax=2, xlabel=str(x))),
    ]))
    # 3. L2 regularisation shifts the eigenvalues by 2 lam
    n = H.shape[0]
    d0 = definiteness(H)
    Hr = sp.ImmutableMatrix(H + 2 * lam * sp.eye(n))
    d1 = definiteness(Hr)
    shifts = [sp.simplify(b_ - a_) for a_, b_ in zip(d0["eigenvalues"], d1["eigenvalues"])]
    if any(s != 2 * lam for s in shifts):
        raise ExerciseError("internal: the eigenvalues did not shift by 2 lam")
    steps.append(part("c", "L2 regularisation", ["every eigenvalue moves up by ", E(named("2λ", r"2\lambda"), 2 * lam),
                                                 "; the regularised eigenvalues are ", *join_list(d1["eigenvalues"]),
                                                 "."], [
        P("Adding ", named("λ‖w‖²", r"\lambda\|w\|^2"), " adds ", named("2λI", r"2\lambda I"),
          " to the Hessian, and ", E(named("(H + 2λI)v", r"(H + 2\lambda I)v"), named("(h + 2λ)v", r"(h + 2\lambda)v")),
          " for every eigenvector v of H with eigenvalue h: each eigenvalue moves up by exactly 2λ."),
        P("Here ", E(sp.Symbol("H"), sp.ImmutableMatrix(H)), " has eigenvalues ", *join_list(d0["eigenvalues"]),
          " (", d0["class"], "). With ", E(symbol("lam"), lam), " the regularised Hessian ",
          E(named("H + 2λI", r"H + 2\lambda I"), Hr), " has eigenvalues ", *join_list(d1["eigenvalues"]),
          " (", d1["class"], "): each moved up by ", E(named("2λ", r"2\lambda"), 2 * lam), "."),
        P("So L2 regularisation makes a problem more convex; once the smallest eigenvalue becomes positive, "
          "the regularised objective is strongly convex with modulus equal to that eigenvalue."),
    ]))
    answers = {"verdict_abs": "not strongly convex", "modulus": mu, "shift": 2 * lam,
               "eigenvalues_regularized": sp.Tuple(*d1["eigenvalues"]), "min_eigenvalue_regularized":
               d1["eigenvalues"][0]}
    ans = want(ex, answers)
    top = lead("|x| is convex but not strongly convex; g is μ-strongly convex with modulus exactly ", mu,
               "; L2 regularisation shifts every eigenvalue by ", 2 * lam, ", to ", *join_list(d1["eigenvalues"]), ".")
    return Solution(ex, [top, *steps], ans, facts={"part_sections": {
        "verdict_abs": "(a)", "modulus": "(b)", "shift": "(c)", "eigenvalues_regularized": "(c)",
        "min_eigenvalue_regularized": "(c)"}, **subjects({"verdict_abs": sp.Abs(x)}, [x])})
