"""The second-derivative test for functions of one variable.

One kind with two names, ``second_derivative_test`` and ``second-derivative-convexity``, and two table
shapes: a ``functions`` table of functions of ``var`` alone (each decided by the engine's
:func:`convexproof.engine.onevar.convexity_1d`: a proof or a verified witness), or one ``function`` of
``variable`` with parameters on the box ``where`` (the sign rule term by term,
:func:`convexproof.engine.onevar.term_sign`; see :func:`solve_on_a_box`).

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

from convexproof.runtime.errors import ExerciseError
from convexproof.steps import Claim, Equation, Paragraph, Section
from convexproof.solvers import Figure, Solution, register
from convexproof.engine.exact import is_negative, is_positive
from convexproof.engine.onevar import box, concavity_1d, convexity_1d, never_all_zero, term_sign, zeros_on
from convexproof.render.mathtext import unicode as U
from convexproof.solvers.common import Prose, SignArgument
from convexproof.solvers.toolkit import (
    E, P, deriv, fn, fn_at, formula_of, function_name, hp, inputs, join_list, named, name_field, numeric, relation,
    subjects, want)


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


def _lhs_pieces(dom, x):
    return [] if domain_rel(dom, x) is None else [" on ", domain_rel(dom, x)]


def analyse_function(f, x, dom, label: str, fn: str = "f", state: dict | None = None, plot=None):
    """Steps and facts for one function: the derivatives by their rules, the sign of f'', kinks, witnesses.

    ``facts["lead"]`` is the one-line answer (pieces for :func:`lead`), ``facts["strict"]`` and
    ``facts["concave"]`` say whether f is strictly convex / concave; ``state`` is shared by the functions of
    one solution, so the kink criterion is stated in full once and referred to afterwards; ``plot`` is the
    (lo, hi) range of the figure.
    """
    from convexproof.steps import Step
    from convexproof.solvers.forms import sigma, teacher_form
    from convexproof.solvers.teach import derivative_steps, figure

    state = {} if state is None else state
    v = convexity_1d(f, x, dom)
    F = fname(fn, x)
    F2 = fname(fn + "''", x)
    S = sp.Symbol(fn)
    steps = [] if f.has(sp.Piecewise) else [P("Let ", E(F, f), *_lhs_pieces(dom, x), ".")]
    facts: dict = {"verdict": None, "strict": False, "concave": False}
    if v.d2 is not None:
        try:
            lines, (d1, d2) = derivative_steps(fn, f, x)
        except ValueError:  # the rule display could not be verified: show the derivatives alone
            d1, d2 = teacher_form(v.d1, x), teacher_form(v.d2, x)
            lines = [Equation(fname(fn + "'", x), d1), Equation(F2, d2)]
        steps += lines
        if any(isinstance(ln, Step) and sigma(x) in sp.preorder_traversal(getattr(ln, "result", 0)) for ln in lines):
            steps.append(P("Here ", E(sigma(x), 1 / (1 + sp.exp(-x))), " is the logistic function, with ",
                           sp.Lt(0, sigma(x), evaluate=False), " < 1."))
        facts["f2"] = v.d2
        facts["f2_shown"] = d2
        if v.convex:
            if not v.d2.has(x):
                positive = is_positive(v.d2)
                rel = sp.Gt(d2, 0, evaluate=False) if positive else sp.Ge(d2, 0, evaluate=False)
                steps.append(P("So ", rel, *domain_text(dom, x), ", and ", S, " is ",
                               "strictly convex (its second derivative is a positive constant)." if positive
                               else "convex."))
                facts["strict"] = positive
            else:
                why = _sign_reason(v.d2, x, dom)
                zeros = zeros_on(v.d2, x, dom)
                strict = zeros == sp.S.EmptySet or isinstance(zeros, sp.FiniteSet)
                if strict and zeros == sp.S.EmptySet:
                    steps.append(P("Here ", sp.Gt(F2, 0, evaluate=False), *domain_text(dom, x), why,
                                   ", so ", S, " is strictly convex."))
                    facts["strict"] = True
                elif strict:
                    steps.append(P("Here ", sp.Ge(F2, 0, evaluate=False), *domain_text(dom, x), why,
                                   ", with equality only at ", *join_list([E(x, z) for z in zeros]),
                                   "; a second derivative that vanishes only at isolated points still gives a "
                                   "strictly increasing slope, so ", S, " is strictly convex."))
                    facts["strict"] = True
                else:
                    steps.append(P("Here ", sp.Ge(F2, 0, evaluate=False), *domain_text(dom, x), why,
                                   ", so ", S, " is convex."))
            facts["verdict"] = "convex"
            facts["lead"] = ["Strictly convex" if facts["strict"] else "Convex"]
        elif v.convex is False:
            val = sp.simplify(v.witness_d2)
            pt = fname(fn + "''", v.witness)
            shown = E(pt, val) if val.is_Rational else E(pt, approx(val), "≈")
            steps.append(P("The test fails at ", E(x, v.witness), ": ", shown,
                           " < 0, so the graph bends downwards there and ", S, " is not convex."))
            conc = concavity_1d(v.d2, x, dom)
            facts["concave"] = conc
            if conc:
                steps.append(P("In fact ", sp.Le(F2, 0, evaluate=False), *domain_text(dom, x), ", so ", S, " is ",
                               "strictly concave." if conc == "strict" else "concave."))
            _chord_step(steps, v, x, fn, f, plot)
            facts["verdict"] = "not convex"
            facts["witness"] = v.witness
            facts["lead"] = ["Not convex: ", shown, " < 0", *(
                [" (it is strictly concave)"] if conc == "strict" else [" (it is concave)"] if conc else [])]
    else:
        _piecewise_steps(steps, v, x, fn, state, facts)
        if facts["verdict"] == "not convex":
            _chord_step(steps, v, x, fn, f, plot)
    if facts["verdict"] is None:
        raise ExerciseError(f"the engine could neither prove nor refute the convexity of {label}")
    # a convex function with exactly one stationary point: its global minimiser
    if facts["verdict"] == "convex":
        stat = zeros_on(sp.diff(f, x), x, dom) if v.d2 is not None else sp.S.EmptySet
        if isinstance(stat, sp.FiniteSet) and len(stat) == 1:
            xs = next(iter(stat))
            fmin = sp.simplify(f.subs(x, xs))
            steps.append(P("Setting ", E(fname(fn + "'", x), 0), " gives the only stationary point ", E(x, xs),
                           "; a stationary point of a convex function is a global minimiser, so the minimum is ",
                           E(fname(fn, xs), fmin), "."))
            facts["argmin"], facts["min"] = xs, fmin
            facts["lead"] = facts["lead"] + [", with minimiser ", E(x, xs), " and minimum value ", fmin]
    if facts["verdict"] == "convex" and plot is not None:
        from convexproof.solvers import Figure

        curves = [{"label": fname(fn, x), "expr": f, "var": x, "breaks": [k[0] for k in v.kinks]}]
        if v.d2 is not None:
            curves.append({"label": fname(fn + "''", x), "expr": v.d2, "var": x})
            title = f"{fn} (solid) and its second derivative (dashed), which stays above 0: the graph curves upwards"
        elif all(sp.simplify(l_ - r_) == 0 for _c, l_, r_ in v.kinks):
            title = f"{fn}: convex pieces joined smoothly (the slope is continuous)"
        else:
            title = f"{fn}: convex pieces joined with slopes that only jump upwards"
        steps.append(figure(Figure(title=title, curves=curves, xmin=plot[0], xmax=plot[1], xlabel=str(x))))
    facts["result"] = v
    return steps, facts


def _num(v) -> str:
    return ("%g" % v).replace("-", "−")


def _sign_reason(d2, x, dom) -> str:
    """Why f'' has its sign, in words, for the forms met in the exercises."""
    if d2.has(sp.exp):
        return " (an exponential is positive)"
    if d2.is_polynomial(x):
        return ""
    if dom.left == 0 and dom.left_open:
        return f" (every factor is positive when {x} > 0)"
    return ""


def _piecewise_steps(steps, v, x, fn, state, facts):
    """A function with kinks or break points: the pieces, the joins, and the criterion (stated once)."""
    from convexproof.solvers.common import Cases
    from convexproof.solvers.forms import teacher_form

    S = sp.Symbol(fn)
    smooth_joins = all(sp.simplify(l_ - r_) == 0 for _c, l_, r_ in v.kinks)
    cases = []
    for p in v.pieces:
        rel = _interval_rel(p.lo, p.hi, x)
        cases.append((teacher_form(p.expr, x), sp.true if isinstance(rel, str) else rel))
    steps.append(Cases(lhs=fname(fn, x), cases=cases))
    d2s = [sp.simplify(p.d2) for p in v.pieces]
    F2 = fname(fn + "''", x)
    if smooth_joins:
        steps.append(P(S, " is differentiable everywhere: ", *join_list(
            [["at ", E(x, k[0]), " the slope is ", k[1], " from both sides"] for k in v.kinks], flat=True),
                       ". Only ", F2, " jumps there, so we check the pieces and the joins."))
    steps.append(P("On the pieces ", F2, " is ", *join_list(d2s),
                   ", never negative." if all(p.nonneg for p in v.pieces) else "."))
    if v.convex:
        for c, left, right in ([] if smooth_joins else v.kinks):
            if sp.simplify(left - right) == 0:
                steps.append(P("At ", E(x, c), " the slope is ", left, " on both sides."))
            else:
                steps.append(P("At ", E(x, c), " the function is continuous and its slope jumps up from ", left,
                               " to ", right, "."))
        if not state.get("criterion"):
            steps.append(P("Kink criterion: a continuous function that is convex on each piece and whose slope "
                           "never jumps downwards has a non-decreasing slope on the whole line, and is therefore "
                           "convex. So ", S, " is convex."))
            state["criterion"] = True
        else:
            steps.append(P("By the kink criterion, ", S, " is convex."))
        flat = [p for p in v.pieces if sp.simplify(p.d2) == 0]
        if flat:
            p = flat[0]
            rel = _interval_rel(p.lo, p.hi, x)
            steps.append(P("It is not strictly convex: ", *(["on ", rel, " "] if not isinstance(rel, str) else []),
                           "it equals ", p.expr, ", a straight piece of the graph."))
        else:
            steps.append(P("It is strictly convex: every piece is, and the slope only increases across the joins."))
            facts["strict"] = True
        facts["verdict"] = "convex"
        facts["lead"] = ["Strictly convex" if facts["strict"] else "Convex, but not strictly convex"]
    elif v.convex is False:
        if v.witness is not None:
            steps.append(P("At ", E(x, v.witness), " the second derivative is ", v.witness_d2,
                           " < 0, so ", S, " is not convex."))
            facts["lead"] = ["Not convex: ", E(fname(fn + "''", v.witness), v.witness_d2), " < 0"]
        else:
            c, left, right = next(k for k in v.kinks if is_negative(k[2] - k[1]))
            steps.append(P("At ", E(x, c), " the slope drops from ", left, " to ", right,
                           ", so the graph bends downwards there."))
            facts["lead"] = ["Not convex: the slope drops at ", E(x, c)]
        facts["verdict"] = "not convex"


def _interval_rel(lo, hi, x):
    if lo == -sp.oo and hi == sp.oo:
        return "every x"
    if lo == -sp.oo:
        return sp.Lt(x, hi, evaluate=False)
    if hi == sp.oo:
        return sp.Gt(x, lo, evaluate=False)
    return sp.And(sp.Lt(lo, x, evaluate=False), sp.Lt(x, hi, evaluate=False), evaluate=False)


def _chord_step(steps, v, x, fn, f=None, plot=None):
    if not v.chord:
        return
    from convexproof.solvers.teach import chord_figure, figure

    F0 = sp.Symbol(fn)
    a, b, fa, fb, fc, gap = v.chord
    a, b = a[0], b[0]
    mid = (a + b) / 2
    avg = (fa + fb) / 2
    steps.append(P("Chord: between ", E(x, a), " and ", E(x, b), " the graph at the midpoint, ",
                   E(fname(fn, mid), fc) if fc.is_Rational else E(fname(fn, mid), approx(fc), "≈"),
                   ", lies above the chord, whose height there is ",
                   E(_avg_name(fn, a, b), avg) if avg.is_Rational else E(_avg_name(fn, a, b), approx(avg), "≈"),
                   ". Jensen's inequality fails, so ", F0, " is not convex."))
    if f is not None:
        lo, hi = plot if plot is not None else (None, None)
        if lo is not None and (not (lo <= float(a) and float(b) <= hi) or float(b - a) < (hi - lo) / 4):
            lo, hi = max(lo, float(a) - float(b - a)), min(hi, float(b) + float(b - a))
        steps.append(figure(chord_figure(f"{fn} and the witness chord: at the midpoint the graph (square) lies "
                                         "above the chord", f, x, a, b, lo, hi, fn)))


def _avg_name(fn, a, b):
    from convexproof.solvers.toolkit import named
    from convexproof.render.mathtext import latex, unicode

    return named(f"({fn}({unicode(a)}) + {fn}({unicode(b)}))/2",
                 r"\tfrac{" + f"{fn}({latex(a)}) + {fn}({latex(b)})" + "}{2}")


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


def _split_label(label: str) -> tuple[str, str]:
    """"(a) The parabola" -> ("a", "The parabola")."""
    import re

    m = re.match(r"\s*\(([a-z])\)\s*(.*)", label)
    return (m.group(1), m.group(2)) if m else ("", label)


@register("second_derivative_test")
@register("second-derivative-convexity")
def solve_second_derivative(ex) -> Solution:
    """Both names, both table shapes (see the module docstring)."""
    if "functions" not in ex.solver and "function" in ex.solver:
        return solve_on_a_box(ex)
    return solve_second_derivative_test(ex)


def solve_second_derivative_test(ex) -> Solution:
    from convexproof.solvers.teach import lead, part

    x = name_field(ex, "var", "x")
    functions = _table(ex, "functions", required=True)
    labels = _table(ex, "labels_text")
    domains = _table(ex, "domains")
    plots = _table(ex, "plot")
    names = _table(ex, "names_text")
    extras = _table(ex, "extras_text")
    steps, answers, figures = [], {}, []
    state: dict = {}
    summary = []
    done: dict = {}
    own, own_domains = {}, {}  # each verdict part's function and domain, for computed feedback
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
        if not isinstance(fn, str) or not fn.replace("_", "").isalnum() or not fn[0].isalpha() or len(fn) > 4:
            raise ExerciseError(f"{ex.path.name}: field 'solver.names_text.{name}': must be a short name")
        plot = plot_range(ex, f"solver.plot.{name}", plots[name]) if name in plots else None
        try:
            body, facts = analyse_function(f, x, dom, label, fn, state, plot)
        except ValueError as exc:  # a value off the real line: the file gave no (or a too wide) domain
            if "not a real number" not in str(exc):
                raise
            raise ExerciseError(f"{ex.path.name}: field 'solver.domains.{name}': {text} is not real on all of "
                                f"the domain given ({exc}); give its domain, e.g. \"{x} > 0\"") from None
        tag, title = _split_label(label)
        steps.append(part(tag, title, facts["lead"] + ["."], body))
        summary.append(([f"({tag}) "] if tag else []) + _short(facts))
        answers[f"verdict_{name}"] = facts["verdict"]
        own[f"verdict_{name}"] = f
        own_domains[f"verdict_{name}"] = [] if domain_rel(dom, x) is None else [domain_rel(dom, x)]
        done[name] = (f, fn, dom, facts, plot)
        facts["tag"] = tag
        if "f2" in facts:
            answers[f"f2_{name}"] = facts["f2"]
        if "argmin" in facts:
            answers[f"argmin_{name}"] = facts["argmin"]
            answers[f"min_{name}"] = facts["min"]
        if plot is not None:
            curves = [{"label": f"{fn}", "expr": f, "var": x}]
            if "f2" in facts:
                curves.append({"label": f"{fn}''", "expr": facts["f2"], "var": x})
            figures.append(Figure(title=label, curves=curves, xmin=plot[0], xmax=plot[1], xlabel=str(x)))
    for key, title in extras.items():
        if key not in _EXTRAS:
            raise ExerciseError(f"{ex.path.name}: field 'solver.extras_text.{key}': unknown; use one of "
                                f"{', '.join(sorted(_EXTRAS))}")
        tag, head = _split_label(str(title))
        ans, body = _EXTRAS[key](x, done)
        steps.append(part(tag, head, [*ans, "."], body))
        summary.append(([f"({tag}) "] if tag else []) + _EXTRA_SHORT[key])
    top = []
    for s_ in summary:
        top += (["; "] if top else []) + s_
    ans = want(ex, answers)
    tags = {name: _split_label(labels.get(name, name))[0] for name in functions}
    part_sections = {p: f"({tags[p.split('_', 1)[1]]})" for p in ans
                     if "_" in p and p.split("_", 1)[1] in tags and tags[p.split("_", 1)[1]]}
    return Solution(ex, [lead(*top, "."), *steps], ans, figures=[],
                    facts={"figures_in_place": figures, "part_sections": part_sections, **subjects(own, [x], own_domains)})


def _short(facts) -> list:
    """A few words for the opening answer line: the verdict (strict, concave)."""
    if facts["verdict"] == "convex":
        return ["strictly convex" if facts["strict"] else "convex, not strictly"]
    return ["not convex" + (", strictly concave" if facts.get("concave") == "strict" else
                            ", concave" if facts.get("concave") else "")]


# ------------------------------------------------------------ one function with parameters, on a box
def _family_figure(name, f, x, bounds):
    """f on its interval for the smallest, middle and largest value of one other bounded symbol (e.g. the label)."""
    others = sorted(f.free_symbols - {x}, key=lambda s: s.name)
    bx = bounds.get(x)
    if len(others) > 1 or bx is None or not (bx.lo.is_finite and bx.hi.is_finite):
        return None
    lo, hi = float(bx.lo), float(bx.hi)
    pad = (hi - lo) / 50
    lo, hi = lo + (pad if bx.lo_open else 0), hi - (pad if bx.hi_open else 0)
    if others:
        b = bounds.get(others[0])
        if b is None or not (b.lo.is_finite and b.hi.is_finite):
            return None
        values = [b.lo, (b.lo + b.hi) / 2, b.hi]
        curves = [{"label": sp.Eq(others[0], v, evaluate=False), "expr": f.subs(others[0], v), "var": x}
                  for v in values]
    else:
        curves = [{"label": fn(name, x), "expr": f, "var": x}]
    what = f" for {U(others[0])} = " + ", ".join(U(v) for v in values) if others else ""
    return Figure(title=f"{name}({U(x)}){what}: every curve bends upwards",
                  curves=curves, xmin=lo, xmax=hi, xlabel=str(x), ymin=0, ymax=4)


def _zero_condition(factor: sp.Expr):
    """factor = 0, written as ``y = 1`` when the factor is affine in one symbol."""
    syms = list(factor.free_symbols)
    if len(syms) == 1:
        s = syms[0]
        c = factor.coeff(s)
        rest = sp.expand(factor - c * s)
        if numeric(c) and c != 0 and not rest.has(s):
            return sp.Eq(s, -rest / c, evaluate=False)
    return sp.Eq(factor, 0, evaluate=False)


def solve_on_a_box(ex) -> Solution:
    """One ``function`` of ``variable`` with parameters, on the box ``where``: f'' >= 0 by the sign rule, term by term.

    Answers: ``second_derivative``, ``first_derivative``, ``verdict`` ("strictly convex", "convex" or "unknown").
