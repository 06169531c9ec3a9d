"""The Hessian test and definiteness of matrices.

``hessian_test``::

    [solver]
    kind = "hessian_test"
    vars = ["x", "y"]
    functions = { bowl = "x**2 + y**2 + b*x*y", saddle = "x**2 - y**2" }
    labels_text = { bowl = "(a) ..." }
    plot = { bowl = "[-2, 2]" }          # contour lines (LaTeX)

Answers per function: ``verdict_<name>``, ``hessian_<name>`` (matrix),
``eigenvalues_<name>`` (ascending, a point), ``min_eigenvalue_<name>``.
Only constant Hessians (quadratics) are decided here; the verdict comes from
exact eigenvalues, and a non-convex verdict carries a verified chord along an
eigenvector of a negative eigenvalue.

``matrix_definiteness``: ``matrix = "[[1, 1], [1, 1]]"``.  Answers ``verdict``
(positive definite / positive semidefinite / indefinite ...), ``eigenvalues``,
``min_eigenvalue``, ``determinant``.
"""

from __future__ import annotations

import sympy as sp

from convexproof.runtime.errors import ExerciseError
from convexproof.parse import symbol
from convexproof.solvers import Figure, Solution, register
from convexproof.engine.exact import is_negative, is_positive
from convexproof.engine.matrices import definiteness, eigenvector, leading_minors as principal_minors
from convexproof.engine.onevar import jensen_witness
from convexproof.solvers.toolkit import (
    E, P, fn_at, formula, formula_of, join_list, named, names_field, subjects, want
)
from convexproof.solvers.teach import figure, lead, part
from convexproof.solvers.univariate import _split_label, _table, plot_range


def eig_point(ev):
    return sp.Tuple(*ev)


def hessian_facts(f, xs) -> dict:
    grad = sp.Tuple(*[sp.expand(sp.diff(f, v)) for v in xs])
    H = sp.ImmutableMatrix(sp.hessian(f, xs).applyfunc(sp.simplify))
    return {"grad": grad, "H": H}


def hessian_steps(f, xs, fn="f", label="f") -> tuple[list, dict]:
    """Gradient, Hessian, eigenvalues and the verdict for a function with a constant Hessian."""
    facts = hessian_facts(f, xs)
    H = facts["H"]
    S = sp.Symbol(fn)
    steps = [P("Let ", E(fn_at(fn, *xs), f), "."),
             P("The gradient is ", E(named("∇" + fn, r"\nabla " + fn), facts["grad"]), " and the Hessian is ",
               E(sp.Symbol("H"), H), ".")]
    if any(e.free_symbols for e in H):
        raise ExerciseError(f"the Hessian of {label} is not constant; use another solver kind")
    d = definiteness(H)
    ev = d["eigenvalues"]
    lam = symbol("lam")
    charpoly = sp.factor(H.charpoly(lam).as_expr())
    steps.append(P("Its eigenvalues are the roots of the characteristic polynomial ",
                   E(named("det(H − λI)", r"\det(H - \lambda I)"), charpoly), ": ", *join_list(ev), "."))
    minors = principal_minors(H)
    steps.append(P("The leading principal minors are ", *join_list(minors), "."))
    facts.update(d)
    facts["minors"] = minors
    facts["lead"] = [E(sp.Symbol("H"), H), " with eigenvalues ", *join_list(ev), ": "]
    if d["psd"]:
        if d["pd"]:
            steps.append(P("All eigenvalues are positive (equivalently, the leading minors are positive), so the "
                           "Hessian is positive definite at every point. By the Hessian test, ", S,
                           " is strictly convex, in particular convex."))
            facts["lead"] += ["positive definite, so ", S, " is strictly convex."]
            facts["short"] = ["strictly convex"]
        else:
            facts["lead"] += ["positive semidefinite, so ", S, " is convex but not strictly convex."]
            facts["short"] = ["convex"]
            steps.append(P("All eigenvalues are non-negative, so the Hessian is positive semidefinite at every "
                           "point. By the Hessian test, ", S, " is convex (but not strictly: some direction has "
                           "zero curvature)."))
        facts["verdict"] = "convex"
    elif any(is_negative(v) for v in ev):
        neg = ev[0]
        v = eigenvector(H, neg)
        vv = [v[i] for i in range(len(xs))]
        q = sp.simplify((sp.Matrix(vv).T * H * sp.Matrix(vv))[0])
        t = sp.Symbol("t")
        line = sp.expand(f.subs(dict(zip(xs, [c * t for c in vv])), simultaneous=True))
        steps.append(P("The eigenvalue ", neg, " is negative. Along its eigenvector ", E(sp.Symbol("v"), sp.Tuple(*vv)),
                       " the curvature is ", E(named("vᵀHv", r"v^{\top} H v"), q), ", which is negative: the restriction ",
                       E(fn_at(fn, *[c * t for c in vv]), line), " is a downward parabola in t."))
        ch = jensen_witness(f, list(xs), [0] * len(xs), vv)
        if ch is None:
            raise ExerciseError(f"no verified chord for {label}")
        a, b, fa, fb, fc, gap = ch
        steps.append(P("A chord confirms it: between ", sp.Tuple(*a), " and ", sp.Tuple(*b), " the midpoint value ",
                       E(fn_at(fn, *[0] * len(xs)), fc), " exceeds the chord's height ", (fa + fb) / 2,
                       ". So ", S, " is not convex; since the Hessian also has a positive eigenvalue, the origin is a "
                       "saddle point." if any(is_positive(e) for e in ev) else ". So " + fn + " is not convex."))
        t2 = sp.Symbol("t")
        steps.append(figure(_line_figure(f, xs, vv, fn, a, b)))
        facts["verdict"] = "not convex"
        facts["witness_direction"] = sp.Tuple(*vv)
        facts["lead"] += ["indefinite, so ", S, " is not convex; along ", E(sp.Symbol("v"), sp.Tuple(*vv)),
                          " the curvature is ", q, " < 0."]
        facts["short"] = ["not convex (a saddle)"]
    else:
        raise ExerciseError(f"the engine could not decide the Hessian of {label}")
    return steps, facts


