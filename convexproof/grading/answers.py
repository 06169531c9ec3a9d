"""Reading and comparing answers: the mathematics behind ``check``.

Everything a student typed goes through :mod:`convexproof.parse` (or, for
verdicts, through a fixed vocabulary); nothing is evaluated.  Comparison is
layered, as in STACK and Numbas, and only ever *proves*:

1. *certified differences* at seeded random rational points of the part's
   domain, well spread and including large magnitudes: the difference of the
   two values at a point is decided exactly (rationals) or in certified
   precision (:func:`convexproof.engine.exact.certified_sign`); a value that
   overflows, is undefined or is too close to call is "not comparable" there,
   never equal.  A certified difference is final: the answer is wrong, and we
   know where;
2. if no point shows a difference, an *exact* symbolic check of the difference
   under the part's assumptions (``cancel``, then ``simplify`` with variables
   bounded below by 0 replaced by positive symbols), under a time limit;
3. if neither decides, the answer is **undecided** (a teacher reviews it):
   agreement at sample points is never taken as equality.

Numbers are compared exactly, or, when the student typed a decimal, within the
part's tolerance decided in certified precision.  Conditions in one symbol are
compared as exact sets; other conditions are compared at sample points with
every relation decided by a certified sign, and are "undecided" unless a
difference is found or they are the same formula.

Time: loops call :func:`convexproof.runtime.limits.check_deadline` between steps (the
cooperative deadline); :func:`convexproof.grading.checking.check` runs the whole check
under a hard limit in a child process (:func:`convexproof.runtime.limits.run_limited`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy as sp

from convexproof.runtime.errors import AnalysisTimeout, ParseError
from convexproof.runtime.limits import check_deadline
from convexproof.parse import parse_any, symbol
from convexproof.parse import as_sympy


def _sign(v, digits: int = 50) -> int | None:
    """The certified sign of a value (-1, 0, 1, or None when undecided): the engine's one sign decision."""
    from convexproof.engine.exact import certified_sign

    return certified_sign(v, digits=digits)

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
    from convexproof.parse.substitute import substitute  # the parser's caps hold for the values put in (a**a**a with a = 3)

    value = parse_any(text)
    return substitute(value, subs) if subs else value


