"""Non-convex losses of two variables.

``separable_regularization``: f(x, y) = a(x) + b(y) (a diagonal Hessian), e.g.
sin x + sin y + c(x² + y²).  A witness of non-convexity, then the smallest
lam >= 0 with f + lam (x² + y²) convex, from the exact minimum of each Hessian
entry.  Answers: ``verdict``, ``min_curvature``, ``lambda_min``.

``two_weight_network``: f(w1, w2) = (w1 w2 - t)².  The Hessian at the origin,
a chord along the eigenvector of the negative eigenvalue, and two global
minimisers whose midpoint is not one.  Answers: ``hessian_origin``,
``min_eigenvalue``, ``midpoint_value``, ``verdict``.
"""

from __future__ import annotations

import sympy as sp

from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol
from convexproof.solvers import Solution, register
from convexproof.engine.exact import is_negative, is_positive
from convexproof.engine.matrices import definiteness, eigenvector
from convexproof.engine.onevar import jensen_witness, minimum_on_reals
from convexproof.solvers.toolkit import (
    E, P, approx_value, fn_at, formula, join_list, named, names_field, subjects, want
)
from convexproof.solvers.hessian import contour_figure
from convexproof.solvers.teach import figure, lead, part


@register("separable_regularization")
def solve_separable_regularization(ex) -> Solution:
    xs = names_field(ex, "vars", ["x", "y"])
    f = formula(ex, "f")
    if f.free_symbols - set(xs):
        raise ExerciseError(f"{ex.path.name}: field 'solver.f': uses names other than the variables")
    H = sp.hessian(f, xs)
    if any(H[i, j] != 0 for i in range(len(xs)) for j in range(len(xs)) if i != j):
        raise ExerciseError(f"{ex.path.name}: field 'solver.f': the Hessian must be diagonal (a separable function)")
    lam = symbol("lam")
    steps = []
    diag = [sp.simplify(H[i, i]) for i in range(len(xs))]
    mins, where = [], []
    for v, h in zip(xs, diag):
        found = minimum_on_reals(h, v)
        if found is None:
            raise ExerciseError(f"{ex.path.name}: could not find the minimum of {h}")
        lo, crit = found
        if not crit:
            raise ExerciseError("internal: the minimum is not attained in [-4, 4]")
        mins.append(sp.simplify(lo))
        where.append(min(crit, key=lambda c: abs(float(c))))
    kmin = min(mins, key=lambda v: float(v))
    S = sp.Symbol("f")
    sec = [P("Let ", E(fn_at("f", *xs), f), ". Its Hessian is ", E(sp.Symbol("H"), sp.ImmutableMatrix(H)),
             ": diagonal, so its eigenvalues are the diagonal entries and each depends on one variable only.")]
    for v, h, lo, c in zip(xs, diag, mins, where):
        sec.append(P("The entry ", h, " is smallest where ", E(v, c), ", with value ", lo, "."))
    hess_sec = sec
    answers = {"min_curvature": kmin}
    if is_negative(kmin):
        pt = list(where)
        Hp = sp.ImmutableMatrix(H.subs(dict(zip(xs, pt))))
        i = mins.index(kmin)
        direction = [1 if k == i else 0 for k in range(len(xs))]
        ch = jensen_witness(f, list(xs), pt, direction)
        if ch is None:
            raise ExerciseError("internal: no verified chord")
        a, b, fa, fb, fc, gap = ch
        steps.append(part("a", "Not convex: a witness", [
            "at ", sp.Tuple(*pt), " the Hessian has the negative entry ", kmin, ", so f is not convex."], hess_sec + [
            P("At ", sp.Tuple(*pt), " the Hessian is ", Hp, ": the entry ", kmin,
              " is negative, so along the ", str(xs[i]), "-direction through this point f curves downwards: the "
              "Hessian is not positive semidefinite there."),
            P("Chord check between ", sp.Tuple(*a), " and ", sp.Tuple(*b), ": the midpoint value is ",
              E(fn_at("f", *pt), fc), " ≈ ", approx_value(fc), ", but the chord's height is ",
              E(named("(f(a) + f(b))/2", r"\tfrac{f(a)+f(b)}{2}"), sp.simplify((fa + fb) / 2)), " ≈ ",
              approx_value((fa + fb) / 2), ", which is lower by ", approx_value(gap), ". So ", S, " is not convex."),
        ]))
        from convexproof.solvers.teach import chord_figure

        v_ = xs[i]
        line = f.subs({xv: (v_ if k == i else pt[k]) for k, xv in enumerate(xs)})
        steps[-1].children.append(figure(chord_figure(
            f"f along the {v_}-direction through the witness point, and the chord below the graph", line, v_,
            a[i], b[i], name=f"f")))
        answers["verdict"] = "not convex"
    else:
        answers["verdict"] = "convex"
    # the smallest penalty
    pen = sum(v ** 2 for v in xs)
    need = [sp.simplify(lo + 2 * lam) for lo in mins]
    bound = max(sp.simplify(-lo / 2) for lo in mins)
    lam_min = sp.Max(0, bound)
    at = [sp.simplify(h + 2 * lam_min) for h in diag]
    below = lam_min / 2
    steps.append(part("b", "The smallest λ that makes it convex", [E(named("λ⋆", r"\lambda^{*}"), lam_min), "."], [
        P("Adding ", lam * pen, " adds ", 2 * lam,
          " to every diagonal entry. The Hessian is PSD everywhere exactly when each entry's minimum is "
          "non-negative: ", *join_list([sp.Ge(n, 0, evaluate=False) for n in need]), "."),
        P("So ", E(named("λ⋆", r"\lambda^{*}"), lam_min), ". At this value the entries are ", *join_list(at),
          ", each non-negative for every point, so the regularised function is convex."),
        P("Every smaller λ fails: for ", sp.Lt(lam, named("λ⋆", r"\lambda^{*}"), evaluate=False), " the entry at ",
          sp.Tuple(*where), " is ", sp.Lt(kmin + 2 * lam, kmin + 2 * named("λ⋆", r"\lambda^{*}"), evaluate=False),
          " = 0, so the Hessian there is not PSD. For example, at ", E(lam, below),
          " this entry is ", sp.simplify(kmin + 2 * below), "."),
    ]))
    if not all(is_negative(sp.simplify(kmin + 2 * below)) for _ in [0]) and lam_min > 0:
        raise ExerciseError("internal: smaller lambda did not fail")
    answers["lambda_min"] = lam_min
    ans = want(ex, answers)
    if "plot" in ex.solver:
        from convexproof.solvers.univariate import plot_range

        lo, hi = plot_range(ex, "solver.plot", ex.solver["plot"])
        steps[0].children.append(figure(contour_figure("Level sets of f (several separate valleys: not convex)",
                                                       f, xs, lo, hi)))
    top = lead("the function f is not convex (its Hessian has the entry ", kmin, " at ", sp.Tuple(*where), "); ",
               E(named("λ⋆", r"\lambda^{*}"), lam_min), ".") if answers.get("verdict") == "not convex" else \
        lead(E(named("λ⋆", r"\lambda^{*}"), lam_min), ".")
    return Solution(ex, [top, *steps], ans, facts={"part_sections": {
        "verdict": "(a)", "min_curvature": "(a)", "lambda_min": "(b)"}, **subjects({"verdict": f}, xs)})


