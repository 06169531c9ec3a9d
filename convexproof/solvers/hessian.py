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

from ..errors import ExerciseError
from ..parse import symbol
from ..steps import Section
from . import Figure, Solution, register
from .exkit import (
    E,
    P,
    answer_steps,
    definiteness,
    eigenvector,
    fn_at,
    formula,
    formula_of,
    is_negative,
    jensen_witness,
    join_list,
    named,
    names_field,
    principal_minors,
    want,
)
from .univariate import _table, plot_range


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
    if d["psd"]:
        if d["pd"]:
            steps.append(P("All eigenvalues are positive, so the Hessian is positive definite at every point. By the "
                           "Hessian test, ", S, " is strictly convex, in particular convex."))
        else:
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
                       "saddle point." if any(e.is_positive for e in ev) else ". So " + fn + " is not convex."))
        facts["verdict"] = "not convex"
        facts["witness_direction"] = sp.Tuple(*vv)
    else:
        raise ExerciseError(f"the engine could not decide the Hessian of {label}")
    return steps, facts


def contour_figure(title, f, xs, lo, hi) -> Figure:
    from .exkit import contour_figure as _cf

    return _cf(title, f, xs, lo, hi)


@register("hessian_test")
def solve_hessian_test(ex) -> Solution:
    xs = names_field(ex, "vars", ["x", "y"])
    functions = _table(ex, "functions", required=True)
    labels = _table(ex, "labels_text")
    plots = _table(ex, "plot")
    steps, answers, figures = [], {}, []
    for name, text in functions.items():
        f = formula_of(ex, text, f"solver.functions.{name}")
        if f.free_symbols - set(xs):
            raise ExerciseError(f"{ex.path.name}: field 'solver.functions.{name}': uses names other than "
                                f"{', '.join(map(str, xs))}")
        label = labels.get(name, name)
        body, facts = hessian_steps(f, xs, "f", label)
        steps.append(Section(title=str(label), children=body))
        answers[f"verdict_{name}"] = facts["verdict"]
        answers[f"hessian_{name}"] = facts["H"]
        answers[f"eigenvalues_{name}"] = eig_point(facts["eigenvalues"])
        answers[f"min_eigenvalue_{name}"] = facts["eigenvalues"][0]
        answers[f"max_eigenvalue_{name}"] = facts["eigenvalues"][-1]
        if name in plots:
            lo, hi = plot_range(ex, f"solver.plot.{name}", plots[name])
            figures.append(contour_figure(str(label), f, xs, lo, hi))
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    return Solution(ex, steps, ans, figures=figures)


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
    steps = [Section(title="Eigenvalues", children=[
        P("The matrix is ", E(M, A), ". Its characteristic polynomial is ",
          E(named("det(A − λI)", r"\det(A - \lambda I)"), sp.factor(A.charpoly(lam).as_expr())), ", with roots ", *join_list(ev), "."),
        P("In exact arithmetic the smallest eigenvalue is exactly ", ev[0],
          ". A floating-point routine may return a tiny negative or positive number instead, which is why "
          "numerical PSD checks compare against a small tolerance rather than against zero."),
    ])]
    minors = principal_minors(A)
    all_minors = [sp.simplify(A.extract(list(idx), list(idx)).det())
                  for k in range(1, n + 1) for idx in __import__("itertools").combinations(range(n), k)]
    sec = [P("The leading principal minors are ", *join_list(minors), "; all principal minors are ",
             *join_list(all_minors), "."),
           P("The quadratic form is ", E(named("vᵀAv", r"v^{\top} A v"), sp.factor(q)), ".")]
    if d["pd"]:
        sec.append(P("Every eigenvalue is positive, so the matrix is positive definite."))
    elif d["psd"]:
        z = eigenvector(A, 0) if any(e == 0 for e in ev) else None
        sec.append(P("Every eigenvalue is non-negative, so the matrix is positive semidefinite; every principal "
                     "minor is non-negative too. It is not positive definite: the eigenvalue ", ev[0],
                     " means some non-zero vector has zero curvature",
                     *([", for example ", E(sp.Symbol("v"), sp.Tuple(*z)), ", where ",
                        E(named("vᵀAv", r"v^{\top} A v"), sp.simplify((z.T * A * z)[0]))] if z is not None else []),
                     ". Sylvester's criterion with leading minors confirms it: a zero leading minor rules out "
                     "positive definiteness, but only all principal minors being non-negative proves PSD."))
    else:
        sec.append(P("A negative eigenvalue means the matrix is not positive semidefinite."))
    steps.append(Section(title="Definiteness", children=sec))
    answers = {"verdict": d["class"], "eigenvalues": eig_point(ev), "min_eigenvalue": ev[0],
               "max_eigenvalue": ev[-1], "determinant": sp.simplify(A.det())}
    ans = want(ex, answers)
    steps.append(Section(title="Answers", children=answer_steps(ans)))
    return Solution(ex, steps, ans)
