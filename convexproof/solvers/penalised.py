"""Solver kind ``penalised-minimiser-1d``: one-dimensional minimisers of loss + penalty.

Inputs: ``loss`` (smooth, strictly convex in ``variable``, e.g. ``1/2 (w - a)^2``),
``variable`` (w), ``data`` (a), ``parameter`` (lam), ``where`` (e.g. ``lam > 0``),
``[solver.penalties]`` (named penalties, e.g. ``l1 = "lam abs(w)"``, ``l2 = "lam w^2"``)
and optionally ``example`` (values for data and parameter, e.g. ``{a = "a0", lam = "lam0"}``)
for a numeric illustration and a figure of the minimisers against the data.

A penalty ``c |w| + smooth`` is handled case by case (w > 0, w < 0, and w = 0 through
the subdifferential of |w| at 0, which is [-1, 1]); a smooth penalty by stationarity.
Answers: ``<name>_minimizer`` and ``<name>_zero_when`` for every penalty, and
``zero_when`` for the first non-smooth penalty (else the first penalty).
"""

from __future__ import annotations

import sympy as sp

from convexproof.engine.exact import is_positive
from convexproof.runtime.errors import ExerciseError
from convexproof.render.mathtext import unicode as U
from convexproof.steps import Equation, Paragraph, Section
from convexproof.solvers import Figure, Solution, register
from convexproof.solvers.common import Cases, Prose
from convexproof.solvers.toolkit import inputs, numeric


def _isolate(expr: sp.Expr, sym: sp.Symbol, op: str):
    """The relation ``expr op 0`` solved for ``sym`` (expr affine in sym with a numeric slope)."""
    alpha = sp.expand(expr).coeff(sym)
    beta = sp.expand(expr - alpha * sym)
    rel = {">": sp.StrictGreaterThan, "<": sp.StrictLessThan, ">=": sp.GreaterThan, "<=": sp.LessThan}
    flip = {">": "<", "<": ">", ">=": "<=", "<=": ">="}
    if not numeric(alpha) or alpha == 0 or beta.has(sym):
        return rel[op](expr, 0)
    bound = sp.simplify(-beta / alpha)
    return rel[op if alpha > 0 else flip[op]](sym, bound)


def _positive_under(expr: sp.Expr, where) -> bool:
    """expr > 0 for every value allowed by ``where`` (parameters declared positive there)."""
    reps = {}
    for c in where:
        for r in (c.args if isinstance(c, sp.And) else [c]):
            if isinstance(r, (sp.StrictGreaterThan, sp.GreaterThan)) and r.lhs.is_Symbol and r.rhs == 0:
                reps[r.lhs] = sp.Dummy(r.lhs.name, positive=isinstance(r, sp.StrictGreaterThan),
                                       nonnegative=True)
            if isinstance(r, (sp.StrictLessThan, sp.LessThan)) and r.rhs.is_Symbol and r.lhs == 0:
                reps[r.rhs] = sp.Dummy(r.rhs.name, positive=isinstance(r, sp.StrictLessThan), nonnegative=True)
    return is_positive(sp.expand(expr.subs(reps)))


def _stationary(F: sp.Expr, w: sp.Symbol):
    sols = sp.solve(sp.Eq(sp.diff(F, w), 0), w, dict=False)
    if len(sols) != 1:
        return None
    return sp.simplify(sols[0])


