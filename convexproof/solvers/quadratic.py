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

from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol
from convexproof.solvers import Solution, register
from convexproof.engine.matrices import definiteness
from convexproof.solvers.toolkit import E, P, T, fn_at, formula, join_list, named, names_field, want
from convexproof.solvers.hessian import contour_figure
from convexproof.solvers.teach import FigureStep, figure, lead, part, summary_lead


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
    secs: dict = {}  # name -> (default title, lead pieces, body)
    xk_ = named("x_k", "x_k")
    # 1. the function and its curvature
    sec = [P("Let ", E(fn_at("f", *xs), f), ". Its gradient and Hessian are ", E(gsym, _pt(grad)), " and ",
             E(Hs, sp.ImmutableMatrix(H)), ".")]
    if n > 1:
        lam = symbol("lam")
        sec.append(P("The eigenvalues of the Hessian are the roots of ",
                     E(named("det(H − λI)", r"\det(H - \lambda I)"), sp.factor(H.charpoly(lam).as_expr())), ": ",
                     *join_list(ev), "."))
    sec.append(P("It is positive" if n == 1 else "They are all positive", ", so the Hessian is positive definite "
                 "everywhere and ", S, " is strictly convex: it has at most one minimiser, and a stationary point "
                 "is that minimiser."))
    if n == 1:
        secs["curvature"] = ("Strict convexity", [E(fn_at("f''", xs[0]), H[0, 0]), " > 0, so f is strictly convex."],
                             [P("Let ", E(fn_at("f", *xs), f), ". Then ", E(fn_at("f'", xs[0]), grad[0]), " and ",
                                E(fn_at("f''", xs[0]), H[0, 0]), " > 0, so f is strictly convex.")])
    else:
        secs["curvature"] = ("Strict convexity", [E(gsym, _pt(grad)), "; the Hessian ", E(Hs, sp.ImmutableMatrix(H)),
                                                  " has eigenvalues ",
                                                  *join_list(ev), ", all positive, so f is strictly convex."], sec)
    # 2. the minimiser
    sol = sp.solve(list(grad), xs, dict=True)
    if len(sol) != 1:
        raise ExerciseError(f"{ex.path.name}: the gradient of f does not vanish at exactly one point")
    xstar = sp.Matrix([sol[0][v] for v in xs])
    fmin = sp.simplify(f.subs(dict(zip(xs, xstar))))
    xs_ = named("x⋆", "x^{*}")
    secs["minimiser"] = ("The minimiser", [E(xs_, _pt(xstar)), " with the minimum value ",
                                           E(fn_at("f", *list(xstar)), fmin), "."], [
        P("Setting the gradient to zero gives ", *join_list([E(g, 0) for g in grad]),
          ", whose only solution is ", E(xs_, _pt(xstar)), "; by strict convexity it is the unique minimiser."),
        P("The minimum value is ", E(fn_at("f", *list(xstar)), fmin), "."),
    ])
    answers = {"hessian": sp.ImmutableMatrix(H), "eigenvalues": sp.Tuple(*ev), "minimizer": _pt(xstar),
               "min_value": fmin, "L": L, "mu": mu, "kappa": sp.simplify(L / mu),
               "min_eigenvalue": mu, "max_eigenvalue": L}
    eta = symbol("eta")
    start = _vec(ex, "start", n) if "start" in ex.solver else None
    plot = None
    if n == 2 and "plot" in ex.solver:
        from convexproof.solvers.univariate import plot_range

        plot = plot_range(ex, "solver.plot", ex.solver["plot"])
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
                 *join_list(factors), " (one per eigenvalue h of H, namely 1 − ηh). The matrix is symmetric, so "
                 "its norm is the largest absolute value, ", E(named("ρ", r"\rho"), rho), "."),
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
            rows, xk, path = [], sp.Matrix(start), []
            for k in range(k_max + 1):
                err = sp.sqrt(sum((c - s_) ** 2 for c, s_ in zip(xk, xstar)))
                rows.append([sp.Integer(k), _pt(xk.applyfunc(_short_number)),
                             _short_number(sp.simplify(f.subs(dict(zip(xs, xk))))), sp.Float(sp.N(err, 30), 4)])
                path.append(tuple(float(c) for c in xk))
                xk = xk - step * grad.subs(dict(zip(xs, xk)))
            sec.append(P("For example, from ", _pt(start), " (long fractions rounded to four digits):"))
            sec.append(T(["k", "iterate", "f", "distance to the minimiser"], rows))
            if plot is not None:
                for _ in range(25):
                    path.append(tuple(float(c) for c in xk))
                    xk = xk - step * grad.subs(dict(zip(xs, xk)))
                sec.append(figure(_path_figure(f"Gradient descent with step {step} from {tuple(int(c) if c.is_Integer else float(c) for c in start)}"
                                               " on the level sets of f", f, xs, plot, path, xstar)))
        secs["descent"] = ("Gradient descent", ["it converges from every start; the distance to the minimiser "
                                                "shrinks by at least the factor ", E(named("ρ", r"\rho"), rho),
                                                " per step."], sec)
        answers["contraction"] = rho
    # 4. the interval of convergent steps
    if ex.solver.get("threshold"):
        sets = [sp.solve_univariate_inequality(sp.Lt(sp.Abs(1 - eta * v), 1), eta, relational=False) for v in ev]
        good = sp.Intersection(*sets) if len(sets) > 1 else sets[0]
        if not isinstance(good, sp.Interval):
            raise ExerciseError(f"{ex.path.name}: could not solve for the convergent steps")
        cond = sp.And(sp.Lt(good.left, eta, evaluate=False), sp.Lt(eta, good.right, evaluate=False), evaluate=False)
        bar = named("η̄", r"\bar\eta")
        if n == 1:
            c = sp.expand(1 - eta * L)
            x = xs[0]
            secs["factor"] = ("One step", ["one step multiplies the point by ", E(sp.Symbol("c"), c), "."], [
                P("The gradient is ", E(fn_at("f'", x), sp.diff(f, x)), ", so one step gives ",
                  E(named("x_{k+1}", "x_{k+1}"), sp.Mul(c, xk_, evaluate=False)), ": the current point is multiplied "
                  "by ", E(sp.Symbol("c"), c), ", and after k steps ", E(xk_, named("cᵏ x_0", "c^k x_0")), "."),
            ])
        sec = [P("Each eigen-direction of H is multiplied by 1 − ηh per step (h the eigenvalue), so gradient "
                 "descent converges from every start exactly when |1 − ηh| < 1 for every eigenvalue h."),
               P("Solving these inequalities gives ", cond, ". The set of admissible steps is open: there is no "
                 "largest one, and the threshold is its supremum ", E(bar, good.right),
                 ", twice the reciprocal of the largest eigenvalue ", E(sp.Symbol("L"), L), ".")]
        edge = [sp.simplify(1 - good.right * v) for v in ev]
        over = 3 * good.right / 2
        secs["threshold"] = ("Which steps converge", ["exactly the steps ", cond, "; the threshold is ",
                                                      E(bar, good.right), "."], sec)
        esec = [P("At the threshold ", E(eta, good.right), " the factor along the stiffest direction is ",
                  edge[-1], ": the iterates bounce between two points and never settle. Beyond it, for instance at ",
                  E(eta, over), ", the factor is ", sp.simplify(1 - over * L),
                  ", whose absolute value exceeds 1, so the iterates oscillate with growing amplitude and diverge.")]
        if n == 1:
            esec.append(figure(_eta_figure(L, good.right)))
        secs["edge"] = ("At and beyond the threshold", ["at ", E(eta, good.right), " the iterates oscillate between ",
                                                        named("±x_0", r"\pm x_0"), " forever; for a larger step "
                                                        "they diverge."], esec)
        answers["eta_max"] = good.right
        answers["eta_condition"] = cond
    # 5. conditioning
    if ex.solver.get("conditioning"):
        kappa = sp.simplify(L / mu)
        rate = sp.simplify(1 - mu / L)
        best = sp.solve(sp.Eq(1 - eta * mu, -(1 - eta * L)), eta)[0]
        best_rate = sp.simplify(1 - best * mu)
        Ls, mus = sp.Symbol("L"), symbol("mu")
        secs["constants"] = ("Smoothness, strong convexity, condition number",
                             [E(Ls, L), ", ", E(mus, mu), ", ", E(symbol("kappa"), kappa), "."], [
            P("The Hessian is constant with eigenvalues ", *join_list(ev), ". The gradient is L-Lipschitz with L the "
              "largest eigenvalue and f is μ-strongly convex with μ the smallest: ", E(Ls, L), ", ", E(mus, mu),
              ", and the condition number is ", E(symbol("kappa"), kappa), ".")])
        secs["rate"] = ("The step 1/L", ["the error shrinks by ", E(named("1 − μ/L", r"1 - \mu/L"), rate),
                                         " per step."], [
            P("Along the eigen-direction with eigenvalue h a step of size η multiplies the error by 1 − ηh. With ",
              E(eta, 1 / L), " the factors are ", *join_list([sp.simplify(1 - v / L) for v in ev]),
              "; the largest is ", E(named("1 − μ/L", r"1 - \mu/L"), rate), ", so the error shrinks by this factor "
              "per step.")])
        bsec = [P("The largest factor max(|1 − ημ|, |1 − ηL|) is smallest when the two extreme factors balance, ",
                  E(1 - eta * mu, -(1 - eta * L)), ", which gives ", E(eta, best), " = 2/(L + μ) and the rate ",
                  E(named("(κ − 1)/(κ + 1)", r"\frac{\kappa - 1}{\kappa + 1}"), best_rate), "."),
                P("A large κ makes both rates close to 1: an ill-conditioned problem is slow for gradient descent "
                  "whatever fixed step we choose.")]
        if plot is not None:
            for st_, nm_ in ((1 / L, "1/L"), (best, "2/(L + μ)")):
                pass
            x0 = sp.Matrix([sp.Rational(3, 2) if i == 0 else sp.Rational(1, 2) for i in range(n)])
            path, xk = [], x0
            for _ in range(12):
                path.append(tuple(float(c) for c in xk))
                xk = xk - best * grad.subs(dict(zip(xs, xk)))
            bsec.append(figure(_path_figure("Gradient descent with the best step: it zigzags across the narrow "
                                            "valley", f, xs, plot, path, xstar)))
        secs["best"] = ("The best fixed step", [E(eta, best), " = 2/(L + μ), with the rate ",
                                                E(named("(κ − 1)/(κ + 1)", r"\frac{\kappa - 1}{\kappa + 1}"),
                                                  best_rate), "."], bsec)
        answers.update(rate_1_over_L=rate, best_step=best, best_rate=best_rate)
    # 6. Newton's method
    if ex.solver.get("newton"):
        if start is None:
            raise ExerciseError(f"{ex.path.name}: field 'solver.start': Newton's method needs a starting point")
        g0 = grad.subs(dict(zip(xs, start)))
        Hinv = H.inv()
        x1 = sp.simplify(start - Hinv * g0)
        g1 = grad.subs(dict(zip(xs, x1)))
        x1n = named("x_1", "x_1")
        nsec = [P("Newton's method steps to the minimiser of the second-order Taylor model: ",
                  E(x1n, named("x_0 − H⁻¹∇f(x_0)", r"x_0 - H^{-1} \nabla f(x_0)")), "."),
                P("From ", E(named("x_0", "x_0"), _pt(start)), ": ", E(named("∇f(x_0)", r"\nabla f(x_0)"), _pt(g0)),
                  " and ", E(named("H⁻¹", "H^{-1}"), sp.ImmutableMatrix(Hinv)), ", so ", E(x1n, _pt(x1)), ".")]
        if plot is None and n == 2:  # a window that holds the start and the minimiser
            coords = [float(c) for c in list(start) + list(x1)]
            plot = (min(coords) - 1.5, max(coords) + 1.5)
        if plot is not None:
            nsec.append(figure(_path_figure("One Newton step from the start lands on the minimiser",
                                            f, xs, plot, [tuple(float(c) for c in start), tuple(float(c) for c in x1)],
                                            xstar)))
        secs["newton"] = ("One Newton step", [E(x1n, _pt(x1)), "."], nsec)
        secs["newton_why"] = ("Why one step suffices", [E(named("∇f(x_1)", r"\nabla f(x_1)"), _pt(g1)),
                                                        ", so x₁ is the minimiser; for a quadratic the Taylor model is "
                                                        "f itself, so this holds from every start."], [
            P("The gradient at x₁ is ", E(named("∇f(x_1)", r"\nabla f(x_1)"), _pt(g1)), "; since f is strictly "
              "convex, this stationary point is the minimiser ", E(xs_, _pt(xstar)), "."),
            P("In general ", E(named("∇f(x_0)", r"\nabla f(x_0)"), named("H(x_0 − x⋆)", r"H(x_0 - x^{*})")),
              " for a quadratic, so ", E(x1n, named("x_0 − H⁻¹H(x_0 − x⋆) = x⋆", r"x_0 - H^{-1}H(x_0 - x^{*}) = x^{*}")),
              " whatever x₀ is: the second-order Taylor model of a quadratic is the function itself, and Newton's "
              "method minimises it exactly.")])
        if list(g1) != [0] * n or list(x1) != list(xstar):
            raise ExerciseError("Newton's step did not reach the minimiser")  # cannot happen for a PD quadratic
        answers["newton_point"] = _pt(x1)
    ans = want(ex, answers)
    order = ex.solver.get("sections_text")
    steps = []
    home = {"hessian": "curvature", "eigenvalues": "curvature", "minimizer": "minimiser", "min_value": "minimiser",
            "contraction": "descent", "eta_max": "threshold", "eta_condition": "threshold", "L": "constants",
            "mu": "constants", "kappa": "constants", "rate_1_over_L": "rate", "best_step": "best", "best_rate": "best",
            "newton_point": "newton", "min_eigenvalue": "curvature", "max_eigenvalue": "curvature"}
    part_sections = {}
    if isinstance(order, dict) and order:
        from convexproof.solvers.univariate import _split_label as _sl

        for p in ans:
            key = home.get(p)
            if key in order and _sl(str(order[key]))[0]:
                part_sections[p] = f"({_sl(str(order[key]))[0]})"
            elif p == "min_value" and "newton_why" in order:
                part_sections[p] = f"({_sl(str(order['newton_why']))[0]})"
    if isinstance(order, dict) and order:
        from convexproof.solvers.univariate import _split_label

        for key, title in order.items():
            if key not in secs:
                raise ExerciseError(f"{ex.path.name}: field 'solver.sections_text.{key}': unknown; this exercise has "
                                    f"{', '.join(secs)}")
            tag, head = _split_label(str(title))
            steps.append(part(tag, head or secs[key][0], secs[key][1], secs[key][2]))
    else:
        steps = [part("", t, ld, body) for t, ld, body in secs.values()]
    top = summary_lead(steps)
    figures = []
    if n == 2 and plot is not None and not any(isinstance(c, FigureStep) for st in steps for c in st.children):
        steps[0].children.append(figure(contour_figure("Level sets of f (ellipses around the minimiser)", f, xs,
                                                       *plot)))
    return Solution(ex, [top, *steps], ans, figures=figures, facts={"part_sections": part_sections})


