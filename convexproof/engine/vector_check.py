"""Checking a typed matrix expression (an answer such as ``2*X.T@X + 2*lam*I``) against the correct one.

Correct only when proved: both are brought to a canonical sum of products of
data matrices (transposes pushed to the symbols, scalars collected, the
identity dropped from products) and the canonical forms are the same.
Incorrect only with a certified difference: an instance (small sizes, integer
data, rational parameters and point) where an entry of the two differs,
decided exactly.  Anything else is undecided.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from convexproof.runtime.errors import ParseError
from convexproof.engine.vector_expr import (Add, Const, Eye, MatMul, Node, Scale, Sym, Tr, params_of, read_shapes, read_vector,
                                            text)


class _Opaque(Exception):
    pass


def canonical(n: Node) -> dict:
    """{tuple of factors: coefficient}: a matrix (or vector) as a sum of products; factors are hashable."""
    if isinstance(n, Add):
        out: dict = {}
        for t in n.terms:
            for k, v in canonical(t).items():
                out[k] = out.get(k, 0) + v
        return {k: v for k, v in out.items() if sp.simplify(v) != 0}
    if isinstance(n, Scale):
        return {k: sp.expand(n.c * v) for k, v in canonical(n.a).items()}
    if isinstance(n, Const):
        return {(): n.value}
    if isinstance(n, Eye):
        return {(): sp.Integer(1)}
    if isinstance(n, MatMul):
        a, b = canonical(n.a), canonical(n.b)
        out = {}
        for ka, va in a.items():
            for kb, vb in b.items():
                k = ka + kb
                out[k] = out.get(k, 0) + sp.expand(va * vb)
        return out
    if isinstance(n, Tr):
        out = {}
        for k, v in canonical(n.a).items():
            kk = tuple(_tr(f) for f in reversed(k))
            out[kk] = out.get(kk, 0) + v
        return out
    if isinstance(n, Sym):
        return {((n.name, False),): sp.Integer(1)}
    return {((text(n), False),): sp.Integer(1)}  # any other node: an opaque factor, compared as written


def _tr(f):
    name, t = f
    return (name, not t)


def _matrix_value(n: Node, env: dict):
    from convexproof.engine.vector import scalarise

    v = scalarise(n, env)
    if not isinstance(v, sp.MatrixBase):
        v = sp.Matrix([[v]])
    return v


@dataclass
class MatrixCheck:
    status: str  # correct, incorrect, undecided
    feedback: str
    note: str | None
    method: str | None
    read_as: str


def check_matrix_expression(answer: str, correct: Node, shapes, wrt: str, subs: dict | None = None) -> MatrixCheck:
    """Compare a student's matrix expression with the correct node (ParseError when it cannot be read)."""
    from convexproof.engine.vector import dimension_symbols, instance_env, random_data
    from convexproof.engine.exact import certified_sign

    shp = read_shapes(shapes)
    node, params = read_vector(answer, shp, wrt, scalar=False)
    if subs:
        node = substitute_params(node, subs)
    read_as = text(node)
    if node.shape != correct.shape and len(node.shape) != len(correct.shape):
        return MatrixCheck("incorrect", f"Expected a {_word(correct.shape)}, not a {_word(node.shape)}.",
                           "wrong-shape", "shape", read_as)
    try:
        if _same(canonical(node), canonical(correct)):
            return MatrixCheck("correct", "", None, "canonical form", read_as)
    except _Opaque:
        pass
    rng = random.Random(5)
    dims = dimension_symbols(shp)
    pnames = sorted({s for s in params} | {str(s) for s in params_of(correct)})
    for trial in range(6):
        sizes = {s: 1 + (trial + i) % 3 for i, s in enumerate(dims)}
        data = random_data(shp, wrt, sizes, rng)
        pv = {sp.Symbol(p, real=True): sp.Rational(rng.randint(1, 9), rng.randint(1, 3)) for p in pnames}
        env = instance_env(shp, wrt, sizes, data, pv)
        d = int(sp.sympify(shp[wrt][0]).xreplace(sizes))
        env[wrt] = sp.Matrix([sp.Integer(rng.randint(-2, 2)) for _ in range(d)])
        try:
            a, b = _matrix_value(node, env), _matrix_value(correct, env)
        except Exception:  # noqa: BLE001
            continue
        if a.shape != b.shape:
            return MatrixCheck("incorrect", "Your answer does not have the shape of the correct one.", "wrong-shape",
                               "instance", read_as)
        for x, y in zip(a, b):
            if certified_sign(sp.sympify(x - y)) not in (0, None):
                where = ", ".join(f"{k} = {sp.sstr(v.tolist() if isinstance(v, sp.MatrixBase) else v)}"
                                  for k, v in [*((str(s), v) for s, v in sizes.items()), *data.items(),
                                               *((str(k), v) for k, v in pv.items())])
                return MatrixCheck("incorrect", f"For example, with {where}, an entry of your answer is "
                                   f"{sp.sstr(x)} where the correct value is {sp.sstr(y)}.", "differs", "instance",
                                   read_as)
    return MatrixCheck("undecided", "Could not decide automatically whether your answer is right: it agrees with the "
                       "correct answer on every instance tested, but equality could not be proved. A teacher will "
                       "review it.", "undecided", "undecided", read_as)


def _same(a: dict, b: dict) -> bool:
    keys = set(a) | set(b)
    return all(sp.simplify(sp.sympify(a.get(k, 0)) - sp.sympify(b.get(k, 0))) == 0 for k in keys)


def substitute_params(n: Node, subs: dict) -> Node:
    """The node with parameter values put in (an exercise variant)."""
    from dataclasses import fields, replace

    from convexproof.engine.vector_expr import add, scale

    if not subs:
        return n
    if isinstance(n, Const):
        return Const(sp.sympify(n.value).xreplace(subs))
    if isinstance(n, Scale):
        return scale(sp.sympify(n.c).xreplace(subs), substitute_params(n.a, subs))
    if isinstance(n, Add):
        r = add(*[substitute_params(t, subs) for t in n.terms])
        return r if r is not None else Const(sp.Integer(0))
    changes = {}
    for f in fields(n):
        v = getattr(n, f.name)
        if isinstance(v, Node):
            changes[f.name] = substitute_params(v, subs)
    return replace(n, **changes) if changes else n


def _word(shape) -> str:
    return {0: "scalar", 1: "vector", 2: "matrix"}[len(shape)]


__all__ = ["check_matrix_expression", "canonical", "substitute_params", "MatrixCheck", "ParseError"]
