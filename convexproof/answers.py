"""Reading and comparing answers: the mathematics behind ``check``.

Everything a student typed goes through :mod:`convexproof.parse` (or, for
verdicts, through a fixed vocabulary); nothing is evaluated.  Comparison is
layered, as in STACK and Numbas:

1. *numeric* comparison at seeded random points of the part's domain, in 30
   significant digits from exact rational points; a disagreement there is
   re-checked and is final (the answer is wrong, and we know where);
2. if every point agrees, an *exact* symbolic check of the difference under
   the part's assumptions (``cancel``, then ``simplify`` with variables bounded
   below by 0 replaced by positive symbols), under a time limit;
3. if the symbolic check cannot finish or cannot decide, the numeric
   agreement at all points stands, and the answer is accepted.

Time: loops call :func:`convexproof.limits.check_deadline` between steps (the
cooperative deadline); :func:`convexproof.checking.check` runs the whole check
under a hard limit in a child process (:func:`convexproof.limits.run_limited`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy as sp

from .errors import AnalysisTimeout, ParseError
from .limits import check_deadline
from .parse import parse_any, symbol
from .parse import as_sympy

# --------------------------------------------------------------------------
# Verdict words
# --------------------------------------------------------------------------
VERDICT_GROUPS: list[set[str]] = [
    {"convex", "yes", "true", "y", "is convex", "it is convex", "convex function"},
    {"strictly convex", "strict convex", "is strictly convex"},
    {"strongly convex"},
    {"not convex", "no", "false", "n", "nonconvex", "non-convex", "non convex", "is not convex",
     "it is not convex", "neither"},
    {"concave", "is concave"},
    {"strictly concave"},
    {"affine", "linear", "both"},
]
_KNOWN_WORDS = set().union(*VERDICT_GROUPS)


def normalise_words(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation: 'Convex.' -> 'convex'."""
    import unicodedata

    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"[\s\u00a0]+", " ", t).strip().strip(".!;:,\"'`").strip()
    t = re.sub(r"^(?:the function|the loss|f|l|it) (?:is )?", "", t) if t not in _KNOWN_WORDS else t
    return t


def verdict_group(word: str) -> set[str]:
    for g in VERDICT_GROUPS:
        if word in g:
            return g
    return {word}


def known_verdict_words(extra=()) -> set[str]:
    return _KNOWN_WORDS | set(extra)


# --------------------------------------------------------------------------
# Reading an answer
# --------------------------------------------------------------------------
@dataclass
class Answer:
    """A classified answer: ``kind`` is number, bound, expression, condition, point, matrix or verdict."""

    kind: str
    value: Any
    op: str | None = None  # for bounds: ">=", ">", "<=", "<", "=="
    name: str | None = None  # for bounds and "lam = 3": the symbol on the left


_REL_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def _bound(rel) -> tuple[str, str, sp.Expr] | None:
    """``lam >= 3`` or ``3 <= lam`` -> ("lam", ">=", 3); None if not of that shape."""
    if not isinstance(rel, sp.core.relational.Relational):
        return None
    lhs, rhs, op = rel.lhs, rel.rhs, rel.rel_op
    if lhs.is_Symbol and not rhs.free_symbols:
        return lhs.name, op, rhs
    if rhs.is_Symbol and not lhs.free_symbols:
        return rhs.name, _REL_FLIP[op], lhs
    return None


def _parse(text: str, subs: dict | None):
    """parse_any, then the exercise's parameters replaced by this variant's values."""
    from .substitute import substitute  # the parser's caps hold for the values put in (a**a**a with a = 3)

    value = parse_any(text)
    return substitute(value, subs) if subs else value