def read_number(text: str, names: set[str], allow_bound: bool, subs: dict | None = None,
                data: set[str] = frozenset()) -> Answer:
    """A number, ``lam = 3``, or (if allowed) a bound ``lam >= 3``.

    ``names`` are the names the part knows for its quantity; ``data`` the
    exercise's given parameters.  ``θ = 3`` and ``κ = 10`` (the asked
    quantity under its own name) are read as the number; a given parameter on
    the left (``a = 3`` where a is data) is refused, since it names the data.
    """
    from convexproof.parse.substitute import substitute

    raw = parse_any(text)
    if isinstance(raw, sp.Equality) and raw.lhs.is_Symbol and raw.lhs.name in names:
        raw = raw.rhs  # "κ = 10" where the part is κ itself (even when κ is also a given)
    value = substitute(raw, subs) if subs else raw
    if isinstance(value, sp.Expr) and not isinstance(value, (sp.Tuple, sp.MatrixBase)):
        if value.free_symbols:
            raise ParseError(f"expected a number, not an expression in {', '.join(sorted(s.name for s in value.free_symbols))}")
        _check_finite(value)
        return Answer("number", value)
    b = _bound(value)
    if b is None:
        raise ParseError("expected a number such as 3" + (" or a bound such as lam >= 3" if allow_bound else ""))
    name, op, v = b
    if name in data and name not in names:
        raise ParseError(f"{name} is given in the exercise; write the value asked for, e.g. 3 or {('lam >= 3' if allow_bound else 'theta = 3')}")
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
        raise ParseError("expected an expression, such as 3*x^2 + 1")
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
    if isinstance(value, sp.And) and all(isinstance(a, sp.Equality) for a in value.args):
        value = sp.Tuple(*value.args)  # x = 0 and y = -1
    if isinstance(value, sp.Equality) and value.lhs.is_Symbol:
        value = sp.Tuple(value)  # x = 3 for a point with one coordinate
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
        bounds, tighter = (self.low, 1) if op in (">", ">=") else (self.high, -1)
        if s not in bounds:
            bounds[s] = (v, op in (">", "<"))
            return
        side = _sign(v - bounds[s][0])
        if side == tighter or (side == 0 and op in (">", "<")):  # x ≥ 0 and x > 0: x > 0
            bounds[s] = (v, op in (">", "<"))
        elif side is None:
            self.other.append(cond)  # which bound is tighter is undecided: both are kept

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
        """True when the point certainly satisfies every condition (each bound by a certified sign)."""
        for bounds, inside in ((self.low, 1), (self.high, -1)):
            for s, (v, strict) in bounds.items():
                if s in point:
                    side = _sign(point[s] - v)
                    if side is None or side == -inside or (strict and side == 0):
                        return False
        return all(_truth(c, point) is True for c in self.other)

    def nonnegative(self) -> set:
        return {s for s, (v, _) in self.low.items() if _sign(v) in (0, 1)}

    def assumed_symbols(self) -> dict:
        """Symbols bounded below by 0 as SymPy symbols that know it: positive if > 0, else nonnegative."""
        return {s: sp.Dummy(s.name, positive=True) if (_sign(v) == 1 or strict) else sp.Dummy(s.name, nonnegative=True)
                for s, (v, strict) in self.low.items() if _sign(v) in (0, 1)}


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
    """Seeded random rational points inside the domain, well spread.

    Most coordinates fall in a window around the domain's bounds; about a third
    are far out (magnitudes up to 10⁴) where the domain allows, and every
    denominator is drawn at random, so no fixed grid can be aimed at.
    """
    out: list[dict] = []
    tries = 0
    while len(out) < n and tries < 40 * n:
        tries += 1
        pt = {}
        for s in syms:
            lo, hi = domain.interval(s)
            q = rng.randint(50, 5000)
            if rng.random() < 0.35:
                far = 10 ** rng.uniform(1, 4)
                x = rng.choice((lo - far, hi + far, rng.uniform(lo, hi)))
            else:
                x = lo + (hi - lo) * (0.02 + 0.96 * rng.random())
            pt[s] = sp.Rational(round(x * q), q)
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


@dataclass
class Comparison:
    equal: bool | None  # True proved equal, False proved different, None undecided
    method: str  # "exact", "numeric" (feedback matching only), "differs", "undecided"
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
                        points: int = 8, symbolic_seconds: float = 2.0, decimal: bool = False) -> Comparison:
    """Layered comparison of two expressions over the domain; see the module docstring.

    ``decimal``: the student typed a decimal number; differences within
    ``rtol`` at every point then give ``equal=None`` with method "close" (a
    decimal approximation is neither proved right nor called wrong).

    With ``symbolic_seconds`` = 0 (matching an answer against a known mistake,
    for feedback only, after the answer has been proved wrong) agreement at
    every sample point counts as a match ("numeric"); otherwise equality needs
    the exact check, and the result is ``equal=None`` ("undecided") without it.
    """
    student = as_sympy(student) if not isinstance(student, sp.Basic) else student
    if student == correct:
        return Comparison(True, "exact")
    syms = sorted(student.free_symbols | correct.free_symbols | set(domain.low) | set(domain.high),
                  key=lambda s: s.name)
    pts = _sample(syms, domain, f"{seed_key or 'points'}|{sp.srepr(student)[:400]}", points) if syms else [{}]
    if not pts:
        pts = [{}] if not syms else []
    checked, close_only = 0, False
    for pt in pts:
        check_deadline()
        r = differs_at(student, correct, pt)
        if r is None:
            continue
        checked += 1
        if r:
            if decimal and same_number(student.xreplace(pt), correct.xreplace(pt), rtol) is True:
                close_only = True
                continue
            # a certified disagreement: report it at a simple point if there is one
            return _differs(student, correct, domain, syms, pt)
    if close_only:
        return Comparison(None, "close")
    if not symbolic_seconds:
        return Comparison(True, "numeric") if checked else Comparison(None, "undecided")
    try:
        if _symbolic_zero(student - correct, domain):
            return Comparison(True, "exact")
    except AnalysisTimeout:
        raise
    except Exception:  # noqa: BLE001 - SymPy cannot decide: undecided, never "equal"
        pass
    return Comparison(None, "undecided")


