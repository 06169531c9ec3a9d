"""Proving ``g >= 0`` (or ``> 0``) on a box, or finding a verified point where ``g < 0``.

Methods, tried in order, each sound on its own:

1. *Structure*: exp, cosh, squares, even powers, absolute values are >= 0;
   signs of products and sums of same-sign terms; affine expressions are
   bounded exactly on the box (open ends kept open).
2. *Interval arithmetic* with outward rounding (``mpmath.iv``) for mixed
   sums such as ``2 - cos(x)`` (|cos| <= 1).
3. *Exact univariate analysis* of polynomials and rational functions on an
   interval: square-free decomposition and Sturm root counting
   (``Poly.count_roots``); functions of ``exp(k*x)`` only are first rewritten
   with ``u = exp(x/q) > 0``.
4. A *numerical search* for a counterexample, which is then verified exactly
   (rational arithmetic) or in 40-digit arithmetic before it is reported.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from convexproof.engine.exact import certified_sign
from convexproof.engine.domain import REALS, affine_range, interval_display
from convexproof.runtime.limits import check_deadline
from convexproof.steps.proof import CvxPolySign, CvxSign, CvxSquare
from convexproof.steps import said

from convexproof.engine.registry import NEG, NONNEG, NONPOS, POS, ZERO, enclosure, lookup
from convexproof.engine.registry import REL as _REL


# ----------------------------------------------------------------- exact signs
def exact_sign(v: Any, digits: int = 40) -> int | None:
    """Sign of a numeric SymPy value (see :func:`convexproof.engine.exact.certified_sign`)."""
    return certified_sign(v, digits)


def sign_word(s: int) -> str:
    return {1: POS, 0: ZERO, -1: NEG}[s]


def sign_relation(e: sp.Expr, s: str):
    """The sign word s of e as an unevaluated relation (e > 0, e ≥ 0, e = 0, ...), for sentences."""
    rel = {POS: sp.StrictGreaterThan, NONNEG: sp.GreaterThan, ZERO: sp.Eq, NONPOS: sp.LessThan,
           NEG: sp.StrictLessThan}.get(s)
    return rel(e, 0, evaluate=False) if rel is not None else said(e, " " + _REL.get(s, "of unknown sign"))


def _range_sign(I: sp.Interval) -> str | None:
    lo, hi = I.inf, I.sup
    if lo == hi and not I.left_open:
        return ZERO if lo == 0 else (POS if lo > 0 else NEG)
    if (lo > 0) == sp.true or (lo == 0 and I.left_open):
        return POS
    if (lo >= 0) == sp.true:
        return NONNEG
    if (hi < 0) == sp.true or (hi == 0 and I.right_open):
        return NEG
    if (hi <= 0) == sp.true:
        return NONPOS
    return None


# ------------------------------------------------------------ interval arithmetic
def iv_eval(e: sp.Expr, box: dict):
    """A rigorous enclosure of e over the box (mpmath interval), or None if unsupported (see the registry)."""
    return enclosure(e, box, REALS)


def _iv_sign(e, box) -> tuple[str | None, Any]:
    r = iv_eval(e, box)
    if r is None:
        return None, None
    if r.a > 0:
        return POS, r
    if r.a >= 0:
        return NONNEG, r
    if r.b < 0:
        return NEG, r
    if r.b <= 0:
        return NONPOS, r
    return None, r


# ------------------------------------------------------------------ structure
@dataclass
class Sgn:
    """A sign with its justification; the text and sub-steps are built lazily (only when shown)."""

    sign: str | None
    why: Any
    steps: Any = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.why() if callable(self.why) else self.why

    @property
    def kids(self) -> list:
        return self.steps() if callable(self.steps) else self.steps


def _mul_signs(signs: list[str]) -> str | None:
    neg = 0
    weak = False
    for s in signs:
        if s is None:
            return None
        if s == ZERO:
            return ZERO
        if s in (NEG, NONPOS):
            neg += 1
        if s in (NONNEG, NONPOS):
            weak = True
    if neg % 2 == 0:
        return NONNEG if weak else POS
    return NONPOS if weak else NEG


def _add_signs(signs: list[str]) -> str | None:
    if any(s is None for s in signs):
        return None
    if all(s in (POS, NONNEG, ZERO) for s in signs):
        return POS if POS in signs else (ZERO if all(s == ZERO for s in signs) else NONNEG)
    if all(s in (NEG, NONPOS, ZERO) for s in signs):
        return NEG if NEG in signs else NONPOS
    return None


def _flip(s):
    return {POS: NEG, NEG: POS, NONNEG: NONPOS, NONPOS: NONNEG, ZERO: ZERO, None: None}[s]


class SignOracle:
    """Structural sign reasoning on a box, with memoisation and short reasons."""

    def __init__(self, box: dict):
        self.box = box
        self.memo: dict = {}

    def sign(self, e: sp.Expr) -> Sgn:
        if e in self.memo:
            return self.memo[e]
        check_deadline()
        r = self._sign(e)
        self.memo[e] = r
        return r

    def _sign(self, e: sp.Expr) -> Sgn:
        if e.is_number:
            s = exact_sign(e)
            if s is None:
                return Sgn(None, "")
            return Sgn(sign_word(s), lambda: said(e, " is a number"))
        if e.is_Symbol:
            I = self.box.get(e, REALS)
            s = _range_sign(I)
            return Sgn(s, lambda: said(sign_relation(e, s), " on the domain") if s else "")
        rng = affine_range(e, self.box) if isinstance(e, sp.Add) else None
        if rng is not None:
            s = _range_sign(rng)
            if s:
                return Sgn(s, lambda: said(e, " is affine and takes values in ", rng, " on the domain"))
            return self._poly1(e) or Sgn(None, "")
        if isinstance(e, sp.Mul):
            parts = [self.sign(a) for a in e.args]
            s = _mul_signs([p.sign for p in parts])
            if s is not None:
                def why(e=e, parts=parts):
                    shown = [sign_relation(a, p.sign) for a, p in zip(e.args, parts) if not a.is_number]
                    return said("a product of factors with known signs: ",
                                *[q for i, r in enumerate(shown) for q in (("; ", r) if i else (r,))])

                def kids(e=e, parts=parts):
                    return [CvxSign(a, _REL[p.sign], p.text, children=p.kids) for a, p in zip(e.args, parts)
                            if p.kids or isinstance(a, sp.Add)]
                return Sgn(s, why, kids)
            return self._fallback(e)
        if isinstance(e, sp.Add):
            parts = [self.sign(a) for a in e.args]
            s = _add_signs([p.sign for p in parts])
            if s is not None:
                return Sgn(s, lambda: f"a sum of terms that are all {_REL[s if s in (ZERO,) else (NONNEG if s in (POS, NONNEG) else NONPOS)]}",
                           lambda e=e, parts=parts: [CvxSign(a, _REL[p.sign], p.text, children=p.kids)
                                                     for a, p in zip(e.args, parts)])
            return self._fallback(e)
        rec = lookup(e)  # an atom: its value sign from its arguments' signs (the registry)
        if rec is not None and rec.sign is not None:
            r = rec.sign(e, self._word)
            if r is not None:
                return Sgn(*r)
        return self._fallback(e)

    def _word(self, e: sp.Expr) -> str | None:
        return self.sign(e).sign

    def _poly1(self, e: sp.Expr) -> Sgn | None:
        syms = e.free_symbols
        if len(syms) != 1:
            return None
        x = next(iter(syms))
        r = univariate_sign(e, x, self.box.get(x, REALS))
        if r is None or r.sign not in (POS, NONNEG, ZERO, NEG, NONPOS):
            return None
        return Sgn(r.sign, r.why, r.steps)

    def _fallback(self, e: sp.Expr) -> Sgn:
        s, r = _iv_sign(e, self.box)
        if s is not None:
            lo = _fmt_bound(r)
            return Sgn(s, lambda: said("bounding each part on the domain (e.g. |sin|, |cos| ≤ 1) gives ", e,
                                       " ∈ " + lo))
        syms = e.free_symbols
        if len(syms) == 1 and (e.is_rational_function(next(iter(syms))) or sp.count_ops(e) <= 40):
            p = self._poly1(e)  # exact: root isolation, exp(x/q) = u, or the exact zeros of a transcendental f
            if p is not None:
                return p
        return Sgn(None, "")


def _fmt_bound(r) -> str:
    def f(v):
        try:
            x = float(v)
        except (TypeError, ValueError):
            return str(v)
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        return f"{x:.6g}"

    return f"[{f(r.a)}, {f(r.b)}]"


# ------------------------------------------------------ exact univariate signs
def _txt(why):
    return why() if callable(why) else why


def _renamed(sentence, U: sp.Symbol):
    """The sentence with the substitution's dummy symbol U written as u."""
    from convexproof.steps import Sentence

    u_ = sp.Symbol("u")
    if not isinstance(sentence, Sentence):
        return str(sentence).replace(str(U), "u")
    return Sentence([(k, v.xreplace({U: u_}) if k == "math" and isinstance(v, sp.Basic) else
                      (tuple(w.xreplace({U: u_}) if isinstance(w, sp.Basic) else w for w in v) if k == "eq" else
                       v.replace(str(U), "u") if k == "text" else v)) for k, v in sentence.parts])


