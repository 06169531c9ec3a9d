"""The minimal regularisation of a polynomial (kind ``minimal-regularisation``).

(``second-derivative-convexity`` is the same kind as ``second_derivative_test``: see
:mod:`convexproof.solvers.univariate`.)

``minimal-regularisation``
    The smallest ``parameter`` >= 0 such that ``function + penalty`` is convex
    in ``variable``, for a polynomial ``function`` and a penalty whose second
    derivative is a positive constant times the parameter (``lam x^2``).
    Shows the minimum of f'' over x, the condition, the check at the optimum
    and, for each known wrong smaller value (the part's ``[[mistakes]]``, or
    half the optimum), a verified witness: f''(x0) < 0 and a chord violating
    Jensen's inequality.  Answers: ``lambda_min``, ``second_derivative``.
"""

from __future__ import annotations

import sympy as sp

from convexproof.runtime.errors import ExerciseError
from convexproof.render.mathtext import unicode as U
from convexproof.steps import Claim, Equation, Paragraph, Section
from convexproof.solvers import Figure, Solution, register
from convexproof.engine.exact import is_negative, is_positive
from convexproof.solvers.common import Minimum, Prose
from convexproof.engine.witness import Witness
from convexproof.steps.proof import WitnessStep
from convexproof.solvers.toolkit import chord_witness, deriv, fn, function_name, inputs, numeric


def _minimum_over_real_line(expr: sp.Expr, x: sp.Symbol):
    """(critical points, argmin, min) of a polynomial with numeric coefficients bounded below, or None."""
    poly = sp.Poly(expr, x)
    deg = poly.degree()
    if deg <= 0:
        return [], sp.Integer(0), poly.as_expr()
    if deg % 2 or poly.LC() <= 0:
        return None
    dpoly = poly.diff(x)
    roots = [r for r in sp.roots(dpoly, filter="R") if r.is_real]
    if not roots or (dpoly.degree() > 2 and len(roots) < len(set(dpoly.real_roots()))):
        roots = list(dict.fromkeys(dpoly.real_roots()))
    values = [(poly.eval(r) if r.is_Rational else sp.simplify(poly.as_expr().subs(x, r)), r) for r in roots]
    best_value, best_point = min(values, key=lambda vr: float(vr[0]))
    return sorted(roots, key=float), best_point, best_value