def _differs(student, correct, domain, syms, fallback_pt) -> Comparison:
    for pt in nice_points(syms, domain, limit=30):
        if differs_at(student, correct, pt):
            return Comparison(False, "differs", pt, exact_value(student, pt), exact_value(correct, pt))
    return Comparison(False, "differs", fallback_pt, exact_value(student, fallback_pt),
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
    reps = domain.assumed_symbols()
    if reps:
        d = d.xreplace(reps)
    if d.has(sp.Piecewise, sp.Abs, sp.Max, sp.Min, sp.sign):
        return piecewise_zero(d)
    if exp_rational_zero(d):
        return True
    check_deadline()
    d = sp.simplify(d)
    return d == 0


def exp_rational_zero(d) -> bool:
    """Prove d = 0 when d is a rational function of exponentials exp(c·x) (c rational), one x at a time.

    With t = exp(x/q) (q the common denominator of the c's), every exp(c·x)
    becomes the power t**(c·q) and d a rational function of t and the other
    symbols; ``cancel`` then decides whether it is identically 0 (σ(u)(1 − σ(u))
    against e^u/(1 + e^u)², cosh and sinh included).
    """
    e = d.rewrite(sp.exp) if d.has(sp.sinh, sp.cosh, sp.tanh) else d
    exps = [a for a in e.atoms(sp.exp)]
    if not exps:
        return False
    reps = {}
    for x in sorted(e.free_symbols, key=lambda s: s.name):
        mine = [a for a in exps if x in a.args[0].free_symbols]
        coeffs = []
        for a in mine:
            arg = sp.expand(a.args[0])
            c = arg.coeff(x, 1)
            if not c.is_Rational or sp.expand(arg - c * x).has(x):
                return False
            coeffs.append(c)
        if not coeffs:
            continue
        q = sp.ilcm(*[c.q for c in coeffs])
        t = sp.Dummy(f"t_{x.name}", positive=True)
        for a, c in zip(mine, coeffs):
            rest = sp.expand(a.args[0] - c * x)
            reps[a] = t ** int(c * q) * (sp.exp(rest) if rest != 0 else 1)
    if any(a not in reps for a in exps if a.args[0].free_symbols):
        return False
    r = e.xreplace(reps)
    if r.has(sp.exp) and any(a.args[0].free_symbols for a in r.atoms(sp.exp)):
        return False
    check_deadline()
    return sp.cancel(sp.together(r)) == 0


_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside)


def piecewise_zero(d) -> bool:
    """Prove that a piecewise expression is 0 everywhere, cell by cell (True only when proved).

    |u|, max, min and sign are rewritten as Piecewise.  For a variable v in
    which every condition is linear or quadratic (:func:`breakpoints`), the
    same branch applies throughout each open cell between breakpoints, and its
    analytic formula must simplify to 0; at each breakpoint the value itself
    must be 0.  Anything that cannot be decided this way returns False.
    """
    e = d.rewrite(sp.Piecewise) if d.has(*_NONSMOOTH) else d
    e = sp.piecewise_fold(e)
    rels = list(e.atoms(sp.core.relational.Relational))
    if not rels or len(rels) > 24:
        return False
    for v in sorted(set().union(*(r.free_symbols for r in rels)), key=lambda s: s.name):
        cuts = breakpoints([r.lhs - r.rhs for r in rels], v)
        if not cuts:
            continue
        ok = True
        for t in cell_points(cuts):
            check_deadline()
            branch = _branch_at(e, v, t)
            if branch is None or sp.simplify(branch) != 0:
                ok = False
                break
        for t in cuts if ok else ():
            val = _branch_at(e, v, t)
            if val is None or sp.simplify(val.subs(v, t)) != 0:
                ok = False
                break
        if ok:
            return True
    return False


