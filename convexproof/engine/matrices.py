"""Constant symmetric matrices: exact eigenvalues, the definiteness class, eigenvectors, leading minors.

Prose-free and import-light (SymPy and :mod:`convexproof.engine.exact` only), so the
exercise solvers can use it without loading the rest of the engine.  Every sign is
decided by :func:`convexproof.engine.exact.certified_sign`; a class that cannot be
certified is "unknown".
"""

from __future__ import annotations

import sympy as sp

from convexproof.engine.exact import is_negative, is_positive


def definiteness(H: sp.Matrix) -> dict:
    """Eigenvalues (exact, with multiplicity, ascending) of a constant symmetric matrix and its class."""
    H = sp.Matrix(H)
    ev = []
    for val, mult in H.eigenvals().items():
        ev += [sp.simplify(val)] * mult  # exact: no numeric "simplification"
    ev.sort(key=lambda v: float(v))
    pos = [is_positive(v) for v in ev]
    neg = [is_negative(v) for v in ev]
    zero = [v == 0 for v in ev]
    if all(pos):
        cls = "positive definite"
    elif all(p or z for p, z in zip(pos, zero)):
        cls = "positive semidefinite"
    elif all(neg):
        cls = "negative definite"
    elif all(n or z for n, z in zip(neg, zero)):
        cls = "negative semidefinite"
    elif any(pos) and any(neg):
        cls = "indefinite"
    else:
        cls = "unknown"
    psd = cls in ("positive definite", "positive semidefinite")
    return {"eigenvalues": ev, "class": cls, "psd": psd, "pd": all(pos), "indefinite": cls == "indefinite"}


def eigenvector(H: sp.Matrix, value) -> sp.Matrix:
    """An eigenvector of ``H`` for the eigenvalue ``value`` (denominators cleared when rational)."""
    for val, _m, vecs in sp.Matrix(H).eigenvects():
        if sp.simplify(val - value) == 0:
            v = vecs[0]
            den = sp.ilcm(*[sp.fraction(sp.nsimplify(c))[1] for c in v]) if all(c.is_Rational for c in v) else 1
            return sp.ImmutableMatrix(v * den)
    raise ValueError("no such eigenvalue")


def leading_minors(H: sp.Matrix) -> list:
    """The leading principal minors det H[:k, :k], k = 1..n (Sylvester's criterion for positive definiteness)."""
    n = H.shape[0]
    return [sp.simplify(H[:k, :k].det()) for k in range(1, n + 1)]
