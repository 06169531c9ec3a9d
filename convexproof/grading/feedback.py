"""How feedback shows values: numbers as a student typed them, points, comparisons and the engine's witnesses.

Only wording lives here; every value shown was computed and decided by the
engine (:mod:`convexproof.engine.witness`, :mod:`convexproof.engine.exact`) or
by the certified comparisons of :mod:`convexproof.grading.answers`.
"""

from __future__ import annotations

from decimal import Decimal

import sympy as sp

from convexproof.parse import as_sympy


def _terminating(v: sp.Rational) -> str | None:
    """A short terminating decimal for v (2999/1000 -> "2.999"), or None."""
    q = v.q
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q == 1 and v.q <= 10**12:
        text = format(Decimal(v.p) / Decimal(v.q), "f")
        if len(text) <= 12:
            return text
    return None


def approximated(v) -> bool:
    """True if :func:`u` shows this rational rounded (so the text must say ≈, not =)."""
    if not isinstance(v, sp.Rational) or v.is_Integer or v.q <= 100 or _terminating(v) is not None:
        return False
    return abs(v.p) > 10**9 or v.q > 10**6


def u(obj) -> str:
    """A value in the exercise's notation (Unicode); a typed decimal stays decimal, a huge rational is rounded."""
    from convexproof.render.mathtext import unicode

    if isinstance(obj, sp.Rational) and not obj.is_Integer and obj.q > 100:
        text = _terminating(obj)
        if text is not None:  # a terminating decimal, as the student typed it: 2.999
            return text.replace("-", "−")
        if approximated(obj):
            return f"{float(obj):.6g}".replace("-", "−")  # 1/100000000000000000 reads better as 1e-17
    if isinstance(obj, sp.Float):
        if abs(obj) > sp.Float("1e300"):  # beyond a double: SymPy's own six digits, not "inf"
            return sp.sstr(obj.evalf(6)).replace("-", "−")
        return f"{float(obj):.6g}".replace("-", "−")
    return unicode(obj)


def point_text(pt: dict) -> str:
    """x = 1/2, y = 1 (sorted by name)."""
    return ", ".join(f"{u(s)} = {u(v)}" for s, v in sorted(pt.items(), key=lambda kv: kv[0].name))


def cmp_text(v) -> str:
    """'= v', '≈ v' for a rounded value, or 'undefined'."""
    if isinstance(v, sp.Basic) and (v.is_Float or approximated(v)):
        return "≈ " + u(v)
    if isinstance(v, sp.Basic) and v.has(sp.nan):
        return "undefined"
    return "= " + u(v)


def shown(v):
    """Exact if rational, else a 6-digit float (for display only: no decision is taken on it)."""
    v = sp.nsimplify(v) if isinstance(v, sp.Float) else v
    if v.is_Rational:
        return v
    try:
        s = sp.simplify(v) if v.count_ops() < 40 else v
    except Exception:  # noqa: BLE001 - shown as it is
        s = v
    if s.is_Rational:
        return s
    return sp.Float(s.evalf(6), 6)


def witness_text(w: dict, name: str) -> str:
    """One or two sentences from an engine witness (point/direction/curvature and/or chord)."""
    out = []
    if "point" in w and "curvature" in w and w["curvature"] is not None:
        pt = w["point"]
        if len(pt) == 1:
            (x0,) = pt.values()
            out.append(f"{name}''({u(x0)}) {cmp_text(shown(as_sympy(w['curvature'])))} < 0.")
        else:
            d = w.get("direction", {})
            out.append(f"at {point_text(pt)}, the curvature in the direction ({', '.join(u(v) for v in d.values())}) "
                       f"is {u(shown(as_sympy(w['curvature'])))} < 0.")
    ch = w.get("chord")
    if ch:
        a, b, t = ch["a"], ch["b"], ch["t"]
        out.append(f"The chord from ({point_text(a)}) to ({point_text(b)}) passes below the graph: with t = {u(t)}, "
                   f"{name}(t·a + (1 − t)·b) {cmp_text(shown(as_sympy(ch['lhs'])))}, which is more than "
                   f"t·{name}(a) + (1 − t)·{name}(b) {cmp_text(shown(as_sympy(ch['rhs'])))}.")
    return " ".join(out)


def definiteness_text(r: dict, claim: str, name: str = "A") -> str:
    """Why ``name`` is not ``claim``, from :func:`convexproof.engine.matrices.refute_definiteness`'s record."""
    ev = ", ".join(u(e) for e in r["eigenvalues"])
    if r["vector"] is not None:
        v = ", ".join(u(c) for c in r["vector"])
        word = "≤ 0" if claim == "positive definite" else "< 0" if claim == "positive semidefinite" else \
            "≥ 0" if claim == "negative definite" else "> 0"
        return (f"{name} is not {claim}: for v = ({v}), vᵀ{name}v = {u(r['value'])} {word}. Its eigenvalues are "
                f"{ev}, so {name} is {r['class']}.")
    return f"{name} is {r['class']}, not {claim}: its eigenvalues are {ev}."


def curvature_text(w: dict, x, lam, v, name: str) -> str:
    """'With λ = v, f''(x0) = c < 0, …' and the chord around x0, from a one-variable engine witness."""
    x0 = w["point"][x]
    msg = (f"With {u(lam)} = {u(v)}, {name}''({u(x0)}) {cmp_text(shown(as_sympy(w['curvature'])))} < 0, so {name} "
           f"curves downwards there and is not convex.")
    ch = w.get("chord")
    if ch and ch["t"] == sp.Rational(1, 2):
        a, b = ch["a"][x], ch["b"][x]
        msg += (f" Concretely, the chord from x = {u(a)} to x = {u(b)} passes below the graph: "
                f"{name}({u((a + b) / 2)}) {cmp_text(shown(as_sympy(ch['lhs'])))}, but ({name}({u(a)}) + "
                f"{name}({u(b)}))/2 {cmp_text(shown(as_sympy(ch['rhs'])))}.")
    return msg