def conditions_equivalent(a, b, assumptions: dict) -> bool:
    """Prove that two conditions agree for every value of their symbols (True only when proved).

    Symbols get the assumptions given (e.g. lam > 0 as a positive symbol).  For
    a variable v in which every relation is piecewise linear or quadratic, the
    truth of each condition is constant on each open cell between breakpoints,
    so comparing the truth at one point per cell and at every breakpoint, each
    decided by the assumptions, is a proof.
    """
    a, b = a.xreplace(assumptions), b.xreplace(assumptions)
    rels = list(a.atoms(sp.core.relational.Relational) | b.atoms(sp.core.relational.Relational))
    if not rels or len(rels) > 12:
        return False
    exprs = []
    for r in rels:
        g = r.lhs - r.rhs
        absolutes = list(g.atoms(sp.Abs))
        if len(absolutes) > 3:
            return False
        exprs.extend(x.args[0] for x in absolutes)
        import itertools

        for signs in itertools.product((1, -1), repeat=len(absolutes)):
            exprs.append(g.xreplace({x: sg * x.args[0] for x, sg in zip(absolutes, signs)}))
    for v in sorted(set().union(*(r.free_symbols for r in rels)), key=lambda s: s.name):
        cuts = breakpoints(exprs, v)
        if not cuts:
            continue
        pts = [*cell_points(cuts), *cuts]
        truths = [(decide(a.subs(v, t)), decide(b.subs(v, t))) for t in pts]
        if all(x is not None and y is not None for x, y in truths):
            return all(x == y for x, y in truths)
    return False


def decide(cond) -> bool | None:
    """The truth of a condition from its symbols' assumptions alone (expanded differences), or None."""
    if cond is sp.true or cond is True:
        return True
    if cond is sp.false or cond is False:
        return False
    if isinstance(cond, (sp.And, sp.Or)):
        vals = [decide(x) for x in cond.args]
        if isinstance(cond, sp.And):
            return False if False in vals else None if None in vals else True
        return True if True in vals else None if None in vals else False
    if isinstance(cond, sp.Not):
        v = decide(cond.args[0])
        return None if v is None else not v
    if isinstance(cond, sp.core.relational.Relational):
        d = sp.expand(cond.lhs - cond.rhs)
        sg = _sign(d)
        if sg is None:
            sg = _sign(sp.factor(d))
        if sg is None:
            return None
        return {"<": sg < 0, "<=": sg <= 0, ">": sg > 0, ">=": sg >= 0, "==": sg == 0, "!=": sg != 0}[cond.rel_op]
    return None


def breakpoints(exprs, v) -> list | None:
    """The sorted real roots in v of expressions that are linear or quadratic in v, or None.

    Roots are expressions in the other symbols, put in a certain order by their
    assumptions; None when some expression is not of that form, or an order or
    a root's reality cannot be decided.
    """
    import functools

    roots = set()
    for g in exprs:
        check_deadline()
        g = sp.expand(g)
        if v not in g.free_symbols:
            continue
        if not g.is_polynomial(v):
            return None
        P = sp.Poly(g, v)
        if P.degree() > 2 or any(c.has(v) for c in P.coeffs()):
            return None
        if P.degree() == 1 and not P.LC().is_number:
            return None
        if P.degree() == 2 and not P.LC().is_number:
            return None
        for r in sp.roots(P, multiple=True):
            real = sp.simplify(r).is_real
            if real is None:
                return None
            if real:
                roots.add(sp.simplify(r))
    if not roots:
        return None

    def cmp(p, q):
        s = _sign(sp.simplify(p - q))
        if s is None:
            raise ValueError("order unknown")
        return s

    try:
        return sorted(roots, key=functools.cmp_to_key(cmp))
    except ValueError:
        return None