@register("penalised-minimiser-1d")
def penalised_minimiser(ex) -> Solution:
    inp = inputs(ex, "loss", "variable", "data", "parameter", "penalties", optional=("where", "example"))
    loss, w, a, lam = inp["loss"], inp["variable"], inp["data"], inp["parameter"]
    where = inp.get("where", [])
    where = where if isinstance(where, list) else [where]
    penalties = inp["penalties"]
    if not isinstance(penalties, dict) or not penalties:
        raise ExerciseError(f"{ex.path.name}: field 'solver.penalties': must be a table of named penalties")
    d2loss = sp.diff(loss, w, 2)
    if not _positive_under(d2loss, where):
        raise ExerciseError(f"{ex.path.name}: field 'solver.loss': must be strictly convex in {U(w)}")

    steps = [Section("Setting", children=[
        Prose([("text", "The loss "), ("math", loss), ("text", " has second derivative "),
               ("math", sp.StrictGreaterThan(d2loss, 0, evaluate=False)),
               ("text", f" in {U(w)}, so it is strictly convex. Each penalty below is convex, so loss + penalty "
                        f"is strictly convex: it has exactly one minimiser, and a point is that minimiser exactly "
                        f"when 0 lies in its subdifferential (for a differentiable function: its derivative is 0).")]),
    ])]
    answers: dict[str, object] = {}
    first_nonsmooth = None
    minimisers: dict[str, sp.Expr] = {}
    for key, pen in penalties.items():
        F = loss + pen
        if pen.has(sp.Abs(w)):
            c = sp.expand(pen).coeff(sp.Abs(w))
            rest = sp.expand(pen - c * sp.Abs(w))
            if rest.has(sp.Abs) or not _positive_under(c, where):
                raise ExerciseError(f"{ex.path.name}: field 'solver.penalties.{key}': expected c·|{U(w)}| + a "
                                    f"smooth term with c > 0")
            smooth = loss + rest
            children = [Equation(sp.Symbol("F", real=True), F, f"the {_show(key)} objective")]
            cases = []
            for sign, op in ((1, ">"), (-1, "<")):
                label = (sp.StrictGreaterThan if sign > 0 else sp.StrictLessThan)(w, 0)
                Fs = smooth + c * sign * w
                ws = _stationary(Fs, w)
                if ws is None:
                    raise ExerciseError(f"{ex.path.name}: cannot solve the stationarity equation for {key}")
                cond = _isolate(ws, a, op)
                children.append(Prose([("text", "Case "), ("math", label), ("text", ": here "),
                                       ("math", sp.Eq(sp.Abs(w), sign * w, evaluate=False)),
                                       ("text", ", the derivative "), ("math", sp.expand(sp.diff(Fs, w))),
                                       ("text", " vanishes at "), ("math", sp.Eq(w, ws, evaluate=False)),
                                       ("text", f", which is {'positive' if sign > 0 else 'negative'} exactly when "),
                                       ("math", cond), ("text", ".")]))
                cases.append((ws, cond))
            g0 = sp.diff(smooth, w).subs(w, 0)
            zero_cond = sp.LessThan(sp.Abs(g0), c)
            children.append(Prose([
                ("text", "Case "), ("math", sp.Eq(w, 0, evaluate=False)),
                ("text", f": |{U(w)}| has a kink at 0, where its subdifferential is the interval "
                         f"[−1, 1], so the subdifferential of the objective at 0 is "),
                ("math", g0), ("text", " + "), ("math", c), ("text", "·[−1, 1]. It contains 0 exactly when "),
                ("math", zero_cond), ("text", ".")]))
            cases.append((sp.Integer(0), zero_cond))
            piecewise = sp.Piecewise(cases[0], cases[1], (sp.Integer(0), True))
            children.append(Paragraph("The three conditions cover every value of the data exactly once, so:"))
            children.append(Cases(sp.Symbol(f"w_{_show(key)}", real=True), cases))
            children.append(Prose([("text", "The minimiser is exactly 0 on the whole interval "), ("math", zero_cond),
                                   ("text", ": the kink of the penalty absorbs small data (soft thresholding).")]))
            steps.append(Section(f"The {_show(key)} penalty {U(pen)}", children=children))
            minimisers[key] = piecewise
            answers[f"{key}_minimizer"] = piecewise
            answers[f"{key}_zero_when"] = zero_cond
            first_nonsmooth = first_nonsmooth or key
        else:
            ws = _stationary(F, w)
            if ws is None:
                raise ExerciseError(f"{ex.path.name}: cannot solve the stationarity equation for {key}")
            zero = sp.solve(sp.Eq(ws, 0), a)
            zero_cond = sp.Eq(a, zero[0], evaluate=False) if len(zero) == 1 else sp.Eq(ws, 0, evaluate=False)
            steps.append(Section(f"The {_show(key)} penalty {U(pen)}", children=[
                Equation(sp.Symbol("F", real=True), F, f"the {_show(key)} objective"),
                Prose([("text", "The objective is differentiable; its derivative "), ("math", sp.expand(sp.diff(F, w))),
                       ("text", " vanishes at "), ("math", sp.Eq(w, ws, evaluate=False)), ("text", ".")]),
                Prose([("text", "This is 0 only when "), ("math", zero_cond),
                       ("text", ": the penalty shrinks the data towards 0 by a constant factor but never sets a "
                                "non-zero value exactly to 0.")]),
            ]))
            minimisers[key] = ws
            answers[f"{key}_minimizer"] = ws
            answers[f"{key}_zero_when"] = zero_cond
    zero_key = first_nonsmooth or next(iter(penalties))
    answers["zero_when"] = answers[f"{zero_key}_zero_when"]

    figures = []
    example = inp.get("example") or {}
    if example:
        vals = {_sym(k): v for k, v in example.items()}
        segs = [("text", "With ")]
        for i, (k, v) in enumerate(vals.items()):
            segs += ([("text", " and ")] if i else []) + [("math", sp.Eq(k, v, evaluate=False))]
        children = [Prose(segs + [("text", ":")])]
        for key, m in minimisers.items():
            children.append(Equation(sp.Symbol(f"w_{_show(key)}", real=True), sp.simplify(m.subs(vals))))
        steps.append(Section("A numeric example", children=children))
        lam_v = vals.get(lam)
        if lam_v is not None and lam_v > 0:
            curves = [{"label": f"{k}: {U(penalties[k])}", "expr": m.subs(lam, lam_v), "var": a,
                       "breaks": [-lam_v, lam_v]} for k, m in minimisers.items()]
            curves.append({"label": "no penalty", "expr": a, "var": a, "style": "thin, gray"})
            figures.append(Figure(
                title=f"Minimisers against the data {U(a)} for {U(lam)} = {U(lam_v)}: exact zeros on "
                      f"[−{U(lam_v)}, {U(lam_v)}] for the kinked penalty, a line through the origin for the smooth one",
                curves=curves, xmin=float(-3 * lam_v), xmax=float(3 * lam_v), xlabel=U(a), ylabel=f"minimiser {U(w)}",
            ))
    steps.append(Section("The geometric picture", children=[
        Paragraph("In constrained form the penalised problem minimises the loss over a ball of the penalty. "
                  "The L1 ball |w₁| + |w₂| ≤ t is a diamond whose corners lie on the axes; the L2 ball "
                  "w₁² + w₂² ≤ t is round. The level sets of the loss grow until they first touch the ball. "
                  "A diamond is most often touched at a corner, where some coordinates are exactly 0; a round "
                  "ball is touched at a point where, generically, no coordinate is 0. This is the picture behind "
                  "the computation above: the kink of |w| at 0 is the corner of the diamond."),
    ]))
    figures.append(Figure(
        title="The L1 ball (a diamond, corners on the axes) and the L2 ball (round) of radius 1",
        curves=[{"label": "L1 ball", "points": [(1, 0), (0, 1), (-1, 0), (0, -1), (1, 0)]},
                {"label": "L2 ball", "points": _circle(72)}],
        xmin=-1.5, xmax=1.5, ymin=-1.5, ymax=1.5, xlabel="w1", ylabel="w2", equal_axes=True,
    ))
    from convexproof.solvers.teach import FigureStep, lead

    for st in steps:  # each figure where it is discussed
        if isinstance(st, Section) and st.title == "A numeric example" and len(figures) > 1:
            st.children.append(FigureStep(figure=figures[0]))
        if isinstance(st, Section) and st.title == "The geometric picture":
            st.children.append(FigureStep(figure=figures[-1]))
    l1 = next((k for k in penalties if k == first_nonsmooth), None)
    smooth_keys = [k for k in penalties if k != first_nonsmooth]
    top = ["the L1 minimiser is ", minimisers[l1], " (soft thresholding), exactly 0 when ",
           answers[f"{l1}_zero_when"]] if l1 else []
    for k in smooth_keys:
        top += ["; the L2 minimiser is " if top else "the minimiser is ", E_(sp.Symbol("w", real=True), minimisers[k]),
                ", which is 0 only when ", answers[f"{k}_zero_when"]]
    top += [". The kink of |w| at 0 (the corner of the L1 diamond) is what produces exact zeros."]
    steps.insert(0, lead(*top))
    facts = {"loss": loss, "variable": w, "data": a, "parameter": lam, "penalties": penalties,
             "minimizers": minimisers, "where": where}
    return Solution(ex, steps, answers, figures, facts)


def _show(key: str) -> str:
    """A penalty's key as a reader writes it: l1 is L1."""
    import re

    return key.upper() if re.fullmatch(r"l\d", key) else key


def E_(lhs, rhs):
    from convexproof.solvers.toolkit import E

    return E(lhs, rhs)


def _sym(name: str):
    from convexproof.parse import symbol

    return symbol(name)


def _circle(n: int):
    import math

    return [(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i in range(n + 1)]
