"""One inequality constraint: the KKT conditions solved case by case (kind ``kkt``).

Solver table::

    [solver]
    kind = "kkt"
    vars = ["x", "y"]
    objective = "x**2 + k*y**2"
    constraint = "b - x - y"      # g(x) <= 0, i.e. x + y >= b

The objective must be convex (checked from its constant Hessian) and the
constraint affine, so the KKT conditions are sufficient as well as necessary.
Answers: ``minimizer``, ``multiplier``, ``min_value``, ``active`` ("active"/"inactive").
"""

from __future__ import annotations

import sympy as sp

from convexproof.engine.exact import certified_sign
from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol
from convexproof.solvers import Solution, register
from convexproof.solvers.teach import figure, part, summary_lead
from convexproof.engine.matrices import definiteness
from convexproof.solvers.toolkit import E, P, fn_at, formula, join_list, named, names_field, want


@register("kkt")
def solve_kkt(ex) -> Solution:
    xs = names_field(ex, "vars", ["x", "y"])
    f = sp.expand(formula(ex, "objective"))
    g = sp.expand(formula(ex, "constraint"))
    if (f.free_symbols | g.free_symbols) - set(xs):
        raise ExerciseError(f"{ex.path.name}: fields 'solver.objective'/'solver.constraint' use unknown names")
    if not g.is_polynomial(*xs) or sp.Poly(g, *xs).total_degree() > 1:
        raise ExerciseError(f"{ex.path.name}: field 'solver.constraint': must be affine")
    H = sp.hessian(f, xs)
    d = definiteness(H) if not H.free_symbols else {"psd": False}
    if not d["psd"]:
        raise ExerciseError(f"{ex.path.name}: field 'solver.objective': must be a convex quadratic")
    mu = symbol("mu")
    Lag = f + mu * g
    grad = [sp.expand(sp.diff(Lag, v)) for v in xs]
    gname = named("g(x, y)", "g(x, y)") if len(xs) == 2 else sp.Symbol("g")
    Lname = named("L(x, μ)", r"\mathcal{L}(x, \mu)")
    sec_a = [
        P("Write the constraint as ", E(gname, g), " ≤ 0 and form the Lagrangian ", E(Lname, Lag),
          " with a multiplier ", sp.Ge(mu, 0, evaluate=False), "."),
        P("The KKT conditions are: stationarity ", *join_list([E(gr, 0) for gr in grad]),
          "; primal feasibility ", sp.Le(g, 0, evaluate=False), "; dual feasibility ", sp.Ge(mu, 0, evaluate=False),
          "; complementary slackness ", E(mu * g, 0), "."),
    ]
    steps = [part("a", "The Lagrangian and the KKT conditions", [E(Lname, Lag), " with ", sp.Ge(mu, 0, evaluate=False),
                                                                 "; stationarity, feasibility of the point and of the "
                                                                 "multiplier, and ", E(mu * g, 0), "."], sec_a)]
    found = None
    # case 1: inactive constraint, mu = 0
    s1 = sp.solve([gr.subs(mu, 0) for gr in grad], xs, dict=True)
    case = [P("Complementary slackness leaves two cases.")]
    lead_b = []
    if s1:
        p1 = [s1[0][v] for v in xs]
        g1 = g.subs(dict(zip(xs, p1)))
        ok1 = certified_sign(g1) in (-1, 0)
        case.append(P("Case μ = 0 (constraint inactive): stationarity gives ", sp.Tuple(*p1), ", where ",
                      E(named("g", "g"), g1), ", so ", "this point is feasible and it is the minimiser." if ok1 else
                      "it violates the constraint: this case has no solution."))
        lead_b += ["μ = 0 gives ", sp.Tuple(*p1), ", which is " + ("feasible" if ok1 else "infeasible")]
        if ok1:
            found = (p1, sp.Integer(0), "inactive")
    if found is None:
        eqs = grad + [g]
        s2 = sp.solve(eqs, xs + [mu], dict=True)
        if len(s2) != 1:
            raise ExerciseError("internal: the active case has no unique solution")
        p2 = [s2[0][v] for v in xs]
        m2 = s2[0][mu]
        if certified_sign(m2) not in (0, 1):
            raise ExerciseError("internal: negative multiplier in the active case")
        case.append(P("Case ", E(g, 0), " (constraint active): stationarity together with the constraint gives ",
                      E(sp.Tuple(*xs), sp.Tuple(*p2)), " and ", E(mu, m2), ". The multiplier is non-negative, "
                      "so all four conditions hold."))
        lead_b += ["; the active case ", E(g, 0), " gives ", E(sp.Tuple(*xs), sp.Tuple(*p2)), " with ", E(mu, m2),
                   " ≥ 0"]
        found = (p2, m2, "active")
    steps.append(part("b", "Solving case by case", [*lead_b, "."], case))
    pt, mval, active = found
    fmin = sp.simplify(f.subs(dict(zip(xs, pt))))
    gval = g.subs(dict(zip(xs, pt)))
    sec_c = [P("The minimiser is ", sp.Tuple(*pt), " with multiplier ", E(mu, mval), " and value ",
               E(fn_at("f", *pt), fmin), "; complementary slackness holds: ",
               E(named("μ·g", r"\mu\, g"), sp.simplify(mval * gval)), "."),
             P("The KKT conditions are sufficient here because the objective is convex (its Hessian ",
               sp.ImmutableMatrix(H), " is positive semidefinite) and the constraint is affine: for such problems "
               "any point satisfying the four conditions is a global minimiser. They are also necessary, since an "
               "affine constraint needs no further qualification.")]
    if active == "active":
        sec_c.append(P("The multiplier measures the price of the constraint: raising its right-hand side by a small "
                       "amount ε raises the optimal value by about μ ε."))
    if len(xs) == 2:
        sec_c.append(figure(_kkt_figure(f, g, xs, pt, H)))
    steps.append(part("c", "The minimiser and why KKT suffices", [sp.Tuple(*pt), ", ", E(mu, mval), ", ",
                                                                   E(fn_at("f", *pt), fmin),
                                                                   "; sufficient because f is convex and the "
                                                                   "constraint affine."], sec_c))
    answers = {"minimizer": sp.Tuple(*pt), "multiplier": mval, "min_value": fmin, "active": active}
    ans = want(ex, answers)
    return Solution(ex, [summary_lead(steps), *steps], ans, facts={"part_sections": {
        "minimizer": "(c)", "multiplier": "(c)", "min_value": "(c)", "active": "(b)"}})


def _kkt_figure(f, g, xs, pt, H):
    """Level sets of f, the boundary g = 0 (feasible side marked), the minimiser where a level set touches it."""
    from convexproof.solvers.hessian import contour_figure

    px, py = (float(v) for v in pt)
    r = max(2.0, abs(px) + abs(py) + 1.0)
    fig = contour_figure("The KKT picture: the smallest level set of f that touches the feasible half-plane touches "
                         "it at the minimiser, where the gradient of f is a multiple of the gradient of g", f, xs,
                         -r, r)
    x = xs[0]
    c = [sp.diff(g, v) for v in xs]
    c0 = g.subs({v: 0 for v in xs})
    pts = []
    if c[1] != 0:
        for k in range(21):
            xv = -r + 2 * r * k / 20
            yv = float(-(c0 + c[0] * xv) / c[1])
            if -r <= yv <= r:
                pts.append((round(xv, 4), round(yv, 4)))
    fig.curves.append({"label": "", "points": pts, "style": "very thick, black"})
    fig.curves.append({"label": "", "points": [(px, py)], "style": "only marks, mark=*, mark size=3pt, red"})
    return fig