def _short_number(v):
    """A table entry as a teacher writes it: exact if its denominator is small, else four significant digits."""
    if getattr(v, "is_Rational", False) and v.q > 100:
        return sp.Float(v, 4)
    return v


def _path_figure(title, f, xs, plot, path, xstar):
    """Contour lines of f with an optimisation path drawn on them."""
    fig = contour_figure(title, f, xs, *plot)
    lo, hi = plot
    pts = [(round(a, 4), round(b, 4)) for a, b in path if lo <= a <= hi and lo <= b <= hi]
    fig.curves.append({"label": "", "points": pts, "style": "thick, black, mark=*, mark size=1.5pt"})
    fig.curves.append({"label": "", "points": [(float(xstar[0]), float(xstar[1]))],
                       "style": "only marks, mark=x, mark size=4pt, red"})
    return fig


def _eta_figure(a, bar):
    """x_k against k for several steps on f = (a/2)x^2, from x_0 = 1."""
    from convexproof.solvers import Figure

    curves = []
    styles = ["thick, blue, mark=*", "thick, black!60!green, mark=square*", "thick, orange, mark=triangle*",
              "thick, red, mark=diamond*"]
    bar_eta = named("η̄", r"\bar\eta")
    eta_s = symbol("eta")
    for frac, style in zip([sp.Rational(1, 4), sp.Rational(3, 4), sp.Integer(1), sp.Rational(21, 20)], styles):
        eta = frac * bar
        c = 1 - eta * a
        shown = bar_eta if frac == 1 else sp.Mul(frac, bar_eta, evaluate=False)
        curves.append({"label": sp.Eq(eta_s, shown, evaluate=False),
                       "points": [(k, float(c ** k)) for k in range(9)], "style": style})
    return Figure(title="The iterates against the step number k, from the start 1, for four steps: monotone, "
                        "oscillating but converging, bouncing at the threshold, diverging beyond it",
                  curves=curves, xmin=0, xmax=8,
                  xlabel="k", ymin=-1.6, ymax=1.6)
