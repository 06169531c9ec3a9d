"""ML models in any dimension (kind ``vector_model``, issue #11).

Solver table (vector formulas are ``*_text`` fields: they are read by the
vector reader of :mod:`convexproof.engine.vector_expr`, not by the scalar
parser)::

    [solver]
    kind = "vector_model"
    expr_text = "norm(X@w - y)**2 + c*lam*norm(w)**2"   # parameters of [params] are substituted
    shapes_text = "X=n,d; w=d; y=n"
    wrt = "w"
    where_text = "lam > 0"                               # optional, ';' separates conditions

Answers: ``verdict`` (the engine's verdict word), ``hessian`` (a matrix
expression, for parts of type ``matrix_expression``), ``modulus`` (the
strong-convexity modulus valid for every value of the data, e.g. ``2*lam``),
``smoothness`` and ``gradient`` (matrix expressions).  Every answer is computed
by :func:`convexproof.engine.vector.prove_vector`; the proof's steps are the
solution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from convexproof.runtime.errors import ConvexproofError, ExerciseError
from convexproof.steps import Paragraph, Section, Step
from convexproof.solvers import Solution, register
from convexproof.solvers.toolkit import answer_steps, want
from convexproof.solvers.teach import lead, part

_TOPICS = {  # topic -> (title, step kinds)
    "hessian": ("The gradient and the Hessian", ("cvx_vec_term", "cvx_vec_gradient", "cvx_vec_hessian")),
    "convexity": ("Convexity", ("cvx_vec_hessian", "cvx_conclusion")),
    "terms": ("Each term", ("cvx_vec_term",)),
    "modulus": ("The strong-convexity modulus", ("cvx_vec_constants",)),
    "verdict": ("The verdict", ("cvx_conclusion",)),
}


def _sections(ex, res, answers) -> list:
    """One section per statement part, from ``sections_text = "a=hessian; b=modulus,verdict"``, each opening
    with its answer and followed by the proof steps it rests on."""
    spec = _texts(ex, "sections_text")
    out = []
    for item in spec:
        label, _, topics = item.partition("=")
        label, names = label.strip(), [t.strip() for t in topics.split(",") if t.strip()]
        if not label or not names or any(t not in _TOPICS for t in names):
            raise ExerciseError(f"{ex.path.name}: field 'solver.sections_text': write a=hessian; b=modulus, with "
                                f"topics among {', '.join(_TOPICS)}")
        kinds = [k for t in names for k in _TOPICS[t][1]]
        kids = [st for st in res.steps if st.kind in kinds]
        out.append(part(label, " and ".join(_TOPICS[t][0] if i == 0 else _TOPICS[t][0].lower()
                                           for i, t in enumerate(names)),
                        _lead_for(names, res, answers), [VectorProof(children=kids)]))
    return out


def _lead_for(names, res, answers) -> list:
    t = names[0]
    if t == "hessian" and res.hessian_node is not None:
        return ["∇²f(w) = ", res.hessian_node]
    if t == "modulus" and "modulus" in answers:
        return ["μ = ", answers["modulus"], ": f is strongly convex with this modulus for every data set"]
    if t == "terms":
        return ["every term is convex for every value of the data"]
    return ["the function f is ", res.verdict, " for every value of the data"]


class VectorProof(Step, kind="vector_proof"):
    """A convexity proof for every value of the data, step by step."""



def _texts(ex, key: str, default=None) -> list[str]:
    v = ex.solver.get(key, default)
    if v is None:
        return []
    if not isinstance(v, str):
        raise ExerciseError(f"{ex.path.name}: field 'solver.{key}': must be text in quotes")
    return [s.strip() for s in v.split(";") if s.strip()]


@register("vector_model")
def solve_vector_model(ex) -> Solution:
    from convexproof.engine.vector import prove_vector
    from convexproof.engine.vector_check import substitute_params
    from convexproof.engine.vector_expr import read_shapes, read_vector, text

    exprs = _texts(ex, "expr_text")
    if len(exprs) != 1:
        raise ExerciseError(f"{ex.path.name}: field 'solver.expr_text': must be one vector formula")
    shapes = _texts(ex, "shapes_text")
    where = _texts(ex, "where_text", "")
    wrt = ex.solver.get("wrt", "w")
    try:
        shp = read_shapes(shapes)
        node, _ = read_vector(exprs[0], shp, wrt)
        node = substitute_params(node, ex.subs() if ex.values else {})
        shown = text(node)
        res = prove_vector(shown, wrt, where, shapes)
    except ConvexproofError as exc:
        raise ExerciseError(f"{ex.path.name}: field 'solver.expr_text': {exc}") from None
    if res.problems or res.timed_out:
        raise ExerciseError(f"{ex.path.name}: the engine could not decide this model ({'; '.join(res.problems)})")
    answers = {"verdict": res.verdict}
    if res.hessian_node is not None:
        answers["hessian"] = res.hessian_node
    if res.gradient_node is not None:
        answers["gradient"] = res.gradient_node
    if res.modulus_uniform is not None and res.verdict == "strongly convex":
        answers["modulus"] = sp.sympify(res.modulus_uniform)
    if res.smoothness_node is not None:
        answers["smoothness"] = res.smoothness_node
    answers = want(ex, answers)
    from convexproof.render.mathtext import unicode as u
    from convexproof.parse import parse_condition

    dims = "; ".join(f"{k} is {'×'.join(sp.sstr(s) for s in v)}" for k, v in shp.items())
    setup = Paragraph(f"Shapes: {dims}. Every name with a shape other than {wrt} is data: each claim below holds for "
                      "every value of the data" + (" and for " + " and ".join(u(parse_condition(c)) for c in where)
                                                   if where else "") + ".")
    steps = [lead("the function f is ", res.verdict, " for every value of the data"
                  + (" and of the parameters in range" if where else ""))]
    sections = _sections(ex, res, answers)
    if sections:
        steps += [Section(title="The model", children=[setup])] + sections
    else:
        steps += [part("", "The model", ["the verdict: f is ", res.verdict], [setup]),
                  Section(title="The proof", children=[VectorProof(children=list(res.steps))])]
    steps.append(Section(title="Answers", children=answer_steps(answers)))
    facts = {"shapes": shapes, "wrt": wrt, "where": where, "function_text": shown}
    return Solution(ex, steps, answers, facts=facts)
