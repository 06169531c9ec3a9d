"""The second-derivative test for functions of one variable (kind ``second_derivative_test``).

Solver table::

    [solver]
    kind = "second_derivative_test"
    var = "x"
    functions = { cube = "x**3", wave = "sin(x)*sqrt(x)" }   # answers: verdict_cube, f2_cube, ...
    labels_text = { cube = "The cube" }                      # section titles (prose)
    names_text = { wave = "g" }                              # the function's letter (default f)
    domains = { wave = "x > 0" }                             # optional domain (an interval of var)
    plot = { cube = "[-2, 2]" }                              # draw f and f'' on this range (LaTeX)

Answers per function: ``verdict_<name>`` ("convex" or "not convex", each with
a proof or a verified witness), ``f2_<name>`` (f'', smooth functions only),
``argmin_<name>`` and ``min_<name>`` (convex functions with one stationary point).
"""

from __future__ import annotations

import sympy as sp

from ..errors import ExerciseError
from ..steps import Equation, Section
from . import Figure, Solution, register
from .exkit import (
    E,
    P,
    T,
    answer_steps,
    convexity_1d,
    fn_at,
    formula_of,
    hp,
    join_list,
    name_field,
    want,
)


def fname(name: str, var):
    return fn_at(name, var)


def _domain(ex, cond, x) -> sp.Interval:
    if cond is None:
        return sp.S.Reals
    rel = formula_of(ex, cond, "solver.domains")
    try:
        dom = sp.solve_univariate_inequality(rel, x, relational=False) if not isinstance(rel, sp.And) else \
            sp.Intersection(*[sp.solve_univariate_inequality(r, x, relational=False) for r in rel.args])
    except Exception:
        raise ExerciseError(f"{ex.path.name}: field 'solver.domains': not an interval of {x}") from None
    if not isinstance(dom, sp.Interval):
        raise ExerciseError(f"{ex.path.name}: field 'solver.domains': not an interval of {x}")
    return dom


def approx(v, digits: int = 4):
    return sp.Float(hp(v), digits)


def domain_text(dom: sp.Interval, x):
    if dom == sp.S.Reals:
        return [" for every real ", x]
    return [" for every ", domain_rel(dom, x)]


def domain_rel(dom: sp.Interval, x):
    if dom == sp.S.Reals:
        return None
    rels = []
    if dom.left != -sp.oo:
        rels.append(sp.Lt(dom.left, x, evaluate=False) if dom.left_open else sp.Le(dom.left, x, evaluate=False))
    if dom.right != sp.oo:
        rels.append(sp.Lt(x, dom.right, evaluate=False) if dom.right_open else sp.Le(x, dom.right, evaluate=False))
    return rels[0] if len(rels) == 1 else sp.And(*rels, evaluate=False)


def analyse_function(f, x, dom, label: str, fn: str = "f"):
    """Steps and facts for one function: the second-derivative test, kinks, witnesses."""
    v = convexity_1d(f, x, dom)
    F = fname(fn, x)
    F1, F2 = fname(fn + "'", x), fname(fn + "''", x)
    dr = domain_rel(dom, x)
    S = sp.Symbol(fn)
    steps = [P("Let ", E(F, f), *([] if dr is None else [" on ", dr]), ".")]
    facts: dict = {"verdict": None}
    if v.d2 is not None:
        steps.append(Equation(F1, v.d1))
        steps.append(Equation(F2, v.d2))
        facts["f2"] = v.d2
        if v.convex:
            if not v.d2.has(x):
                rel = sp.Gt(v.d2, 0, evaluate=False) if v.d2.is_positive else sp.Ge(v.d2, 0, evaluate=False)
                steps.append(P("The second derivative is the constant ", v.d2, ", so ", rel, *domain_text(dom, x),
                               " and the second-derivative test proves that ", S, " is convex",
                               " (strictly, since it is positive)." if v.d2.is_positive else "."))
            else:
                steps.append(P("The second derivative satisfies ", sp.Ge(v.d2, 0, evaluate=False), *domain_text(dom, x),
                               ", so the second-derivative test proves that ", S, " is convex."))
                if v.strict:
                    zeros = sp.solveset(v.d2, x, dom)
                    if zeros == sp.S.EmptySet:
                        steps.append(P("It is even positive everywhere, so ", S, " is strictly convex."))
                    elif isinstance(zeros, sp.FiniteSet):
                        steps.append(P("It vanishes only at ", *join_list(list(zeros)),
                                       ", isolated points, so ", S, " is strictly convex."))
            facts["verdict"] = "convex"
        elif v.convex is False:
            val = v.witness_d2
            steps.append(P("The test fails: at ", E(x, v.witness), " the second derivative is ",
                           E(fname(fn + "''", v.witness), val) if val.is_Rational else val,
                           *([] if val.is_Rational else [" ≈ ", approx(val)]), ", which is negative. "
                           "Near this point the graph curves downwards, so ", S, " is not convex."))
            _chord_step(steps, v, x, fn)
            facts["verdict"] = "not convex"
            facts["witness"] = v.witness
    else:
        rows = []
        for p in v.pieces:
            rows.append([_interval_rel(p.lo, p.hi, x), p.expr, p.d2])
        steps.append(P(S, " is not differentiable everywhere, so we split the line at its kinks."))
        steps.append(T(["piece", f"{fn} on the piece", f"{fn}'' on the piece"], rows))
        if v.convex:
            steps.append(P("On every piece the second derivative is non-negative, so ", S,
                           " is convex on each piece. That alone proves nothing about the whole line: the "
                           "second-derivative test needs a second derivative, and there is none at a kink."))
            for c, left, right in v.kinks:
                if sp.simplify(left - right) == 0:
                    steps.append(P("At ", E(x, c), " the pieces join smoothly: the function is continuous and its "
                                   "slope is ", left, " on both sides."))
                else:
                    steps.append(P("At ", E(x, c), " the function is continuous and its slope jumps from ",
                                   left, " to ", right, ": upwards, since ", sp.Lt(left, right, evaluate=False), "."))
            steps.append(P(S, " is continuous, convex on each piece, and its slope never decreases across a kink, "
                           "so the slope is non-decreasing on the whole line; a function with a non-decreasing "
                           "slope is convex. Hence ", S, " is convex."))
            facts["verdict"] = "convex"
        elif v.convex is False:
            if v.witness is not None:
                steps.append(P("At ", E(x, v.witness), " the second derivative is ", v.witness_d2,
                               ", which is negative, so ", S, " is not convex."))
            else:
                c, left, right = next(k for k in v.kinks if (k[2] - k[1]).is_negative)
                steps.append(P("At ", E(x, c), " the slope drops from ", left, " to ", right,
                               ", so the graph bends downwards there."))
            _chord_step(steps, v, x, fn)
            facts["verdict"] = "not convex"
    if facts["verdict"] is None:
        raise ExerciseError(f"the engine could neither prove nor refute the convexity of {label}")
    # a convex function with exactly one stationary point: its global minimiser
    if facts["verdict"] == "convex":
        stat = sp.solveset(sp.diff(f, x), x, dom) if v.d2 is not None else sp.S.EmptySet
        if isinstance(stat, sp.FiniteSet) and len(stat) == 1:
            xs = next(iter(stat))
            fmin = sp.simplify(f.subs(x, xs))
            steps.append(P("Setting ", E(F1, 0), " gives the only stationary point ", E(x, xs),
                           ". For a convex function a stationary point is a global minimiser, "
                           "so the minimum value is ", E(fname(fn, xs), fmin), "."))
            facts["argmin"], facts["min"] = xs, fmin
    facts["result"] = v
    return steps, facts


