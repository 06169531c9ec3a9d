"""The atom registry: one record per SymPy function type, stating everything the engine knows about it.

A :class:`Record` (keyed by SymPy type: ``sp.exp``, ``sp.log``, ``sp.Abs``,
``sp.Pow`` ...) says, for one function,

* ``curvature``: which curvature facts (a :class:`Curv`: curvature,
  monotonicity by argument sign, the argument sign it needs, rule text)
  apply, and to which arguments; a family such as ``t**p`` picks its member
  from the exponent and the sign of the base;
* ``sign``: the sign of the value from the signs of the arguments;
* ``domain``: the conditions under which it is defined;
* ``enclose``: a rigorous enclosure over a box (outward-rounded ``mpmath.iv``);
* ``branches``: for a non-smooth function, the smooth formulas and the
  conditions where each holds (its kinks are where the conditions switch),
  and ``kinks``: the expressions whose zeros are those switching points.

Every engine ladder is a lookup here: DCP curvature (``atoms.DCP``), value
signs (``signs.SignOracle``), enclosures (``signs.iv_eval``), definedness
(``prover._requirements``) and smoothness (``univariate.split_pieces``,
``domain.is_smooth``).  Sums and constant scalings are records too: affine
atoms, so :func:`compose` (CVXPY's DCP composition rule) covers them.

The texts are short, fixed reasons (data); nothing decides from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

from convexproof.engine.exact import certified_sign
from convexproof.render.mathtext import unicode as u
from convexproof.steps import said

# signs (of a value), curvatures, monotonicity, special domain needs
POS, NONNEG, ZERO, NONPOS, NEG = "pos", "nonneg", "zero", "nonpos", "neg"
REL = {POS: "> 0", NONNEG: "≥ 0", ZERO: "= 0", NONPOS: "≤ 0", NEG: "< 0"}
NONZERO, FINITE = "nonzero", "finite"
CONST, AFFINE, CONVEX, CONCAVE, UNKNOWN = "constant", "affine", "convex", "concave", "unknown"
INCR, DECR, NONE = "nondecreasing", "nonincreasing", "not monotone"

_NONNEG = (POS, NONNEG, ZERO)
_NONPOS = (NEG, NONPOS, ZERO)


# ------------------------------------------------------------ curvature facts
def _incr(s: str | None) -> str:
    return INCR


def _decr(s: str | None) -> str:
    return DECR


def _none(s: str | None) -> str:
    return NONE


def _by_sign(s: str | None) -> str:
    """Monotonicity of |t|, t², cosh(t): nondecreasing for t >= 0, nonincreasing for t <= 0."""
    if s in _NONNEG:
        return INCR
    if s in _NONPOS:
        return DECR
    return NONE


@dataclass(frozen=True)
class Curv:
    """The DCP facts of one atom: curvature, monotonicity by argument sign, the argument sign it needs."""

    name: str
    curvature: str  # CONVEX, CONCAVE or AFFINE
    monotone: Callable[[str | None], str]  # argument sign -> INCR / DECR / NONE
    text: str  # the local fact, in words
    needs: str | None = None  # sign the argument must have (domain), e.g. NONNEG


ATOMS: dict[str, Curv] = {c.name: c for c in (
    Curv("exp", CONVEX, _incr, "exp is convex and increasing"),
    Curv("log", CONCAVE, _incr, "log is concave and increasing", needs=POS),
    Curv("abs", CONVEX, _by_sign, "|t| is convex; nondecreasing for t ≥ 0, nonincreasing for t ≤ 0"),
    Curv("max", CONVEX, _incr, "max is convex and nondecreasing in each argument"),
    Curv("min", CONCAVE, _incr, "min is concave and nondecreasing in each argument"),
    Curv("cosh", CONVEX, _by_sign, "cosh is convex; increasing for t ≥ 0, decreasing for t ≤ 0"),
    Curv("even_power", CONVEX, _by_sign, "t^(2k) is convex; nondecreasing for t ≥ 0, nonincreasing for t ≤ 0"),
    Curv("power_ge1", CONVEX, _incr, "t^p (p ≥ 1) is convex and increasing on t ≥ 0", needs=NONNEG),
    Curv("power_01", CONCAVE, _incr, "t^p (0 < p < 1) is concave and increasing on t ≥ 0", needs=NONNEG),
    Curv("power_neg", CONVEX, _decr, "t^p (p < 0) is convex and decreasing on t > 0", needs=POS),
    Curv("power_neg_even_negarg", CONVEX, _incr, "t^p (p < 0 even) is convex and increasing on t < 0", needs=NEG),
    Curv("power_odd_negarg", CONCAVE, _incr, "t^p (p ≥ 3 odd) is concave and increasing on t ≤ 0", needs=NONPOS),
    Curv("power_neg_odd_negarg", CONCAVE, _decr, "t^p (p < 0 odd) is concave and decreasing on t < 0", needs=NEG),
    Curv("log_sum_exp", CONVEX, _incr, "log(c₀ + Σ cᵢ·exp(tᵢ)) with cᵢ > 0, c₀ ≥ 0 (log-sum-exp, softplus) is "
         "convex and increasing in each tᵢ"),
    Curv("norm2", CONVEX, _none, "√(Σ cᵢ·tᵢ² + c₀) with cᵢ > 0, c₀ ≥ 0 is a Euclidean norm: convex in the tᵢ"),
    Curv("xlogx", CONVEX, _none, "t·log(t) is convex on t > 0", needs=POS),
    # (u₁, …, uₖ, t) ↦ Σ uᵢ²/t on t > 0: nonincreasing in t there; its u-arguments are always affine (the rule
    # that builds it passes the affine square roots of a PSD quadratic), so their monotonicity is never used
    Curv("quad_over_lin", CONVEX, lambda s: DECR if s == POS else NONE,
         "Σ uᵢ²/t (quad-over-lin, the perspective of the squared norm) is convex on t > 0 and nonincreasing in t"),
    # affine atoms: sums and scalings are cases of the one composition rule
    Curv("sum", AFFINE, _incr, "a sum is affine and nondecreasing in each term"),
    Curv("scale_nonneg", AFFINE, _incr, "c·t with c ≥ 0 is affine and nondecreasing"),
    Curv("scale_nonpos", AFFINE, _decr, "c·t with c ≤ 0 is affine and nonincreasing"),
    Curv("scale", AFFINE, _none, "c·t with c of unknown sign is affine"),
)}


def scale_atom(coeff_sign: str | None) -> Curv:
    """c·t as an atom: nondecreasing for c ≥ 0, nonincreasing for c ≤ 0."""
    if coeff_sign in (POS, NONNEG):
        return ATOMS["scale_nonneg"]
    if coeff_sign in (NEG, NONPOS):
        return ATOMS["scale_nonpos"]
    return ATOMS["scale"]


def _meets(need: str | None, s: str | None) -> bool:
    if need == POS:
        return s == POS
    if need == NONNEG:
        return s in _NONNEG
    if need == NEG:
        return s == NEG
    if need == NONPOS:
        return s in _NONPOS
    return True


_NEED_TEXT = {POS: "> 0", NONNEG: "≥ 0", NEG: "< 0", NONPOS: "≤ 0"}


_OPPOSITE = {CONVEX: CONCAVE, CONCAVE: CONVEX}


def opposite(c: str) -> str:
    return _OPPOSITE.get(c, c)


def compose(atom: Curv, arg_curvatures: list[str], arg_signs: list[str | None]) -> tuple[str, str]:
    """CVXPY's composition rule; returns (curvature, explanation).

    f(g₁, …, gₖ) is convex if f is convex (or affine) and, for every i, gᵢ is affine, or f is
    nondecreasing in argument i and gᵢ is convex, or f is nonincreasing in argument i and gᵢ is
    concave; concave likewise with convex and concave swapped; affine if both hold.
    """
    if all(c == CONST for c in arg_curvatures):
        return CONST, "all arguments are constant"
    if atom.needs is not None and not all(_meets(atom.needs, s) for s in arg_signs):
        return UNKNOWN, f"the argument is not shown to be {_NEED_TEXT[atom.needs]}"
    monos = [atom.monotone(s) for s in arg_signs]

    def holds(want: str) -> bool:
        return all(c in (CONST, AFFINE) or (m == INCR and c == want) or (m == DECR and c == opposite(want))
                   for c, m in zip(arg_curvatures, monos))

    wants = (CONVEX, CONCAVE) if atom.curvature == AFFINE else (atom.curvature,)
    good = [w for w in wants if holds(w)]
    if not good:
        c, m = next((c, m) for c, m in zip(arg_curvatures, monos) if c not in (CONST, AFFINE)
                    and not ((m == INCR and c == wants[0]) or (m == DECR and c == opposite(wants[0]))))
        return UNKNOWN, (f"a {c} argument inside a function that is {m} there: "
                         "the composition rule does not apply")
    reasons = [(f"an {c} argument" if c == AFFINE else "a constant argument") if c in (CONST, AFFINE)
               else f"a {c} argument in a {m} position" for c, m in zip(arg_curvatures, monos)]
    return (AFFINE if len(good) == 2 else good[0]), "; ".join(dict.fromkeys(reasons))


# ------------------------------------------------------------ interval tools
def ivctx():
    from mpmath import iv

    iv.prec = 80
    return iv


def ivnum(iv, v):
    if v == sp.oo:
        return iv.mpf("inf")
    if v == -sp.oo:
        return iv.mpf("-inf")
    if v.is_Rational:
        return iv.mpf(int(v.p)) / iv.mpf(int(v.q))
    return iv.mpf(str(sp.N(v, 30)))  # rounded; widened by the caller


def widen(iv, x):
    """x widened by a relative 1e-20 (and absolute 1e-40): covers a value rounded to 30 digits."""
    return x + iv.mpf([-1, 1]) * (abs(x) * iv.mpf("1e-20") + iv.mpf("1e-40"))


def _pow_nonneg(iv, B, ex):
    lo = 0 if B.a == 0 else iv.exp(iv.log(iv.mpf(B.a)) * ivnum(iv, ex)).a
    hi = iv.exp(iv.log(iv.mpf(B.b)) * ivnum(iv, ex)).b if B.b > 0 else 0
    return iv.mpf([lo, hi])


def _args(rec, e):
    return [rec(a) for a in e.args]


def _enc_add(iv, e, rec):
    args = _args(rec, e)
    s = args[0]
    for a in args[1:]:
        s = s + a
    return s


def _enc_mul(iv, e, rec):
    args = _args(rec, e)
    s = args[0]
    for a in args[1:]:
        s = s * a
    return s


def _enc_pow(iv, e, rec):
    b, ex = e.args
    B = rec(b)
    if ex.is_Integer:
        n = int(ex)
        if n >= 0:
            return B ** n
        if B.a <= 0 <= B.b:
            raise ValueError  # may divide by zero
        return 1 / (B ** (-n))
    if ex.is_Rational:
        if B.a < 0:
            raise ValueError
        if ex > 0:
            return iv.exp(iv.log(B) * ivnum(iv, ex)) if B.a > 0 else _pow_nonneg(iv, B, ex)
        if B.a <= 0:
            raise ValueError
        return iv.exp(iv.log(B) * ivnum(iv, ex))
    E = rec(ex)
    if b == sp.E:
        return iv.exp(E)
    raise ValueError


def _enc_log(iv, e, rec):
    (A,) = _args(rec, e)
    if A.a <= 0:
        raise ValueError
    return iv.log(A)


def _enc_abs(iv, e, rec):
    (A,) = _args(rec, e)
    lo = 0 if A.a <= 0 <= A.b else min(abs(A.a), abs(A.b))
    return iv.mpf([lo, max(abs(A.a), abs(A.b))])


def _enc_max(iv, e, rec):
    args = _args(rec, e)
    return iv.mpf([max(a.a for a in args), max(a.b for a in args)])


def _enc_min(iv, e, rec):
    args = _args(rec, e)
    return iv.mpf([min(a.a for a in args), min(a.b for a in args)])


def _enc_cosh(iv, e, rec):
    (A,) = _args(rec, e)
    enc = (iv.exp(A) + iv.exp(-A)) / 2
    lo = 1 if A.a <= 0 <= A.b else enc.a
    return iv.mpf([max(lo, 1), enc.b])


def _enc_sinh(iv, e, rec):
    (A,) = _args(rec, e)
    return (iv.exp(A) - iv.exp(-A)) / 2  # monotone; the enclosure is sound


def _enc_bounded_increasing(fn_name: str, cap: Callable[[], float]):
    """tanh, atan: increasing and bounded; the ends evaluated at 80 bits, then widened."""
    def enc(iv, e, rec):
        import mpmath

        (A,) = _args(rec, e)
        g = getattr(mpmath, fn_name)
        c = cap()
        with mpmath.workprec(80):
            lo = g(A.a) if A.a != iv.mpf("-inf") else -c
            hi = g(A.b) if A.b != iv.mpf("inf") else c
        return widen(iv, iv.mpf([lo, hi]))
    return enc


def _half_pi_above() -> float:
    import mpmath

    return float(mpmath.pi / 2) + 1e-9


def _enc_unary(name: str):
    def enc(iv, e, rec):
        (A,) = _args(rec, e)
        return getattr(iv, name)(A)
    return enc


# ------------------------------------------------------------ value signs
# sign(e, sign_of) -> (sign, why) or None (the oracle falls back to bounds and exact analysis);
# ``sign_of`` gives the sign word of a sub-expression; ``why`` may be a callable (built when shown).
def _sign_abs(e, sign_of):
    return (POS if sign_of(e.args[0]) in (POS, NEG) else NONNEG), "an absolute value"


def _sign_max(e, sign_of):
    parts = [sign_of(a) for a in e.args]
    if POS in parts:
        return POS, "a maximum with a positive argument"
    if any(p in _NONNEG for p in parts):
        return NONNEG, "a maximum with a nonnegative argument"
    return None


def _sign_log(e, sign_of):
    a = e.args[0]
    d = sign_of(sp.expand(a - 1)) if a.is_Add or a.is_Symbol else None
    if d in REL:
        return d, lambda: said("log(t) has the sign of t − 1, and ", a - 1, " " + REL[d])
    return None


def _sign_pow(e, sign_of):
    b, ex = e.args
    if b == sp.E:
        return POS, "the exponential is positive"
    if ex.is_Integer and ex % 2 == 0:
        bs = sign_of(b)
        if ex < 0:
            return POS, "an even power of a nonzero quantity"
        if bs in (POS, NEG):
            return POS, lambda: f"an even power of a quantity that is {REL[bs]}"
        return NONNEG, "a square (even power)"
    bs = sign_of(b)
    if bs == POS and not ex.is_Integer and ex.is_real is not False:
        # b**a = exp(a·log b) > 0 for b > 0 and any real exponent a (x**p on x > 0)
        return POS, lambda: said("a real power of a positive quantity (", sp.StrictGreaterThan(b, 0, evaluate=False), ")")
    if ex.is_Integer:
        if bs is None:
            return None
        s = bs
        if ex < 0 and s in (NONNEG, NONPOS):
            s = POS if s == NONNEG else NEG  # f is defined, so the base is not 0
        return s, lambda: f"an odd power of a quantity that is {REL[bs]}"
    if ex.is_Rational:
        if bs == POS:
            return POS, "a power of a positive quantity"
        if ex < 0:
            return POS, "a negative power of a positive quantity"
        return NONNEG, "a root (fractional power) is ≥ 0"
    if b.is_number and certified_sign(b, 40) == 1:
        return POS, "a power of a positive number"
    return None


def _const_sign(s: str, why: str):
    return lambda e, sign_of: (s, why)


# ------------------------------------------------------------ definedness
# domain(e) -> [(expression, need, reason)]: e is defined where each expression has the needed sign
def _dom_log(e):
    return [(e.args[0], POS, f"log needs {u(e.args[0])} > 0")]


def _dom_pow(e):
    ex = e.exp
    if not ex.is_number or e.base == sp.E:
        return []
    if ex.is_Rational and not ex.is_Integer:
        return [(e.base, POS if ex < 0 else NONNEG, f"{u(e)} needs {u(e.base)} {'>' if ex < 0 else '≥'} 0")]
    if ex.is_Integer and ex < 0:
        return [(e.base, NONZERO, f"{u(e)} needs {u(e.base)} ≠ 0")]
    return []


def _dom_not_zero_of(fn):
    def dom(e):
        t = e.args[0]
        return [(fn(t), NONZERO, f"{type(e).__name__}({u(t)}) needs {fn.__name__}({u(t)}) ≠ 0")]
    return dom


def _dom_finite(e):
    return [(e, FINITE, f"{type(e).__name__} is not defined everywhere")]


# ------------------------------------------------------------ kinks
# branches(e) -> [(smooth replacement, condition)], the first true condition wins;
# kinks(e) -> expressions whose zeros are the points where the formula may switch
def _br_abs(e):
    t = e.args[0]
    return [(t, t >= 0), (-t, t < 0)]


def _br_max(e):
    first, rest = e.args[0], sp.Max(*e.args[1:])
    return [(first, first >= rest), (rest, first < rest)]


def _br_min(e):
    first, rest = e.args[0], sp.Min(*e.args[1:])
    return [(first, first <= rest), (rest, first > rest)]


def _br_sign(e):
    t = e.args[0]
    return [(sp.Integer(1), t > 0), (sp.Integer(0), sp.Eq(t, 0)), (sp.Integer(-1), t < 0)]


def _br_heaviside(e):
    t = e.args[0]
    h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
    return [(sp.Integer(1), t > 0), (h0, sp.Eq(t, 0)), (sp.Integer(0), t < 0)]


def _br_piecewise(e):
    return [(x, c) for x, c in e.args]


def _kinks_arg(e):
    return [e.args[0]]


def _kinks_pairs(e):
    a = e.args
    return [a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a))]


def _kinks_piecewise(e):
    out = []
    for _, c in e.args:
        for r in sp.preorder_traversal(c):
            if isinstance(r, sp.core.relational.Relational):
                out.append(r.lhs - r.rhs)
    return list(dict.fromkeys(out))


# ------------------------------------------------------------ the records
Expr = Any


@dataclass(frozen=True)
class Record:
    """Everything the engine knows about one SymPy function type."""

    type: type
    text: str  # one line: what the function is
    curvature: Callable[[Expr, Callable], tuple[Curv, list] | None] | None = None  # (facts, arguments)
    sign: Callable[[Expr, Callable], tuple[str, Any] | None] | None = None
    domain: Callable[[Expr], list] | None = None
    enclose: Callable[[Any, Expr, Callable], Any] | None = None  # raises ValueError if it cannot
    branches: Callable[[Expr], list] | None = None  # None: smooth where defined
    kinks: Callable[[Expr], list] | None = None

    @property
    def smooth(self) -> bool:
        return self.branches is None


def _unary(name: str):
    return lambda e, sign_of: (ATOMS[name], [e.args[0]])


def _nary(name: str):
    return lambda e, sign_of: (ATOMS[name], list(e.args))


def pow_curvature(p: sp.Expr, base_sign: str | None) -> Curv | None:
    """The member of the t**p family for a numeric exponent p and the sign of the base."""
    if p.is_Integer and p > 0 and p % 2 == 0:
        return ATOMS["even_power"]
    if p.is_Integer and p > 0:  # odd
        if base_sign in _NONPOS and base_sign != ZERO:
            return ATOMS["power_odd_negarg"]
        return ATOMS["power_ge1"]
    if p > 1:
        return ATOMS["power_ge1"]
    if 0 < p < 1:
        return ATOMS["power_01"]
    if p < 0:
        if base_sign == NEG and p.is_Integer:
            return ATOMS["power_neg_even_negarg" if p % 2 == 0 else "power_neg_odd_negarg"]
        return ATOMS["power_neg"]
    return None


def _curv_pow(e, sign_of):
    b, p = e.args
    if b == sp.E:
        return ATOMS["exp"], [p]
    if not p.is_number:
        return None
    c = pow_curvature(p, sign_of(b))
    return (c, [b]) if c is not None else None


REGISTRY: dict[type, Record] = {r.type: r for r in (
    Record(sp.Add, "a sum", curvature=_nary("sum"), enclose=_enc_add),
    Record(sp.Mul, "a product", enclose=_enc_mul),
    Record(sp.Pow, "a power t**p", curvature=_curv_pow, sign=_sign_pow, domain=_dom_pow, enclose=_enc_pow),
    Record(sp.exp, "the exponential", curvature=_unary("exp"),
           sign=_const_sign(POS, "the exponential is positive"), enclose=_enc_unary("exp")),
    Record(sp.log, "the natural logarithm", curvature=_unary("log"), sign=_sign_log, domain=_dom_log,
           enclose=_enc_log),
    Record(sp.Abs, "the absolute value", curvature=_unary("abs"), sign=_sign_abs, enclose=_enc_abs,
           branches=_br_abs, kinks=_kinks_arg),
    Record(sp.Max, "the maximum", curvature=_nary("max"), sign=_sign_max, enclose=_enc_max,
           branches=_br_max, kinks=_kinks_pairs),
    Record(sp.Min, "the minimum", curvature=_nary("min"), enclose=_enc_min, branches=_br_min,
           kinks=_kinks_pairs),
    Record(sp.cosh, "the hyperbolic cosine", curvature=_unary("cosh"), sign=_const_sign(POS, "cosh ≥ 1"),
           enclose=_enc_cosh),
    Record(sp.sinh, "the hyperbolic sine", enclose=_enc_sinh),
    Record(sp.tanh, "the hyperbolic tangent", enclose=_enc_bounded_increasing("tanh", lambda: 1)),
    Record(sp.atan, "the arctangent",
           enclose=_enc_bounded_increasing("atan", _half_pi_above)),
    Record(sp.sin, "the sine", enclose=_enc_unary("sin")),
    Record(sp.cos, "the cosine", enclose=_enc_unary("cos")),
    Record(sp.tan, "the tangent", domain=_dom_not_zero_of(sp.cos)),
    Record(sp.sec, "the secant", domain=_dom_not_zero_of(sp.cos)),
    Record(sp.cot, "the cotangent", domain=_dom_not_zero_of(sp.sin)),
    Record(sp.csc, "the cosecant", domain=_dom_not_zero_of(sp.sin)),
    Record(sp.asin, "the arcsine", domain=_dom_finite),
    Record(sp.acos, "the arccosine", domain=_dom_finite),
    Record(sp.sign, "the sign function", branches=_br_sign, kinks=_kinks_arg),
    Record(sp.Heaviside, "the Heaviside step", branches=_br_heaviside, kinks=_kinks_arg),
    # the pieces' own enclosures are not combined: no enclosure (as before the registry)
    Record(sp.Piecewise, "a piecewise definition", branches=_br_piecewise, kinks=_kinks_piecewise),
)}

_BY_TYPE: dict[type, Record | None] = {}


def lookup(e) -> Record | None:
    """The record for e's type (or the nearest registered base class), None when there is none."""
    t = type(e)
    try:
        return _BY_TYPE[t]
    except KeyError:
        r = next((REGISTRY[c] for c in t.__mro__ if c in REGISTRY), None)
        _BY_TYPE[t] = r
        return r


