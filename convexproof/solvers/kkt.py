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
    steps = [Section(title="The KKT conditions", children=[
        P("Write the constraint as ", sp.Le(g, 0, evaluate=False), " and form the Lagrangian ",
          E(named("L(x, μ)", r"\mathcal{L}(x, \mu)"), Lag), " with a multiplier ", sp.Ge(mu, 0, evaluate=False), "."),
        P("A point is optimal when it satisfies stationarity ", *join_list([E(gr, 0) for gr in grad]),
          ", primal feasibility ", sp.Le(g, 0, evaluate=False), ", dual feasibility ", sp.Ge(mu, 0, evaluate=False),
          " and complementary slackness ", E(mu * g, 0), ". Because the objective is convex (its Hessian ",
          sp.ImmutableMatrix(H), " is positive semidefinite) and the constraint is affine, these conditions are "
          "sufficient as well as necessary."),
    ])]
    found = None
    # case 1: inactive constraint, mu = 0
    s1 = sp.solve([gr.subs(mu, 0) for gr in grad], xs, dict=True)
    case = [P("Complementary slackness leaves two cases.")]
    if s1:
        p1 = [s1[0][v] for v in xs]
        g1 = g.subs(dict(zip(xs, p1)))
        ok1 = bool(g1 <= 0)
        case.append(P("Case μ = 0 (constraint inactive): stationarity gives ", sp.Tuple(*p1), ", where ",
                      E(named("g", "g"), g1), "; ", "this is feasible, so it is the minimiser." if ok1 else
                      "this violates the constraint, so the constraint must be active."))
        if ok1:
            found = (p1, sp.Integer(0), "inactive")
    if found is None:
        eqs = grad + [g]
        s2 = sp.solve(eqs, xs + [mu], dict=True)
        if len(s2) != 1:
            raise ExerciseError("internal: the active case has no unique solution")
        p2 = [s2[0][v] for v in xs]
        m2 = s2[0][mu]
        if not m2 >= 0:
            raise ExerciseError("internal: negative multiplier in the active case")
        case.append(P("Case ", E(g, 0), " (constraint active): stationarity together with the constraint gives ",
                      E(sp.Tuple(*xs), sp.Tuple(*p2)), " and ", E(mu, m2), ". The multiplier is non-negative, "
                      "so all four conditions hold."))
        found = (p2, m2, "active")
    pt, mval, active = found
    fmin = sp.simplify(f.subs(dict(zip(xs, pt))))
    gval = g.subs(dict(zip(xs, pt)))
    case.append(P("Complementary slackness: ", E(named("μ·g", r"\mu\, g"), sp.simplify(mval * gval)),
                  ". The minimiser is ", sp.Tuple(*pt), " with value ", E(fn_at("f", *pt), fmin), "."))
    if active == "active":
        case.append(P("The multiplier measures the price of the constraint: raising its right-hand side by a small "
                      "amount ε raises the optimal value by about μ ε."))
    steps.append(Section(title="Solving case by case", children=case))
    answers = {"minimizer": sp.Tuple(*pt), "multiplier": mval, "min_value": fmin, "active": active}
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    return Solution(ex, steps, ans)