@dataclass
class USign:
    sign: str | None  # POS/NONNEG/ZERO/NONPOS/NEG, "mixed", or None (cannot tell)
    why: str = ""
    steps: list = field(default_factory=list)
    neg_point: Any = None  # a point where the expression is < 0 (exact), if mixed
    pos_point: Any = None


def _rat_bounds(I: sp.Interval):
    """Rational bounds containing I (for root counting), None for infinite ends."""
    def r(v, down):
        if v in (sp.oo, -sp.oo):
            return None
        if v.is_Rational:
            return v
        f = Fraction(str(sp.N(v, 30)))
        q = sp.Rational(f.numerator, f.denominator)
        return q - sp.Rational(1, 10**20) if down else q + sp.Rational(1, 10**20)
    return r(I.inf, True), r(I.sup, False)


def _in(I: sp.Interval, v) -> bool:
    if isinstance(I, sp.Interval) and v.is_Rational and all(e.is_Rational or e in (sp.oo, -sp.oo) for e in (I.inf, I.sup)):
        lo_ok = I.inf == -sp.oo or (v > I.inf if I.left_open else v >= I.inf)
        hi_ok = I.sup == sp.oo or (v < I.sup if I.right_open else v <= I.sup)
        return bool(lo_ok) and bool(hi_ok)
    c = I.contains(v)
    return c is sp.true