def read_number(text: str, names: set[str], allow_bound: bool, subs: dict | None = None) -> Answer:
    """A number, ``lam = 3``, or (if allowed) a bound ``lam >= 3``."""
    value = _parse(text, subs)
    if isinstance(value, sp.Expr) and not isinstance(value, (sp.Tuple, sp.MatrixBase)):
        if value.free_symbols:
            raise ParseError(f"expected a number, not an expression in {', '.join(sorted(s.name for s in value.free_symbols))}")
        _check_finite(value)
        return Answer("number", value)
    b = _bound(value)
    if b is None:
        raise ParseError("expected a number such as 3" + (" or a bound such as lam >= 3" if allow_bound else ""))
    name, op, v = b
    if names and name not in names:
        raise ParseError(f"unknown name {name}; expected {' or '.join(sorted(names))}")
    _check_finite(v)
    if op == "==":
        return Answer("number", v, name=name)
    if op == "!=":
        raise ParseError("expected a number or a bound, not an inequation")
    return Answer("bound", v, op=op, name=name)


def _check_finite(v) -> None:
    if v.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or not v.is_finite:
        raise ParseError("the number is infinite or undefined")
    if v.is_real is False:
        raise ParseError("the number is not real")


def read_expression(text: str, names: set[str] | None, subs: dict | None = None) -> Answer:
    value = _parse(text, subs)
    if isinstance(value, sp.Equality) and value.lhs.is_Symbol and isinstance(value.rhs, sp.Expr):
        value = value.rhs  # "f'' = 12x^2 - 6" is fine: the right-hand side is the answer
    if not isinstance(value, sp.Expr) or isinstance(value, (sp.Tuple, sp.MatrixBase)):
        raise ParseError("expected an expression such as 12*x^2 - 6 + 2*lam")
    if value.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ParseError("the expression is infinite or undefined")
    _check_names(value, names)
    return Answer("expression", value)


def read_condition(text: str, names: set[str] | None, subs: dict | None = None) -> Answer:
    value = _parse(text, subs)
    if isinstance(value, sp.Expr) or not isinstance(value, sp.logic.boolalg.Boolean) or value in (sp.true, sp.false):
        raise ParseError("expected a condition such as -2 <= c <= 2")
    _check_names(value, names)
    return Answer("condition", value)


def read_point(text: str, names: set[str] | None, order: list[str], subs: dict | None = None) -> Answer:
    value = _parse(text, subs)
    if isinstance(value, sp.MatrixBase) and 1 in value.shape:
        items = list(value)
    elif isinstance(value, sp.Tuple):
        items = list(value.args)
    else:
        raise ParseError("expected a point such as (0, -1)")
    if items and all(isinstance(i, sp.Equality) and i.lhs.is_Symbol for i in items):
        by_name = {i.lhs.name: i.rhs for i in items}  # (x = 0, y = -1)
        if order and set(by_name) == set(order):
            items = [by_name[n] for n in order]
        else:
            raise ParseError(f"name the coordinates {', '.join(order) or 'in order'}")
    for i in items:
        if not isinstance(i, sp.Expr) or isinstance(i, (sp.Tuple, sp.MatrixBase)):
            raise ParseError("each coordinate must be a number or an expression")
        _check_names(i, names)
    return Answer("point", items)


def read_matrix(text: str, names: set[str] | None, subs: dict | None = None) -> Answer:
    value = _parse(text, subs)
    if not isinstance(value, sp.MatrixBase):
        if isinstance(value, sp.Expr) and not isinstance(value, sp.Tuple):
            value = sp.ImmutableMatrix([[value]])
        else:
            raise ParseError("expected a matrix such as [[2, 1], [1, 2]]")
    for v in value:
        if not isinstance(v, sp.Expr) or isinstance(v, (sp.Tuple, sp.MatrixBase)):
            raise ParseError("matrix entries must be numbers or expressions")
        _check_names(v, names)
    return Answer("matrix", value)


def _check_names(value, names: set[str] | None) -> None:
    if names is None:
        return
    bad = sorted(s.name for s in value.free_symbols if s.name not in names)
    if bad:
        raise ParseError(f"unknown name{'s' if len(bad) > 1 else ''} {', '.join(bad)}; "
                         f"the answer may use {', '.join(sorted(names)) or 'numbers only'}")