@register("two_weight_network")
def solve_two_weight_network(ex) -> Solution:
    w1, w2 = names_field(ex, "vars", ["w1", "w2"])
    t = formula(ex, "target")
    if not (t.is_Rational and t > 0):
        raise ExerciseError(f"{ex.path.name}: field 'solver.target': must be a positive number")
    f = (w1 * w2 - t) ** 2
    H = sp.hessian(f, (w1, w2))
    H0 = sp.ImmutableMatrix(H.subs({w1: 0, w2: 0}))
    d = definiteness(H0)
    if not d["indefinite"]:
        raise ExerciseError("internal: the Hessian at the origin is not indefinite")
    neg = d["eigenvalues"][0]
    v = eigenvector(H0, neg)
    s = sp.Symbol("s")
    line = sp.expand(f.subs({w1: v[0] * s, w2: v[1] * s}))
    ch = jensen_witness(f, [w1, w2], [0, 0], [v[0], v[1]])
    if ch is None:
        raise ExerciseError("internal: no verified chord")
    a, b, fa, fb, fc, gap = ch
    # two global minimisers: f >= 0 and f = 0 on w1 w2 = t
    w2_of = sp.solve(sp.Eq(w1 * w2, t), w2)[0]
    p1 = (sp.Integer(1), w2_of.subs(w1, 1))
    p2 = (sp.Integer(-1), w2_of.subs(w1, -1))
    mid = ((p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2)
    vals = [f.subs({w1: p[0], w2: p[1]}) for p in (p1, p2, mid)]
    if vals[0] != 0 or vals[1] != 0 or not is_positive(vals[2]):
        raise ExerciseError("internal: minimiser check failed")
    steps = [part("a", "The Hessian at the origin", [E(named("H(0, 0)", "H(0, 0)"), H0), ", with eigenvalues ",
                                                      *join_list(d["eigenvalues"]), ": the origin is a saddle point."], [
        P("Let ", E(fn_at("f", w1, w2), f), ". Its Hessian is ", E(sp.Symbol("H"), sp.ImmutableMatrix(sp.expand(H))),
          "; at the origin it is ", E(named("H(0, 0)", "H(0, 0)"), H0), "."),
        P("Its eigenvalues are ", *join_list(d["eigenvalues"]), ": one negative and one positive, so the Hessian is "
          "indefinite and the origin is a saddle point."),
    ]), part("b", "Not convex: a chord", ["the chord from ", sp.Tuple(*a), " to ", sp.Tuple(*b),
                                          " passes below the graph at the origin."], [
        P("Along the eigenvector ", E(sp.Symbol("v"), sp.Tuple(*v)), " the loss is ", E(fn_at("f", v[0] * s, v[1] * s), line),
          ", which curves downwards at s = 0. Chord check: ", E(fn_at("f", 0, 0), fc), " is above the average of ",
          E(fn_at("f", *a), fa), " and ", E(fn_at("f", *b), fb), ". So f is not convex."),
        figure(_chord_line(f, w1, w2, v, a, b)),
    ]), part("c", "The set of minimisers is not convex", [sp.Tuple(*p1), " and ", sp.Tuple(*p2), " are global minimisers, "
                                                         "but their midpoint is not: ", E(fn_at("f", *mid), vals[2]), "."], [
        P("f is a square, so f ≥ 0, and f = 0 exactly on the curve ", E(w2, w2_of),
          ". Both ", sp.Tuple(*p1), " and ", sp.Tuple(*p2), " are global minimisers (f = 0)."),
        P("Their midpoint ", sp.Tuple(*mid), " gives ", E(fn_at("f", *mid), vals[2]), ", which is not minimal. The "
          "minimisers of a convex function form a convex set, so this is a second proof that f is not convex: "
          "the loss has separate valleys (here related by the symmetry w → −w), as neural networks do."),
    ])]
    answers = {"hessian_origin": H0, "min_eigenvalue": neg, "midpoint_value": vals[2], "verdict": "not convex"}
    ans = want(ex, answers)
    steps[2].children.append(figure(contour_figure("Level sets of f: the minimisers form the two branches of a "
                                                   "hyperbola", f, (w1, w2), -2.0, 2.0)))
    top = lead("the origin is a saddle (eigenvalues ", *join_list(d["eigenvalues"]), "); f is not convex, as a chord "
               "and the non-convex set of minimisers both show.")
    return Solution(ex, [top, *steps], ans, facts={"part_sections": {
        "hessian_origin": "(a)", "min_eigenvalue": "(a)", "verdict": "(b)", "midpoint_value": "(c)"},
        **subjects({"verdict": f}, [w1, w2])})


def _chord_line(f, w1, w2, v, a, b):
    from convexproof.solvers.teach import chord_figure

    s = sp.Symbol("s")
    line = sp.expand(f.subs({w1: v[0] * s, w2: v[1] * s}))
    ratio = next((ai / vi for ai, vi in zip(a, v) if vi != 0), -1)
    return chord_figure("f along the eigenvector v: the graph rises above the chord at s = 0", line, s, ratio, -ratio,
                        name="f(sv)")