def _candidate_points(Q: sp.Poly, I: sp.Interval) -> list:
    """Rational points of I between the isolated real roots of Q (and outside them), simplest first."""
    lo, hi = _rat_bounds(I)
    try:
        ivs = [iv for iv, _ in Q.intervals(inf=lo, sup=hi, eps=sp.Rational(1, 1000))] if Q.degree() > 0 else []
    except Exception:  # noqa: BLE001
        ivs = []
    ivs.sort()
    left = lo if lo is not None else (sp.floor(ivs[0][0]) - 2 if ivs else sp.Integer(-2))
    right = hi if hi is not None else (sp.ceiling(ivs[-1][1]) + 2 if ivs else sp.Integer(2))
    edges = [left] + [e for a, b in ivs for e in (a, b)] + [right]
    out = []
    for i in range(0, len(edges) - 1, 2):
        a, b = sp.Rational(edges[i]), sp.Rational(edges[i + 1])
        if a >= b:
            continue
        mid = (a + b) / 2
        fmid = Fraction(int(mid.p), int(mid.q))
        pts = []
        for d in (1, 2, 4, 10, 100):
            q = sp.Rational(round(fmid * d), d)
            if a < q < b:
                pts.append(q)
        pts += [mid, a + (b - a) / 4, a + 3 * (b - a) / 4]
        for p in pts:
            if p not in out and _in(I, p):
                out.append(p)
    return out


def _simple_points(I: sp.Interval) -> list:
    lo, hi = _rat_bounds(I)
    cands = [sp.Integer(v) for v in (0, 1, -1, 2, -2)]
    if lo is not None and hi is not None:
        cands.append((lo + hi) / 2)
    if lo is not None:
        cands += [lo + 1, lo + sp.Rational(1, 2)]
    if hi is not None:
        cands += [hi - 1, hi - sp.Rational(1, 2)]
    return [p for p in cands if _in(I, p)]


def poly_sign(P: sp.Poly, I: sp.Interval) -> USign:
    """Exact sign of a univariate polynomial with numeric coefficients on an interval."""
    x = P.gen
    if P.is_zero:
        return USign(ZERO, "it is identically 0")
    if P.degree() == 0:
        s = sign_word(exact_sign(P.LC()))
        return USign(s, "a constant")
    if not all(c.is_Rational for c in P.all_coeffs()):
        return USign(None)
    c, facs = P.sqf_list()
    odd = sp.Poly(c, x)
    for f, k in facs:
        if k % 2 == 1:
            odd = odd * f
    lo, hi = _rat_bounds(I)

    def roots_open(Q):
        if Q.degree() <= 0:
            return 0
        n = Q.count_roots(lo, hi)
        if lo is not None and Q.eval(lo) == 0:
            n -= 1
        if hi is not None and Q.eval(hi) == 0:
            n -= 1
        return n

    n_odd = roots_open(odd)
    if n_odd == 0:
        sample = next((p for p in _simple_points(I) if P.eval(p) != 0), None)
        if sample is None:
            sample = next((p for p in _candidate_points(P, I) if P.eval(p) != 0), None)
        if sample is None:
            return USign(None)
        v = P.eval(sample)
        s = 1 if v > 0 else -1
        sq = sp.Poly(sp.prod([f for f, _ in facs]) if facs else 1, x)
        n_all = sq.count_roots(lo, hi) if sq.degree() > 0 else 0
        for end, closed in ((lo, not I.left_open), (hi, not I.right_open)):
            if end is not None and not closed and sq.degree() > 0 and sq.eval(end) == 0:
                n_all -= 1
        strict = n_all == 0
        sign = (POS if strict else NONNEG) if s > 0 else (NEG if strict else NONPOS)
        if strict:
            text = said("it has no real root in ", I, ", and its value at ", sample, " is ", v)
        else:
            text = said("its only roots in ", I, " have even multiplicity, so it does not change sign, "
                        "and its value at ", sample, " is ", v)
        step = CvxPolySign(P.as_expr(), x, interval_display(I, x), int(n_odd), sample, v, text)
        steps = [step]
        if P.degree() == 2:
            a, b, cc = P.all_coeffs()
            form = a * (x + b / (2 * a)) ** 2 + (cc - b**2 / (4 * a))
            steps.insert(0, CvxSquare(P.as_expr(), form, "completing the square"))
        return USign(sign, said("by Sturm's theorem ", text), steps)
    cands = _candidate_points(odd, I)
    neg = next((p for p in cands if P.eval(p) < 0), None)
    pos = next((p for p in cands if P.eval(p) > 0), None)
    return USign("mixed", said("it changes sign in ", I), neg_point=neg, pos_point=pos)