# --------------------------------------------------------------------------
# Domains and sample points
# --------------------------------------------------------------------------
class Domain:
    """Where variables live: interval bounds per symbol plus any other conditions."""

    def __init__(self, conditions=()):
        self.low: dict[sp.Symbol, tuple[sp.Expr, bool]] = {}  # sym -> (bound, strict)
        self.high: dict[sp.Symbol, tuple[sp.Expr, bool]] = {}
        self.other: list = []
        for c in conditions:
            self._add(c)

    def _add(self, cond) -> None:
        if isinstance(cond, sp.And):
            for a in cond.args:
                self._add(a)
            return
        b = _bound(cond)
        if b is None or b[1] in ("==", "!="):
            self.other.append(cond)
            return
        name, op, v = b
        s = symbol(name)
        if op in (">", ">="):
            if s not in self.low or v > self.low[s][0]:
                self.low[s] = (v, op == ">")
        else:
            if s not in self.high or v < self.high[s][0]:
                self.high[s] = (v, op == "<")

    def interval(self, s) -> tuple[float, float]:
        lo = float(self.low[s][0]) if s in self.low else None
        hi = float(self.high[s][0]) if s in self.high else None
        if lo is None and hi is None:
            return -3.0, 3.0
        if lo is None:
            return hi - 4.0, hi
        if hi is None:
            return lo, lo + 4.0
        return lo, hi

    def contains(self, point: dict) -> bool:
        for s, (v, strict) in self.low.items():
            if s in point and (point[s] < v or (strict and point[s] == v)):
                return False
        for s, (v, strict) in self.high.items():
            if s in point and (point[s] > v or (strict and point[s] == v)):
                return False
        for c in self.other:
            try:
                r = c.xreplace(point)
            except Exception:
                return False
            if r is not sp.true:
                if r is sp.false or not getattr(r, "free_symbols", {1}) == set():
                    return False
        return True

    def nonnegative(self) -> set:
        return {s for s, (v, _) in self.low.items() if v >= 0}


_NICE = [sp.Rational(n, d) for n, d in ((1, 2), (1, 1), (2, 1), (1, 3), (1, 4), (3, 4), (3, 2), (2, 3),
                                         (0, 1), (3, 1), (1, 5), (5, 2))]


def nice_points(syms: list, domain: Domain, limit: int = 40) -> list[dict]:
    """Simple rational points of the domain (1/2, 1, 2, -1, ...), for readable feedback."""
    vals = []
    for v in _NICE:
        vals.append(v)
        if v:
            vals.append(-v)
    out: list[dict] = []
    per = {s: [v for v in vals if domain.contains({s: v})] for s in syms}
    if any(not v for v in per.values()):
        return out
    # walk the grid in order of "niceness" (sum of indices)
    import itertools

    idx_lists = [range(min(len(per[s]), 8)) for s in syms]
    combos = sorted(itertools.product(*idx_lists), key=lambda t: (sum(t), t))
    for combo in combos:
        pt = {s: per[s][i] for s, i in zip(syms, combo)}
        if domain.contains(pt):
            out.append(pt)
            if len(out) >= limit:
                break
    return out


def random_points(syms: list, domain: Domain, n: int, rng: random.Random) -> list[dict]:
    """Seeded random rational points inside the domain (denominators near 1000)."""
    out: list[dict] = []
    tries = 0
    while len(out) < n and tries < 40 * n:
        tries += 1
        pt = {}
        for s in syms:
            lo, hi = domain.interval(s)
            x = lo + (hi - lo) * (0.02 + 0.96 * rng.random())
            pt[s] = sp.Rational(round(x * 997), 997)
        if domain.contains(pt):
            out.append(pt)
    return out


# --------------------------------------------------------------------------
# Numeric evaluation and comparison
# --------------------------------------------------------------------------
PREC = 30


def value_at(expr, point: dict):
    """(real, imag) as SymPy Floats at ``PREC`` digits, or None where undefined (memoised)."""
    key = (expr, tuple(sorted(point.items(), key=lambda kv: kv[0].name)) if point else ())
    try:
        return _value_at_cached(key)
    except TypeError:  # unhashable: compute directly
        return _value_at(expr, point)


@lru_cache(maxsize=8192)
def _value_at_cached(key):
    expr, items = key
    return _value_at(expr, dict(items))