def cell_points(cuts: list) -> list:
    """One point inside each open cell between consecutive breakpoints (and beyond both ends)."""
    return [cuts[0] - 1, cuts[-1] + 1, *((p + q) / 2 for p, q in zip(cuts, cuts[1:]))]


def _branch_at(e, v, t):
    """The formula of the branch of e that applies at v = t (conditions decided by assumptions), or None."""
    if not isinstance(e, sp.Piecewise):
        return None if e.has(sp.Piecewise) else e
    for expr, cond in e.args:
        c = decide(cond.subs(v, t))
        if c is True:
            return _branch_at(expr, v, t) if expr.has(sp.Piecewise) else expr
        if c is None:
            return None
    return None


DECIMAL_RE = re.compile(r"\d\.\d*|\.\d|\d[eE][+-]?\d")


def typed_decimal(text: str) -> bool:
    """Did the student type a decimal number (0.83, 1e-3)?  Only then does a tolerance apply."""
    return bool(DECIMAL_RE.search(text or ""))


def same_number(a, b, rtol: float, *, tolerance: bool = True) -> bool | None:
    """True when a = b (exactly, or within ``rtol`` relative when ``tolerance``), False when they
    certainly differ, None when it cannot be decided.  Decided exactly or in certified precision:
    an overflow or an undefined value is never "equal"."""
    d = a - b
    if d == 0:
        return True
    if tolerance and rtol > 0:
        va, vb = a.evalf(60), b.evalf(60)
        if not (va.is_Float or va.is_Rational or va.is_Integer) or not (vb.is_Float or vb.is_Rational or vb.is_Integer):
            return None
        if va.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or vb.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
            return None
        # the allowed difference is rtol times a scale read from the 60-digit values; the difference itself
        # is the exact a − b, so |a − b| against it is decided by a certified sign
        allowed = sp.Rational(rtol) * sp.Rational(max(sp.Integer(1), abs(va), abs(vb)))
        s = _sign(allowed - sp.Abs(d), digits=60)
        if s == 1:
            return True
        if s == -1:
            return False
        return None
    s = _sign(d, digits=60)
    if s in (1, -1):
        return False
    try:
        if _symbolic_zero(d, Domain()):
            return True
    except AnalysisTimeout:
        raise
    except Exception:  # noqa: BLE001 - undecided
        pass
    return None


def differs_at(a, b, point: dict) -> bool | None:
    """True when a and b certainly differ at ``point``, False when certainly equal there, None otherwise."""
    try:
        va = a.xreplace(point) if point else a
        vb = b.xreplace(point) if point else b
        if va.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or vb.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return None
        ra, rb = value_at(a, point), value_at(b, point)
        if ra is None or rb is None or ra[1] != 0 or rb[1] != 0:
            return None  # undefined or not real at this point: not comparable
        s = _sign(va - vb, digits=50)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, ArithmeticError, RecursionError):
        return None
    if s is None:
        return None
    return s != 0


def compare_conditions(student, correct, syms: list, seed_key: str = "",
                       domain: Domain | None = None) -> tuple[bool | None, dict | None, bool | None]:
    """Compare two conditions: (equal, a point where they differ, whether the student's holds there).

    ``equal`` is True only when proved (the same formula, or the same exact set
    of values for a condition in one symbol), False only with a point of the
    domain where the two certainly disagree, and None (undecided) otherwise.
    Points are sampled on and near every boundary and at random; each relation
    is decided exactly or by a certified sign, so a condition that holds only on
    a discrete set cannot pass for an interval.
    """
    if student == correct:
        return True, None, None
    free = set(getattr(student, "free_symbols", set())) | set(getattr(correct, "free_symbols", set())) | set(syms)
    if len(free) == 1:
        res = _compare_sets(student, correct, next(iter(free)), domain)
        if res is not None:
            return res
    numbers: set = set()
    for c in (student, correct):
        if isinstance(c, sp.Set):
            for v in (c.inf, c.sup):
                if v.is_finite:
                    numbers.add(v)
            continue
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
    rng = random.Random(f"{seed_key or 'conditions'}|{sp.srepr(student)[:400]}")
    for _ in range(12):
        q = rng.randint(50, 5000)
        cands.add(sp.Rational(rng.randint(-20 * q, 20 * q), q))
    cands.update({sp.Integer(0), sp.Integer(100), sp.Integer(-100), sp.Integer(10**4), sp.Integer(-10**4)})
    vals = sorted(cands, key=lambda v: (v.q if v.is_Rational else 10**9, abs(float(v)), float(v)))
    if not syms:
        syms = sorted(free, key=lambda s: s.name) or [symbol("x")]
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
    if not isinstance(student, sp.Set) and not isinstance(correct, sp.Set):
        reps = domain.assumed_symbols() if domain is not None else {}
        try:
            if conditions_equivalent(student, correct, reps):
                return True, None, None
        except AnalysisTimeout:
            raise
        except Exception:  # noqa: BLE001 - not proved
            pass
    return None, None, None