@register("minimal-regularisation")
def minimal_regularisation(ex) -> Solution:
    inp = inputs(ex, "function", "penalty", "variable", "parameter", optional=("plot",))
    f0, pen, x, lam = inp["function"], inp["penalty"], inp["variable"], inp["parameter"]
    name = function_name(ex)
    bad = (f0.free_symbols | pen.free_symbols) - {x, lam}
    if bad:
        raise ExerciseError(f"{ex.path.name}: field 'solver.function': unknown symbols "
                            f"{', '.join(sorted(s.name for s in bad))} (declare them under [params])")
    f = f0 + pen
    need = (f"{ex.path.name}: solver minimal-regularisation needs a polynomial function and a penalty whose "
            f"second derivative is a positive constant times {U(lam)}")
    # Exact polynomial arithmetic in (x, lam): the same derivatives as sp.diff, without its start-up cost.
    try:
        P = sp.Poly(f, x, lam)
    except sp.PolynomialError:
        raise ExerciseError(need) from None
    if not P.domain.is_QQ and not P.domain.is_ZZ:
        raise ExerciseError(need)
    P1 = P.diff(x)
    P2 = P1.diff(x)
    d1, d2 = P1.as_expr(), P2.as_expr()
    A_poly = P2.eval(lam, 0)
    B_poly = P2.diff(lam)
    if not B_poly.is_ground or not B_poly.LC() > 0 or P2.degree(lam) > 1:
        raise ExerciseError(need)
    A, B = A_poly.as_expr(), B_poly.LC()
    found = _minimum_over_real_line(A, x)
    if found is None:
        raise ExerciseError(f"{ex.path.name}: the second derivative of the function is not bounded below, "
                            f"no {U(lam)} makes it convex")
    critical, x0, m = found
    min_d2 = m + B * lam
    lam_star = sp.Max(sp.Integer(0), -m / B)
    steps = [Section("The second derivative", children=[
        Equation(fn(name, x), f),
        Equation(deriv(name, x, 1), d1),
        Equation(deriv(name, x, 2), d2),
        Paragraph(f"{name} is convex exactly when {name}''({U(x)}) ≥ 0 for every real {U(x)}, that is, when the "
                  f"minimum of {name}''({U(x)}) over {U(x)} is ≥ 0."),
    ])]
    d3 = A_poly.diff(x).as_expr()
    steps.append(Section(f"The minimum of {name}''({U(x)}) over {U(x)}", children=[
        Prose([("text", "The term "), ("math", B * lam), ("text", f" does not depend on {U(x)}. "
               "The rest is a polynomial of even degree with a positive leading coefficient, so its minimum is "
               "attained where its derivative "), ("math", d3), ("text", " vanishes.")]),
        Minimum(d2, x, critical, x0, min_d2),
    ]))
    steps.append(Section(f"The condition on {U(lam)}", children=[
        Prose([("text", "Convexity holds exactly when "), ("math", sp.GreaterThan(min_d2, 0, evaluate=False)),
               ("text", ", that is, when "), ("math", sp.GreaterThan(lam, -m / B, evaluate=False)),
               ("text", f". The smallest such value is {U(lam)}* = "), ("math", lam_star), ("text", ".")]),
    ]))
    d2_star = P2.eval(lam, lam_star).as_expr()
    check = _minimum_over_real_line(d2_star, x)
    assert check is not None and check[2] >= 0  # follows from the algebra above
    steps.append(Section(f"Check at {U(lam)} = {U(lam)}*", children=[
        Equation(deriv(name, x, 2), d2_star, f"{U(lam)} = {U(lam_star)}"),
        Claim(f"Its minimum over {U(x)} is", check[2], f", attained at {U(x)} = {U(check[1])}, so {name}''({U(x)}) ≥ 0 for "
              f"every {U(x)} and {name} is convex."),
    ]))

    plot_rng = inp.get("plot") if isinstance(inp.get("plot"), list) and len(inp.get("plot")) == 2 and all(
        getattr(v, "is_Rational", False) for v in inp.get("plot")) else [sp.Integer(-2), sp.Integer(2)]
    # Smaller values: the known wrong answers of the lambda_min part, else lam*/2.
    wrong: list[tuple[sp.Expr, object]] = []
    for mk in ex.mistakes:
        if mk.part != "lambda_min":
            continue
        try:
            v = ex.formula(mk.answer, where="mistakes.answer")
        except ExerciseError:
            continue
        if isinstance(v, sp.Expr) and numeric(v) and v.is_real and is_negative(v - lam_star):
            wrong.append((v, mk))
    if not wrong and is_positive(lam_star):
        wrong.append((lam_star / 2, None))
    for v, mk in wrong:
        fv = P.eval(lam, v).as_expr()
        d2v_poly = P2.eval(lam, v)
        d2v = d2v_poly.as_expr()
        value = d2v_poly.eval(x0) if x0.is_Rational else d2v.subs(x, x0)
        children = [Equation(fn(name, x), fv, f"{U(lam)} = {U(v)}"), Equation(deriv(name, x, 2), d2v)]
        if is_negative(value):
            children.append(WitnessStep(Witness(function=fv, variables=[x], point={x: x0}, direction={x: sp.Integer(1)},
                                                curvature=value), name=name, layout="paragraph"))
        chord = chord_witness(name, fv, x, x0)
        if chord is not None:
            from convexproof.solvers.teach import FigureStep, chord_figure

            children.append(chord)
            children.append(FigureStep(figure=chord_figure(
                f"{name} for {U(lam)} = {U(v)} and the witness chord: the graph rises above the chord's midpoint",
                fv, x, chord.witness.chord["a"][x], chord.witness.chord["b"][x], float(plot_rng[0]), float(plot_rng[1]), name)))
        else:
            children.append(Paragraph("No chord violating Jensen's inequality was found by the exact search."))
        if mk is not None and mk.feedback:
            children.append(Paragraph("Where this value comes from:"))
            children.append(Prose(ex.prose_segments(mk.feedback)))
        steps.append(Section(f"Why {U(lam)} = {U(v)} is not enough", children=children))

    answers = {"lambda_min": lam_star, "second_derivative": d2}
    from convexproof.solvers.teach import lead

    steps.insert(0, lead(f"{U(lam)}* = ", lam_star, f": {name}''({U(x)}) = ", d2, " has its minimum ", min_d2,
                         f" at {U(x)} = ", x0, ", which is ≥ 0 exactly when ", sp.GreaterThan(lam, -m / B, evaluate=False),
                         "; smaller values leave a point where the graph curves downwards."))

    plot = inp.get("plot") or [sp.Integer(-2), sp.Integer(2)]
    if not (isinstance(plot, list) and len(plot) == 2 and all(getattr(v, "is_Rational", False) for v in plot)
            and plot[0] < plot[1]):  # plot = "x**x" crashed solve with exit 3 (found by the CLI fuzz)
        raise ExerciseError(f"{ex.path.name}: field 'solver.plot': must be two numbers [low, high] with low < high")
    lam_values = list(dict.fromkeys([sp.Integer(0), lam_star / 2, lam_star]))
    figure = Figure(
        title=f"The second derivative {name}''({U(x)}) for {U(lam)} = " + ", ".join(U(v) for v in lam_values),
        curves=[{"label": sp.Eq(lam, v, evaluate=False), "expr": P2.eval(lam, v).as_expr(), "var": x} for v in lam_values],
        xmin=float(plot[0]), xmax=float(plot[1]), xlabel=str(x), ylabel=f"{name}''({U(x)})",
    )
    facts = {"function": f, "variable": x, "parameter": lam, "second_derivative": d2, "lambda_min": lam_star,
             "minimum_point": x0, "minimum_value": min_d2}
    from convexproof.solvers.teach import FigureStep

    for st in steps:  # the figure goes where the condition on the parameter is discussed
        if isinstance(st, Section) and st.title.startswith("The condition on"):
            st.children.append(FigureStep(figure=figure))
            break
    return Solution(ex, steps, answers, [figure], facts)