def _value_at(expr, point: dict):
    try:
        v = expr.xreplace(point) if point else expr
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        f = v.evalf(PREC)
        if f.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or not f.is_number:
            return None
        re_, im_ = f.as_real_imag()
        re_, im_ = re_.evalf(PREC), im_.evalf(PREC)
        if not (re_.is_Number and im_.is_Number):
            return None
        return re_, im_
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, ArithmeticError, RecursionError):
        return None


def close(a, b, rtol: float, atol: float = 1e-12) -> bool:
    ar, ai = a
    br, bi = b
    diff = abs(complex(float(ar - br), float(ai - bi)))
    scale = max(abs(complex(float(ar), float(ai))), abs(complex(float(br), float(bi))))
    return diff <= atol + rtol * scale


@dataclass
class Comparison:
    equal: bool
    method: str  # "exact", "numeric", "differs"
    point: dict | None = None  # where they differ
    mine: Any = None  # the student's value there (exact if possible)
    theirs: Any = None  # the correct value there


def exact_value(expr, point):
    v = expr.xreplace(point)
    try:
        v = sp.nsimplify(v) if v.is_Float else v
    except Exception:
        pass
    if v.is_Rational:
        return v
    f = v.evalf(6)
    return f if f.is_number else v


def _sample(syms, domain, seed_key: str, n: int) -> list[dict]:
    rng = random.Random(seed_key)
    return random_points(syms, domain, n, rng)


def compare_expressions(student, correct, domain: Domain, *, rtol: float = 1e-9, seed_key: str = "",
                        points: int = 8, symbolic_seconds: float = 2.0) -> Comparison:
    """Layered comparison of two expressions over the domain; see the module docstring."""
    student = as_sympy(student) if not isinstance(student, sp.Basic) else student
    if student == correct:
        return Comparison(True, "exact")
    syms = sorted(student.free_symbols | correct.free_symbols | set(domain.low) | set(domain.high),
                  key=lambda s: s.name)
    pts = _sample(syms, domain, seed_key or "points", points) if syms else [{}]
    if not pts:
        pts = [{}] if not syms else []
    checked = 0
    for pt in pts:
        check_deadline()
        c = value_at(correct, pt)
        if c is None or abs(float(c[1])) > 1e-20:
            continue
        s = value_at(student, pt)
        checked += 1
        if s is None or not close(s, c, rtol):
            # a disagreement: report it at a simple point if there is one
            return _differs(student, correct, domain, syms, rtol, pt)
    if checked == 0 and syms:
        return Comparison(False, "differs")
    # every point agrees: try to prove it (small expressions only: the time is bounded)
    if not symbolic_seconds:
        return Comparison(True, "numeric")
    try:
        if _symbolic_zero(student - correct, domain):
            return Comparison(True, "exact")
    except AnalysisTimeout:
        raise
    except Exception:  # noqa: BLE001 - SymPy cannot decide: the numeric layer stands
        pass
    return Comparison(True, "numeric")


def _differs(student, correct, domain, syms, rtol, fallback_pt) -> Comparison:
    for pt in nice_points(syms, domain, limit=30):
        c = value_at(correct, pt)
        s = value_at(student, pt)
        if c is None or s is None or c[1] != 0 or s[1] != 0:
            continue
        if not close(s, c, rtol):
            return Comparison(False, "differs", pt, exact_value(student, pt), exact_value(correct, pt))
    s = value_at(student, fallback_pt)
    return Comparison(False, "differs", fallback_pt,
                      exact_value(student, fallback_pt) if s is not None else sp.nan,
                      exact_value(correct, fallback_pt))


SYMBOLIC_MAX_OPS = 80  # larger differences are left to the numeric layer


def _symbolic_zero(diff, domain: Domain) -> bool:
    if diff == 0:
        return True
    if sp.count_ops(diff) > SYMBOLIC_MAX_OPS:
        return False
    d = sp.cancel(sp.together(diff))
    if d == 0:
        return True
    check_deadline()
    pos = domain.nonnegative()
    if pos:
        reps = {s: sp.Dummy(s.name, positive=True) for s in pos}
        d = d.xreplace(reps)
    d = sp.simplify(d)
    return d == 0