"""
    inp = inputs(ex, "function", "variable", optional=("where",))
    f, x = inp["function"], inp["variable"]
    where = inp.get("where", [])
    if not isinstance(where, list):
        where = [where]
    name = function_name(ex)
    if x not in f.free_symbols:
        raise ExerciseError(f"{ex.path.name}: field 'solver.function': does not depend on {U(x)}")
    bounds = box(where)

    d1 = sp.diff(f, x)
    d2 = sp.diff(d1, x)
    from convexproof.solvers.teach import derivative_steps, lead

    try:
        lines, _forms = derivative_steps(name, f, x)
    except ValueError:
        lines = [Equation(deriv(name, x, 1), d1), Equation(deriv(name, x, 2), d2)]
    steps = [Section("Derivatives", children=[Equation(fn(name, x), f), *lines])]

    analysis = None
    for form in dict.fromkeys((d2, sp.expand(d2), sp.factor(d2))):
        terms = sp.Add.make_args(form)
        signs = [term_sign(t, bounds) for t in terms]
        if all(s is not None and s[0] in ("pos", "nonneg") for s in signs):
            analysis = (form, terms, signs)
            break

    domain_text = [("text", "On the domain ")]
    for i, c in enumerate(where):
        domain_text += ([("text", ", ")] if i else []) + [("math", c)]
    if analysis is None:
        verdict = "unknown"
        steps.append(Section("Sign of the second derivative", children=[
            Prose(domain_text + [("text", " the sign of each term could not be settled by the sign rule, "
                                          "so this solver makes no claim (unknown).")])]))
    else:
        form, terms, signs = analysis
        children = [Prose(domain_text + [("text", ", each term of the second derivative has a known sign:")])]
        for t, (s, facts, _v) in zip(terms, signs):
            children.append(SignArgument(relation(t, s), [relation(fa, fs) for fa, fs in facts]))
        strict = any(s[0] == "pos" for s in signs)
        sec = [Section("Sign of each term", children=children)]
        if strict:
            pos = [t for t, s in zip(terms, signs) if s[0] == "pos"][0]
            zero_children = [Claim("The term", pos, " is strictly positive, so the sum is strictly positive.")]
        else:
            vanishing = [s[2] for s in signs]
            zero_children = []
            for t, vs in zip(terms, vanishing):
                eqs = [_zero_condition(v) for v in vs]
                cond = sp.Or(*eqs) if len(eqs) > 1 else eqs[0]
                zero_children.append(Prose([("text", "The term "), ("math", t), ("text", " vanishes only when "),
                                            ("math", cond), ("text", ".")]))
            strict = never_all_zero(vanishing, where, bounds)
            if strict:
                zero_children.append(Paragraph("These conditions cannot hold at the same time (the equations "
                                               "have no common solution on the domain), so the terms are "
                                               "never all zero."))
            else:
                zero_children.append(Paragraph("The terms can vanish together somewhere on the domain, so "
                                               "only convexity follows, not strict convexity."))
        sec.append(Section("When can the second derivative vanish?", children=zero_children))
        rel = relation(deriv(name, x, 2), "pos" if strict else "nonneg")
        verdict = "strictly convex" if strict else "convex"
        concl = [Claim("Therefore", rel, f" at every point of the domain, for all values of the other symbols "
                       f"allowed there. A twice-differentiable function on an interval with this property is {verdict}.")]
        fig = _family_figure(name, f, x, bounds)
        if fig is not None:
            from convexproof.solvers.teach import FigureStep

            concl.append(FigureStep(figure=fig))
        sec.append(Section("Conclusion", children=concl))
        steps.extend(sec)

    answers = {"second_derivative": d2, "first_derivative": d1, "verdict": verdict}
    dom = [("math", c) for c in where]
    shown_d2 = getattr(lines[-1], "result", d2)
    if verdict == "unknown":
        top = lead("Undecided: the sign of the second derivative could not be settled term by term.")
    else:
        top = lead(name, " is ", verdict, ": ", E(deriv(name, x, 2), shown_d2), " ",
                   ">" if verdict == "strictly convex" else "≥", " 0", *([" on "] + [c for c in where][:1] if where else []),
                   *([", for every label with "] + [c for c in where][1:2] if len(where) > 1 else []), ".")
    steps.insert(0, top)
    facts = {"function": f, "variable": x, "first_derivative": d1, "second_derivative": d2,
             "where": where, "verdict": verdict, **subjects({"verdict": f}, [x], {"verdict": where})}
    return Solution(ex, steps, answers, [], facts)


# ------------------------------------------------------------ further parts of a statement
def _descent(x, done):
    """Why gradient descent finds the minimum of a convex function but not of a non-convex one."""
    import math

    from convexproof.solvers import Figure
    from convexproof.solvers.teach import figure

    convex = next((v for v in done.values() if v[3]["verdict"] == "convex" and "argmin" in v[3]), None)
    wave = next((v for v in done.values() if v[3]["verdict"] == "not convex"), None)
    if convex is None or wave is None:
        raise ExerciseError("extras_text.descent needs a convex function with a minimiser and a non-convex one")
    f, fn, dom, facts, plot = wave
    cf, cfn, _cd, cfacts, _cp = convex
    lo, hi = plot if plot is not None else (0.1, 10.0)
    d1 = sp.lambdify(x, sp.diff(f, x), "math")
    F = sp.lambdify(x, f, "math")
    n = 400
    grid = [lo + (hi - lo) * i / n for i in range(n + 1)]
    minima = []
    for a_, b_ in zip(grid, grid[1:]):
        if d1(a_) < 0 <= d1(b_):
            for _ in range(60):  # bisection on the sign change of the slope
                m_ = (a_ + b_) / 2
                a_, b_ = (m_, b_) if d1(m_) < 0 else (a_, m_)
            minima.append((a_ + b_) / 2)
    if len(minima) < 2:
        raise ExerciseError("extras_text.descent: the non-convex function needs two local minima in its plot range")

    def run(x0, eta=0.2, k=60):
        pts = [x0]
        for _ in range(k):
            x0 = min(max(x0 - eta * d1(x0), lo), hi)
            pts.append(x0)
        return pts

    m1, m2 = minima[0], minima[1]
    s1, s2 = max(lo, m1 - 1.5), min(hi, (m1 + m2) / 2 + 1.5)
    p1, p2 = run(s1), run(s2)
    r = lambda v: sp.Float(v, 3)  # noqa: E731 - display only
    body = [P(cfn, " is convex with the single stationary point ", E(x, cfacts["argmin"]),
              ", and a stationary point of a convex function is its global minimiser. Gradient descent with a small "
              "enough step decreases ", cfn, " at every step and can only stop where the slope vanishes, so it "
              "reaches ", E(x, cfacts["argmin"]), " from every start."),
          P(fn, " is not convex, and between ", E(x, r(lo)), " and ", E(x, r(hi)), " it has two local minima: ",
            E(x, r(m1), "≈"), " with value ≈ ", r(F(m1)), ", and ", E(x, r(m2), "≈"), " with value ≈ ", r(F(m2)),
            ". Each attracts the starts in its own valley: "
            "started at ", E(x, r(s1), "="), " gradient descent (step 0.2) settles at ≈ ", r(p1[-1]),
            ", started at ", E(x, r(s2), "="), " it settles at ≈ ", r(p2[-1]), ". Different starts give different "
            "answers, and neither run can tell whether its point is the global minimum.")]
    curves = [{"label": fn, "expr": f, "var": x},
              {"label": f"start {r(s1)}", "points": [(v, F(v)) for v in p1[:12]], "style": "only marks, mark=*, red"},
              {"label": f"start {r(s2)}", "points": [(v, F(v)) for v in p2[:12]],
               "style": "only marks, mark=triangle*, black!60!green"}]
    body.append(figure(Figure(title=f"gradient descent on {fn} from two starts ends in two different valleys",
                              curves=curves, xmin=lo, xmax=hi, xlabel=str(x), samples=121)))
    ans = [cfn, " has one stationary point, its global minimiser, so every run reaches it; ", fn,
           " has several local minima, and each run stops in the valley it starts in"]
    return ans, body


def _sum_rule(x, done):
    """A sum of convex functions is convex (strictly if one term is)."""
    strict = [f"({facts['tag']})" for _f, _fn, _d, facts, _p in done.values() if facts["strict"] and facts.get("tag")]
    loose = [f"({facts['tag']})" for _f, _fn, _d, facts, _p in done.values()
             if facts["verdict"] == "convex" and not facts["strict"] and facts.get("tag")]
    jg = named("g(tu + (1 − t)v) ≤ t g(u) + (1 − t) g(v)", r"g(tu + (1-t)v) \le t\,g(u) + (1-t)\,g(v)")
    jh = named("h(tu + (1 − t)v) ≤ t h(u) + (1 − t) h(v)", r"h(tu + (1-t)v) \le t\,h(u) + (1-t)\,h(v)")
    body = [P("If g and h are convex, then for any two points u, v and any ", named("t ∈ [0, 1]", r"t \in [0, 1]"),
              ", adding the two Jensen inequalities ", jg, " and ", jh, " gives the same inequality for ",
              named("g + h", "g + h"), ": the sum is convex. A non-negative multiple ", named("c·g", r"c\,g"),
              " is convex for the same reason, so a loss plus λ times a regulariser (λ ≥ 0) is convex."),
            P("If one of the two terms is strictly convex, its inequality is strict for u ≠ v and 0 < t < 1, and so "
              "is the sum's: the sum is strictly convex.")]
    if strict and loose:
        body.append(P("Above, ", ", ".join(strict), " are strictly convex and ", ", ".join(loose), " are not. So a "
                      "loss from ", ", ".join(loose), " plus the elastic net (f) is strictly convex, with at most one "
                      "minimiser, while a sum of functions from ", ", ".join(loose), " alone may be flat along a "
                      "segment and have many minimisers."))
    ans = ["Each of Jensen's inequalities adds up, so a sum of convex functions is convex, and strictly convex "
           "as soon as one term is strictly convex"]
    return ans, body


def _am_gm(x, done):
    """Jensen's inequality for −log x gives the AM–GM inequality."""
    a, b = sp.Integer(1), sp.Integer(4)
    A, B = sp.symbols("a b", positive=True)
    am, gm = named("(a + b)/2", r"\tfrac{a+b}{2}"), named("√(ab)", r"\sqrt{ab}")
    jensen = named("−log((a + b)/2) ≤ −(log a + log b)/2", r"-\log\tfrac{a+b}{2} \le -\tfrac{\log a + \log b}{2}")
    body = [P("For ", named("a, b > 0", "a, b > 0"), ", Jensen's inequality for the convex function −log x with "
              "t = 1/2 reads ", jensen, ", and the right-hand side is ", named("−log √(ab)", r"-\log\sqrt{ab}"),
              ". Multiplying by −1 and using that log is increasing gives ",
              named("(a + b)/2 ≥ √(ab)", r"\tfrac{a+b}{2} \ge \sqrt{ab}"), ": the arithmetic mean is at least the geometric "
              "mean."),
            P("Since −log x is strictly convex, equality holds only when ", sp.Eq(A, B, evaluate=False),
              ". For example, with ", E(A, a), " and ", E(B, b), ": ", E(am, (a + b) / 2), " ≥ ",
              E(gm, sp.sqrt(a * b)), ".")]
    ans = ["Jensen's inequality for the convex −log x at a and b gives ",
           named("(a + b)/2 ≥ √(ab)", r"\tfrac{a+b}{2} \ge \sqrt{ab}"),
           ", with equality only when ", sp.Eq(A, B, evaluate=False)]
    return ans, body


_EXTRAS = {"descent": _descent, "sum": _sum_rule, "am_gm": _am_gm}
_EXTRA_SHORT = {  # the few words of each further part in the opening answer line
    "descent": ["the convex loss has one minimiser that every run reaches; the other's answer depends on the start"],
    "sum": ["a sum of convex functions is convex, strictly if one term is"],
    "am_gm": ["Jensen's inequality for −log x gives the arithmetic–geometric mean inequality"],
}
