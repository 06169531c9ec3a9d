"""The problem: function, variables, parameters and the domain (a box).

``where`` conditions of the form ``symbol op number`` (also chained, ``0 < p < 1``)
define an interval per symbol; everything else is kept as an *extra* condition.
Proofs are carried out on the box, which contains the stated domain, so a proof
on the box is a proof on the domain; witnesses are checked against every
condition, extras included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import ConvexproofError
from ..parse import parse_condition, parse_expr, parse_name, symbol

REALS = sp.Interval(-sp.oo, sp.oo)
NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside)


@dataclass
class Problem:
    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    parameters: tuple[sp.Symbol, ...]
    box: dict[sp.Symbol, sp.Interval]
    where: list[sp.Basic] = field(default_factory=list)
    extra: list[sp.Basic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def interval(self, s: sp.Symbol) -> sp.Interval:
        return self.box.get(s, REALS)

    @property
    def domain_box(self) -> dict[sp.Symbol, sp.Interval]:
        return {v: self.interval(v) for v in self.variables}

    @property
    def param_box(self) -> dict[sp.Symbol, sp.Interval]:
        return {p: self.interval(p) for p in self.parameters}

    def full_box(self) -> dict[sp.Symbol, sp.Interval]:
        return {s: self.interval(s) for s in (*self.variables, *self.parameters)}

    def with_expr(self, expr: sp.Expr, **changes: Any) -> "Problem":
        data = dict(expr=expr, variables=self.variables, parameters=self.parameters, box=dict(self.box),
                    where=list(self.where), extra=list(self.extra), notes=list(self.notes))
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
            val = c.subs(point)
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


def _flatten(cond: sp.Basic) -> list[sp.Basic]:
    if isinstance(cond, sp.And):
        out = []
        for a in cond.args:
            out.extend(_flatten(a))
        return out
    return [cond]


def _as_bound(rel: sp.Basic):
    """``x op c`` with a real constant c, as (symbol, Interval), or None."""
    if not isinstance(rel, sp.core.relational.Relational):
        return None
    lhs, rhs, op = rel.lhs, rel.rhs, rel.rel_op
    if lhs.is_Symbol and rhs.is_number:
        s, c = lhs, rhs
    elif rhs.is_Symbol and lhs.is_number:
        s, c = rhs, lhs
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
    else:
        return None
    if c.is_real is not True and c not in (sp.oo, -sp.oo):
        return None
    if op == "<":
        return s, sp.Interval.open(-sp.oo, c)
    if op == "<=":
        return s, sp.Interval(-sp.oo, c)
    if op == ">":
        return s, sp.Interval.open(c, sp.oo)
    if op == ">=":
        return s, sp.Interval(c, sp.oo)
    if op == "==":
        return s, sp.FiniteSet(c)
    return None


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
    for c in conds:
        for part in _flatten(c):
            b = _as_bound(part)
            if b is None:
                if part is sp.true:
                    continue
                extra.append(part)
                continue
            s, I = b
            box[s] = box.get(s, REALS).intersect(I)
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
        from ..substitute import substitute  # the parser's caps hold for the values put in (a**a**a**a, a = 3)

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
    return prob


def is_smooth(expr: sp.Basic) -> bool:
    return not expr.has(*NONSMOOTH)


def sample_point(I: sp.Interval) -> sp.Rational:
    """A simple rational point inside an interval (0 when possible)."""
    lo, hi = I.inf, I.sup
    if I.contains(0) is sp.true:
        return sp.Integer(0)
    if lo == -sp.oo:
        return sp.floor(hi) - 1
    if hi == sp.oo:
        return sp.floor(lo) + 1
    return sp.nsimplify((lo + hi) / 2) if (lo + hi).is_Rational else sp.Rational(sp.N((lo + hi) / 2, 15))