def same_number(a, b, rtol: float) -> bool:
    """Exact equality of two numbers, else |a - b| <= rtol * max(1, |a|, |b|) (at 30 digits)."""
    d = sp.nsimplify(a - b) if (a - b).is_Float else a - b
    if d == 0:
        return True
    va, vb = value_at(a, {}), value_at(b, {})
    if va is None or vb is None:
        return False
    return close(va, vb, rtol, atol=rtol)


def compare_conditions(student, correct, syms: list, seed_key: str = "",
                       domain: Domain | None = None) -> tuple[bool, dict | None, bool | None]:
    """Compare two conditions by sampling boundaries, near-boundaries and random values.

    With several variables, points on each boundary (a relation solved for a
    variable it contains linearly) and just off it are sampled too.  Points
    outside ``domain`` (the part's assumptions) do not count.
    Returns (equal, point where they differ, whether the student's holds there).
    """
    numbers: set = set()
    for c in (student, correct):
        for atom in c.atoms(sp.core.relational.Relational):
            for side in (atom.lhs, atom.rhs):
                if not side.free_symbols:
                    numbers.add(side)
                elif side.is_Add or side.is_Mul or side.func is sp.Abs:
                    for n in side.atoms(sp.Number):
                        numbers.add(n)
                        numbers.add(-n)
    cands = set()
    for n in numbers:
        try:
            if not n.is_real:
                continue
        except Exception:
            continue
        for off in (0, sp.Rational(1, 1000), -sp.Rational(1, 1000), 1, -1):
            cands.add(n + off)
    nums = sorted(cands, key=lambda v: float(v))
    for a, b in zip(nums, nums[1:]):
        cands.add((a + b) / 2)
    rng = random.Random(seed_key or "conditions")
    for _ in range(12):
        cands.add(sp.Rational(rng.randint(-20000, 20000), 1000))
    cands.update({sp.Integer(0), sp.Integer(100), sp.Integer(-100)})
    vals = sorted(cands, key=lambda v: (v.q if v.is_Rational else 10**9, abs(float(v)), float(v)))
    if not syms:
        syms = [symbol("x")]
    if len(syms) == 1:
        points = [{syms[0]: v} for v in vals]
    else:
        points = _boundary_points(student, correct, syms, vals, rng)
        points += [{s: rng.choice(vals) for s in syms} for _ in range(400)]
        # report the simplest disagreement: small denominators and small values first
        points.sort(key=lambda pt: (max(v.q if v.is_Rational else 10**9 for v in pt.values()),
                                    sum(abs(float(v)) for v in pt.values())))
    for pt in points:
        check_deadline()
        if domain is not None and not domain.contains(pt):
            continue
        a, b = _truth(student, pt), _truth(correct, pt)
        if a is None or b is None:
            continue
        if a != b:
            return False, pt, a
    return True, None, None


def _boundary_points(student, correct, syms, vals, rng) -> list[dict]:
    out: list[dict] = []
    small = [v for v in vals if abs(float(v)) <= 5][:30] or vals
    for c in (student, correct):
        if isinstance(c, sp.Set):
            continue
        for atom in c.atoms(sp.core.relational.Relational):
            g = atom.lhs - atom.rhs
            for s in syms:
                if s not in g.free_symbols:
                    continue
                coeff = sp.diff(g, s)
                if coeff.free_symbols or coeff == 0:
                    continue  # not linear in s with a constant coefficient
                for _ in range(6):
                    others = {t: rng.choice(small) for t in syms if t != s}
                    root = -(g.subs(s, 0).xreplace(others)) / coeff
                    if not root.is_Rational:
                        continue
                    for off in (0, sp.Rational(1, 1000), -sp.Rational(1, 1000)):
                        out.append({**others, s: root + off})
                if len(out) > 400:
                    return out
    return out


def _truth(cond, pt):
    if isinstance(cond, sp.Set):
        (s,) = pt.values() if len(pt) == 1 else (None,)
        r = cond.contains(s) if s is not None else None
    else:
        r = cond.xreplace(pt)
    if r is sp.true or r is True:
        return True
    if r is sp.false or r is False:
        return False
    return None