def _exp_substitution(e: sp.Expr, x: sp.Symbol):
    """If e depends on x only through exp(a*x + b) (a rational), return (g(u), q) with u = exp(x/q)."""
    ex = e.rewrite(sp.exp) if e.has(sp.tanh, sp.cosh, sp.sinh) else e
    atoms = [a for a in ex.atoms(sp.exp) if a.has(x)]
    pw = [p for p in ex.atoms(sp.Pow) if p.base == sp.E and p.has(x)]
    atoms += pw
    if not atoms:
        return None
    coeffs = []
    for a in atoms:
        arg = a.exp if isinstance(a, sp.Pow) else a.args[0]
        arg = sp.expand(arg)
        k = arg.coeff(x)
        rest = sp.expand(arg - k * x)
        if not k.is_Rational or rest.has(x):
            return None
        coeffs.append(k)
    q = math.lcm(*[int(k.q) for k in coeffs]) if coeffs else 1
    U = sp.Dummy("u", positive=True)
    reps = {}
    for a, k in zip(atoms, coeffs):
        arg = sp.expand(a.exp if isinstance(a, sp.Pow) else a.args[0])
        rest = sp.expand(arg - k * x)
        reps[a] = sp.exp(rest) * U ** (k * q)
    g = ex.xreplace(reps)
    if g.has(x):
        return None
    return g, q, U


def _exp_image(I: sp.Interval, q) -> sp.Interval | None:
    """The image of I under x -> exp(x/q), q > 0; None unless its ends are rational (or 0, oo)."""
    lo = sp.exp(I.inf / q) if I.inf != -sp.oo else sp.Integer(0)
    hi = sp.exp(I.sup / q) if I.sup != sp.oo else sp.oo
    if not all(b.is_Rational or b == sp.oo for b in (lo, hi)):
        return None
    return sp.Interval(lo, hi, I.left_open or I.inf == -sp.oo, I.right_open)


_USIGN_CACHE: dict = {}


def univariate_sign(e: sp.Expr, x: sp.Symbol, I: sp.Interval, _depth: int = 0) -> USign | None:
    """Exact sign analysis of a rational function of x (or of exp(x/q)) on I; None if not applicable."""
    key = (e, x, I, _depth)
    if key in _USIGN_CACHE:
        return _USIGN_CACHE[key]
    r = _univariate_sign(e, x, I, _depth)
    if len(_USIGN_CACHE) > 2000:
        _USIGN_CACHE.clear()
    _USIGN_CACHE[key] = r
    return r


def _univariate_sign(e: sp.Expr, x: sp.Symbol, I: sp.Interval, _depth: int = 0) -> USign | None:
    check_deadline()
    if e.free_symbols - {x}:
        return None
    if e.is_rational_function(x):
        try:
            g = sp.cancel(sp.together(e))
            N, D = sp.fraction(g)
            PN, PD = sp.Poly(N, x), sp.Poly(D, x)
        except (sp.PolynomialError, sp.GeneratorsNeeded, ValueError):
            return None
        if not all(c.is_Rational for c in PN.all_coeffs() + PD.all_coeffs()):
            return None
        sd = poly_sign(PD, I)
        if sd.sign not in (POS, NEG):
            if sd.sign in (NONNEG, NONPOS):  # only zeros at the ends of I matter if I is open there
                sd = USign(POS if sd.sign == NONNEG else NEG, sd.why, sd.steps)
            else:
                return None
        sn = poly_sign(PN, I)
        if sn.sign is None:
            return None
        if sd.sign == NEG:
            sn = USign(_flip(sn.sign) if sn.sign != "mixed" else "mixed", sn.why, sn.steps, sn.pos_point, sn.neg_point)
        if sn.sign == "mixed":
            pt = sn.neg_point
            if pt is not None and exact_sign(e.subs(x, pt)) != -1:
                pt = None
            return USign("mixed", sn.why, neg_point=pt, pos_point=sn.pos_point)
        if PD.degree() == 0:
            return USign(sn.sign, sn.why, sn.steps)
        why = (lambda N=N, D=D, sd=sd, sn=sn: said("it equals ", sp.Mul(N, sp.Pow(D, -1), evaluate=False),
                                                   "; the denominator is " + _REL[sd.sign] + " and the numerator ",
                                                   _txt(sn.why)))
        return USign(sn.sign, why, sd.steps + sn.steps)
    if _depth == 0:
        sub = _exp_substitution(e, x)
        if sub is not None:
            g, q, U = sub
            J = _exp_image(I, q)
            if J is None:
                return None
            r = univariate_sign(g, U, J, _depth=1)
            if r is None:
                return None
            why = (lambda g=g, J=J, r=r, U=U, q=q: _renamed(said(
                "writing ", sp.Eq(U, sp.exp(x / q), evaluate=False), " > 0 it becomes ", sp.cancel(sp.together(g)),
                ", and for ", U, " in ", J, " ", _txt(r.why)), U))
            neg = sp.log(r.neg_point) * q if r.neg_point is not None and r.neg_point > 0 else None
            pos = sp.log(r.pos_point) * q if r.pos_point is not None and r.pos_point > 0 else None
            return USign(r.sign, why, r.steps, neg, pos)
    if _depth == 0:
        return _sign_by_zeros(e, x, I)
    return None


