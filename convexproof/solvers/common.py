"""Step kinds and exact helpers shared by the solver kinds.

Everything here is exact (SymPy rationals) or, for transcendental values,
decided in high precision with a safety margin; a helper that cannot decide
returns ``None`` and the caller says "unknown".  Nothing here imports numpy
or the convexity engine, so ``convexproof solve`` stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import sympy as sp

from convexproof.runtime.errors import ExerciseError
from convexproof.library import SOLVER_NAME_FIELDS as NAME_FIELDS
from convexproof.parse import as_sympy
from convexproof.steps import Sentence as Prose, Step  # noqa: F401 - Prose: the one sentence kind

# ---------------------------------------------------------------- step kinds


@dataclass
class Minimum(Step):
    """A function bounded below on the real line attains its minimum at a critical point."""

    kind: ClassVar[str] = "minimum"
    expr: Any  # the function minimised
    var: Any
    critical: list  # critical points (solutions of expr' = 0)
    point: Any  # where the minimum is attained
    value: Any  # the minimum value
    note: str = ""


@dataclass
class CurvatureWitness(Step):
    """If f''(x0) < 0 then f is strictly concave near x0, so f is not convex."""

    kind: ClassVar[str] = "curvature_witness"
    name: str  # the function's name, e.g. "f"
    var: Any
    point: Any
    value: Any  # f''(point), exact and negative


@dataclass
class ChordWitness(Step):
    """Jensen's inequality f(t x1 + (1-t) x2) <= t f(x1) + (1-t) f(x2) fails, so f is not convex."""

    kind: ClassVar[str] = "chord_witness"
    name: str
    var: Any
    x1: Any
    x2: Any
    t: Any
    point: Any  # t x1 + (1-t) x2
    f_point: Any  # f(point)
    chord: Any  # t f(x1) + (1-t) f(x2)
    f1: Any = None
    f2: Any = None


@dataclass
class Cases(Step):
    """A case split: the value in each case, valid under its condition."""

    kind: ClassVar[str] = "cases"
    lhs: Any
    cases: list  # [(value, condition)]
    note: str = ""


# ---------------------------------------------------------------- helpers


