"""The problem: function, variables, parameters and the domain.

Every ``where`` condition is read completely or refused.  A condition on one
symbol (``x > 1``, ``2*x > 2``, ``0 < p < 1``, ``x**2 <= 4``, ``x != 3``) is
solved exactly for that symbol and intersected into the symbol's set; when the
set is an interval it becomes the symbol's side of the *box*.  Everything else
(conditions joining several symbols, or a variable whose set is a union of
intervals) is kept as an *extra* condition.  Proofs are carried out on the
box, which contains the stated domain; the engine then checks that the domain
is convex and non-empty before it reports "convex" (:func:`domain_check`), and
it never reports an "iff" condition or a tight modulus computed on a box that
is larger than the domain.  Witnesses are checked against every condition,
extras included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from convexproof.runtime.errors import ConvexproofError
from convexproof.engine.registry import NONSMOOTH  # the types with kinks (their registry records say where)
from convexproof.parse import parse_condition, parse_expr, parse_name, symbol

REALS = sp.Interval(-sp.oo, sp.oo)


@dataclass
class Problem:
    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    parameters: tuple[sp.Symbol, ...]
    box: dict[sp.Symbol, sp.Interval]
    where: list[sp.Basic] = field(default_factory=list)
    extra: list[sp.Basic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    nonconvex: list[sp.Symbol] = field(default_factory=list)  # variables whose own set is not an interval

    @property
    def exact_box(self) -> bool:
        """True when the domain is the box itself (no condition joins a variable to anything else)."""
        return not any(c.free_symbols & set(self.variables) for c in self.extra)

    def interval(self, s: sp.Symbol) -> sp.Interval:
        return self.box.get(s, REALS)

    @property
    def domain_box(self) -> dict[sp.Symbol, sp.Interval]:
        return {v: self.interval(v) for v in self.variables}

    @property
    def param_box(self) -> dict[sp.Symbol, sp.Interval]:
        return {p: self.interval(p) for p in self.parameters}

    def full_box(self) -> dict[sp.Symbol, sp.Interval]:
        """The box of every symbol for sign reasoning: the stated intervals, tightened by the linear conditions
        joining symbols (:func:`implied_box`); the domain shown and checked is still the box and the conditions."""
        box = {s: self.interval(s) for s in (*self.variables, *self.parameters)}
        return implied_box(box, self.extra) if self.extra else box

    def with_expr(self, expr: sp.Expr, **changes: Any) -> "Problem":
        data = dict(expr=expr, variables=self.variables, parameters=self.parameters, box=dict(self.box),
                    where=list(self.where), extra=list(self.extra), notes=list(self.notes),
                    nonconvex=list(self.nonconvex))
        data.update(changes)
        return Problem(**data)

    def satisfies(self, point: dict[sp.Symbol, sp.Expr]) -> bool:
        """Does ``point`` (values for some or all symbols) satisfy the box and extra conditions?"""
        for s, v in point.items():
            if s in self.box and not _in_interval(v, self.box[s]):
                return False
        for c in self.extra:
            if not c.free_symbols <= set(point):
                continue
            val = c.xreplace(point)  # exact values in: a relation of numbers evaluates itself
            if val is sp.true:
                continue
            if val is sp.false:
                return False
            try:
                if not bool(val.evalf(30)):
                    return False
            except TypeError:
                return False
        return True

    def domain_conditions(self) -> list[sp.Basic]:
        out = []
        for s in (*self.variables, *self.parameters):
            I = self.interval(s)
            if I != REALS:
                out.append(I.as_relational(s))
        return out + list(self.extra)


def _in_interval(v: sp.Expr, I: sp.Interval) -> bool:
    if isinstance(I, sp.Interval) and getattr(v, "is_Rational", False) and all(
            e.is_Rational or e in (sp.oo, -sp.oo) for e in (I.inf, I.sup)):  # exact rationals: compare directly
        lo, hi = I.inf, I.sup
        ok_lo = lo == -sp.oo or (v > lo if I.left_open else v >= lo)
        ok_hi = hi == sp.oo or (v < hi if I.right_open else v <= hi)
        return bool(ok_lo) and bool(ok_hi)
    c = I.contains(v)
    if c in (sp.true, sp.false):
        return bool(c)
    try:
        x = sp.N(v, 30)
        lo, hi = sp.N(I.inf, 30), sp.N(I.sup, 30)
        ok_lo = x > lo if I.left_open else x >= lo
        ok_hi = x < hi if I.right_open else x <= hi
        return bool(ok_lo) and bool(ok_hi)
    except TypeError:
        return False


def affine_range(e: sp.Expr, box: dict) -> sp.Interval | None:
    """Exact range of an affine expression over the box (with open ends), or None if not affine."""
    lo, hi, lo_open, hi_open = sp.Integer(0), sp.Integer(0), False, False
    for term in sp.Add.make_args(e):
        if term.is_number:
            if not term.is_real:
                return None
            lo, hi = lo + term, hi + term
            continue
        c, rest = term.as_coeff_Mul()
        if not rest.is_Symbol:
            return None
        if not c.is_real:
            return None
        I = box.get(rest, REALS)
        if c > 0:
            a, b, ao, bo = c * I.inf, c * I.sup, I.left_open, I.right_open
        else:
            a, b, ao, bo = c * I.sup, c * I.inf, I.right_open, I.left_open
        lo, hi = lo + a, hi + b
        lo_open, hi_open = lo_open or ao, hi_open or bo
    if lo == -sp.oo:
        lo_open = True
    if hi == sp.oo:
        hi_open = True
    return sp.Interval(lo, hi, lo_open, hi_open)


def implied_box(box: dict, conditions: list, rounds: int = 3) -> dict:
    """The box tightened by the linear conditions joining several symbols (x > y with y > 0 gives x > 0).

    Each condition a·s + (the rest) op 0 bounds s by the exact range of the rest over the box
    (:func:`affine_range`); a few rounds of this interval propagation.  Every point of the domain stays
    in the result, so it is a sound box for sign reasoning; the domain itself (the box and the
    conditions) is unchanged.
    """
    out = dict(box)
    lin = []
    for c in conditions:
        if not isinstance(c, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            continue
        d = sp.expand(c.lhs - c.rhs) if isinstance(c, (sp.StrictLessThan, sp.LessThan)) else sp.expand(c.rhs - c.lhs)
        if len(d.free_symbols) < 2 or not all(t.is_number or t.as_coeff_Mul()[1].is_Symbol
                                              for t in sp.Add.make_args(d)):
            continue
        lin.append((d, isinstance(c, (sp.StrictLessThan, sp.StrictGreaterThan))))  # d < 0 (strict) or d <= 0
    for _ in range(rounds if lin else 0):
        changed = False
        for d, strict in lin:
            for s in sorted(d.free_symbols, key=lambda v: v.name):
                a = d.coeff(s)
                if not (a.is_number and a.is_real and a != 0):
                    continue
                rest = affine_range(sp.expand(d - a * s), out)  # a·s + rest < 0: a·s < −rest
                if rest is None:
                    continue
                if a > 0:  # s < −rest/a, below the largest value −inf(rest)/a
                    hi = -rest.inf / a
                    if hi == sp.oo:
                        continue
                    new = sp.Interval(-sp.oo, hi, True, strict or rest.left_open)
                else:  # s > −rest/a, above −inf(rest)/a
                    lo = -rest.inf / a
                    if lo == -sp.oo:
                        continue
                    new = sp.Interval(lo, sp.oo, strict or rest.left_open, True)
                cur = out.get(s, REALS)
                both = cur.intersect(new)
                if isinstance(both, sp.Interval) and both != cur:
                    out[s], changed = both, True
        if not changed:
            break
    return out


def _flatten(cond: sp.Basic) -> list[sp.Basic]:
    if isinstance(cond, sp.And):
        out = []
        for a in cond.args:
            out.extend(_flatten(a))
        return out
    return [cond]


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _ray(op: str, c: sp.Expr) -> sp.Set:
    """The set {s : s op c}."""
    if op == "!=":  # only this one is built when asked for: a Union costs milliseconds to simplify
        return sp.Union(sp.Interval.open(-sp.oo, c), sp.Interval.open(c, sp.oo))
    return {"<": sp.Interval.open(-sp.oo, c), "<=": sp.Interval(-sp.oo, c), ">": sp.Interval.open(c, sp.oo),
            ">=": sp.Interval(c, sp.oo), "==": sp.FiniteSet(c)}[op]


MAX_SOLVED_DEGREE = 4  # polynomial conditions in one symbol up to this degree are solved exactly


def symbol_set(rel: sp.Basic) -> tuple[sp.Symbol, sp.Set] | None:
    """``(s, S)`` when ``rel`` is a relation in the single symbol s and S = {s : rel} exactly; else None.

    Linear relations ``a·s + b op c`` with real constants are solved with the
    sign of ``a`` decided by :func:`convexproof.engine.exact.certified_sign`;
    polynomial relations with rational coefficients (degree at most
    ``MAX_SOLVED_DEGREE``) through their exact real roots.  Anything else is
    left to the caller (kept as an extra condition, never dropped).
    """
    from convexproof.engine.exact import certified_sign

    if not isinstance(rel, sp.core.relational.Relational):
        return None
    syms = rel.free_symbols
    if len(syms) != 1:
        return None
    (s,) = syms
    op = rel.rel_op
    d = sp.expand(rel.lhs - rel.rhs)
    if not d.is_polynomial(s):
        return None
    P = sp.Poly(d, s)
    if P.degree() <= 0:
        return None
    if P.degree() == 1:
        a, b = P.coeffs() if len(P.coeffs()) == 2 else (P.coeffs()[0], sp.Integer(0))
        if not (a.is_number and b.is_number and a.is_real and b.is_real):
            return None
        sa = certified_sign(a)
        if sa not in (1, -1):
            return None
        return s, _ray(op if sa == 1 else _FLIP[op], sp.nsimplify(-b / a) if (-b / a).is_Float else -b / a)
    if P.degree() > MAX_SOLVED_DEGREE or not all(c.is_Rational for c in P.coeffs()):
        return None
    roots = sorted(set(sp.real_roots(P)), key=lambda r: sp.N(r, 30))
    if op == "==":
        return s, sp.FiniteSet(*roots)
    if op == "!=":
        return s, sp.Interval(-sp.oo, sp.oo) - sp.FiniteSet(*roots)
    # the sign of P is constant between consecutive real roots: test one point per gap
    cuts = [-sp.oo, *roots, sp.oo]
    pieces: list[sp.Set] = []
    for lo, hi in zip(cuts, cuts[1:]):
        if lo == -sp.oo:
            mid = (hi - 1) if hi != sp.oo else sp.Integer(0)
        elif hi == sp.oo:
            mid = lo + 1
        else:
            mid = (lo + hi) / 2
        if bool(_holds(op, P.as_expr().subs(s, mid))):
            pieces.append(sp.Interval.open(lo, hi))
    for r in roots:
        if op in ("<=", ">="):
            pieces.append(sp.FiniteSet(r))
    return s, sp.Union(*pieces) if pieces else sp.EmptySet


def condition_set(cond: sp.Basic, s: sp.Symbol, leaf=None) -> sp.Set | None:
    """The exact set {s : cond} for a condition in the one symbol s, or None when it cannot be solved exactly.

    And/Or/Not of relations solved by :func:`symbol_set`; a relation with |u|
    is split into the cases u ≥ 0 and u < 0.  ``leaf(rel)``, if given, gives
    the set of a relation that :func:`symbol_set` does not solve (the one
    place a condition becomes a set: the engine's other readers pass their own
    ``leaf``).
    """
    if isinstance(cond, sp.Set):
        return cond
    if cond is sp.true:
        return REALS
    if cond is sp.false:
        return sp.EmptySet
    if cond.free_symbols - {s}:
        return None
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [condition_set(a, s, leaf) for a in cond.args]
        if any(p is None for p in parts):
            return None
        return sp.Intersection(*parts) if isinstance(cond, sp.And) else sp.Union(*parts)
    if isinstance(cond, sp.Not):
        inner = condition_set(cond.args[0], s, leaf)
        return None if inner is None else REALS - inner
    if not isinstance(cond, sp.core.relational.Relational):
        return None
    if not cond.free_symbols:
        return REALS if constant_truth(cond) else sp.EmptySet
    absolutes = [a for a in sp.preorder_traversal(cond) if isinstance(a, sp.Abs)]
    if absolutes:
        a = absolutes[0]
        u_ = a.args[0]
        pos, neg = condition_set(u_ >= 0, s, leaf), condition_set(u_ < 0, s, leaf)
        c_pos = condition_set(cond.xreplace({a: u_}), s, leaf)
        c_neg = condition_set(cond.xreplace({a: -u_}), s, leaf)
        if None in (pos, neg, c_pos, c_neg):
            return None
        return sp.Union(sp.Intersection(pos, c_pos), sp.Intersection(neg, c_neg))
    solved = symbol_set(cond)
    if solved is not None:
        return solved[1]
    return None if leaf is None else leaf(cond)


def _holds(op: str, value: sp.Expr) -> bool:
    from convexproof.engine.exact import certified_sign

    sg = certified_sign(value)
    if sg is None:
        raise ConvexproofError("cannot decide a condition in --where exactly")
    return {"<": sg < 0, "<=": sg <= 0, ">": sg > 0, ">=": sg >= 0, "==": sg == 0, "!=": sg != 0}[op]


def constant_truth(rel: sp.Basic) -> bool:
    """The truth of a condition without symbols (``2 < 1``), decided exactly, or a clear error."""
    if rel in (sp.true, sp.false):
        return bool(rel)
    if isinstance(rel, sp.core.relational.Relational):
        return _holds(rel.rel_op, rel.lhs - rel.rhs)
    if isinstance(rel, sp.And):
        return all(constant_truth(a) for a in rel.args)
    if isinstance(rel, sp.Or):
        return any(constant_truth(a) for a in rel.args)
    if isinstance(rel, sp.Not):
        return not constant_truth(rel.args[0])
    raise ConvexproofError(f"cannot read the condition {sp.sstr(rel)[:60]}")


def convex_hull(S: sp.Set) -> sp.Interval:
    """The smallest interval containing a non-empty set of reals."""
    lo, hi = S.inf, S.sup
    return sp.Interval(lo, hi, left_open=(lo == -sp.oo or S.contains(lo) is not sp.true),
                       right_open=(hi == sp.oo or S.contains(hi) is not sp.true))


def to_expr(expr: Any) -> sp.Expr:
    if isinstance(expr, str):
        return parse_expr(expr)
    if isinstance(expr, sp.Basic) and isinstance(expr, sp.Expr):
        return expr
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return sp.nsimplify(expr) if isinstance(expr, float) else sp.Integer(expr)
    raise ConvexproofError("expected an expression (text or a SymPy expression)")


def to_conditions(where: Any) -> list[sp.Basic]:
    if where is None:
        return []
    if isinstance(where, (str, sp.Basic)):
        where = [where]
    out = []
    for w in where:
        c = parse_condition(w) if isinstance(w, str) else w
        if not isinstance(c, sp.logic.boolalg.Boolean):
            raise ConvexproofError(f"expected a condition such as 0 < p < 1, got {sp.sstr(c)[:60]}")
        if c is sp.false:
            raise ConvexproofError("the conditions in --where are contradictory (False)")
        if c is sp.true:
            continue
        out.append(c)
    return out


def to_names(wrt: Any) -> list[sp.Symbol] | None:
    if wrt is None:
        return None
    if isinstance(wrt, (str, sp.Symbol)):
        wrt = [wrt]
    out: list[sp.Symbol] = []
    for w in wrt:
        if isinstance(w, sp.Symbol):
            s = symbol(w.name) if w.is_real else w
        else:
            parts = [p for p in str(w).split(",") if p.strip()]
            if len(parts) > 1:
                out.extend(to_names(parts) or [])
                continue
            s = symbol(parse_name(str(w)))
        if s not in out:
            out.append(s)
    return out or None


def _realify(expr: sp.Basic) -> sp.Basic:
    """Replace non-real symbols (from a caller's SymPy object) by our real ones."""
    reps = {s: symbol(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol) and s.is_real is not True}
    return expr.xreplace(reps) if reps else expr


def make_problem(expr: Any, wrt: Any = None, where: Any = ()) -> Problem:
    f = _realify(to_expr(expr))
    conds = [_realify(c) for c in to_conditions(where)]
    variables = to_names(wrt)
    free = sorted(f.free_symbols, key=lambda s: s.name)
    if variables is None:
        variables = list(free)
    parameters = [s for s in free if s not in variables]
    cond_syms = set().union(*(c.free_symbols for c in conds)) if conds else set()
    for s in sorted(cond_syms, key=lambda s: s.name):
        if s not in variables and s not in parameters:
            parameters.append(s)  # a condition on a name that f does not use: harmless
    box: dict[sp.Symbol, sp.Interval] = {}
    extra: list[sp.Basic] = []
    sets: dict[sp.Symbol, sp.Set] = {}
    for c in conds:
        for part in _flatten(c):
            if part is sp.true:
                continue
            if not part.free_symbols:
                if not constant_truth(part):
                    raise ConvexproofError(f"the condition {sp.sstr(part)[:60]} in --where is false, so the domain "
                                           "is empty")
                continue
            b = symbol_set(part)
            if b is None and len(part.free_symbols) == 1:  # x < -1 or x > 1, |x - 1| < 2, ...
                (one,) = part.free_symbols
                S1 = condition_set(part, one)
                b = (one, S1) if S1 is not None else None
            if b is None:
                extra.append(part)
                continue
            s, S = b
            sets[s] = sets.get(s, REALS).intersect(S)
    nonconvex: list[sp.Symbol] = []
    for s, S in sets.items():
        if S is sp.EmptySet or S.is_empty:
            raise ConvexproofError(f"the conditions on {s} in --where are contradictory (empty range)")
        if isinstance(S, (sp.Interval, sp.FiniteSet)) and not (isinstance(S, sp.FiniteSet) and len(S) > 1):
            box[s] = S
            continue
        # a union of intervals (x != 0, x**2 > 1): prove on the hull, keep the set itself as a condition
        box[s] = convex_hull(S)
        extra.append(S.as_relational(s))
        if s in variables:
            nonconvex.append(s)
    fixed: dict[sp.Symbol, sp.Expr] = {}
    for s, I in list(box.items()):
        if I is sp.EmptySet or I.is_empty:
            raise ConvexproofError(f"the conditions on {s} in --where are contradictory (empty range)")
        if isinstance(I, sp.FiniteSet):
            if s in variables:
                raise ConvexproofError(f"the variable {s} is fixed by --where; it cannot be a variable")
            fixed[s] = next(iter(I))
            del box[s]
    if fixed:
        from convexproof.parse.substitute import substitute  # the parser's caps hold for the values put in (a**a**a**a, a = 3)

        f = substitute(f, fixed)
        extra = [substitute(e, fixed) for e in extra]
        parameters = [p for p in parameters if p not in fixed]
    parameters = [p for p in parameters if p in f.free_symbols or p in box]
    prob = Problem(expr=f, variables=tuple(variables), parameters=tuple(parameters), box=box, where=conds,
                   extra=[e for e in extra if e is not sp.true])
    if fixed:
        prob.notes.append("fixed by the conditions: " + ", ".join(f"{k} = {sp.sstr(v)}" for k, v in fixed.items()))
    for e in prob.extra:
        if e is sp.false:
            raise ConvexproofError("the conditions in --where are contradictory")
    prob.nonconvex = [s for s in nonconvex if s in prob.variables]
    return prob


def is_smooth(expr: sp.Basic) -> bool:
    return not expr.has(*NONSMOOTH)


def interval_display(I, x):
    """An interval as a condition on x (reads better than Interval(...)); the real line as ℝ."""
    if I == REALS:
        return sp.S.Reals
    try:
        rel = I.as_relational(x)
    except Exception:  # noqa: BLE001
        return I
    parts = [a for a in sp.And.make_args(rel) if not a.has(sp.oo, -sp.oo)]
    return sp.And(*parts) if parts else sp.S.Reals


def sample_point(I: sp.Interval) -> sp.Rational:
    """A simple rational point inside an interval (0 when possible)."""
    lo, hi = I.inf, I.sup
    if I.contains(0) is sp.true:
        return sp.Integer(0)
    if lo == -sp.oo:
        return sp.floor(hi) - 1
    if hi == sp.oo:
        return sp.floor(lo) + 1
    return (lo + hi) / 2 if (lo + hi).is_Rational else sp.Rational(sp.N((lo + hi) / 2, 15))