# ------------------------------------------------------------------ definedness and continuity
def by_fact(e: sp.Expr, facts: list[sp.Expr]) -> bool:
    """Is e a positive constant times one of the positive slacks ``facts`` (so e > 0 on the domain)?"""
    for g in facts:
        try:
            r = sp.cancel(sp.expand(e) / g)
        except Exception:  # noqa: BLE001
            continue
        if r.is_number and exact_sign(r) == 1:
            return True
    return False


def defined_on_box(f: sp.Expr, box: dict, facts: list | None = None) -> list[str]:
    """Reasons why f may be undefined somewhere on the box (empty when it is defined everywhere).

    Every domain requirement of the registry's atoms in f (denominators, log and root arguments, tan's
    cosine, …) must be shown on the box.  ``facts`` are positive slacks of the domain's own conditions
    (the prover's ``slack_facts``): a denominator or a log argument equal to one of them is positive there.
    """
    from convexproof.engine.registry import requirements

    oracle = SignOracle(box)
    bad = []
    for e, need, why in requirements(f):
        if facts and need in (POS, NONNEG, "nonzero") and by_fact(e, facts):
            continue
        s = oracle.sign(e).sign if need != "finite" else None
        if need == POS and s == POS:
            continue
        if need == NONNEG and s in (POS, NONNEG, "zero"):
            continue
        if need == "nonzero" and s in (POS, NEG):
            continue
        if need == "finite":
            r = iv_eval(e, box)
            if r is not None and r.a > float("-inf") and r.b < float("inf"):
                continue
        bad.append(why)
    return bad


def continuous_on(e: sp.Expr, x: sp.Symbol, I: sp.Interval) -> bool:
    """e is continuous on I (shown): it is built from numbers, x and the registry's smooth atoms only, and
    every domain requirement of those atoms holds on I (:func:`defined_on_box`).  The atoms are elementary
    functions, continuous wherever they are defined; a node the registry does not know, or a non-smooth one
    (|·|, max, sign, pieces), makes this False."""
    from convexproof.engine.registry import NONSMOOTH

    if e.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.I):
        return False
    for node in sp.preorder_traversal(e):
        if isinstance(node, (sp.Symbol, sp.Number, sp.NumberSymbol)):
            if isinstance(node, sp.Symbol) and node != x:
                return False
            continue
        if isinstance(node, NONSMOOTH) or lookup(node) is None:
            return False
    return not defined_on_box(e, {x: I})


MAX_ZEROS_OPS = 16  # larger expressions are left to the other methods (the fuzz's mixtures took seconds here)
ZERO_CHECK_POINTS = 12  # certified sample points per piece, a guard against a zero the solver missed
MAX_ZEROS = 24