def inputs(ex, *names: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The solver inputs of ``ex`` as SymPy objects (parameters substituted)."""
    from convexproof.parse import parse_name, symbol

    out: dict[str, Any] = {}
    for name in names + optional:
        if name not in ex.solver:
            if name in optional:
                continue
            raise ExerciseError(f"{ex.path.name}: field 'solver.{name}': is missing (solver {ex.solver['kind']})")
        raw = ex.solver[name]
        where = f"solver.{name}"
        if name in NAME_FIELDS:
            if not isinstance(raw, str):
                raise ExerciseError(f"{ex.path.name}: field '{where}': must be a name")
            out[name] = symbol(parse_name(raw))
        elif isinstance(raw, str):
            out[name] = ex.formula(raw, where=where)
        elif isinstance(raw, list):
            out[name] = [ex.formula(v, where=f"{where}[{i}]") if isinstance(v, str) else rational(v)
                         for i, v in enumerate(raw)]
        elif isinstance(raw, dict):
            out[name] = {k: ex.formula(v, where=f"{where}.{k}") for k, v in raw.items()}
        elif isinstance(raw, bool):  # `penalty = true` crashed the solver (found by the CLI fuzz)
            raise ExerciseError(f"{ex.path.name}: field '{where}': must be a formula in quotes, not {str(raw).lower()}")
        elif isinstance(raw, (int, float)):
            out[name] = rational(raw)
        else:
            out[name] = raw
    return out



def rational(v) -> sp.Rational:
    """An exact rational from a Fraction, int or float (floats by their decimal text), never by parsing."""
    from fractions import Fraction

    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, float):
        v = Fraction(repr(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return sp.Integer(v)
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    raise TypeError(f"not a number: {type(v).__name__}")


def numeric(expr) -> bool:
    return isinstance(expr, sp.Expr) and not expr.free_symbols


def is_negative(value, digits: int = 50) -> bool | None:
    """Certified sign test (see :func:`convexproof.engine.exact.certified_sign`); None if undecided."""
    from convexproof.engine.exact import certified_sign

    sign = certified_sign(value, digits)
    return None if sign is None else sign < 0


def chord_witness(name: str, f: sp.Expr, var: sp.Symbol, x0, domain=None, tries: int = 40) -> ChordWitness | None:
    """Points x0 - h, x0 + h (t = 1/2) where Jensen fails for ``f``, checked exactly.

    Tries h = 1, 1/2, 1/4, ...; the first h whose midpoint value lies strictly
    above the chord wins.  ``domain`` (a condition in ``var``) must hold at
    both ends.  Returns None when no such chord is found.
    """
    x0 = as_sympy(x0)
    t = sp.Rational(1, 2)
    try:
        poly = sp.Poly(f, var)
        if poly.free_symbols - {var} or not all(c.is_Rational for c in poly.coeffs()):
            poly = None
    except sp.PolynomialError:
        poly = None

    def value(v):
        if poly is not None and v.is_Rational:
            return poly.eval(v)  # exact rational arithmetic
        return sp.simplify(f.subs(var, v))

    for k in range(tries):
        h = sp.Rational(1, 2**k)
        x1, x2 = x0 - h, x0 + h
        if domain is not None and not all(bool(domain.subs(var, v)) is True for v in (x1, x2)):
            continue
        f1, f2, fm = (value(v) for v in (x1, x2, x0))
        chord = t * f1 + (1 - t) * f2
        gap = chord - fm  # negative: the graph lies above the chord
        if is_negative(gap):
            return ChordWitness(name=name, var=var, x1=x1, x2=x2, t=t, point=x0, f_point=fm, chord=chord,
                                f1=f1, f2=f2)
    return None


# ------------------------------------------------------- signs on a box domain


@dataclass
class Bound:
    lo: Any = -sp.oo
    lo_open: bool = True
    hi: Any = sp.oo
    hi_open: bool = True


def box(conditions) -> dict[sp.Symbol, Bound]:
    """Bounds per symbol from conditions such as ``0 < p < 1`` and ``0 <= y <= 1``."""
    out: dict[sp.Symbol, Bound] = {}
    rels = []
    for c in conditions:
        rels.extend(c.args if isinstance(c, sp.And) else [c])
    for r in rels:
        if not isinstance(r, sp.core.relational.Relational) or isinstance(r, (sp.Eq, sp.Ne)):
            continue
        # normalise to  lhs < rhs  or  lhs <= rhs
        lhs, rhs = (r.lhs, r.rhs) if r.rel_op in ("<", "<=") else (r.rhs, r.lhs)
        strict = r.rel_op in ("<", ">")
        if lhs.is_Symbol and numeric(rhs):
            b = out.setdefault(lhs, Bound())
            if rhs < b.hi or (rhs == b.hi and strict):
                b.hi, b.hi_open = rhs, strict
        elif rhs.is_Symbol and numeric(lhs):
            b = out.setdefault(rhs, Bound())
            if lhs > b.lo or (lhs == b.lo and strict):
                b.lo, b.lo_open = lhs, strict
    return out


def affine_range(expr: sp.Expr, bounds: dict) -> tuple | None:
    """(lo, lo_open, hi, hi_open) of an affine expression over the box, or None."""
    syms = sorted(expr.free_symbols, key=sp.default_sort_key)
    try:
        poly = sp.Poly(expr, *syms) if syms else None
    except sp.PolynomialError:
        return None
    if poly is not None and poly.total_degree() > 1:
        return None
    lo, hi = expr.subs({s: 0 for s in syms}), expr.subs({s: 0 for s in syms})
    lo_open = hi_open = False
    for s in syms:
        c = expr.coeff(s)
        if not numeric(c):
            return None
        if c == 0:
            continue
        b = bounds.get(s, Bound())
        small, small_open, big, big_open = (b.lo, b.lo_open, b.hi, b.hi_open) if c > 0 else (
            b.hi, b.hi_open, b.lo, b.lo_open)
        lo, hi = lo + c * small, hi + c * big
        lo_open, hi_open = lo_open or small_open, hi_open or big_open
    return lo, lo_open, hi, hi_open


def factor_sign(factor: sp.Expr, bounds: dict) -> tuple[str, str] | None:
    """The sign of one factor over the box: ("pos"|"nonneg"|"neg"|"nonpos", reason), or None."""
    if numeric(factor):
        if factor.is_positive:
            return "pos", "a positive number"
        if factor.is_negative:
            return "neg", "a negative number"
        return None
    if factor.is_Pow and factor.exp.is_Integer and factor.exp % 2 == 0:
        inner = affine_range(factor.base, bounds)
        if inner is not None and _excludes_zero(inner):
            return "pos", "an even power of a non-zero number"
        return "nonneg", "an even power"
    rng = affine_range(factor, bounds)
    if rng is None:
        return None
    lo, lo_open, hi, hi_open = rng
    if lo > 0 or (lo == 0 and lo_open):
        return "pos", "on the domain"
    if lo >= 0:
        return "nonneg", "on the domain"
    if hi < 0 or (hi == 0 and hi_open):
        return "neg", "on the domain"
    if hi <= 0:
        return "nonpos", "on the domain"
    return None


def _excludes_zero(rng) -> bool:
    lo, lo_open, hi, hi_open = rng
    return lo > 0 or (lo == 0 and lo_open) or hi < 0 or (hi == 0 and hi_open)


def can_vanish(factor: sp.Expr, bounds: dict) -> bool:
    """Whether a factor classified "nonneg"/"nonpos" can be 0 on the box (conservative: True)."""
    rng = affine_range(factor, bounds)
    if rng is None:
        return True
    return not _excludes_zero(rng)


@dataclass
class SignArgument(Step):
    """A product or quotient of factors of known sign has the sign given by the sign rule."""

    kind: ClassVar[str] = "sign_argument"
    claim: Any  # e.g. y/p**2 >= 0
    facts: list  # relations for the factors, e.g. [y >= 0, p**2 > 0]


def relation(expr, sign: str):
    """An unevaluated relation stating the sign of ``expr``."""
    op = {"pos": sp.StrictGreaterThan, "nonneg": sp.GreaterThan, "neg": sp.StrictLessThan,
          "nonpos": sp.LessThan}[sign]
    return op(expr, 0, evaluate=False)


def function_name(ex, default: str = "f") -> str:
    from convexproof.parse import parse_name

    raw = ex.solver.get("name", default)
    if not isinstance(raw, str):
        raise ExerciseError(f"{ex.path.name}: field 'solver.name': must be a name")
    try:
        return parse_name(raw)
    except Exception as exc:  # ParseError
        raise ExerciseError(f"{ex.path.name}: field 'solver.name': {exc}") from None


def fn(name: str, var):
    """The undefined function ``name(var)`` (for left-hand sides such as f''(x))."""
    return sp.Function(name, real=True)(var)


def deriv(name: str, var, order: int):
    return sp.Derivative(fn(name, var), (var, order))