def _interval_rel(lo, hi, x):
    if lo == -sp.oo and hi == sp.oo:
        return "every x"
    if lo == -sp.oo:
        return sp.Lt(x, hi, evaluate=False)
    if hi == sp.oo:
        return sp.Gt(x, lo, evaluate=False)
    return sp.And(sp.Lt(lo, x, evaluate=False), sp.Lt(x, hi, evaluate=False), evaluate=False)


def _chord_step(steps, v, x, fn):
    if not v.chord:
        return
    F0 = sp.Symbol(fn)
    a, b, fa, fb, fc, gap = v.chord
    a, b = a[0], b[0]
    mid = (a + b) / 2
    steps.append(P("A chord confirms it. With ", E(sp.Symbol("a"), a), " and ", E(sp.Symbol("b"), b),
                   ", the midpoint value ", E(fname(fn, mid), fc) if fc.is_Rational
                   else E(fname(fn, mid), approx(fc), "≈"),
                   " lies above the chord, whose height there is ",
                   E((fname(fn, a) + fname(fn, b)) / 2, (fa + fb) / 2) if ((fa + fb) / 2).is_Rational
                   else E((fname(fn, a) + fname(fn, b)) / 2, approx((fa + fb) / 2), "≈"),
                   ". Jensen's inequality fails, so ", F0, " is not convex."))


def _table(ex, key, required=False) -> dict:
    v = ex.solver.get(key, None)
    if v is None and not required:
        return {}
    if not isinstance(v, dict) or (required and not v):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be a table of name = formula")
    return v


def plot_range(ex, key, value):
    """``"[lo, hi]"`` (a formula list) -> (lo, hi) as floats."""
    rng = formula_of(ex, value, key)
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise ExerciseError(f"{ex.path.name}: field '{key}': must be [low, high]") from None
    if not lo < hi:
        raise ExerciseError(f"{ex.path.name}: field '{key}': low must be below high")
    return lo, hi


@register("second_derivative_test")
def solve_second_derivative_test(ex) -> Solution:
    x = name_field(ex, "var", "x")
    functions = _table(ex, "functions", required=True)
    labels = _table(ex, "labels_text")
    domains = _table(ex, "domains")
    plots = _table(ex, "plot")
    names = _table(ex, "names_text")
    steps, answers, figures = [], {}, []
    for name, text in functions.items():
        where = f"solver.functions.{name}"
        label = labels.get(name, name)
        if not isinstance(label, str):
            raise ExerciseError(f"{ex.path.name}: field 'solver.labels_text.{name}': must be text")
        f = formula_of(ex, text, where)
        if f.free_symbols - {x}:
            raise ExerciseError(f"{ex.path.name}: field '{where}': uses names other than {x}")
        dom = _domain(ex, domains.get(name), x)
        fn = names.get(name, "f")
        if not isinstance(fn, str) or not fn.isalpha() or len(fn) > 3:
            raise ExerciseError(f"{ex.path.name}: field 'solver.names_text.{name}': must be a short name")
        body, facts = analyse_function(f, x, dom, label, fn)
        steps.append(Section(title=label, children=body))
        answers[f"verdict_{name}"] = facts["verdict"]
        if "f2" in facts:
            answers[f"f2_{name}"] = facts["f2"]
        if "argmin" in facts:
            answers[f"argmin_{name}"] = facts["argmin"]
            answers[f"min_{name}"] = facts["min"]
        if name in plots:
            lo, hi = plot_range(ex, f"solver.plot.{name}", plots[name])
            curves = [{"label": f"{fn}", "expr": f, "var": x}]
            if "f2" in facts:
                curves.append({"label": f"{fn}''", "expr": facts["f2"], "var": x})
            figures.append(Figure(title=label, curves=curves, xmin=lo, xmax=hi))
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    return Solution(ex, steps, ans, figures=figures, facts={})