NONSMOOTH: tuple[type, ...] = tuple(t for t, r in REGISTRY.items() if not r.smooth)


def requirements(f: sp.Expr) -> list:
    """(expression, sign required, reason) for every sub-expression that restricts the domain."""
    out = []
    for e in sp.preorder_traversal(f):
        r = lookup(e)
        if r is not None and r.domain is not None:
            out.extend(r.domain(e))
    return out


def enclosure(e: sp.Expr, box: dict, reals) -> Any:
    """A rigorous enclosure of e over the box (mpmath interval), or None if a part has no enclosure."""
    iv = ivctx()
    cache: dict = {}

    def rec(x):
        if x in cache:
            return cache[x]
        r = _rec(x)
        cache[x] = r
        return r

    def _rec(x):
        if x.is_Symbol:
            I = box.get(x, reals)
            return iv.mpf([ivnum(iv, I.inf).a, ivnum(iv, I.sup).b])
        if x.is_number:
            if x.is_Rational:
                return ivnum(iv, x)
            if x.is_real is False:
                raise ValueError
            return widen(iv, iv.mpf(str(sp.N(x, 30))))
        r = lookup(x)
        if r is None or r.enclose is None:
            raise ValueError
        return r.enclose(iv, x, rec)

    try:
        r = rec(e)
    except (ValueError, ZeroDivisionError, TypeError, OverflowError, AttributeError):
        return None
    try:
        if math.isnan(float(r.a)) or math.isnan(float(r.b)):
            return None
    except (TypeError, ValueError):
        return None
    return r
