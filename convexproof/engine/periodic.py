"""Natural domains that are unions of intervals (tan, log∘cos, log∘sin, 1/x, log(x² − 1)).

Without ``--where`` the engine works on the natural domain of f.  SymPy's
``continuous_domain`` describes periodic domains as complements of image
sets, and for some of them returns a single period (``[0, π/2)`` for
``-log(cos(x))``), which is false.  Here the domain is written as the
conditions that make f defined (``cos(x) > 0``), and its non-convexity is
shown by a verified domain witness: two points where f is defined and a
point of the segment between them where a condition fails exactly (checked
by :func:`convexproof.engine.witness.verify_domain_witness`).  A function
whose domain is not convex is not convex.
"""

from __future__ import annotations

import sympy as sp

from convexproof.engine.domain import Problem
from convexproof.engine.signs import NONNEG, POS
from convexproof.engine.witness import verify_domain_witness
from convexproof.render.mathtext import unicode as u
from convexproof.runtime.limits import check_deadline

TRIG = (sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc)


def requirement_conditions(requirements) -> list[sp.Basic] | None:
    """The conditions (relationals) under which f is defined, from the engine's requirement list.

    ``requirements`` are ``(expression, need, reason)`` triples as the prover lists them; None when a
    requirement is not a sign condition (asin/acos: "finite").
    """
    out = []
    for e, need, _ in requirements:
        if need == POS:
            out.append(sp.StrictGreaterThan(e, 0))
        elif need == NONNEG:
            out.append(sp.GreaterThan(e, 0))
        elif need == "nonzero":
            out.append(sp.Ne(e, 0))
        else:
            return None
    return [c for c in out if c is not sp.true]


def is_periodic_requirement(requirements, x: sp.Symbol) -> bool:
    """Does a definedness condition involve a trigonometric function of x (a periodic domain)?"""
    return any(any(a.has(x) for a in e.atoms(*TRIG)) or (isinstance(e, TRIG) and e.has(x))
               for e, _, _ in requirements)


def _candidates(problem: Problem, x: sp.Symbol) -> list:
    """Exact points to try: multiples of π/4, small integers and halves, inside the variable's interval."""
    pts = {sp.pi * sp.Rational(k, 4) for k in range(-12, 13)}
    pts |= {sp.Integer(k) for k in range(-6, 7)} | {sp.Rational(k, 2) for k in (-3, -1, 1, 3)}
    I = problem.interval(x)
    pts = [p for p in pts if I.contains(p) is sp.true]
    return sorted(pts, key=lambda p: float(p))


def _defined(f: sp.Expr, problem: Problem, pt: dict) -> bool:
    if not problem.satisfies(pt):
        return False
    v = f.subs(pt)
    return bool(v.is_number) and not v.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I)


def natural_domain_witness(problem: Problem, requirements) -> tuple[Problem, dict, str] | None:
    """(problem on the natural domain, verified domain witness, note) when that domain is not an interval.

    One variable, no parameters.  The returned problem carries the definedness conditions as extra
    conditions, so the witness is verified against them.
    """
    if len(problem.variables) != 1 or problem.parameters:
        return None
    x = problem.variables[0]
    conds = requirement_conditions(requirements)
    if not conds or any(c.free_symbols - {x} for c in conds):
        return None
    f = problem.expr
    p2 = problem.with_expr(f, extra=list(problem.extra) + conds)
    pts = _candidates(problem, x)
    inside = []
    for p in pts:
        check_deadline()
        inside.append(_defined(f, p2, {x: p}))
    # pairs of defined points with an undefined point between them and a rational t (the segment point is
    # then exactly that point), nearest to 0 first; each candidate is r + s·π with r, s rational
    coords = [(p, 0) if p.is_Rational else (0, p / sp.pi) for p in pts]
    pairs = []
    for i, j in ((i, j) for i in range(len(pts)) for j in range(i + 2, len(pts)) if inside[i] and inside[j]):
        for k in range(i + 1, j):
            if inside[k]:
                continue
            (ra, sa), (rb, sb), (rm, sm) = coords[i], coords[j], coords[k]
            d, e = (rb - ra, sb - sa), (rb - rm, sb - sm)
            if d[0] * e[1] == d[1] * e[0]:  # b − m is a rational multiple of b − a
                pairs.append((pts[i], pts[j], pts[k]))
                break
    pairs.sort(key=lambda q: (abs(float(q[0])) + abs(float(q[1])), float(q[1] - q[0])))
    for a, b, m in pairs[:6]:
        check_deadline()
        t = sp.cancel((b - m) / (b - a))
        mid = sp.expand(t * a + (1 - t) * b)
        if not t.is_Rational or sp.expand(mid - m) != 0:
            continue
        w = {"domain": {"a": {x: a}, "b": {x: b}, "t": t, "m": {x: mid}}, "verified": "exact"}
        if verify_domain_witness(f, [x], w, p2):
            shown = " and ".join(u(c) for c in conds)
            note = (f"f is defined where {shown}; that set is not an interval (f is defined at {x} = {u(a)} and "
                    f"{x} = {u(b)} but not at {x} = {u(mid)}), so the natural domain is not convex")
            return p2, w, note
    return None


def periodic_note(requirements) -> str:
    """Why a periodic natural domain is not used as an interval (SymPy may describe one period only)."""
    conds = requirement_conditions(requirements) or []
    shown = " and ".join(u(c) for c in conds) or "its definedness conditions hold"
    return (f"f is defined where {shown}, which repeats periodically and is not shown to be one interval: "
            "state the domain with --where")