def _sign_by_zeros(e: sp.Expr, x: sp.Symbol, I: sp.Interval) -> USign | None:
    """The sign of a continuous transcendental function on I from its exact zeros, or None.

    When e is continuous on I (:func:`continuous_on`) and ``solveset`` returns the
    zeros in I as a finite set (trigonometric, exponential and logarithmic
    equations it solves exactly), the sign is constant between consecutive
    zeros: it is read off one point of each piece with a certified sign, and
    checked at further certified points of the piece (a solver that missed a
    zero makes this return None, never a wrong sign).
    """
    # small trigonometric or logarithmic expressions only: continuous_domain and solveset are costly, and
    # exponentials are the exp(x/q) = u substitution's
    if not e.has(sp.sin, sp.cos, sp.tan, sp.log) or e.has(sp.Piecewise, sp.Abs, sp.sign, sp.Max, sp.Min) or (
            sp.count_ops(e) > MAX_ZEROS_OPS):
        return None
    try:
        if not continuous_on(e, x, I):  # SymPy's continuous_domain costs 0.3 s on its first call (it simplifies)
            return None
        check_deadline()
        Z = sp.solveset(e, x, I)
    except Exception:  # noqa: BLE001 - a solver that gives up decides nothing
        return None
    if not isinstance(Z, sp.FiniteSet) and Z is not sp.EmptySet:
        return None
    zeros = sorted(Z, key=lambda z: sp.N(z, 30)) if Z is not sp.EmptySet else []
    if len(zeros) > MAX_ZEROS or any(z.free_symbols for z in zeros):
        return None
    cuts = [I.inf, *zeros, I.sup]
    signs, neg_point, pos_point = [], None, None
    for lo, hi in zip(cuts, cuts[1:]):
        if lo == hi:
            continue
        piece = sp.Interval.open(lo, hi)
        pts = _piece_points(piece, ZERO_CHECK_POINTS)
        got = set()
        for pt in pts:
            check_deadline()
            sg = exact_sign(e.subs(x, pt))
            if sg is None or sg == 0:
                return None  # too close to call, or a zero the solver did not report
            got.add(sg)
        if len(got) != 1:
            return None
        sg = got.pop()
        signs.append(sg)
        if sg < 0 and neg_point is None:
            neg_point = pts[0]
        if sg > 0 and pos_point is None:
            pos_point = pts[0]
    if not signs:
        return None
    zero_inside = any(I.contains(z) is sp.true for z in zeros)
    if all(sg > 0 for sg in signs):
        sign = NONNEG if zero_inside else POS
    elif all(sg < 0 for sg in signs):
        sign = NONPOS if zero_inside else NEG
    else:
        sign = "mixed"
    why = (lambda zeros=zeros, I=I, sign=sign: said(
        "it is continuous on ", I, " and ",
        *(["vanishes there only at "] + [q for i, z in enumerate(zeros) for q in ((", ", z) if i else (z,))]
          if zeros else ["has no zero there"]),
        "; between its zeros its sign is that of one point, so it is " + _REL.get(sign, "of both signs")))
    return USign(sign, why, [], neg_point, pos_point)


def _piece_points(piece: sp.Interval, n: int) -> list:
    """A simple interior point of the open interval first, then n more spread over it (rational where possible)."""
    lo, hi = piece.inf, piece.sup
    if lo == -sp.oo and hi == sp.oo:
        base = [sp.Integer(0)] + [sp.Integer(k) * s for k in (1, 2, 5, 10, 100, 1000) for s in (1, -1)]
        return base[:n + 1]
    if lo == -sp.oo:
        return [hi - sp.Integer(k) for k in (1, 2, 5, 10, 100, 1000, 10**6)]
    if hi == sp.oo:
        return [lo + sp.Integer(k) for k in (1, 2, 5, 10, 100, 1000, 10**6)]
    w = hi - lo
    pts = [lo + w / 2] + [lo + w * sp.Rational(k, n + 1) for k in range(1, n + 1)]
    pts += [lo + w / 10**6, hi - w / 10**6]
    return pts


# --------------------------------------------------------------- counterexamples
def _sample_interval(I: sp.Interval, rng: random.Random, n: int) -> list[float]:
    lo = float(I.inf) if I.inf != -sp.oo else None
    hi = float(I.sup) if I.sup != sp.oo else None
    out = []
    for _ in range(n):
        scale = 10 ** rng.uniform(-2, 1.3)
        if lo is None and hi is None:
            v = rng.choice([-1, 1]) * scale if rng.random() < 0.7 else rng.uniform(-3, 3)
        elif lo is None:
            v = hi - scale
        elif hi is None:
            v = lo + scale
        else:
            t = rng.random()
            if rng.random() < 0.2:
                t = rng.choice([1e-4, 1e-2, 1 - 1e-2, 1 - 1e-4])
            v = lo + (hi - lo) * t
        out.append(v)
    return out


def rationalize(v: float, I: sp.Interval | None = None) -> sp.Rational:
    """A simple rational close to v (inside I when given)."""
    for d in (1, 2, 4, 10, 100, 1000, 10**6):
        q = sp.Rational(Fraction(v).limit_denominator(d).numerator, Fraction(v).limit_denominator(d).denominator)
        if abs(float(q) - v) <= 1e-3 * max(1, abs(v)) and (I is None or _in(I, q)):
            return q
    f = Fraction(v).limit_denominator(10**9)
    return sp.Rational(f.numerator, f.denominator)


def lambdify_safe(syms, e):
    """``e`` as a NumPy function of ``syms``: the engine's one numeric compiler (not cached: measured slower)."""
    import numpy as np  # noqa: F401

    return sp.lambdify(syms, e, modules=["numpy"])