def _line_figure(f, xs, vv, fn, a, b):
    """The restriction t -> f(t v) along a direction of negative curvature, with the witness chord."""
    from convexproof.solvers.teach import chord_figure

    t = sp.Symbol("t")
    line = sp.expand(f.subs(dict(zip(xs, [c * t for c in vv])), simultaneous=True))
    ta = sp.Integer(-1) * (1 if a[0] == -b[0] else 1)
    ratio = next((ai / ci for ai, ci in zip(a, vv) if ci != 0), -1)
    return chord_figure(f"{fn} along the direction v: a downward parabola in t, with the witness chord below it",
                        line, t, ratio, -ratio, name=f"{fn}(tv)")


def contour_figure(title, f, xs, lo, hi) -> Figure:
    from convexproof.solvers.toolkit import contour_figure as _cf

    return _cf(title, f, xs, lo, hi)


@register("hessian_test")
def solve_hessian_test(ex) -> Solution:
    xs = names_field(ex, "vars", ["x", "y"])
    functions = _table(ex, "functions", required=True)
    labels = _table(ex, "labels_text")
    plots = _table(ex, "plot")
    names = _table(ex, "names_text")
    steps, answers, figures = [], {}, []
    summary: list = []
    own = {}  # each verdict part's function, for computed feedback
    for name, text in functions.items():
        f = formula_of(ex, text, f"solver.functions.{name}")
        if f.free_symbols - set(xs):
            raise ExerciseError(f"{ex.path.name}: field 'solver.functions.{name}': uses names other than "
                                f"{', '.join(map(str, xs))}")
        label = labels.get(name, name)
        fn = names.get(name, "f")
        if not isinstance(fn, str) or not fn.isalpha() or len(fn) > 3:
            raise ExerciseError(f"{ex.path.name}: field 'solver.names_text.{name}': must be a short name")
        body, facts = hessian_steps(f, xs, fn, label)
        tag, title = _split_label(str(label))
        if name in plots:
            lo, hi = plot_range(ex, f"solver.plot.{name}", plots[name])
            fig = contour_figure(f"Level sets of {fn} (" + ("closed ellipses around the minimiser)"
                                                            if facts["verdict"] == "convex" else
                                                            "hyperbolas around a saddle point)"), f, xs, lo, hi)
            figures.append(fig)
            body.append(figure(fig))
        steps.append(part(tag, title, facts["lead"], body))
        summary += (["; "] if summary else []) + ([f"({tag}) "] if tag else []) + facts["short"]
        answers[f"verdict_{name}"] = facts["verdict"]
        own[f"verdict_{name}"] = f
        answers[f"hessian_{name}"] = facts["H"]
        answers[f"eigenvalues_{name}"] = eig_point(facts["eigenvalues"])
        answers[f"min_eigenvalue_{name}"] = facts["eigenvalues"][0]
        answers[f"max_eigenvalue_{name}"] = facts["eigenvalues"][-1]
    ans = want(ex, answers)
    tags = {name: _split_label(str(labels.get(name, name)))[0] for name in functions}
    part_sections = {}
    for p in ans:
        for name, tag in tags.items():
            if tag and p.endswith("_" + name):
                part_sections[p] = f"({tag})"
    return Solution(ex, [lead(*summary, "."), *steps], ans, facts={"figures_in_place": figures,
                                                                    "part_sections": part_sections,
                                                                    **subjects(own, xs)})