def _domain_set(domain: Domain | None, s) -> sp.Set:
    I = sp.Interval(-sp.oo, sp.oo)
    if domain is None:
        return I
    if s in domain.low:
        v, strict = domain.low[s]
        I = I.intersect(sp.Interval(v, sp.oo, left_open=strict))
    if s in domain.high:
        v, strict = domain.high[s]
        I = I.intersect(sp.Interval(-sp.oo, v, right_open=strict))
    return I


def _compare_sets(student, correct, s, domain: Domain | None):
    """Exact comparison of two conditions in the one symbol s, or None when a set cannot be computed."""
    from convexproof.engine.domain import condition_set, sample_point

    try:
        A, B = condition_set(student, s), condition_set(correct, s)
        if A is None or B is None:
            return None
        D = _domain_set(domain, s)
        A, B = A.intersect(D), B.intersect(D)
        only_a, only_b = A - B, B - A
        if only_a.is_empty is True and only_b.is_empty is True:
            return True, None, None  # equal on an interval that contains the domain
        for part in (only_a, only_b):
            pieces = part.args if isinstance(part, sp.Union) else (part,)
            for piece in pieces:
                if isinstance(piece, sp.FiniteSet):
                    cands = list(piece)[:3]
                elif isinstance(piece, sp.Interval) and piece.measure > 0:
                    cands = [sample_point(piece)]
                else:
                    continue
                for v in cands:
                    pt = {s: v}
                    if domain is not None and not domain.contains(pt):
                        continue
                    a, b = _truth(student, pt), _truth(correct, pt)
                    if a is not None and b is not None and a != b:
                        return False, pt, a
    except AnalysisTimeout:
        raise
    except Exception:  # noqa: BLE001 - fall back to sampling
        return None
    return None


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
    """The truth of a condition at a point, every relation decided exactly or by a certified sign; None if unsure."""
    if cond is sp.true or cond is True:
        return True
    if cond is sp.false or cond is False:
        return False
    if isinstance(cond, sp.Set):
        (s,) = pt.values() if len(pt) == 1 else (None,)
        r = cond.contains(s) if s is not None else None
        return True if r is sp.true else False if r is sp.false else None
    if isinstance(cond, (sp.And, sp.Or)):
        vals = [_truth(a, pt) for a in cond.args]
        if isinstance(cond, sp.And):
            return False if False in vals else None if None in vals else True
        return True if True in vals else None if None in vals else False
    if isinstance(cond, sp.Not):
        v = _truth(cond.args[0], pt)
        return None if v is None else not v
    if isinstance(cond, sp.core.relational.Relational):
        try:
            d = (cond.lhs - cond.rhs).xreplace(pt)
            if d.free_symbols or d.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                return None
            sg = _sign(d, digits=50)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError, ArithmeticError, RecursionError):
            return None
        if sg is None:
            return None
        return {"<": sg < 0, "<=": sg <= 0, ">": sg > 0, ">=": sg >= 0, "==": sg == 0, "!=": sg != 0}[cond.rel_op]
    return None