def find_negative(g: sp.Expr, box: dict, syms: list, *, n: int = 300, seed: int = 0, accept=None) -> dict | None:
    """A point (dict symbol -> rational) of the box where g < 0, verified exactly / to 40 digits."""
    import numpy as np

    check_deadline()
    rng = random.Random(seed)
    syms = list(syms)
    try:
        fn = lambdify_safe(syms, g)
    except Exception:  # noqa: BLE001
        return None
    cols = [np.array(_sample_interval(box.get(s, REALS), rng, n)) for s in syms]
    with np.errstate(all="ignore"):
        try:
            vals = np.asarray(fn(*cols), dtype=float) * np.ones(n)
        except Exception:  # noqa: BLE001
            return None
    order = np.argsort(np.where(np.isfinite(vals), vals, np.inf))
    tried = 0
    for idx in order[:8]:
        if not np.isfinite(vals[idx]) or vals[idx] >= 0:
            break
        for d in (1, 2, 10, 100, 10**4, 10**8):
            pt = {s: sp.Rational(round(float(c[idx]) * d), d) for s, c in zip(syms, cols)}
            if any(not _in(box.get(s, REALS), v) for s, v in pt.items()):
                continue
            if accept is not None and not accept(pt):
                continue
            tried += 1
            if exact_sign(g.subs(pt)) == -1:
                return pt
            if tried > 12:
                return None
    return None


# ------------------------------------------------------------------- top level
@dataclass
class SignProof:
    status: str  # "proved" | "disproved" | "unknown"
    strict: bool = False
    steps: list = field(default_factory=list)
    point: dict | None = None
    form: Any = None


class candidate_forms:
    """Equivalent forms of g worth trying, computed lazily: as given, together, cancel, factor."""

    def __init__(self, g: sp.Expr):
        self.g = g
        self.done = [g]
        self._fns = [sp.together, sp.cancel, sp.factor]
        self.small = sp.count_ops(g) < 250

    def __iter__(self):
        i = 0
        while True:
            if i < len(self.done):
                yield self.done[i]
                i += 1
                continue
            if not self._fns:
                return
            fn = self._fns.pop(0)
            if fn is not sp.together and not self.small:
                continue
            if fn is not sp.together and any(not isinstance(a, sp.exp) for a in self.g.atoms(sp.Function)):
                continue  # cancel/factor only pay off for rational functions of the variables and exp(...)
            check_deadline()
            try:
                h = fn(self.done[-1] if fn is sp.factor else self.g)
            except Exception:  # noqa: BLE001
                continue
            if h not in self.done:
                self.done.append(h)


def prove_nonneg(g: sp.Expr, box: dict, *, label: str = "", variables=None, accept=None,
                 search: bool = True) -> SignProof:
    """Prove g >= 0 on the box, or find a verified point with g < 0, or give up."""
    check_deadline()
    syms = sorted(g.free_symbols, key=lambda t: t.name)
    if search and syms:
        # the cheap certificate first: a sampled point where g < 0, checked exactly / to 40 digits, costs a few
        # milliseconds; the sign analysis below took 0.2 to 1.5 s to give up on tanh'', (log(x)/x)'', sigmoid''
        pt = find_negative(g, box, syms, accept=accept)
        if pt is not None:
            return SignProof("disproved", point=pt)
    oracle = SignOracle(box)
    forms = candidate_forms(g)
    for form in forms:
        s = oracle.sign(form)
        if s.sign in (POS, NONNEG, ZERO):
            why = s.text if form == g else said("it equals ", form, "; ", s.text)
            step = CvxSign(form, _REL[s.sign], why, children=s.kids if not form.is_number else [])
            return SignProof("proved", strict=s.sign == POS, steps=[step], form=form)
        if s.sign in (NEG,) and search:
            # negative everywhere: any point is a counterexample
            pt = _any_point(box, variables or sorted(g.free_symbols, key=str), accept)
            if pt is not None and exact_sign(g.subs(pt)) == -1:
                return SignProof("disproved", point=pt, steps=[CvxSign(form, "< 0", s.text, children=s.kids)])
    if len(syms) == 1:
        x = syms[0]
        for form in forms:
            r = univariate_sign(form, x, box.get(x, REALS))
            if r is None:
                continue
            if r.sign in (POS, NONNEG, ZERO):
                return SignProof("proved", strict=r.sign == POS,
                                 steps=[CvxSign(form, _REL[r.sign], _txt(r.why), children=r.steps)], form=form)
            if r.neg_point is not None:
                pt = {x: r.neg_point}
                if (accept is None or accept(pt)) and exact_sign(g.subs(pt)) == -1:
                    return SignProof("disproved", point=pt)
            break
    return SignProof("unknown")


def _any_point(box, syms, accept):
    from convexproof.engine.domain import sample_point

    pt = {s: sample_point(box.get(s, REALS)) for s in syms}
    if accept is not None and not accept(pt):
        return None
    return pt


# ------------------------------------------------------------------ infimum
@dataclass
class Inf:
    value: Any  # exact SymPy value, -oo, or None when unknown
    attained_at: Any = None
    why: str = ""