@register("matrix_definiteness")
def solve_matrix_definiteness(ex) -> Solution:
    A = formula(ex, "matrix")
    if not isinstance(A, sp.MatrixBase) or A.shape[0] != A.shape[1] or A != A.T or A.free_symbols:
        raise ExerciseError(f"{ex.path.name}: field 'solver.matrix': must be a symmetric matrix of numbers")
    n = A.shape[0]
    M = sp.Symbol("A")
    d = definiteness(A)
    ev = d["eigenvalues"]
    lam = symbol("lam")
    vs = [sp.Symbol(f"v{i + 1}") for i in range(n)]
    q = sp.expand((sp.Matrix(vs).T * A * sp.Matrix(vs))[0])
    cp = sp.factor(A.charpoly(lam).as_expr())
    steps = [part("a", "Eigenvalues", ["the eigenvalues of A are ", *join_list(ev), "."], [
        P("The matrix is ", E(M, A), ". Its characteristic polynomial is ",
          E(named("det(A − λI)", r"\det(A - \lambda I)"), cp), ", with roots ", *join_list(ev), "."),
    ])]
    minors = principal_minors(A)
    from convexproof.engine.multivariate import principal_minors as all_principal_minors

    all_minors = [m for _label, m in all_principal_minors(A, max_n=n)]
    vAv = named("vᵀAv", r"v^{\top} A v")
    sec = [P("The quadratic form is ", E(vAv, sp.factor(q)), "."),
           P("The leading principal minors are ", *join_list(minors), "; all principal minors are ",
             *join_list(all_minors), ".")]
    z = None
    if d["pd"]:
        sec.append(P("Every eigenvalue is positive, so the matrix is positive definite."))
        lead_b = ["positive definite: every eigenvalue is positive."]
    elif d["psd"]:
        z = eigenvector(A, 0) if any(e == 0 for e in ev) else None
        sec.append(P("Every eigenvalue is non-negative, so A is positive semidefinite; so are all its principal "
                     "minors, which is the minor test for semidefiniteness. It is not positive definite: the "
                     "eigenvalue ", ev[0], " belongs to a non-zero vector of zero curvature",
                     *([", for example ", E(sp.Symbol("v"), sp.Tuple(*z)), ", where ",
                        E(vAv, sp.simplify((z.T * A * z)[0]))] if z is not None else []),
                     ". The leading minors agree: the zero leading minor rules out positive definiteness (Sylvester's "
                     "criterion)."))
        lead_b = ["positive semidefinite but not positive definite", *([": ", E(vAv, 0), " for ",
                                                                         E(sp.Symbol("v"), sp.Tuple(*z))]
                                                                       if z is not None else []), "."]
    else:
        sec.append(P("A negative eigenvalue means the matrix is not positive semidefinite."))
        lead_b = [d["class"], "."]
    if n == 2:  # the quadratic form's level sets: ellipses (PD), parallel lines (PSD, a flat direction), hyperbolas
        v1, v2 = sp.symbols("v1 v2", real=True)
        qf = sp.expand((sp.Matrix([v1, v2]).T * A * sp.Matrix([v1, v2]))[0])
        shape = ("ellipses: positive definite" if d["pd"] else "parallel lines: the form is 0 along a whole line, "
                 "so A is semidefinite, not definite" if d["psd"] else "hyperbolas: indefinite")
        sec.append(figure(contour_figure(f"Level sets of the quadratic form (v1, v2) ↦ vᵀAv ({shape})",
                                         qf, (v1, v2), -2.0, 2.0)))
    steps.append(part("b", "Definiteness", lead_b, sec))
    steps.append(part("c", "A tiny negative eigenvalue from floating point",
                      ["treat it as 0: a PSD check must accept eigenvalues above −tol, for a tolerance tol "
                       "proportional to the size of the matrix's entries."],
                      [P("In exact arithmetic the smallest eigenvalue is exactly ", ev[0], ". A floating-point "
                         "eigenvalue routine returns it with a rounding error of the order of the machine precision "
                         "(about 10⁻¹⁶) times the largest eigenvalue ", ev[-1], ", so −2·10⁻¹⁶ is zero up to "
                         "rounding, not negative curvature. A numerical PSD check therefore asks whether the smallest "
                         "eigenvalue is at least −tol, with tol a small multiple of the machine precision times the largest absolute eigenvalue; "
                         "comparing with 0 itself would wrongly call this matrix indefinite.")]))
    answers = {"verdict": d["class"], "eigenvalues": eig_point(ev), "min_eigenvalue": ev[0],
               "max_eigenvalue": ev[-1], "determinant": sp.simplify(A.det())}
    ans = want(ex, answers)
    top = lead("the eigenvalues are ", *join_list(ev), "; A is ", d["class"],
               *([", not positive definite"] if d["psd"] and not d["pd"] else []),
               "; round-off below a tolerance must be read as 0.")
    return Solution(ex, [top, *steps], ans, facts={"part_sections": {
        "verdict": "(b)", "eigenvalues": "(a)", "min_eigenvalue": "(a)", "max_eigenvalue": "(a)", "determinant": "(a)"},
        "matrices": {"verdict": sp.ImmutableMatrix(A)}})  # a wrong class is refuted by an eigenvector (checker)
