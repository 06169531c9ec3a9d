"""Strictly convex quadratics: minimiser, gradient descent, conditioning, Newton (kind ``quadratic``).

Solver table::

    [solver]
    kind = "quadratic"
    vars = ["x", "y"]
    f = "x**2 + y**2 + x*y + p*x + q*y"
    step = "1/10"              # optional: analyse gradient descent with this fixed step
    start = "[3, 4]"           # optional: where iterations start (GD table, Newton step)
    iterations = 3             # optional: rows of the GD table
    threshold = true           # optional: the interval of steps for which GD converges
    conditioning = true        # optional: L, mu, kappa, rate at 1/L, best fixed step
    newton = true              # optional: one Newton step from start

Answers: ``hessian``, ``eigenvalues``, ``minimizer``, ``min_value``, ``L``,
``mu``, ``kappa``, ``contraction`` (with ``step``), ``eta_max`` and
``eta_condition`` (with ``threshold``), ``rate_1_over_L``, ``best_step``,
``best_rate`` (with ``conditioning``), ``newton_point`` (with ``newton``).
All are computed exactly from the Hessian's eigenvalues.
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
    T,
    answer_steps,
    definiteness,
    fn_at,
    formula,
    join_list,
    named,
    names_field,
    want,
)
from .hessian import contour_figure


def _vec(ex, key, n):
    v = formula(ex, key)
    if isinstance(v, sp.MatrixBase):
        vals = list(v)
    elif isinstance(v, sp.Tuple):
        vals = list(v)
    else:
        vals = [v]
    if len(vals) != n or any(getattr(c, "free_symbols", set()) for c in vals):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a list of {n} numbers")
    return sp.Matrix(vals)


def _pt(m):
    vals = list(m)
    return vals[0] if len(vals) == 1 else sp.Tuple(*vals)


@register("quadratic")
def solve_quadratic(ex) -> Solution:
    xs = names_field(ex, "vars", ["x", "y"])
    n = len(xs)
    f = sp.expand(formula(ex, "f"))
    if f.free_symbols - set(xs) or not f.is_polynomial(*xs) or sp.Poly(f, *xs).total_degree() != 2:
        raise ExerciseError(f"{ex.path.name}: field 'solver.f': must be a quadratic in {', '.join(map(str, xs))}")
    grad = sp.Matrix([sp.diff(f, v) for v in xs])
    H = sp.hessian(f, xs) if n > 1 else sp.Matrix([[sp.diff(f, xs[0], 2)]])
    d = definiteness(H)
    if not d["pd"]:
        raise ExerciseError(f"{ex.path.name}: field 'solver.f': the Hessian is not positive definite "
                            f"(eigenvalues {', '.join(map(str, d['eigenvalues']))})")
    ev = d["eigenvalues"]
    mu, L = ev[0], ev[-1]
    S = sp.Symbol("f")
    Hs = sp.Symbol("H")
    gsym = named("∇f", r"\nabla f")
    steps = []
    # 1. the function and its curvature
    sec = [P("Let ", E(fn_at("f", *xs), f), ". Its gradient and Hessian are ", E(gsym, _pt(grad)), " and ",
             E(Hs, sp.ImmutableMatrix(H)), ".")]
    if n > 1:
        lam = symbol("lam")
        sec.append(P("The eigenvalues of the Hessian are the roots of ",
                     E(named("det(H − λI)", r"\det(H - \lambda I)"), sp.factor(H.charpoly(lam).as_expr())), ": ",
                     *join_list(ev), "."))
    sec.append(P("It is positive" if n == 1 else "They are all positive", ", so the Hessian is positive definite everywhere and ", S,
                 " is strictly convex: it has at most one minimiser, and any stationary point is it."))
    steps.append(Section(title="Curvature", children=sec))
    # 2. the minimiser
    sol = sp.solve(list(grad), xs, dict=True)
    if len(sol) != 1:
        raise ExerciseError(f"{ex.path.name}: the gradient of f does not vanish at exactly one point")
    xstar = sp.Matrix([sol[0][v] for v in xs])
    fmin = sp.simplify(f.subs(dict(zip(xs, xstar))))
    steps.append(Section(title="The minimiser", children=[
        P("Setting the gradient to zero gives ", *join_list([E(g, 0) for g in grad]),
          ", whose only solution is ", E(named("x⋆", "x^{*}"), _pt(xstar)), "."),
        P("The minimum value is ", E(fn_at("f", *list(xstar)), fmin), "."),
    ]))
    answers = {"hessian": sp.ImmutableMatrix(H), "eigenvalues": sp.Tuple(*ev), "minimizer": _pt(xstar),
               "min_value": fmin, "L": L, "mu": mu, "kappa": sp.simplify(L / mu),
               "min_eigenvalue": mu, "max_eigenvalue": L}
    eta = symbol("eta")
    start = _vec(ex, "start", n) if "start" in ex.solver else None
    # 3. gradient descent with a fixed step
    if "step" in ex.solver:
        step = formula(ex, "step")
        if not (step.is_Rational and step > 0):
            raise ExerciseError(f"{ex.path.name}: field 'solver.step': must be a positive number")
        factors = [sp.simplify(1 - step * v) for v in ev]
        rho = max((abs(c) for c in factors), key=lambda c: float(c))
        sec = [P("Gradient descent updates ", E(named("x_{k+1}", "x_{k+1}"), named("x_k − η∇f(x_k)",
                                                                            r"x_k - \eta \nabla f(x_k)")),
                 ". Because ", E(named("∇f(x)", r"\nabla f(x)"), named("H(x − x⋆)", r"H(x - x^{*})")),
                 " for a quadratic, the error ", E(named("e_k", "e_k"), named("x_k − x⋆", r"x_k - x^{*}")),
                 " obeys ", E(named("e_{k+1}", "e_{k+1}"), named("(I − ηH) e_k", r"(I - \eta H)\, e_k")), "."),
               P("With ", E(eta, step), " the eigenvalues of ", named("I − ηH", r"I - \eta H"), " are ",
                 *join_list(factors), " (one per eigenvalue of H, namely ", named("1 − ηλ", r"1 - \eta\lambda"),
                 "). The matrix is symmetric, so its norm is the largest absolute value, ",
                 E(named("ρ", r"\rho"), rho), "."),
               ]
        if rho < 1:
            sec.append(P("Since ", sp.Lt(rho, 1, evaluate=False), ", every step shrinks the error by at least this "
                         "factor: ", named("‖e_k‖ ≤ ρᵏ ‖e_0‖", r"\|e_k\| \le \rho^k \|e_0\|"),
                         ". The iterates converge to ", _pt(xstar), " from every starting point."))
        else:
            sec.append(P("Since ", sp.Ge(rho, 1, evaluate=False), ", this step does not contract the error."))
        if start is not None:
            k_max = ex.solver.get("iterations", 3)
            if not isinstance(k_max, int) or not 1 <= k_max <= 8:
                raise ExerciseError(f"{ex.path.name}: field 'solver.iterations': must be a whole number 1 to 8")
            rows, xk = [], sp.Matrix(start)
            for k in range(k_max + 1):
                err = sp.sqrt(sum((c - s) ** 2 for c, s in zip(xk, xstar)))
                rows.append([sp.Integer(k), _pt(xk), sp.simplify(f.subs(dict(zip(xs, xk)))),
                             sp.Float(sp.N(err, 30), 4)])
                xk = xk - step * grad.subs(dict(zip(xs, xk)))
            sec.append(P("For example, from ", _pt(start), ":"))
            sec.append(T(["k", "iterate", "f", "distance to the minimiser"], rows))
        steps.append(Section(title="Gradient descent", children=sec))
        answers["contraction"] = rho
    # 4. the interval of convergent steps
    if ex.solver.get("threshold"):
        sets = [sp.solve_univariate_inequality(sp.Lt(sp.Abs(1 - eta * v), 1), eta, relational=False) for v in ev]
        good = sp.Intersection(*sets) if len(sets) > 1 else sets[0]
        if not isinstance(good, sp.Interval):
            raise ExerciseError(f"{ex.path.name}: could not solve for the convergent steps")
        cond = sp.And(sp.Lt(good.left, eta, evaluate=False), sp.Lt(eta, good.right, evaluate=False), evaluate=False)
        sec = [P("Each eigen-direction of H is multiplied by ", named("1 − ηλ", r"1 - \eta\lambda"),
                 " per step, so gradient descent converges from every start exactly when ",
                 named("|1 − ηλ| < 1", r"|1 - \eta\lambda| < 1"), " for every eigenvalue λ of H."),
               P("Solving these inequalities gives ", cond, ", that is ", E(named("η_max", r"\eta_{\max}"), good.right),
                 ", twice the reciprocal of the largest eigenvalue ", E(sp.Symbol("L"), L), ".")]
        edge = [sp.simplify(1 - good.right * v) for v in ev]
        over = 3 * good.right / 2
        sec.append(P("At the threshold ", E(eta, good.right), " the factor along the stiffest direction is ",
                     edge[-1], ": the iterates bounce back and forth without settling. Beyond it, for instance at ",
                     E(eta, over), ", the factor is ", sp.simplify(1 - over * L),
                     ", whose absolute value exceeds 1, so the iterates grow without bound."))
        steps.append(Section(title="Which steps converge", children=sec))
        answers["eta_max"] = good.right
        answers["eta_condition"] = cond
    # 5. conditioning
    if ex.solver.get("conditioning"):
        kappa = sp.simplify(L / mu)
        rate = sp.simplify(1 - mu / L)
        best = sp.solve(sp.Eq(1 - eta * mu, -(1 - eta * L)), eta)[0]
        best_rate = sp.simplify(1 - best * mu)
        sec = [P("The gradient is L-Lipschitz with L the largest eigenvalue and the function is μ-strongly convex "
                 "with μ the smallest: ", E(sp.Symbol("L"), L), ", ", E(symbol("mu"), mu), ", and the condition "
                 "number is ", E(symbol("kappa"), kappa), "."),
               P("With the step ", E(eta, 1 / L), " the factors ", named("1 − λ/L", r"1 - \lambda/L"), " are ",
                 *join_list([sp.simplify(1 - v / L) for v in ev]), "; the largest is ",
                 E(named("1 − μ/L", r"1 - \mu/L"), rate), ", so the error shrinks by this factor per step."),
               P("The best fixed step balances the two extreme factors, ", E(1 - eta * mu, -(1 - eta * L)),
                 ", which gives ", E(eta, best), " and the rate ",
                 E(named("(κ − 1)/(κ + 1)", r"\frac{\kappa - 1}{\kappa + 1}"), best_rate), "."),
               P("A large κ makes both rates close to 1: an ill-conditioned problem is slow for gradient descent "
                 "whatever fixed step we choose.")]
        steps.append(Section(title="Smoothness and conditioning", children=sec))
        answers.update(rate_1_over_L=rate, best_step=best, best_rate=best_rate)
    # 6. Newton's method
    if ex.solver.get("newton"):
        if start is None:
            raise ExerciseError(f"{ex.path.name}: field 'solver.start': Newton's method needs a starting point")
        g0 = grad.subs(dict(zip(xs, start)))
        Hinv = H.inv()
        x1 = sp.simplify(start - Hinv * g0)
        g1 = grad.subs(dict(zip(xs, x1)))
        sec = [P("Newton's method steps to the minimiser of the second-order Taylor model: ",
                 E(named("x_1", "x_1"), named("x_0 − H⁻¹∇f(x_0)", r"x_0 - H^{-1} \nabla f(x_0)")), "."),
               P("From ", E(named("x_0", "x_0"), _pt(start)), ": ", E(named("∇f(x_0)", r"\nabla f(x_0)"), _pt(g0)),
                 " and ", E(named("H⁻¹", "H^{-1}"), sp.ImmutableMatrix(Hinv)), ", so ",
                 E(named("x_1", "x_1"), _pt(x1)), "."),
               P("The gradient there is ", E(named("∇f(x_1)", r"\nabla f(x_1)"), _pt(g1)),
                 ": one step has reached the minimiser. For a quadratic the Taylor model is the function itself, "
                 "so this happens from every start.")]
        if list(g1) != [0] * n or list(x1) != list(xstar):
            raise ExerciseError("Newton's step did not reach the minimiser")  # cannot happen for a PD quadratic
        steps.append(Section(title="One Newton step", children=sec))
        answers["newton_point"] = _pt(x1)
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    figures = []
    if n == 2 and "plot" in ex.solver:
        from .univariate import plot_range

        lo, hi = plot_range(ex, "solver.plot", ex.solver["plot"])
        figures.append(contour_figure("Level sets", f, xs, lo, hi))
    return Solution(ex, steps, ans, figures=figures)