def infimum_1d(g: sp.Expr, x: sp.Symbol, I: sp.Interval) -> Inf:
    """The exact infimum of g over I (polynomials, rational functions, exp(x) substitutes, bounded trig sums)."""
    check_deadline()
    if not g.has(x):
        return Inf(g, None, said("it does not depend on ", x))
    if g.is_rational_function(x) and not (g.free_symbols - {x}):
        return _inf_rational(g, x, I)
    sub = _exp_substitution(g, x)
    if sub is not None:
        h, q, U = sub
        J = _exp_image(I, q)
        if J is not None and h.is_rational_function(U):
            r = _inf_rational(h, U, J)
            at = sp.log(r.attained_at) * q if r.attained_at is not None and r.attained_at != 0 else None
            return Inf(r.value, at, _renamed(said("with ", sp.Eq(U, sp.exp(x / q), evaluate=False), " > 0: ",
                                                  _txt(r.why)), U))
    return _inf_trig(g, x, I)


def _inf_rational(g, x, I) -> Inf:
    g = sp.cancel(sp.together(g))
    N, D = sp.fraction(g)
    try:
        PN, PD = sp.Poly(N, x), sp.Poly(D, x)
    except sp.PolynomialError:
        return Inf(None)
    if not all(c.is_Rational for c in PN.all_coeffs() + PD.all_coeffs()):
        return Inf(None)
    if PD.degree() > 0:
        lo, hi = _rat_bounds(I)
        n = PD.count_roots(lo, hi)
        for end, inf_end, is_open in ((lo, I.inf, I.left_open), (hi, I.sup, I.right_open)):
            if end is not None and PD.eval(end) == 0 and (is_open or end != inf_end):
                n -= 1  # a pole at an open end (or just outside I) is not in I: the limit there decides
        if n:
            return Inf(None)
    d = sp.Poly(sp.numer(sp.together(sp.diff(g, x))), x)
    cands = []
    if d.degree() > 0:
        for r in sp.real_roots(d):
            if _in(I, r):
                cands.append((g.subs(x, r), r))
    elif d.is_zero:
        return Inf(g, None, "it is constant")
    ends = []
    for end, side, closed in ((I.inf, "+", not I.left_open), (I.sup, "-", not I.right_open)):
        if end in (sp.oo, -sp.oo):
            v = _limit_at_infinity(PN, PD, end)
        else:
            v = g.subs(x, end)
            if v.has(sp.zoo, sp.nan):
                v = sp.limit(g, x, end, side)
        if v == -sp.oo:
            return Inf(-sp.oo, None, said("it tends to ", -sp.oo, " as ", x, " → ", end))
        ends.append((v, end if closed and end not in (sp.oo, -sp.oo) else None))
    best = None
    for v, at in cands + ends:
        if v in (sp.oo,):
            continue
        fv = sp.N(v, 30)
        if best is None or fv < best[2]:
            best = (v, at, fv)
    if best is None:
        return Inf(None)
    val = best[0] if best[0].is_Rational else sp.radsimp(best[0])  # nsimplify would round a rational
    at = best[1]
    why = (said("the minimum is ", val, ", attained at ", sp.Eq(x, at, evaluate=False)) if at is not None
           else said("the infimum is ", val, " (approached at an end of the interval)"))
    return Inf(val, at, why)


def _limit_at_infinity(PN: sp.Poly, PD: sp.Poly, end):
    """lim N/D at +-oo from degrees and leading coefficients."""
    dn, dd = PN.degree(), PD.degree()
    if PN.is_zero:
        return sp.Integer(0)
    if dn < dd:
        return sp.Integer(0)
    ratio = PN.LC() / PD.LC()
    if dn == dd:
        return ratio
    sign = ratio * (1 if end == sp.oo or (dn - dd) % 2 == 0 else -1)
    return sp.oo if sign > 0 else -sp.oo


def _inf_trig(g, x, I) -> Inf:
    """c0 + sum c_i*sin(a_i x + b_i) or cos(...): the inf is c0 - sum|c_i| when a single term (and I = R)."""
    const = sp.Integer(0)
    trig = []
    for t in sp.Add.make_args(sp.expand(g)):
        if not t.has(x):
            const += t
            continue
        c, f = t.as_independent(x)
        if isinstance(f, (sp.sin, sp.cos)) and sp.Poly(f.args[0], x).degree() == 1 and c.is_number:
            trig.append((c, f))
            continue
        return Inf(None)
    if len(trig) != 1 or I != REALS:
        return Inf(None)
    c, f = trig[0]
    val = const - abs(c)
    a, b = sp.Poly(f.args[0], x).all_coeffs()
    target = -sp.sign(c)  # f must equal -sign(c)
    if isinstance(f, sp.sin):
        arg = sp.pi / 2 if target > 0 else -sp.pi / 2
    else:
        arg = sp.Integer(0) if target > 0 else sp.pi
    at = (arg - b) / a
    d = sp.expand(g.subs(x, at) - val)
    if d != 0:
        return Inf(None)
    return Inf(val, at, said(f"|{f.func.__name__}| ≤ 1, with equality at ", sp.Eq(x, at, evaluate=False)))
