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


DEFINITENESS_CLASSES = ("positive definite", "positive semidefinite", "negative definite", "negative semidefinite",
                        "indefinite")
_CLASS_WORDS = {"pd": "positive definite", "psd": "positive semidefinite", "nd": "negative definite",
                "nsd": "negative semidefinite", "positive semi-definite": "positive semidefinite",
                "negative semi-definite": "negative semidefinite"}


def definiteness_class(word: str) -> str | None:
    """The definiteness class a (normalised) answer word names, or None."""
    word = _CLASS_WORDS.get(word, word)
    return word if word in DEFINITENESS_CLASSES else None


def refute_definiteness(H: sp.Matrix, claim: str) -> dict | None:
    """A verified refutation of "H is ``claim``" (a class of :data:`DEFINITENESS_CLASSES`), or None if the claim
    holds or nothing is certified.

    Returns ``{"class": the true class, "eigenvalues": [...], "vector": v, "value": vᵀHv}`` with v an eigenvector
    whose exact value vᵀHv has the sign that contradicts the claim (vᵀHv ≤ 0 against positive definite, < 0
    against positive semidefinite, and the mirror images); for a claim "indefinite" about a semidefinite H there is
    no such vector and ``vector`` is None (the eigenvalues, all of one sign, are the refutation).
    """
    from convexproof.engine.exact import certified_sign

    d = definiteness(H)
    if d["class"] in ("unknown", claim) or claim not in DEFINITENESS_CLASSES:
        return None
    ev = d["eigenvalues"]
    bad = {"positive definite": lambda s: s <= 0, "positive semidefinite": lambda s: s < 0,
           "negative definite": lambda s: s >= 0, "negative semidefinite": lambda s: s > 0}.get(claim)
    out = {"class": d["class"], "eigenvalues": ev, "vector": None, "value": None}
    if bad is None:  # "indefinite": H is semidefinite, its eigenvalues have one sign
        return out
    for value in ([ev[0], ev[-1]] if claim.startswith("positive") else [ev[-1], ev[0]]):
        s = certified_sign(value)
        if s is None or not bad(s):
            continue
        v = eigenvector(H, value)
        q = sp.simplify((v.T * sp.Matrix(H) * v)[0])
        sq = certified_sign(q)
        if sq is not None and bad(sq) and any(c != 0 for c in v):
            out.update(vector=v, value=q)
            return out
    return out if claim != d["class"] else None
